"""`schemalock fix`: the Alembic revision that repairs the drift verify finds.

Each option is a named annotation here; a new one is that annotation, a parameter of `fix` and
the argument it passes on."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from schemalock.cli.options import LockOption, TimeoutOption, UrlOption
from schemalock.errors import EXIT_CLEAN

if TYPE_CHECKING:
    from schemalock.fix.command import Outcome


class OrphanPolicy(StrEnum):
    fail = "fail"
    quarantine = "quarantine"
    delete = "delete"
    set_null = "set-null"


MigrationsOption = Annotated[
    str,
    typer.Option(
        "--migrations",
        "-m",
        help="Alembic script location; created (a fresh environment) if missing or empty.",
    ),
]
OrphansOption = Annotated[
    OrphanPolicy,
    typer.Option(
        "--orphans",
        help="Rows that block a foreign key: fail (add it NOT VALID, validate later), "
        "quarantine (move them to schemalock_quarantine), delete, or set-null.",
    ),
]
ApplyOption = Annotated[
    bool,
    typer.Option("--apply", help="Also apply it (alembic upgrade head), behind the safety guards."),
]
LockTimeoutOption = Annotated[
    str, typer.Option("--lock-timeout", help="lock_timeout of every step.")
]
StepTimeoutOption = Annotated[
    str, typer.Option("--step-timeout", help="statement_timeout of every step.")
]
LongTimeoutOption = Annotated[
    str, typer.Option("--long-timeout", help="statement_timeout of index builds and VALIDATE.")
]
AllOrNothingOption = Annotated[
    bool,
    typer.Option(
        "--all-or-nothing",
        help="Refuse the whole plan when the data forbids any step (by default the other "
        "steps are written, and the run exits 5).",
    ),
]
PartialOption = Annotated[
    bool,
    typer.Option(
        "--partial",
        help="With --apply: apply a plan some refused steps were left out of (exit 5 still).",
    ),
]
ReplaceOption = Annotated[
    bool,
    typer.Option(
        "--replace",
        help="Plan again a revision schemalock wrote that was never applied (its apply "
        "failed, say), removing its file.",
    ),
]


def fix(
    lock: LockOption = "schema_lock.yaml",
    database_url: UrlOption = None,
    migrations: MigrationsOption = "migrations",
    orphans: OrphansOption = OrphanPolicy.fail,
    apply: ApplyOption = False,
    lock_timeout: LockTimeoutOption = "5s",
    step_timeout: StepTimeoutOption = "60s",
    long_timeout: LongTimeoutOption = "1h",
    replace: ReplaceOption = False,
    all_or_nothing: AllOrNothingOption = False,
    partial: PartialOption = False,
    statement_timeout: TimeoutOption = 30.0,
) -> None:
    """Write the Alembic revision that repairs the drift verify finds, safely."""
    from pathlib import Path

    from schemalock import db
    from schemalock.fix.command import fix as fixing
    from schemalock.fix.options import Orphans, Timeouts
    from schemalock.lock import load_lock
    from schemalock.render import safe_text

    def say(line: str) -> None:  # names from the lock and the database: escaped
        print(safe_text(line))

    outcome = fixing(
        load_lock(lock),
        db.resolve_url(database_url),
        Path(migrations),
        db.Timeouts(int(statement_timeout * 1000)),
        orphans=Orphans(orphans.value),
        apply=apply,
        step_timeouts=Timeouts(lock_timeout, step_timeout, long_timeout),
        replace=replace,
        say=say,
        all_or_nothing=all_or_nothing,
        partial=partial,
    )
    _tell(outcome, say)
    if outcome.left_out is not None:
        raise outcome.left_out
    raise typer.Exit(EXIT_CLEAN)


def _tell(outcome: Outcome, say: Callable[[str], None]) -> None:
    """What the run did, after what `fix` itself printed while it ran."""
    plan = outcome.plan
    if outcome.revision is None and plan.notes:
        say("no revision written: what still differs is for a person to decide")
    elif outcome.revision is None:
        say("nothing to repair: the structure matches the lock")
    elif outcome.applied:  # its steps and hazards were printed before it ran
        say("applied (alembic upgrade head)")
    else:
        for line in plan.summary():
            say(line)
    for note in plan.notes:
        say(f"left for a person: {note}")
