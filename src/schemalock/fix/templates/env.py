"""Alembic environment for the revisions `schemalock fix` writes (hand-written ones work too).

The database, first found wins: `-x database_url=...`, SCHEMALOCK_DATABASE_URL, DATABASE_URL.
No URL belongs in alembic.ini.  `alembic upgrade head --sql` prints the SQL and needs none.

Before migrating, this file refuses (Alembic prints `FAILED: refusing to migrate: ...`):
- a connection pooler: a host containing `-pooler` (Neon's pooled endpoints) or port 6432
  (PgBouncer's default), checked before connecting; then, whatever the address, a connection
  that cannot prove it holds a server session of its own (the backend answering is not the
  one the server named at start-up, as behind any PgBouncer).  Transaction pooling loses
  session advisory locks, cannot run CREATE INDEX CONCURRENTLY outside a transaction, and
  hands the session's settings to the next client: use the direct endpoint;
- a replica (pg_is_in_recovery()) or a read-only server (default_transaction_read_only = on);
- a second run: it holds a session-level advisory lock while it migrates and refuses at once
  if another session holds it.

It is self-contained on purpose: a reviewer reads every rule here, and a copy of this folder
works where schemalock is not installed (Alembic, SQLAlchemy and psycopg are enough).
schemalock.fix.guards applies the same rules, with the same constants, before `schemalock fix
--apply` calls Alembic; schemalock's tests pin the two to the same values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.util import CommandError
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import Connection, create_engine, pool, text

# The migrations lock: the first 8 bytes of sha256("schemalock migrations") as a positive
# bigint.  pg_locks shows it as classid 297056818, objid 1051219134, objsubid 1.
LOCK_KEY = 1275849319415043262
TRY_LOCK_SQL = "SELECT pg_catalog.pg_try_advisory_lock(1275849319415043262)"
UNLOCK_SQL = "SELECT pg_catalog.pg_advisory_unlock(1275849319415043262)"
POOLER_HOST_MARK = "-pooler"  # Neon's pooled endpoints: ep-name-123456-pooler.region...
POOLER_PORT = "6432"  # PgBouncer's default port
# The backend answering now, to compare with the one the server named at start-up
# (BackendKeyData).  A pooler or protocol proxy names a pid of its own making there.
BACKEND_PID_SQL = "SELECT pg_catalog.pg_backend_pid()"
# Neon's direct endpoints (ep-name-123456.region.aws.neon.tech) reach the compute through Neon's
# proxy, which keeps one server session per client connection but hides its pid; the pooled
# ones carry POOLER_HOST_MARK in that first label.
NEON_HOST_SUFFIX = ".neon.tech"

# The session holding the lock in this database, if any.
LOCK_HOLDER_SQL = """
SELECT l.pid FROM pg_catalog.pg_locks AS l
WHERE l.locktype = 'advisory' AND l.granted
  AND l.classid = 297056818 AND l.objid = 1051219134 AND l.objsubid = 1
  AND l.database = (SELECT d.oid FROM pg_catalog.pg_database AS d
                    WHERE d.datname = pg_catalog.current_database())
LIMIT 1"""

# Why the server cannot take migrations, or NULL.  The default, not `transaction_read_only`:
# that one is also on inside a transaction the client itself opened READ ONLY, which says
# nothing about the server.
SERVER_REFUSAL_SQL = """
SELECT CASE
    WHEN pg_catalog.pg_is_in_recovery()
        THEN 'the server is a replica in recovery (pg_is_in_recovery())'
    WHEN pg_catalog.current_setting('default_transaction_read_only')::boolean
        THEN 'the server is read-only here (default_transaction_read_only = on)'
END"""

config = context.config
# Alembic's cookbook switch: a caller that keeps its own output (schemalock demo) turns the
# ini file's logging off.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    url = (
        config.attributes.get("database_url")  # schemalock passes it this way
        or context.get_x_argument(as_dictionary=True).get("database_url")
        or os.environ.get("SCHEMALOCK_DATABASE_URL")
        or os.environ.get("DATABASE_URL")
    )
    if not url:
        raise CommandError(
            "no database: pass -x database_url=... or set DATABASE_URL (or SCHEMALOCK_DATABASE_URL)"
        )
    # postgresql+psycopg:// (SQLAlchemy's spelling) becomes postgresql:// (libpq's).
    return re.sub(r"^(postgres(?:ql)?)\+\w+://", r"\1://", str(url).strip())


def connection_params(url: str) -> dict[str, Any]:
    """The connection string as libpq reads it (a URL or key=value pairs, exactly as
    `schemalock verify` reads it)."""
    try:
        return conninfo_to_dict(url)
    except Exception:  # psycopg's message may quote the password
        raise CommandError(
            "refusing to migrate: the database URL is not a valid connection string "
            "(not shown: it may hold a password)"
        ) from None


def refuse_pooler(params: dict[str, Any]) -> None:
    """Read from the connection string alone: nothing has connected yet."""
    reason = pooler_reason(
        hosts=str(params.get("host") or os.environ.get("PGHOST", "")).split(","),
        ports=str(params.get("port") or os.environ.get("PGPORT", "")).split(","),
    )
    if reason:
        message = (
            f"refusing to migrate through a connection pooler: {reason}; session advisory "
            "locks and CREATE INDEX CONCURRENTLY do not survive transaction pooling: use the "
            "direct endpoint"
        )
        raise CommandError(hide(message, str(params.get("password") or "")))


def pooler_reason(hosts: list[str], ports: list[str]) -> str | None:
    for host in hosts:
        if POOLER_HOST_MARK in host.lower():
            return f"host {host.strip()} is a pooled endpoint ({POOLER_HOST_MARK})"
    if POOLER_PORT in (port.strip() for port in ports):
        return f"port {POOLER_PORT} is PgBouncer's"
    return None


def refuse_shared_session(connection: Connection, password: str) -> None:
    """Refused unless this connection provably holds a server session of its own: the backend
    answering is the one the server named when the connection opened.  A pooler, in any mode,
    names a pid of its own; whoever it hands the server session to next would inherit the
    migration's settings and locks.  Neon's proxy in front of a direct endpoint keeps one
    session per connection and is taken on its word.  Runs one SELECT: nothing stays."""
    driver = connection.connection.dbapi_connection
    told_pid = driver.info.backend_pid  # type: ignore[union-attr]
    host = str(driver.info.host)  # type: ignore[union-attr]
    backend_pid = connection.scalar(text(BACKEND_PID_SQL))
    connection.rollback()
    if told_pid == backend_pid or neon_direct(host):
        return
    message = (
        "refusing to migrate: cannot prove this connection holds a session of its own: the "
        f"server session answering (backend pid {backend_pid}) is not the one named when the "
        f"connection opened (pid {told_pid}), so a pooler or proxy stands in between; a "
        "migration's settings and locks would stay on a server session someone else gets "
        "next: connect straight to the server (the direct endpoint)"
    )
    raise CommandError(hide(message, password))


def hide(message: str, password: str) -> str:
    """The password hidden where it could only be the password: one of 8 characters or more
    that is not a plain word (a short or everyday one would garble the sentence, and show
    itself by the gaps)."""
    if len(password) >= 8 and not password.isalpha():
        return message.replace(password, "***")
    return message


def name_session(connection: Connection) -> None:
    """Name the session in pg_stat_activity, so a DBA can find the migration (and what it
    waits for).  The session is this connection's own: the name ends with it."""
    name = config.attributes.get("application_name") or "alembic (schemalock env.py)"
    connection.execute(
        text("SELECT pg_catalog.set_config('application_name', :name, false)"), {"name": name}
    )
    connection.commit()


def neon_direct(host: str) -> bool:
    host = host.strip().lower()
    return host.endswith(NEON_HOST_SUFFIX) and not host.split(".")[0].endswith(POOLER_HOST_MARK)


@contextmanager
def migration_lock(connection: Connection) -> Iterator[None]:
    """One run per database at a time.  Session-level on purpose: a transaction-level lock
    would end at the commit autocommit_block() makes (CREATE INDEX CONCURRENTLY)."""
    took = connection.scalar(text(TRY_LOCK_SQL))
    holder = None if took else connection.scalar(text(LOCK_HOLDER_SQL))
    connection.commit()  # the lock outlives this; Alembic opens one transaction per revision
    # `schemalock fix --apply` may hold the lock on a session of its own around this run; it
    # names that session, and pg_locks must agree.
    if not took and (holder is None or holder != config.attributes.get("lock_holder_pid")):
        who = f"session {holder}" if holder else "another session"
        raise CommandError(
            f"refusing to migrate: another migration is running ({who} holds advisory lock "
            f"{LOCK_KEY}, see pg_locks); wait for it to finish"
        )
    try:
        yield
    finally:
        if took and not connection.invalidated:
            connection.rollback()  # a failed revision leaves its transaction behind
            connection.execute(text(UNLOCK_SQL))
            connection.commit()


def run_migrations_offline() -> None:
    """`--sql`: print the SQL (literal values, one transaction per revision); no connection."""
    context.configure(
        url="postgresql+psycopg://",
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    params = connection_params(database_url())
    refuse_pooler(params)
    # libpq's parameters go to psycopg as they are; SQLAlchemy supplies the dialect.
    engine = create_engine("postgresql+psycopg://", connect_args=params, poolclass=pool.NullPool)
    with engine.connect() as connection:
        refuse_shared_session(connection, str(params.get("password") or ""))
        refusal = connection.scalar(text(SERVER_REFUSAL_SQL))
        if refusal:
            raise CommandError(f"refusing to migrate: {refusal}")
        name_session(connection)
        with migration_lock(connection):
            context.configure(connection=connection, transaction_per_migration=True)
            with context.begin_transaction():
                context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
