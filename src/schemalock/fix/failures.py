"""What a failed `fix --apply` means, in one line: a database condition (a lock not granted in
time, a lost connection, a server that went away, a permission, a step the server refused)
is exit 4 with what was and was not applied and how to resume; a refusal of env.py's or of the
revision's own guards is exit 5; a connection that never opened is exit 3.  Only a bug in
schemalock is left to the CLI's "internal error"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from schemalock.db import primary_message, redact
from schemalock.errors import ConnectionFailed, Incomplete, Refused, SchemalockError
from schemalock.fix.guards import CHANGED_MESSAGE

if TYPE_CHECKING:
    import psycopg

# SQLSTATEs (and classes) that say why the server stopped a step.
_CAUSES: Final = {
    "55P03": "a lock it needed was not granted within lock_timeout (another session holds it)",
    "57014": "a step ran past its statement_timeout, or was cancelled",
    "40P01": "a deadlock with another session",
    "40001": "a serialization failure",
    "42501": "permission denied",
    "57P01": "the server ended the connection (administrator command)",
    "57P02": "the server crashed and ended every connection",
    "57P03": "the server is not accepting connections now",
    "53300": "the server has no connection slot left",
}
_CLASS_CAUSES: Final = {
    "08": "the connection to the server was lost",
    "53": "the server ran out of a resource",
    "22": "the server refused a value",
    "23": "the rows broke a constraint",
}
_RESUME: Final = (
    "once the cause is dealt with, `schemalock fix --replace --apply` plans again from the "
    "database as it is now"
)
_STATEMENT_SHOWN: Final = 100


def explain(error: BaseException, url: str) -> SchemalockError:
    """`error`, raised by Alembic's upgrade, as the one-line error the CLI prints."""
    from alembic.util import CommandError

    if isinstance(error, SchemalockError):
        return error
    if isinstance(error, CommandError) and str(error).startswith("refusing to migrate"):
        return Refused(redact(str(error), url))
    driver = _driver_error(error)
    if driver is None:
        raise error  # not the database's doing: a bug, for the CLI's internal error
    refused = _guard_refusal(driver.diag.message_primary or "")
    if refused is not None:
        return refused
    message = redact(primary_message(driver), url)
    if _never_connected(driver):
        return ConnectionFailed(f"cannot connect: {message}")
    sqlstate = driver.sqlstate or ""
    cause = _CAUSES.get(sqlstate) or _CLASS_CAUSES.get(sqlstate[:2])
    if cause is None:
        cause = _CLASS_CAUSES["08"] if sqlstate == "" else "the server refused a step"
    step = _statement(error)
    where = f" while running `{step}`" if step else ""
    said = f"{message} ({sqlstate})" if sqlstate else message
    return Incomplete(
        f"could not complete the migration: {cause}{where}: {said}; {_applied(where_now(url))}"
        f"{_INVALID_INDEX if _builds_concurrently(step) else ''}; {_RESUME}"
    )


# A concurrent build that fails is not rolled back: PostgreSQL keeps the index, INVALID.
_INVALID_INDEX: Final = (
    "; the concurrent index build that failed left its index behind, INVALID (it serves no "
    "query, yet every write updates it): the next `fix` drops it and builds it again"
)


def _builds_concurrently(statement: str) -> bool:
    words = statement.upper().split()
    return words[:1] == ["CREATE"] and "INDEX" in words and "CONCURRENTLY" in words


def _guard_refusal(primary: str) -> Refused | None:
    """The revision's own checks stopped it (their message, raised by the server, starts
    with `schemalock: `): what it checks changed since planning.  Judged on the server's
    primary message alone, never on the statement's text, which holds the same words."""
    if primary.startswith(CHANGED_MESSAGE):
        return Refused(
            "the schema changed since this revision was planned: nothing was applied; run "
            "`schemalock fix` again"
        )
    if primary.startswith(GUARD_MARK):
        return Refused(
            f"the revision stopped itself: {primary.removeprefix(GUARD_MARK)}; its transaction "
            "was rolled back (steps in autocommit blocks before it stay done): `schemalock fix "
            "--replace` plans again from the database as it is now"
        )
    return None


# What the revision's checks start their messages with (fix/operations.py, fix/guards.py).
GUARD_MARK: Final = "schemalock: "


def _applied(at: str) -> str:
    return (
        f"the database is at {at}: the failed revision's transaction was rolled back, and of "
        "it only the steps in autocommit blocks that finished before the failure (concurrent "
        "index builds) stay"
    )


def _driver_error(error: BaseException) -> psycopg.Error | None:
    """The psycopg error behind `error` (SQLAlchemy wraps it as `.orig`), if any."""
    import psycopg

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, psycopg.Error):
            return seen
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


def _never_connected(error: psycopg.Error) -> bool:
    import psycopg

    return isinstance(error, psycopg.OperationalError) and str(error).startswith(
        "connection failed"
    )


def _statement(error: BaseException) -> str:
    statement = getattr(error, "statement", None)
    if not isinstance(statement, str):
        return ""
    words = " ".join(statement.split())
    if len(words) > _STATEMENT_SHOWN:
        words = words[: _STATEMENT_SHOWN - 3] + "..."
    return words


def where_now(url: str) -> str:
    """Where the database is after a failure, asked on a fresh connection: `revision X`, `no
    revision`, or that it could not be asked (the server may still be recovering)."""
    from schemalock import db
    from schemalock.fix import environment

    try:
        connection = db.connect(url, "fix")
    except SchemalockError:
        return "a revision it could not be asked for (no connection now)"
    try:
        at = environment.applied(connection)
    except Exception:  # whatever the server says now, the failure reported is the news
        return "a revision it could not be asked for"
    finally:
        connection.close()
    return f"revision {at}" if at else "no revision"
