"""The command line: start-up cost, exit codes, options, and golden output for every format.

Golden files live in tests/golden/; regenerate with SCHEMALOCK_UPDATE_GOLDEN=1 (then review the
diff).  Volatile parts (duration, server address, temporary paths) are replaced before comparing.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, execute, run_cli, write

GOLDEN = ROOT / "tests" / "golden"
# Each golden file of this module, with the test that compares against it: checked as a table
# (test_no_orphaned_goldens), so whatever runs, in any order or under -k, no golden is left
# without a test.  The docs_* goldens belong to tests/test_docs.py and the report_* ones to
# tests/test_reports.py and the diff_* ones to tests/test_diff.py, which have their own.
GOLDENS = {
    "drift.txt": "test_golden_text_and_json",
    "drift.json": "test_golden_text_and_json",
    "lint.txt": "test_golden_text_and_json",
}

SCHEMA = """
CREATE TABLE organizations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clerk_org_id text NOT NULL,
    quota_used integer,
    plan text DEFAULT 'pro'
);
CREATE TABLE jobs (id uuid PRIMARY KEY, org_id text NOT NULL, keyword text);
CREATE TABLE "Legacy Orgs" (id uuid);
"""

LOCK = """version: 1
database: {name: neondb, expected_tables: 3}
tables:
  organizations:
    columns:
      id: {type: uuid, primary_key: true, default: gen_random_uuid()}
      clerk_org_id: {type: text, nullable: false, unique: true}
      quota_used: {type: integer, nullable: false, default: 0}
      plan: {type: text, default: "'free'"}
  jobs:
    columns:
      id: {type: uuid, primary_key: true}
      org_id: {type: uuid, nullable: false, references: organizations.id, on_delete: cascade}
      status: {type: text}
"""

LINT_WAIVERS = """waivers:
  - rule: table-count-mismatch
    object: "*"
    reason: Legacy Orgs is dropped in the next release
    expires: 9999-12-31
  - {rule: SL004, object: "*", reason: an older promise, expires: 2000-01-01}
"""


def _check_golden(name: str, actual: str) -> None:
    assert name in GOLDENS, f"golden {name} is not in GOLDENS"
    path = GOLDEN / name
    if os.environ.get("SCHEMALOCK_UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing golden {name}: run with SCHEMALOCK_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


def _stable(text: str, lock_path: str, database: str) -> str:
    from schemalock import db

    text = text.replace(lock_path, "schema_lock.yaml").replace(
        db.display_url(database), "postgresql://app:***@host/neondb"
    )
    text = re.sub(r'"duration_ms": \d+', '"duration_ms": 0', text)
    text = re.sub(r'"server_version": "[^"]+"', '"server_version": "X"', text)
    text = re.sub(r'"sha256": "[0-9a-f]+"', '"sha256": "..."', text)
    return re.sub(r"\(\d+ ms\)", "(0 ms)", text)


@pytest.mark.db
def test_golden_text_and_json(database: str, tmp_path: Path) -> None:
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", LOCK)
    text = run_cli("verify", "--lock", lock, "--database-url", database, "--fail-on", "warning")
    assert text.exit_code == 1
    _check_golden("drift.txt", _stable(text.stdout, lock, database))
    as_json = run_cli("verify", "--lock", lock, "--database-url", database, "--format", "json")
    assert as_json.exit_code == 1
    _check_golden("drift.json", _stable(as_json.stdout, lock, database))
    # lint of the same lock with waivers: one accepted (shown dimmed, after the rest), one
    # expired (a warning at its line).
    lock = write(tmp_path / "schema_lock.yaml", LOCK + LINT_WAIVERS)
    lint = run_cli("lint", "--lock", lock, "--fail-on", "warning")
    _check_golden("lint.txt", _stable(lint.stdout, lock, database))
    assert lint.exit_code == 1  # the expired waiver warns; the table count is waived


@pytest.mark.db
def test_json_report_contract(database: str, tmp_path: Path) -> None:
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", LOCK)
    report = json.loads(
        run_cli("verify", "--lock", lock, "--database-url", database, "--format", "json").stdout
    )
    assert report["format"] == "schemalock-report/1"
    assert report["tool"] == {"name": "schemalock", "version": "0.1.0"}
    assert set(report) == {
        "format",
        "tool",
        "lock",
        "target",
        "base",
        "summary",
        "findings",
        "inconclusive",
        "coverage",  # verify's: what it compared, and what it saw but does not model
    }
    assert set(report["coverage"]) == {"kinds", "not_covered"}
    for kind in report["coverage"]["kinds"]:
        assert set(kind) == {"kind", "database", "lock", "compared"}
    assert set(report["summary"]) == {
        "error", "warning", "info", "waived", "inconclusive", "duration_ms",
    }  # fmt: skip
    assert set(report["target"]) == {"url", "server_version"}
    for finding in report["findings"]:
        assert set(finding) == {
            "code",
            "rule",
            "severity",
            "category",
            "schema",
            "table",
            "column",
            "constraint",
            "message",
            "expected",
            "actual",
            "count",
            "samples",
            "lock_line",
            "fixable",
            "estimated",
            "waived",
            "path",
        }
        assert finding["estimated"] is False  # no --sample: every count is exact
        assert finding["waived"] is None  # the lock has no waivers
        assert finding["path"] is None  # every line is one of the lock's
        assert finding["category"] in {
            "lock",
            "structure",
            "integrity",
            "identifiers",
            "data",
            "contracts",
        }
    assert report["base"] is None  # diff's, the lock compared against


@pytest.mark.db
@pytest.mark.parametrize(
    ("options", "code"),
    [
        ((), 1),
        (("--fail-on", "error"), 1),
        (("--select", "extra-table"), 0),
        (("--select", "extra-table", "--fail-on", "warning"), 1),
        (("--ignore", "SL1,SL203"), 0),
        (("--select", "SL105,SL106"), 1),
        (("--select", "no-such-rule"), 2),
    ],
)
def test_fail_on_select_and_ignore(
    database: str, tmp_path: Path, options: tuple[str, ...], code: int
) -> None:
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", LOCK)
    result = run_cli("verify", "--lock", lock, "--database-url", database, *options)
    assert result.exit_code == code, result.stdout + result.stderr


@pytest.mark.db
def test_output_file_keeps_the_terminal_text(database: str, tmp_path: Path) -> None:
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", LOCK)
    out = tmp_path / "report.json"
    result = run_cli(
        "verify",
        "--lock",
        lock,
        "--database-url",
        database,
        "--format",
        "json",
        "--output",
        str(out),
    )
    assert json.loads(out.read_text())["summary"]["error"] > 0
    assert "column-type-mismatch" in result.stdout
    assert not result.stdout.startswith("{")


def test_terminal_escapes_control_characters(tmp_path: Path) -> None:
    lock = write(
        tmp_path / "schema_lock.yaml",
        "version: 1\ntables:\n"
        '  "evil\\e[2J\\r::error file=x::pwned":\n'
        "    columns: {a: {type: int, references: nowhere.id}}\n",
    )
    result = run_cli("lint", "--lock", lock)
    assert "\x1b" not in result.stdout
    assert "\r" not in result.stdout
    assert "\\x1b[2J" in result.stdout
    assert not any(line.startswith("::") for line in result.stdout.splitlines())


def test_rules_and_explain() -> None:
    listing = run_cli("rules")
    assert listing.exit_code == 0
    assert "SL105   column-type-mismatch" in listing.stdout
    by_code, by_name = run_cli("explain", "SL109"), run_cli("explain", "missing-foreign-key")
    assert by_code.exit_code == 0
    assert by_code.stdout == by_name.stdout
    assert "## Why it matters" in by_code.stdout
    unknown = run_cli("explain", "SL999")
    assert unknown.exit_code == 2
    assert "unknown rule" in unknown.stderr


def test_usage_errors_exit_2() -> None:
    assert run_cli("verify", "--fail-on", "sometimes").exit_code == 2
    assert run_cli("no-such-command").exit_code == 2


def test_version_and_help_import_no_heavy_library() -> None:
    # rich neither: the help is click's plain renderer (Typer's Rich one imports Markdown and
    # Pygments, and made `--help` 14 times as slow as starting Python).
    probe = (
        "import sys, io, contextlib\n"
        "from schemalock.cli import run\n"
        "for args in (['--version'], ['--help'], ['verify', '--help']):\n"
        "    sys.argv = ['schemalock', *args]\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        assert run() == 0\n"
        "heavy = {'sqlalchemy', 'alembic', 'psycopg', 'pglast', 'yaml', 'deepdiff', 'pydantic',\n"
        "         'rich'}\n"
        "loaded = sorted(heavy & {m.split('.')[0] for m in sys.modules})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


def _version_process(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`schemalock --version` as its own process, with what it imported on stderr."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SCHEMALOCK_") or k == "SCHEMALOCK_CACHE_DIR"
    }
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "schemalock", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **env},
    )


def _imported(importtime: str) -> set[str]:
    return {line.rpartition("|")[2].strip() for line in importtime.splitlines() if "|" in line}


def test_version() -> None:
    """`--version` alone is answered before Typer is imported, with what the application
    itself prints (`run()` in this process goes the application's way)."""
    fast, full = _version_process({}), run_cli("--version")
    assert fast.returncode == full.exit_code == 0
    assert fast.stdout == full.stdout == "schemalock 0.1.0\n"
    assert full.stderr == ""
    assert "typer" not in _imported(fast.stderr)
    assert "schemalock.cli" in _imported(fast.stderr)  # the probe sees imports at all


def test_version_beside_a_bad_global_variable_is_the_applications() -> None:
    """A global option's variable is checked even beside --version: a bad one is a usage
    error on both paths, so the fast path steps aside when one is set."""
    fast = _version_process({"SCHEMALOCK_VERBOSE": "lots"})
    full = run_cli("--version", env={"SCHEMALOCK_VERBOSE": "lots"})
    assert fast.returncode == full.exit_code == 2
    assert "SCHEMALOCK_VERBOSE" in full.stderr
    assert "typer" in _imported(fast.stderr)


def test_the_fast_path_knows_every_global_variable() -> None:
    import typer

    from schemalock.cli import GLOBAL_VARIABLES, app

    group = typer.main.get_command(app)
    variables = {p.envvar for p in group.params if isinstance(p.envvar, str)}
    assert variables == set(GLOBAL_VARIABLES)


def test_help_lists_each_commands_whole_first_paragraph() -> None:
    result = run_cli("--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    listing = " ".join(result.stdout.partition("Commands:")[2].split())
    assert (
        "config Show the settings each command would use and where each comes from: the "
        "command line, a SCHEMALOCK_ variable, the configuration file, or the built-in default."
    ) in listing
    assert "verify Compare the lock with the live database and report every difference." in (
        listing
    )


def test_no_orphaned_goldens() -> None:
    """Every golden file (but docs_*) is in GOLDENS, and the test GOLDENS names for it exists
    here and compares against it: decided from the files and the tests' text, not from which
    tests ran before."""
    others = ("docs_", "report_", "diff_")  # tests/test_docs.py, test_reports.py, test_diff.py
    own = {p.name for p in GOLDEN.iterdir() if not p.name.startswith(others)}
    assert own == set(GOLDENS)
    for name, owner in GOLDENS.items():
        test = globals().get(owner)
        assert callable(test), f"{name}: no test {owner}"
        assert f'_check_golden("{name}"' in inspect.getsource(test), f"{owner} never checks {name}"


@pytest.mark.parametrize("args", [["--version"], ["rules"]], ids=["fast path", "application"])
def test_a_reader_gone_or_a_closed_stdout_is_no_traceback(args: list[str]) -> None:
    """`schemalock ... | head` whose reader left first ends with the shell's 141, and with
    stdout closed (`>&-`) nothing is written: neither prints a traceback."""
    command = [sys.executable, "-m", "schemalock", *args]
    read, write_end = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        gone = subprocess.run(command, stdout=write_end, stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write_end)
    assert (gone.returncode, gone.stderr) == (141, b"")
    closed = subprocess.run(  # fd 1 closed in the child: Python's sys.stdout is None
        command, preexec_fn=lambda: os.close(1), stderr=subprocess.PIPE, timeout=60
    )
    assert (closed.returncode, closed.stderr) == (0, b"")
