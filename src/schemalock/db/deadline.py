"""A client-side deadline for every statement: a server that stops answering cannot hang a run.

statement_timeout is the server's own: a backend that is frozen (SIGSTOP, a stalled VM) or a
proxy that acknowledges packets but never forwards them never sends its error, and TCP
keepalives are answered by the kernel or by the proxy.  So every connection schemalock opens
(and, under `fix --apply`, every connection Alembic opens) is a `DeadlineConnection`: it notes
when each wait for the server begins and ends, and a watchdog thread, alive while such a
connection is open and waking every POLL_S, acts on a statement still running past its limit:

1. at limit + grace it sends a cancel request, as the server's own timeout would have ended it;
2. min(CANCEL_WAIT_S, grace) later, if the statement still has not ended, it shuts the socket
   down: the blocked read returns, and psycopg raises "the server stopped answering ...",
   which verify and snapshot report as inconclusive (exit 4) and `fix --apply` as "could not
   complete the migration" (exit 4).

The grace is SCHEMALOCK_CLIENT_GRACE seconds (default 10).  The limit is the statement_timeout
in force on the session, as far as the client knows it, so the deadline never comes before the
server's own timeout would have:

- schemalock's read-only transactions: the statement_timeout `db.begin_read_only` set
  (--statement-timeout), while the transaction lasts; between them (naming the session, the
  migration guards: catalog look-ups), BETWEEN_TRANSACTIONS_S or the largest limit the
  connection's transactions had, whichever is larger;
- Alembic's connections: the largest `SET statement_timeout` the migration ran on the session
  (a revision of schemalock's sets --step-timeout first, --long-timeout before index builds and
  VALIDATEs).  Before the first one, and from any statement whose text changes
  statement_timeout in a way not read here (0, DEFAULT, RESET, set_config(), several statements
  in one string), there is no client deadline: a hand-written revision may rightly run for
  hours under the server's setting.  (A function that sets it out of sight is not seen.)

Imported inside `db`'s functions only (`connect`, `begin_read_only`,
`track_pool_connections`), never at the CLI's start: the psycopg import below costs nothing
more there.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow

from schemalock import durations
from schemalock.db.timeouts import Timeouts
from schemalock.errors import UsageError

if TYPE_CHECKING:
    from psycopg.abc import PQGen

GRACE_ENV = "SCHEMALOCK_CLIENT_GRACE"
DEFAULT_GRACE_S = 10.0
CANCEL_WAIT_S = 5.0  # after the cancel request, before the socket is shut down
POLL_S = 0.25
BETWEEN_TRANSACTIONS_S = Timeouts().statement_ms / 1000  # the default --statement-timeout

Kind = Literal["own", "migration"]


def grace_s() -> float:
    """SCHEMALOCK_CLIENT_GRACE in seconds (default 10); UsageError unless a number above 0."""
    given = os.environ.get(GRACE_ENV, "").strip()
    if not given:
        return DEFAULT_GRACE_S
    try:
        grace = float(given)
    except ValueError:
        grace = 0.0
    if not 0 < grace < float("inf"):
        raise UsageError(f"{GRACE_ENV} must be a number of seconds above 0, not {given!r}")
    return grace


@dataclass(eq=False)
class _Watch:
    """One connection's statements as the watchdog sees them."""

    kind: Kind
    grace_s: float
    connection: weakref.ref[DeadlineConnection]
    lock: threading.Lock = field(default_factory=threading.Lock)
    generation: int = 0  # one per wait for the server
    started: float | None = None  # monotonic time the current wait began; None between waits
    transaction_limit_s: float | None = None  # own: set by begin_read_only, until it ends
    largest_s: float = 0.0  # own: the largest transaction limit; migration: the largest SET
    exempt: bool = False  # migration: statement_timeout changed in a way not read here
    closed: bool = False
    cancelled: int = -1  # the generation a cancel request was sent for
    cut: str | None = None  # why the socket was shut down, once it was

    def limit_s(self) -> float | None:
        """The statement_timeout believed in force (seconds), or None: no client deadline."""
        if self.kind == "own":
            return self.transaction_limit_s or max(BETWEEN_TRANSACTIONS_S, self.largest_s)
        return None if self.exempt or not self.largest_s else self.largest_s

    def begin(self) -> None:
        with self.lock:
            self.generation += 1
            self.started = time.monotonic()

    def end(self, idle: bool) -> None:
        """The wait is over (when the watchdog works on it, once it is done with the socket);
        a transaction that ended took its SET LOCAL statement_timeout with it."""
        with self.lock:
            self.started = None
            if idle:
                self.transaction_limit_s = None

    def is_open(self) -> bool:
        return not self.closed and self.connection() is not None

    def check(self, now: float) -> None:
        """Cancel, then cut, a statement past its deadline (see the module's docstring)."""
        with self.lock:  # one statement's start and number, never one's start and the next's
            started, generation, limit = self.started, self.generation, self.limit_s()
        if started is None or limit is None:
            return
        cancel_at = started + limit + self.grace_s
        wait = min(CANCEL_WAIT_S, self.grace_s)
        if now < cancel_at:
            return
        if self.cancelled != generation:
            self.cancelled = generation
            self._while_running(generation, lambda conn: _cancel(conn, wait))
        elif now >= cancel_at + wait:
            said = (
                f"the server stopped answering: no reply within {now - started:.0f} s "
                f"(statement limit {limit:g} s + {self.grace_s:g} s grace + {wait:g} s after "
                "a cancel request)"
            ) + ("; results incomplete" if self.kind == "own" else "")
            self._while_running(generation, lambda conn: self._cut(conn, said))

    def _while_running(self, generation: int, act: Callable[[DeadlineConnection], None]) -> None:
        """`act(connection)` if the wait `generation` still runs a statement.  Under the lock,
        so the wait cannot end (and the connection be closed) meanwhile: its end waits for
        this, a cancel request at most `wait` seconds."""
        with self.lock:
            connection = self.connection()
            if self.started is None or self.generation != generation or connection is None:
                return
            try:
                if connection.pgconn.transaction_status == TransactionStatus.ACTIVE:
                    act(connection)
            except Exception:  # gone meanwhile: nothing left to end
                return

    def _cut(self, connection: DeadlineConnection, said: str) -> None:
        self.cut = said  # before the read wakes up, so the wait reports it
        try:
            with socket.socket(fileno=os.dup(connection.pgconn.socket)) as duplicate:
                duplicate.shutdown(socket.SHUT_RDWR)
        except Exception:
            self.cut = None
            raise


def _cancel(connection: DeadlineConnection, wait: float) -> None:
    try:
        connection.cancel_safe(timeout=wait)
    except Exception:  # not delivered in time: the socket is shut down next
        return


class DeadlineConnection(psycopg.Connection[TupleRow]):
    """A psycopg connection whose waits for the server the watchdog can see (and end)."""

    deadline_watch: _Watch | None = None

    def wait(self, gen: PQGen[Any], *args: Any, **kwargs: Any) -> Any:
        """psycopg's one way of waiting for the server (statements, COMMIT, ROLLBACK)."""
        watch = self.deadline_watch
        if watch is None:
            return super().wait(gen, *args, **kwargs)
        watch.begin()
        try:
            return super().wait(gen, *args, **kwargs)
        except psycopg.OperationalError as error:
            if watch.cut is not None:  # the cause of this failure and of every one after it
                raise psycopg.OperationalError(watch.cut) from error
            raise
        finally:
            watch.end(self._idle())

    def _idle(self) -> bool:
        try:
            return self.pgconn.transaction_status == TransactionStatus.IDLE
        except Exception:  # the connection was closed while waiting (an interrupt)
            return False

    def close(self) -> None:
        if self.deadline_watch is not None:
            self.deadline_watch.closed = True
        super().close()


def connect(conninfo: str, **kwargs: Any) -> DeadlineConnection:
    """`psycopg.connect(conninfo, **kwargs)` for schemalock, watched (see the docstring)."""
    return _watched("own", conninfo, **kwargs)


def _watched(kind: Kind, *args: Any, **kwargs: Any) -> DeadlineConnection:
    grace = grace_s()  # a bad setting is refused before connecting
    connection = DeadlineConnection.connect(*args, **kwargs)
    connection.deadline_watch = _Watch(kind, grace, weakref.ref(connection))
    _Watchdog.register(connection.deadline_watch)
    return connection


def limit_transaction(connection: psycopg.Connection[Any], statement_ms: int) -> None:
    """The transaction `connection` is in runs under `SET LOCAL statement_timeout`."""
    watch = getattr(connection, "deadline_watch", None)
    if isinstance(watch, _Watch) and statement_ms > 0:
        watch.transaction_limit_s = statement_ms / 1000
        watch.largest_s = max(watch.largest_s, watch.transaction_limit_s)


# --- Alembic's connections (fix --apply) -----------------------------------------------------

_SET_TIMEOUT = re.compile(
    r"\s*SET\s+(?:SESSION\s+|LOCAL\s+)?statement_timeout\s*(?:=|TO)\s*"
    r"(?:'(?P<quoted>[^']*)'|(?P<bare>[\w.]+))\s*;?\s*",
    re.IGNORECASE,
)
_TOUCHES_TIMEOUT = re.compile(r"statement_timeout|\bRESET\s+ALL\b|\bDISCARD\s+ALL\b", re.I)


def statement_timeout_ms(statement: str) -> float | None:
    """The statement_timeout `statement` sets (a plain SET; no unit: milliseconds); 0 when
    it touches statement_timeout in any other way (0 too, DEFAULT, RESET, set_config(), ...),
    None when it does not touch it."""
    if not _TOUCHES_TIMEOUT.search(statement):
        return None
    match = _SET_TIMEOUT.fullmatch(statement)
    value = match and (match["quoted"] if match["quoted"] is not None else match["bare"])
    duration = durations.milliseconds(value or "")
    return 0.0 if duration is None else duration


def note_statement(connection: object, statement: str) -> None:
    """A migration's statement is about to run: follow the statement_timeout it sets."""
    watch = getattr(connection, "deadline_watch", None)
    if not isinstance(watch, _Watch) or watch.kind != "migration" or watch.exempt:
        return
    milliseconds = statement_timeout_ms(statement)
    if milliseconds is None:
        return
    if milliseconds <= 0:
        watch.exempt = True
    else:
        watch.largest_s = max(watch.largest_s, milliseconds / 1000)


def watch_migrations() -> None:
    """Every psycopg connection SQLAlchemy opens in this process from now on (Alembic's, made
    by env.py) is watched, and the statement_timeout its statements set is followed."""
    from sqlalchemy import event
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
    from sqlalchemy.engine import Engine

    if not event.contains(PGDialect_psycopg, "do_connect", _connect_migration):
        event.listen(PGDialect_psycopg, "do_connect", _connect_migration)
    if not event.contains(Engine, "before_cursor_execute", _before_execute):
        event.listen(Engine, "before_cursor_execute", _before_execute)


def _connect_migration(
    _dialect: object, _record: object, cargs: list[Any], cparams: dict[str, Any]
) -> DeadlineConnection:
    return _watched("migration", *cargs, **cparams)


def _before_execute(_conn: object, cursor: object, statement: str, *_context: object) -> None:
    note_statement(getattr(cursor, "connection", None), statement)


# --- the watchdog ----------------------------------------------------------------------------


class _Watchdog:
    """One daemon thread, alive while a watched connection is open."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _watches: ClassVar[list[_Watch]] = []
    _thread: ClassVar[threading.Thread | None] = None

    @classmethod
    def register(cls, watch: _Watch) -> None:
        with cls._lock:
            cls._watches.append(watch)
            if cls._thread is None:
                cls._thread = threading.Thread(
                    target=cls._run, name="schemalock-deadline", daemon=True
                )
                cls._thread.start()

    @classmethod
    def _run(cls) -> None:
        from schemalock.db import interrupts

        while True:
            time.sleep(POLL_S)
            with cls._lock:
                cls._watches[:] = [watch for watch in cls._watches if watch.is_open()]
                if not cls._watches:
                    cls._thread = None
                    return
                watches = list(cls._watches)
            if interrupts.stopping():  # SIGINT or SIGTERM: the stop cancels and closes itself
                continue
            now = time.monotonic()
            for watch in watches:
                watch.check(now)
