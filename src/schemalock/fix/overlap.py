"""Work done in a thread of its own while this process waits for the server, or the server for
this process: `fix` has the server compute the schema's fingerprint while it compares, and
imports the planner (Alembic, SQLAlchemy) while it waits for the catalog's answers.

Python runs one thread at a time, but psycopg lets go of the interpreter while it waits for the
server: a thread that waits costs the other nothing, and one that imports runs in the other's
waits.  Only the main thread hears SIGINT and SIGTERM; what they stop cancels, on the server, a
statement a thread of here runs (`db.tracking`), and `result()` or `wait()` is always reached
before the connection's transaction ends."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
W = TypeVar("W")


class Started(Generic[T]):
    """`function()`, running in a thread of its own from now on."""

    def __init__(self, function: Callable[[], T], name: str) -> None:
        self._function = function
        self._value: list[T] = []
        self._error: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name=f"schemalock-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value.append(self._function())
        except BaseException as error:  # raised again in the thread that asks for the result
            self._error.append(error)

    def wait(self) -> None:
        """Until it has ended, however it ended."""
        self._thread.join()

    def result(self) -> T:
        """What it returned, once it has ended; what it raised is raised here."""
        self.wait()
        if self._error:
            raise self._error[0]
        return self._value[0]


def beside(waiting: Callable[[], T], work: Callable[[], W], name: str) -> tuple[W, T]:
    """`work()` here while `waiting()` (a statement the server works on) runs in a thread of
    its own: both results once both ended, or the first error, `work`'s before the other's.
    The thread has ended on the way out, however `work` ended."""
    started = Started(waiting, name)
    try:
        done = work()
    except BaseException:
        started.wait()
        raise
    return done, started.result()
