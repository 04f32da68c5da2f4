"""Reports for CI and review: `--format sarif|junit|github|gitlab|markdown`, several in one run.

Golden files tests/golden/report_drift.* hold every format of the report tests/golden/drift.json
holds (the same database and lock as tests/test_cli.py); regenerate with
SCHEMALOCK_UPDATE_GOLDEN=1 and review the diff.  Everything else here is pure: reports built
from findings, so escaping, waivers, bounds and fingerprints are tested on exactly the
findings that exercise them.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import ROOT, execute, run_cli, write
from schemalock.check.findings import Category, Finding, InconclusiveCheck, Report, Severity
from schemalock.compare.differences import Subject
from schemalock.render import comment, github, gitlab, junit, sarif
from schemalock.render.locations import fingerprints
from test_cli import LOCK, SCHEMA, _stable

GOLDEN = ROOT / "tests" / "golden"
SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
# Each report_* golden file, with the test that compares against it: checked as a table
# (test_no_orphaned_goldens), so whatever runs, in any order or under -k, none is orphaned.
GOLDENS = {
    "report_drift.sarif": "test_every_format_of_one_run_matches_its_golden",
    "report_drift.junit.xml": "test_every_format_of_one_run_matches_its_golden",
    "report_drift.github.txt": "test_every_format_of_one_run_matches_its_golden",
    "report_drift.gitlab.json": "test_every_format_of_one_run_matches_its_golden",
    "report_drift.comment.md": "test_every_format_of_one_run_matches_its_golden",
}
# An unreachable server: a refusal that exits 2 came before any connection (which exits 3).
UNREACHABLE = "postgresql://app:Secr3tPw@127.0.0.1:1/nothing"


def _check_golden(name: str, actual: str) -> None:
    assert name in GOLDENS, f"golden {name} is not in GOLDENS"
    path = GOLDEN / name
    if os.environ.get("SCHEMALOCK_UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing golden {name}: run with SCHEMALOCK_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


def _validate_sarif(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)
    return document


# --- one report, every format --------------------------------------------------------------


@pytest.mark.db
def test_every_format_of_one_run_matches_its_golden(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One verify writes five files and the annotations to stdout; the JSON among them is
    tests/golden/drift.json, so every golden here renders that same report."""
    execute(database, SCHEMA)
    write(tmp_path / "schema_lock.yaml", LOCK)
    monkeypatch.chdir(tmp_path)  # report paths are relative to the working directory
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    files = {
        "json": "out/r.json",
        "sarif": "out/r.sarif",
        "junit": "out/r.xml",
        "gitlab": "out/r.gitlab.json",
        "markdown": "out/r.md",
    }
    (tmp_path / "out").mkdir()
    formats = [f"--format={name}={path}" for name, path in files.items()]
    result = run_cli("verify", "-d", database, *formats, "--format", "github")
    assert result.exit_code == 1, result.stderr
    assert result.stderr == ""

    def stable(text: str) -> str:
        text = _stable(text, "schema_lock.yaml", database)
        text = re.sub(r'"serverVersion": "[^"]+"', '"serverVersion": "X"', text)
        text = re.sub(r"database `[^`]+` \(PostgreSQL [^)]+\)", "database `neondb` (PG X)", text)
        return re.sub(r' time="[0-9.]+"', ' time="0"', text)

    def read(name: str) -> str:
        return stable((tmp_path / files[name]).read_text(encoding="utf-8"))

    _check_golden("report_drift.sarif", read("sarif"))
    _check_golden("report_drift.junit.xml", read("junit"))
    _check_golden("report_drift.gitlab.json", read("gitlab"))
    _check_golden("report_drift.comment.md", read("markdown"))
    _check_golden("report_drift.github.txt", stable(result.stdout))
    # The report all of them render is the one tests/test_cli.py keeps as drift.json.
    assert read("json") == (GOLDEN / "drift.json").read_text(encoding="utf-8")

    document = _validate_sarif(read("sarif"))
    [run] = document["runs"]
    assert len(run["results"]) == len(json.loads(read("json"))["findings"])
    first = run["results"][0]
    assert first["ruleId"] == "SL004"
    assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == "SL004"
    by_object = {
        location["logicalLocations"][0]["fullyQualifiedName"]: result
        for result in run["results"]
        for location in result["locations"]
        if "logicalLocations" in location
    }
    assert 'public."Legacy Orgs"' in by_object
    type_mismatch = next(r for r in run["results"] if r["ruleId"] == "SL105")
    [location] = type_mismatch["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "schema_lock.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 13},
    }
    assert location["logicalLocations"] == [
        {"name": "org_id", "fullyQualifiedName": "public.jobs.org_id", "kind": "column"}
    ]
    ET.fromstring((tmp_path / files["junit"]).read_bytes())  # well-formed
    issues = json.loads(read("gitlab"))
    assert [issue["severity"] for issue in issues] == ["major"] * 6 + ["minor"] * 5
    assert read("markdown").startswith("<!-- schemalock:verify -->\n")


def test_no_orphaned_goldens() -> None:
    """Every report_* golden file is in GOLDENS, and the test GOLDENS names for it exists here
    and compares against it."""
    assert {p.name for p in GOLDEN.glob("report_*")} == set(GOLDENS)
    for name, owner in GOLDENS.items():
        test = globals().get(owner)
        assert callable(test), f"{name}: no test {owner}"
        assert f'_check_golden("{name}"' in inspect.getsource(test), f"{owner} never checks {name}"


# --- several reports in one run, and where they may go ---------------------------------------


def test_several_formats_write_several_files_and_the_terminal_keeps_the_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "schema_lock.yaml", LOCK)
    monkeypatch.chdir(tmp_path)
    result = run_cli("lint", "-f", "sarif=lint.sarif", "--format", "JUNIT=lint.xml")
    assert result.exit_code == 0  # the table-count mismatch is a warning
    _validate_sarif((tmp_path / "lint.sarif").read_text(encoding="utf-8"))
    suites = ET.fromstring((tmp_path / "lint.xml").read_bytes())
    # A warning does not fail the run (exit 0): no failure in the test view either.
    assert suites.get("failures") == "0"
    [noted] = suites.iter("system-out")
    assert "SL004 table-count-mismatch" in (noted.text or "")
    # No report went to stdout, and none was text: the log still gets the text.
    assert "SL004 the lock expects 3 tables but lists 2" in result.stdout
    assert "0 errors, 1 warning, 0 info" in result.stdout

    both = run_cli("lint", "--format", "json", "-o", "lint.json", "--format", "gitlab=cq.json")
    assert both.exit_code == 0
    assert json.loads((tmp_path / "lint.json").read_text())["format"] == "schemalock-report/1"
    assert json.loads((tmp_path / "cq.json").read_text())[0]["check_name"] == (
        "SL004 table-count-mismatch"
    )
    # Every format given has a file: --output is the text's, and the terminal gets nothing,
    # as with `-o` alone.
    text_to_file = run_cli("lint", "-o", "lint.txt", "--format", "markdown=pr.md")
    assert text_to_file.stdout == ""
    assert "SL004" in (tmp_path / "lint.txt").read_text(encoding="utf-8")
    assert "SL004" in (tmp_path / "pr.md").read_text(encoding="utf-8")
    stdout = run_cli("lint", "--format", "markdown", "--format", "sarif=lint2.sarif")
    assert stdout.stdout.startswith("<!-- schemalock:lint -->\n")
    warned = run_cli("lint", "--format", "junit", "--fail-on", "warning")
    assert warned.exit_code == 1
    assert ET.fromstring(warned.stdout).get("failures") == "1"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--format", "github", "--format", "json"), "would both go to stdout"),
        (("--format", "yaml"), "unknown format 'yaml'"),
        (("--format", "sarif="), "no file after '='"),
        (("--format", "sarif=r", "--format", "junit=./r"), "name the same file"),
        (("--format", "json", "-o", "r", "--format", "sarif=r"), "name the same file"),
    ],
)
def test_format_usage_errors_exit_2_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], says: str
) -> None:
    write(tmp_path / "schema_lock.yaml", LOCK)
    monkeypatch.chdir(tmp_path)
    for command in (("lint",), ("verify", "-d", UNREACHABLE)):
        result = run_cli(*command, *args)
        assert result.exit_code == 2, (command, result.stderr)
        assert says in result.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["schema_lock.yaml"]


@pytest.mark.parametrize("fmt", ["sarif", "junit", "github", "gitlab", "markdown", "json"])
def test_a_report_over_the_lock_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    lock = tmp_path / "schema_lock.yaml"
    write(lock, LOCK)
    (tmp_path / "link.yaml").symlink_to(lock)
    monkeypatch.chdir(tmp_path)
    for named in ("schema_lock.yaml", str(lock), "link.yaml"):
        for command in (("lint",), ("verify", "-d", UNREACHABLE)):
            result = run_cli(*command, "--format", "text", "--format", f"{fmt}={named}")
            assert result.exit_code == 2, result.stderr
            assert f"--format {fmt}={named} is the lock this run reads" in result.stderr
            assert "Secr3tPw" not in result.stderr
            assert lock.read_text(encoding="utf-8") == LOCK
    given_output = run_cli("lint", "--format", fmt, "--output", "link.yaml")
    assert given_output.exit_code == 2
    assert "--output link.yaml is the lock this run reads" in given_output.stderr
    assert lock.read_text(encoding="utf-8") == LOCK


def test_github_appends_a_job_summary_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "schema_lock.yaml", LOCK)
    monkeypatch.chdir(tmp_path)
    summary = tmp_path / "step_summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    result = run_cli("lint", "--format", "github", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.exit_code == 0
    assert result.stdout.startswith("::warning file=schema_lock.yaml,line=2,title=SL004 ")
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n\n### schemalock lint: 0 errors, 1 warning, 0 info\n")
    assert "| warning | SL004 `table-count-mismatch` |" in text
    # Without the github format, the summary is left alone.
    run_cli("lint", "--format", "sarif=x.sarif", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text(encoding="utf-8") == text


# --- pure: findings that exercise each format --------------------------------------------------


def _finding(
    code: str = "SL105",
    rule: str = "column-type-mismatch",
    severity: Severity = Severity.ERROR,
    message: str = "column public.jobs.org_id is text; the lock says uuid",
    line: int | None = 13,
    **extra: Any,
) -> Finding:
    category = extra.pop("category", Category.STRUCTURE)
    return Finding(code, rule, severity, category, message, lock_line=line, fixable=True, **extra)


WEIRD = "we,ird: 100%\nname"  # a column name PostgreSQL accepts, quoted
WEIRD_FINDING = _finding(
    message=f'column public.jobs."{WEIRD}" is text;\r\nthe lock says uuid, 100%: really',
    schema="public",
    table="jobs",
    column=WEIRD,
    subject=Subject("column", "public", "jobs", WEIRD),
)
WAIVED = _finding(
    code="SL102",
    rule="extra-table",
    severity=Severity.WARNING,
    message="table public.orgs is not in the lock",
    line=3,
    schema="public",
    table="orgs",
    waived="consolidation pending (INC-42)",
)
COUNTED = _finding(schema="public", table="jobs", column="org_id")


def _report(*findings: Finding, **extra: Any) -> Report:
    return Report(findings=list(findings), lock_path="schema_lock.yaml", **extra)


def test_github_annotations_are_escaped_as_actions_core_escapes_them() -> None:
    out = github.render(_report(WEIRD_FINDING), root=None)
    first, headline = out.splitlines()
    assert first == (
        "::error file=schema_lock.yaml,line=13,"
        'title=SL105 column-type-mismatch (public.jobs."we%2Cird%3A 100%25%0Aname")'
        '::column public.jobs."we,ird: 100%25%0Aname" is text;%0D%0Athe lock says uuid, 100%25:'
        " really"
    )
    assert headline == "schemalock verify: 1 error, 0 warnings, 0 info"
    assert github.escape_data("a%0A\n") == "a%250A%0A"  # % first: no double escape
    assert github.escape_property("a:b,c%\r") == "a%3Ab%2Cc%25%0D"


def test_github_annotates_most_severe_first_and_never_a_waived_finding() -> None:
    info = _finding("SL303", "undashed-uuid-as-text", Severity.INFO, "hex ids", 20)
    warning = _finding("SL104", "extra-column", Severity.WARNING, "extra", 10)
    out = github.render(_report(info, WAIVED, warning, COUNTED)).splitlines()
    assert [line.split(" ")[0] for line in out[:-1]] == ["::error", "::warning", "::notice"]
    assert "orgs" not in "\n".join(out[:-1])
    assert out[-1] == "schemalock verify: 1 error, 1 warning, 1 info, 1 waived"


def test_step_summary_is_bounded_and_says_how_many_it_left_out() -> None:
    many = [
        _finding(message=f"column public.t{n}.c is text; the lock says uuid", table=f"t{n}")
        for n in range(3000)
    ]
    limit = 16 * 1024
    text = github.summary(_report(*many), limit=limit)
    assert len(text.encode("utf-8")) <= limit
    shown = sum(1 for line in text.splitlines() if line.startswith("| error |"))
    assert 0 < shown < 3000
    assert text.rstrip().endswith("--format json` lists them all._")
    assert f"_{3000 - shown} findings not shown," in text
    assert not text.startswith("<!--")  # the marker is the PR comment's
    whole = github.summary(_report(*many[:5]), limit=limit)
    assert "not shown" not in whole
    assert sum(1 for line in whole.splitlines() if line.startswith("| error |")) == 5


def test_waived_findings_in_every_format() -> None:
    report = _report(WAIVED, COUNTED)

    document = _validate_sarif(sarif.render(report))
    waived, counted = document["runs"][0]["results"]
    assert waived["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "consolidation pending (INC-42)",
        }
    ]
    assert "suppressions" not in counted

    assert "orgs" not in github.render(report)

    issues = json.loads(gitlab.render(report))
    assert [issue["check_name"] for issue in issues] == ["SL105 column-type-mismatch"]

    suites = ET.fromstring(junit.render(report))
    [skipped] = suites.iter("skipped")
    assert skipped.get("message") == "waived: consolidation pending (INC-42)"
    assert suites.get("skipped") == "1"
    assert suites.get("failures") == "1"

    body = comment.render(report)
    assert body.splitlines()[1] == "### schemalock verify: 1 error, 0 warnings, 0 info, 1 waived"
    waived_part = body.split("Waived (reported, not counted):")[1]
    assert (
        "| SL102 `extra-table` | `public.orgs` | table public.orgs is not in the lock"
        " | consolidation pending (INC-42) |" in waived_part
    )


def test_sarif_points_at_the_lock_line_and_names_the_object() -> None:
    report = _report(
        WEIRD_FINDING,
        _finding(
            "SL201",
            "fk-orphans",
            message="12 rows of public.usage.job_id reference no public.jobs.id",
            line=None,
            schema="public",
            table="usage",
            column="job_id",
            count=12,
            samples=("j***@example.com",),
            category=Category.INTEGRITY,
        ),
        _finding("SL601", "lock-regression", message="column dropped", path="main:lock.yaml"),
        inconclusive=[InconclusiveCheck("fk-orphans", "statement_timeout", "public", "events")],
    )
    document = _validate_sarif(sarif.render(report))
    [run] = document["runs"]
    weird, orphans, regression = run["results"]
    [logical] = weird["locations"][0]["logicalLocations"]
    assert logical["fullyQualifiedName"] == f'public.jobs."{WEIRD}"'
    assert orphans["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "schema_lock.yaml", "uriBaseId": "%SRCROOT%"}
    }
    assert orphans["properties"]["count"] == 12
    assert orphans["message"]["text"].endswith("(e.g. j***@example.com)")
    # A rule the registry does not know still gets a descriptor its index points at.
    assert run["tool"]["driver"]["rules"][regression["ruleIndex"]]["id"] == "SL601"
    # Removed: the base lock's line is no file of the pull request; the lock itself, no line.
    assert regression["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "schema_lock.yaml", "uriBaseId": "%SRCROOT%"}
    }
    assert regression["message"]["text"].endswith("(removed from main:lock.yaml:13)")
    [invocation] = run["invocations"]
    assert invocation["executionSuccessful"] is False
    assert "fk-orphans on public.events: statement_timeout" in json.dumps(invocation)
    descriptor = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "SL105")
    assert descriptor["name"] == "column-type-mismatch"
    assert descriptor["defaultConfiguration"] == {"level": "error"}
    assert "## Why it matters" in descriptor["help"]["markdown"]
    assert descriptor["fullDescription"]["text"].startswith("The column's type")


def test_fingerprints_ignore_lines_and_counts_but_not_the_object() -> None:
    def orphans(count: int, line: int, table: str = "usage") -> Finding:
        return _finding(
            "SL201",
            "fk-orphans",
            message=f"about {count} rows of public.{table}.job_id reference no public.jobs.id",
            line=line,
            schema="public",
            table=table,
            column="job_id",
        )

    report = _report()
    [before] = fingerprints(report, [orphans(12, 40)])
    [after] = fingerprints(report, [orphans(7, 52)])
    [other] = fingerprints(report, [orphans(12, 40, "events")])
    assert before == after
    assert before != other
    twice = fingerprints(report, [orphans(12, 40), orphans(12, 40)])
    assert len(set(twice)) == 2  # GitLab and code scanning would merge equal ones


def test_junit_cases_per_rule_and_object_and_passing_rules() -> None:
    report = _report(
        COUNTED,
        _finding(message="second, same object", schema="public", table="jobs", column="org_id"),
        _finding(
            "SL004",
            "table-count-mismatch",
            Severity.WARNING,
            "expects <3> & lists \x01 2",
            2,
            category=Category.LOCK,
        ),
        rules=("SL004", "SL101", "SL105", "SL201"),
        inconclusive=[InconclusiveCheck("fk-orphans", "statement_timeout", "public", "events")],
    )
    suites = ET.fromstring(junit.render(report))
    cases = {case.get("name"): [child.tag for child in case] for case in suites.iter("testcase")}
    assert cases == {
        "SL004 schema_lock.yaml": ["system-out"],  # a warning: below errors, no failure
        "SL101 missing-table": [],  # ran, found nothing: passed
        "SL105 public.jobs.org_id": ["failure"],
        "SL105 public.jobs.org_id #2": ["failure"],
        "SL201 public.events": ["error"],  # could not run: never a pass
    }
    assert [suite.get("name") for suite in suites] == ["lock", "structure", "integrity"]
    assert (suites.get("tests"), suites.get("failures"), suites.get("errors")) == ("5", "2", "1")
    lock_note = suites.find("testsuite/testcase/system-out")
    assert lock_note is not None
    assert "expects <3> & lists \\x01 2" in (lock_note.text or "")
    # With --fail-on warning the warning fails the run, and is a failure.
    strict = ET.fromstring(junit.render(report, fails=Severity.WARNING))
    lock_failure = strict.find("testsuite/testcase/failure")
    assert lock_failure is not None
    assert lock_failure.get("message") == "expects <3> & lists \\x01 2"
    assert strict.get("failures") == "3"


def test_the_comment_keeps_its_marker_and_its_table() -> None:
    pipe = _finding(
        message="column public.t.`a|b` <b>is</b> text",
        schema="public",
        table="t",
        column="a|b`",
    )
    body = comment.render(_report(pipe))
    lines = body.splitlines()
    assert lines[0] == "<!-- schemalock:verify -->"
    row = next(line for line in lines if line.startswith("| error |"))
    # Exactly the table's five cells: the pipes of the name and message are escaped.
    assert len(re.findall(r"(?<!\\)\|", row)) == 6
    assert "&lt;b&gt;is&lt;/b&gt;" in row
    assert '``public.t."a\\|b`"``' in row
    timed_out = InconclusiveCheck("fk-orphans", "statement_timeout", "public", "events")
    unsure = comment.render(_report(inconclusive=[timed_out]))
    assert "- fk-orphans on public.events: statement_timeout" in unsure.splitlines()
    annotations = github.render(_report(inconclusive=[timed_out])).splitlines()
    assert annotations[0] == (
        "::error file=schema_lock.yaml,title=inconclusive%3A fk-orphans"
        "::fk-orphans on public.events: statement_timeout"
    )
    clean = comment.render(_report())
    assert clean.splitlines()[:4] == [
        "<!-- schemalock:verify -->",
        "### schemalock verify: no findings",
        "",
        "Lock `schema_lock.yaml`.",
    ]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app_rw:***@prod-db.internal.example:5432/billing", "`billing`"),
        ("host=prod-db.internal.example user=app_rw password=*** dbname=billing", "`billing`"),
        ("postgresql:///billing?host=/run/postgresql&user=app_rw", "`billing`"),
        ("postgresql://app_rw@prod-db.internal.example", "(named by the connection)"),
    ],
)
def test_the_comment_and_job_summary_name_the_database_not_its_host_or_user(
    url: str, shown: str
) -> None:
    """A pull-request comment on a public repository is read by anyone: the database's name
    and server version only, never the host or the role the gate connects as."""
    report = _report(target_url=url, server_version="15.4 (Debian 15.4-1)")
    for body in (comment.render(report), github.summary(report)):
        for secret in ("prod-db", "app_rw", "5432"):
            assert secret not in body, body
        assert f"against database {shown} (PostgreSQL 15.4)." in body, body


def test_diff_reports_fail_only_what_fails_the_run(tmp_path: Path) -> None:
    """A progress or neutral change of `diff` (info) is a passing JUnit case with a note, as
    the exit code is 0; a regression is a failure.  The PR comment is diff's own (its marker
    differs from verify's and lint's) and names the base."""
    old = write(tmp_path / "old.yaml", LOCK)
    table = "  audit_log:\n    columns:\n      id: {type: uuid, primary_key: true}\n"
    progress = write(tmp_path / "new.yaml", LOCK.replace("tables:\n", "tables:\n" + table, 1))
    passed = run_cli("diff", old, progress, "--format", "junit")
    assert passed.exit_code == 0, passed.stdout + passed.stderr
    suites = ET.fromstring(passed.stdout)
    assert suites.get("failures") == "0"
    notes = [node.text or "" for node in suites.iter("system-out")]
    assert any("table public.audit_log added" in note for note in notes)
    regressed = run_cli("diff", progress, old, "--format", "junit")
    assert regressed.exit_code == 1
    assert ET.fromstring(regressed.stdout).get("failures") == "1"
    body = run_cli("diff", old, progress, "--format", "markdown").stdout
    assert body.splitlines()[0] == "<!-- schemalock:diff -->"
    assert f"against its base version `{old}`" in body
