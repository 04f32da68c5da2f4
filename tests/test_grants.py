"""Privileges (issue 12): snapshot then verify is silent, each kind of grant's drift is
reported (missing, extra, to PUBLIC), roles the lock does not name are not judged, a role the
lock names that the cluster lacks is `missing-role` (which `fix` leaves for a person;
tests/test_fix_grants.py: the grants it repairs), and `schemalock
diff` judges a grant to PUBLIC a regression.  Grantees are PostgreSQL's predefined roles
(pg_monitor, pg_read_all_stats, pg_signal_backend): roles are cluster-wide, and the shared
test server must not collect test roles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import execute, fix_notes, query, run_cli
from test_diff import BASE, judge, seen
from test_roundtrip import snapshot

GRANTED = """
CREATE SCHEMA billing;
CREATE TABLE documents (id int PRIMARY KEY, org_id int, email text);
CREATE TABLE billing.invoices (id serial PRIMARY KEY);
CREATE SEQUENCE invoice_numbers;
CREATE FUNCTION org_quota(org int) RETURNS int LANGUAGE sql AS $$ SELECT org $$;
GRANT SELECT, INSERT ON documents TO pg_monitor;
GRANT SELECT ON documents TO pg_read_all_stats;
GRANT SELECT ON documents TO PUBLIC;
GRANT SELECT (email) ON documents TO pg_signal_backend;
GRANT USAGE ON SCHEMA billing TO pg_monitor;
GRANT SELECT ON billing.invoices TO pg_monitor;
GRANT USAGE, SELECT ON SEQUENCE billing.invoices_id_seq TO pg_monitor;
GRANT USAGE ON SEQUENCE invoice_numbers TO pg_monitor;
REVOKE EXECUTE ON FUNCTION org_quota(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION org_quota(int) TO pg_monitor;
ALTER DEFAULT PRIVILEGES IN SCHEMA billing GRANT SELECT ON TABLES TO pg_read_all_stats;
"""


def _verify(lock: Path, url: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", url, "--format", "json", *extra
    )
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def _found(report: dict[str, Any]) -> list[tuple[str, str | None, str, str]]:
    return sorted(
        (f["rule"], f["table"], f["constraint"], f["severity"]) for f in report["findings"]
    )


@pytest.mark.db
def test_round_trip_is_silent_and_complete(database: str, tmp_path: Path) -> None:
    """Every explicit grant is written (the owner's and PostgreSQL's untouched defaults are
    not), deterministically, and verifies silent."""
    execute(database, GRANTED)
    lock = tmp_path / "schema_lock.yaml"
    grants = yaml.safe_load(snapshot(database, lock))["grants"]
    assert grants["tables"] == {
        "documents": {
            "pg_monitor": ["select", "insert"],
            "pg_read_all_stats": ["select"],
            "public": ["select"],
        },
        "billing.invoices": {"pg_monitor": ["select"]},
    }
    assert grants["columns"] == {"documents.email": {"pg_signal_backend": ["select"]}}
    assert grants["sequences"] == {
        "billing.invoices_id_seq": {"pg_monitor": ["select", "usage"]},
        "invoice_numbers": {"pg_monitor": ["usage"]},
    }
    assert grants["functions"] == {"org_quota(integer)": {"pg_monitor": ["execute"]}}
    assert grants["schemas"] == {"billing": {"pg_monitor": ["usage"]}}, (
        "PUBLIC's USAGE on schema public is every new database's, not a grant"
    )
    assert grants["defaults"] == {
        "billing": {"postgres": {"tables": {"pg_read_all_stats": ["select"]}}}
    }
    exit_code, report = _verify(lock, database, "--fail-on", "info")
    assert report["findings"] == [], [f["message"] for f in report["findings"]]
    assert exit_code == 0
    assert snapshot(database, tmp_path / "again.yaml") == lock.read_text(), "deterministic"


DRIFT = {
    "revoked": (
        "REVOKE INSERT ON documents FROM pg_monitor",
        [("missing-grant", "documents", "pg_monitor", "error")],
    ),
    "widened": (
        "GRANT DELETE ON documents TO pg_read_all_stats",
        [("extra-grant", "documents", "pg_read_all_stats", "warning")],
    ),
    "on another table, to a named role": (
        "CREATE TABLE notes (id int); GRANT SELECT ON notes TO pg_monitor",
        [("extra-grant", "notes", "pg_monitor", "warning")],
    ),
    "a role the lock does not name is not judged": (
        "GRANT SELECT ON documents TO pg_checkpoint",
        [],
    ),
    "column": (
        "REVOKE SELECT (email) ON documents FROM pg_signal_backend",
        [("missing-grant", "documents", "pg_signal_backend", "error")],
    ),
    "schema": (
        "REVOKE USAGE ON SCHEMA billing FROM pg_monitor",
        [("missing-grant", None, "pg_monitor", "error")],
    ),
    "sequence": (
        "GRANT UPDATE ON SEQUENCE invoice_numbers TO pg_monitor",
        [("extra-grant", None, "pg_monitor", "warning")],
    ),
    "function": (
        "REVOKE EXECUTE ON FUNCTION org_quota(int) FROM pg_monitor",
        [("missing-grant", None, "pg_monitor", "error")],
    ),
    "default privileges": (
        "ALTER DEFAULT PRIVILEGES IN SCHEMA billing REVOKE SELECT ON TABLES FROM pg_read_all_stats",
        [("missing-grant", None, "pg_read_all_stats", "error")],
    ),
    "to PUBLIC (the lock names public)": (
        "GRANT CREATE ON SCHEMA public TO PUBLIC",
        [("extra-grant", None, "public", "error")],
    ),
}


@pytest.mark.db
@pytest.mark.parametrize("sql", DRIFT.values(), ids=DRIFT.keys())
def test_drift(
    database: str, tmp_path: Path, sql: tuple[str, list[tuple[str, str | None, str, str]]]
) -> None:
    statement, expected = sql
    execute(database, GRANTED)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, statement)
    _, report = _verify(lock, database, "--no-data", "--ignore", "extra-table")
    assert _found(report) == sorted(expected), [f["message"] for f in report["findings"]]


@pytest.mark.db
def test_a_role_the_lock_names_must_exist(database: str, tmp_path: Path) -> None:
    execute(database, "CREATE TABLE documents (id int)")
    lock = tmp_path / "schema_lock.yaml"
    lock.write_text(
        "version: 1\ntables:\n  documents: {columns: {id: {type: int}}}\n"
        "grants:\n  tables:\n    documents: {sl_k2_no_such_role: [select]}\n",
        encoding="utf-8",
    )
    exit_code, report = _verify(lock, database)
    assert [f["message"] for f in report["findings"]] == [
        "role sl_k2_no_such_role does not exist"
    ], "its grants are not reported one by one"
    assert report["findings"][0]["lock_line"] == 4
    assert exit_code == 1


@pytest.mark.db
def test_fix_leaves_a_missing_role_for_a_person(database: str, tmp_path: Path) -> None:
    """Grants are repaired (tests/test_fix_grants.py), but a role is cluster-wide: fix never
    creates one, and grants nothing to it."""
    execute(database, "CREATE TABLE documents (id int)")
    lock = tmp_path / "schema_lock.yaml"
    lock.write_text(
        "version: 1\ntables:\n  documents: {columns: {id: {type: int}}}\n"
        "grants:\n  tables:\n    documents: {sl_k2_no_such_role: [select]}\n",
        encoding="utf-8",
    )
    said = fix_notes(database, lock, tmp_path / "migrations")
    assert "role sl_k2_no_such_role: missing; roles are cluster-wide: CREATE ROLE by hand" in said


# Grant options, and global default privileges (ALTER DEFAULT PRIVILEGES without IN SCHEMA,
# stored whole: the owner's own privileges and, for functions and types, PUBLIC's built-in
# EXECUTE or USAGE only while not revoked) of the connecting role and of pg_monitor.
OPTIONS = """
CREATE TABLE documents (id int PRIMARY KEY, email text);
GRANT SELECT ON documents TO pg_monitor WITH GRANT OPTION;
GRANT INSERT ON documents TO pg_monitor;
GRANT SELECT ON documents TO PUBLIC;
GRANT SELECT (email) ON documents TO pg_read_all_stats WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO pg_monitor WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES FOR ROLE pg_monitor REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE pg_monitor GRANT SELECT ON TABLES TO pg_read_all_stats;
ALTER DEFAULT PRIVILEGES FOR ROLE pg_monitor GRANT USAGE ON TYPES TO pg_read_all_stats;
ALTER DEFAULT PRIVILEGES FOR ROLE pg_monitor
    GRANT USAGE ON SCHEMAS TO pg_read_all_stats WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO pg_monitor;
"""


@pytest.mark.db
def test_grant_options_and_global_default_privileges_round_trip(
    database: str, tmp_path: Path
) -> None:
    """Held WITH GRANT OPTION is written `{privileges, grantable}`; global default
    privileges under `global_defaults` (PUBLIC's built-in EXECUTE on functions written only
    when revoked: `public: []`), and no longer "not covered"."""
    execute(database, OPTIONS)
    [(me,)] = query(database, "SELECT current_user")
    lock = tmp_path / "schema_lock.yaml"
    grants = yaml.safe_load(snapshot(database, lock))["grants"]
    assert grants["tables"]["documents"]["pg_monitor"] == {
        "privileges": ["select", "insert"],
        "grantable": ["select"],
    }
    assert grants["columns"] == {
        "documents.email": {
            "pg_read_all_stats": {"privileges": ["select"], "grantable": ["select"]}
        }
    }
    assert grants["defaults"] == {
        "public": {
            me: {"tables": {"pg_monitor": {"privileges": ["select"], "grantable": ["select"]}}}
        }
    }
    assert grants["global_defaults"] == {
        "pg_monitor": {
            "functions": {"public": []},
            "schemas": {"pg_read_all_stats": {"privileges": ["usage"], "grantable": ["usage"]}},
            "tables": {"pg_read_all_stats": ["select"]},
            "types": {"pg_read_all_stats": ["usage"]},
        },
        me: {"functions": {"pg_monitor": ["execute"]}},
    }, "the owners' own privileges and PUBLIC's untouched USAGE on types are not written"
    exit_code, report = _verify(lock, database, "--fail-on", "info")
    assert report["findings"] == [], [f["message"] for f in report["findings"]]
    assert report["coverage"]["not_covered"] == []
    assert exit_code == 0
    assert snapshot(database, tmp_path / "again.yaml") == lock.read_text(), "deterministic"


OPTION_DRIFT = {
    "grant option gained": (
        "GRANT INSERT ON documents TO pg_monitor WITH GRANT OPTION",
        [("grant-option-mismatch", "documents", "pg_monitor", "warning")],
        "pg_monitor holds INSERT WITH GRANT OPTION on table public.documents; the lock grants "
        "it without",
    ),
    "grant option lost": (
        "REVOKE GRANT OPTION FOR SELECT ON documents FROM pg_monitor",
        [("grant-option-mismatch", "documents", "pg_monitor", "error")],
        "pg_monitor holds SELECT without GRANT OPTION on table public.documents; the lock "
        "grants it WITH GRANT OPTION",
    ),
    "grant option lost on default privileges in a schema": (
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE GRANT OPTION FOR SELECT ON TABLES"
        " FROM pg_monitor",
        [("grant-option-mismatch", None, "pg_monitor", "error")],
        "on default privileges of ",
    ),
    "a privilege revoked whole is missing, not a grant option": (
        "REVOKE SELECT (email) ON documents FROM pg_read_all_stats",
        [("missing-grant", "documents", "pg_read_all_stats", "error")],
        "pg_read_all_stats lacks SELECT (with grant option) on column public.documents.email",
    ),
    "global default privileges revoked": (
        "ALTER DEFAULT PRIVILEGES FOR ROLE pg_monitor"
        " REVOKE SELECT ON TABLES FROM pg_read_all_stats",
        [("missing-grant", None, "pg_read_all_stats", "error")],
        "pg_read_all_stats lacks SELECT on global default privileges of pg_monitor on tables",
    ),
    "global default privileges widened": (
        "ALTER DEFAULT PRIVILEGES FOR ROLE pg_monitor"
        " GRANT USAGE ON SEQUENCES TO pg_read_all_stats",
        [("extra-grant", None, "pg_read_all_stats", "warning")],
        "pg_read_all_stats holds USAGE on global default privileges of pg_monitor on sequences",
    ),
    "global grant option lost": (
        "ALTER DEFAULT PRIVILEGES FOR ROLE pg_monitor"
        " REVOKE GRANT OPTION FOR USAGE ON SCHEMAS FROM pg_read_all_stats",
        [("grant-option-mismatch", None, "pg_read_all_stats", "error")],
        "pg_read_all_stats holds USAGE without GRANT OPTION on global default privileges of "
        "pg_monitor on schemas",
    ),
    # PUBLIC's EXECUTE back: the access list is the built-in one again, PostgreSQL drops it.
    "PUBLIC's EXECUTE given back where the lock revokes it": (
        "ALTER DEFAULT PRIVILEGES FOR ROLE pg_monitor GRANT EXECUTE ON FUNCTIONS TO PUBLIC",
        [("extra-grant", None, "public", "error")],
        "PUBLIC holds EXECUTE on global default privileges of pg_monitor on functions",
    ),
    "PUBLIC's built-in EXECUTE revoked where the lock keeps it": (
        "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
        [("missing-grant", None, "public", "error")],
        "PUBLIC lacks EXECUTE on global default privileges of ",
    ),
    "PUBLIC's built-in USAGE on types revoked where the lock keeps it": (
        "ALTER DEFAULT PRIVILEGES FOR ROLE pg_monitor REVOKE USAGE ON TYPES FROM PUBLIC",
        [("missing-grant", None, "public", "error")],
        "PUBLIC lacks USAGE on global default privileges of pg_monitor on types",
    ),
    "the global default access list dropped whole": (
        "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM pg_monitor",
        [("missing-grant", None, "pg_monitor", "error")],
        "pg_monitor lacks EXECUTE on global default privileges of ",
    ),
}


@pytest.mark.db
@pytest.mark.parametrize("case", OPTION_DRIFT.values(), ids=OPTION_DRIFT.keys())
def test_grant_option_and_global_default_drift(
    database: str, tmp_path: Path, case: tuple[str, list[tuple[str, str | None, str, str]], str]
) -> None:
    statement, expected, said = case
    execute(database, OPTIONS)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, statement)
    _, report = _verify(lock, database, "--no-data")
    messages = [f["message"] for f in report["findings"]]
    assert _found(report) == sorted(expected), messages
    assert any(said in message for message in messages), messages


GUARDED = BASE + "grants:\n  tables:\n    jobs: {app: [select]}\n"


def test_diff_judges_a_grant_to_public_a_regression() -> None:
    to_public = GUARDED.replace("{app: [select]}", "{app: [select], public: [select]}")
    assert seen(judge(to_public, GUARDED)) == [
        ("lock-regression", "SELECT on table public.jobs granted to PUBLIC")
    ]
    widened = GUARDED.replace("[select]", "[select, delete]")
    assert seen(judge(widened, GUARDED)) == [
        ("lock-change", "DELETE on table public.jobs granted to app")
    ]
    assert seen(judge(BASE, GUARDED)) == [], "roles the new lock does not name: not judged"


def test_diff_judges_a_grant_option_a_change() -> None:
    """Given or taken back, a grant option is a decision like a grant (PUBLIC cannot hold
    one); global default privileges are judged as the others."""
    option = GUARDED.replace(
        "{app: [select]}", "{app: {privileges: [select], grantable: [select]}}"
    )
    assert seen(judge(option, GUARDED)) == [
        ("lock-change", "grant option for SELECT given to app on table public.jobs")
    ]
    assert seen(judge(GUARDED, option)) == [
        ("lock-change", "grant option for SELECT taken from app on table public.jobs")
    ]
    to_public = GUARDED + "  global_defaults: {app: {tables: {public: [select]}}}\n"
    assert seen(judge(to_public, GUARDED)) == [
        (
            "lock-regression",
            "SELECT on global default privileges of app on tables granted to PUBLIC",
        )
    ]


@pytest.mark.db
def test_the_version_table_fix_creates_is_not_judged_for_its_privileges(
    database: str, tmp_path: Path
) -> None:
    """`alembic_version`, created after the lock was written, takes the schema's default
    privileges like any new table; it is never the lock's business, nor are its grants."""
    execute(
        database,
        "CREATE TABLE documents (id int PRIMARY KEY);"
        " ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO pg_monitor;"
        " GRANT SELECT ON documents TO pg_monitor;",
    )
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
    code, report = _verify(lock, database, "--fail-on", "info")
    assert (code, report["findings"]) == (0, [])
    execute(database, "CREATE TABLE later (id int)")  # any other new table is judged
    code, report = _verify(lock, database, "--fail-on", "info")
    assert ("extra-grant", "later") in [(f["rule"], f["table"]) for f in report["findings"]]
