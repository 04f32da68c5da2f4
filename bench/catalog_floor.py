"""The catalog statements `schemalock verify --no-data` sends, written out as one psql script.

    python bench/catalog_floor.py <url> <lock> <script.sql>

Runs verify's catalog read in this process, exactly as verify does (`introspect.read_everything`
with the lock's schemas and ignores), records each statement with its parameters spelled in
(psycopg's client-side binding), and writes them inside one read-only transaction.  psql
running that script is the floor of verify's structure check: the server's work and the
transfer, with no Python at all.  The benchmark times it against pg_dump beside verify.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import psycopg

from schemalock import db, introspect
from schemalock.lock import load_lock


def main(url: str, lock_path: str, script: Path) -> None:
    lock = load_lock(lock_path)
    statements: list[str] = []
    original = introspect._rows

    def recording(
        connection: psycopg.Connection[Any], name: str, params: dict[str, Any], **fragments: str
    ) -> list[tuple[Any, ...]]:
        query = introspect.statement(name, **fragments)
        statements.append(psycopg.ClientCursor(connection).mogrify(query, params))
        return original(connection, name, params, **fragments)

    introspect._rows = recording
    connection = db.connect(url, "verify")
    try:
        introspect.read_everything(
            connection, db.Timeouts(), lock.database.schemas, lock.settings.ignores_schema
        )
    finally:
        connection.close()
        introspect._rows = original
    body = ";\n".join(statement.strip().rstrip(";") for statement in statements)
    script.write_text(f"BEGIN READ ONLY;\n{body};\nCOMMIT;\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
