"""Baselines: a ratchet on data findings, on a real PostgreSQL.

`schemalock baseline` records today's counts; `verify --baseline` passes while no count grows
and no finding is new, tells counts that fell, and `--update-baseline` lowers them (never
raises one); a structure finding is never hidden.  The file is deterministic JSON; a bad one
exits 2 in one line naming it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import execute, lock_held, run_cli, write
from schemalock.check import baseline as baselines
from schemalock.check.findings import Category, Finding, Report, Severity
from schemalock.rules.columns import ColumnTypeMismatch
from schemalock.rules.data import MockData
from schemalock.rules.integrity import FkOrphans
from test_roundtrip import snapshot

SCHEMA = """
CREATE TABLE jobs (id int PRIMARY KEY);
CREATE TABLE runs (id int PRIMARY KEY, job_id int);
CREATE INDEX runs_job_id_idx ON runs (job_id);
INSERT INTO jobs VALUES (1);
INSERT INTO runs VALUES (10, 1), (11, 97), (12, 98), (13, 99);
ALTER TABLE runs ADD CONSTRAINT runs_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs (id)
    NOT VALID;
"""
# More orphans get past a NOT VALID key only with the key out of the way, as before it.
MORE_ORPHANS = """
ALTER TABLE runs DROP CONSTRAINT runs_job_id_fkey;
INSERT INTO runs VALUES (14, 96);
ALTER TABLE runs ADD CONSTRAINT runs_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs (id)
    NOT VALID;
"""
KEY = "public.runs.job_id"


def _recorded(path: Path) -> dict[str, dict[str, int]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "schemalock-baseline/1"
    counts: dict[str, dict[str, int]] = document["counts"]
    return counts


def _setup(url: str, tmp_path: Path) -> tuple[str, Path]:
    """The database with three orphans, its lock (a snapshot: `validated: false`), and the
    baseline `schemalock baseline` wrote of it."""
    execute(url, SCHEMA)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(url, lock)
    path = tmp_path / "schemalock-baseline.json"
    result = run_cli("baseline", "--lock", str(lock), "--database-url", url, "-o", str(path))
    assert result.exit_code == 0, result.stderr
    assert f"wrote {path}: 1 count(s)" in result.stderr
    return str(lock), path


def _verify(url: str, lock: str, *options: str) -> tuple[int, dict[str, Any], str]:
    result = run_cli("verify", "--lock", lock, "--database-url", url, "-f", "json", *options)
    assert result.exit_code != 2, result.stderr
    return result.exit_code, json.loads(result.stdout), result.stderr


# --- pure -------------------------------------------------------------------------------------


def _orphans(count: int, column: str = "job_id") -> Finding:
    return FkOrphans().finding("rows", table=("public", "runs"), column=column, count=count)


def test_keys_hold_counted_data_findings_only() -> None:
    assert baselines.key(_orphans(3)) == ("fk-orphans", KEY)
    mock = MockData().finding("rows", table=("public", "Org Names"), column="name", count=2)
    assert baselines.key(mock) == ("mock-data", "public.Org Names.name")
    drift = ColumnTypeMismatch().finding("text", table=("public", "runs"), column="job_id")
    assert baselines.key(drift) is None  # structure: never baselined
    counted_structure = Finding(
        "SL101", "missing-table", Severity.ERROR, Category.STRUCTURE, "m", "public", "t", count=3
    )
    assert baselines.key(counted_structure) is None
    assert baselines.key(FkOrphans().finding("no count", table=("public", "runs"))) is None


def test_the_file_is_deterministic_and_round_trips() -> None:
    report = Report(findings=[_orphans(2), _orphans(1), _orphans(5, "other_id")])
    recorded = baselines.record(report)
    assert recorded.counts == {("fk-orphans", KEY): 3, ("fk-orphans", "public.runs.other_id"): 5}
    text = baselines.render(recorded)
    assert text == baselines.render(baselines.parse(text))
    assert text == (
        "{\n"
        '  "counts": {\n'
        '    "fk-orphans": {\n'
        '      "public.runs.job_id": 3,\n'
        '      "public.runs.other_id": 5\n'
        "    }\n"
        "  },\n"
        '  "format": "schemalock-baseline/1"\n'
        "}\n"
    )


def test_the_ratchet_turns_one_way() -> None:
    recorded = baselines.Baseline({("fk-orphans", KEY): 3, ("fk-orphans", "public.runs.x"): 4})
    report = Report(findings=[_orphans(2)], rules=(FkOrphans.code,))
    held = baselines.apply(report, recorded)
    assert [f.waived for f in held.findings] == [
        "baseline: 3 recorded, 2 now (--update-baseline records it)"
    ]
    assert held.fell == {("fk-orphans", KEY): (3, 2), ("fk-orphans", "public.runs.x"): (4, 0)}
    assert baselines.tightened(recorded, held).counts == {("fk-orphans", KEY): 2}
    grown = baselines.apply(Report(findings=[_orphans(5)], rules=(FkOrphans.code,)), recorded)
    assert grown.findings[0].waived is None
    assert grown.findings[0].message.endswith("(baseline: 3)")
    # The grown count is never raised; the one that went is dropped.
    assert baselines.tightened(recorded, grown).counts == {("fk-orphans", KEY): 3}
    # A rule that did not run (or was inconclusive) says nothing about its counts.
    silent = baselines.apply(Report(findings=[]), recorded)
    assert silent.fell == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not a schemalock baseline"),
        ('{"format": "schemalock-baseline/2", "counts": {}}', '"format" is not'),
        ('{"format": "schemalock-baseline/1", "counts": {"fk-orphans": {"a": -1}}}', "positive"),
        ('{"format": "schemalock-baseline/1", "counts": {"fk-orphans": {"a": 1.5}}}', "positive"),
        ('{"format": "schemalock-baseline/1", "counts": []}', '"counts" only'),
        ('{"format": "schemalock-baseline/1", "counts": {}, "x": 1}', '"counts" only'),
    ],
)
def test_a_bad_baseline_exits_2_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "baseline.json", text)
    lock = write(tmp_path / "schema_lock.yaml", "version: 1\n")
    result = run_cli("verify", "--lock", lock, "--database-url", "postgresql://x@nowhere/db",
                     "--baseline", path)  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.startswith(f"schemalock: error: {path}: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1


def test_baseline_usage_errors(tmp_path: Path) -> None:
    lock = write(tmp_path / "schema_lock.yaml", "version: 1\n")
    missing = run_cli("verify", "--lock", lock, "--baseline", str(tmp_path / "none.json"))
    assert missing.exit_code == 2
    assert "no such baseline file" in missing.stderr
    alone = run_cli("verify", "--lock", lock, "--update-baseline")
    assert alone.exit_code == 2
    assert "--update-baseline needs --baseline" in alone.stderr
    path = write(tmp_path / "b.json", '{"format": "schemalock-baseline/1", "counts": {}}')
    sampled = run_cli("verify", "--lock", lock, "--baseline", path, "--sample", "10")
    assert sampled.exit_code == 2
    assert "exact counts" in sampled.stderr
    over = run_cli("verify", "--lock", lock, "--baseline", path, "-f", "json", "-o", path)
    assert over.exit_code == 2
    assert json.loads(Path(path).read_text())["counts"] == {}


# --- on a real database -----------------------------------------------------------------------


@pytest.mark.db
def test_baseline_records_orphans_and_verify_passes_within_it(
    database: str, tmp_path: Path
) -> None:
    lock, path = _setup(database, tmp_path)
    assert _recorded(path) == {"fk-orphans": {KEY: 3}}
    assert run_cli("verify", "--lock", lock, "--database-url", database).exit_code == 1
    code, report, stderr = _verify(database, lock, "--baseline", str(path))
    assert code == 0
    [finding] = report["findings"]
    assert finding["waived"] == "baseline: 3 recorded"
    assert finding["count"] == 3
    assert stderr == ""


@pytest.mark.db
def test_more_orphans_fail(database: str, tmp_path: Path) -> None:
    lock, path = _setup(database, tmp_path)
    execute(database, MORE_ORPHANS)
    code, report, _ = _verify(database, lock, "--baseline", str(path), "--update-baseline")
    assert code == 1
    [finding] = report["findings"]
    assert finding["waived"] is None
    assert finding["count"] == 4
    assert finding["message"].endswith("(baseline: 3)")
    assert _recorded(path) == {"fk-orphans": {KEY: 3}}  # never raised


@pytest.mark.db
def test_fewer_orphans_pass_with_a_note_and_update_lowers(database: str, tmp_path: Path) -> None:
    lock, path = _setup(database, tmp_path)
    execute(database, "DELETE FROM runs WHERE id = 11")
    before = path.read_bytes()
    code, report, stderr = _verify(database, lock, "--baseline", str(path))
    assert code == 0
    assert f"baseline {path}: counts fell (fk-orphans {KEY} 3 -> 2)" in stderr
    assert path.read_bytes() == before  # written only when asked
    # Structure only: fk-orphans did not run, so nothing is known to have fallen.
    code, _, stderr = _verify(database, lock, "--baseline", str(path), "--update-baseline",
                              "--no-data")  # fmt: skip
    assert (code, stderr) == (0, "")
    assert path.read_bytes() == before
    code, _, stderr = _verify(database, lock, "--baseline", str(path), "--update-baseline")
    assert code == 0
    assert f"tightened {path}: fk-orphans {KEY} 3 -> 2" in stderr
    assert _recorded(path) == {"fk-orphans": {KEY: 2}}
    execute(database, MORE_ORPHANS)  # back to 3: above the tightened baseline
    assert _verify(database, lock, "--baseline", str(path))[0] == 1
    execute(database, "DELETE FROM runs WHERE id <> 10")  # every orphan gone
    code, report, _ = _verify(database, lock, "--baseline", str(path), "--update-baseline")
    assert (code, report["findings"]) == (0, [])
    assert _recorded(path) == {}


@pytest.mark.db
def test_a_structure_finding_is_never_hidden(database: str, tmp_path: Path) -> None:
    lock, path = _setup(database, tmp_path)
    execute(database, "ALTER TABLE runs DROP CONSTRAINT runs_pkey")
    code, report, _ = _verify(database, lock, "--baseline", str(path))
    assert code == 1
    counted = [f["rule"] for f in report["findings"] if f["waived"] is None]
    assert counted == ["primary-key-mismatch"]
    # A baseline written now still records only the orphans.
    again = run_cli("baseline", "--lock", lock, "--database-url", database, "-o", str(path))
    assert "1 finding(s) a baseline never holds" in again.stderr
    assert _recorded(path) == {"fk-orphans": {KEY: 3}}
    assert _verify(database, lock, "--baseline", str(path))[0] == 1


@pytest.mark.db
def test_no_baseline_from_an_inconclusive_run(database: str, tmp_path: Path) -> None:
    execute(database, SCHEMA)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    path = tmp_path / "schemalock-baseline.json"
    with lock_held(database, "runs"):
        result = run_cli("baseline", "--lock", str(lock), "--database-url", database,
                         "-o", str(path), "--statement-timeout", "1")  # fmt: skip
    assert result.exit_code == 4, result.stderr
    assert "no baseline written" in result.stderr
    assert not path.exists()


@pytest.mark.db
def test_a_hand_edited_baseline_holds_data_counts_only_and_says_what_it_ignores(
    database: str, tmp_path: Path
) -> None:
    """Entries for structure rules (which a baseline never holds) and for rules that do not
    exist are ignored with one warning line naming the file; no count "fell" for a finding
    the same run reports; `--update-baseline` drops them."""
    lock, path = _setup(database, tmp_path)
    execute(database, "ALTER TABLE runs DROP CONSTRAINT runs_pkey")
    path.write_text(
        json.dumps(
            {
                "format": "schemalock-baseline/1",
                "counts": {
                    "fk-orphans": {KEY: 3},
                    "primary-key-mismatch": {"public.runs": 1},
                    "fk-not-validated": {"public.runs.runs_job_id_fkey": 1},
                    "nonsense-rule": {"x": 3},
                },
            }
        ),
        encoding="utf-8",
    )
    code, report, stderr = _verify(database, lock, "--baseline", str(path))
    assert code == 1
    assert [f["rule"] for f in report["findings"] if f["waived"] is None] == [
        "primary-key-mismatch"
    ]
    assert "fell" not in stderr, stderr
    assert "-> 0" not in stderr
    [warning] = [line for line in stderr.splitlines() if "ignored" in line]
    assert warning.startswith(f"schemalock: warning: {path}: ")
    assert "unknown rule nonsense-rule" in warning
    assert "fk-not-validated, primary-key-mismatch (not data findings" in warning
    code, _, stderr = _verify(database, lock, "--baseline", str(path), "--update-baseline")
    assert code == 1
    assert _recorded(path) == {"fk-orphans": {KEY: 3}}
    assert f"dropped 3 ignored entries from {path}" in stderr, stderr
