"""`schemalock snapshot`: write a lock file from a live database."""

from __future__ import annotations

from schemalock import db, introspect
from schemalock.errors import UsageError
from schemalock.lock.writer import write_lock


def snapshot(url: str, schemas: list[str] | None, timeouts: db.Timeouts) -> str:
    connection = db.connect(url, "snapshot")
    try:
        with db.read_only(connection, timeouts, "snapshot") as conn:
            available = introspect.user_schemas(conn)
            if schemas:
                unknown = sorted(set(schemas) - set(available))
                if unknown:
                    raise UsageError(f"no such schema: {', '.join(unknown)}")
                chosen = schemas
            else:
                chosen = [s for s in available if s != "public"]
                chosen = (["public"] if "public" in available else []) + chosen
            database = introspect.introspect(conn, chosen)
            name = conn.execute("SELECT pg_catalog.current_database()").fetchone()
    finally:
        connection.close()
    return write_lock(database, str(name[0]) if name else None)
