"""`schemalock snapshot`: write a lock file from a live database."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemalock import db, introspect
from schemalock.errors import UsageError
from schemalock.lock.writer import write_lock
from schemalock.model import Database

if TYPE_CHECKING:
    import psycopg


def snapshot(url: str, schemas: list[str] | None, timeouts: db.Timeouts) -> str:
    connection = db.connect(url, "snapshot")
    try:
        database, name, left_out = introspect.consistent_read(
            connection, timeouts, lambda conn: _read(conn, schemas), "snapshot"
        )
    finally:
        connection.close()
    return write_lock(database, name, left_out)


def _read(
    connection: psycopg.Connection[Any], schemas: list[str] | None
) -> tuple[Database, str | None, tuple[str, ...]]:
    """The chosen schemas (default: every user schema, `public` first), the database's name
    and the schemas not chosen, in one transaction."""
    available = introspect.user_schemas(connection)
    if schemas:
        unknown = sorted(set(schemas) - set(available))
        if unknown:
            raise UsageError(f"no such schema: {', '.join(unknown)}")
        chosen = schemas
    else:
        chosen = [s for s in available if s != "public"]
        chosen = (["public"] if "public" in available else []) + chosen
    database = introspect.introspect(connection, chosen)
    name = connection.execute("SELECT pg_catalog.current_database()").fetchone()
    left_out = tuple(s for s in available if s not in chosen)
    return database, str(name[0]) if name else None, left_out
