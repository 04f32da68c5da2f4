"""`fix` where the lock names a schema the database lacks, on a real PostgreSQL: the plan
creates the schema before anything in it (and the enums and domains the lock declares there,
before the tables using them), converges, and its downgrade drops the schema only while it is
empty; a role that may not create schemas is refused before anything is written.

Before: the revision ran CREATE TABLE billing.invoices without the schema and failed
("schema "billing" does not exist", reported as an internal error)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import as_role, execute, query, run_cli
from test_fix import _fix, _revisions
from test_fix_convergence import checksums, downgrade
from test_roundtrip import snapshot

pytestmark = pytest.mark.db

# A schema with an enum, a domain over the enum (created after it), a domain with a default
# and a check, and tables: one referencing a table of public (which keeps its rows).
SCHEMA = """
CREATE TABLE organizations (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO organizations SELECT g, 'Org ' || g FROM generate_series(1, 25) AS g;
CREATE SCHEMA "Billing Dept";
CREATE TYPE "Billing Dept".tier AS ENUM ('free', 'pro', 'it''s enterprise');
CREATE DOMAIN "Billing Dept".paid_tier AS "Billing Dept".tier CHECK (VALUE <> 'free');
CREATE DOMAIN "Billing Dept".money AS numeric(12, 2) NOT NULL DEFAULT 0
    CONSTRAINT money_nonnegative CHECK (VALUE >= 0);
CREATE TABLE "Billing Dept".invoices (
    id bigserial PRIMARY KEY,
    org_id int NOT NULL REFERENCES organizations (id),
    amount "Billing Dept".money,
    tier "Billing Dept".paid_tier,
    CONSTRAINT invoices_amount_small CHECK (amount < 1000000)
);
CREATE INDEX invoices_org_id_idx ON "Billing Dept".invoices (org_id);
CREATE TABLE "Billing Dept".lines (
    invoice_id bigint REFERENCES "Billing Dept".invoices (id),
    note text
);
CREATE INDEX lines_invoice_id_idx ON "Billing Dept".lines (invoice_id);
"""
DROPPED = 'DROP SCHEMA "Billing Dept" CASCADE'


def _verify(url: str, lock: Path) -> tuple[int, list[str]]:
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", url, "--format", "json",
        "--fail-on", "info",
    )  # fmt: skip
    return result.exit_code, [f["message"] for f in json.loads(result.stdout)["findings"]]


def _schema_exists(url: str) -> bool:
    [(found,)] = query(url, "SELECT to_regnamespace('\"Billing Dept\"') IS NOT NULL")
    return bool(found)


def _locked(url: str, tmp_path: Path) -> Path:
    """SCHEMA snapshotted, then its schema dropped: the lock names a schema the database
    lacks, with its tables, enum and domains."""
    execute(url, SCHEMA)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(url, lock)
    execute(url, DROPPED)
    return lock


def test_fix_creates_a_missing_schema_and_what_it_holds(database: str, tmp_path: Path) -> None:
    lock = _locked(database, tmp_path)
    rows = checksums(database)
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert _verify(database, lock) == (0, [])
    assert checksums(database) == {**rows, **_empty_tables(database)}
    execute(  # the domains hold, the types are the lock's
        database,
        "INSERT INTO \"Billing Dept\".invoices (org_id, amount, tier) VALUES (3, 12.5, 'pro')",
    )
    [revision] = _revisions(migrations)
    again = _fix(database, lock, migrations)
    assert again.exit_code == 0, again.stderr
    assert again.stdout.startswith("nothing to repair"), again.stdout
    assert _revisions(migrations) == [revision]
    # The downgrade never drops data written since: refused while invoices holds a row.
    with pytest.raises(Exception, match="holds data"):
        downgrade(migrations, database)
    assert _schema_exists(database)
    execute(database, 'DELETE FROM "Billing Dept".invoices')
    downgrade(migrations, database)
    assert not _schema_exists(database)
    assert checksums(database) == rows


def _empty_tables(url: str) -> dict[tuple[str, str, str | None], object]:
    """The checksums of the tables the fix created, empty."""
    return {key: value for key, value in checksums(url).items() if key[0] == "Billing Dept"}


def test_the_downgrade_keeps_a_schema_that_holds_something_else(
    database: str, tmp_path: Path
) -> None:
    lock = _locked(database, tmp_path)
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    execute(
        database,
        'CREATE TABLE "Billing Dept".notes (id int); INSERT INTO "Billing Dept".notes VALUES (1)',
    )
    downgrade(migrations, database)
    assert query(
        database,
        "SELECT c.relname FROM pg_class AS c"
        " WHERE c.relnamespace = '\"Billing Dept\"'::regnamespace AND c.relkind = 'r'",
    ) == [("notes",)]
    assert query(database, 'SELECT id FROM "Billing Dept".notes') == [(1,)]


def test_a_role_that_may_not_create_schemas_is_refused(database: str, tmp_path: Path) -> None:
    lock = _locked(database, tmp_path)
    rows = checksums(database)
    privileges = (
        "REVOKE CREATE ON DATABASE {database} FROM PUBLIC;"
        " GRANT ALL ON SCHEMA public TO {{role}};"
        " GRANT ALL ON ALL TABLES IN SCHEMA public TO {{role}};"
    ).format(database=query(database, "SELECT quote_ident(current_database())")[0][0])
    with as_role(database, privileges) as url:
        migrations = tmp_path / "migrations"
        result = _fix(url, lock, migrations, "--apply")
        assert result.exit_code == 5, result.stdout + result.stderr
        lines = [line for line in result.stderr.splitlines() if "Billing Dept" in line]
        [line] = [line for line in lines if "does not exist" in line]
        assert 'schema "Billing Dept" does not exist' in line
        assert "CREATE privilege on database" in line
        # What would go into it is left out with it, each saying why.
        for other in set(lines) - {line}:
            assert other.strip().startswith("left out: "), other
            assert 'schema "Billing Dept" is not created' in other, other
        assert "internal error" not in result.stderr
        assert not migrations.exists() or _revisions(migrations) == []
    assert not _schema_exists(database)
    assert checksums(database) == rows
