"""Row-level security and policies (issue 12): snapshot then verify is silent, each aspect's
drift is reported by its rule (missing, extra, changed; RLS off where the lock has it on is an
error), the catalog's printing of USING / WITH CHECK is no drift, `fix` leaves an extra
policy and one naming a missing role for a person (tests/test_fix_security.py: what it
repairs), and
`schemalock diff` judges a weakened isolation as a regression.  Policies name PostgreSQL's
predefined roles (pg_monitor, pg_read_all_stats): roles are cluster-wide, and the shared test
server must not collect test roles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import execute, fix_notes, run_cli
from test_diff import BASE, judge, seen
from test_roundtrip import snapshot

SECURED = """
CREATE TABLE organizations (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE documents (id int PRIMARY KEY, org_id int NOT NULL, body text);
CREATE TABLE audit (id int PRIMARY KEY);
CREATE TABLE drafts (id int PRIMARY KEY, org_id int);
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
ALTER TABLE audit ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON documents
    USING (org_id = current_setting('app.org')::int)
    WITH CHECK (org_id = current_setting('app.org')::int);
CREATE POLICY readers ON documents FOR SELECT TO pg_monitor, pg_read_all_stats
    USING (body IS NOT NULL AND org_id > 0);
CREATE POLICY no_deletes ON documents AS RESTRICTIVE FOR DELETE USING (false);
CREATE POLICY inserts ON documents FOR INSERT WITH CHECK (org_id IN (1, 2, 3));
CREATE POLICY later ON drafts USING (true);
"""


def _verify(lock: Path, url: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", url, "--format", "json", *extra
    )
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def _found(report: dict[str, Any]) -> list[tuple[str, str | None, str | None, str]]:
    return sorted(
        (f["rule"], f["table"], f["constraint"], f["severity"]) for f in report["findings"]
    )


@pytest.mark.db
def test_round_trip_is_silent_and_complete(database: str, tmp_path: Path) -> None:
    """Every table with row-level security or policies is written (enabled, forced, command,
    mode, roles, conditions), deterministically, and verifies silent against its database;
    nothing of it is reported as not covered."""
    execute(database, SECURED)
    lock = tmp_path / "schema_lock.yaml"
    document = yaml.safe_load(snapshot(database, lock))
    security = document["row_security"]
    assert sorted(security) == ["audit", "documents", "drafts"]
    assert security["audit"] == {}, "enabled, not forced, no policy: the defaults"
    assert security["drafts"] == {"enabled": False, "policies": {"later": {"using": "true"}}}
    documents = security["documents"]
    assert documents["forced"] is True
    assert sorted(documents["policies"]) == ["inserts", "no_deletes", "readers", "tenant_isolation"]
    assert documents["policies"]["readers"]["roles"] == ["pg_monitor", "pg_read_all_stats"]
    assert documents["policies"]["readers"]["command"] == "select"
    assert documents["policies"]["no_deletes"] == {
        "command": "delete",
        "restrictive": True,
        "using": "false",
    }
    assert "with_check" in documents["policies"]["tenant_isolation"]
    exit_code, report = _verify(lock, database, "--fail-on", "info")
    assert report["findings"] == [], [f["message"] for f in report["findings"]]
    assert exit_code == 0
    kinds = {k["kind"]: k for k in report["coverage"]["kinds"]}
    assert kinds["policy"] == {"kind": "policy", "database": 5, "lock": 5, "compared": 5}
    assert kinds["row-level security"]["compared"] == 2
    not_covered = {i["kind"] for i in report["coverage"]["not_covered"]}
    assert not not_covered & {"policy", "row-level security"}, not_covered
    assert snapshot(database, tmp_path / "again.yaml") == lock.read_text(), "deterministic"


DRIFT = {
    "rls disabled": (
        "ALTER TABLE documents DISABLE ROW LEVEL SECURITY",
        [("rls-mismatch", "documents", None, "error")],
    ),
    "no longer forced": (
        "ALTER TABLE documents NO FORCE ROW LEVEL SECURITY",
        [("rls-mismatch", "documents", None, "error")],
    ),
    "rls enabled where the lock has it off": (
        "ALTER TABLE organizations ENABLE ROW LEVEL SECURITY",
        [("rls-mismatch", "organizations", None, "warning")],
    ),
    "policy dropped": (
        "DROP POLICY tenant_isolation ON documents",
        [("missing-policy", "documents", "tenant_isolation", "error")],
    ),
    "policy added": (
        "CREATE POLICY debug_all ON documents USING (true)",
        [("extra-policy", "documents", "debug_all", "warning")],
    ),
    "using widened": (
        "ALTER POLICY tenant_isolation ON documents USING (true)",
        [("policy-changed", "documents", "tenant_isolation", "error")],
    ),
    "with check changed": (
        "ALTER POLICY inserts ON documents WITH CHECK (org_id IN (1, 2))",
        [("policy-changed", "documents", "inserts", "error")],
    ),
    "roles changed": (
        "ALTER POLICY readers ON documents TO pg_monitor",
        [("policy-changed", "documents", "readers", "error")],
    ),
    "command and mode changed": (
        "DROP POLICY no_deletes ON documents;"
        " CREATE POLICY no_deletes ON documents FOR UPDATE USING (false)",
        [("policy-changed", "documents", "no_deletes", "error")],
    ),
}


@pytest.mark.db
@pytest.mark.parametrize("sql", DRIFT.values(), ids=DRIFT.keys())
def test_drift(
    database: str, tmp_path: Path, sql: tuple[str, list[tuple[str, str, str | None, str]]]
) -> None:
    statement, expected = sql
    execute(database, SECURED)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, statement)
    exit_code, report = _verify(lock, database, "--no-data")
    assert _found(report) == sorted(expected), [f["message"] for f in report["findings"]]
    assert exit_code == (1 if expected[0][3] == "error" else 0)


HAND_WRITTEN = """\
version: 1
tables:
  documents:
    columns:
      id: {type: int, primary_key: true}
      org_id: {type: int, nullable: false}
row_security:
  documents:
    policies:
      tenant_isolation:
        roles: [pg_read_all_stats, pg_monitor]
        using: org_id = current_setting('app.org')::int   # the tenant boundary
        with_check: "(org_id = current_setting('app.org')::integer)"
"""


@pytest.mark.db
def test_a_hand_written_lock_is_no_drift(database: str, tmp_path: Path) -> None:
    """Conditions written by hand (no catalog casts, other parentheses), roles in another
    order: compared on the parse tree, silent."""
    execute(
        database,
        "CREATE TABLE documents (id int PRIMARY KEY, org_id int NOT NULL);"
        " ALTER TABLE documents ENABLE ROW LEVEL SECURITY;"
        " CREATE POLICY tenant_isolation ON documents TO pg_monitor, pg_read_all_stats"
        " USING (org_id = (current_setting('app.org'::text))::integer)"
        " WITH CHECK (org_id = current_setting('app.org')::int)",
    )
    lock = tmp_path / "schema_lock.yaml"
    lock.write_text(HAND_WRITTEN, encoding="utf-8")
    exit_code, report = _verify(lock, database, "--fail-on", "info")
    assert report["findings"] == [], [f["message"] for f in report["findings"]]
    assert exit_code == 0


@pytest.mark.db
def test_fix_leaves_extra_policies_and_missing_roles_for_a_person(
    database: str, tmp_path: Path
) -> None:
    """Row-level security and policies are repaired (tests/test_fix_security.py), but an extra
    policy is left alone, and so is a policy naming a role the cluster lacks."""
    execute(database, SECURED)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    lock.write_text(
        lock.read_text(encoding="utf-8").replace("pg_read_all_stats", "sl_k2_no_such_role"),
        encoding="utf-8",
    )
    execute(
        database,
        "DROP POLICY readers ON documents; CREATE POLICY debug_all ON documents USING (true)",
    )
    said = fix_notes(database, lock, tmp_path / "migrations")
    assert "no revision written" in said, said
    assert "policy debug_all on public.documents: extra policies are reported and left" in said
    assert (
        "policy readers on public.documents: role sl_k2_no_such_role does not exist; create it"
    ) in said, said


GUARDED = (
    BASE
    + """\
row_security:
  organizations:
    forced: true
    policies:
      own: {restrictive: true, roles: [app], using: "id = current_setting('app.org')::uuid"}
      audit: {command: select, roles: [auditor], using: "true"}
"""
)


def _judged(old: str, new: str) -> list[tuple[str, str]]:
    assert GUARDED.count(old) == 1, old
    return seen(judge(GUARDED.replace(old, new), GUARDED))


def test_diff_judges_weakened_isolation_as_a_regression() -> None:
    """RLS turned off or unforced, a policy removed or widened: regressions; RLS and a
    policy added: progress; a narrowed policy: neutral."""
    assert _judged("    forced: true\n", "") == [
        (
            "lock-regression",
            "row-level security of public.organizations: enabled and forced -> enabled",
        )
    ]
    assert _judged("    forced: true\n", "    enabled: false\n") == [
        (
            "lock-regression",
            "row-level security of public.organizations: enabled and forced -> disabled",
        )
    ]
    removed = _judged('      audit: {command: select, roles: [auditor], using: "true"}\n', "")
    assert removed == [("lock-regression", "policy audit on public.organizations removed")]
    assert _judged("restrictive: true, roles: [app]", "roles: [app]") == [
        ("lock-regression", "policy own on public.organizations: mode changed")
    ]
    assert _judged("roles: [auditor]", "roles: [auditor, public]") == [
        ("lock-regression", "policy audit on public.organizations: roles changed")
    ]
    assert _judged('using: "true"', 'using: "id IS NOT NULL"') == [
        ("lock-change", "policy audit on public.organizations: using changed")
    ]
    added = seen(judge(GUARDED, BASE))
    assert ("lock-progress", "row-level security of public.organizations: disabled -> "
            "enabled and forced") in added  # fmt: skip
    assert ("lock-progress", "policy own on public.organizations added") in added


@pytest.mark.db
def test_a_new_schema_with_secured_tables_is_reported(database: str, tmp_path: Path) -> None:
    """Row-level security and policies of a schema the lock does not list are counted in
    its extra-schema finding, and each policy is an extra-policy."""
    execute(database, "CREATE TABLE customers (id int PRIMARY KEY)")
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(
        database,
        "CREATE SCHEMA tenant; CREATE TABLE tenant.notes (id int);"
        " ALTER TABLE tenant.notes ENABLE ROW LEVEL SECURITY;"
        " CREATE POLICY a ON tenant.notes USING (true); CREATE POLICY b ON tenant.notes"
        " USING (false)",
    )
    _, report = _verify(lock, database)
    assert [f["message"] for f in report["findings"]] == [
        "schema tenant is not in the lock (it holds 2 policies, 1 row-level security, 1 table)",
        "table tenant.notes is not in the lock",
        "policy a on tenant.notes is not in the lock",
        "policy b on tenant.notes is not in the lock",
    ]
