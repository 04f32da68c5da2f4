"""Waivers: accepted exceptions that cannot rot.

Matching is pure (`check.waivers.apply`, the day given, never read from the clock); the lock
format refuses a waiver without a reason or with a date that is not one; and on a real
PostgreSQL a waived finding is reported but not counted, an expired waiver counts again with a
warning at its line, and a waiver that matched nothing is reported when its rule ran.  Dates in
the end-to-end tests are 2000-01-01 (always past) and 9999-12-31 (never reached)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pytest

from conftest import execute, run_cli, write
from schemalock.check import waivers
from schemalock.check.findings import Category, Finding, Severity
from schemalock.errors import LockFileError
from schemalock.lock import parse_lock
from schemalock.model import Waiver
from schemalock.rules import RULES, Rule
from schemalock.rules.columns import ColumnTypeMismatch
from schemalock.rules.data import MockData
from schemalock.rules.integrity import FkOrphans
from schemalock.rules.lockfile import DanglingReference
from schemalock.rules.tables import ExtraTable
from schemalock.rules.waivers import ExpiredWaiver, UnusedWaiver

TODAY = date(2027, 3, 1)
EVERY_RULE = (*RULES,)


def _waiver(rule: str, about: str, **extra: Any) -> Waiver:
    return Waiver(rule=rule, object=about, reason=extra.pop("reason", "accepted"), **extra)


def _extra_table(name: str = "orgs", schema: str = "public") -> Finding:
    return ExtraTable().finding(f"table {name} is not in the lock", table=(schema, name))


def _column_finding(column: str = "org_id", table: str = "jobs") -> Finding:
    return ColumnTypeMismatch().finding("is text", table=("public", table), column=column)


def _orphans(constraint: str | None = "runs_job_id_fkey") -> Finding:
    return FkOrphans().finding(
        "2 rows", table=("public", "runs"), column="job_id", constraint=constraint, count=2
    )


def _waived(findings: list[Finding], waiver_list: list[Waiver], **options: Any) -> list[Any]:
    """(rule, waived reason) of each finding `apply` returns."""
    ran = options.pop("ran", EVERY_RULE)
    applied = waivers.apply(findings, waiver_list, options.pop("today", TODAY), ran, **options)
    return [(f.rule, f.waived) for f in applied]


# --- matching: objects ------------------------------------------------------------------------


def test_object_names_of_tables_columns_and_constraints() -> None:
    assert waivers.object_names(_extra_table()) == ("public.orgs",)
    assert waivers.object_names(_column_finding()) == ("public.jobs.org_id",)
    assert waivers.object_names(_orphans()) == (
        "public.runs.job_id",
        "public.runs.runs_job_id_fkey",
    )
    lock_wide = Finding("SL004", "table-count-mismatch", Severity.WARNING, Category.LOCK, "m")
    assert waivers.object_names(lock_wide) == ("",)


@pytest.mark.parametrize(
    ("glob", "table", "column", "orphans"),
    [
        ("public.orgs", True, False, False),
        ("public.jobs", False, False, False),  # a table's name is not its columns'
        ("public.jobs.*", False, True, False),
        ("public.jobs.org_id", False, True, False),
        ("public.runs.runs_job_id_fkey", False, False, True),  # by the constraint
        ("public.runs.job_id", False, False, True),  # or by the column
        ("public.*", True, True, True),  # `*` crosses dots
        ("*", True, True, True),
        ("orgs", False, False, False),  # objects are schema-qualified
        ("public.ORGS", False, False, False),  # names are exact, as in PostgreSQL
        ("public.org?", True, False, False),
        ("billing.*", False, False, False),
    ],
)
def test_object_is_a_glob_on_the_qualified_name(
    glob: str, table: bool, column: bool, orphans: bool
) -> None:
    for finding, expected in (
        (_extra_table(), table),
        (_column_finding(), column),
        (_orphans(), orphans),
    ):
        assert waivers.matches(_waiver(finding.rule, glob), finding) is expected, finding.rule


def test_quoted_identifiers_as_the_lock_spells_them() -> None:
    spaced = _extra_table("Order Items")
    dotted = _extra_table("v1.orders")
    assert waivers.object_names(spaced) == ("public.Order Items",)
    assert waivers.matches(_waiver("extra-table", "public.Order Items"), spaced)
    assert waivers.object_names(dotted) == ('public."v1.orders"',)
    assert waivers.matches(_waiver("extra-table", 'public."v1.orders"'), dotted)
    assert not waivers.matches(_waiver("extra-table", "public.v1.orders"), dotted)


# --- matching: rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("SL102", True),
        ("sl102", True),
        ("SL1", True),  # a code prefix, as --select reads it
        ("extra-table", True),
        ("Extra-Table", True),
        ("structure", True),  # a category
        ("SL2", False),
        ("extra", False),
        ("missing-table", False),
        ("data", False),
        ("regression", False),
    ],
)
def test_rule_by_code_prefix_name_or_category(selector: str, expected: bool) -> None:
    assert waivers.matches(_waiver(selector, "*"), _extra_table()) is expected


class _Regression(Rule):
    """Stands for `diff`'s regression rule, whatever its code."""

    code, name = "SL699", "test-regression"
    severity, category = Severity.ERROR, Category.REGRESSION
    needs_database: ClassVar[bool] = False


def test_regression_waiver_matches_any_regression() -> None:
    weakened = _Regression().finding("org_id: NOT NULL removed", table=("public", "jobs"))
    weakened_column = _Regression().finding("type loosened", table=("public", "jobs"), column="id")
    regression = _waiver("regression", "public.jobs", reason="split in two PRs")
    assert waivers.matches(regression, weakened)
    assert not waivers.matches(regression, weakened_column)  # the object still has to match
    assert not waivers.matches(regression, _extra_table("jobs"))  # drift is no regression
    assert waivers.matches(_waiver("test-regression", "public.jobs"), weakened)
    assert waivers.matches(_waiver("SL699", "public.jobs"), weakened)
    # Outside diff no regression rule runs: such a waiver is never called unused there.
    assert _waived([], [regression], ran=[ExtraTable, UnusedWaiver]) == []
    assert _waived([], [regression], ran=[_Regression, UnusedWaiver]) == [("unused-waiver", None)]
    assert _waived([weakened], [regression], ran=[_Regression, UnusedWaiver]) == [
        ("test-regression", "split in two PRs")
    ]


# --- apply ------------------------------------------------------------------------------------


def test_a_matched_finding_is_waived_with_the_first_reason_and_others_stay() -> None:
    listed = [
        _waiver("extra-table", "public.orgs", reason="consolidation pending"),
        _waiver("SL1", "public.*", reason="broad, second"),
    ]
    got = _waived([_extra_table(), _extra_table("legacy"), _column_finding()], listed)
    assert sorted(got, key=str) == sorted(
        [
            ("extra-table", "consolidation pending"),
            ("extra-table", "broad, second"),
            ("column-type-mismatch", "broad, second"),
        ],
        key=str,
    )
    # Both waivers matched something: neither is unused.
    assert not any(rule == "unused-waiver" for rule, _ in got)


def test_waived_findings_are_reported_but_not_counted() -> None:
    from schemalock.check.findings import Report

    applied = waivers.apply(
        [_column_finding()], [_waiver("SL105", "public.jobs.org_id")], TODAY, EVERY_RULE
    )
    report = Report(findings=applied)
    assert len(report.findings) == 1
    assert report.counted == []
    assert not report.failed(Severity.INFO)
    assert report.counts() == {"error": 0, "warning": 0, "info": 0}


def test_expiry_is_inclusive_of_the_day_and_warns_at_the_waiver_line() -> None:
    waiver = _waiver("extra-table", "public.orgs", expires=TODAY, line=17)
    still = _waived([_extra_table()], [waiver], today=date(2027, 2, 28))
    assert still == [("extra-table", "accepted")]
    applied = waivers.apply([_extra_table()], [waiver], TODAY, EVERY_RULE)
    assert [(f.rule, f.waived) for f in applied] == [
        ("expired-waiver", None),
        ("extra-table", None),
    ]
    expired = applied[0]
    assert (expired.code, expired.severity, expired.lock_line) == ("SL007", Severity.WARNING, 17)
    assert "expired on 2027-03-01" in expired.message
    assert (expired.expected, expired.actual) == ("2027-03-01", "2027-03-01")
    # An expired waiver is not also "unused", and under --ignore expired-waiver says nothing.
    quiet = [rule for rule in EVERY_RULE if rule is not ExpiredWaiver]
    assert _waived([], [waiver], ran=quiet) == []


def test_unused_only_when_a_rule_it_names_ran() -> None:
    orphans = _waiver("fk-orphans", "public.runs.*", line=9)
    both = [FkOrphans, UnusedWaiver]
    applied = waivers.apply([], [orphans], TODAY, both)
    assert [(f.code, f.lock_line) for f in applied] == [("SL008", 9)]
    assert "matched no finding" in applied[0].message
    assert _waived([], [orphans], ran=[ExtraTable, UnusedWaiver]) == []  # --no-data, --select
    assert _waived([], [orphans], ran=[FkOrphans]) == []  # --ignore unused-waiver
    assert _waived([_orphans()], [orphans], ran=both) == [("fk-orphans", "accepted")]
    # A category or prefix counts as naming every rule in it.
    assert _waived([], [_waiver("data", "*")], ran=[MockData, UnusedWaiver]) == [
        ("unused-waiver", None)
    ]
    assert _waived([], [_waiver("SL2", "*")], ran=[MockData, UnusedWaiver]) == []


def test_a_waiver_naming_no_rule_is_always_reported() -> None:
    typo = _waiver("extra-tabel", "public.orgs")
    applied = waivers.apply([_extra_table()], [typo], TODAY, [UnusedWaiver])
    assert [(f.rule, f.waived) for f in applied] == [("unused-waiver", None), ("extra-table", None)]
    assert "names no rule" in applied[0].message
    assert waivers.known_rule("regression")
    assert waivers.known_rule("SL4")
    assert not waivers.known_rule("SL9")


def test_what_makes_the_lock_invalid_is_never_waived() -> None:
    broken = DanglingReference().finding("references nothing", table=("public", "jobs"))
    assert _waived([broken], [_waiver("*", "*"), _waiver("SL001", "*")], ran=[]) == [
        ("dangling-reference", None)
    ]


def test_an_already_waived_finding_is_left_alone() -> None:
    acknowledged = Finding(
        "SL102", "extra-table", Severity.WARNING, Category.STRUCTURE, "m", "public", "orgs",
        waived="acknowledged in the PR",
    )  # fmt: skip
    got = _waived([acknowledged], [_waiver("extra-table", "*")], ran=[ExtraTable, UnusedWaiver])
    assert sorted(got, key=str) == [
        ("extra-table", "acknowledged in the PR"),
        ("unused-waiver", None),
    ]


def test_accept_may_refuse_a_match() -> None:
    """`diff` accepts a regression on a critical object only from a waiver naming it exactly."""

    def exact(waiver: Waiver, finding: Finding) -> bool:
        return not any(char in waiver.object for char in "*?[")

    globbed = _waiver("extra-table", "public.*")
    assert _waived([_extra_table()], [globbed], accept=exact, ran=[]) == [("extra-table", None)]
    named = _waiver("extra-table", "public.orgs")
    assert _waived([_extra_table()], [globbed, named], accept=exact, ran=[]) == [
        ("extra-table", "accepted")
    ]
    assert waivers.matching(_extra_table(), [globbed, named], TODAY, exact) == [named]


# --- the lock format --------------------------------------------------------------------------

LOCK_HEAD = "version: 1\ntables:\n  orgs: {columns: {id: {type: uuid}}}\nwaivers:\n"


def test_waivers_load_with_their_lines() -> None:
    lock = parse_lock(
        LOCK_HEAD
        + "  - {rule: extra-table, object: public.orgs, reason: ' pending ', expires: 2027-03-01}\n"
        + "  - rule: SL401\n    object: 'public.jobs.*'\n"
        + "    reason: seed data\n    owner: data-team\n"
    )
    first, second = lock.waivers
    assert first == Waiver("extra-table", "public.orgs", "pending", date(2027, 3, 1))
    assert (first.line, second.line) == (5, 6)
    assert (second.owner, second.expires) == ("data-team", None)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{rule: extra-table, object: public.orgs}", "waivers.0.reason: Field required"),
        ("{rule: extra-table, object: public.orgs, reason: '  '}", "a waiver needs a reason"),
        ("{rule: extra-table, object: public.orgs, reason: ''}", "a waiver needs a reason"),
        ("{rule: '', object: public.orgs, reason: r}", "waivers.0.rule"),
        ("{rule: x, object: public.orgs, reason: r, expires: 2027-02-30}", "is not a date"),
        ("{rule: x, object: public.orgs, reason: r, expires: 1700000000}", "ISO date"),
        ("{rule: x, object: public.orgs, reason: r, expires: next week}", "ISO date"),
        ("{rule: x, object: public.orgs, reason: r, until: 2027-01-01}", "unknown key 'until'"),
        # A code prefix waives whole families of rules (and those added later): --select's.
        ("{rule: SL, object: '*', reason: quiet}", "'SL' is a code prefix: a waiver names one"),
        ("{rule: sl4, object: public.orgs, reason: r}", "'sl4' is a code prefix"),
        ("{rule: SL60, object: public.orgs, reason: r}", "'SL60' is a code prefix"),
    ],
)
def test_a_bad_waiver_is_refused_at_its_line(entry: str, message: str) -> None:
    with pytest.raises(LockFileError) as refused:
        parse_lock(LOCK_HEAD + f"  - {entry}\n", "schema_lock.yaml")
    assert refused.value.line == 5
    assert message in str(refused.value)
    assert str(refused.value).startswith("schema_lock.yaml:5:")
    # Plain words: no pydantic class names or error kinds.
    assert "Value error" not in str(refused.value)
    assert "WaiverSpec" not in str(refused.value)


def test_a_waiver_that_is_no_mapping_says_so_plainly() -> None:
    with pytest.raises(LockFileError) as refused:
        parse_lock(LOCK_HEAD + "  - extra-table\n", "schema_lock.yaml")
    assert str(refused.value).endswith(
        "waivers.0: a mapping of keys is expected, not 'extra-table'"
    )


def test_full_codes_names_and_categories_load() -> None:
    lock = parse_lock(
        LOCK_HEAD
        + "  - {rule: SL102, object: public.orgs, reason: r}\n"
        + "  - {rule: extra-table, object: public.orgs, reason: r}\n"
        + "  - {rule: structure, object: public.orgs, reason: r}\n"
    )
    assert [w.rule for w in lock.waivers] == ["SL102", "extra-table", "structure"]


@pytest.mark.parametrize(
    ("rule", "glob", "expected"),
    [
        ("structure", "*", True),  # a category on every object
        ("data", "*.*", True),
        ("structure", "public.*", False),  # one schema: named objects
        ("extra-table", "*", False),  # one rule: narrower than a category
        ("SL102", "*", False),
    ],
)
def test_a_blanket_waiver_is_a_category_on_every_object(
    rule: str, glob: str, expected: bool
) -> None:
    assert waivers.blanket(_waiver(rule, glob)) is expected


def test_a_finding_on_a_critical_object_needs_its_exact_name() -> None:
    """As in `diff`: a glob that happens to cover a critical table or column waives nothing
    there; naming it does."""
    accept = waivers.exact_on_critical(frozenset({"public.orgs", "public.jobs.org_id"}))
    glob, named = _waiver("extra-table", "public.*"), _waiver("extra-table", "public.orgs")
    assert _waived([_extra_table()], [glob], accept=accept, ran=[]) == [("extra-table", None)]
    assert _waived([_extra_table()], [named], accept=accept, ran=[]) == [
        ("extra-table", "accepted")
    ]
    column = _waiver("column-type-mismatch", "public.jobs.*")
    assert _waived([_column_finding()], [column], accept=accept, ran=[]) == [
        ("column-type-mismatch", None)
    ]
    other = _column_finding("note")  # jobs itself is not critical: the glob will do
    assert _waived([other], [column], accept=accept, ran=[]) == [
        ("column-type-mismatch", "accepted")
    ]


def test_invariants_and_query_contracts_match_by_their_bare_name() -> None:
    """One spelling for both commands: verify names a query contract's finding with its
    table, diff by the contract alone; the bare name matches both."""
    from schemalock.rules.contracts import FlowViolation, QueryContractFailed

    failed = QueryContractFailed().finding(
        "fails", table=("public", "jobs"), constraint="analyses_stats"
    )
    violated = FlowViolation().finding(
        "2 rows", table=("public", "jobs"), constraint="no_job_stuck_running"
    )
    assert waivers.matches(_waiver("query-contract-failed", "analyses_stats"), failed)
    assert waivers.matches(_waiver("query-contract-failed", "public.jobs.analyses_stats"), failed)
    assert waivers.matches(_waiver("flow-violation", "no_job_stuck_running"), violated)
    # ...but a column finding is still named by its table.
    assert not waivers.matches(_waiver("column-type-mismatch", "org_id"), _column_finding())


def test_a_bad_waiver_exits_2_with_one_line(tmp_path: Path) -> None:
    lock = write(tmp_path / "schema_lock.yaml", LOCK_HEAD + "  - {rule: SL102, object: x}\n")
    result = run_cli("lint", "--lock", lock)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert f"{lock}:5:" in result.stderr
    assert "reason" in result.stderr


def test_lint_applies_waivers(tmp_path: Path) -> None:
    counted = (
        "version: 1\ndatabase: {expected_tables: 2}\ntables:\n  a: {columns: {x: {type: int}}}\n"
    )
    lock = write(tmp_path / "schema_lock.yaml", counted)
    assert run_cli("lint", "--lock", lock, "--fail-on", "warning").exit_code == 1
    write(
        tmp_path / "schema_lock.yaml",
        counted + "waivers:\n  - {rule: SL004, object: '*', reason: b comes with the next PR}\n",
    )
    result = run_cli("lint", "--lock", lock, "--fail-on", "warning")
    assert result.exit_code == 0, result.stdout
    assert "waived (1):" in result.stdout
    assert "waived: b comes with the next PR" in result.stdout


# --- verify on a real database ----------------------------------------------------------------

SCHEMA = """
CREATE TABLE organizations (id uuid PRIMARY KEY);
CREATE TABLE jobs (id uuid PRIMARY KEY, org_id text);
CREATE TABLE orgs (id uuid);
"""

LOCK = """version: 1
tables:
  organizations:
    columns:
      id: {type: uuid, primary_key: true}
  jobs:
    columns:
      id: {type: uuid, primary_key: true}
      org_id: {type: uuid}
waivers:
  - rule: column-type-mismatch
    object: public.jobs.org_id
    reason: converted in the jobs PR
    expires: EXPIRES
  - {rule: extra-table, object: public.orgs, reason: consolidation pending, owner: data}
"""


def _verify(url: str, lock: str, *options: str) -> tuple[int, dict[str, Any], str]:
    as_json = run_cli("verify", "--lock", lock, "--database-url", url, "-f", "json", *options)
    text = run_cli("verify", "--lock", lock, "--database-url", url, *options)
    assert text.exit_code == as_json.exit_code
    return as_json.exit_code, json.loads(as_json.stdout), text.stdout


@pytest.mark.db
def test_a_waived_drift_passes_and_is_shown_as_waived(database: str, tmp_path: Path) -> None:
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", LOCK.replace("EXPIRES", "9999-12-31"))
    code, report, text = _verify(database, lock, "--fail-on", "warning")
    assert code == 0, text
    waived = {f["rule"]: f["waived"] for f in report["findings"]}
    assert waived == {
        "column-type-mismatch": "converted in the jobs PR",
        "extra-table": "consolidation pending",
    }
    assert report["summary"] == {
        "error": 0, "warning": 0, "info": 0, "waived": 2, "inconclusive": 0,
        "duration_ms": report["summary"]["duration_ms"],
    }  # fmt: skip
    assert "waived (2):" in text
    assert "public.jobs: error   SL105" in text
    assert "waived: converted in the jobs PR" in text
    assert text.splitlines()[-1].startswith("0 errors, 0 warnings, 0 info, 2 waived")


@pytest.mark.db
def test_an_expired_waiver_counts_again_with_a_warning(database: str, tmp_path: Path) -> None:
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", LOCK.replace("EXPIRES", "2000-01-01"))
    code, report, text = _verify(database, lock)
    assert code == 1, text
    by_rule = {f["rule"]: f for f in report["findings"]}
    assert by_rule["column-type-mismatch"]["waived"] is None
    assert by_rule["extra-table"]["waived"] == "consolidation pending"
    expired = by_rule["expired-waiver"]
    assert (expired["code"], expired["severity"], expired["lock_line"]) == ("SL007", "warning", 11)
    assert "expired on 2000-01-01" in expired["message"]
    assert "unused-waiver" not in by_rule
    assert "waived (1):" in text


@pytest.mark.db
def test_an_unused_waiver_is_reported_when_its_rule_ran(database: str, tmp_path: Path) -> None:
    execute(database, SCHEMA)
    unused = "  - {rule: fk-orphans, object: 'public.jobs.*', reason: cleanup in Q3}\n"
    lock = write(tmp_path / "schema_lock.yaml", LOCK.replace("EXPIRES", "9999-12-31") + unused)
    code, report, _ = _verify(database, lock, "--fail-on", "warning")
    assert code == 1
    [found] = [f for f in report["findings"] if f["waived"] is None]
    assert (found["rule"], found["lock_line"]) == ("unused-waiver", 16)
    assert "fk-orphans on public.jobs.*" in found["message"]
    # fk-orphans reads rows: under --no-data it did not run, and says nothing of its waiver.
    assert _verify(database, lock, "--fail-on", "warning", "--no-data")[0] == 0
    # Neither does a rule left out by --ignore; the rest is still waived.
    code, report, _ = _verify(database, lock, "--fail-on", "warning", "--ignore", "SL2,SL102")
    assert code == 0
    assert [f["rule"] for f in report["findings"]] == ["column-type-mismatch"]


CONTRACTS = """version: 1
tables:
  jobs:
    critical: true
    columns:
      id: {type: uuid, primary_key: true}
      org_id: {type: uuid}
queries:
  stats:
    sql: SELECT count(*) FROM jobs WHERE owner = $1
    params: [uuid]
"""


@pytest.mark.db
def test_one_waiver_spelling_for_verify_and_diff(database: str, tmp_path: Path) -> None:
    """A query contract is named by its bare name in `verify` and in `diff` alike."""
    execute(database, "CREATE TABLE jobs (id uuid PRIMARY KEY, org_id text);")
    plain = write(tmp_path / "plain.yaml", CONTRACTS)
    code, report, _ = _verify(database, plain, "--no-data")
    assert code == 1
    assert "query-contract-failed" in {f["rule"] for f in report["findings"]}
    waived = CONTRACTS + "waivers:\n  - {rule: query-contract-failed, object: stats, reason: r}\n"
    lock = write(tmp_path / "schema_lock.yaml", waived)
    _, report, _ = _verify(database, lock, "--no-data")
    by_rule = {f["rule"]: f["waived"] for f in report["findings"]}
    assert by_rule["query-contract-failed"] == "r"
    assert "unused-waiver" not in by_rule
    # diff: the same contract changed, acknowledged by the same spelling.
    changed = CONTRACTS.replace("WHERE owner = $1", "WHERE org_id = $1")
    new = write(
        tmp_path / "new.yaml",
        changed + "waivers:\n  - {rule: regression, object: stats, reason: the column is org_id}\n",
    )
    result = run_cli("diff", plain, new, "--format", "json")
    assert result.exit_code == 0, result.stdout
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["rule"], finding["waived"]) == ("lock-regression", "the column is org_id")


@pytest.mark.db
def test_verify_waives_a_critical_table_s_finding_only_by_its_name(
    database: str, tmp_path: Path
) -> None:
    """`jobs` is critical: `public.*` does not waive its drift, `public.jobs.org_id` does."""
    execute(database, "CREATE TABLE jobs (id uuid PRIMARY KEY, org_id text);")
    glob = CONTRACTS.replace("queries:", "ignored_queries:").split("ignored_queries:")[0]
    lock = write(
        tmp_path / "schema_lock.yaml",
        glob + "waivers:\n  - {rule: column-type-mismatch, object: 'public.*', reason: broad}\n",
    )
    code, report, _ = _verify(database, lock, "--no-data")
    assert code == 1
    mismatch = next(f for f in report["findings"] if f["rule"] == "column-type-mismatch")
    assert mismatch["waived"] is None
    exact = glob + (
        "waivers:\n  - {rule: column-type-mismatch, object: public.jobs.org_id, reason: named}\n"
    )
    write(tmp_path / "schema_lock.yaml", exact)
    code, report, _ = _verify(database, lock, "--no-data")
    assert code == 0, report
    mismatch = next(f for f in report["findings"] if f["rule"] == "column-type-mismatch")
    assert mismatch["waived"] == "named"
