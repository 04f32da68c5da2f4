"""`schemalock fix` on a real PostgreSQL, the pg-schema-diff way: break a database, fix, apply,
verify (nothing structural left but what fix reports and leaves alone), fix again (nothing to
do); pre-existing rows unchanged; generated code compiles and holds only expected operations."""

from __future__ import annotations

import ast
import json
import py_compile
from pathlib import Path
from typing import Any

import pytest

from conftest import execute, query, run_cli
from test_drift import DRIFT
from test_roundtrip import RICH_SCHEMA, snapshot

pytestmark = pytest.mark.db

# What verify still reports after fix and apply: drift fix reports and leaves alone.
LEFT_ALONE: dict[str, set[str]] = {
    "table added": {"extra-table"},
    "column added": {"extra-column"},
    "index added": {"extra-index"},
    "index changed": {"extra-index"},
    "check added": {"extra-constraint"},
    "foreign key added": {"extra-column", "extra-constraint"},
    "foreign key action changed": {"foreign-key-mismatch"},
    "enum label added": {"enum-mismatch"},
    "domain check added": {"domain-mismatch"},
    "primary key dropped": {"primary-key-mismatch"},
    "identity dropped": {"default-mismatch"},
}
STRUCTURAL = ("structure", "integrity")


def _verify(url: str, lock: Path) -> list[dict[str, Any]]:
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", url, "--format", "json", "--no-data",
        "--fail-on", "info",
    )  # fmt: skip
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return [f for f in findings if f["category"] in STRUCTURAL and f["rule"] != "fk-missing-index"]


def _fix(url: str, lock: Path, migrations: Path, *options: str) -> Any:
    return run_cli(
        "fix", "--lock", str(lock), "--database-url", url, "--migrations", str(migrations),
        *options,
    )  # fmt: skip


def _revisions(migrations: Path) -> list[Path]:
    return sorted((migrations / "versions").glob("*.py"))


@pytest.mark.parametrize("case", sorted(DRIFT), ids=lambda c: c.replace(" ", "-"))
def test_fix_converges(database: str, tmp_path: Path, case: str) -> None:
    drift_sql, _ = DRIFT[case]
    execute(database, RICH_SCHEMA)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, drift_sql)
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    left = {f["rule"] for f in _verify(database, lock)}
    assert left == LEFT_ALONE.get(case, set()), result.stdout
    written = _revisions(migrations)
    for path in written:
        py_compile.compile(str(path), doraise=True)
    again = _fix(database, lock, migrations)
    assert again.exit_code == 0, again.stderr
    assert "nothing to repair" in again.stdout
    assert _revisions(migrations) == written


def test_orphans_fail_adds_the_key_not_valid_and_quarantine_loses_nothing(
    database: str, tmp_path: Path
) -> None:
    execute(
        database,
        """
        CREATE TABLE parent (id uuid PRIMARY KEY);
        CREATE TABLE child (id int PRIMARY KEY, parent_id uuid, note text);
        INSERT INTO parent VALUES ('11111111-1111-4111-8111-111111111111');
        INSERT INTO child VALUES (1, '11111111-1111-4111-8111-111111111111', 'kept'),
            (2, '22222222-2222-4222-8222-222222222222', 'orphan'), (3, NULL, 'no parent');
        """,
    )
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(database, lock).replace(
        "      parent_id: {type: uuid}", "      parent_id: {type: uuid, references: parent.id}"
    )
    lock.write_text(text, encoding="utf-8")
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stderr
    assert "1 orphan rows" in result.stdout
    assert query(
        database, "SELECT convalidated FROM pg_constraint WHERE conname = 'child_parent_id_fkey'"
    ) == [(False,)]
    with pytest.raises(Exception, match="violates foreign key"):
        execute(database, "INSERT INTO child VALUES (4, gen_random_uuid(), 'new orphan')")
    assert query(database, "SELECT count(*) FROM child") == [(3,)]

    result = _fix(database, lock, migrations, "--apply", "--orphans", "quarantine")
    assert result.exit_code == 0, result.stderr
    assert query(database, "SELECT id FROM child ORDER BY id") == [(1,), (3,)]
    moved = query(database, "SELECT row->>'note', source_table FROM schemalock_quarantine")
    assert moved == [("orphan", "public.child")]
    # The quarantine table is reported (a warning): someone decides what its rows become.
    assert [(f["rule"], f["table"]) for f in _verify(database, lock)] == [
        ("extra-table", "schemalock_quarantine")
    ]


def test_text_to_uuid_is_proven_first_and_refused_with_the_keys(
    database: str, tmp_path: Path
) -> None:
    execute(
        database,
        """
        CREATE TABLE organizations (id uuid PRIMARY KEY, clerk_org_id text UNIQUE NOT NULL);
        CREATE TABLE jobs (id int PRIMARY KEY, org_id uuid REFERENCES organizations (id));
        """,
    )
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(
        database,
        """
        ALTER TABLE jobs DROP CONSTRAINT jobs_org_id_fkey;
        ALTER TABLE jobs ALTER COLUMN org_id TYPE text;
        INSERT INTO organizations VALUES ('11111111-1111-4111-8111-111111111111', 'org_2abc');
        INSERT INTO jobs VALUES (1, 'org_2abc'), (2, '11111111-1111-4111-8111-111111111111'),
            (3, '{11111111-1111-4111-8111-111111111111}'), (4, 'n/a');
        """,
    )
    migrations = tmp_path / "migrations"
    refused = _fix(database, lock, migrations)
    assert refused.exit_code == 5
    assert "1 rows hold values that do not convert (keys: 4)" in refused.stderr
    assert not (migrations / "versions").exists() or _revisions(migrations) == []
    execute(database, "UPDATE jobs SET org_id = NULL WHERE id = 4")
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stderr
    assert query(database, "SELECT id, org_id::text FROM jobs ORDER BY id") == [
        (1, "11111111-1111-4111-8111-111111111111"),  # the Clerk id, mapped through the parent
        (2, "11111111-1111-4111-8111-111111111111"),
        (3, "11111111-1111-4111-8111-111111111111"),
        (4, None),
    ]
    assert _verify(database, lock) == []
    [revision] = _revisions(migrations)
    calls = _op_calls(revision)
    assert calls[:1] == ["execute"]  # the fingerprint guard comes first
    assert "create_foreign_key" in calls
    assert set(calls) <= {"execute", "create_foreign_key", "alter_column", "get_context"}


def _op_calls(path: Path) -> list[str]:
    """The `op.<name>(...)` calls of a revision's upgrade(), in order."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    upgrade = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade")
    return [
        node.func.attr
        for node in ast.walk(upgrade)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "op"
    ]
