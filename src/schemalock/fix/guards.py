"""The guards between a planned revision and a production database.

- `fingerprint`: a hash of the live schema, computed by PostgreSQL in one catalog query, and
  `fingerprint_check_sql`: the same query in a `DO` block a revision runs first, refusing a
  schema that changed since the plan (time of check to time of use).
- `refuse_unsafe_target`: no connection pooler (session advisory locks and `CREATE INDEX
  CONCURRENTLY` do not survive transaction pooling, and the next client would inherit the
  migration's settings): by the URL, and whatever the address, unless the connection proves
  the server session is its own (`shared_session_reason`); no replica, no read-only server.
- `advisory_lock`: one migration run per database at a time.

The migrations environment's `env.py` (templates/env.py) applies the same rules with the same
constants, written out there so that a copied environment works without schemalock installed;
tests/test_fix_environment.py pins the two to the same values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, LiteralString

from schemalock.db import normalize_url, redact
from schemalock.errors import Refused

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

# The session-level advisory lock every schemalock migration run takes: the first 8 bytes of
# sha256("schemalock migrations") as a positive bigint.  pg_locks shows it as classid
# 297056818, objid 1051219134, objsubid 1.  Same value in templates/env.py.
LOCK_KEY: Final = 1275849319415043262
TRY_LOCK_SQL: Final = "SELECT pg_catalog.pg_try_advisory_lock(1275849319415043262)"
UNLOCK_SQL: Final = "SELECT pg_catalog.pg_advisory_unlock(1275849319415043262)"
# Text every environment of ours holds in its env.py (it takes the lock itself).
LOCK_KEY_SQL: Final = "pg_catalog.pg_try_advisory_lock(1275849319415043262)"
POOLER_HOST_MARK: Final = "-pooler"  # Neon's pooled endpoints: ep-name-123456-pooler.region...
POOLER_PORT: Final = "6432"  # PgBouncer's default port
# The backend answering now, to compare with the one the server named at start-up
# (BackendKeyData).  A pooler or protocol proxy names a pid of its own making there.
BACKEND_PID_SQL: Final = "SELECT pg_catalog.pg_backend_pid()"
# Neon's direct endpoints (ep-name-123456.region.aws.neon.tech) reach the compute through Neon's
# proxy, which keeps one server session per client connection but hides its pid; the pooled
# ones carry POOLER_HOST_MARK in that first label.  Same value in templates/env.py.
NEON_HOST_SUFFIX: Final = ".neon.tech"

# The session holding the lock in this database, if any (same text in env.py).
LOCK_HOLDER_SQL: Final = """
SELECT l.pid FROM pg_catalog.pg_locks AS l
WHERE l.locktype = 'advisory' AND l.granted
  AND l.classid = 297056818 AND l.objid = 1051219134 AND l.objsubid = 1
  AND l.database = (SELECT d.oid FROM pg_catalog.pg_database AS d
                    WHERE d.datname = pg_catalog.current_database())
LIMIT 1"""

# Why the server cannot take migrations, or NULL (same text in env.py).  The default, not
# `transaction_read_only`: that one is also on inside a transaction the client itself opened
# READ ONLY (schemalock's connections do), which says nothing about the server.
SERVER_REFUSAL_SQL: Final = """
SELECT CASE
    WHEN pg_catalog.pg_is_in_recovery()
        THEN 'the server is a replica in recovery (pg_is_in_recovery())'
    WHEN pg_catalog.current_setting('default_transaction_read_only')::boolean
        THEN 'the server is read-only here (default_transaction_read_only = on)'
END"""

CHANGED_SQLSTATE: Final = "55000"  # object_not_in_prerequisite_state
CHANGED_MESSAGE: Final = "schemalock: the schema changed since this revision was planned"

# One line per object of the covered schemas (tables, columns, constraints, indexes, enums,
# domains), hashed in a stable order.  Partitions follow their parent and extension-owned
# objects their extension, so neither counts; nor does Alembic's version table (by its default
# name, or by its shape, one column `version_num`: an environment may name its own).  No `%`,
# no braces but the placeholder, no `:name`: the text must survive psycopg, str.format and
# sqlalchemy.text() alike.
_FINGERPRINT_SQL = r"""
WITH rel AS (
    SELECT c.oid, c.relkind,
           pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS name
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> 'alembic_version'
      AND ARRAY(SELECT a.attname FROM pg_catalog.pg_attribute AS a
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
          <> ARRAY['version_num']::pg_catalog.name[]
      AND n.nspname::pg_catalog.text = ANY ({schemas})
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend AS e
                      WHERE e.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                        AND e.objid = c.oid AND e.deptype = 'e')
), typ AS (
    SELECT t.oid, t.typtype, t.typbasetype, t.typtypmod, t.typnotnull, t.typdefaultbin,
           pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.typname) AS name
    FROM pg_catalog.pg_type AS t
    JOIN pg_catalog.pg_namespace AS n ON n.oid = t.typnamespace
    WHERE t.typtype IN ('e', 'd')
      AND n.nspname::pg_catalog.text = ANY ({schemas})
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend AS e
                      WHERE e.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
                        AND e.objid = t.oid AND e.deptype = 'e')
), item (line) AS (
    SELECT 'table ' || r.name || ' ' || r.relkind::pg_catalog.text
           || ' ' || coalesce(pg_catalog.pg_get_partkeydef(r.oid), '')
    FROM rel AS r
    UNION ALL
    SELECT 'column ' || r.name || ' ' || pg_catalog.quote_ident(a.attname)
           || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
           || ' not null ' || a.attnotnull::pg_catalog.text
           || ' default ' || pg_catalog.quote_nullable(pg_catalog.pg_get_expr(d.adbin, d.adrelid))
           || ' identity ' || pg_catalog.quote_literal(a.attidentity::pg_catalog.text)
           || ' generated ' || pg_catalog.quote_literal(a.attgenerated::pg_catalog.text)
    FROM rel AS r
    JOIN pg_catalog.pg_attribute AS a ON a.attrelid = r.oid AND a.attnum > 0
                                     AND NOT a.attisdropped
    LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    UNION ALL
    SELECT 'constraint ' || r.name || ' ' || pg_catalog.quote_ident(c.conname)
           || ' ' || pg_catalog.pg_get_constraintdef(c.oid)
           || ' validated ' || c.convalidated::pg_catalog.text
    FROM rel AS r JOIN pg_catalog.pg_constraint AS c ON c.conrelid = r.oid
    UNION ALL
    SELECT 'index ' || pg_catalog.pg_get_indexdef(i.indexrelid)
           || ' valid ' || i.indisvalid::pg_catalog.text
    FROM rel AS r JOIN pg_catalog.pg_index AS i ON i.indrelid = r.oid
    UNION ALL
    SELECT 'enum ' || t.name || ' ' || coalesce(
               (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', '
                                             ORDER BY e.enumsortorder)
                FROM pg_catalog.pg_enum AS e WHERE e.enumtypid = t.oid), '')
    FROM typ AS t WHERE t.typtype = 'e'
    UNION ALL
    SELECT 'domain ' || t.name || ' ' || pg_catalog.format_type(t.typbasetype, t.typtypmod)
           || ' not null ' || t.typnotnull::pg_catalog.text
           || ' default ' || pg_catalog.quote_nullable(pg_catalog.pg_get_expr(t.typdefaultbin, 0))
    FROM typ AS t WHERE t.typtype = 'd'
    UNION ALL
    SELECT 'domain constraint ' || t.name || ' ' || pg_catalog.quote_ident(c.conname)
           || ' ' || pg_catalog.pg_get_constraintdef(c.oid)
           || ' validated ' || c.convalidated::pg_catalog.text
    FROM typ AS t JOIN pg_catalog.pg_constraint AS c ON c.contypid = t.oid
)
SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.textsend(coalesce(
           pg_catalog.string_agg(item.line, E'\n' ORDER BY item.line COLLATE pg_catalog."C"),
           ''))), 'hex')
FROM item"""

_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_holder_pid: int | None = None  # this process's session holding the lock, inside advisory_lock()


def fingerprint(connection: psycopg.Connection[Any], schemas: Sequence[str]) -> str:
    """The schema's fingerprint (64 hex digits).  Read-only; leaves the transaction as found."""
    from psycopg import sql

    query = sql.SQL(_FINGERPRINT_SQL).format(
        schemas=sql.SQL("{}::pg_catalog.text[]").format(sql.Placeholder("schemas"))
    )
    return str(_value(connection, query, {"schemas": list(schemas)}))


def fingerprint_check_sql(schemas: Sequence[str], expected: str) -> str:
    """One `DO` statement that recomputes the fingerprint and raises (SQLSTATE 55000, message
    starting with CHANGED_MESSAGE) unless it equals `expected`."""
    from psycopg import sql

    if not _HEX_DIGEST.match(expected):
        raise ValueError(f"not a schema fingerprint: {expected!r}")
    array = sql.SQL("ARRAY[{}]::pg_catalog.text[]").format(
        sql.SQL(", ").join(_text_literal(schema) for schema in schemas)
    )
    query = sql.SQL(_FINGERPRINT_SQL).format(schemas=array).as_string(None)
    body = f"""
DECLARE
    planned constant text := '{expected}';
    live constant text := ({query});
BEGIN
    IF live IS DISTINCT FROM planned THEN
        RAISE EXCEPTION USING
            ERRCODE = '{CHANGED_SQLSTATE}',
            MESSAGE = '{CHANGED_MESSAGE}',
            DETAIL = 'fingerprint planned ' || planned || ', now ' || live,
            HINT = 'nothing was changed; run schemalock fix again to plan against it';
    END IF;
END
"""
    tag = "$schemalock_fingerprint$"
    while tag in body:  # a schema name could hold the tag and end the body early
        tag = tag[:-1] + "_$"
    return f"DO {tag}{body}{tag}"


def _text_literal(value: str) -> sql.Composable:
    """A string literal.  Alembic's `op.execute()` passes SQL through `sqlalchemy.text()`,
    which reads `:name` as a bind parameter even inside quotes: a name with a colon is spelt
    as its UTF-8 bytes instead."""
    from psycopg import sql

    if ":" not in value:
        return sql.Literal(value)
    return sql.SQL("pg_catalog.convert_from(pg_catalog.decode({}, 'hex'), 'UTF8')").format(
        sql.Literal(value.encode().hex())
    )


def pooler_reason(url: str) -> str | None:
    """Why `url` leads to a connection pooler, read from the string alone, or None.  Refused
    if it cannot be read."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(normalize_url(url))
    except Exception:  # its message may quote the password
        raise Refused(
            "refusing to migrate: the database URL is not a valid connection string "
            "(not shown: it may hold a password)"
        ) from None
    hosts = str(params.get("host") or os.environ.get("PGHOST", "")).split(",")
    ports = str(params.get("port") or os.environ.get("PGPORT", "")).split(",")
    return _pooler_rule(hosts, ports)


def _pooler_rule(hosts: Sequence[str], ports: Sequence[str]) -> str | None:
    for host in hosts:
        if POOLER_HOST_MARK in host.lower():
            return f"host {host.strip()} is a pooled endpoint ({POOLER_HOST_MARK})"
    if POOLER_PORT in (port.strip() for port in ports):
        return f"port {POOLER_PORT} is PgBouncer's"
    return None


def _pooler_message(reason: str) -> str:
    return (
        f"refusing to migrate through a connection pooler: {reason}; session advisory locks "
        "and CREATE INDEX CONCURRENTLY do not survive transaction pooling: use the direct "
        "endpoint"
    )


def refuse_pooler(url: str) -> None:
    """Refused unless `url` leads straight to the server; nothing connects."""
    reason = pooler_reason(url)
    if reason:
        raise Refused(redact(_pooler_message(reason), url))


def refuse_unsafe_target(url: str, connection: psycopg.Connection[Any]) -> None:
    """Refused for a pooler (by the URL, by where `connection` actually went, then unless the
    session is proven to be the connection's own), a replica or a read-only server.  One line;
    the password is never in it.  Nothing it runs leaves a setting or a lock behind."""
    refuse_pooler(url)
    reason = _pooler_rule([connection.info.host], [str(connection.info.port)])
    if reason:
        raise Refused(redact(_pooler_message(reason), url))
    reason = shared_session_reason(
        connection.info.backend_pid, _value(connection, BACKEND_PID_SQL), connection.info.host
    )
    if reason:
        raise Refused(redact(shared_session_message(reason), url))
    refusal = _value(connection, SERVER_REFUSAL_SQL)
    if refusal:
        raise Refused(redact(f"refusing to migrate: {refusal}", url))


def shared_session_reason(told_pid: int, backend_pid: int, host: str) -> str | None:
    """Why a connection cannot be shown to hold a server session of its own, or None.

    Proof: the backend answering is the one the server named when the connection opened, so
    nothing between client and server hands sessions around (a pooler, in any mode, names a
    pid of its own).  The one proxy taken on its word is Neon's, in front of a direct endpoint:
    it keeps one server session per client connection."""
    if told_pid == backend_pid:
        return None
    if _neon_direct(host):
        return None
    return (
        f"the server session answering (backend pid {backend_pid}) is not the one named when "
        f"the connection opened (pid {told_pid}), so a pooler or proxy stands in between"
    )


def _neon_direct(host: str) -> bool:
    host = host.strip().lower()
    return host.endswith(NEON_HOST_SUFFIX) and not host.split(".")[0].endswith(POOLER_HOST_MARK)


def shared_session_message(reason: str) -> str:
    return (
        f"refusing to migrate: cannot prove this connection holds a session of its own: {reason}; "
        "a migration's settings and locks would stay on a server session someone else gets "
        "next: connect straight to the server (the direct endpoint)"
    )


def refuse_busy(connection: psycopg.Connection[Any]) -> None:
    """Refused if another session holds the migrations lock now (a run in progress)."""
    holder = _value(connection, LOCK_HOLDER_SQL)
    if holder is not None:
        raise Refused(_held_message(holder))


@contextmanager
def advisory_lock(connection: psycopg.Connection[Any]) -> Iterator[None]:
    """Hold the migrations lock on `connection`'s session for the block; Refused at once if
    another session holds it.  Session-level: transaction-level locks end at the commit
    `autocommit_block()` makes.  A `config()` made inside the block tells our env.py which
    session holds it, so the Alembic run inside proceeds."""
    global _holder_pid
    if not _value(connection, TRY_LOCK_SQL):
        raise Refused(_held_message(_value(connection, LOCK_HOLDER_SQL)))
    _holder_pid = connection.info.backend_pid
    try:
        yield
    finally:
        _holder_pid = None
        _unlock(connection)


def _unlock(connection: psycopg.Connection[Any]) -> None:
    import psycopg
    from psycopg.pq import TransactionStatus

    if connection.closed or connection.broken:
        return  # the session, and its lock, are gone
    try:
        if connection.info.transaction_status == TransactionStatus.INERROR:
            connection.rollback()  # the statement below could not run otherwise
        _value(connection, UNLOCK_SQL)
    except psycopg.OperationalError:
        pass  # the server ended the session (and the lock with it): what ended it is the news


def _held_message(holder: object) -> str:
    who = f"session {holder}" if holder else "another session"
    return (
        f"refusing to migrate: another migration is running ({who} holds advisory lock "
        f"{LOCK_KEY}, see pg_locks); wait for it to finish"
    )


def lock_holder() -> int | None:
    """The backend pid of this process's session holding the lock (inside advisory_lock())."""
    return _holder_pid


@contextmanager
def as_found(connection: psycopg.Connection[Any]) -> Iterator[psycopg.Connection[Any]]:
    """Statements on `connection`, its transaction state left as found: a transaction opened
    here (psycopg opens one for the first statement) is rolled back, so the session is not left
    idle in transaction (`CREATE INDEX CONCURRENTLY` elsewhere would wait for it); one the
    caller had open stays open."""
    from psycopg.pq import TransactionStatus

    idle = connection.info.transaction_status == TransactionStatus.IDLE
    opened = idle and not connection.autocommit
    try:
        yield connection
    finally:
        if opened and not connection.closed and not connection.broken:
            connection.rollback()


def _value(
    connection: psycopg.Connection[Any],
    query: LiteralString | sql.Composed,
    params: Sequence[Any] | dict[str, Any] = (),
) -> Any:
    with as_found(connection):
        row = connection.execute(query, params or None).fetchone()
    return row[0] if row else None
