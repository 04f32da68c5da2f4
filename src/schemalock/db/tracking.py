"""Every connection this process opened, so a stop (SIGINT, SIGTERM) can cancel what each runs.

Kept apart from `schemalock.db` so the signal handlers (`db.interrupts`) import no connection
code: the handlers run while the process stops."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

# Every connection this process opened: schemalock's own, and Alembic's (SQLAlchemy's pools)
# once track_pool_connections() ran.  On SIGINT or SIGTERM the CLI cancels on the server the
# statement each one runs (`cancel_running`): closing the socket alone would leave it running,
# with its locks and parallel workers, until it ends or next writes to the client.
_OPEN_CONNECTIONS: weakref.WeakSet[psycopg.Connection[Any]] = weakref.WeakSet()
CANCEL_TIMEOUT_S = 5.0
# Told of every connection as it is tracked: the CLI's `-v` timings.
_WATCHERS: list[Callable[[psycopg.Connection[Any]], None]] = []


def track(connection: psycopg.Connection[Any]) -> None:
    """Count `connection` among the process's open connections (see cancel_running)."""
    _OPEN_CONNECTIONS.add(connection)
    for watcher in _WATCHERS:
        watcher(connection)


def watch_connections(watcher: Callable[[psycopg.Connection[Any]], None]) -> None:
    """Tell `watcher` of every connection tracked from now on."""
    _WATCHERS.append(watcher)


def unwatch_connections(watcher: Callable[[psycopg.Connection[Any]], None]) -> None:
    if watcher in _WATCHERS:
        _WATCHERS.remove(watcher)


def track_pooled(dbapi_connection: object, _record: object) -> None:
    import psycopg

    if isinstance(dbapi_connection, psycopg.Connection):
        track(dbapi_connection)


def cancel_running() -> int:
    """Ask the server to cancel the statement each open connection of this process is running
    (psycopg's cancel_safe(): the cancel request travels on a connection of its own); how many
    it asked.  Never raises: it runs while the process stops."""
    if not _OPEN_CONNECTIONS:
        return 0
    from psycopg.pq import TransactionStatus

    asked = 0
    for connection in list(_OPEN_CONNECTIONS):
        try:
            if connection.closed or connection.info.transaction_status != TransactionStatus.ACTIVE:
                continue
            connection.cancel_safe(timeout=CANCEL_TIMEOUT_S)
            asked += 1
        except Exception:  # gone meanwhile, or the server did not answer: nothing more to ask
            continue
    return asked


def close_open() -> None:
    """Close every connection still open; the server rolls back what each had begun."""
    for connection in list(_OPEN_CONNECTIONS):
        try:
            connection.close()
        except Exception:  # already broken: closed as far as it can be
            continue
