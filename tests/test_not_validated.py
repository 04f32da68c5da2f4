"""What a repair leaves must be seen: constraints added NOT VALID (by `fix` itself, or by a
two-step migration whose second step never ran), on a real PostgreSQL.

A NOT VALID check is reported (check-not-validated, structure) and the rows that break it are
counted (check-violations, a row check: skipped by --no-data); `snapshot` writes
`validated: false` for NOT VALID checks and foreign keys, so a fresh snapshot verifies without
a structural finding; `fix` validates a NOT VALID check once it has proven no row breaks it,
leaves it NOT VALID with a note while rows do, and leaves alone what the lock marks
`validated: false`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conftest import execute, query, run_cli
from test_fix import _fix, _revisions
from test_fix_convergence import checksums, edit
from test_roundtrip import snapshot

pytestmark = pytest.mark.db

SCHEMA = """
CREATE TABLE jobs (id int PRIMARY KEY, results_count int, kind text);
CREATE TABLE runs (id int PRIMARY KEY, job_id int);
CREATE INDEX runs_job_id_idx ON runs (job_id);
INSERT INTO jobs VALUES (1, 4, 'scrape'), (2, 0, 'scrape'), (3, NULL, 'export');
INSERT INTO runs VALUES (10, 1), (11, 2);
"""
CHECK = "ALTER TABLE jobs ADD CONSTRAINT results_nonnegative CHECK (results_count >= 0)"
FOREIGN_KEY = (
    "ALTER TABLE runs ADD CONSTRAINT runs_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs (id)"
)
# Rows written before the NOT VALID constraints, breaking them.
BREAKING = (
    "INSERT INTO jobs VALUES (4, -1, 'scrape'), (5, -7, 'export'); INSERT INTO runs VALUES (12, 99)"
)


def _verify(url: str, lock: Path, *options: str) -> tuple[int, dict[str, Any]]:
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", url, "--format", "json",
        "--fail-on", "info", *options,
    )  # fmt: skip
    return result.exit_code, json.loads(result.stdout)


def _rules(report: dict[str, Any]) -> list[str]:
    return sorted(f["rule"] for f in report["findings"])


def _validated(url: str, name: str) -> bool:
    [(validated,)] = query(url, "SELECT convalidated FROM pg_constraint WHERE conname = %s", [name])
    return bool(validated)


def _locked(url: str, tmp_path: Path, after: str = "") -> Path:
    """SCHEMA with its check and foreign key (validated), snapshotted; then `after` runs."""
    execute(url, SCHEMA + f"{CHECK}; {FOREIGN_KEY};")
    lock = tmp_path / "schema_lock.yaml"
    snapshot(url, lock)
    if after:
        execute(url, after)
    return lock


def _made_not_valid(breaking: bool) -> str:
    """The check and the key dropped, rows written (breaking them or not), and both added
    again NOT VALID: what a two-step migration leaves when its VALIDATE never ran."""
    rows = BREAKING if breaking else "INSERT INTO jobs VALUES (4, 9, 'scrape')"
    return (
        "ALTER TABLE jobs DROP CONSTRAINT results_nonnegative;"
        " ALTER TABLE runs DROP CONSTRAINT runs_job_id_fkey;"
        f" {rows}; {CHECK} NOT VALID; {FOREIGN_KEY} NOT VALID;"
    )


# --- verify ---------------------------------------------------------------------------------


def test_a_not_valid_check_is_reported_with_the_rows_that_break_it(
    database: str, tmp_path: Path
) -> None:
    """Before: "No findings" for the check (only fk-not-validated and fk-orphans)."""
    lock = _locked(database, tmp_path, _made_not_valid(breaking=True))
    code, report = _verify(database, lock)
    assert code == 1
    assert _rules(report) == [
        "check-not-validated", "check-violations", "fk-not-validated", "fk-orphans",
    ]  # fmt: skip
    by_rule = {f["rule"]: f for f in report["findings"]}
    structural = by_rule["check-not-validated"]
    assert structural["constraint"] == "results_nonnegative"
    assert structural["category"] == "integrity"
    assert structural["code"] == "SL205"
    assert "NOT VALID" in structural["message"]
    rows = by_rule["check-violations"]
    assert rows["code"] == "SL206"
    assert rows["count"] == 2  # -1 and -7; NULL passes a check, as in PostgreSQL
    assert sorted(rows["samples"]) == ["4", "5"]
    assert "2 rows of public.jobs break check results_nonnegative" in rows["message"]
    assert report["inconclusive"] == []


def test_no_data_reports_the_check_without_reading_rows(database: str, tmp_path: Path) -> None:
    lock = _locked(database, tmp_path, _made_not_valid(breaking=True))
    code, report = _verify(database, lock, "--no-data")
    assert code == 1
    assert _rules(report) == ["check-not-validated", "fk-not-validated"]


def test_a_not_valid_check_over_clean_rows_is_reported_without_a_count(
    database: str, tmp_path: Path
) -> None:
    lock = _locked(database, tmp_path, _made_not_valid(breaking=False))
    code, report = _verify(database, lock)
    assert code == 1
    assert _rules(report) == ["check-not-validated", "fk-not-validated"]


def test_a_check_calling_code_outside_pg_catalog_is_never_run(
    database: str, tmp_path: Path
) -> None:
    """Counting rows would run the function: the row check is inconclusive (the reason
    named; exit 4 alone), the structural finding stands.  The function raises if it ever
    runs."""
    execute(
        database,
        "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, -1);"
        " CREATE FUNCTION public.positive(x int) RETURNS boolean LANGUAGE sql IMMUTABLE"
        " AS $$ SELECT x > 0 $$;"
        " ALTER TABLE t ADD CONSTRAINT t_v_positive CHECK (public.positive(v)) NOT VALID;"
        " CREATE OR REPLACE FUNCTION public.positive(x int) RETURNS boolean LANGUAGE plpgsql"
        " AS $$ BEGIN RAISE EXCEPTION 'positive() ran'; END $$;",
    )
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(database, lock)
    lock.write_text(edit(text, (", validated: false}", "}")), encoding="utf-8")
    code, report = _verify(database, lock)
    assert code == 1, (report["findings"], report["inconclusive"])
    assert _rules(report) == ["check-not-validated"]
    [inconclusive] = report["inconclusive"]
    assert inconclusive["rule"] == "check-violations"
    assert "function positive(integer)" in inconclusive["reason"]
    assert "outside pg_catalog" in inconclusive["reason"]
    code, _ = _verify(database, lock, "--select", "check-violations")
    assert code == 4


def test_a_no_inherit_check_counts_the_rows_of_its_own_table_only(
    database: str, tmp_path: Path
) -> None:
    """A legacy inheritance parent meant to take no rows of its own: its children's rows do
    not break its NO INHERIT check, its own row does."""
    execute(
        database,
        "CREATE TABLE readings (id int, value numeric);"
        " CREATE TABLE readings_2026 () INHERITS (readings);"
        " INSERT INTO readings_2026 VALUES (1, 2.5), (2, NULL);"
        " INSERT INTO readings VALUES (3, 1);"
        " ALTER TABLE readings ADD CONSTRAINT no_rows_here CHECK (false) NO INHERIT NOT VALID",
    )
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(database, lock)
    lock.write_text(edit(text, (", validated: false}", "}")), encoding="utf-8")
    code, report = _verify(database, lock)
    assert code == 1
    assert _rules(report) == ["check-not-validated", "check-violations"]
    assert [f["count"] for f in report["findings"] if f["rule"] == "check-violations"] == [1]


def test_sampling_estimates_the_rows_that_break_a_check(database: str, tmp_path: Path) -> None:
    lock = _locked(database, tmp_path, _made_not_valid(breaking=True))
    code, report = _verify(database, lock, "--sample", "100", "--select", "check-violations")
    assert code == 1
    [finding] = report["findings"]
    assert finding["estimated"] is True
    assert finding["count"] == 2


# --- snapshot and the lock ------------------------------------------------------------------


@pytest.mark.parametrize("breaking", [False, True], ids=["clean-rows", "breaking-rows"])
def test_a_fresh_snapshot_says_what_is_not_validated(
    database: str, tmp_path: Path, breaking: bool
) -> None:
    """Before: the snapshot wrote neither mark, and fk-not-validated fired against a lock
    snapshotted from that very database.  The marks silence the structural findings; rows
    that break the constraints are still counted (data, not structure)."""
    execute(database, SCHEMA + f"{CHECK}; {FOREIGN_KEY};" + _made_not_valid(breaking))
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(database, lock)
    assert "results_nonnegative: {expression: results_count >= 0, validated: false}" in text
    assert re.search(r"runs_job_id_fkey:\n(\s+.*\n)*?\s+validated: false\n", text), text
    code, report = _verify(database, lock, "--no-data")
    assert (code, report["findings"]) == (0, [])
    code, report = _verify(database, lock)
    expected = ["check-violations", "fk-orphans"] if breaking else []
    assert _rules(report) == expected
    if breaking:
        [rows] = [f for f in report["findings"] if f["rule"] == "check-violations"]
        assert "NOT VALID, as the lock says" in rows["message"]
    # The lock reads back to the same text: the marks round-trip.
    again = tmp_path / "again.yaml"
    assert snapshot(database, again) == text
    # A validated constraint satisfies a lock that allows it NOT VALID.
    execute(
        database,
        "UPDATE jobs SET results_count = 0 WHERE results_count < 0; DELETE FROM runs"
        " WHERE job_id = 99; ALTER TABLE jobs VALIDATE CONSTRAINT results_nonnegative;"
        " ALTER TABLE runs VALIDATE CONSTRAINT runs_job_id_fkey",
    )
    code, report = _verify(database, lock)
    assert (code, report["findings"]) == (0, [])


# --- fix ------------------------------------------------------------------------------------


def test_fix_validates_a_not_valid_check_no_row_breaks(database: str, tmp_path: Path) -> None:
    """Before: "nothing to repair" for the check (only the key was validated)."""
    lock = _locked(database, tmp_path, _made_not_valid(breaking=False))
    rows = checksums(database)
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    [revision] = _revisions(migrations)
    assert "VALIDATE CONSTRAINT results_nonnegative" in revision.read_text(encoding="utf-8")
    assert _validated(database, "results_nonnegative")
    assert _validated(database, "runs_job_id_fkey")
    code, report = _verify(database, lock)
    assert (code, report["findings"]) == (0, [])
    assert checksums(database) == rows
    again = _fix(database, lock, migrations)
    assert again.exit_code == 0, again.stderr
    assert again.stdout.startswith("nothing to repair"), again.stdout
    assert _revisions(migrations) == [revision]


def test_fix_leaves_a_check_rows_break_not_valid_and_says_so(database: str, tmp_path: Path) -> None:
    lock = _locked(database, tmp_path, _made_not_valid(breaking=True))
    rows = checksums(database)
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "nothing to repair" not in result.stdout
    notes = [line for line in result.stdout.splitlines() if "results_nonnegative" in line]
    assert notes, result.stdout
    assert "2 rows break check results_nonnegative (keys: 4, 5)" in notes[0], notes
    assert "stays NOT VALID" in notes[0]
    assert not _validated(database, "results_nonnegative")
    assert checksums(database) == rows
    _, report = _verify(database, lock)
    assert "check-not-validated" in _rules(report)  # what the repair left is seen
    execute(database, "UPDATE jobs SET results_count = 0 WHERE results_count < 0")
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert _validated(database, "results_nonnegative")


def test_fix_adds_a_missing_check_rows_break_and_it_is_reported(
    database: str, tmp_path: Path
) -> None:
    """fix adds the check NOT VALID and asks for VALIDATE later; verify then reports it."""
    lock = _locked(
        database,
        tmp_path,
        "ALTER TABLE jobs DROP CONSTRAINT results_nonnegative;"
        " INSERT INTO jobs VALUES (4, -1, 'scrape')",
    )
    result = _fix(database, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert not _validated(database, "results_nonnegative")
    code, report = _verify(database, lock)
    assert code == 1
    assert _rules(report) == ["check-not-validated", "check-violations"]
    assert report["findings"][1]["count"] == 1


def test_fix_keeps_what_the_lock_marks_not_validated(database: str, tmp_path: Path) -> None:
    """`validated: false`: a NOT VALID check and key stay so, and a missing one is added NOT
    VALID without the VALIDATE (nor any orphan handling)."""
    execute(database, SCHEMA + f"{CHECK}; {FOREIGN_KEY};" + _made_not_valid(breaking=False))
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.stdout.startswith("nothing to repair"), result.stdout
    execute(
        database,
        "ALTER TABLE jobs DROP CONSTRAINT results_nonnegative;"
        " ALTER TABLE runs DROP CONSTRAINT runs_job_id_fkey; INSERT INTO runs VALUES (13, 98)",
    )
    result = _fix(database, lock, migrations, "--apply", "--orphans", "quarantine")
    assert result.exit_code == 0, result.stdout + result.stderr
    [revision] = _revisions(migrations)
    assert "VALIDATE" not in revision.read_text(encoding="utf-8")
    assert not _validated(database, "results_nonnegative")
    assert not _validated(database, "runs_job_id_fkey")
    assert query(database, "SELECT count(*) FROM runs WHERE id = 13") == [(1,)]
    code, report = _verify(database, lock, "--no-data")
    assert (code, report["findings"]) == (0, [])
