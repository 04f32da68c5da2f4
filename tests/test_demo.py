"""`schemalock demo` tells the seed database's story: demo.sql plants exactly the open problems of
the seed document, verify reports each of them and nothing else, and the demo says so; then a
pull request weakens the lock and the guard (`diff --base main`) catches exactly that."""

from __future__ import annotations

import io
import json
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from conftest import Server, execute, query, run_cli, scratch_database
from schemalock.app.demo import LOCK_NAME, build_seed_database, seed_file, tell_story
from schemalock.app.demo_story import (
    CAUGHT,
    STORY,
    Observed,
    active_rules,
    check_story,
    pull_request,
)
from schemalock.check.findings import Severity
from schemalock.guard import Version, diff
from schemalock.lock import load_lock, parse_lock

SEED = Path(__file__).resolve().parents[1] / "src" / "schemalock" / "seed"


def _verify_seed(database: str, drift: str = "") -> tuple[list[Observed], set[str]]:
    """verify's findings on the seed database, `drift` run on it first (as the JSON report
    gives them), and the rules that can report on the seed lock."""
    findings, active = _seed_report(database, drift)
    fields = ("rule", "table", "column", "count", "constraint")
    return [tuple(f[name] for name in fields) for f in findings], active


def _seed_report(database: str, drift: str = "") -> tuple[list[dict[str, Any]], set[str]]:
    """verify's JSON findings on the seed database once `drift` ran on it, and the rules that
    can report on the seed lock."""
    build_seed_database(database)
    if drift:
        execute(database, drift)
    with seed_file(LOCK_NAME) as lock:
        result = run_cli(
            "verify", "--lock", str(lock), "--database-url", database, "--format", "json"
        )
        active = active_rules(load_lock(str(lock)))
    assert result.exit_code == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["inconclusive"] == []
    return report["findings"], active


@pytest.mark.db
def test_the_seed_database_has_exactly_the_documented_problems(database: str) -> None:
    found, active = _verify_seed(database)
    outcomes, unexplained = check_story(found, active)
    # Each expectation claimed a finding of its own, equal in rule, table, column and count.
    missing = {o.problem.key or o.problem.title: o.missing for o in outcomes if o.missing}
    assert missing == {}
    # Anything here means demo.sql disagrees with the lock: fix demo.sql, not the lock.
    assert unexplained == []
    assert {o.problem.key: o.status for o in outcomes} == {
        p.key: "found" if any(e.rule in active for e in p.expect) else "coming" for p in STORY
    }
    assert sum(len(o.findings) for o in outcomes) == len(found)


@pytest.mark.db
def test_the_flow_problems_are_planted_once(database: str) -> None:
    """Problems e to h, which flow invariants report, hold in the rows whether or not the lock
    declares flows yet: one organization, job or event each."""
    build_seed_database(database)
    checks = {
        "e: quota_used is not the sum of quota_usage": """
            SELECT count(*) FROM organizations o
            WHERE o.quota_used <> (SELECT coalesce(sum(u.usage_amount), 0)
                                   FROM quota_usage u WHERE u.org_id = o.id)""",
        "f: running for over an hour": """
            SELECT count(*) FROM jobs
            WHERE status = 'running' AND created_at < now() - interval '1 hour'""",
        "g: unprocessed for over 15 minutes": """
            SELECT count(*) FROM webhook_events
            WHERE NOT processed AND created_at < now() - interval '15 minutes'""",
        "h: completed without a quota_usage row": """
            SELECT count(*) FROM jobs j
            WHERE j.status = 'completed' AND j.completed_at IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM quota_usage u WHERE u.job_id = j.id)""",
        "h, the variant not planted: completed without completed_at": """
            SELECT count(*) FROM jobs WHERE status = 'completed' AND completed_at IS NULL""",
    }
    counts = {name: query(database, sql)[0][0] for name, sql in checks.items()}
    assert counts == {name: 0 if "not planted" in name else 1 for name in checks}


# -- the quota flow: the seed lock's trigger and function, in the seed database ---------------

KESTREL_LABS = "83b7f93e-224a-45aa-a572-a11c10e1875c"


@pytest.mark.db
def test_the_quota_flow_charges_each_usage_row_logged(database: str) -> None:
    """Flow 3 in the seed database: logging a usage row raises its organization's quota_used
    by its amount, in the same statement, and no other organization's; deleting the row gives
    nothing back (the flow runs one way)."""
    build_seed_database(database)

    def quotas() -> dict[object, object]:
        rows = query(database, "SELECT id::text, quota_used FROM organizations")
        return {organization: quota for organization, quota in rows}

    before = quotas()
    execute(
        database,
        "INSERT INTO quota_usage (org_id, usage_amount, usage_type) "
        f"VALUES ('{KESTREL_LABS}', 5, 'analysis')",
    )
    charged = quotas()
    assert charged == {**before, KESTREL_LABS: 6}  # Kestrel Labs had used 1 credit
    execute(database, "DELETE FROM quota_usage WHERE usage_amount = 5 AND job_id IS NULL")
    assert quotas() == charged


# Drift of the quota flow in the seed database, and the one finding verify owes each.
QUOTA_FLOW_DRIFT = {
    "trigger dropped": (
        "DROP TRIGGER quota_usage_charges_quota ON quota_usage",
        ("missing-trigger", "quota_usage", "quota_usage_charges_quota:"),
    ),
    "trigger disabled by a bulk load": (
        "ALTER TABLE quota_usage DISABLE TRIGGER quota_usage_charges_quota",
        ("trigger-changed", "quota_usage", "quota_usage_charges_quota:"),
    ),
    "function rewritten": (
        "CREATE OR REPLACE FUNCTION charge_quota_usage() RETURNS trigger LANGUAGE plpgsql "
        "AS $$ BEGIN RETURN NULL; END $$",
        ("function-changed", None, "charge_quota_usage():"),
    ),
}


@pytest.mark.db
@pytest.mark.parametrize("drift", sorted(QUOTA_FLOW_DRIFT))
def test_the_seed_lock_verifies_the_quota_flow(database: str, drift: str) -> None:
    """The seed lock's function and trigger are compared with the seed database's: each drift
    is the story's findings and one more, from its rule, at its declaration in the lock."""
    statement, (rule, table, declaration) = QUOTA_FLOW_DRIFT[drift]
    findings, active = _seed_report(database, statement)
    fields = ("rule", "table", "column", "count", "constraint")
    outcomes, unexplained = check_story(
        [tuple(f[name] for name in fields) for f in findings], active
    )
    assert [o.missing for o in outcomes if o.missing] == []
    [extra] = [f for f in findings if (f["rule"], f["table"]) == (rule, table)]
    assert [(r, t) for r, t, *_ in unexplained] == [(rule, table)]
    lock_lines = (SEED / LOCK_NAME).read_text(encoding="utf-8").splitlines()
    assert lock_lines[int(str(extra["lock_line"])) - 1].strip().startswith(declaration)


@pytest.mark.db
def test_a_snapshot_of_the_seed_database_spells_the_quota_flow_as_the_lock(
    database: str, tmp_path: Path
) -> None:
    """What `snapshot` writes for the seed database's function and trigger is what the seed
    lock declares, and neither holds a view."""
    build_seed_database(database)
    written = tmp_path / "snapshot.yaml"
    result = run_cli("snapshot", "--database-url", database, "-o", str(written))
    assert result.exit_code == 0, result.stdout + result.stderr
    snapshot = yaml.safe_load(written.read_text(encoding="utf-8"))
    seed = yaml.safe_load((SEED / LOCK_NAME).read_text(encoding="utf-8"))
    assert snapshot["functions"] == seed["functions"]
    assert snapshot["triggers"] == seed["triggers"]
    assert "views" not in snapshot
    assert "views" not in seed


def test_check_story_tells_found_missing_and_coming() -> None:
    everything = [
        (e.rule, e.table, e.column, e.count, e.constraint) for p in STORY for e in p.expect
    ]
    active = {e.rule for p in STORY for e in p.expect}
    outcomes, unexplained = check_story(everything, active)
    assert {o.status for o in outcomes} == {"found"}
    assert unexplained == []

    outcomes, unexplained = check_story(
        [*everything[1:], ("extra-table", "t", None, None, None)], active
    )
    assert outcomes[0].status == "MISSING"
    assert outcomes[0].missing == [STORY[0].expect[0]]
    assert unexplained == [("extra-table", "t", None, None, None)]

    outcomes, unexplained = check_story(everything, set())
    assert {o.status for o in outcomes} == {"coming"}
    assert len(unexplained) == len(everything)  # nothing is claimed for a rule not active


def _assert_the_story_is_told(out: str) -> None:
    """What the demo prints from its verify (step 2) to its second verify (step 5): every
    problem found, the repair applied, and what the quarantine changed in the flows."""
    for problem in STORY:
        assert problem.title in out, problem.title
    for rule in ("miswired-reference", "fk-orphans", "mock-data", "duplicate-table"):
        assert rule in out, rule
    assert "MISSING" not in out
    assert out.index("2. verify") < out.index("SL302") < out.index("3. What it found")
    # The repair: fix writes and applies the revision, and verify ends green.
    repair = out[out.index("4. fix") :]
    assert "convert public.jobs.org_id to uuid" in repair
    assert "quarantine 3 orphans of quota_usage_job_id_fkey" in repair
    assert "Structure and integrity are clean" in repair
    after = repair[repair.index("5. verify again") :]
    assert not {"SL105", "SL109", "SL201", "SL503"} & set(re.findall(r"SL\d{3}", after))
    # What the quarantine changed in the flows is told, from the findings themselves: each
    # orphan usage row was the only one of its day's rollup.
    told = " ".join(after.split())
    assert "rollups_match_usage now fails for 3 rows of usage (it was 0)" in told
    assert "quota_used_is_the_sum_of_usage now fails for 2 rows of organizations" in told


def _assert_the_guard_caught_the_pull_request(out: str) -> None:
    """Step 6: the pull request that weakens the lock, and the guard's report of it."""
    assert "$ schemalock diff --base main" in out
    for message in CAUGHT:
        assert message in out, message
    assert "5 regressions, 0 progress, 0 other changes since main:schema_lock.yaml" in out
    # A removal points at main's lock, a change at the branch's.
    assert re.search(r"removed  \[lock-regression main:schema_lock\.yaml:\d+\]", out)
    assert re.search(r"uuid values  \[lock-regression schema_lock\.yaml:\d+\]", out)
    assert "Exit 1" in out


def test_the_pull_request_is_exactly_what_the_guard_catches() -> None:
    """Without a database or git: the seed lock and the pull request's, compared."""
    seed = (SEED / LOCK_NAME).read_text(encoding="utf-8")
    base = Version(parse_lock(seed, str(SEED / LOCK_NAME)), seed)
    changed = pull_request(seed)
    new = Version(parse_lock(changed, str(SEED / LOCK_NAME)), changed)
    report = diff(new, base, "main:schema_lock.yaml", date(2026, 1, 1))
    assert sorted(f.message for f in report.findings) == sorted(CAUGHT)
    assert {f.rule for f in report.findings} == {"lock-regression"}
    assert report.failed(Severity.ERROR)


@pytest.mark.db
def test_demo_tells_the_story() -> None:
    result = run_cli("demo", "--keep")
    kept = re.search(r"kept\s+in\s+(\S+):", result.stdout)
    try:
        assert result.exit_code == 0, result.stdout + result.stderr
        out = result.stdout
        _assert_the_story_is_told(out[: out.index("6. The guard")])
        _assert_the_guard_caught_the_pull_request(out[out.index("6. The guard") :])
        assert out.index("6. The guard") < out.index("7. What comes next")
        assert "INFO  [alembic" not in result.stdout + result.stderr  # Alembic's log stays off
        assert kept is not None
        assert {p.name for p in Path(kept[1]).iterdir()} >= {LOCK_NAME, "demo.sql"}
    finally:
        if kept is not None:
            shutil.rmtree(kept[1], ignore_errors=True)


# Each zone sees one of the instants between 00:00 and 04:00 of its own day: there, rows
# dated "now() - 5 days 23 hours" and "now() - 6 days" in the session's zone once shared a
# day, and the quarantine changed 2 rollups instead of 3 (UTC at 00:30, Moscow at 00:30 and
# 23:59, Honolulu at 12:00).
@pytest.mark.db
@pytest.mark.parametrize("zone", ["UTC", "Europe/Moscow", "Pacific/Honolulu"])
@pytest.mark.parametrize(
    "instant",
    ["2025-01-01T00:30:00+00:00", "2025-06-15T12:00:00+00:00", "2025-10-26T23:59:00+00:00"],
)
def test_the_story_is_the_same_at_any_hour_in_any_zone(
    pg_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instant: str, zone: str
) -> None:
    """The whole story (build, verify, quarantine, verify again) told at fixed instants of the
    demo's clock, with every session of the build, verify and fix in `zone` (PGTZ)."""
    monkeypatch.setenv("PGTZ", zone)
    printed = io.StringIO()
    console = Console(file=printed, width=100, highlight=False)
    with scratch_database(pg_server, "sl_story") as name:
        url = pg_server.url_for(name)
        assert query(url, "SHOW TimeZone") == [(zone,)]  # the sessions really are in `zone`
        code = tell_story(console, url, tmp_path / "migrations", datetime.fromisoformat(instant))
    out = printed.getvalue()
    assert code == 0, out
    _assert_the_story_is_told(out[: out.index("6. The guard")])
    _assert_the_guard_caught_the_pull_request(out[out.index("6. The guard") :])


@pytest.mark.db
def test_the_seed_rows_keep_their_days_at_any_hour(pg_server: Server) -> None:
    """Built as of 00:30 and as of 23:59 of one UTC day, the usage rows and their rollups
    fall on the same days before the clock's: only the live rows move with its hour."""

    def days(now: datetime) -> list[tuple[object, ...]]:
        with scratch_database(pg_server, "sl_seed") as name:
            url = pg_server.url_for(name)
            build_seed_database(url, now)
            return query(
                url,
                """SELECT 'usage', org_id, usage_type, date_trunc('day', "timestamp", 'UTC')
                          - date_trunc('day', %s::timestamptz, 'UTC')
                   FROM quota_usage
                   UNION ALL
                   SELECT 'rollup', org_id, usage_type, period_start
                          - date_trunc('day', %s::timestamptz, 'UTC')
                   FROM usage
                   ORDER BY 1, 2, 3, 4""",
                [now, now],
            )

    assert days(datetime(2025, 3, 9, 0, 30, tzinfo=UTC)) == days(
        datetime(2025, 3, 9, 23, 59, tzinfo=UTC)
    )


def test_the_demo_clock_is_an_instant() -> None:
    with pytest.raises(ValueError, match="needs a time zone"):
        build_seed_database("postgresql://unused", datetime(2025, 1, 1, 12, 0))
