"""`schemalock fix`: verify, plan, prove the plan against the data, write the revision, and
(with `--apply`) run it through Alembic behind the safety guards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schemalock import db, introspect
from schemalock.check import validity
from schemalock.check.findings import Report
from schemalock.check.verify import Reading, verify
from schemalock.compare import Comparison, compare
from schemalock.errors import Inconclusive, Refused
from schemalock.fix import environment, failures, guards, overlap
from schemalock.fix.options import Orphans, Timeouts
from schemalock.fix.proofs import Prover
from schemalock.model import Database, ForeignKey, Lock, Table
from schemalock.probe import Probe

if TYPE_CHECKING:
    import psycopg

    from schemalock.fix.plan import Plan

DEFAULT_TIMEOUTS = Timeouts()


@dataclass
class Outcome:
    plan: Plan
    report: Report
    revision: Path | None = None  # None: nothing to repair
    applied: bool = False
    # A partial plan: what was left out, and why, as the refusal (exit 5) the run ends with.
    left_out: Refused | None = None


def fix(
    lock: Lock,
    url: str,
    migrations: Path,
    timeouts: db.Timeouts,
    orphans: Orphans = Orphans.FAIL,
    apply: bool = False,
    step_timeouts: Timeouts = DEFAULT_TIMEOUTS,
    replace: bool = False,
    say: Callable[[str], None] = lambda _: None,
    log: bool = True,
    all_or_nothing: bool = False,
    partial: bool = False,
) -> Outcome:
    """Plan, prove and write the revision; with `apply`, run it.

    `replace`: an unapplied revision schemalock wrote earlier (its apply failed, say) is
    planned again from the database as it is now, and its file removed; without it, `apply`
    applies that revision as reviewed (its own guards refuse a schema changed since).
    A refused step leaves out itself and what depends on it: the rest is written (exit 5),
    and applied only with `partial`; `all_or_nothing` refuses the whole plan instead."""
    # An invalid lock never drives a migration (its SQL could be anything): exit 2, as in
    # every command; nor one whose foreign keys no migration could create (SL203 in the lock).
    validity.refuse_invalid(lock, migration=True)
    step_timeouts.check()
    if apply:  # before anything runs or is written, as env.py does
        guards.refuse_pooler(url)
        _refuse_unsafe_target(url, timeouts)
    connection = db.connect(url, "fix")
    try:
        # Started once connected (connecting imports modules of its own) and over before
        # anything else runs, however the read ends: no two threads import at once.
        importing = overlap.Started(_import_planner, "import")
        schemas = list(lock.database.schemas)
        # One read for the report and the plan, and the fingerprint of that very schema,
        # which the revision checks before it changes anything.
        try:
            live, comparison, fingerprint = _read(connection, timeouts, lock, schemas)
        finally:
            importing.wait()
        importing.result()
        report = verify(lock, url, timeouts, data=False, read=Reading(connection, live, comparison))
        if report.inconclusive:
            first = report.inconclusive[0]
            raise Inconclusive(first.rule, f"verify could not finish: {first.reason}")
        # Checked once the database answered; a fresh environment is made only with a revision.
        directory = environment.locate(migrations)
        # Under the read timeouts: a version table another session locks is inconclusive.
        with db.read_only(connection, timeouts, "fix"):
            pending = _pending(directory, connection, lock, replace, apply)
        if pending is not None and not replace:  # reviewed, unapplied: applied as written
            connection.close()
            return _apply_reviewed(pending, report, directory, url, say, log)
        plan = _plan(connection, timeouts, lock, live, comparison, orphans)
    finally:
        connection.close()
    if plan.refusals and (all_or_nothing or not plan.steps):
        raise Refused(_refusal_heading(plan), _refusal_details(plan))
    outcome = Outcome(plan, report)
    if pending is not None:
        pending.unlink()
        say(f"removed {pending}: it was never applied, and is planned again here")
    if not plan.steps:
        return outcome
    steps = f"{len(plan.steps)} step(s) of drift from {lock.path}"
    summary = f"{environment.SCHEMALOCK_MARK}{steps} (lock sha256 {lock.sha256[:LOCK_DIGITS]})"
    guard_sql = guards.fingerprint_check_sql(schemas, fingerprint)
    from schemalock.fix.revision import write

    outcome.revision = write(directory, plan, summary, guard_sql, step_timeouts)
    say(f"wrote {outcome.revision}")
    if apply and (partial or not plan.refusals):
        for line in plan.summary():  # what --apply consents to, said before it runs
            say(line)
        run_upgrade(directory, url, log)
        outcome.applied = True
    if plan.refusals:  # exit 5, once the caller has told what was written
        outcome.left_out = Refused(_partial_heading(outcome, apply), _refusal_details(plan))
    return outcome


# How much of the lock's sha256 a revision records: enough to tell versions of one lock apart.
LOCK_DIGITS = 16


def _read(
    connection: psycopg.Connection[Any], timeouts: db.Timeouts, lock: Lock, schemas: list[str]
) -> tuple[Database, Comparison, str]:
    """The database as verify reads it, its comparison with the lock, and the fingerprint of
    its schema, from one snapshot, read again if another session's DDL met the read."""

    def read(conn: psycopg.Connection[Any]) -> tuple[Database, Comparison, str]:
        # What verify reads: what it reports in other schemas, fix names as left alone.
        live = introspect.everything(conn, tuple(schemas), lock.settings.ignores_schema)

        # The server computes the fingerprint (a second at 5,000 tables) while this process
        # compares (as long again): the comparison needs no connection.
        comparison, fingerprint = overlap.beside(
            lambda: guards.fingerprint(conn, schemas),
            lambda: compare(lock.database, live, lock.settings),
            "fingerprint",
        )
        return live, comparison, fingerprint

    return introspect.consistent_read(connection, timeouts, read)


def _import_planner() -> None:
    """Import what plans and writes a revision: Alembic and SQLAlchemy, a third of a second
    that runs while the process waits for the catalog's answers."""
    import schemalock.fix.plan
    import schemalock.fix.revision  # noqa: F401


def _plan(
    connection: psycopg.Connection[Any],
    timeouts: db.Timeouts,
    lock: Lock,
    live: Database,
    comparison: Comparison,
    orphans: Orphans,
) -> Plan:
    """The plan from the comparison of the lock with the database as read."""
    from schemalock.fix import plan as planning
    from schemalock.fix.plan import Planner

    probe = Probe(connection, timeouts)
    planner = Planner(
        lock, live, Prover(connection, timeouts), orphans, _orphan_counter(probe, live)
    )
    plan = planning.build(planner, comparison)
    probe.close()
    if probe.inconclusive:
        raise Inconclusive("fix", probe.inconclusive[0].reason)
    return plan


def _refusal_heading(plan: Plan) -> str:
    return "fix refuses: the data or the database forbids " + (
        "this step:" if len(plan.refusals) == 1 else "these steps:"
    )


def _refusal_details(plan: Plan) -> tuple[str, ...]:
    left_out = tuple(f"left out: {line}" for line in plan.left_out)
    return (*plan.refusals, *left_out)


def _partial_heading(outcome: Outcome, apply: bool) -> str:
    """What became of a partial plan: written, applied or not, and why it is exit 5."""
    if outcome.applied:
        done = f"applied {outcome.revision}, a partial repair"
    elif apply:
        done = (
            f"wrote {outcome.revision}, a partial repair, and did not apply it: "
            "`fix --apply --partial` applies it"
        )
    else:
        done = f"wrote {outcome.revision}, a partial repair"
    return (
        f"{done}; the data or the database forbids these steps, left out with what depends on them:"
    )


def _apply_reviewed(
    revision: Path,
    report: Report,
    directory: Path,
    url: str,
    say: Callable[[str], None],
    log: bool,
) -> Outcome:
    """Apply the revision fix wrote earlier and the user reviewed, as it is: its own guards
    refuse if the schema changed since it was planned."""
    say(f"applying {revision}, written earlier and not yet applied")
    from schemalock.fix.plan import Plan

    run_upgrade(directory, url, log)
    return Outcome(Plan(), report, revision, applied=True)


def _refuse_unsafe_target(url: str, timeouts: db.Timeouts) -> None:
    """Refused now, before a revision is written that could not be applied: a pooler or a
    connection that cannot prove its session is its own, a replica, a read-only server, a
    migration already running.  What these statements meet is inconclusive."""
    connection = db.connect(url, "fix")
    try:
        with db.inconclusive_errors("fix --apply", timeouts):
            guards.refuse_unsafe_target(url, connection)
            guards.refuse_busy(connection)
    finally:
        connection.close()


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


def _pending(
    directory: Path,
    connection: psycopg.Connection[Any],
    lock: Lock,
    replace: bool,
    apply: bool,
) -> Path | None:
    """The revision written but not applied to this database, if it is one schemalock wrote
    and may be planned again (`replace`) or applied as reviewed (`apply`, planned from this
    very lock); any other unapplied revision is refused."""
    head = environment.head(directory)
    at = environment.applied(connection)
    if head is None or head in (at or "").split(", "):
        return None
    path = environment.revision_path(directory, head)
    ours = path is not None and environment.written_by_schemalock(path)
    if ours and path is not None and (replace or (apply and _planned_from(path, lock))):
        return path
    if ours and apply:
        advice = (
            "it was planned from another version of the lock: `fix --replace` plans it again "
            "from the database as it is now"
        )
    elif ours:
        advice = (
            "`fix --apply` applies it as written, `fix --replace` plans it again from the "
            "database as it is now"
        )
    else:
        advice = "it is not one schemalock wrote, so --replace leaves it alone"
    raise Refused(
        f"revision {head} in {directory} is not applied to this database (it is at "
        f"{at or 'no revision'}): apply it (`alembic upgrade head`) or remove it; {advice}"
    )


def _planned_from(revision: Path, lock: Lock) -> bool:
    """Whether `revision` records this lock's sha256 (fix writes it into the summary line)."""
    marker = f"(lock sha256 {lock.sha256[:LOCK_DIGITS]})"
    return marker in revision.read_text(encoding="utf-8").partition("\n")[0]


def run_upgrade(directory: Path, url: str, log: bool = True) -> None:
    """`alembic upgrade head` behind the guards: no pooler, no replica, one run at a time, and
    the revision's own fingerprint check refuses a schema that changed since planning."""
    connection = db.connect(url, "fix")
    try:
        # What the guards' own statements meet (a lost connection, a timeout) is inconclusive;
        # the upgrade's failures come out of _upgrade already explained.
        with db.inconclusive_errors("fix --apply", db.Timeouts()):
            guards.refuse_unsafe_target(url, connection)
            # Held here, around any env.py; ours sees this session holds it and goes on.
            with guards.advisory_lock(connection):
                _upgrade(directory, url, log)
    finally:
        connection.close()


def _upgrade(directory: Path, url: str, log: bool) -> None:
    from alembic import command

    db.track_pool_connections()  # SIGINT and SIGTERM cancel env.py's statements too
    try:
        command.upgrade(environment.config(directory, url, log), "head")
    except Exception as error:  # a refusal, the server's or the revision's own guards'
        raise failures.explain(error, url) from None
