"""What `fix` is asked to do beside the plan: the orphan policy and the steps' timeouts.

Apart from the planner and the revision writer (both import Alembic, and SQLAlchemy with it):
the command line reads its options before connecting, and the import of those is put off to
while the server computes the schema's fingerprint (`fix.command._read`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from schemalock import durations
from schemalock.errors import UsageError


class Orphans(enum.StrEnum):
    FAIL = "fail"
    QUARANTINE = "quarantine"
    DELETE = "delete"
    SET_NULL = "set-null"


@dataclass(frozen=True)
class Timeouts:
    lock: str = "5s"  # every step: a lock not granted in time fails the step, not the app
    statement: str = "60s"
    long: str = "1h"  # index builds, VALIDATE, rewrites: longer, under the same lock_timeout

    def check(self) -> None:
        """UsageError unless each is a positive duration PostgreSQL reads and the lock timeout
        is the smallest: a lock timeout of 0 waits forever, one above the statement timeout
        never fires."""
        lock, statement, long = (
            _milliseconds(option, value)
            for option, value in (
                ("--lock-timeout", self.lock),
                ("--step-timeout", self.statement),
                ("--long-timeout", self.long),
            )
        )
        if not lock < statement <= long:
            raise UsageError(
                f"--lock-timeout {self.lock} must be smaller than --step-timeout "
                f"{self.statement}, and that no larger than --long-timeout {self.long}"
            )


def _milliseconds(option: str, value: str) -> float:
    """A PostgreSQL duration setting in milliseconds (no unit: milliseconds, as for
    lock_timeout); UsageError for anything else or zero (zero switches the timeout off)."""
    milliseconds = durations.milliseconds(value)
    if milliseconds is None:
        raise UsageError(f"{option} {value!r}: not a duration (e.g. 500ms, 5s, 2min, 1h)")
    if milliseconds <= 0:
        raise UsageError(f"{option} {value}: must be more than 0 (0 switches the timeout off)")
    return milliseconds
