"""Each kind of drift, injected by SQL after a snapshot, yields exactly the expected findings."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from conftest import execute, run_cli
from test_roundtrip import RICH_SCHEMA, snapshot

pytestmark = pytest.mark.db

Expected = list[tuple[str, str | None, str | None]]  # (rule, table, column)

DRIFT: dict[str, tuple[str, Expected]] = {
    "table dropped": ("DROP TABLE scratch_cache", [("missing-table", "scratch_cache", None)]),
    "table added": ("CREATE TABLE users_backup (id int)", [("extra-table", "users_backup", None)]),
    # Issue 12: coverage is from the database; a schema the lock does not list is reported,
    # and so is every object in it.
    "table added in a schema the lock does not list": (
        "CREATE SCHEMA other; CREATE TABLE other.t (id int)",
        [("extra-schema", None, None), ("extra-table", "t", None)],
    ),
    "partition added is not a table": (
        "CREATE TABLE events_2027 PARTITION OF events "
        "FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')",
        [("extra-partition", "events", None)],
    ),
    "view added is not a table, but a view": (
        "CREATE VIEW v AS SELECT 1 AS one",
        [("extra-view", None, None)],
    ),
    "column added": (
        "ALTER TABLE jobs ADD COLUMN legacy_status text",
        [("extra-column", "jobs", "legacy_status")],
    ),
    "column dropped": (
        "ALTER TABLE jobs DROP COLUMN completed_at",
        [("missing-column", "jobs", "completed_at")],
    ),
    "column type changed": (
        "ALTER TABLE jobs ALTER COLUMN keyword TYPE varchar(50)",
        [("column-type-mismatch", "jobs", "keyword")],
    ),
    "NOT NULL dropped": (
        "ALTER TABLE organizations ALTER COLUMN name DROP NOT NULL",
        [("nullability-mismatch", "organizations", "name")],
    ),
    "default changed": (
        "ALTER TABLE organizations ALTER COLUMN quota_limit SET DEFAULT 200",
        [("default-mismatch", "organizations", "quota_limit")],
    ),
    "default dropped on a hostile name": (
        'ALTER TABLE "user" ALTER COLUMN "naïve" DROP DEFAULT',
        [("default-mismatch", "user", "naïve")],
    ),
    "identity dropped": (
        'ALTER TABLE "user" ALTER COLUMN "Mixed Case" DROP IDENTITY',
        [("default-mismatch", "user", "Mixed Case")],
    ),  # the column stays NOT NULL
    "primary key dropped": (
        "ALTER TABLE scratch_cache DROP CONSTRAINT scratch_cache_pkey",
        [("primary-key-mismatch", "scratch_cache", None)],
    ),  # k stays NOT NULL
    "foreign key dropped": (
        "ALTER TABLE jobs DROP CONSTRAINT jobs_org_id_fkey",
        [("missing-foreign-key", "jobs", "org_id")],
    ),
    "foreign key action changed": (
        "ALTER TABLE jobs DROP CONSTRAINT jobs_org_id_fkey;"
        " ALTER TABLE jobs ADD CONSTRAINT jobs_org_id_fkey FOREIGN KEY (org_id)"
        " REFERENCES organizations (id) ON DELETE RESTRICT",
        [("foreign-key-mismatch", "jobs", None)],
    ),
    "composite cross-schema foreign key dropped": (
        "ALTER TABLE billing.invoice_lines DROP CONSTRAINT invoice_lines_org_id_period_start_fkey",
        [("missing-foreign-key", "invoice_lines", None)],
    ),
    "foreign key added": (
        "ALTER TABLE webhook_events ADD COLUMN org_id uuid REFERENCES organizations (id)",
        [
            ("extra-column", "webhook_events", "org_id"),
            ("extra-constraint", "webhook_events", None),
        ],
    ),
    "unique dropped": (
        "ALTER TABLE organizations DROP CONSTRAINT organizations_clerk_org_id_key",
        [("missing-unique", "organizations", "clerk_org_id")],
    ),
    "unique dropped on a quoted name": (
        'ALTER TABLE "Audit Log"."Order Items" DROP CONSTRAINT "Order Items_weird ""name""_key"',
        [("missing-unique", "Order Items", 'weird "name"')],
    ),
    "index dropped": ("DROP INDEX jobs_status_created_idx", [("missing-index", "jobs", None)]),
    "index changed": (
        "DROP INDEX jobs_keyword_lower_idx;"
        " CREATE INDEX jobs_keyword_lower_idx ON jobs (lower(keyword))",
        [("missing-index", "jobs", None), ("extra-index", "jobs", None)],
    ),
    "index renamed is not drift": ("ALTER INDEX jobs_org_id_idx RENAME TO jobs_by_org", []),
    "index added": (
        "CREATE INDEX jobs_created_at_idx ON jobs (created_at)",
        [("extra-index", "jobs", None)],
    ),
    "index on a partitioned table dropped": (
        "DROP INDEX events_kind_idx",
        [("missing-index", "events", None)],
    ),
    "check dropped": (
        "ALTER TABLE organizations DROP CONSTRAINT quota_within_limit",
        [("check-mismatch", "organizations", None)],
    ),
    "check made NOT VALID": (
        "ALTER TABLE jobs DROP CONSTRAINT jobs_results_count_check,"
        " ADD CONSTRAINT jobs_results_count_check CHECK (results_count >= 0) NOT VALID",
        [("check-not-validated", "jobs", None)],
    ),
    "check added": (
        "ALTER TABLE jobs ADD CONSTRAINT price_positive CHECK (price > 0)",
        [("extra-constraint", "jobs", None)],
    ),
    "enum label added": (
        "ALTER TYPE job_status ADD VALUE 'cancelled'",
        [("enum-mismatch", None, None)],
    ),
    "domain check added": (
        "ALTER DOMAIN email_address ADD CONSTRAINT no_spaces CHECK (VALUE !~ ' ')",
        [("domain-mismatch", None, None)],
    ),
    "child column retyped and its FK dropped": (
        "ALTER TABLE jobs DROP CONSTRAINT jobs_org_id_fkey;"
        " ALTER TABLE jobs ALTER COLUMN org_id TYPE text",
        [
            ("column-type-mismatch", "jobs", "org_id"),
            ("missing-foreign-key", "jobs", "org_id"),
            ("fk-type-mismatch", "jobs", "org_id"),
        ],
    ),
}


def _findings(report: dict[str, object]) -> Expected:
    findings = report["findings"]
    assert isinstance(findings, list)
    return sorted((f["rule"], f["table"], f["column"]) for f in findings)


@pytest.mark.parametrize("case", sorted(DRIFT), ids=lambda c: c.replace(" ", "-"))
def test_drift_yields_exactly_its_findings(database: str, tmp_path: Path, case: str) -> None:
    drift_sql, expected = DRIFT[case]
    execute(database, RICH_SCHEMA)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, drift_sql)
    result = run_cli(
        "verify",
        "--lock",
        str(lock),
        "--database-url",
        database,
        "--format",
        "json",
        "--fail-on",
        "info",
    )
    report = json.loads(result.stdout)
    assert _findings(report) == sorted(expected), [f["message"] for f in report["findings"]]
    assert result.exit_code == (1 if expected else 0)
    assert all(finding["lock_line"] for finding in report["findings"]), "every finding has a line"


def test_failed_concurrent_build_leaves_an_invalid_index(database: str, tmp_path: Path) -> None:
    execute(database, RICH_SCHEMA + "; INSERT INTO plans VALUES (1, 'a', 'x'), (2, 'a ', 'y');")
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    with (
        psycopg.connect(database, autocommit=True) as connection,
        pytest.raises(psycopg.errors.UniqueViolation),
    ):
        connection.execute("CREATE UNIQUE INDEX CONCURRENTLY plans_trim_name ON plans (trim(name))")
    result = run_cli("verify", "--lock", str(lock), "--database-url", database, "--format", "json")
    report = json.loads(result.stdout)
    assert _findings(report) == [("invalid-index", "plans", None)]
    assert report["findings"][0]["constraint"] == "plans_trim_name"
    assert result.exit_code == 1


def test_renames_declared_in_the_lock(database: str, tmp_path: Path) -> None:
    execute(database, RICH_SCHEMA)
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(database, lock)
    text = text.replace("  scratch_cache:\n", "  cache:\n    renamed_from: scratch_cache\n")
    text = text.replace(
        "      processed: {type: boolean,",
        "      handled: {renamed_from: processed, type: boolean,",
    )
    lock.write_text(text, encoding="utf-8")
    result = run_cli("verify", "--lock", str(lock), "--database-url", database, "--format", "json")
    assert _findings(json.loads(result.stdout)) == [
        ("renamed-column", "webhook_events", "handled"),
        ("renamed-table", "cache", None),
    ]
    execute(
        database,
        "ALTER TABLE scratch_cache RENAME TO cache;"
        " ALTER TABLE webhook_events RENAME COLUMN processed TO handled",
    )
    result = run_cli("verify", "--lock", str(lock), "--database-url", database, "--format", "json")
    report = json.loads(result.stdout)
    # Renamed constraints keep their old names, which are not compared: nothing left to report.
    assert _findings(report) == [], [f["message"] for f in report["findings"]]
