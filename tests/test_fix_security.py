"""`fix` repairs row-level security and policies on a real PostgreSQL with rows: each drift
(RLS disabled, enabled, forced or no longer forced; a policy dropped; its USING, WITH CHECK,
roles, command or mode changed) is repaired, verify is then silent, `fix` again finds nothing,
no row changed, and the downgrade brings back exactly the drift.  An extra policy is left
alone; a policy naming a role the cluster lacks is left for a person; a condition of the lock
that is not one expression is refused.

Roles are cluster-wide and other tests share the server: each test creates its own, named
after its database, and drops them at the end."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import execute, query, run_cli
from test_fix import _fix, _revisions
from test_fix_convergence import checksums, downgrade
from test_roundtrip import snapshot

pytestmark = pytest.mark.db


@contextlib.contextmanager
def own_roles(url: str, *prefixes: str) -> Iterator[list[str]]:
    """Roles for this test only: each prefix with the database's unique name (a role name
    that needs quotes when the prefix does), dropped with what they hold at the end."""
    [(name,)] = query(url, "SELECT current_database()")
    roles = [f"{prefix}{str(name).rpartition('_')[2]}" for prefix in prefixes]
    quoted = ['"' + role.replace('"', '""') + '"' for role in roles]
    execute(url, "; ".join(f"CREATE ROLE {role}" for role in quoted))
    try:
        yield roles
    finally:
        execute(url, f"DROP OWNED BY {', '.join(quoted)}; DROP ROLE {', '.join(quoted)}")


def verify(url: str, lock: Path) -> list[str]:
    """Every finding's message, sorted (the exit code follows from them)."""
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", url, "--format", "json",
        "--fail-on", "info", "--no-data",
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.stderr
    return sorted(f["message"] for f in json.loads(result.stdout)["findings"])


def round_trip(url: str, tmp_path: Path, schema: str, drift: str) -> Any:
    """`schema` snapshotted, `drift` injected, `fix --apply`: converged (verify silent, fix
    again writes nothing, rows as they were), and the downgrade brings back exactly the
    drift.  Returns the fix's result."""
    execute(url, schema)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(url, lock)
    execute(url, drift)
    drifted = verify(url, lock)
    assert drifted, "the drift is reported"
    rows = checksums(url)
    migrations = tmp_path / "migrations"
    result = _fix(url, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert verify(url, lock) == [], result.stdout
    assert checksums(url) == rows
    [revision] = _revisions(migrations)
    again = _fix(url, lock, migrations)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert again.stdout.startswith("nothing to repair"), again.stdout
    assert _revisions(migrations) == [revision]
    downgrade(migrations, url)
    assert verify(url, lock) == drifted
    assert checksums(url) == rows
    return result


SECURED = """
CREATE TABLE organizations (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO organizations SELECT g, 'Org ' || g FROM generate_series(1, 5) AS g;
CREATE TABLE documents (id int PRIMARY KEY, org_id int NOT NULL, body text);
INSERT INTO documents SELECT g, g % 5 + 1, CASE WHEN g % 7 = 0 THEN NULL ELSE 'doc ' || g END
    FROM generate_series(1, 60) AS g;
CREATE TABLE "Audit Log" (id int PRIMARY KEY, note text);
INSERT INTO "Audit Log" SELECT g, 'entry ' || g FROM generate_series(1, 20) AS g;
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
ALTER TABLE "Audit Log" ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON documents
    USING (org_id = current_setting('app.org')::int)
    WITH CHECK (org_id = current_setting('app.org')::int);
CREATE POLICY readers ON documents FOR SELECT TO "READER", "AUDITOR"
    USING (body IS NOT NULL AND org_id > 0);
CREATE POLICY no_deletes ON documents AS RESTRICTIVE FOR DELETE USING (false);
CREATE POLICY inserts ON documents FOR INSERT WITH CHECK (org_id IN (1, 2, 3));
CREATE POLICY "Audit Trail" ON "Audit Log" FOR SELECT TO "AUDITOR" USING (true);
"""

DRIFT = {
    "rls disabled": "ALTER TABLE documents DISABLE ROW LEVEL SECURITY",
    "rls no longer forced": "ALTER TABLE documents NO FORCE ROW LEVEL SECURITY",
    "rls enabled where the lock has it off": "ALTER TABLE organizations ENABLE ROW LEVEL SECURITY",
    "rls forced where the lock does not": 'ALTER TABLE "Audit Log" FORCE ROW LEVEL SECURITY',
    "rls disabled and its policy dropped": (
        'ALTER TABLE "Audit Log" DISABLE ROW LEVEL SECURITY;'
        ' DROP POLICY "Audit Trail" ON "Audit Log"'
    ),
    "policy dropped": "DROP POLICY tenant_isolation ON documents",
    "using widened": "ALTER POLICY tenant_isolation ON documents USING (true)",
    "with check changed": "ALTER POLICY inserts ON documents WITH CHECK (org_id IN (1, 2))",
    "roles changed": 'ALTER POLICY readers ON documents TO "READER"',
    "roles, using and with check changed": (
        'ALTER POLICY tenant_isolation ON documents TO "AUDITOR" USING (org_id > 0)'
        " WITH CHECK (org_id > 1)"
    ),
    "command and mode changed": (
        "DROP POLICY no_deletes ON documents;"
        " CREATE POLICY no_deletes ON documents FOR UPDATE USING (false)"
    ),
    "mode changed": (
        "DROP POLICY no_deletes ON documents;"
        " CREATE POLICY no_deletes ON documents AS PERMISSIVE FOR DELETE USING (false)"
    ),
    "with check taken away": (
        "DROP POLICY tenant_isolation ON documents;"
        " CREATE POLICY tenant_isolation ON documents"
        " USING (org_id = current_setting('app.org')::int)"
    ),
    "using added where the lock has none": (
        "DROP POLICY readers ON documents;"
        ' CREATE POLICY readers ON documents TO "READER", "AUDITOR" USING (true)'
        " WITH CHECK (org_id > 0)"
    ),
}


def _secured(roles: list[str]) -> str:
    reader, auditor = roles
    return SECURED.replace("READER", reader).replace("AUDITOR", auditor)


@pytest.mark.parametrize("case", sorted(DRIFT), ids=lambda c: c.replace(" ", "-"))
def test_fix_repairs_row_security_and_policies(database: str, tmp_path: Path, case: str) -> None:
    with own_roles(database, "App Reader ", "sl_auditor_") as roles:
        drift = DRIFT[case].replace("READER", roles[0]).replace("AUDITOR", roles[1])
        result = round_trip(database, tmp_path, _secured(roles), drift)
    if case == "rls disabled":  # what --apply consents to, said before it runs
        assert "row-level security enabled on public.documents" in result.stdout, result.stdout


def test_policies_are_created_before_row_security_is_enabled(database: str, tmp_path: Path) -> None:
    with own_roles(database, "App Reader ", "sl_auditor_") as roles:
        result = round_trip(
            database, tmp_path, _secured(roles), DRIFT["rls disabled and its policy dropped"]
        )
    [revision] = _revisions(tmp_path / "migrations")
    text = revision.read_text(encoding="utf-8")
    upgrade = text[text.index("def upgrade") : text.index("def downgrade")]
    assert upgrade.index("CREATE POLICY") < upgrade.index("ENABLE ROW LEVEL SECURITY"), upgrade
    downgraded = text[text.index("def downgrade") :]
    assert downgraded.index("DISABLE ROW LEVEL SECURITY") < downgraded.index("DROP POLICY")
    assert "hazards:" in result.stdout


def test_an_extra_policy_is_left_alone(database: str, tmp_path: Path) -> None:
    with own_roles(database, "App Reader ", "sl_auditor_") as roles:
        execute(database, _secured(roles))
        lock = tmp_path / "schema_lock.yaml"
        snapshot(database, lock)
        execute(database, "CREATE POLICY debug_all ON documents USING (true)")
        migrations = tmp_path / "migrations"
        result = _fix(database, lock, migrations, "--apply")
        said = result.stdout + result.stderr
        assert result.exit_code == 0, said
        assert "policy debug_all on public.documents: extra policies are reported" in said
        assert not migrations.exists() or _revisions(migrations) == []
        assert query(database, "SELECT polname FROM pg_policy WHERE polname = 'debug_all'") == [
            ("debug_all",)
        ]


def test_a_policy_for_a_missing_role_is_left_for_a_person(database: str, tmp_path: Path) -> None:
    with own_roles(database, "App Reader ", "sl_auditor_") as roles:
        execute(database, _secured(roles))
        lock = tmp_path / "schema_lock.yaml"
        snapshot(database, lock)
    # The roles are gone (and the policies lost them): the lock names roles the cluster lacks.
    execute(database, 'DROP POLICY IF EXISTS "Audit Trail" ON "Audit Log"')
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations)
    said = result.stdout + result.stderr
    assert result.exit_code == 0, said
    assert f'policy "Audit Trail" on public."Audit Log": role {roles[1]} does not exist' in said
    assert f'role "{roles[0]}": missing; roles are cluster-wide' in said, said
    assert "CREATE POLICY" not in said


def test_a_condition_that_is_not_one_expression_is_refused(database: str, tmp_path: Path) -> None:
    execute(
        database, "CREATE TABLE documents (id int PRIMARY KEY); INSERT INTO documents VALUES (1)"
    )
    lock = tmp_path / "schema_lock.yaml"
    lock.write_text(
        "version: 1\ntables:\n  documents:\n    columns:\n"
        "      id: {type: int, primary_key: true}\n"
        "row_security:\n  documents:\n    enabled: false\n    policies:\n"
        "      sneaky: {using: 'true) WITH CHECK (true'}\n",
        encoding="utf-8",
    )
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert "policy sneaky on public.documents: a condition of the lock is not one SQL" in (
        result.stderr
    )
    assert query(database, "SELECT count(*) FROM pg_policy") == [(0,)]
