"""Flows and query contracts on a real PostgreSQL: exact violation counts per invariant form,
contracts that fail and pass with the column's type, and refusals that are never a pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import execute, lock_held, run_cli, write
from schemalock import db
from schemalock.probe import Probe

pytestmark = pytest.mark.db

SCHEMA = """
CREATE TABLE organizations (
    id uuid PRIMARY KEY, name text NOT NULL, quota_used integer NOT NULL DEFAULT 0);
CREATE TABLE jobs (
    id integer PRIMARY KEY, org_id text, status text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), completed_at timestamptz, meta jsonb);
CREATE TABLE quota_usage (
    id integer PRIMARY KEY, org_id uuid NOT NULL, job_id integer, usage_amount integer NOT NULL);
INSERT INTO organizations VALUES
    ('11111111-1111-4111-8111-111111111111', 'Acme', 30),   -- 10 + 20: agrees
    ('22222222-2222-4222-8222-222222222222', 'Birch', 7),   -- 5: drift
    ('33333333-3333-4333-8333-333333333333', 'Cedar', 0),   -- no usage: agrees
    ('44444444-4444-4444-8444-444444444444', 'Dune', 2);    -- no usage: drift
INSERT INTO jobs VALUES
    (1, 'org_a', 'completed', now() - interval '1 day', now(), '{"k": "50%"}'),
    (2, 'org_a', 'completed', now() - interval '1 day', NULL, NULL),        -- no completed_at
    (3, 'org_b', 'running', now() - interval '5 hours', NULL, NULL),        -- stuck
    (4, 'org_b', 'running', now() - interval '5 minutes', NULL, NULL),
    (5, 'org_c', 'completed', now() - interval '1 day', now(), NULL);       -- no usage row
INSERT INTO quota_usage VALUES
    (1, '11111111-1111-4111-8111-111111111111', 1, 10),
    (2, '11111111-1111-4111-8111-111111111111', 2, 20),
    (3, '22222222-2222-4222-8222-222222222222', NULL, 5);
"""

LOCK = """version: 1
tables:
  organizations:
    columns:
      id: {type: uuid, primary_key: true}
      name: {type: text, nullable: false}
      quota_used: {type: integer, nullable: false, default: 0}
  jobs:
    columns:
      id: {type: integer, primary_key: true}
      org_id: {type: text}
      status: {type: text, nullable: false}
      created_at: {type: timestamptz, nullable: false, default: now()}
      completed_at: {type: timestamptz}
      meta: {type: jsonb}
  quota_usage:
    columns:
      id: {type: integer, primary_key: true}
      org_id: {type: uuid, nullable: false}
      job_id: {type: integer}
      usage_amount: {type: integer, nullable: false}
flows:
  quota_management:
    path: Job Completion -> quota_usage.usage_amount -> organizations.quota_used
    invariants:
      - name: quota_used_is_usage
        reconcile: {total: organizations.quota_used, sum_of: quota_usage.usage_amount, by: org_id}
      - name: completed_jobs_are_finished
        implies:
          table: jobs
          when: status = 'completed'
          then: >-
            completed_at IS NOT NULL
            AND EXISTS (SELECT 1 FROM quota_usage WHERE quota_usage.job_id = jobs.id)
      - name: nothing_stuck
        freshness: {table: jobs, column: created_at, within: 2 hours, where: status = 'running'}
      - name: percent_and_braces_stay_literal
        implies:
          {table: jobs, when: "meta->>'k' LIKE '50%'", then: "meta @> '{\\"k\\": \\"50%\\"}'"}
queries:
  stats:
    endpoint: /api/stats
    sql: SELECT status, count(*) AS count FROM jobs WHERE org_id = $1 GROUP BY status
    params: [uuid]
  by_clerk_id:
    sql: SELECT count(*) FROM jobs WHERE org_id = $1
    params: [text]
"""


def _report(database: str, tmp_path: Path, lock_text: str = LOCK, *options: str) -> Any:
    lock = write(tmp_path / "schema_lock.yaml", lock_text)
    result = run_cli(
        "verify", "--lock", lock, "--database-url", database, "--format", "json", *options
    )
    report = json.loads(result.stdout)
    report["exit_code"] = result.exit_code
    return report


@pytest.fixture
def seeded(database: str) -> str:
    execute(database, SCHEMA)
    return database


def test_each_invariant_form_counts_its_violations(seeded: str, tmp_path: Path) -> None:
    report = _report(seeded, tmp_path, LOCK, "--select", "flow-violation")
    found = {f["constraint"]: f for f in report["findings"]}
    assert set(found) == {"quota_used_is_usage", "completed_jobs_are_finished", "nothing_stuck"}
    drift = found["quota_used_is_usage"]
    assert drift["count"] == 2
    assert sorted(drift["samples"]) == [
        "22222222-2222-4222-8222-222222222222: 7 <> 5",
        "44444444-4444-4444-8444-444444444444: 2 <> 0",
    ]
    assert drift["table"] == "organizations"
    assert drift["lock_line"] == 26
    assert found["completed_jobs_are_finished"]["count"] == 2
    assert sorted(found["completed_jobs_are_finished"]["samples"]) == ["2", "5"]
    stuck = found["nothing_stuck"]
    assert stuck["count"] == 1
    assert stuck["samples"][0].startswith("3: ")
    assert report["inconclusive"] == []
    assert report["exit_code"] == 1


def test_query_contract_fails_on_text_versus_uuid_and_passes_when_types_agree(
    seeded: str, tmp_path: Path
) -> None:
    report = _report(seeded, tmp_path, LOCK, "--select", "query-contract-failed", "--no-data")
    [failed] = report["findings"]
    assert failed["constraint"] == "stats"
    assert "operator does not exist: text = uuid" in failed["message"]
    assert "(/api/stats)" in failed["message"]
    execute(seeded, "ALTER TABLE jobs ALTER COLUMN org_id TYPE uuid USING NULL")
    report = _report(seeded, tmp_path, LOCK, "--select", "query-contract-failed")
    [failed] = report["findings"]
    assert failed["constraint"] == "by_clerk_id"  # now the text parameter is the one that fails
    assert report["exit_code"] == 1


def test_a_locked_table_makes_a_contract_inconclusive_not_failed(seeded: str) -> None:
    """Parse analysis waits for a lock a migration holds: lock_timeout says nothing about the
    query, so no verdict, and the session is left clean."""
    connection = db.connect(seeded, "verify")
    try:
        probe = Probe(connection, db.Timeouts(statement_ms=1500))
        with lock_held(seeded, "jobs"):
            error = probe.prepare("query-contract-failed", "query stats", STATS, ("uuid",))
        assert error is None
        [entry] = probe.inconclusive
        assert entry.reason.startswith("query stats: waited longer than lock_timeout")
        assert probe.prepare("query-contract-failed", "query stats", STATS, ("text",)) is None
        probe.close()
        prepared = connection.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
        assert prepared == (0,)
    finally:
        connection.close()


STATS = "SELECT status, count(*) FROM jobs WHERE org_id = $1 GROUP BY status"


def test_custom_check_file(seeded: str, tmp_path: Path) -> None:
    (tmp_path / "checks").mkdir()
    write(
        tmp_path / "checks" / "orphan_usage.sql",
        "-- usage rows whose job is gone or never was\n"
        "SELECT q.id, q.job_id FROM quota_usage q\n"
        "WHERE q.job_id IS NULL OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = q.job_id);\n",
    )
    lock = LOCK.replace(
        "queries:",
        "  audit:\n    path: usage -> jobs\n    invariants:\n"
        "      - {name: usage_has_a_job, sql: checks/orphan_usage.sql, table: quota_usage}\n"
        "queries:",
    )
    report = _report(seeded, tmp_path, lock, "--select", "flow-violation")
    [custom] = [f for f in report["findings"] if f["constraint"] == "usage_has_a_job"]
    assert custom["count"] == 1
    assert custom["samples"] == ["(3,)"]
    assert custom["table"] == "quota_usage"


@pytest.mark.parametrize(
    ("expression", "refusal"),
    [
        ("pg_sleep(5) IS NULL", "function pg_sleep() is not allowed"),
        ("status = (SELECT pg_read_file('/etc/passwd'))", "subqueries"),
        ("nope = 1", "column nope is not in the lock"),
        ("status = $1", "parameters ($1)"),
        ("true); DROP TABLE jobs; --", "not valid SQL"),
    ],
)
def test_refused_expressions_are_inconclusive_and_never_run(
    seeded: str, tmp_path: Path, expression: str, refusal: str
) -> None:
    lock = LOCK.split("queries:")[0].replace("status = 'running'", json.dumps(expression))
    report = _report(seeded, tmp_path, lock, "--select", "flow-violation")
    [entry] = report["inconclusive"]
    assert entry["rule"] == "flow-violation"
    assert "nothing_stuck" in entry["reason"]
    assert refusal in entry["reason"]
    assert report["exit_code"] == 1  # the other invariants still ran and found their rows
    lint = run_cli("lint", "--lock", str(tmp_path / "schema_lock.yaml"), "--format", "json")
    assert refusal in lint.stdout


def test_missing_check_file_is_a_load_error_with_its_line(tmp_path: Path) -> None:
    lock = write(
        tmp_path / "schema_lock.yaml",
        "version: 1\ntables: {}\nflows:\n  f:\n    path: a -> b\n    invariants:\n"
        "      - sql: checks/nope.sql\n",
    )
    result = run_cli("lint", "--lock", lock)
    assert result.exit_code == 2
    assert f"{lock}:7:" in result.stderr
    assert "cannot read 'checks/nope.sql'" in result.stderr
