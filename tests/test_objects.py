"""Views, functions, procedures, triggers and schemas on a real PostgreSQL (issue 12): snapshot
then verify is silent, every aspect's drift is reported by its rule, formatting and the
catalog's re-deparsing are no drift, extension members and internal triggers are never
reported, schemas the lock does not list are, and the report says what it did not cover."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import execute, fix_notes, query, run_cli
from test_roundtrip import snapshot

pytestmark = pytest.mark.db

OBJECTS = """
CREATE TYPE job_status AS ENUM ('queued', 'running', 'done');
CREATE TABLE organizations (id int PRIMARY KEY, name text NOT NULL, quota_used int DEFAULT 0);
CREATE TABLE jobs (
    id int PRIMARY KEY,
    org_id int NOT NULL REFERENCES organizations (id),
    status job_status NOT NULL DEFAULT 'queued',
    keyword varchar(40)
);
CREATE TABLE events (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE VIEW active_jobs AS SELECT id, org_id FROM jobs WHERE status = 'running';
CREATE VIEW per_org WITH (security_invoker = true) AS
    SELECT o.name, count(*) AS jobs FROM jobs j JOIN organizations o ON o.id = j.org_id
    WHERE keyword LIKE 'a%' GROUP BY 1;
CREATE MATERIALIZED VIEW status_counts AS SELECT status, count(*) FROM jobs GROUP BY status;
CREATE UNIQUE INDEX status_counts_status ON status_counts (status);
CREATE FUNCTION count_quota() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- one more job for the organization
    UPDATE organizations SET quota_used = quota_used + 1 WHERE id = NEW.org_id;
    RETURN NEW;
END $$;
CREATE FUNCTION org_quota(org int) RETURNS int LANGUAGE sql STABLE
    AS $$ SELECT quota_used FROM organizations WHERE id = org $$;
CREATE FUNCTION org_quota(org bigint) RETURNS int LANGUAGE sql STABLE STRICT
    RETURN (SELECT quota_used FROM organizations WHERE id = org);
CREATE FUNCTION reset_quota(org int, to_value int DEFAULT 0) RETURNS void LANGUAGE sql
    SECURITY DEFINER SET search_path = public, pg_temp
    AS $$ UPDATE organizations SET quota_used = to_value WHERE id = org $$;
CREATE PROCEDURE archive_done() LANGUAGE sql AS $$ DELETE FROM jobs WHERE status = 'done' $$;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER jobs_count_quota AFTER INSERT ON jobs
    FOR EACH ROW EXECUTE FUNCTION count_quota();
CREATE TRIGGER jobs_touch BEFORE UPDATE OF status, keyword ON jobs
    FOR EACH ROW WHEN (NEW.status = 'done') EXECUTE FUNCTION touch('a', 'b c');
CREATE TRIGGER jobs_audit AFTER DELETE ON jobs REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION touch();
CREATE CONSTRAINT TRIGGER jobs_deferred AFTER INSERT ON jobs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER events_touch BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER jobs_disabled BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE jobs DISABLE TRIGGER jobs_disabled;
"""


def _extension(url: str) -> str:
    """An extension with functions of its own: citext where the server has contrib (Debian's
    PostgreSQL), else pgvector's vector (the embedded server's build has no contrib)."""
    available = {str(row[0]) for row in query(url, "SELECT name FROM pg_available_extensions")}
    for extension in ("citext", "vector"):
        if extension in available:
            return extension
    pytest.skip("this server has neither citext nor vector")


def _verify(lock: Path, url: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", url, "--format", "json", *extra
    )
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def _found(report: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return sorted((f["rule"], f["table"], f["constraint"]) for f in report["findings"])


def test_round_trip_is_silent_and_complete(database: str, tmp_path: Path) -> None:
    """Every kind is written, extension members and partition clones are not, and the lock
    verifies silent against its own database (the catalog's printing re-read)."""
    execute(database, OBJECTS + f"CREATE EXTENSION {_extension(database)};")
    lock = tmp_path / "schema_lock.yaml"
    document = yaml.safe_load(snapshot(database, lock))
    assert sorted(document["views"]) == ["active_jobs", "per_org", "status_counts"]
    assert document["views"]["status_counts"]["materialized"] is True
    assert document["views"]["status_counts"]["indexes"] == {
        "status_counts_status": {"columns": ["status"], "unique": True}
    }
    assert document["views"]["per_org"]["options"] == {"security_invoker": "true"}
    assert sorted(document["functions"]) == [
        "archive_done()",
        "count_quota()",
        "org_quota(bigint)",
        "org_quota(integer)",
        "reset_quota(integer, integer)",
        "touch()",
    ], "overloads are distinct; the extension's functions are the extension's"
    reset = document["functions"]["reset_quota(integer, integer)"]
    assert reset["security_definer"] is True
    assert reset["settings"] == {"search_path": "public, pg_temp"}
    assert reset["arguments"] == "org integer, to_value integer DEFAULT 0"
    assert document["functions"]["archive_done()"]["procedure"] is True
    triggers = document["triggers"]
    assert sorted(triggers) == ["events", "jobs"], "partitions' clones are not triggers"
    assert sorted(triggers["jobs"]) == [
        "jobs_audit",
        "jobs_count_quota",
        "jobs_deferred",
        "jobs_disabled",
        "jobs_touch",
    ], "the foreign key's internal triggers are not listed"
    touch = triggers["jobs"]["jobs_touch"]
    assert touch["columns"] == ["status", "keyword"]
    assert touch["arguments"] == ["a", "b c"]
    assert touch["when"] == "new.status = 'done'::job_status"
    assert triggers["jobs"]["jobs_disabled"]["enabled"] == "disabled"
    assert triggers["jobs"]["jobs_audit"]["old_table"] == "gone"
    assert triggers["jobs"]["jobs_deferred"]["initially_deferred"] is True
    exit_code, report = _verify(lock, database, "--fail-on", "info")
    assert report["findings"] == [], [f["message"] for f in report["findings"]]
    assert exit_code == 0
    assert snapshot(database, tmp_path / "again.yaml") == lock.read_text(), "deterministic"


def test_coverage_counts_and_uncovered(database: str, tmp_path: Path) -> None:
    """The JSON report counts every kind (database, lock, compared) and names what is not
    modelled; `--fail-on uncovered` fails on it, the default does not."""
    extension = _extension(database)
    execute(database, OBJECTS + f"CREATE EXTENSION {extension};")
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(
        database,
        "CREATE VIEW later AS SELECT 1 AS one;"
        " CREATE AGGREGATE total(int) (sfunc = int4pl, stype = int);"
        " CREATE TYPE pair AS (a int, b int);"
        " CREATE SEQUENCE loose_seq;"
        " CREATE RULE quiet AS ON INSERT TO organizations WHERE false DO INSTEAD NOTHING;"
        " CREATE TEXT SEARCH CONFIGURATION english_copy (COPY = english);"
        " CREATE FUNCTION noop_ddl() RETURNS event_trigger LANGUAGE plpgsql"
        "   AS $$ BEGIN END $$;"
        " CREATE EVENT TRIGGER audit_ddl ON ddl_command_end EXECUTE FUNCTION noop_ddl();",
    )
    try:
        exit_code, report = _verify(lock, database)
        kinds = {k["kind"]: k for k in report["coverage"]["kinds"]}
        assert kinds["view"] == {"kind": "view", "database": 4, "lock": 3, "compared": 3}
        assert kinds["function"] == {"kind": "function", "database": 7, "lock": 6, "compared": 6}
        assert kinds["trigger"]["compared"] == kinds["trigger"]["lock"] == 6
        assert kinds["table"]["compared"] == 3
        not_covered = {(i["kind"], i["name"]) for i in report["coverage"]["not_covered"]}
        assert not_covered >= {
            ("aggregate", "public.total(integer)"),
            ("composite type", "public.pair"),
            ("rule", "public.organizations.quiet"),
            ("text search configuration", "public.english_copy"),
            ("event trigger", "audit_ddl"),
        }, not_covered
        assert not any(kind in ("sequence", "extension") for kind, _ in not_covered), "modelled"
        assert kinds["extension"] == {"kind": "extension", "database": 1, "lock": 1, "compared": 1}
        assert kinds["sequence"] == {"kind": "sequence", "database": 1, "lock": 0, "compared": 0}
        assert exit_code == 0, "extra views and functions are warnings; uncovered is no finding"
        text = run_cli("verify", "--lock", str(lock), "--database-url", database)
        assert "not covered (" in text.stdout
        assert "event trigger: audit_ddl" in text.stdout
        failing = run_cli(
            "verify", "--lock", str(lock), "--database-url", database, "--fail-on", "uncovered",
            "--ignore", "extra-view,extra-function",
        )  # fmt: skip
        assert failing.exit_code == 1, failing.stdout
        sarif = json.loads(
            run_cli(
                "verify", "--lock", str(lock), "--database-url", database, "--format", "sarif"
            ).stdout
        )
        notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        assert [n["level"] for n in notes] == ["note"]
        assert "event trigger audit_ddl" in notes[0]["message"]["text"]
        github = run_cli(
            "verify", "--lock", str(lock), "--database-url", database, "--format", "github"
        ).stdout
        assert "::notice title=not covered by schemalock::not covered (" in github
    finally:
        execute(database, "DROP EVENT TRIGGER audit_ddl")


def test_clean_run_without_uncovered_objects_prints_no_coverage(
    database: str, tmp_path: Path
) -> None:
    """Silent when clean: nothing uncovered, no coverage section in the text; `-v` shows the
    counts; `--fail-on uncovered` passes."""
    execute(database, "CREATE TABLE t (id int PRIMARY KEY); CREATE VIEW v AS SELECT id FROM t")
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", database, "--fail-on", "uncovered"
    )
    assert result.exit_code == 0, result.stdout
    assert result.stdout.startswith("No findings"), result.stdout
    verbose = run_cli("-v", "verify", "--lock", str(lock), "--database-url", database)
    assert "coverage (database / lock / compared):" in verbose.stdout
    assert "view" in verbose.stdout
    assert "not covered" not in verbose.stdout


DRIFT: dict[str, tuple[str, list[tuple[str, str | None, str | None]]]] = {
    "view dropped": ("DROP VIEW active_jobs", [("missing-view", None, "active_jobs")]),
    "view added": ("CREATE VIEW v2 AS SELECT 1 AS one", [("extra-view", None, "v2")]),
    "view query changed": (
        "CREATE OR REPLACE VIEW active_jobs AS SELECT id, org_id FROM jobs"
        " WHERE status IN ('running', 'queued')",
        [("view-changed", None, "active_jobs")],
    ),
    "view option dropped": (
        "ALTER VIEW per_org RESET (security_invoker)",
        [("view-changed", None, "per_org")],
    ),
    "materialized view index dropped": (
        "DROP INDEX status_counts_status",
        [("view-changed", None, "status_counts")],
    ),
    "function dropped": (
        "DROP FUNCTION org_quota(bigint)",
        [("missing-function", None, "org_quota(bigint)")],
    ),
    "overload added": (
        "CREATE FUNCTION org_quota(org text) RETURNS int LANGUAGE sql RETURN 0",
        [("extra-function", None, "org_quota(text)")],
    ),
    "volatility changed": (
        "ALTER FUNCTION org_quota(int) VOLATILE",
        [("function-changed", None, "org_quota(integer)")],
    ),
    "security definer without search_path": (
        "ALTER FUNCTION org_quota(int) SECURITY DEFINER",
        [
            ("definer-without-search-path", None, "org_quota(integer)"),
            ("function-changed", None, "org_quota(integer)"),
        ],
    ),
    "search_path unpinned": (
        "ALTER FUNCTION reset_quota(int, int) RESET search_path",
        [
            ("definer-without-search-path", None, "reset_quota(integer, integer)"),
            ("function-changed", None, "reset_quota(integer, integer)"),
        ],
    ),
    "plpgsql body changed": (
        "CREATE OR REPLACE FUNCTION count_quota() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN UPDATE organizations SET quota_used = quota_used + 2 WHERE id = NEW.org_id;"
        " RETURN NEW; END $$",
        [("function-changed", None, "count_quota()")],
    ),
    "plpgsql body reformatted is no drift": (
        "CREATE OR REPLACE FUNCTION count_quota() RETURNS trigger LANGUAGE plpgsql AS $$"
        "begin update organizations set quota_used=quota_used+1 where id=new.org_id;"
        " return new; end$$",
        [],
    ),
    "sql body changed": (
        "CREATE OR REPLACE FUNCTION org_quota(org int) RETURNS int LANGUAGE sql STABLE"
        " AS $$ SELECT quota_used + 1 FROM organizations WHERE id = org $$",
        [("function-changed", None, "org_quota(integer)")],
    ),
    "procedure dropped": (
        "DROP PROCEDURE archive_done()",
        [("missing-function", None, "archive_done()")],
    ),
    "trigger dropped": (
        "DROP TRIGGER jobs_count_quota ON jobs",
        [("missing-trigger", "jobs", "jobs_count_quota")],
    ),
    "trigger added": (
        "CREATE TRIGGER jobs_more AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION touch()",
        [("extra-trigger", "jobs", "jobs_more")],
    ),
    "trigger WHEN changed": (
        "DROP TRIGGER jobs_touch ON jobs; CREATE TRIGGER jobs_touch BEFORE UPDATE OF status,"
        " keyword ON jobs FOR EACH ROW WHEN (NEW.status = 'running')"
        " EXECUTE FUNCTION touch('a', 'b c')",
        [("trigger-changed", "jobs", "jobs_touch")],
    ),
    "trigger disabled": (
        "ALTER TABLE jobs DISABLE TRIGGER jobs_count_quota",
        [("trigger-changed", "jobs", "jobs_count_quota")],
    ),
    "trigger events changed": (
        "DROP TRIGGER jobs_count_quota ON jobs; CREATE TRIGGER jobs_count_quota AFTER INSERT"
        " OR DELETE ON jobs FOR EACH ROW EXECUTE FUNCTION count_quota()",
        [("trigger-changed", "jobs", "jobs_count_quota")],
    ),
    # The extension itself is reported (issue 12: extensions are modelled), its objects not.
    "extension objects are the extension's": (
        "CREATE EXTENSION {extension}",
        [("extra-extension", None, "{extension}")],
    ),
}


@pytest.mark.parametrize("sql", DRIFT.values(), ids=DRIFT.keys())
def test_drift(
    database: str, tmp_path: Path, sql: tuple[str, list[tuple[str, str | None, str | None]]]
) -> None:
    statement, expected = sql
    execute(database, OBJECTS)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    if "{extension}" in statement:
        extension = _extension(database)
        statement = statement.format(extension=extension)
        expected = [(r, t, (c or "").format(extension=extension)) for r, t, c in expected]
    execute(database, statement)
    _, report = _verify(lock, database, "--no-data")
    assert _found(report) == sorted(expected), [f["message"] for f in report["findings"]]


HAND_WRITTEN = """\
version: 1
enums:
  job_status: [queued, running, done]
tables:
  organizations:
    columns:
      id: {type: int, primary_key: true}
      name: {type: text, nullable: false}
      quota_used: {type: int, default: 0}
  jobs:
    columns:
      id: {type: int, primary_key: true}
      org_id: {type: int, nullable: false, references: organizations.id}
      status: {type: job_status, nullable: false, default: "'queued'"}
      keyword: {type: varchar(40)}
views:
  active_jobs:
    query: |
      select id, org_id
      from jobs
      where status = 'running'   -- what the dashboard shows
  per_org:
    options: {security_invoker: "true"}
    query: >-
      SELECT o.name, count(*) AS jobs FROM jobs j JOIN organizations o ON o.id = j.org_id
      WHERE keyword LIKE 'a%' GROUP BY 1
functions:
  "org_quota(int)":
    returns: int
    language: sql
    volatility: stable
    body: select quota_used from organizations where id = org
  "count_quota()":
    returns: trigger
    language: plpgsql
    body: |
      begin
        update organizations set quota_used = quota_used + 1 where id = new.org_id;
        return new;
      end
triggers:
  jobs:
    jobs_count_quota: {timing: after, events: [insert], function: count_quota}
    jobs_touch:
      timing: before
      events: [update]
      columns: [status]
      function: public.count_quota
      when: "NEW.status = 'done'"
"""

HAND_WRITTEN_DATABASE = """
CREATE TYPE job_status AS ENUM ('queued', 'running', 'done');
CREATE TABLE organizations (id int PRIMARY KEY, name text NOT NULL, quota_used int DEFAULT 0);
CREATE TABLE jobs (id int PRIMARY KEY, org_id int NOT NULL REFERENCES organizations (id),
    status job_status NOT NULL DEFAULT 'queued', keyword varchar(40));
CREATE VIEW active_jobs AS SELECT jobs.id, jobs.org_id FROM jobs WHERE jobs.status = 'running';
CREATE VIEW per_org WITH (security_invoker = true) AS
    SELECT o.name, count(*) AS jobs FROM jobs j JOIN organizations o ON o.id = j.org_id
    WHERE j.keyword LIKE 'a%' GROUP BY o.name;
CREATE FUNCTION org_quota(org int) RETURNS integer LANGUAGE sql STABLE
    AS $$SELECT quota_used FROM organizations WHERE id = org;$$;
CREATE FUNCTION count_quota() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE organizations SET quota_used = quota_used+1 WHERE id = NEW.org_id; RETURN NEW;
END $$;
CREATE TRIGGER jobs_count_quota AFTER INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION count_quota();
CREATE TRIGGER jobs_touch BEFORE UPDATE OF status ON jobs FOR EACH ROW
    WHEN (new.status = 'done'::job_status) EXECUTE FUNCTION count_quota();
"""


def test_formatting_is_no_drift(database: str, tmp_path: Path) -> None:
    """A lock written by hand, formatted its own way (case, comments, unqualified columns,
    `GROUP BY 1`, no casts), verifies silent against the catalog's own printing."""
    execute(database, HAND_WRITTEN_DATABASE)
    lock = tmp_path / "schema_lock.yaml"
    lock.write_text(HAND_WRITTEN, encoding="utf-8")
    exit_code, report = _verify(lock, database, "--fail-on", "info")
    assert report["findings"] == [], [f["message"] for f in report["findings"]]
    assert exit_code == 0


LEGACY = """
CREATE TABLE customers (id int PRIMARY KEY);
CREATE SCHEMA "Legacy Import";
CREATE TABLE "Legacy Import"."Customer Accounts" (id int, email text);
CREATE VIEW "Legacy Import".recent AS SELECT id FROM "Legacy Import"."Customer Accounts";
"""


def test_a_new_schema_and_what_it_holds_are_reported(database: str, tmp_path: Path) -> None:
    """A schema the lock does not list is looked at: itself and every object in it are
    reported; `database.ignore: ["Legacy Import.*"]` leaves it out whole."""
    execute(database, "CREATE TABLE customers (id int PRIMARY KEY)")
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(database, lock)
    execute(database, LEGACY.split(";", 1)[1])
    exit_code, report = _verify(lock, database)
    assert _found(report) == [
        ("extra-schema", None, None),
        ("extra-table", "Customer Accounts", None),
        ("extra-view", None, "recent"),
    ], [f["message"] for f in report["findings"]]
    schema = next(f for f in report["findings"] if f["rule"] == "extra-schema")
    assert schema["schema"] == "Legacy Import"
    assert schema["message"] == (
        'schema "Legacy Import" is not in the lock (it holds 1 table, 1 view)'
    )
    assert exit_code == 0, "warnings do not fail by default"
    kinds = {k["kind"]: k for k in report["coverage"]["kinds"]}
    assert kinds["schema"] == {"kind": "schema", "database": 2, "lock": 1, "compared": 1}
    assert kinds["table"] == {"kind": "table", "database": 2, "lock": 1, "compared": 1}
    ignoring = text.replace(
        "  schemas: [public]\n", '  schemas: [public]\n  ignore: ["Legacy Import.*"]\n'
    )
    lock.write_text(ignoring, encoding="utf-8")
    exit_code, report = _verify(lock, database, "--fail-on", "info")
    assert report["findings"] == [], [f["message"] for f in report["findings"]]


def test_snapshot_of_chosen_schemas_ignores_the_others(database: str, tmp_path: Path) -> None:
    """`snapshot --schema public` covers public only, and says so: the other schemas are
    written as ignored, so the lock verifies silent; a schema made later is reported."""
    execute(database, LEGACY)
    lock = tmp_path / "schema_lock.yaml"
    document = yaml.safe_load(snapshot(database, lock, "--schema", "public"))
    assert document["database"]["ignore"] == ["Legacy Import.*"]
    exit_code, report = _verify(lock, database, "--fail-on", "info")
    assert report["findings"] == [], [f["message"] for f in report["findings"]]
    assert exit_code == 0
    execute(database, "CREATE SCHEMA staging")
    _, report = _verify(lock, database)
    assert [f["message"] for f in report["findings"]] == [
        "schema staging is not in the lock (it is empty)"
    ]


def test_a_schema_the_lock_lists_is_missing(database: str, tmp_path: Path) -> None:
    lock = tmp_path / "schema_lock.yaml"
    lock.write_text("version: 1\ndatabase: {schemas: [public, billing]}\n", encoding="utf-8")
    exit_code, report = _verify(lock, database)
    assert _found(report) == [("missing-schema", None, None)]
    assert report["findings"][0]["lock_line"] == 2
    assert exit_code == 1


def test_fix_leaves_extra_views_functions_and_triggers_alone(database: str, tmp_path: Path) -> None:
    """What the lock does not mention is never dropped: each extra object is noted, and no
    revision is written for them alone (the repairs are in test_fix_objects.py)."""
    execute(database, OBJECTS)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(
        database,
        "CREATE VIEW idle_jobs AS SELECT id FROM jobs WHERE status = 'queued';"
        " CREATE FUNCTION org_name(org int) RETURNS text LANGUAGE sql"
        "  AS $$ SELECT name FROM organizations WHERE id = org $$;"
        " CREATE TRIGGER jobs_touch_again BEFORE INSERT ON jobs"
        "  FOR EACH ROW EXECUTE FUNCTION touch();",
    )
    said = fix_notes(database, lock, tmp_path / "migrations")
    assert "no revision written" in said, said
    assert "view public.idle_jobs: extra views are reported and left alone" in said, said
    assert "function public.org_name(integer): extra functions are reported and left" in said
    assert "trigger jobs_touch_again on public.jobs: extra triggers are reported" in said
    assert query(database, "SELECT count(*) FROM pg_trigger WHERE tgname = 'jobs_touch_again'")
