"""SIGINT and SIGTERM: no statement of schemalock's outlives its process.

By default SIGTERM (what CI runners send on cancel) ends the process at once, and the statement
it was running goes on on the server, with its locks and parallel workers, until it ends or
next writes to the gone client; SIGINT became click's `Aborted!`, exit 1.  Under `handled()`
either signal cancels, on the server, the statement every open connection runs
(`tracking.cancel_running`), says so in one line on stderr, and raises `Interrupted`: a
SystemExit with the shell's code (130, 143), so the code on the way out rolls back and closes as
after any error, and psycopg, interrupted while it waits for a result, waits for the cancelled
statement to end.  SQLAlchemy closes a connection an exit exception went through: a migration's
transaction is rolled back.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)
_stopping = {"now": False}


class Interrupted(SystemExit):
    """The run was stopped by a signal; the exit code is the shell's, 128 + the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)


def stopping() -> bool:
    """A signal is stopping the run: the stop cancels and closes the connections itself, so
    the statement deadline's watchdog (schemalock.db.deadline) leaves them alone."""
    return _stopping["now"]


def _stop(signum: int, _frame: FrameType | None) -> None:
    if _stopping["now"]:
        return  # a second signal while stopping: let the cancel and the rollback finish
    _stopping["now"] = True
    from schemalock.db import tracking

    asked = tracking.cancel_running()
    outcome = (
        "cancelled the statement running on the server; its transaction is rolled back"
        if asked
        else "no statement was running on the server"
    )
    print(f"schemalock: stopped by {signal.Signals(signum).name}: {outcome}", file=sys.stderr)
    raise Interrupted(signum)


@contextmanager
def handled() -> Iterator[None]:
    """SIGINT and SIGTERM stop the block as described above (main thread only); after a
    stop, every connection still open is closed."""
    previous = {signum: signal.signal(signum, _stop) for signum in HANDLED}
    try:
        yield
    finally:
        if _stopping["now"]:
            from schemalock.db import tracking

            tracking.close_open()
            _stopping["now"] = False  # the next run in this process starts afresh
        for signum, handler in previous.items():
            signal.signal(signum, handler)
