"""`fix` for views, materialized views, functions, procedures, triggers and schemas on a real
PostgreSQL with rows (issue 12): each drift is repaired, verify is then silent, the rows are
unchanged, `fix` again writes nothing, and the downgrade brings back exactly the drift.

Where PostgreSQL allows it the repair replaces in place (`CREATE OR REPLACE`); where it does
not (a view's columns change, a function's return type changes, a materialized view) the
object is dropped and created again with everything that depends on it, in the order
`pg_depend` requires; a column a view reads changes type the same way, the views around it."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import Server, execute, query, scratch_database
from test_fix import _fix, _revisions
from test_fix import _verify as findings
from test_fix_convergence import checksums, downgrade, drift_of, edit, function_of
from test_objects import OBJECTS
from test_roundtrip import snapshot

pytestmark = pytest.mark.db

ROWS = """
INSERT INTO organizations SELECT g, 'Org ' || g, 0 FROM generate_series(1, 12) AS g;
INSERT INTO jobs SELECT g, 1 + g % 12, (ARRAY['queued', 'running', 'done'])[1 + g % 3]::job_status,
       CASE WHEN g % 4 = 0 THEN NULL ELSE 'alpha ' || g END
FROM generate_series(1, 90) AS g;
INSERT INTO events SELECT g, date '2026-01-01' + g FROM generate_series(1, 40) AS g;
REFRESH MATERIALIZED VIEW status_counts;
CREATE VIEW busy_orgs AS SELECT org_id, count(*) AS running FROM active_jobs GROUP BY org_id;
CREATE VIEW busiest AS SELECT max(running) AS most FROM busy_orgs;
CREATE VIEW quota_view AS SELECT id, org_quota(id) AS quota FROM organizations;
COMMENT ON VIEW busy_orgs IS 'running jobs per organization';
COMMENT ON TABLE jobs IS 'one scrape run';
COMMENT ON COLUMN jobs.keyword IS 'what was searched';
COMMENT ON FUNCTION org_quota(int) IS 'jobs charged this period';
GRANT SELECT ON busiest TO pg_monitor;
REVOKE ALL ON FUNCTION org_quota(int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION org_quota(int) TO PUBLIC, pg_monitor;
CREATE MATERIALIZED VIEW keywords AS SELECT keyword, count(*) AS jobs FROM jobs GROUP BY keyword;
CREATE UNIQUE INDEX keywords_keyword ON keywords (keyword);
CREATE TABLE notes (id int PRIMARY KEY, org_id int REFERENCES organizations (id), body text);
INSERT INTO notes SELECT g, 1 + g % 3, 'note ' || g FROM generate_series(1, 9) AS g;
ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_org ON notes USING (org_id = 1);
GRANT SELECT ON notes TO pg_monitor;
"""


EMPTY = "d41d8cd98f00b204e9800998ecf8427e"  # the checksum of no value (md5 of '')


@dataclass(frozen=True)
class Case:
    drift: str = ""  # run after the snapshot
    lock: tuple[tuple[str, str], ...] = ()  # edits of the snapshot: the lock's side
    # A fragment of a step title the plan must hold (how it repairs).
    how: str = ""


CASES: dict[str, Case] = {
    "view dropped": Case("DROP VIEW busiest", how="create view public.busiest"),
    "view query changed, same columns": Case(
        "CREATE OR REPLACE VIEW active_jobs AS SELECT id, org_id FROM jobs WHERE status = 'queued'",
        how="CREATE OR REPLACE",
    ),
    "view with readers gains a column": Case(
        "DROP VIEW busiest; DROP VIEW busy_orgs; DROP VIEW active_jobs;"
        " CREATE VIEW active_jobs AS SELECT id, org_id, keyword FROM jobs"
        "  WHERE status = 'running';"
        " CREATE VIEW busy_orgs AS SELECT org_id, count(*) AS running FROM active_jobs"
        "  GROUP BY org_id;"
        " CREATE VIEW busiest AS SELECT max(running) AS most FROM busy_orgs;",
        how="drop view public.busiest, created again after",
    ),
    "view options reset": Case(
        "ALTER VIEW per_org RESET (security_invoker)", how="set the options"
    ),
    "materialized view dropped": Case(
        "DROP MATERIALIZED VIEW status_counts", how="create materialized view"
    ),
    "materialized view query changed": Case(
        "DROP MATERIALIZED VIEW status_counts; CREATE MATERIALIZED VIEW status_counts AS"
        " SELECT status, count(*) FROM jobs WHERE keyword IS NOT NULL GROUP BY status;"
        " CREATE UNIQUE INDEX status_counts_status ON status_counts (status)",
        how="drop materialized view public.status_counts",
    ),
    "materialized view index dropped": Case(
        "DROP INDEX status_counts_status", how="indexes of materialized view"
    ),
    "function dropped": Case("DROP FUNCTION org_quota(bigint)", how="create function"),
    "function body changed": Case(
        "CREATE OR REPLACE FUNCTION org_quota(org int) RETURNS int LANGUAGE sql STABLE"
        " AS $$ SELECT quota_used + 0 FROM organizations WHERE id = org $$",
        how="replace function",
    ),
    "function search_path reset": Case(
        "ALTER FUNCTION reset_quota(int, int) RESET search_path", how="replace function"
    ),
    "function return type changed under a view": Case(
        "DROP VIEW quota_view; DROP FUNCTION org_quota(int);"
        " CREATE FUNCTION org_quota(org int) RETURNS bigint LANGUAGE sql STABLE"
        "  AS $$ SELECT quota_used FROM organizations WHERE id = org $$;"
        " CREATE VIEW quota_view AS SELECT id, org_quota(id) AS quota FROM organizations;"
        # Its access list as before: given back by fix, and by the downgrade.
        " REVOKE ALL ON FUNCTION org_quota(int) FROM PUBLIC;"
        " GRANT EXECUTE ON FUNCTION org_quota(int) TO PUBLIC, pg_monitor;",
        how="drop function public.org_quota(integer), created again after",
    ),
    "trigger function and its triggers dropped": Case(
        "DROP FUNCTION touch() CASCADE", how="create trigger"
    ),
    "procedure dropped": Case("DROP PROCEDURE archive_done()", how="create procedure"),
    "trigger dropped": Case("DROP TRIGGER jobs_count_quota ON jobs", how="create trigger"),
    "trigger changed": Case(
        "DROP TRIGGER jobs_touch ON jobs;"
        " CREATE TRIGGER jobs_touch BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION touch()",
        how="again (arguments, columns, when)",
    ),
    "constraint trigger dropped": Case("DROP TRIGGER jobs_deferred ON jobs", how="create trigger"),
    "disabled trigger enabled": Case(
        "ALTER TABLE jobs ENABLE TRIGGER jobs_disabled",
        how="jobs_disabled on public.jobs: disabled",
    ),
    "table with row-level security, a policy and a grant dropped": Case(
        "DROP TABLE notes", how="row-level security of public.notes"
    ),
    "table comment dropped": Case("COMMENT ON TABLE jobs IS NULL", how="comment on table"),
    "column comment changed": Case(
        "COMMENT ON COLUMN jobs.keyword IS 'it''s the search'", how="comment on column"
    ),
    "function comment added": Case(
        "COMMENT ON FUNCTION org_quota(bigint) IS 'by a big id'", how="comment on function"
    ),
    "commented table and column dropped": Case(
        "DROP TABLE jobs CASCADE", how="comment on column public.jobs.keyword"
    ),
    "column views read changes type": Case(
        lock=(("keyword: {type: character varying(40)", "keyword: {type: text"),),
        how="drop view public.per_org, created again after",
    ),
}


@pytest.fixture(scope="module")
def template(pg_server: Server) -> Iterator[str]:
    with scratch_database(pg_server, "sl_objects") as name:
        execute(pg_server.url_for(name), OBJECTS + ROWS)
        yield name


@pytest.fixture
def objects(pg_server: Server, template: str) -> Iterator[str]:
    with scratch_database(pg_server, template=template) as name:
        yield pg_server.url_for(name)


def _drifted(url: str, tmp_path: Path, case: Case) -> tuple[Path, list[tuple[str, str]]]:
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(url, lock)
    if case.lock:
        lock.write_text(edit(text, *case.lock), encoding="utf-8")
    if case.drift:
        execute(url, case.drift)
    drift = drift_of(findings(url, lock))
    assert drift, "the case injects no drift verify sees"
    return lock, drift


@pytest.mark.parametrize("name", sorted(CASES), ids=lambda n: n.replace(" ", "-"))
def test_fix_repairs_and_downgrades(objects: str, tmp_path: Path, name: str) -> None:
    case = CASES[name]
    lock, drift = _drifted(objects, tmp_path, case)
    rows = checksums(objects)
    migrations = tmp_path / "migrations"
    result = _fix(objects, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert case.how in result.stdout, result.stdout
    assert findings(objects, lock) == [], result.stdout
    after = checksums(objects)
    assert {key: after.get(key) for key in rows} == rows  # and a table created is empty
    assert all(after[key] in (0, EMPTY) for key in after.keys() - rows.keys())
    [revision] = _revisions(migrations)
    upgrade = ast.unparse(function_of(revision, "upgrade"))
    assert not re.search(r"DROP (TABLE|COLUMN)|CASCADE", upgrade, re.IGNORECASE)
    again = _fix(objects, lock, migrations)
    assert again.exit_code == 0, again.stderr
    assert again.stdout.startswith("nothing to repair"), again.stdout
    downgrade(migrations, objects)
    assert drift_of(findings(objects, lock)) == drift
    assert checksums(objects) == rows


def test_rebuilt_views_keep_their_privileges_comment_and_rows(objects: str, tmp_path: Path) -> None:
    role = f"reader_{str(query(objects, 'SELECT md5(current_database())')[0][0])[:10]}"
    execute(objects, f"CREATE ROLE {role}; GRANT SELECT ON busy_orgs, busiest TO {role}")
    try:
        case = CASES["view with readers gains a column"]
        lock, _ = _drifted(objects, tmp_path, case)
        execute(objects, f"GRANT SELECT ON busy_orgs, busiest TO {role}")
        before = query(objects, "SELECT * FROM busiest")
        result = _fix(objects, lock, tmp_path / "migrations", "--apply")
        assert result.exit_code == 0, result.stdout + result.stderr
        assert query(objects, "SELECT * FROM busiest") == before
        assert query(
            objects,
            "SELECT has_table_privilege(%s, 'busiest', 'SELECT'),"
            " obj_description('busy_orgs'::regclass, 'pg_class')",
            (role,),
        ) == [(True, "running jobs per organization")]
        assert findings(objects, lock) == []
    finally:
        execute(objects, f"DROP OWNED BY {role}; DROP ROLE {role}")


def test_a_function_other_objects_use_is_refused_before_anything_is_written(
    objects: str, tmp_path: Path
) -> None:
    execute(
        objects,
        "ALTER TABLE organizations ADD CONSTRAINT quota_known CHECK (org_quota(id) IS NOT NULL)"
        " NOT VALID",
    )
    lock = tmp_path / "schema_lock.yaml"
    snapshot(objects, lock)
    execute(
        objects,
        "ALTER TABLE organizations DROP CONSTRAINT quota_known; DROP VIEW quota_view;"
        " DROP FUNCTION org_quota(int);"
        " CREATE FUNCTION org_quota(org int) RETURNS bigint LANGUAGE sql STABLE"
        "  AS $$ SELECT quota_used FROM organizations WHERE id = org $$;"
        " CREATE VIEW quota_view AS SELECT id, org_quota(id) AS quota FROM organizations;"
        " ALTER TABLE organizations ADD CONSTRAINT quota_known"
        "  CHECK (org_quota(id) IS NOT NULL) NOT VALID",
    )
    migrations = tmp_path / "migrations"
    result = _fix(objects, lock, migrations, "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    said = result.stdout + result.stderr
    assert "org_quota(integer)" in said, said
    assert "quota_known" in said, said


def test_a_lock_query_that_is_not_one_statement_is_refused(objects: str, tmp_path: Path) -> None:
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(objects, lock)
    execute(objects, "DROP VIEW busiest")
    document = re.sub(
        r"(busiest:\n\s+query: )(.*)\n",
        lambda m: m.group(1) + "'SELECT 1 AS most; DROP TABLE jobs'\n",
        text,
        count=1,
    )
    assert document != text
    lock.write_text(document, encoding="utf-8")
    result = _fix(objects, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code != 0
    assert query(objects, "SELECT count(*) FROM jobs") == [(90,)]


def test_a_view_over_a_column_left_out_is_left_out_too(objects: str, tmp_path: Path) -> None:
    """A partial plan: the NOT NULL column without a default cannot be added to a table with
    rows, so the view reading it is left out with it, and the privilege on the view with the
    view, not written to fail."""
    execute(
        objects,
        "ALTER TABLE organizations ADD COLUMN region text NOT NULL DEFAULT 'eu';"
        " ALTER TABLE organizations ALTER COLUMN region DROP DEFAULT;"
        " CREATE VIEW org_regions AS SELECT id, region FROM organizations;"
        " GRANT SELECT ON org_regions TO pg_monitor",
    )
    lock = tmp_path / "schema_lock.yaml"
    snapshot(objects, lock)
    execute(objects, "DROP VIEW org_regions; ALTER TABLE organizations DROP COLUMN region")
    migrations = tmp_path / "migrations"
    result = _fix(objects, lock, migrations, "--apply", "--partial")
    assert result.exit_code == 5, result.stdout + result.stderr
    said = result.stdout + result.stderr
    assert "view public.org_regions: it depends on column public.organizations.region" in said
    assert query(objects, "SELECT to_regclass('org_regions') IS NULL") == [(True,)]


@pytest.mark.parametrize(
    ("in_lock", "views", "named"),
    [
        (False, "CREATE VIEW dear AS SELECT id FROM prices WHERE amount > 100", "dear"),
        (
            True,
            "CREATE VIEW priced AS SELECT id, amount AS cost FROM prices;"
            " CREATE VIEW dearest AS SELECT id FROM priced WHERE cost > 100",
            "dearest",
        ),
    ],
    ids=["an extra view", "a view over a view"],
)
def test_a_view_that_cannot_be_created_again_refuses_the_conversion(
    objects: str, tmp_path: Path, in_lock: bool, views: str, named: str
) -> None:
    """A view reading a column that changes type is created again around the conversion (as
    the lock has it, or as it was for one the lock does not list); one whose query does not
    hold over the new type (`amount > 100` over text) is found while planning, and the
    conversion refused, naming it, instead of a revision that fails halfway.  A view over a
    view is asked over the converted query of the one it reads: the first only passes the
    column on, the second compares it with a number."""
    execute(
        objects,
        "CREATE TABLE prices (id int PRIMARY KEY, amount numeric);"
        " INSERT INTO prices SELECT g, g * 12.5 FROM generate_series(1, 20) AS g;"
        + (views if in_lock else ""),
    )
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(objects, lock)
    lock.write_text(edit(text, ("amount: {type: numeric}", "amount: {type: text}")), "utf-8")
    if not in_lock:
        execute(objects, views)
    rows = checksums(objects)
    result = _fix(objects, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    said = " ".join((result.stdout + result.stderr).split())
    assert f"view public.{named} reads it and could not be created again over text" in said, said
    assert "operator does not exist: text > numeric" in said, said
    assert checksums(objects) == rows


def test_a_chain_of_views_that_holds_over_the_new_type_is_rebuilt_around_it(
    objects: str, tmp_path: Path
) -> None:
    execute(
        objects,
        "CREATE TABLE prices (id int PRIMARY KEY, amount integer);"
        " INSERT INTO prices SELECT g, g * 12 FROM generate_series(1, 20) AS g;"
        " CREATE VIEW priced AS SELECT id, amount AS cost FROM prices;"
        " CREATE VIEW dearest AS SELECT id, cost FROM priced WHERE cost > 100",
    )
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(objects, lock)
    lock.write_text(edit(text, ("amount: {type: integer}", "amount: {type: bigint}")), "utf-8")
    result = _fix(objects, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert query(objects, "SELECT count(*), pg_typeof(min(cost))::text FROM dearest") == [
        (12, "bigint")
    ]
    assert findings(objects, lock) == []


def test_a_column_a_function_body_reads_is_refused_naming_it(objects: str, tmp_path: Path) -> None:
    """A SQL-standard body (`RETURN ...`) depends on the columns it reads, and PostgreSQL
    refuses to change their type: refused while planning, naming the function."""
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(objects, lock)
    lock.write_text(
        edit(text, ("quota_used: {type: integer", "quota_used: {type: bigint")), "utf-8"
    )
    result = _fix(objects, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    said = " ".join((result.stdout + result.stderr).split())
    assert "public.organizations.quota_used to bigint: used by function org_quota(bigint)" in said
