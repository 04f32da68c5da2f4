"""Catalogue case G02 (issue 9; research/reliability-anchors.md, section 3.G): the JSON report a
CI job keeps as an artifact never holds the password, and is the same bytes on every run over
the same database (but for its duration)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import execute, run_cli, write
from test_catalogue_connections import SENTINEL, _as_url, _with_password, assert_no_secret
from test_data_checks import DATA, LOCK, SCHEMA

pytestmark = pytest.mark.db

_DURATION = re.compile(r'"duration_ms": \d+')


def test_g02_the_json_report_never_holds_the_password_and_is_stable(
    database: str, tmp_path: Path
) -> None:
    """G02: `verify --format json`, to stdout and to `-o report.json`, from a URL whose
    password holds `%2F`, `@` and `:` (trust authentication ignores it): findings of several
    rules with samples, no spelling of the password anywhere, the target shown as `:***@`; two
    runs are byte-identical once duration_ms is taken out."""
    execute(database, SCHEMA + DATA)
    lock = write(tmp_path / "schema_lock.yaml", LOCK)
    url = _with_password(_as_url(database), SENTINEL)
    runs, files = [], []
    for n in (1, 2):
        printed = run_cli("verify", "--lock", lock, "--database-url", url, "--format", "json")
        report = tmp_path / f"report{n}.json"
        written = run_cli(
            "verify", "--lock", lock, "--database-url", url, "--format", "json",
            "--output", str(report),
        )  # fmt: skip
        for result in (printed, written):
            assert result.exit_code == 1, result.stderr
            assert_no_secret(result.stdout, result.stderr)
        runs.append(printed.stdout)
        files.append(report.read_text(encoding="utf-8"))
        assert_no_secret(files[-1])
    parsed = json.loads(runs[0])
    assert parsed["target"]["url"].startswith("postgresql://postgres:***@")
    assert len({finding["rule"] for finding in parsed["findings"]}) >= 3, parsed["findings"]
    assert any(finding["samples"] for finding in parsed["findings"])
    same = {_DURATION.sub('"duration_ms": 0', text) for text in (*runs, *files)}
    assert len(same) == 1, "the report's bytes differ between runs"
