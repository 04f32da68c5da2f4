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
from schemalock.errors import ConnectionFailed, Inconclusive, UsageError

if TYPE_CHECKING:
    import psycopg

URL_ENV_VARS = ("SCHEMALOCK_DATABASE_URL", "DATABASE_URL")
_INVALID_OPTION = re.compile(r"invalid .* value .*for connection option|invalid (sslmode|URI)")
_DRIVER_SUFFIX = re.compile(r"^(postgres(?:ql)?)\+[a-z0-9_]+://", re.IGNORECASE)


@dataclass(frozen=True)
class Timeouts:
    """Server-side limits for every transaction; lock_timeout stays below statement_timeout."""

    statement_ms: int = 30_000

    @property
    def lock_ms(self) -> int:
        return max(50, min(5_000, self.statement_ms // 3))

    @property
    def idle_ms(self) -> int:
        return self.statement_ms + 30_000


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


def _passwords(url: str) -> list[str]:
    """The secrets a connection string holds: the password and the client key's password."""
    from psycopg.conninfo import conninfo_to_dict

    found: list[str] = []
    try:
        params = conninfo_to_dict(url)
        found += [str(params[name]) for name in _SECRET_PARAMETERS if params.get(name)]
    except Exception:  # malformed: read what can be read
        found += [m.group(2).strip("'") for m in _SECRET_IN_TEXT.finditer(url)]
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


def redact(text: str, url: str) -> str:
    for secret in secrets_of(url):
        text = text.replace(secret, "***")
    return text


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


def connect(url: str, command: str = "verify") -> psycopg.Connection[tuple[object, ...]]:
    import psycopg
    from psycopg import conninfo

    try:
        conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        reason = redact(str(error).splitlines()[0], url)
        raise UsageError(f"invalid database URL ({reason}); password redacted") from None
    try:
        connection = psycopg.connect(
            conninfo.make_conninfo(
                url, application_name=f"schemalock/{__version__}/{command}", **_network_limits(url)
            ),
            prepare_threshold=None,
        )
    except psycopg.Error as error:
        message = _one_line(str(error), url)
        if _INVALID_OPTION.search(message):  # libpq validates option values only at connect
            raise UsageError(f"invalid database URL ({message}); password redacted") from None
        raise ConnectionFailed(f"cannot connect: {message}") from None
    connection.read_only = True
    if _hostaddr_given(url):
        _HOSTADDR_GIVEN.add(connection)
    return connection


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


def _primary(error: psycopg.Error) -> str:
    """The server's primary message, without the SQL context lines that follow it."""
    return error.diag.message_primary or _one_line(str(error), "")


def _one_line(message: str, url: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return redact("; ".join(lines) or "unknown error", url)


def begin_read_only(connection: psycopg.Connection[tuple[object, ...]], timeouts: Timeouts) -> None:
    """Start a REPEATABLE READ, READ ONLY transaction with the safety settings local to it."""
    from psycopg import IsolationLevel

    connection.isolation_level = IsolationLevel.REPEATABLE_READ
    connection.read_only = True
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_catalog.set_config('statement_timeout', %s, true),"
            " pg_catalog.set_config('lock_timeout', %s, true),"
            " pg_catalog.set_config('idle_in_transaction_session_timeout', %s, true),"
            " pg_catalog.set_config('search_path', 'pg_catalog, public', true)",
            (f"{timeouts.statement_ms}ms", f"{timeouts.lock_ms}ms", f"{timeouts.idle_ms}ms"),
        )


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
        raise Inconclusive(what, f"permission denied ({_primary(error)})") from None
    except psycopg.OperationalError as error:
        raise Inconclusive(what, f"connection lost ({_primary(error)})") from None
    except psycopg.Error as error:  # any other server refusal: the check did not complete
        raise Inconclusive(what, f"database error ({_primary(error)})") from None


@contextmanager
def read_only(
    connection: psycopg.Connection[tuple[object, ...]],
    timeouts: Timeouts,
    what: str = "introspection",
) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """One read-only transaction (`begin_read_only`), rolled back at the end; what goes wrong
    on the server inside it makes the run inconclusive."""
    try:
        with inconclusive_errors(what, timeouts):
            begin_read_only(connection, timeouts)
            yield connection
    finally:
        end_transaction(connection)
