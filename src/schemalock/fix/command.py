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
from schemalock.check.verify import verify
from schemalock.compare import compare
from schemalock.errors import Inconclusive, Refused
from schemalock.fix import environment, failures, guards
from schemalock.fix import plan as planning
from schemalock.fix.plan import Orphans, Plan, Planner
from schemalock.fix.proofs import Prover
from schemalock.fix.revision import Timeouts, write
from schemalock.model import ForeignKey, Lock, Table
from schemalock.probe import Probe

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
    replace: bool = False,
    say: Callable[[str], None] = lambda _: None,
    log: bool = True,
) -> Outcome:
    """Plan, prove and write the revision; with `apply`, run it.  `replace`: an unapplied
    revision schemalock wrote earlier (its apply failed, say) is planned again from the
    database as it is now, and its file removed."""
    # An invalid lock never drives a migration (its SQL could be anything): exit 2, as in
    # every command; nor one whose foreign keys no migration could create (SL203 in the lock).
    validity.refuse_invalid(lock, migration=True)
    step_timeouts.check()
    if apply:  # before anything runs or is written, as env.py does
        guards.refuse_pooler(url)
        _refuse_unsafe_target(url, timeouts)
    report = verify(lock, url, timeouts, data=False)
    if report.inconclusive:
        first = report.inconclusive[0]
        raise Inconclusive(first.rule, f"verify could not finish: {first.reason}")
    # Checked once the database answered; a fresh environment is made only with a revision.
    directory = environment.locate(migrations)
    connection = db.connect(url, "fix")
    try:
        # Under the read timeouts: a version table another session locks is inconclusive.
        with db.read_only(connection, timeouts, "fix"):
            stale = _pending(directory, connection, replace)
        schemas = list(lock.database.schemas)
        # One snapshot for both, read again if another session's DDL met the read.
        live, fingerprint = introspect.consistent_read(
            connection,
            timeouts,
            lambda conn: (introspect.introspect(conn, schemas), guards.fingerprint(conn, schemas)),
        )
        probe = Probe(connection, timeouts)
        planner = Planner(
            lock, live, Prover(connection, timeouts), orphans, _orphan_counter(probe, live)
        )
        plan = planning.build(planner, compare(lock.database, live, lock.settings))
        probe.close()
        if probe.inconclusive:
            raise Inconclusive("fix", probe.inconclusive[0].reason)
    finally:
        connection.close()
    if plan.refusals:
        raise Refused(
            "fix refuses: the data or the database forbids "
            + ("this step:" if len(plan.refusals) == 1 else "these steps:"),
            tuple(plan.refusals),
        )
    outcome = Outcome(plan, report)
    if stale is not None:
        stale.unlink()
        say(f"removed {stale}: it was never applied, and is planned again here")
    if not plan.steps:
        return outcome
    summary = f"{environment.SCHEMALOCK_MARK}{len(plan.steps)} step(s) of drift from {lock.path}"
    guard_sql = guards.fingerprint_check_sql(schemas, fingerprint)
    outcome.revision = write(directory, plan, summary, guard_sql, step_timeouts)
    say(f"wrote {outcome.revision}")
    if apply:
        for line in plan.summary():  # what --apply consents to, said before it runs
            say(line)
        run_upgrade(directory, url, log)
        outcome.applied = True
    return outcome


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


def _pending(directory: Path, connection: psycopg.Connection[Any], replace: bool) -> Path | None:
    """A revision written but not applied would be planned again: refused, unless `replace`
    asks to plan it again and it is one schemalock wrote (its file, to remove)."""
    head = environment.head(directory)
    at = environment.applied(connection)
    if head is None or head in (at or "").split(", "):
        return None
    path = environment.revision_path(directory, head)
    ours = path is not None and environment.written_by_schemalock(path)
    if replace and ours:
        return path
    advice = (
        "`fix --replace` plans it again from the database as it is now"
        if ours
        else "it is not one schemalock wrote, so --replace leaves it alone"
    )
    raise Refused(
        f"revision {head} in {directory} is not applied to this database (it is at "
        f"{at or 'no revision'}): apply it (`alembic upgrade head`) or remove it; {advice}"
    )


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
