"""Row checks on a real PostgreSQL: exact counts, NULL semantics, text-versus-uuid, and honest
failures (a check that cannot finish is inconclusive, exit 4, never a pass)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from conftest import as_role, execute, lock_held, query, run_cli, write
from schemalock import db, introspect
from schemalock.lock import parse_lock
from schemalock.probe import Probe
from schemalock.probe.sql import UUID_INPUT, uuid_input_valid
from test_roundtrip import snapshot

pytestmark = pytest.mark.db

# Privileges of a role that may read every table the tests create (`{role}`: its name).
READ_ALL = (
    "GRANT USAGE ON SCHEMA billing TO {role};"
    " GRANT SELECT ON ALL TABLES IN SCHEMA public, billing TO {role};"
)

SCHEMA = """
CREATE SCHEMA billing;
CREATE TABLE organizations (
    id uuid PRIMARY KEY,
    clerk_org_id text NOT NULL UNIQUE,
    plan text
);
CREATE TABLE "Job Runs" (
    "Run Id" uuid PRIMARY KEY,
    org_id text,
    note text
);
CREATE TABLE usage (
    org_id uuid,
    period date,
    amount integer,
    PRIMARY KEY (org_id, period)
);
CREATE TABLE billing.usage_lines (org_id uuid, period date, line integer);
CREATE TABLE quota_usage (id integer PRIMARY KEY, run_id uuid);
"""

LOCK = """version: 1
database: {schemas: [public, billing]}
environments:
  production: {require_host: ["*.neon.tech"]}
  staging: {}
tables:
  organizations:
    columns:
      id: {type: uuid, primary_key: true}
      clerk_org_id: {type: text, nullable: false, unique: true, pattern: '^org_[0-9A-Za-z]+$'}
      plan: {type: text, values: [free, pro, enterprise]}
  Job Runs:
    columns:
      Run Id: {type: uuid, primary_key: true}
      org_id: {type: text, references: organizations.id}
      note: {type: text}
  usage:
    columns:
      org_id: {type: uuid}
      period: {type: date}
      amount: {type: integer}
    primary_key: [org_id, period]
  billing.usage_lines:
    columns: {org_id: {type: uuid}, period: {type: date}, line: {type: integer}}
    foreign_keys:
      lines_usage_fkey:
        columns: [org_id, period]
        references: {table: public.usage, columns: [org_id, period]}
  quota_usage:
    columns:
      id: {type: integer, primary_key: true}
      run_id: {type: uuid, references: '"Job Runs"."Run Id"'}
"""

DATA = """
INSERT INTO organizations VALUES
    ('11111111-1111-4111-8111-111111111111', 'org_2aAlpha', 'free'),
    ('22222222-2222-4222-8222-222222222222', 'org_2bBeta', 'pro'),
    ('33333333-3333-4333-8333-333333333333', 'user_3gamma', 'platinum');
INSERT INTO "Job Runs" VALUES
    (gen_random_uuid(), '11111111-1111-4111-8111-111111111111', 'x'),   -- matches
    (gen_random_uuid(), '{22222222-2222-4222-8222-222222222222}', 'x'), -- braces: matches
    (gen_random_uuid(), '3333333333334333833333333333333 3', 'x'),      -- not a uuid
    (gen_random_uuid(), '44444444444444448444444444444444', 'x'),      -- undashed orphan
    (gen_random_uuid(), 'org_2aAlpha', 'x'),                            -- a Clerk id
    (gen_random_uuid(), NULL, 'x');                                     -- NULL: no reference
INSERT INTO usage VALUES ('11111111-1111-4111-8111-111111111111', '2026-01-01', 5);
INSERT INTO billing.usage_lines VALUES
    ('11111111-1111-4111-8111-111111111111', '2026-01-01', 1),  -- matches
    ('11111111-1111-4111-8111-111111111111', '2026-02-01', 2),  -- orphan
    ('11111111-1111-4111-8111-111111111111', NULL, 3),          -- partly NULL: not checked
    (NULL, NULL, 4);                                            -- NULL: not checked
"""


def _report(database: str, tmp_path: Path, *options: str, lock_text: str = LOCK) -> Any:
    lock = write(tmp_path / "schema_lock.yaml", lock_text)
    result = run_cli(
        "verify", "--lock", lock, "--database-url", database, "--format", "json", *options
    )
    report = json.loads(result.stdout)
    report["exit_code"] = result.exit_code
    return report


def _by_rule(report: Any, rule: str) -> list[Any]:
    return [f for f in report["findings"] if f["rule"] == rule]


@pytest.fixture
def populated(database: str) -> str:
    execute(database, SCHEMA + DATA)
    return database


def test_orphans_exact_counts_and_semantics(populated: str, tmp_path: Path) -> None:
    report = _report(populated, tmp_path)
    orphans = {
        (f["table"], f["message"].split(" row")[0]): f for f in _by_rule(report, "fk-orphans")
    }
    runs_orphans = orphans[("Job Runs", "1")]
    assert runs_orphans["count"] == 1  # the undashed uuid; braces and NULL are fine
    assert runs_orphans["samples"] == ["44444444444444448444444444444444"]
    assert "text read as uuid by PostgreSQL" in runs_orphans["message"]
    runs_invalid = orphans[("Job Runs", "2")]
    assert runs_invalid["count"] == 2
    assert "not uuid at all" in runs_invalid["message"]
    lines = orphans[("usage_lines", "1")]
    assert lines["count"] == 1
    assert lines["schema"] == "billing"
    assert lines["samples"] == ["11111111-1111-4111-8111-111111111111, 2026-02-01"]
    assert 'public."Job Runs"' in runs_orphans["message"]
    assert all(f["lock_line"] for f in report["findings"])
    assert report["exit_code"] == 1


def test_miswired_reference_names_the_column_it_holds(populated: str, tmp_path: Path) -> None:
    [finding] = _by_rule(_report(populated, tmp_path), "miswired-reference")
    assert finding["table"] == "Job Runs"
    assert finding["column"] == "org_id"
    assert finding["count"] == 1
    assert finding["actual"] == "clerk_org_id"
    assert "map them through public.organizations" in finding["message"]


def test_pattern_and_accepted_values(populated: str, tmp_path: Path) -> None:
    report = _report(populated, tmp_path)
    [pattern] = _by_rule(report, "pattern-violation")
    assert pattern["count"] == 1
    assert pattern["samples"] == ["user_3gamma"]
    [values] = _by_rule(report, "accepted-values-violation")
    assert values["count"] == 1
    assert values["samples"] == ["platinum"]
    assert "1 of 3 values" in values["message"]


def test_validated_foreign_key_means_no_scan(populated: str, tmp_path: Path) -> None:
    """With a validated FK nothing is read: a role that cannot read the child still passes."""
    execute(
        populated,
        "DELETE FROM quota_usage; ALTER TABLE quota_usage ADD CONSTRAINT "
        "quota_usage_run_id_fkey FOREIGN KEY (run_id) "
        'REFERENCES "Job Runs" ("Run Id")',
    )
    with as_role(populated, READ_ALL + " REVOKE SELECT ON quota_usage FROM {role}") as reader:
        report = _report(reader, tmp_path, "--select", "fk-orphans")
        assert report["inconclusive"] == []
        assert not [f for f in report["findings"] if f["table"] == "quota_usage"]


def test_permission_denied_is_inconclusive(populated: str, tmp_path: Path) -> None:
    # quota_usage is checked after usage_lines fails: its orphan must still be found.
    execute(populated, "INSERT INTO quota_usage VALUES (1, gen_random_uuid())")
    revoke = " REVOKE SELECT ON billing.usage_lines FROM {role}"
    with as_role(populated, READ_ALL + revoke) as reader:
        report = _report(reader, tmp_path, "--select", "fk-orphans")
        [entry] = report["inconclusive"]
        assert entry["rule"] == "fk-orphans"
        assert entry["table"] == "usage_lines"
        assert "permission denied" in entry["reason"]
        # The other relations were still checked, before and after the failure.
        assert {f["table"] for f in report["findings"]} == {"Job Runs", "quota_usage"}
        assert report["exit_code"] == 1
        clean = _report(reader, tmp_path, "--select", "fk-orphans", "--ignore", "SL203")
        assert clean["summary"]["inconclusive"] == 1


def test_inconclusive_alone_exits_4(populated: str, tmp_path: Path) -> None:
    execute(populated, 'DELETE FROM "Job Runs" WHERE org_id IS NOT NULL')
    public_only = (
        "GRANT USAGE ON SCHEMA billing TO {role};"
        " GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"
    )
    with as_role(populated, public_only) as reader:
        report = _report(reader, tmp_path, "--select", "fk-orphans")
        assert report["findings"] == []
        assert report["inconclusive"][0]["table"] == "usage_lines"
        assert report["exit_code"] == 4


@pytest.fixture
def held_lock(populated: str) -> Iterator[None]:
    with lock_held(populated, "billing.usage_lines"):
        yield


def test_a_locked_table_makes_its_checks_inconclusive(
    populated: str, tmp_path: Path, held_lock: None
) -> None:
    report = _report(populated, tmp_path, "--select", "fk-orphans", "--statement-timeout", "1.5")
    [entry] = report["inconclusive"]
    assert (entry["rule"], entry["table"]) == ("fk-orphans", "usage_lines")
    assert "lock_timeout" in entry["reason"]
    assert {f["table"] for f in report["findings"]} == {"Job Runs"}


def test_statement_timeout_is_inconclusive_and_named(database: str) -> None:
    execute(
        database,
        "CREATE TABLE parent (id integer PRIMARY KEY);"
        " CREATE TABLE child (parent_id integer);"
        " INSERT INTO child SELECT g FROM generate_series(1, 300000) g",
    )
    lock = parse_lock(
        "version: 1\ntables:\n  parent: {columns: {id: {type: integer, "
        "primary_key: true}}}\n  child: {columns: {parent_id: {type: integer, "
        "references: parent.id}}}\n"
    )
    connection = db.connect(database)
    try:
        with db.read_only(connection, db.Timeouts()) as conn:
            live = introspect.introspect(conn, ["public"])
        probe = Probe(connection, db.Timeouts(statement_ms=1))
        fk = lock.database.tables[("public", "child")].foreign_keys[0]
        result = probe.orphans(
            "fk-orphans", live.tables[("public", "child")], fk, live.tables[("public", "parent")]
        )
    finally:
        connection.close()
    assert result is None
    [entry] = probe.inconclusive
    assert (entry.rule, entry.table) == ("fk-orphans", "child")
    assert "statement_timeout (1 ms)" in entry.reason


def test_uuid_stored_as_text(database: str, tmp_path: Path) -> None:
    execute(
        database,
        """
        CREATE TABLE refs (id uuid PRIMARY KEY);
        CREATE TABLE t (id integer PRIMARY KEY, ref text, token text, name text,
            event_id text, request_id text);
        INSERT INTO t SELECT g,
            CASE WHEN g = 1 THEN 'n/a' WHEN g % 3 = 0 THEN upper(gen_random_uuid()::text)
                 WHEN g % 3 = 1 THEN '{' || gen_random_uuid() || '}'
                 ELSE gen_random_uuid()::text END,
            md5(g::text),
            'Hammock ' || g,
            replace(gen_random_uuid()::text, '-', ''),
            gen_random_uuid()::text
        FROM generate_series(1, 30) g;
    """,
    )
    lock = (
        "version: 1\ntables:\n  refs:\n    columns: {id: {type: uuid, primary_key: true}}\n"
        "  t:\n    columns:\n      id: {type: integer, primary_key: "
        "true}\n      ref: {type: text}\n      token: {type: text}\n"
        "      event_id: {type: text}\n      request_id: {type: text}\n"
    )  # `name` unlisted
    report = _report(database, tmp_path, lock_text=lock)
    # `ref` names a table with a uuid key; `request_id`'s UUIDs are nobody's key: silent.
    [as_text] = _by_rule(report, "uuid-stored-as-text")
    assert as_text["column"] == "ref"
    assert as_text["count"] == 29
    assert "1 would not convert" in as_text["message"]
    # md5 digests are no UUIDs; version-4 UUIDs without hyphens in an id column are.
    [undashed] = _by_rule(report, "undashed-uuid-as-text")
    assert undashed["column"] == "event_id"
    assert undashed["severity"] == "info"
    assert [f["rule"] for f in report["findings"]] == [
        "extra-column",
        "uuid-stored-as-text",
        "undashed-uuid-as-text",
    ]


def test_uuid_regex_agrees_with_postgresql(database: str) -> None:
    """The pre-16 stand-in for pg_input_is_valid decides exactly as PostgreSQL's uuid input."""
    from psycopg import sql

    corpus = [
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        "a0eebc999c0b4ef8bb6d6bb9bd380a11",
        "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
        "{a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11}",  # the longest: 41 characters
        "{a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11-}",
        "{a0eebc999c0b4ef8bb6d6bb9bd380a11}",
        "a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
        "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
        "",
        "org_2abc",
        "a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11",
    ]
    execute(
        database,
        """
        CREATE FUNCTION reads_as_uuid(v text) RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN PERFORM v::uuid; RETURN true; EXCEPTION WHEN others THEN RETURN false; END $$;
    """,
    )
    rows = query(
        database,
        "SELECT v, reads_as_uuid(v), v ~ " + "'" + UUID_INPUT + "'"
        " FROM unnest(ARRAY[" + ", ".join("'" + v + "'" for v in corpus) + "]) v",
    )
    disagreements = [(v, pg, rx) for v, pg, rx in rows if pg != rx]
    assert disagreements == []
    # The expression the probe runs (the canonical form tried first) decides the same.
    composed = sql.SQL("SELECT v, reads_as_uuid(v), {} FROM unnest(%s::text[]) v").format(
        uuid_input_valid(sql.SQL("v"))
    )
    assert [(v, pg) for v, pg, _ in query(database, composed, [corpus])] == [
        (v, ok) for v, _, ok in query(database, composed, [corpus])
    ]
    # NULL stays NULL (a count of values that are not uuids must not count it).
    null = sql.SQL("SELECT {}").format(uuid_input_valid(sql.SQL("NULL::text")))
    assert query(database, null) == [(None,)]


def test_environment_policy(populated: str, tmp_path: Path) -> None:
    production = _report(populated, tmp_path, "--env", "production", "--select", "database-policy")
    [finding] = production["findings"]
    assert finding["rule"] == "database-policy"
    assert finding["expected"] == ["*.neon.tech"]
    assert production["exit_code"] == 1
    staging = _report(populated, tmp_path, "--env", "staging", "--select", "database-policy")
    assert staging["findings"] == []
    assert staging["exit_code"] == 0
    lock = write(tmp_path / "schema_lock.yaml", LOCK)
    unknown = run_cli("verify", "--lock", lock, "--database-url", populated, "--env", "prod")
    assert unknown.exit_code == 2
    assert "no such environment" in unknown.stderr


def test_no_data_and_sampling(populated: str, tmp_path: Path) -> None:
    structure_only = _report(populated, tmp_path, "--no-data")
    data_rules = {
        "fk-orphans",
        "miswired-reference",
        "pattern-violation",
        "accepted-values-violation",
        "uuid-stored-as-text",
    }
    assert not data_rules & {f["rule"] for f in structure_only["findings"]}
    sampled = _report(
        populated,
        tmp_path,
        "--sample",
        "100",
        "--select",
        "fk-orphans,pattern-violation,accepted-values-violation",
    )
    assert len(sampled["findings"]) == 5
    assert all(f["message"].startswith("about ") for f in sampled["findings"])


def test_clean_populated_database_gives_nothing(database: str, tmp_path: Path) -> None:
    execute(
        database,
        SCHEMA
        + """
        INSERT INTO organizations SELECT gen_random_uuid(), 'org_2' || md5(g::text),
            (ARRAY['free', 'pro', 'enterprise'])[1 + g % 3] FROM generate_series(1, 500) g;
        INSERT INTO "Job Runs" SELECT gen_random_uuid(), o.id::text,
            (ARRAY['Hammock review', 'Last Will and Testament', 'Protest march',
                   'Fakenham attestation'])[1 + n % 4]
            FROM organizations o, generate_series(1, 4) n;
        INSERT INTO quota_usage SELECT row_number() OVER (), "Run Id" FROM "Job Runs";
        INSERT INTO usage SELECT id, '2026-01-01', 1 FROM organizations;
        INSERT INTO billing.usage_lines SELECT org_id, period, 1 FROM usage;
        ALTER TABLE "Job Runs" ALTER COLUMN org_id TYPE uuid USING org_id::uuid;
        CREATE INDEX ON "Job Runs" (org_id);
        CREATE INDEX ON billing.usage_lines (org_id, period);
        CREATE INDEX ON quota_usage (run_id);
    """,
    )
    lock = LOCK.replace("org_id: {type: text, references", "org_id: {type: uuid, references")
    report = _report(database, tmp_path, "--fail-on", "info", lock_text=lock)
    # Constraints and these indexes are not in the hand-written lock (structure says so);
    # every row check finds nothing.
    assert {f["rule"] for f in report["findings"]} == {"missing-foreign-key", "extra-index"}
    assert report["inconclusive"] == []


def test_fk_not_validated(populated: str, tmp_path: Path) -> None:
    execute(
        populated,
        "DELETE FROM quota_usage; ALTER TABLE quota_usage ADD CONSTRAINT "
        'quota_usage_run_id_fkey FOREIGN KEY (run_id) REFERENCES "Job Runs" '
        '("Run Id") NOT VALID',
    )
    report = _report(populated, tmp_path, "--select", "fk-not-validated,fk-orphans")
    [finding] = [f for f in report["findings"] if f["table"] == "quota_usage"]
    assert finding["rule"] == "fk-not-validated"
    assert finding["constraint"] == "quota_usage_run_id_fkey"
    execute(populated, "ALTER TABLE quota_usage VALIDATE CONSTRAINT quota_usage_run_id_fkey")
    again = _report(populated, tmp_path, "--select", "fk-not-validated")
    assert again["findings"] == []


def test_duplicate_tables(database: str, tmp_path: Path) -> None:
    execute(
        database,
        """
        CREATE TABLE organizations (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            clerk_org_id text NOT NULL UNIQUE, name text, plan text, quota_used integer);
        CREATE TABLE orgs (id integer, clerk_org_id text, name text, plan text);
        INSERT INTO organizations (clerk_org_id, name, plan)
            SELECT 'org_' || g, 'Org ' || g, 'free' FROM generate_series(1, 40) g;
        INSERT INTO orgs SELECT g, 'org_' || g, 'Org ' || g, 'free' FROM generate_series(36, 45) g;
        CREATE TABLE customers (id integer, email text, full_name text, country text);
        CREATE TABLE customers_old (id integer, email text, full_name text, country text);
        -- One row shared (a copy shares rows: shared columns alone are no evidence), two not.
        INSERT INTO customers VALUES (3, 'c@d.co', 'C', 'ES');
        INSERT INTO customers_old VALUES (1, 'a@b.co', 'A', 'PT'), (NULL, NULL, 'B', NULL),
            (3, 'c@d.co', 'C', 'ES');
    """,
    )
    lock = tmp_path / "lock.yaml"
    text = write(lock, "")
    snapshot(database, lock)
    text = lock.read_text().replace(
        "  orgs:\n", "  orgs:\n    legacy: true\n    duplicate_of: organizations\n"
    )
    lock.write_text(text, encoding="utf-8")
    report = _report(database, tmp_path, "--select", "duplicate-table", lock_text=text)
    found = {f["table"]: f for f in report["findings"]}
    orgs = found["orgs"]
    assert orgs["count"] == 5
    assert "(declared)" in orgs["message"]
    assert "5 of 10 rows also in public.organizations (matched on clerk_org_id)" in orgs["message"]
    assert orgs["lock_line"] is not None
    old = found["customers_old"]  # found, not declared: matched on every shared column
    assert old["count"] == 2
    assert "(declared)" not in old["message"]
    assert set(found) == {"orgs", "customers_old"}


def test_progress_only_on_a_terminal(populated: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    lock = write(tmp_path / "schema_lock.yaml", LOCK)
    args = [
        sys.executable,
        "-m",
        "schemalock",
        "verify",
        "--lock",
        lock,
        "--database-url",
        populated,
    ]
    quiet = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert quiet.returncode == 1
    assert quiet.stderr == ""  # not a terminal: no progress
    controller, terminal = os.openpty()
    try:
        shown = subprocess.run(
            args,
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=120,
            check=False,
            env={**_not_ci(), "COLUMNS": "120"},
        )
        os.close(terminal)
        written = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            written += chunk
    finally:
        os.close(controller)
    assert shown.returncode == 1
    assert b" queries" in written  # the bar's counter (labels change faster than redraws)
    plain = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", written)  # colours and cursor moves
    assert re.search(rb"\d+/\d+ rules", plain)  # the bar over the rules, e.g. 12/31
    assert b"fk-orphans" in shown.stdout  # the report itself still goes to stdout


def _not_ci() -> dict[str, str]:
    """The environment without the variables that switch the progress bar off (CI, hooks)."""
    import os

    hidden = {
        "CI",
        "PRE_COMMIT",
        *(f"SCHEMALOCK_{flag}" for flag in ("NO_PROGRESS", "QUIET", "VERBOSE")),
    }
    return {name: value for name, value in os.environ.items() if name not in hidden}


def test_uuid_text_column_suggests_its_relation(database: str, tmp_path: Path) -> None:
    execute(
        database,
        """
        CREATE TABLE accounts (id uuid PRIMARY KEY DEFAULT gen_random_uuid());
        CREATE TABLE invoices (
            id integer PRIMARY KEY, account_id text, batch text, payer text, owner text);
        CREATE TABLE people (id uuid PRIMARY KEY DEFAULT gen_random_uuid());
        INSERT INTO accounts SELECT FROM generate_series(1, 20);
        INSERT INTO people SELECT FROM generate_series(1, 30);
        INSERT INTO invoices SELECT row_number() OVER (), a.id::text, gen_random_uuid()::text
            FROM accounts a;
        -- No name to go by: found by probing every uuid key with a few samples.
        UPDATE invoices i SET payer = a.id FROM accounts a WHERE a.id::text = i.account_id;
        -- Samples all found in people, but one value is nobody's: no suggestion.
        UPDATE invoices i SET owner = p.id
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM people) p
            WHERE p.n = i.id;
        UPDATE invoices SET owner = gen_random_uuid() WHERE id = 20;
        -- PostgreSQL reads these as the same UUIDs: they must still count as matches.
        UPDATE invoices SET account_id = upper(account_id) WHERE id % 2 = 0;
        UPDATE invoices SET account_id = '{' || account_id || '}' WHERE id % 3 = 0;
    """,
    )
    lock = tmp_path / "lock.yaml"
    snapshot(database, lock)
    report = _report(
        database, tmp_path, "--select", "uuid-stored-as-text", lock_text=lock.read_text()
    )
    found = {f["column"]: f["message"] for f in report["findings"]}
    assert "every one matches public.accounts.id" in found["account_id"]
    assert "batch" not in found  # UUIDs, but no key holds one: a correlation id, silent
    assert "every one matches public.accounts.id" in found["payer"]
    assert "matches" not in found["owner"]


def test_orphan_samples_skip_values_that_do_not_convert(database: str, tmp_path: Path) -> None:
    """The first rows out of the anti-join are unconvertible: the samples still show orphans."""
    execute(
        database,
        """
        CREATE TABLE parent (id uuid PRIMARY KEY);
        CREATE TABLE child (ref text);
        INSERT INTO child SELECT 'junk ' || g FROM generate_series(1, 40) g;
        INSERT INTO child VALUES ('aaaaaaaa-0000-4000-8000-000000000001'),
            ('aaaaaaaa-0000-4000-8000-000000000001'), ('AAAAAAAA-0000-4000-8000-000000000002');
    """,
    )
    lock = (
        "version: 1\ntables:\n  parent:\n    columns: {id: {type: uuid, primary_key: true}}\n"
        "  child:\n    columns: {ref: {type: text, references: parent.id}}\n"
    )
    report = _report(database, tmp_path, "--select", "fk-orphans", lock_text=lock)
    by_count = {f["count"]: f for f in _by_rule(report, "fk-orphans")}
    assert by_count[3]["samples"] == [
        "aaaaaaaa-0000-4000-8000-000000000001",
        "AAAAAAAA-0000-4000-8000-000000000002",
    ]
    assert "not uuid at all" in by_count[40]["message"]


def _has_tcp(url: str) -> bool:
    host = str(conninfo_to_dict(url).get("host") or "")
    return bool(host) and not host.startswith("/")


# -- --sample ----------------------------------------------------------------------------------


def test_sampled_counts_are_estimates_for_the_whole_table(database: str, tmp_path: Path) -> None:
    """`--sample 10` scales what the sample counted to the whole table: within 25% of the
    exact figure (SYSTEM sampling picks ~270 of ~2,700 pages, a relative spread of ~6%)."""
    execute(
        database,
        """
        CREATE TABLE parent (id integer PRIMARY KEY);
        CREATE TABLE child (id integer PRIMARY KEY, parent_id integer, code text);
        INSERT INTO child SELECT g, CASE WHEN g % 2 = 0 THEN g END,
            CASE WHEN g % 2 = 0 THEN 'x' || g ELSE 'ok_' || g END
        FROM generate_series(1, 500000) g;
        ANALYZE child;
    """,
    )
    lock = (
        "version: 1\ntables:\n  parent: {columns: {id: {type: integer, primary_key: true}}}\n"
        "  child:\n    columns:\n      id: {type: integer, primary_key: true}\n"
        "      parent_id: {type: integer, references: parent.id}\n"
        "      code: {type: text, pattern: '^ok_'}\n"
    )
    rules = ("--select", "fk-orphans,pattern-violation")
    exact = _report(database, tmp_path, *rules, lock_text=lock)
    assert {f["rule"]: (f["count"], f["estimated"]) for f in exact["findings"]} == {
        "fk-orphans": (250000, False),
        "pattern-violation": (250000, False),
    }
    sampled = _report(database, tmp_path, "--sample", "10", *rules, lock_text=lock)
    assert {f["rule"] for f in sampled["findings"]} == {"fk-orphans", "pattern-violation"}
    for finding in sampled["findings"]:
        assert finding["estimated"] is True
        assert finding["message"].startswith(f"about {finding['count']} ")
        assert abs(finding["count"] - 250000) <= 0.25 * 250000, finding["message"]


# -- fk-orphans across types -------------------------------------------------------------------


def test_char_child_of_a_uuid_parent(database: str, tmp_path: Path) -> None:
    """A char(n) value is padded; its text form is what reads as a uuid."""
    execute(
        database,
        """
        CREATE TABLE parent (id uuid PRIMARY KEY);
        CREATE TABLE child (id integer PRIMARY KEY, pid char(40));
        INSERT INTO parent VALUES ('aaaaaaaa-0000-4000-8000-000000000001');
        INSERT INTO child VALUES (1, 'aaaaaaaa-0000-4000-8000-000000000001'),
            (2, '{AAAAAAAA-0000-4000-8000-000000000001}'),
            (3, 'aaaaaaaa-0000-4000-8000-000000000009'), (4, 'junk'), (5, NULL);
    """,
    )
    lock = (
        "version: 1\ntables:\n  parent: {columns: {id: {type: uuid, primary_key: true}}}\n"
        "  child:\n    columns:\n      id: {type: integer, primary_key: true}\n"
        "      pid: {type: char(40), references: parent.id}\n"
    )
    report = _report(database, tmp_path, "--select", "fk-orphans", lock_text=lock)
    assert report["inconclusive"] == []
    found = {f["count"]: f for f in report["findings"]}
    assert set(found) == {1}
    [orphans, invalid] = sorted(report["findings"], key=lambda f: "not uuid" in f["message"])
    assert orphans["samples"] == ["aaaaaaaa-0000-4000-8000-000000000009"]
    assert "text read as uuid by PostgreSQL" in orphans["message"]
    assert "not uuid at all" in invalid["message"]
    assert invalid["samples"] == ["junk"]


INTEGER_PARENTS = """
CREATE TABLE small_parent (id smallint PRIMARY KEY);
CREATE TABLE int_parent (id integer PRIMARY KEY);
CREATE TABLE big_parent (id bigint PRIMARY KEY);
INSERT INTO small_parent SELECT generate_series(1, 10);
INSERT INTO int_parent SELECT generate_series(1, 10);
INSERT INTO big_parent VALUES (1), (9223372036854775806);
CREATE TABLE child (id integer PRIMARY KEY, small_ref text, int_ref varchar(24), big_ref text);
INSERT INTO child VALUES
    (1, '1', '1', '9223372036854775806'),          -- all match
    (2, ' 7 ', '+0010', '0001'),                   -- PostgreSQL reads these: all match
    (3, '11', '11', '9223372036854775807'),        -- valid, no parent: orphans
    (4, '32768', '2147483648', '9223372036854775808'),  -- out of range: not the type at all
    (5, 'abc', '1.0', '1e3'),                      -- not integers at all
    (6, NULL, NULL, NULL);
"""


def test_text_child_of_an_integer_parent(database: str, tmp_path: Path) -> None:
    execute(database, INTEGER_PARENTS)
    parents = "".join(
        f"  {name}: {{columns: {{id: {{type: {kind}, primary_key: true}}}}}}\n"
        for name, kind in (
            ("small_parent", "smallint"),
            ("int_parent", "integer"),
            ("big_parent", "bigint"),
        )
    )
    lock = (
        f"version: 1\ntables:\n{parents}  child:\n    columns:\n"
        "      id: {type: integer, primary_key: true}\n"
        "      small_ref: {type: text, references: small_parent.id}\n"
        "      int_ref: {type: varchar(24), references: int_parent.id}\n"
        "      big_ref: {type: text, references: big_parent.id}\n"
    )
    report = _report(database, tmp_path, "--select", "fk-orphans", lock_text=lock)
    assert report["inconclusive"] == []
    found = {
        (f["column"], "at all" in f["message"]): (f["count"], sorted(f["samples"]))
        for f in report["findings"]
    }
    assert found == {
        ("small_ref", False): (1, ["11"]),
        ("small_ref", True): (2, ["32768", "abc"]),
        ("int_ref", False): (1, ["11"]),
        ("int_ref", True): (2, ["1.0", "2147483648"]),
        ("big_ref", False): (1, ["9223372036854775807"]),
        ("big_ref", True): (2, ["1e3", "9223372036854775808"]),
    }
    messages = " ".join(f["message"] for f in report["findings"])
    assert "text read as integer by PostgreSQL" in messages
    assert "not bigint at all" in messages


# What PostgreSQL 16 added to integer input (0x/0o/0b prefixes, underscores): the pre-16 check
# never runs there, so it is compared with real casts only where a cast would refuse them.
_SINCE_16 = re.compile(r"0[xXoObB]|_")
INTEGER_CORPUS = [
    "0", "1", "-1", "+1", " 42", "42 ", "\t42\n", "\r\x0b\x0c42", "0042", "-0", "+-1", "--1",
    "1-", "", " ", "+", "-", "1 2", "1.0", "1e3", "abc", "12abc", "0x1F", "0o17", "0b101",
    "1_000", "\u0661\u0662", "\uff14\uff12", "\u00a042", "32767", "32768", "-32768", "-32769",
    "2147483647", "2147483648", "-2147483648", "-2147483649", "9223372036854775807",
    "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "0" * 40 + "7",
    "-" + "0" * 40 + "32768", "99999999999999999999999",
]  # fmt: skip


@pytest.mark.parametrize("type_name", ["smallint", "integer", "bigint"])
def test_integer_input_check_agrees_with_postgresql(database: str, type_name: str) -> None:
    """The pre-16 stand-in for pg_input_is_valid(v, 'integer') decides exactly as a real
    cast on this server (every shape and range edge of the corpus)."""
    from psycopg import sql

    from schemalock.probe.sql import integer_input_valid

    execute(
        database,
        """
        CREATE FUNCTION reads_as(v text, t regtype) RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN EXECUTE format('SELECT %L::%s', v, t); RETURN true;
        EXCEPTION WHEN others THEN RETURN false; END $$;
    """,
    )
    version = int(str(query(database, "SHOW server_version_num")[0][0]))
    corpus = [v for v in INTEGER_CORPUS if version < 160000 or not _SINCE_16.search(v)]
    check = integer_input_valid(sql.SQL("v"), type_name)
    rows = query(
        database,
        sql.SQL("SELECT v, reads_as(v, {}), {} FROM pg_catalog.unnest(%s::text[]) v").format(
            sql.Literal(type_name), check
        ),
        [corpus],
    )
    assert [(v, pg, ours) for v, pg, ours in rows if pg != ours] == []
    assert any(pg for _, pg, _ in rows)
    assert not all(pg for _, pg, _ in rows)


# -- miswired-reference ------------------------------------------------------------------------


def test_miswired_reference_tries_every_comparable_unique_column(
    database: str, tmp_path: Path
) -> None:
    execute(
        database,
        """
        CREATE TABLE customers (id integer PRIMARY KEY, legacy_no integer UNIQUE,
            ext uuid UNIQUE DEFAULT gen_random_uuid(), code text);
        CREATE UNIQUE INDEX customers_code_key ON customers (code) WHERE code <> '';
        INSERT INTO customers (id, legacy_no, code) SELECT g, 1000 + g, 'c' || g
            FROM generate_series(1, 20) g;
        CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer, customer_ext uuid);
        -- legacy numbers where ids belong; ext uuids where ids are uuids elsewhere
        INSERT INTO orders SELECT g, 1000 + g, NULL FROM generate_series(1, 6) g;
        CREATE TABLE accounts (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), ext uuid UNIQUE);
        INSERT INTO accounts (ext) SELECT gen_random_uuid() FROM generate_series(1, 5);
        CREATE TABLE payments (id integer PRIMARY KEY, account_id uuid);
        INSERT INTO payments SELECT row_number() OVER (), ext FROM accounts;
    """,
    )
    lock = (
        "version: 1\ntables:\n"
        "  customers:\n    columns:\n      id: {type: integer, primary_key: true}\n"
        "      legacy_no: {type: integer, unique: true}\n"
        "      ext: {type: uuid, unique: true}\n      code: {type: text}\n"
        "  orders:\n    columns:\n      id: {type: integer, primary_key: true}\n"
        "      customer_id: {type: integer, references: customers.id}\n"
        "      customer_ext: {type: uuid}\n"
        "  accounts:\n    columns:\n      id: {type: uuid, primary_key: true}\n"
        "      ext: {type: uuid, unique: true}\n"
        "  payments:\n    columns:\n      id: {type: integer, primary_key: true}\n"
        "      account_id: {type: uuid, references: accounts.id}\n"
    )
    report = _report(database, tmp_path, "--select", "miswired-reference", lock_text=lock)
    found = {(f["table"], f["column"]): (f["count"], f["actual"]) for f in report["findings"]}
    # `code`'s index is partial: not unique on its own, so never tried.
    assert found == {
        ("orders", "customer_id"): (6, "legacy_no"),
        ("payments", "account_id"): (5, "ext"),
    }
    assert report["inconclusive"] == []


# -- a shared scan that failed -----------------------------------------------------------------


def test_every_rule_that_needed_a_failed_scan_is_inconclusive(
    database: str, tmp_path: Path
) -> None:
    execute(
        database,
        """
        CREATE TABLE parent (id uuid PRIMARY KEY);
        CREATE TABLE secret (id integer PRIMARY KEY, pid uuid, email text, plan text);
        INSERT INTO secret VALUES (1, gen_random_uuid(), 'a@example.com', 'gold');
    """,
    )
    lock = (
        "version: 1\ntables:\n  parent: {columns: {id: {type: uuid, primary_key: true}}}\n"
        "  secret:\n    columns:\n      id: {type: integer, primary_key: true}\n"
        "      pid: {type: uuid, references: parent.id}\n"
        "      email: {type: text, pattern: '^[^@]+@[^@]+$'}\n"
        "      plan: {type: text, values: [free, pro]}\n"
    )
    rules = (
        "fk-orphans,miswired-reference,uuid-stored-as-text,undashed-uuid-as-text,mock-data,"
        "pattern-violation,accepted-values-violation"
    )
    grant = "GRANT SELECT ON parent TO {role}"
    with as_role(database, grant) as reader:
        report = _report(reader, tmp_path, "--select", rules, lock_text=lock)
    listed = [(entry["rule"], entry["table"]) for entry in report["inconclusive"]]
    assert sorted(listed) == sorted((rule, "secret") for rule in rules.split(","))
    assert all("permission denied" in entry["reason"] for entry in report["inconclusive"])
    assert report["exit_code"] == 4


# -- identifiers holding `%` -------------------------------------------------------------------


def test_percent_signs_quotes_and_spaces_in_names(database: str, tmp_path: Path) -> None:
    execute(
        database,
        """
        CREATE TABLE par (id uuid PRIMARY KEY);
        CREATE TABLE "Rates %b It's" (
            id integer PRIMARY KEY,
            "Share %s ""Q"" It's" text,
            "Vals %(x)s" text,
            "Pid %" uuid);
        INSERT INTO "Rates %b It's" VALUES
            (1, 'zeta', 'a', NULL),
            (2, 'mock data', 'b', gen_random_uuid()),
            (3, 'x@example.com', 'a', NULL);
    """,
    )
    lock = (
        "version: 1\ntables:\n  par: {columns: {id: {type: uuid, primary_key: true}}}\n"
        "  Rates %b It's:\n    columns:\n      id: {type: integer, primary_key: true}\n"
        "      'Share %s \"Q\" It''s': {type: text, pattern: '^z'}\n"
        "      Vals %(x)s: {type: text, values: [a]}\n"
        "      Pid %: {type: uuid, references: par.id}\n"
    )
    rules = "mock-data,pattern-violation,accepted-values-violation,fk-orphans"
    report = _report(database, tmp_path, "--select", rules, lock_text=lock)
    assert report["inconclusive"] == []
    found = {f["rule"]: (f["column"], f["count"], f["samples"]) for f in report["findings"]}
    assert found == {
        "mock-data": ('Share %s "Q" It\'s', 2, ["mock data", "x***@example.com"]),
        "pattern-violation": ('Share %s "Q" It\'s', 2, ["mock data", "x***@example.com"]),
        "accepted-values-violation": ("Vals %(x)s", 1, ["b"]),
        "fk-orphans": ("Pid %", 1, found["fk-orphans"][2]),
    }
    assert all(f["table"] == "Rates %b It's" for f in report["findings"])


# -- accepted values in the column's type ------------------------------------------------------


def test_accepted_values_compare_in_the_column_type(database: str, tmp_path: Path) -> None:
    execute(
        database,
        """
        CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh');
        CREATE TABLE pv (id integer PRIMARY KEY, price numeric(6, 2), flag boolean, m mood,
            status varchar(20), code char(4), amount numeric, note text, doc json);
        INSERT INTO pv VALUES
            (1, 1.50, true, 'happy', 'pending', 'ab', 1, 'ok', '{"a": 1}'),
            (2, 2.00, true, 'sad', 'running', 'cd', 2, 'ok', '{"a": 1}'),
            (3, 3, false, 'meh', 'done', 'zz', 3, 'bad', '{"a": 2}');
    """,
    )
    lock = (
        "version: 1\nenums:\n  mood: [happy, sad, meh]\ntables:\n  pv:\n    columns:\n"
        "      id: {type: integer, primary_key: true}\n"
        "      price: {type: 'numeric(6,2)', values: [1.5, 2.0, 3]}\n"
        "      flag: {type: boolean, values: ['true']}\n"
        "      m: {type: mood, values: [happy, sad]}\n"
        "      status: {type: varchar(20), values: [pending, running]}\n"
        "      code: {type: char(4), values: [ab, cd]}\n"
        "      amount: {type: numeric, values: ['1', abc]}\n"
        "      note: {type: text, pattern: '^ok$'}\n"
        "      doc: {type: json, values: ['{\"a\": 1}']}\n"  # no json = json: compared as text
    )
    rules = "accepted-values-violation,pattern-violation"
    report = _report(database, tmp_path, "--select", rules, lock_text=lock)
    found = {f["column"]: (f["count"], f["samples"]) for f in report["findings"]}
    assert found == {
        "flag": (1, ["false"]),
        "m": (1, ["meh"]),
        "status": (1, ["done"]),
        "code": (1, ["zz"]),
        "note": (1, ["bad"]),  # the table's other checks still ran
        "doc": (1, ['{"a": 2}']),
    }
    [entry] = report["inconclusive"]
    assert (entry["rule"], entry["table"]) == ("accepted-values-violation", "pv")
    assert 'invalid input syntax for type numeric: "abc"' in entry["reason"]


# -- samples -----------------------------------------------------------------------------------


def test_orphan_samples_are_redacted(database: str, tmp_path: Path) -> None:
    execute(
        database,
        """
        CREATE TABLE people (email text PRIMARY KEY);
        CREATE TABLE invites (id integer PRIMARY KEY, email text);
        INSERT INTO people VALUES ('ana@acme.io');
        INSERT INTO invites VALUES (1, 'ana@acme.io'), (2, 'jane.roe@gmail.com');
    """,
    )
    lock = (
        "version: 1\ntables:\n  people: {columns: {email: {type: text, primary_key: true}}}\n"
        "  invites:\n    columns:\n      id: {type: integer, primary_key: true}\n"
        "      email: {type: text, references: people.email}\n"
    )
    [finding] = _report(database, tmp_path, "--select", "fk-orphans", lock_text=lock)["findings"]
    assert finding["samples"] == ["j***@gmail.com"]


def test_citext_counts_as_text_for_the_uuid_family(database: str, tmp_path: Path) -> None:
    if not query(database, "SELECT 1 FROM pg_available_extensions WHERE name = 'citext'"):
        pytest.skip("this server's build has no citext")
    execute(
        database,
        """
        CREATE EXTENSION citext;
        CREATE TABLE refs (id uuid PRIMARY KEY);
        CREATE TABLE t (id integer PRIMARY KEY, ref citext);
        INSERT INTO t SELECT g, upper(gen_random_uuid()::text) FROM generate_series(1, 20) g;
    """,
    )
    lock = tmp_path / "lock.yaml"
    snapshot(database, lock)
    report = _report(
        database, tmp_path, "--select", "uuid-stored-as-text", lock_text=lock.read_text()
    )
    [finding] = report["findings"]
    assert (finding["column"], finding["count"]) == ("ref", 20)


# -- duplicate-table ---------------------------------------------------------------------------


def test_duplicate_null_keys_are_only_in_the_legacy_table(database: str, tmp_path: Path) -> None:
    """A legacy row whose key is NULL cannot be shown present in the canonical table, even
    when the canonical table has a NULL key too."""
    execute(
        database,
        """
        CREATE TABLE organizations (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            clerk_org_id text UNIQUE, name text, plan text);
        CREATE TABLE orgs (clerk_org_id text, name text, plan text);
        INSERT INTO organizations (clerk_org_id, name, plan) VALUES
            ('org_1', 'One', 'free'), (NULL, 'Nameless', 'free');
        INSERT INTO orgs VALUES ('org_1', 'One', 'free'), (NULL, 'Nameless', 'free');
    """,
    )
    lock = tmp_path / "lock.yaml"
    text = snapshot(database, lock).replace(
        "  orgs:\n", "  orgs:\n    duplicate_of: organizations\n"
    )
    report = _report(database, tmp_path, "--select", "duplicate-table", lock_text=text)
    [finding] = report["findings"]
    assert finding["count"] == 1
    assert (
        "1 of 2 rows also in public.organizations (matched on clerk_org_id)" in finding["message"]
    )


def test_duplicate_detection_needs_related_names_and_reads_markers(
    database: str, tmp_path: Path
) -> None:
    execute(
        database,
        """
        -- A backup with one column more: the backup is the copy, whatever the column count.
        CREATE TABLE customers (id integer PRIMARY KEY, email text UNIQUE, full_name text,
            country text, signup_source text);
        CREATE TABLE customers_backup AS SELECT *, now() AS backed_up_at FROM customers;
        INSERT INTO customers SELECT g, 'c' || g || '@mail.io', 'C ' || g, 'PT', 'ads'
            FROM generate_series(1, 100) g;
        INSERT INTO customers_backup SELECT *, now() FROM customers WHERE id <= 90;
        INSERT INTO customers_backup VALUES (500, 'gone@mail.io', 'Gone', 'PT', 'ads', now());
        -- The same columns, matched on a surrogate id: not copies of each other.
        CREATE TABLE billing_addresses (id integer PRIMARY KEY, customer_id integer,
            street text, city text, postal_code text, country text);
        CREATE TABLE shipping_addresses (id integer PRIMARY KEY, customer_id integer,
            street text, city text, postal_code text, country text, instructions text);
        INSERT INTO billing_addresses SELECT g, g, 'Rua ' || g, 'Porto', '4000', 'PT'
            FROM generate_series(1, 10) g;
        INSERT INTO shipping_addresses SELECT g, g, 'Dock ' || g, 'Leeds', 'LS1', 'GB', NULL
            FROM generate_series(1, 10) g;
        -- An abbreviation, not declared: found.
        CREATE TABLE organizations (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            clerk_org_id text NOT NULL UNIQUE, name text, plan text, quota_used integer);
        CREATE TABLE orgs (id uuid, clerk_org_id text, name text, plan text);
        INSERT INTO organizations (clerk_org_id, name, plan) VALUES ('org_1', 'One', 'free');
        INSERT INTO orgs VALUES (gen_random_uuid(), 'org_1', 'One', 'free'),
            (gen_random_uuid(), 'org_2', 'Two', 'pro');
    """,
    )
    lock = tmp_path / "lock.yaml"
    text = snapshot(database, lock)
    report = _report(database, tmp_path, "--select", "duplicate-table", lock_text=text)
    found = {f["table"]: f for f in report["findings"]}
    assert set(found) == {"customers_backup", "orgs"}
    backup = found["customers_backup"]
    assert backup["expected"] == "public.customers"
    assert backup["count"] == 1
    assert "90 of 91 rows also in public.customers (matched on email)" in backup["message"]
    assert found["orgs"]["count"] == 1
    assert "(declared)" not in found["orgs"]["message"]


# -- environment policy ------------------------------------------------------------------------


def test_policy_judges_the_host_pghost_connected_to(populated: str, tmp_path: Path) -> None:
    """A URL without a host connects where PGHOST says: that host is judged, not `local`."""
    params = conninfo_to_dict(populated)
    host = str(params.pop("host"))
    shown = "local" if host.startswith("/") else host
    hostless = make_conninfo("", **params)
    lock = LOCK.replace("  staging: {}", f"  here: {{require_host: [{json.dumps(shown)}]}}")
    lock_path = write(tmp_path / "schema_lock.yaml", lock)
    for env, expect in (("here", 0), ("production", 1)):
        result = run_cli(
            "verify", "--lock", lock_path, "--database-url", hostless, "--env", env,
            "--select", "database-policy", "--format", "json",
            env={"PGHOST": host},
        )  # fmt: skip
        assert result.exit_code == expect, result.stdout
        findings = json.loads(result.stdout)["findings"]
        assert [f["actual"] for f in findings] == ([] if expect == 0 else [shown])


def test_policy_sees_through_hostaddr(populated: str, tmp_path: Path) -> None:
    """A production host name whose hostaddr sends the connection to a loopback address."""
    if not _has_tcp(populated):
        pytest.skip("the server listens on a Unix socket only: no hostaddr to give")
    params = conninfo_to_dict(populated)
    address = str(params["host"])
    if address == "localhost":
        address = "127.0.0.1"
    url = make_conninfo("", **{**params, "host": "db.neon.tech", "hostaddr": address})
    report = _report(url, tmp_path, "--env", "production", "--select", "database-policy")
    [finding] = report["findings"]
    assert finding["actual"] == address
    assert "hostaddr" in finding["message"]
    assert "loopback" in finding["message"]
    assert report["exit_code"] == 1


# -- exit codes and --no-data ------------------------------------------------------------------


def test_a_statement_timeout_alone_exits_4_naming_the_check(database: str, tmp_path: Path) -> None:
    """Row-level security that sleeps per row makes the orphan scan, and only it, outlast the
    timeout: the text report names the rule, the table and the timeout."""
    execute(
        database,
        """
        CREATE TABLE parent (id integer PRIMARY KEY);
        CREATE TABLE child (id integer PRIMARY KEY, parent_id integer);
        INSERT INTO parent VALUES (1);
        INSERT INTO child SELECT g, 1 FROM generate_series(1, 20) g;
        ALTER TABLE child ENABLE ROW LEVEL SECURITY;
        CREATE POLICY slow ON child USING (pg_sleep(0.2) IS NOT NULL);
    """,
    )
    lock = write(
        tmp_path / "schema_lock.yaml",
        "version: 1\ntables:\n  parent: {columns: {id: {type: integer, primary_key: true}}}\n"
        "  child:\n    columns:\n      id: {type: integer, primary_key: true}\n"
        "      parent_id: {type: integer, references: parent.id}\n",
    )
    with as_role(database, "GRANT SELECT ON parent, child TO {role}") as reader:
        result = run_cli(
            "verify", "--lock", lock, "--database-url", reader, "--statement-timeout", "1",
            "--ignore", "missing-foreign-key,fk-missing-index",
        )  # fmt: skip
    assert result.exit_code == 4, result.stdout
    assert "inconclusive: fk-orphans on public.child: statement_timeout (1000 ms)" in result.stdout


def test_no_data_reads_no_rows(database: str, tmp_path: Path) -> None:
    """A role that may read no table at all: --no-data passes a clean structure, so neither
    mock-data nor duplicate-table (nor any other row check) read a row; without it, they say
    they could not."""
    execute(
        database,
        """
        CREATE TABLE organizations (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            clerk_org_id text NOT NULL UNIQUE, name text, plan text, quota_used integer);
        CREATE TABLE organizations_old (id uuid, clerk_org_id text, name text, plan text);
        INSERT INTO organizations (clerk_org_id, name, plan) VALUES ('org_1', 'Mock Org', 'x');
        INSERT INTO organizations_old VALUES (gen_random_uuid(), 'org_2', 'Acme', 'pro');
    """,
    )
    lock = tmp_path / "lock.yaml"
    snapshot(database, lock)
    with as_role(database, "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}") as nobody:
        structure = _report(nobody, tmp_path, "--no-data", lock_text=lock.read_text())
        assert (structure["findings"], structure["inconclusive"]) == ([], [])
        assert structure["exit_code"] == 0
        rows = _report(nobody, tmp_path, lock_text=lock.read_text())
    assert {entry["rule"] for entry in rows["inconclusive"]} >= {"mock-data", "duplicate-table"}
    assert rows["exit_code"] == 4
