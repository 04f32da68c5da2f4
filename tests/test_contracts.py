"""Flows and query contracts on a real PostgreSQL: exact violation counts per invariant form,
contracts that fail and pass with the column's type, and refusals that are never a pass."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
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
def test_refused_expressions_make_the_lock_invalid_and_never_run(
    seeded: str, tmp_path: Path, expression: str, refusal: str
) -> None:
    """A refused invariant is an invalid lock (invalid-expression): verify refuses it before
    it connects, as lint, fix and docs judge it."""
    lock = write(
        tmp_path / "schema_lock.yaml",
        LOCK.split("queries:")[0].replace("status = 'running'", json.dumps(expression)),
    )
    result = run_cli("verify", "--lock", lock, "--database-url", seeded)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "invariant nothing_stuck is refused" in result.stderr
    assert refusal in result.stderr
    lint = run_cli("lint", "--lock", lock, "--format", "json")
    assert refusal in lint.stdout
    assert lint.exit_code == 2


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


# -- user SQL that must never run: refused by lint and by verify, and never executed ---------
#
# The traps below leave a file when PostgreSQL runs them, whatever transaction they run in (a
# COPY to a file is allowed in a READ ONLY one): a refused invariant must leave none.  The
# control test proves each trap fires when the SQL as the audit wrote it runs the way verify
# runs it (READ ONLY, search_path pg_catalog then public).

TRAPS = """
ALTER TABLE jobs ADD COLUMN label varchar(20);
UPDATE jobs SET label = CASE id WHEN 1 THEN 'x' WHEN 2 THEN 'y' END;
CREATE FUNCTION trace(what text) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY (SELECT 1) TO %L', '{directory}/' || what);
    RETURN 1;
END $$;
-- functional notation: jobs.touch and (row).touch call it
CREATE FUNCTION touch(jobs) RETURNS integer LANGUAGE sql AS $$ SELECT trace('touch') $$;
-- better matches for varchar than pg_catalog's lower(text) and text = text
CREATE FUNCTION lower(character varying) RETURNS text LANGUAGE sql
    AS $$ SELECT trace('lower')::text $$;
CREATE FUNCTION traced_eq(character varying, character varying) RETURNS boolean LANGUAGE sql
    AS $$ SELECT trace('eq') = 1 $$;
CREATE OPERATOR = (LEFTARG = character varying, RIGHTARG = character varying,
                   FUNCTION = traced_eq);
-- a cast to a domain runs its CHECK
CREATE DOMAIN traced AS text CHECK (trace('domain') = 1);
"""

TRAP_LOCK = LOCK.split("flows:")[0].replace(
    "      meta: {type: jsonb}\n", "      meta: {type: jsonb}\n      label: {type: varchar(20)}\n"
)


@dataclass(frozen=True)
class Trap:
    url: str
    directory: Path

    def fired(self) -> list[str]:
        return sorted(entry.name for entry in self.directory.iterdir())

    def clear(self) -> None:
        for entry in self.directory.iterdir():
            entry.unlink()


@pytest.fixture
def trap(seeded: str) -> Iterator[Trap]:
    directory = Path(tempfile.mkdtemp(prefix="schemalock-trace-", dir="/tmp"))
    directory.chmod(0o777)  # the server's user writes the traces
    try:
        execute(seeded, TRAPS.replace("{directory}", str(directory)))
        try:
            execute(seeded, "SELECT trace('control')")
        except psycopg.Error as error:
            pytest.skip(f"the server cannot leave traces: {error}")
        if not (directory / "control").exists():
            pytest.skip("the server writes its files where the tests cannot see them")
        (directory / "control").unlink()
        yield Trap(seeded, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_the_traps_fire_when_the_audited_sql_runs(trap: Trap) -> None:
    """Without the allow-list, resolver and qualified rendering, these ran (as verify runs SQL:
    READ ONLY, search_path pg_catalog then public)."""
    with psycopg.connect(trap.url) as connection:
        connection.execute("BEGIN READ ONLY")
        connection.execute("SET LOCAL search_path = pg_catalog, public")
        connection.execute("SELECT j.id, j.touch FROM jobs j").fetchall()
        connection.execute("SELECT lower(label) FROM jobs").fetchall()
        connection.execute("SELECT 1 FROM jobs WHERE label = 'x'").fetchall()
        connection.execute("SELECT 'a'::traced").fetchall()
        connection.rollback()
    assert trap.fired() == ["domain", "eq", "lower", "touch"]


def _one_invariant(tmp_path: Path, kind: str, text: str, lock: str = TRAP_LOCK) -> str:
    """A lock whose only flow invariant is `text`: an implies' `when:`, or a check file."""
    if kind == "check":
        (tmp_path / "checks").mkdir(exist_ok=True)
        write(tmp_path / "checks" / "bad.sql", text)
        invariant = "      - {name: bad, sql: checks/bad.sql, table: jobs}\n"
    else:
        invariant = f"      - name: bad\n        implies: {{table: jobs, when: {json.dumps(text)}, then: 'true'}}\n"  # noqa: E501
    return lock + "flows:\n  f:\n    path: a -> b\n    invariants:\n" + invariant


def _lint(tmp_path: Path) -> Any:
    result = run_cli("lint", "--lock", str(tmp_path / "schema_lock.yaml"), "--format", "json")
    report = json.loads(result.stdout)
    report["exit_code"] = result.exit_code
    return report


REFUSED = [
    # statements, clauses and comments
    ("expression", "true; SELECT trace('second')", "more than one statement"),
    ("expression", "true /* the rest */; SELECT trace('comment')", "more than one statement"),
    ("expression", "true --\n; SELECT trace('comment')", "more than one statement"),
    ("expression", "true LIMIT (SELECT trace('limit'))", "found LIMIT"),
    ("expression", "true INTO x", "found INTO"),
    ("expression", "true FOR UPDATE", "found FOR UPDATE"),
    ("check", "SELECT j.id FROM jobs j; SELECT trace('second')", "exactly one SELECT"),
    ("check", "SELECT j.id FROM jobs j /* */; SELECT trace('comment')", "exactly one SELECT"),
    ("check", "SELECT j.id FROM jobs j --\n; SELECT trace('comment')", "exactly one SELECT"),
    # functions off the allow-list, however named
    ("expression", "pg_sleep(1) IS NULL", "function pg_sleep() is not allowed"),
    ("expression", "pg_read_file('/etc/passwd') <> ''", "function pg_read_file() is not"),
    ("expression", "set_config('search_path', 'public', false) <> ''", "function set_config()"),
    ("expression", "dblink('dbname=postgres', 'SELECT 1') IS NULL", "function dblink()"),
    ("expression", "trace('call') = 1", "function trace() is not allowed"),
    ("expression", "pg_catalog.pg_catalog.lower(status) = 'x'", "pg_catalog.pg_catalog.lower()"),
    ("expression", "public.lower(label) = 'x'", "function public.lower() is not allowed"),
    ("expression", "\"LOWER\"(status) = 'x'", "function LOWER() is not allowed"),
    ("check", "SELECT pg_sleep(1) FROM jobs", "function pg_sleep() is not allowed"),
    ("check", "SELECT j.id FROM jobs j WHERE pg_read_file('/etc/passwd') <> ''", "pg_read_file"),
    ("check", "SELECT set_config('search_path', 'public', false) FROM jobs", "set_config()"),
    ("check", "SELECT dblink('dbname=postgres', 'SELECT 1') FROM jobs", "function dblink()"),
    # functional notation and field selection: a function called on a row
    ("expression", "jobs.touch = 1", "column jobs.touch is not in the lock"),
    (
        "expression",
        "(CAST(ROW(jobs.id, jobs.org_id, jobs.status, jobs.created_at, jobs.completed_at,"
        " jobs.meta, jobs.label) AS jobs)).touch = 1",
        "field selection",
    ),
    ("check", "SELECT j.id, j.touch FROM jobs j", "column j.touch is not in the lock"),
    ("check", "SELECT (j).touch FROM jobs j", "field selection"),
    ("check", "SELECT x.touch FROM (SELECT * FROM jobs) AS x", "column x.touch is not in"),
    ("check", "WITH c AS (SELECT j.id FROM jobs j) SELECT c.touch FROM c", "c has no column"),
    ("check", "SELECT public.jobs.touch FROM jobs", "name a column as alias.column"),
    # CTE names are scoped: one defined in a subquery does not hide a catalog table elsewhere
    (
        "check",
        "SELECT b.rolname, b.rolsuper, b.rolpassword FROM (WITH pg_authid AS"
        " (SELECT 1 AS x FROM jobs) SELECT * FROM pg_authid) AS a, pg_authid AS b",
        "table pg_authid is not in the lock",
    ),
    (
        "check",
        "SELECT b.name, b.setting FROM (WITH pg_settings AS (SELECT 1 AS x FROM jobs)"
        " SELECT * FROM pg_settings) AS a, pg_settings AS b",
        "table pg_settings is not in the lock",
    ),
    (
        "check",
        "WITH d AS (SELECT c.id FROM c), c AS (SELECT j.id FROM jobs j) SELECT d.id FROM d",
        "table c is not in the lock",
    ),
    # types whose input or CHECK could run anything, operators off the list
    ("expression", "'a'::traced IS NOT NULL", "type traced is not allowed"),
    ("expression", "pg_input_is_valid(status, 'traced')", "type traced is not allowed"),
    ("expression", "status::regclass IS NOT NULL", "type regclass is not allowed"),
    ("expression", "status OPERATOR(public.=) 'x'", "operator public.= is not allowed"),
    ("check", "SELECT j.id FROM jobs j ORDER BY j.label USING =", "USING an operator"),
    # a whole row reads every live column, the lock's or not
    ("expression", "to_jsonb(jobs) IS NOT NULL", "names a whole row"),
    ("check", "SELECT to_jsonb(j) FROM jobs j", "names a whole row"),
]


@pytest.mark.parametrize(("kind", "text", "refusal"), REFUSED)
def test_refused_by_lint_and_verify_and_never_run(
    trap: Trap, tmp_path: Path, kind: str, text: str, refusal: str
) -> None:
    lock = write(tmp_path / "schema_lock.yaml", _one_invariant(tmp_path, kind, text))
    verify = run_cli("verify", "--lock", lock, "--database-url", trap.url)
    assert verify.exit_code == 2, verify.stdout + verify.stderr  # invalid: never connected
    assert "flow f: invariant bad is refused: " in verify.stderr
    assert refusal in verify.stderr
    lint = _lint(tmp_path)
    [finding] = [f for f in lint["findings"] if f["rule"] == "invalid-expression"]
    assert refusal in finding["message"]
    assert lint["exit_code"] == 2
    assert trap.fired() == []


def test_a_comment_is_dropped_not_run(trap: Trap, tmp_path: Path) -> None:
    """What runs is the rendering of the parse tree, where a comment does not exist."""
    text = "status = 'completed' -- AND trace('comment') = 1"
    lock = _one_invariant(tmp_path, "expression", text)
    report = _report(trap.url, tmp_path, lock, "--select", "flow-violation")
    assert report["inconclusive"] == []
    assert report["exit_code"] == 0  # `then: true` holds on every row
    assert trap.fired() == []


def test_functions_and_operators_are_pg_catalogs(trap: Trap, tmp_path: Path) -> None:
    """public.lower(varchar) and a public `=` for varchar fit a varchar column better than
    pg_catalog's, and verify's search_path has public: what runs names pg_catalog's, also for
    the syntax that names `=` implicitly (IN, NULLIF, CASE x WHEN, IS DISTINCT FROM, ...)."""
    then = (
        "lower(label) = 'x' AND label = 'x' AND NULLIF(label, 'x') IS NULL"
        " AND CASE label WHEN 'x' THEN true ELSE false END"
        " AND label IS NOT DISTINCT FROM 'x' AND NOT (label IS DISTINCT FROM 'x')"
        " AND label BETWEEN 'a' AND 'z' AND label LIKE 'x%' AND label = ANY (ARRAY['x'])"
    )
    lock = _one_invariant(tmp_path, "expression", "label IN ('x', 'y')").replace(
        "then: 'true'", f"then: {json.dumps(then)}"
    )
    report = _report(trap.url, tmp_path, lock, "--select", "flow-violation")
    [finding] = report["findings"]
    assert (finding["count"], finding["samples"]) == (1, ["2"])  # 'y' fails, 'x' holds
    (tmp_path / "checks").mkdir()
    write(
        tmp_path / "checks" / "varchar.sql",
        "SELECT j.id FROM jobs j WHERE lower(j.label) = 'y' AND j.label IN ('y') ORDER BY 1",
    )
    check = TRAP_LOCK + (
        "flows:\n  f:\n    path: a -> b\n    invariants:\n"
        "      - {name: y_rows, sql: checks/varchar.sql, table: jobs}\n"
    )
    report = _report(trap.url, tmp_path, check, "--select", "flow-violation")
    [finding] = report["findings"]
    assert (finding["count"], finding["samples"]) == (1, ["(2)"])
    assert trap.fired() == []


def test_a_lock_column_missing_from_the_database_is_refused(trap: Trap, tmp_path: Path) -> None:
    """`jobs.touch` names a column in the lock; in a database without it, PostgreSQL would call
    touch(jobs) instead.  lint cannot know; verify refuses."""
    lock = TRAP_LOCK.replace(
        "      label: {type: varchar(20)}\n",
        "      label: {type: varchar(20)}\n      touch: {type: integer}\n",
    )
    cases = [
        ("expression", "jobs.touch = 1"),
        ("check", "SELECT j.id FROM jobs j WHERE j.touch = 1"),
        ("check", "SELECT x.touch FROM (SELECT * FROM jobs) AS x"),
    ]
    for kind, text in cases:
        report = _report(
            trap.url,
            tmp_path,
            _one_invariant(tmp_path, kind, text, lock),
            "--select",
            "flow-violation",
        )
        [entry] = report["inconclusive"]
        assert "column public.jobs.touch is in the lock but not in the database" in entry["reason"]
        assert report["exit_code"] == 4
        assert [f for f in _lint(tmp_path)["findings"] if f["rule"] == "invalid-expression"] == []
    assert trap.fired() == []


def test_ctes_subqueries_and_aliases_resolve_as_postgresql_does(
    seeded: str, tmp_path: Path
) -> None:
    check = (
        "WITH completed AS (SELECT j.id, j.org_id FROM jobs j WHERE j.status = 'completed'),\n"
        "     unaccounted AS (SELECT c.id FROM completed c WHERE NOT EXISTS\n"
        "         (SELECT 1 FROM quota_usage q WHERE q.job_id = c.id))\n"
        "SELECT u.id, x.n FROM unaccounted u,\n"
        "     (SELECT count(*) AS n FROM jobs) AS x\n"
        "ORDER BY u.id"
    )
    lock = _one_invariant(tmp_path, "check", check, LOCK.split("flows:")[0])
    report = _report(seeded, tmp_path, lock, "--select", "flow-violation")
    [finding] = report["findings"]
    assert finding["samples"] == ["(5,5)"]
    assert report["inconclusive"] == []


def test_an_unaliased_subquery_is_checked_not_a_crash(seeded: str, tmp_path: Path) -> None:
    """`FROM (SELECT ...)` without a name is valid from PostgreSQL 16; before, the server says
    so and the invariant is inconclusive."""
    lock = _one_invariant(
        tmp_path, "check", "SELECT * FROM (SELECT 1 FROM jobs)", LOCK.split("flows:")[0]
    )
    report = _report(seeded, tmp_path, lock, "--select", "flow-violation")
    lint = _lint(tmp_path)
    assert (lint["exit_code"], lint["findings"]) == (0, [])
    if _server_version(seeded) >= 160000:
        [finding] = report["findings"]
        assert finding["count"] == 5
    else:
        [entry] = report["inconclusive"]
        assert "must have an alias" in entry["reason"]
    result = run_cli(
        "verify", "--lock", str(tmp_path / "schema_lock.yaml"), "--database-url", seeded
    )
    assert "internal error" not in result.stdout + result.stderr


def _server_version(url: str) -> int:
    with psycopg.connect(url) as connection:
        return connection.info.server_version


def test_query_contract_parameter_count_and_table(seeded: str, tmp_path: Path) -> None:
    """The server fills in an undeclared parameter's type and accepts a declared one the SQL
    does not use: the contract compares the SQL's highest $n with `params`.  A failed contract
    is listed under the first lock table its SQL reads."""
    lock = LOCK.split("queries:")[0] + (
        "queries:\n"
        "  undeclared:\n"
        "    sql: SELECT j.id FROM jobs j WHERE j.id = $1::int + $2::int\n"
        "    params: [integer]\n"
        "  unused:\n"
        "    sql: SELECT 1\n"
        "    params: [integer, text]\n"
        "  exact:\n"
        "    sql: SELECT $1::int + $2::int\n"
        "    params: [integer, integer]\n"
        "  mismatch:\n"
        "    sql: UPDATE organizations SET quota_used = $2 WHERE id = $1::text\n"
        "    params: [uuid, integer]\n"
    )
    report = _report(seeded, tmp_path, lock, "--select", "query-contract-failed")
    found = {f["constraint"]: f for f in report["findings"]}
    assert set(found) == {"undeclared", "unused", "mismatch"}
    assert found["undeclared"]["message"] == (
        "query undeclared does not match its params: the SQL uses $2 as its last parameter"
        " but params declares 1 (integer)"
    )
    assert found["undeclared"]["table"] == "jobs"
    assert "uses no parameters but params declares 2" in found["unused"]["message"]
    assert found["unused"]["table"] is None
    assert "fails on the live schema" in found["mismatch"]["message"]
    assert (found["mismatch"]["schema"], found["mismatch"]["table"]) == ("public", "organizations")
    assert report["exit_code"] == 1


def test_a_failed_contract_is_listed_under_its_table(seeded: str, tmp_path: Path) -> None:
    lock = write(tmp_path / "schema_lock.yaml", LOCK)
    result = run_cli(
        "verify", "--lock", lock, "--database-url", seeded, "--select", "query-contract-failed"
    )
    heading, line = result.stdout.splitlines()[:2]
    assert heading == "public.jobs"
    assert "SL503 query stats (/api/stats) fails on the live schema" in line
    stats_line = LOCK.splitlines().index("  stats:") + 1
    assert f"[query-contract-failed {lock}:{stats_line}]" in line


CAST_TRAP = """
CREATE TYPE mood AS ENUM ('happy', 'sad');
ALTER TABLE jobs ADD COLUMN mood mood;
UPDATE jobs SET mood = 'happy';
-- The owner of a type may give it a cast of its own: `::text` then runs the function.
CREATE FUNCTION mood_text(mood) RETURNS text LANGUAGE sql AS $$ SELECT trace('cast')::text $$;
CREATE CAST (mood AS text) WITH FUNCTION mood_text(mood) AS ASSIGNMENT;
"""


def test_a_user_defined_cast_is_never_run(trap: Trap, tmp_path: Path) -> None:
    """A column whose type a cast function outside pg_catalog converts is read by no row check
    and no flow invariant: both are inconclusive, naming the type, and the function never
    runs (the control shows it would)."""
    execute(trap.url, CAST_TRAP)
    with psycopg.connect(trap.url) as connection:
        connection.execute("SELECT mood::text FROM jobs").fetchall()
    assert trap.fired() == ["cast"]
    trap.clear()
    lock = TRAP_LOCK.replace(
        "      label: {type: varchar(20)}\n",
        "      label: {type: varchar(20)}\n      mood: {type: mood, pattern: '^h'}\n",
    ).replace("tables:\n", "enums:\n  mood: [happy, sad]\ntables:\n", 1)
    lock = _one_invariant(tmp_path, "implies", "mood::text = 'happy'", lock)
    report = _report(trap.url, tmp_path, lock, "--select", "flow-violation,pattern-violation")
    reasons = sorted((i["rule"], i["reason"]) for i in report["inconclusive"])
    assert [rule for rule, _ in reasons] == ["flow-violation", "pattern-violation"], reasons
    assert all("a cast function outside pg_catalog" in reason for _, reason in reasons)
    assert report["exit_code"] == 4
    assert trap.fired() == []
