"""Fitting into people's tools: configuration files and their precedence, `schemalock config`,
the global options (-q, -v, --color, --no-progress, --exit-zero) and shell completion."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, execute, run_cli, write

# One warning (table-count-mismatch, SL004) and nothing else: lint exits 0 under the default
# --fail-on error and 1 under warning, so the exit code tells which setting won.
WARNING_LOCK = """version: 1
database: {name: app, expected_tables: 2}
tables:
  orgs:
    columns:
      id: {type: uuid, primary_key: true}
"""
CLEAN_LOCK = """version: 1
database: {name: app}
tables:
  orgs:
    columns:
      id: {type: uuid, primary_key: true}
"""
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository of its own (the walk up stops at its .git), the working directory."""
    (tmp_path / ".git").mkdir()
    write(tmp_path / "schema_lock.yaml", WARNING_LOCK)
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("SCHEMALOCK_")]:
        if name not in ("SCHEMALOCK_TEST_DATABASE_URL", "SCHEMALOCK_CACHE_DIR"):
            monkeypatch.delenv(name)
    for name in ("CI", "NO_COLOR", "FORCE_COLOR", "PRE_COMMIT"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _settings(*args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    result = run_cli("config", "--format", "json", *args, env=env)
    assert result.exit_code == 0, result.stderr
    document: dict[str, object] = json.loads(result.stdout)
    return document


def _setting(document: dict[str, object], command: str, key: str) -> dict[str, object]:
    commands = document["commands"]
    assert isinstance(commands, dict)
    found: dict[str, object] = commands[command][key]
    return found


# -- configuration files --------------------------------------------------------------------


def test_precedence_command_line_environment_file_default(project: Path) -> None:
    assert run_cli("lint").exit_code == 0  # default: --fail-on error, a warning passes
    write(
        project / "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.schemalock]\nfail_on = "warning"\n',
    )
    assert run_cli("lint").exit_code == 1  # the file
    assert run_cli("lint", env={"SCHEMALOCK_FAIL_ON": "error"}).exit_code == 0  # env beats file
    given = run_cli("lint", "--fail-on", "warning", env={"SCHEMALOCK_FAIL_ON": "error"})
    assert given.exit_code == 1  # the command line beats both
    document = _settings()
    assert _setting(document, "lint", "fail_on") == {
        "value": "warning",
        "source": "file",
        "file": "pyproject.toml",
        "table": "[tool.schemalock]",
    }
    from_env = _setting(_settings(env={"SCHEMALOCK_FAIL_ON": "info"}), "verify", "fail_on")
    assert from_env == {"value": "info", "source": "env", "variable": "SCHEMALOCK_FAIL_ON"}
    assert _setting(document, "verify", "statement_timeout") == {"value": 30.0, "source": "default"}


def test_a_command_table_beats_the_top_level(project: Path) -> None:
    write(project / "schemalock.toml", 'fail_on = "error"\n\n[lint]\nfail_on = "warning"\n')
    assert run_cli("lint").exit_code == 1
    document = _settings()
    assert _setting(document, "lint", "fail_on")["table"] == "[lint]"
    assert _setting(document, "verify", "fail_on") == {
        "value": "error",
        "source": "file",
        "file": "schemalock.toml",
        "table": "",
    }


def test_which_file_counts(project: Path) -> None:
    """Walking up from the lock's folder: the nearest file wins, schemalock.toml before a
    pyproject.toml beside it; a pyproject.toml without [tool.schemalock] does not count; the
    walk stops at the repository's root."""
    nested = project / "db" / "locks"
    nested.mkdir(parents=True)
    write(nested / "schema_lock.yaml", WARNING_LOCK)
    write(project / "schemalock.toml", 'fail_on = "warning"\n')
    write(project / "db" / "pyproject.toml", '[project]\nname = "db"\n')  # no section: skipped
    assert run_cli("lint", "--lock", str(nested / "schema_lock.yaml")).exit_code == 1
    write(project / "db" / "pyproject.toml", '[tool.schemalock]\nfail_on = "error"\n')
    assert run_cli("lint", "--lock", "db/locks/schema_lock.yaml").exit_code == 0
    write(project / "db" / "schemalock.toml", 'fail_on = "info"\n')  # before pyproject.toml
    document = _settings("--lock", "db/locks/schema_lock.yaml")
    assert document["file"] == {"path": os.path.join("db", "schemalock.toml"), "table": ""}
    assert _setting(document, "lint", "lock") == {
        "value": "db/locks/schema_lock.yaml",
        "source": "cli",
    }
    # Above the repository's root nothing is read: the parent's file is not this project's.
    inner = project / "inner"
    (inner / ".git").mkdir(parents=True)
    write(inner / "schema_lock.yaml", WARNING_LOCK)
    assert run_cli("lint", "--lock", "inner/schema_lock.yaml").exit_code == 0
    assert _settings("--lock", "inner/schema_lock.yaml")["file"] is None


def test_paths_in_a_file_are_relative_to_it(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "db").mkdir()
    (project / "src").mkdir()
    write(project / "db" / "app_lock.yaml", WARNING_LOCK)
    write(project / "pyproject.toml", '[tool.schemalock]\nlock = "db/app_lock.yaml"\n')
    monkeypatch.chdir(project / "src")
    result = run_cli("lint", "--fail-on", "warning")
    assert result.exit_code == 1, result.stderr
    assert "../db/app_lock.yaml:2" in result.stdout
    document = _settings()
    assert _setting(document, "lint", "lock")["value"] == "../db/app_lock.yaml"


def test_every_option_of_every_command_is_configurable(project: Path) -> None:
    """Options come from the commands themselves (click's default_map), so one added later
    (a helper's --baseline, diff's --base) is configurable without a list to keep."""
    from typer.core import TyperGroup
    from typer.main import get_command

    from schemalock.cli import app, config

    group = get_command(app)
    assert isinstance(group, TyperGroup)
    keys = {name: set(config.options(command)) for name, command in group.commands.items()}
    assert {"lock", "fail_on", "select", "ignore", "statement_timeout", "format"} <= keys["verify"]
    assert {"quiet", "verbose", "color", "no_progress", "exit_zero", "debug"} <= keys["lint"]
    write(project / "schemalock.toml", '[rules]\nformat = "markdown"\n')
    assert run_cli("rules").stdout.startswith("# ")  # the markdown page, from the file


def test_format_and_output_at_the_top_level_are_for_the_reports(project: Path) -> None:
    """`rules --format` and `snapshot --output` mean other things: a top-level key or a
    variable applies to verify, lint and diff only."""
    write(project / "schemalock.toml", 'format = "json"\n')
    assert json.loads(run_cli("lint").stdout)["summary"]["warning"] == 1
    assert run_cli("rules").stdout.startswith("code ")  # still the text table
    assert run_cli("rules", env={"SCHEMALOCK_FORMAT": "json"}).exit_code == 0


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            'fail-on = "warning"\n',
            "schemalock.toml: unknown key 'fail-on' (did you mean 'fail_on'?)",
        ),
        (
            "[verify]\nstatment_timeout = 5\n",
            "schemalock.toml: [verify]: unknown key 'statment_timeout' (did you mean "
            "'statement_timeout'?)",
        ),
        ('fail_on = "sometimes"\n', "schemalock.toml: fail_on: 'sometimes' is not one of"),
        (
            "statement_timeout = -1\n",
            "schemalock.toml: statement_timeout: -1.0 is not in the range",
        ),
        ("verify = 3\n", "schemalock.toml: verify must be a table of verify's options"),
        ("[fix]\napply = true\n", "schemalock.toml: [fix]: apply: given on the command line only"),
        ('fail_on = "warn\n', "schemalock.toml: invalid TOML: "),
    ],
)
def test_a_bad_file_is_one_line_and_exit_2(project: Path, text: str, says: str) -> None:
    write(project / "schemalock.toml", text)
    result = run_cli("lint")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"schemalock: error: {says}"), result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_the_section_of_a_pyproject_is_named(project: Path) -> None:
    write(project / "pyproject.toml", "[tool.schemalock.lint]\nselct = []\n")
    result = run_cli("lint")
    assert result.exit_code == 2
    assert (
        "pyproject.toml: [tool.schemalock.lint]: unknown key 'selct' (did you mean 'select'?)"
        in (result.stderr)
    )


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:Secr3tPw@db.example.com/app",
        "host=db.example.com user=app password=Secr3tPw dbname=app",
        "postgresql://app@db.example.com/app?password=Secr3tPw",
    ],
)
def test_a_password_in_a_file_is_refused(project: Path, url: str) -> None:
    """Refused whether or not a variable gives the URL that would be used, and by `config`."""
    write(project / "schemalock.toml", f'database_url = "{url}"\n')
    elsewhere = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"}
    for args, env in [(["verify"], None), (["verify"], elsewhere), (["config"], elsewhere)]:
        result = run_cli(*args, env=env)
        assert result.exit_code == 2, (args, env, result.stdout)
        assert (
            "schemalock.toml: database_url holds a password: keep it out of files" in result.stderr
        )
        assert "Secr3tPw" not in result.stderr + result.stdout
        assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("variable", "value", "args"),
    [
        ("SCHEMALOCK_FAIL_ON", "bogus", ["lint"]),
        ("SCHEMALOCK_FAIL_ON", "sometimes", ["config", "lint"]),
        ("SCHEMALOCK_FAIL_ON", "sometimes", ["config"]),
        ("SCHEMALOCK_SAMPLE", "lots", ["verify"]),
        ("SCHEMALOCK_COLOR", "purple", ["lint"]),
    ],
)
def test_a_bad_environment_value_is_one_line_naming_the_variable(
    project: Path, variable: str, value: str, args: list[str]
) -> None:
    result = run_cli(*args, env={variable: value})
    assert result.exit_code == 2
    assert result.stderr.startswith(f"schemalock: error: {variable}: "), result.stderr
    assert repr(value) in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Invalid value for" not in result.stderr


def test_an_environment_value_the_command_line_overrides_is_not_read(project: Path) -> None:
    result = run_cli("lint", "--fail-on", "warning", env={"SCHEMALOCK_FAIL_ON": "bogus"})
    assert result.exit_code == 1, result.stderr  # the lock's one warning, under --fail-on


@pytest.mark.db
def test_a_database_url_without_password_is_used_below_the_environment(
    project: Path, database: str
) -> None:
    from psycopg.conninfo import conninfo_to_dict

    if conninfo_to_dict(database).get("password"):
        pytest.skip("the test server needs a password: no URL without one reaches it")
    execute(database, "CREATE TABLE orgs (id uuid PRIMARY KEY)")
    write(project / "schema_lock.yaml", CLEAN_LOCK)
    write(project / "schemalock.toml", f"database_url = {json.dumps(database)}\n")
    clean = run_cli("verify", "--no-data")
    assert clean.exit_code == 0, clean.stderr
    # DATABASE_URL beats the file: an unreachable one proves which was used.
    elsewhere = "postgresql://nobody@127.0.0.1:9/none?connect_timeout=2"
    assert run_cli("verify", "--no-data", env={"DATABASE_URL": elsewhere}).exit_code == 3
    shown = _setting(_settings(env={"DATABASE_URL": elsewhere}), "verify", "database_url")
    assert shown["source"] == "env"
    assert shown["variable"] == "DATABASE_URL"
    assert _setting(_settings(), "verify", "database_url")["source"] == "file"


def test_config_text_names_every_source(project: Path) -> None:
    write(
        project / "schemalock.toml", 'select = ["SL1", "fk-orphans"]\n\n[verify]\nno_data = true\n'
    )
    result = run_cli("-q", "config", "verify", env={"SCHEMALOCK_IGNORE": "SL105"})
    assert result.exit_code == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:] if line.strip()}
    assert lines["quiet"].split()[1:] == ["true", "cli"]
    assert lines["select"].split()[1:] == ["SL1,", "fk-orphans", "file", "schemalock.toml"]
    assert lines["no_data"].split()[1:] == ["true", "file", "schemalock.toml", "[verify]"]
    assert lines["ignore"].split()[1:] == ["SL105", "env", "SCHEMALOCK_IGNORE"]
    assert lines["fail_on"].split()[1:] == ["error", "default"]
    assert "lint" not in lines  # only the command asked about
    assert result.stdout.startswith("configuration: schemalock.toml\n")
    assert run_cli("config", "nonesuch").exit_code == 2


def test_no_file_is_said(project: Path) -> None:
    result = run_cli("config", "lint")
    assert result.exit_code == 0
    assert result.stdout.startswith(
        f"configuration: no file (searched up from {project.resolve()})"
    )


# -- global options ----------------------------------------------------------------------------


def test_quiet_before_or_after_the_command(project: Path) -> None:
    loud = run_cli("lint")
    assert "0 errors, 1 warning" in loud.stdout
    for args in (["-q", "lint"], ["lint", "--quiet"], ["lint"]):
        env = {"SCHEMALOCK_QUIET": "1"} if args == ["lint"] else None
        quiet = run_cli(*args, env=env)
        assert quiet.exit_code == 0
        assert quiet.stdout == loud.stdout.split("0 errors")[0], args  # the findings, no summary
    write(project / "schema_lock.yaml", CLEAN_LOCK)
    silent = run_cli("-q", "lint")
    assert (silent.exit_code, silent.stdout, silent.stderr) == (0, "", "")


def test_exit_zero_forgives_findings_not_errors(project: Path) -> None:
    assert run_cli("lint", "--fail-on", "warning", "--exit-zero").exit_code == 0
    assert run_cli("--exit-zero", "lint", "--fail-on", "warning").exit_code == 0
    assert run_cli("lint", "--exit-zero", "--lock", "missing.yaml").exit_code == 2
    write(project / "schemalock.toml", "exit_zero = true\n")
    assert run_cli("lint", "--fail-on", "warning").exit_code == 0


def test_color(project: Path) -> None:
    plain = run_cli("lint").stdout
    assert not ANSI.search(plain)  # not a terminal
    coloured = run_cli("lint", "--color", "always", env={"NO_COLOR": "1"}).stdout
    assert ANSI.search(coloured)  # the command line beats the convention
    assert _timeless(ANSI.sub("", coloured)) == _timeless(plain)
    assert ANSI.search(run_cli("lint", env={"FORCE_COLOR": "1"}).stdout)
    assert not ANSI.search(run_cli("lint", env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout)
    assert not ANSI.search(run_cli("--color", "never", "lint", env={"FORCE_COLOR": "1"}).stdout)
    assert ANSI.search(run_cli("lint", env={"SCHEMALOCK_COLOR": "always"}).stdout)
    bad = run_cli("lint", "--color", "sometimes")
    assert bad.exit_code == 2
    assert "use auto, always, never" in bad.stderr


def test_a_report_file_is_never_coloured(project: Path) -> None:
    report = project / "report.txt"
    result = run_cli("lint", "--color", "always", "--output", str(report))
    assert result.exit_code == 0, result.stderr
    assert "table-count-mismatch" in report.read_text(encoding="utf-8")
    assert not ANSI.search(report.read_text(encoding="utf-8"))


@pytest.mark.db
def test_verbose_tells_the_stages_rules_and_queries(project: Path, database: str) -> None:
    execute(database, "CREATE TABLE orgs (id uuid PRIMARY KEY, name text)")
    write(project / "schema_lock.yaml", CLEAN_LOCK)
    args = ("verify", "--database-url", database)
    plain = run_cli(*args)
    once = run_cli("-v", *args)
    assert once.exit_code == plain.exit_code == 0
    # The report is untouched, but for the coverage counts -v adds to it.
    report = _timeless(plain.stdout).splitlines()
    added = [line for line in _timeless(once.stdout).splitlines() if line not in report]
    assert added[0] == "coverage (database / lock / compared):", once.stdout
    assert [line for line in added[1:] if not re.fullmatch(r"  [a-z -]+( +\d+){3}", line)] == []
    assert [line for line in _timeless(once.stdout).splitlines() if line not in added] == report
    stages = [line.split("ms  ", 1)[1] for line in once.stderr.splitlines()]
    assert all(re.match(r"time +\d+\.\d ms  ", line) for line in once.stderr.splitlines())
    assert stages[:3] == [
        "start: imports, options, configuration, the lock",
        "judge the lock, connect",
        stages[2],
    ]
    assert re.fullmatch(r"catalog: \d+ queries", stages[2])
    assert "rule SL101 missing-table" in stages
    assert "rule SL201 fk-orphans" in stages
    assert stages[-3:][1:] == ["report", "total"]
    assert not [line for line in once.stderr.splitlines() if line.startswith("query")]
    # -v before and after the command add up to -vv: every statement, labelled.
    queries = [
        line.split("ms  ", 1)[1]
        for line in run_cli("-v", *args, "-v").stderr.splitlines()
        if line.startswith("query")
    ]
    assert {"catalog tables", "catalog columns", "catalog constraints"} <= set(queries)
    assert any(label.startswith("settings: statement_timeout") for label in queries)
    # The command line's -v replaces the variable's, as every option's value does.
    replaced = run_cli(*args, "-v", env={"SCHEMALOCK_VERBOSE": "2"})
    assert replaced.stderr.startswith("time ")
    assert "\nquery " not in replaced.stderr
    assert database not in once.stderr


def _timeless(text: str) -> str:
    return re.sub(r"\(\d+ ms\)", "(N ms)", text)


@pytest.mark.db
def test_the_progress_bar_is_for_a_person_watching(project: Path, database: str) -> None:
    """On a terminal it shows; under CI (any CI service sets CI), --no-progress, -q or -v
    it does not."""
    execute(database, "CREATE TABLE orgs (id uuid PRIMARY KEY)")
    write(project / "schema_lock.yaml", CLEAN_LOCK)
    base = {k: v for k, v in os.environ.items() if k not in ("CI", "PRE_COMMIT")}
    args = ["verify", "--database-url", database]
    assert b" queries" in _on_a_terminal(args, {**base, "COLUMNS": "120"})
    for extra, env in (
        ([], {"CI": "true"}),
        (["--no-progress"], {}),
        (["-q"], {}),
        ([], {"SCHEMALOCK_NO_PROGRESS": "1"}),
    ):
        written = _on_a_terminal([*args, *extra], {**base, "COLUMNS": "120", **env})
        assert b"queries" not in written, (extra, env)


def _on_a_terminal(args: list[str], env: dict[str, str]) -> bytes:
    """What `schemalock ARGS` writes to stderr when stderr is a terminal."""
    controller, terminal = os.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "schemalock", *args],
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=120,
            check=False,
            env=env,
        )
        os.close(terminal)
        written = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the other end is closed: all read
                break
            if not chunk:
                break
            written += chunk
    finally:
        os.close(controller)
    assert done.returncode == 0, done.stdout
    return written


# -- completion ------------------------------------------------------------------------------


def test_shell_completion() -> None:
    env = {**os.environ, "_SCHEMALOCK_COMPLETE": "complete_bash"}
    script = Path(sys.executable).parent / "schemalock"  # the console script: completion's name
    words = {
        "schemalock ve": {"verify"},
        "schemalock verify --fail": {"--fail-on"},
        "schemalock verify --fail-on ": {"error", "warning", "info", "uncovered"},
        "schemalock lint --no-pr": {"--no-progress"},
    }
    for line, expected in words.items():
        completed = subprocess.run(
            [str(script)],
            env={**env, "COMP_WORDS": line, "COMP_CWORD": str(len(line.split(" ")) - 1)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=ROOT,
        )
        assert set(completed.stdout.split()) == expected, (line, completed.stderr)
    # Without it Typer ignores "bash" and detects the shell from the parent processes, which
    # fails where no shell is among them (a CI runner, a detached run): "Shell  not supported".
    detection_off = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    shown = subprocess.run(
        [str(script), "--show-completion", "bash"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env=detection_off,
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "_SCHEMALOCK_COMPLETE=complete_bash" in shown.stdout
