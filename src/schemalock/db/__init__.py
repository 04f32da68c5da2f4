"""Connections: URL handling, password redaction, and the read-only transaction every read runs in.

Every read path goes through `read_only()`: one `BEGIN ... READ ONLY` transaction whose safety
settings are `SET LOCAL` (through `set_config(..., true)` with bound values), so nothing leaks into
a pooled session and a PgBouncer transaction-mode pooler (Neon's `-pooler` hosts) works.  No
server-side prepared statements are used (`prepare_threshold=None`), for the same reason.
"""

from __future__ import annotations

import base64
import os
import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from schemalock import __version__
from schemalock.db import tracking
from schemalock.db.timeouts import Timeouts as Timeouts  # the name every caller uses
from schemalock.errors import ConnectionFailed, Inconclusive, UsageError

if TYPE_CHECKING:
    import psycopg

URL_ENV_VARS = ("SCHEMALOCK_DATABASE_URL", "DATABASE_URL")
_INVALID_OPTION = re.compile(r"invalid .* value .*for connection option|invalid (sslmode|URI)")
_DRIVER_SUFFIX = re.compile(r"^(postgres(?:ql)?)\+[a-z0-9_]+://", re.IGNORECASE)


def resolve_url(option: str | None) -> str:
    for candidate in (option, *(os.environ.get(name) for name in URL_ENV_VARS)):
        if candidate:
            return normalize_url(candidate)
    raise UsageError(
        "no database: pass --database-url or set SCHEMALOCK_DATABASE_URL or DATABASE_URL"
    )


def normalize_url(url: str) -> str:
    """Accept SQLAlchemy-style `postgresql+psycopg://` and `postgres://` as libpq URLs."""
    url = url.strip()
    return _DRIVER_SUFFIX.sub(lambda m: f"{m.group(1)}://", url)


_SECRET_PARAMETERS = ("password", "sslpassword")
_SECRET_IN_TEXT = re.compile(r"(?<![\w])(ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s&]+)")
# A URL's user:password@ (the password runs to the last @ of the address: unencoded ones too).
_SECRET_IN_URL = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]*):([^\s]*)@")
# In a key=value string libpq could not read, a password may run on, spaces and all, to the
# next `key=`.
_UNREADABLE_PASSWORD = re.compile(r"(?<![\w])(?:ssl)?password\s*=\s*(.*?)(?=\s+\w+\s*=|$)")
_QUOTED = re.compile(r"([\"'])(.*?)\1")
# A secret this long and not a plain word cannot be prose: it is hidden wherever it appears.
_DISTINCTIVE_LENGTH = 8


def _passwords(url: str) -> list[str]:
    """The secrets a connection string holds: the password and the client key's password."""
    from psycopg.conninfo import conninfo_to_dict

    found: list[str] = []
    try:
        params = conninfo_to_dict(url)
        found += [str(params[name]) for name in _SECRET_PARAMETERS if params.get(name)]
    except Exception:  # malformed: read what can be read, up to the next `key=` at most
        found += [m.group(2).strip("'") for m in _SECRET_IN_TEXT.finditer(url)]
        found += [m.group(1) for m in _UNREADABLE_PASSWORD.finditer(url)]
    if "://" in url:
        raw = re.search(r"://[^:/@]*:([^@]*)@", url)
        if raw:
            found += [raw.group(1), unquote(raw.group(1))]
    return [secret for secret in found if secret]


def secrets_of(url: str) -> list[str]:
    """Every spelling of the URL's secrets that could surface in a message, longest first."""
    forms: set[str] = set()
    for secret in _passwords(url):
        forms |= {
            secret,
            quote(secret, safe=""),
            quote(secret),
            base64.b64encode(secret.encode()).decode(),
        }
    return sorted((f for f in forms if f), key=len, reverse=True)


def _distinctive(secret: str) -> bool:
    return len(secret) >= _DISTINCTIVE_LENGTH and not secret.isalpha()


def hide_secret_positions(text: str) -> str:
    """`text` with every password written where connection strings write one hidden: a URL's
    `user:***@`, `password=***` and `sslpassword=***` in key=value strings and URL queries."""
    text = _SECRET_IN_URL.sub(r"\1:***@", text)
    return _SECRET_IN_TEXT.sub(lambda m: f"{m.group(1) or ''}password=***", text)


def redact(text: str, url: str) -> str:
    """`text` with the secrets of `url` hidden where they stand as secrets: in a connection
    string's password positions, and, for a secret that cannot be prose (8 characters or more,
    not a plain word), wherever it appears, in any spelling.  A short or everyday password
    (`a`, `postgres`) is never replaced inside words or sentences: that would garble the
    message and, by the gaps it leaves, show the password."""
    text = hide_secret_positions(text)
    for secret in secrets_of(url):
        if _distinctive(secret):
            text = text.replace(secret, "***")
    return text


def redact_connection_error(message: str, url: str) -> str:
    """A message about the connection string itself (libpq quotes the piece it could not read,
    which may be part of the password): quoted pieces of a secret are hidden too."""
    secrets = _passwords(url)

    def hide(match: re.Match[str]) -> str:
        piece = match.group(2)
        if piece and any(piece in secret for secret in secrets):
            return f"{match.group(1)}***{match.group(1)}"
        return match.group(0)

    return _QUOTED.sub(hide, redact(message, url))


def display_url(url: str) -> str:
    """The connection string as reports show it: every secret replaced by `***`."""
    if "://" in url:
        try:
            parts = urlsplit(url)
            netloc = parts.netloc
        except ValueError:
            return redact(url, url)
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
        query = re.sub(r"(^|&)(ssl)?password=[^&]*", r"\1\2password=***", parts.query)
        shown = f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
    else:
        shown = _SECRET_IN_TEXT.sub(lambda m: f"{m.group(1) or ''}password=***", url)
    return redact(shown, url)


def host_of(url: str) -> str:
    """The server's host as policies see it: `local` for a Unix socket or no host at all."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        host = str(conninfo_to_dict(url).get("host") or "")
    except Exception:
        return "unknown"
    first = host.split(",")[0]
    return "local" if not first or first.startswith("/") else first


@dataclass(frozen=True)
class ServerAddress:
    """Where a connection actually went: the host libpq connected to (the URL's, PGHOST's or a
    default; `local` for a Unix socket), and the IP address when `hostaddr` (or PGHOSTADDR)
    sent it there whatever the host name says."""

    host: str
    hostaddr: str | None = None


# Connections whose connection string or environment gave a hostaddr.  libpq reports the
# address it connected to as `hostaddr` either way, so only the connect call can tell.
_HOSTADDR_GIVEN: weakref.WeakSet[psycopg.Connection[tuple[object, ...]]] = weakref.WeakSet()


def server_address(connection: psycopg.Connection[tuple[object, ...]]) -> ServerAddress:
    host = connection.info.host
    shown = "local" if not host or host.startswith("/") else host
    address = connection.info.hostaddr if connection in _HOSTADDR_GIVEN else None
    return ServerAddress(shown, address or None)


def _hostaddr_given(url: str) -> bool:
    from psycopg.conninfo import conninfo_to_dict

    return bool(conninfo_to_dict(url).get("hostaddr") or os.environ.get("PGHOSTADDR"))


# The name each connection shows in pg_stat_activity while schemalock's transactions run.
_APPLICATION_NAME: weakref.WeakKeyDictionary[psycopg.Connection[tuple[object, ...]], str] = (
    weakref.WeakKeyDictionary()
)


def connect(url: str, command: str = "verify") -> psycopg.Connection[tuple[object, ...]]:
    """A connection for `command`.  No setting travels in the start-up packet: a pooler
    (PgBouncer) would keep it on its server connection for whoever gets that next.  The
    application name is set for each transaction (`begin_read_only`), and for the whole session
    only where the session is proven to be this connection's own (`name_own_session`)."""
    import psycopg
    from psycopg import conninfo

    try:
        conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        reason = redact_connection_error(str(error).splitlines()[0], url)
        raise UsageError(f"invalid database URL ({reason}); password redacted") from None
    _refuse_unencoded_userinfo(url)
    from schemalock.db import deadline

    try:  # watched: a server that stops answering cannot hang the run (schemalock.db.deadline)
        connection = deadline.connect(
            conninfo.make_conninfo(url, **_network_limits(url)), prepare_threshold=None
        )
    except psycopg.Error as error:
        message = _one_line(str(error), url)
        if _INVALID_OPTION.search(message):  # libpq validates option values only at connect
            message = redact_connection_error(message, url)
            raise UsageError(f"invalid database URL ({message}); password redacted") from None
        if "unsupported startup parameter" in message:
            message += (
                "; a connection pooler accepts few start-up parameters: leave it out of the URL "
                "(schemalock sets its limits inside each transaction)"
            )
        raise ConnectionFailed(f"cannot connect: {message}") from None
    tracking.track(connection)  # cancelled on SIGINT and SIGTERM: see tracking.cancel_running
    connection.read_only = True
    if _hostaddr_given(url):
        _HOSTADDR_GIVEN.add(connection)
    _APPLICATION_NAME[connection] = f"schemalock/{__version__}/{command}"
    try:
        name_own_session(connection)
    except BaseException:
        connection.close()  # a connection no caller holds is not left open
        raise
    return connection


def _refuse_unencoded_userinfo(url: str) -> None:
    """A URL whose password holds an unencoded `@` (or `/` before one) is read by libpq with
    part of the password as the host or port, which its error would then print."""
    if "://" not in url:
        return
    before_query = url.split("://", 1)[1].split("?", 1)[0]
    if before_query.count("@") > 1:
        raise UsageError(
            "invalid database URL (more than one @ before the host: percent-encode @ and / in "
            "the user name and password, as %40 and %2F); password redacted"
        )


# Sets the session's name only if the backend answering is the one the server named in its
# start-up reply (BackendKeyData): then no pooler sits in between and the session ends with
# this connection.  A pooler answers with a pid of its own making.
_NAME_OWN_SESSION_SQL = (
    "SELECT pg_catalog.set_config('application_name', %s, false)"
    " WHERE pg_catalog.pg_backend_pid() = %s"
)


def name_own_session(connection: psycopg.Connection[tuple[object, ...]]) -> None:
    """Show the application name for the whole session, where the session is provably ours."""
    import psycopg

    name = _APPLICATION_NAME.get(connection)
    if name is None:
        return
    try:
        connection.execute(_NAME_OWN_SESSION_SQL, (name, connection.info.backend_pid))
        connection.commit()  # a session setting made in a transaction ends with a rollback
    except psycopg.Error as error:
        if _queue_timed_out(error):  # connected: the pool had no server session to give
            raise Inconclusive("connection", POOLER_QUEUE_TIMEOUT) from None
        raise ConnectionFailed(f"cannot connect: {_one_line(str(error), '')}") from None


# PgBouncer's word when a query waited longer than its query_wait_timeout for a server
# connection; it then closes the client's connection.
POOLER_QUEUE_TIMEOUT = (
    "the pooler's queue timed out (query_wait_timeout): every server connection of the pool "
    "was busy; try again when it is less busy, or connect to the server directly"
)


def _queue_timed_out(error: psycopg.Error) -> bool:
    return (error.diag.message_primary or str(error)).strip() == "query_wait_timeout"


def _network_limits(url: str) -> dict[str, str]:
    """Connect and keepalive limits, so a dead network fails the run instead of hanging it
    (statement_timeout is the server's, and cannot fire when packets stop).  Settings the
    connection string makes itself win."""
    from psycopg.conninfo import conninfo_to_dict

    connect_timeout = os.environ.get("SCHEMALOCK_CONNECT_TIMEOUT", "10")
    if not connect_timeout.isdigit():
        raise UsageError(
            f"SCHEMALOCK_CONNECT_TIMEOUT must be whole seconds, not {connect_timeout!r}"
        )
    limits = {
        "connect_timeout": connect_timeout,
        "keepalives": "1",
        "keepalives_idle": "30",
        "keepalives_interval": "10",
        "keepalives_count": "3",
        "tcp_user_timeout": "60000",
    }
    given = conninfo_to_dict(url)
    return {name: value for name, value in limits.items() if name not in given}


def primary_message(error: psycopg.Error) -> str:
    """The server's primary message, without the SQL context lines that follow it (the
    driver's own message, on one line, when the server sent none)."""
    return error.diag.message_primary or _one_line(str(error), "")


def _one_line(message: str, url: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return redact("; ".join(lines) or "unknown error", url)


# What every read-only transaction sets, local to it: the run's timeouts, a search_path user
# objects cannot shadow, and the run's name; the values from `read_only_values`, in order.
READ_ONLY_SETTINGS = (
    "SELECT pg_catalog.set_config('statement_timeout', %s, true),"
    " pg_catalog.set_config('lock_timeout', %s, true),"
    " pg_catalog.set_config('idle_in_transaction_session_timeout', %s, true),"
    " pg_catalog.set_config('search_path', 'pg_catalog, public', true),"
    " pg_catalog.set_config('application_name', %s, true)"
)
# A catalog read also turns JIT off: the bulk catalog queries cost enough to cross
# jit_above_cost, but their rows are few and cheap, so compiling is all JIT would add (at
# 5,000 tables, about 370 ms of the columns query's 820 ms).
CATALOG_SETTINGS = READ_ONLY_SETTINGS + ", pg_catalog.set_config('jit', 'off', true)"


def read_only_values(
    connection: psycopg.Connection[tuple[object, ...]], timeouts: Timeouts
) -> tuple[str, str, str, str]:
    """The values of READ_ONLY_SETTINGS for a transaction of `connection`."""
    name = _APPLICATION_NAME.get(connection) or f"schemalock/{__version__}"
    return (f"{timeouts.statement_ms}ms", f"{timeouts.lock_ms}ms", f"{timeouts.idle_ms}ms", name)


def begin_read_only(
    connection: psycopg.Connection[tuple[object, ...]], timeouts: Timeouts, catalog: bool = False
) -> None:
    """Start a REPEATABLE READ, READ ONLY transaction with the safety settings local to it
    (`catalog`: CATALOG_SETTINGS, for a transaction that reads only the catalog)."""
    from psycopg import IsolationLevel

    connection.isolation_level = IsolationLevel.REPEATABLE_READ
    connection.read_only = True
    with connection.cursor() as cursor:
        settings = CATALOG_SETTINGS if catalog else READ_ONLY_SETTINGS
        cursor.execute(settings, read_only_values(connection, timeouts))
    from schemalock.db import deadline

    deadline.limit_transaction(connection, timeouts.statement_ms)  # the client's deadline too


def end_transaction(connection: psycopg.Connection[tuple[object, ...]]) -> None:
    if not connection.closed and not connection.broken:
        connection.rollback()


@contextmanager
def inconclusive_errors(what: str, timeouts: Timeouts) -> Iterator[None]:
    """Anything the server refuses inside makes the check inconclusive (exit 4), never a pass."""
    import psycopg

    try:
        yield
    except psycopg.errors.QueryCanceled:
        raise Inconclusive(
            what,
            f"statement_timeout ({timeouts.statement_ms} ms) reached; "
            "raise it with --statement-timeout",
        ) from None
    except psycopg.errors.LockNotAvailable:
        raise Inconclusive(
            what,
            f"waited longer than lock_timeout ({timeouts.lock_ms} ms) for a "
            "lock another session holds",
        ) from None
    except psycopg.errors.InsufficientPrivilege as error:
        raise Inconclusive(what, f"permission denied ({primary_message(error)})") from None
    except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as error:
        # Operational errors too, but the connection is fine: another session was in the way.
        reason = f"another session was in the way ({primary_message(error)})"
        raise Inconclusive(what, reason) from None
    except psycopg.OperationalError as error:
        if _queue_timed_out(error):
            raise Inconclusive(what, POOLER_QUEUE_TIMEOUT) from None
        raise Inconclusive(what, f"connection lost ({primary_message(error)})") from None
    except psycopg.Error as error:  # any other server refusal: the check did not complete
        raise Inconclusive(what, f"database error ({primary_message(error)})") from None


@contextmanager
def read_only(
    connection: psycopg.Connection[tuple[object, ...]],
    timeouts: Timeouts,
    what: str = "introspection",
    catalog: bool = False,
) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """One read-only transaction (`begin_read_only`), rolled back at the end; what goes wrong
    on the server inside it makes the run inconclusive."""
    try:
        with inconclusive_errors(what, timeouts):
            begin_read_only(connection, timeouts, catalog)
            yield connection
    finally:
        end_transaction(connection)


def track_pool_connections() -> None:
    """Track each psycopg connection SQLAlchemy's pools open in this process from now on
    (Alembic's, made by a migrations environment's env.py)."""
    from sqlalchemy import event, pool

    from schemalock.db import deadline

    if not event.contains(pool.Pool, "connect", tracking.track_pooled):
        event.listen(pool.Pool, "connect", tracking.track_pooled)
    deadline.watch_migrations()  # and a server that stops answering cannot hang them
