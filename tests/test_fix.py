"""`schemalock fix` on a real PostgreSQL, the pg-schema-diff way: break a database, fix, apply,
verify (nothing structural left but what fix reports and leaves alone), fix again (nothing to
do); pre-existing rows unchanged; generated code compiles and holds only expected operations."""

from __future__ import annotations

import ast
import json
import py_compile
import re
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
    "enum label added": {"enum-mismatch"},
    "domain check added": {"domain-mismatch"},
    "table added in a schema the lock does not list": {"extra-schema", "extra-table"},
    "view added is not a table, but a view": {"extra-view"},
    "partition added is not a table": {"extra-partition"},
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
    said = "nothing to repair" if case not in LEFT_ALONE else "no revision written"
    assert again.stdout.startswith(said), again.stdout
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
    assert "org_id to uuid: values that do not convert: 1 row (keys: 4)" in refused.stderr
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


COMBINED = """
CREATE TABLE teams (id int PRIMARY KEY, slug varchar(40) NOT NULL UNIQUE, plan text DEFAULT 'free',
    CONSTRAINT slug_lower CHECK (slug = lower(slug)));
CREATE TABLE "Member List" ("Id" int PRIMARY KEY, team_id int REFERENCES teams (id),
    "e-mail" text NOT NULL, joined timestamptz NOT NULL DEFAULT now());
CREATE INDEX member_team ON "Member List" (team_id);
CREATE INDEX member_mail ON "Member List" (lower("e-mail"));
INSERT INTO teams SELECT g, 'team-' || g, 'pro' FROM generate_series(1, 40) g;
INSERT INTO "Member List" SELECT g, 1 + g % 40, 'm' || g || '@acme.io', '2026-01-01'::timestamptz
    + g * interval '1 hour' FROM generate_series(1, 500) g;
"""
COMBINED_DRIFT = """
DROP INDEX member_team; DROP INDEX member_mail;
ALTER TABLE "Member List" DROP CONSTRAINT "Member List_team_id_fkey";
ALTER TABLE teams DROP CONSTRAINT teams_slug_key, DROP CONSTRAINT slug_lower,
    ALTER COLUMN slug TYPE text, ALTER COLUMN plan SET DEFAULT 'trial';
ALTER TABLE "Member List" ALTER COLUMN "e-mail" DROP NOT NULL;
"""
CHECKSUMS = """
SELECT 'teams', count(*), md5(string_agg(t::text, ',' ORDER BY id)) FROM teams t
UNION ALL
SELECT 'members', count(*), md5(string_agg(m::text, ',' ORDER BY "Id")) FROM "Member List" m
"""


def test_combined_drift_keeps_every_row_and_downgrades(database: str, tmp_path: Path) -> None:
    execute(database, COMBINED)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, COMBINED_DRIFT)
    before = query(database, CHECKSUMS)
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stderr
    assert _verify(database, lock) == []
    assert query(database, CHECKSUMS) == before  # nothing written to any row
    [revision] = _revisions(migrations)
    allowed = {"execute", "get_context", "create_index", "create_foreign_key", "alter_column",
               "create_check_constraint", "drop_constraint"}  # fmt: skip
    assert set(_op_calls(revision)) <= allowed
    assert "drop_table" not in revision.read_text()
    assert "drop_column" not in revision.read_text()

    from alembic import command

    from schemalock.fix import environment

    command.downgrade(environment.config(migrations, database), "-1")
    assert query(database, CHECKSUMS) == before
    assert {f["rule"] for f in _verify(database, lock)} >= {"missing-index", "missing-unique"}
    command.upgrade(environment.config(migrations, database), "head")
    assert _verify(database, lock) == []


def test_offline_sql_renders_and_passes_squawk(database: str, tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys
    from contextlib import redirect_stdout
    from io import StringIO

    from alembic import command

    from schemalock.fix import environment

    execute(database, COMBINED)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, COMBINED_DRIFT)
    migrations = tmp_path / "migrations"
    assert _fix(database, lock, migrations).exit_code == 0
    offline = StringIO()
    with redirect_stdout(offline):
        command.upgrade(environment.config(migrations), "head", sql=True)
    sql = offline.getvalue()
    assert "CREATE INDEX CONCURRENTLY" in sql
    assert "NOT VALID" in sql
    assert "VALIDATE CONSTRAINT" in sql
    squawk = shutil.which("squawk") or str(Path(sys.executable).parent / "squawk")
    path = tmp_path / "upgrade.sql"
    path.write_text(sql, encoding="utf-8")
    done = subprocess.run(
        [squawk, "--reporter", "json", "--pg-version", "14", str(path)],
        capture_output=True, text=True,
    )  # fmt: skip
    violations = json.loads(done.stdout or "[]")
    lines = sql.splitlines()
    # VALIDATE runs outside the migration's transaction on purpose (its own lock, not the one
    # ADD CONSTRAINT took), and re-running it is harmless: squawk cannot know that.
    violations = [
        v
        for v in violations
        if not (
            v["rule_name"] == "prefer-robust-stmts"
            and "VALIDATE CONSTRAINT" in lines[v["line"]]  # squawk counts lines from 0
        )
    ]
    rules = sorted({v["rule_name"] for v in violations})
    # What we emit on purpose: the type change back to the lock's varchar(40) is a declared
    # rewrite (changing-column-type; prefer-text-field, which alembic_version's own varchar
    # also draws), and the proof CHECK of SET NOT NULL is dropped once NOT NULL holds.
    expected = {"changing-column-type", "prefer-text-field", "ban-drop-constraint"}
    assert set(rules) <= expected, violations
    assert "constraint-missing-not-valid" not in rules  # VALIDATE never shares a transaction


def test_hostile_names_stay_names(database: str, tmp_path: Path) -> None:
    """Quotes, spaces, unicode, reserved words and an injection attempt in names round-trip
    through a revision and run as names, never as SQL."""
    execute(
        database,
        """
        CREATE TABLE victims (id int PRIMARY KEY);
        CREATE TABLE "evil'); DROP TABLE victims; --" (
            "select" int PRIMARY KEY, "naïve ""quoted"" col" text, ":bind me" text);
        CREATE INDEX "idx'; DROP TABLE victims; --" ON "evil'); DROP TABLE victims; --"
            ("naïve ""quoted"" col");
        """,
    )
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(
        database,
        """DROP INDEX "idx'; DROP TABLE victims; --";
        ALTER TABLE "evil'); DROP TABLE victims; --" ALTER COLUMN ":bind me" SET NOT NULL""",
    )
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stderr
    assert _verify(database, lock) == []
    assert query(database, "SELECT to_regclass('victims') IS NOT NULL") == [(True,)]
    for path in _revisions(migrations):
        py_compile.compile(str(path), doraise=True)


def test_a_schema_changed_since_planning_is_refused(database: str, tmp_path: Path) -> None:
    from schemalock.errors import EXIT_REFUSED, Refused
    from schemalock.fix.command import run_upgrade

    execute(database, COMBINED)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, "DROP INDEX member_team")
    migrations = tmp_path / "migrations"
    assert _fix(database, lock, migrations).exit_code == 0  # planned, not applied
    execute(database, "ALTER TABLE teams ADD COLUMN motto text")  # someone else's change
    with pytest.raises(Refused, match="schema changed since this revision was planned") as err:
        run_upgrade(migrations, database)
    assert err.value.exit_code == EXIT_REFUSED
    assert query(database, "SELECT to_regclass('alembic_version') IS NULL") == [(True,)]
    again = _fix(database, lock, migrations)
    assert again.exit_code == 5  # the written revision is not applied: apply or remove it first
    assert "is not applied to this database" in again.stderr


ORPHANED = """
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int PRIMARY KEY, parent_id int{required}, note text);
INSERT INTO parent VALUES (1);
INSERT INTO child VALUES (1, 1, 'kept'), (2, 7, 'orphan'), (3, 8, 'orphan');
"""


@pytest.mark.parametrize(
    ("policy", "rows"),
    [("delete", [(1, 1)]), ("set-null", [(1, 1), (2, None), (3, None)])],
)
def test_orphans_deleted_or_nulled_only_when_asked(
    database: str, tmp_path: Path, policy: str, rows: list[tuple[int, int | None]]
) -> None:
    execute(database, ORPHANED.format(required=""))
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(database, lock).replace(
        "      parent_id: {type: integer}",
        "      parent_id: {type: integer, references: parent.id}",
    )
    lock.write_text(text, encoding="utf-8")
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply", "--orphans", policy)
    assert result.exit_code == 0, result.stderr
    assert query(database, "SELECT id, parent_id FROM child ORDER BY id") == rows
    assert _verify(database, lock) == []
    [revision] = _revisions(migrations)
    assert "raise NotImplementedError(" in revision.read_text()  # the downgrade cannot restore


def test_set_null_on_a_not_null_reference_is_refused(database: str, tmp_path: Path) -> None:
    execute(database, ORPHANED.format(required=" NOT NULL"))
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(database, lock).replace(
        "      parent_id: {type: integer, nullable: false}",
        "      parent_id: {type: integer, nullable: false, references: parent.id}",
    )
    lock.write_text(text, encoding="utf-8")
    result = _fix(database, lock, tmp_path / "migrations", "--orphans", "set-null")
    assert result.exit_code == 5
    assert "is NOT NULL" in result.stderr
    assert query(database, "SELECT count(*) FROM child") == [(3,)]


def test_foreign_key_of_a_partitioned_table(database: str, tmp_path: Path) -> None:
    """NOT VALID where the server allows it (18+); before, validated in one step, declared."""
    execute(
        database,
        """
        CREATE TABLE orgs (id int PRIMARY KEY);
        CREATE TABLE events (org_id int REFERENCES orgs (id), at date NOT NULL)
            PARTITION BY RANGE (at);
        CREATE TABLE events_2026 PARTITION OF events
            FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        INSERT INTO orgs VALUES (1); INSERT INTO events VALUES (1, '2026-05-01');
        """,
    )
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, "ALTER TABLE events DROP CONSTRAINT events_org_id_fkey")
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stderr
    assert _verify(database, lock) == []
    [version] = query(database, "SELECT current_setting('server_version_num')::int")
    text = _revisions(migrations)[0].read_text()
    assert ("postgresql_not_valid=True" in text) == (int(str(version[0])) >= 180000)


def test_apply_through_a_pooler_is_refused_before_connecting(tmp_path: Path) -> None:
    lock = tmp_path / "schema_lock.yaml"
    lock.write_text("version: 1\ntables: {}\n", encoding="utf-8")
    url = "postgresql://app:s3cretpw@ep-cool-123456-pooler.us-east-2.aws.neon.tech/neondb"
    result = _fix(url, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 5
    assert "connection pooler" in result.stderr
    assert "s3cretpw" not in result.stdout + result.stderr
    assert not (tmp_path / "migrations").exists()  # nothing written before the database answers


def test_a_revision_lands_on_the_existing_head(database: str, tmp_path: Path) -> None:
    """Users have their own history: fix writes on top of its head, once the database is at it."""
    from alembic import command

    from schemalock.fix import environment

    migrations = environment.ensure(tmp_path / "migrations")
    (migrations / "versions" / "0001_teams.py").write_text(
        '"""teams"""\nfrom alembic import op\n\nrevision = "0001"\ndown_revision = None\n'
        "branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n"
        '    op.execute("CREATE TABLE teams (id int PRIMARY KEY, name text)")\n'
        '    op.execute("CREATE INDEX teams_name ON teams (name)")\n\n\n'
        'def downgrade():\n    op.execute("DROP TABLE teams")\n',
        encoding="utf-8",
    )
    command.upgrade(environment.config(migrations, database), "head")
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, "DROP INDEX teams_name")
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stderr
    [written] = [p for p in _revisions(migrations) if p.name != "0001_teams.py"]
    assert "Revises: 0001" in written.read_text()
    assert re.search(r"^down_revision\b.* = '0001'$", written.read_text(), re.MULTILINE)
    assert _verify(database, lock) == []


@pytest.mark.parametrize(
    ("old", "new", "coercible"),
    [
        ("character varying(50)", "text", True),
        ("character varying(50)", "character varying(100)", True),
        ("character varying(100)", "character varying(50)", False),  # shorter: checked
        ("character varying", "character varying(10)", False),
        ("text", "uuid", False),
    ],
)
def test_a_type_change_is_declared_a_rewrite_unless_binary_coercible(
    old: str, new: str, coercible: bool
) -> None:
    from schemalock.fix.plan.sql import binary_coercible as _binary_coercible

    assert _binary_coercible(old, new) is coercible
