"""`schemalock fix`: verify, plan, prove the plan against the data, write the revision, and
(with `--apply`) run it through Alembic behind the safety guards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schemalock import db, introspect
from schemalock.errors import Inconclusive, Refused
from schemalock.findings import Finding, Report
from schemalock.fix import environment, guards
from schemalock.fix.planner import FIXED_RULES, Orphans, Plan, Planner
from schemalock.fix.proofs import Prover
from schemalock.fix.revision import Timeouts, write
from schemalock.model import ForeignKey, Lock, Table
from schemalock.probe import Probe
from schemalock.verify import verify

if TYPE_CHECKING:
    import psycopg

DEFAULT_TIMEOUTS = Timeouts()


@dataclass
class Outcome:
    plan: Plan
    report: Report
    revision: Path | None = None  # None: nothing to repair
    applied: bool = False


def fix(
    lock: Lock,
    url: str,
    migrations: Path,
    timeouts: db.Timeouts,
    orphans: Orphans = Orphans.FAIL,
    apply: bool = False,
    step_timeouts: Timeouts = DEFAULT_TIMEOUTS,
    say: Callable[[str], None] = lambda _: None,
) -> Outcome:
    if apply:
        guards.refuse_pooler(url)  # before anything connects, as env.py does
    report = verify(lock, url, timeouts, data=False)
    if report.inconclusive:
        first = report.inconclusive[0]
        raise Inconclusive(first.rule, f"verify could not finish: {first.reason}")
    directory = environment.ensure(migrations)  # once the database answered
    connection = db.connect(url, "fix")
    try:
        _refuse_pending(directory, connection)
        schemas = list(lock.database.schemas)
        with db.read_only(connection, timeouts) as conn:
            live = introspect.introspect(conn, schemas)
            fingerprint = guards.fingerprint(conn, schemas)
        probe = Probe(connection, timeouts)
        planner = Planner(
            lock, live, Prover(connection, timeouts), orphans, _orphan_counter(probe, live)
        )
        plan = planner.build(f for f in report.findings if _structural(f))
        probe.close()
        if probe.inconclusive:
            raise Inconclusive("fix", probe.inconclusive[0].reason)
    finally:
        connection.close()
    if plan.refusals:
        raise Refused(
            "fix refuses: the data forbids "
            + ("this step" if len(plan.refusals) == 1 else "these steps")
            + ":\n  "
            + "\n  ".join(plan.refusals)
        )
    outcome = Outcome(plan, report)
    if not plan.steps:
        return outcome
    summary = f"schemalock fix: repair {len(plan.steps)} step(s) of drift from {lock.path}"
    guard_sql = guards.fingerprint_check_sql(schemas, fingerprint)
    outcome.revision = write(directory, plan, summary, guard_sql, step_timeouts)
    say(f"wrote {outcome.revision}")
    if apply:
        run_upgrade(directory, url)
        outcome.applied = True
    return outcome


def _structural(finding: Finding) -> bool:
    from schemalock.fix.planner import LEFT_ALONE

    return finding.rule in FIXED_RULES or finding.rule in LEFT_ALONE


def _orphan_counter(probe: Probe, live: object) -> Callable[[Table, ForeignKey], int]:
    from schemalock.model import Database

    assert isinstance(live, Database)

    def count(table: Table, fk: ForeignKey) -> int:
        parent = live.tables.get((fk.ref_schema, fk.ref_table))
        if parent is None:
            return 0
        counted = probe.orphans("fix", table, fk, parent)
        probe.close()  # the prover's read-only transactions share this connection
        if counted is None:
            return 0  # the probe recorded why; fix reports it as inconclusive
        return counted.orphans + counted.invalid

    return count


def _refuse_pending(directory: Path, connection: psycopg.Connection[Any]) -> None:
    """A revision written but not applied would be planned again: apply it first."""
    head = environment.head(directory)
    at = environment.applied(connection)
    if head is not None and head != at:
        raise Refused(
            f"revision {head} in {directory} is not applied to this database (it is at "
            f"{at or 'no revision'}): apply it (`alembic upgrade head`) or remove it, then "
            "run fix again"
        )


def run_upgrade(directory: Path, url: str) -> None:
    """`alembic upgrade head` behind the guards: no pooler, no replica, one run at a time, and
    the revision's own fingerprint check refuses a schema that changed since planning."""
    connection = db.connect(url, "fix")
    try:
        guards.refuse_unsafe_target(url, connection)
        # Held here, around any env.py; ours sees this session holds it and goes on.
        with guards.advisory_lock(connection):
            _upgrade(directory, url)
    finally:
        connection.close()


def _upgrade(directory: Path, url: str) -> None:
    from alembic import command

    try:
        command.upgrade(environment.config(directory, url), "head")
    except Exception as error:  # the server's refusal, through SQLAlchemy
        if "schema changed since this revision was planned" in str(error):
            raise Refused(
                "the schema changed since this revision was planned: nothing was applied; run "
                "`schemalock fix` again"
            ) from None
        raise
