"""`fix` repairs privileges on a real PostgreSQL with rows: a missing grant (on a table, a
column, a sequence, a function, a procedure, a schema, default privileges in a schema or
global) is granted, an extra one revoked, exactly the privileges that differ, and a grant
option given or taken back as the lock says; verify is then silent, `fix` again
finds nothing, no row changed, and the downgrade brings back exactly the drift.  Privileges
on an object the lock does not mention are left alone; a role that may not grant is refused.

Roles are cluster-wide and other tests share the server: each test creates its own, named
after its database, and drops them at the end (`own_roles`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import as_role, execute, query
from test_fix import _fix, _revisions
from test_fix_convergence import checksums
from test_fix_security import own_roles, round_trip, verify
from test_roundtrip import snapshot

pytestmark = pytest.mark.db

GRANTED = """
CREATE SCHEMA "Billing";
CREATE TABLE documents (id int PRIMARY KEY, org_id int, email text);
INSERT INTO documents SELECT g, g % 4, 'user' || g || '@example.com'
    FROM generate_series(1, 50) AS g;
CREATE TABLE "Billing".invoices (id serial PRIMARY KEY, amount numeric(10, 2));
INSERT INTO "Billing".invoices (amount) SELECT g * 1.5 FROM generate_series(1, 30) AS g;
CREATE SEQUENCE invoice_numbers;
CREATE FUNCTION "Quota Of"(org int, label character varying) RETURNS int LANGUAGE sql
    AS $$ SELECT org $$;
CREATE PROCEDURE archive(days int) LANGUAGE sql AS $$ SELECT days $$;
GRANT SELECT, INSERT ON documents TO "READER";
GRANT SELECT ON documents TO PUBLIC;
GRANT SELECT (email), UPDATE (email) ON documents TO ANALYST;
GRANT USAGE ON SCHEMA "Billing" TO "READER";
GRANT SELECT ON "Billing".invoices TO "READER";
GRANT USAGE, SELECT ON SEQUENCE "Billing".invoices_id_seq TO "READER";
GRANT USAGE ON SEQUENCE invoice_numbers TO "READER";
REVOKE EXECUTE ON FUNCTION "Quota Of"(int, varchar) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION "Quota Of"(int, varchar) TO "READER";
REVOKE EXECUTE ON PROCEDURE archive(int) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE archive(int) TO ANALYST;
ALTER DEFAULT PRIVILEGES IN SCHEMA "Billing" GRANT SELECT ON TABLES TO ANALYST;
ALTER DEFAULT PRIVILEGES IN SCHEMA "Billing" GRANT USAGE ON SEQUENCES TO "READER";
ALTER DEFAULT PRIVILEGES FOR ROLE ANALYST IN SCHEMA "Billing" GRANT SELECT ON TABLES TO PUBLIC;
GRANT TRUNCATE ON documents TO "READER" WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES FOR ROLE ANALYST REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE ANALYST GRANT SELECT ON TABLES TO "READER" WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO ANALYST;
ALTER DEFAULT PRIVILEGES GRANT EXECUTE ON FUNCTIONS TO "READER";
"""

DRIFT = {
    "table grant missing": 'REVOKE INSERT ON documents FROM "READER"',
    "column grant missing": "REVOKE UPDATE (email) ON documents FROM ANALYST",
    "sequence grant missing": 'REVOKE USAGE ON SEQUENCE invoice_numbers FROM "READER"',
    "serial sequence grant missing": (
        'REVOKE SELECT ON SEQUENCE "Billing".invoices_id_seq FROM "READER"'
    ),
    "function grant missing": ('REVOKE EXECUTE ON FUNCTION "Quota Of"(int, varchar) FROM "READER"'),
    "procedure grant missing": "REVOKE EXECUTE ON PROCEDURE archive(int) FROM ANALYST",
    "schema grant missing": 'REVOKE USAGE ON SCHEMA "Billing" FROM "READER"',
    "default privileges missing": (
        'ALTER DEFAULT PRIVILEGES IN SCHEMA "Billing" REVOKE SELECT ON TABLES FROM ANALYST'
    ),
    "table grant to PUBLIC missing": "REVOKE SELECT ON documents FROM PUBLIC",
    "table grant extra": "GRANT DELETE, TRUNCATE ON documents TO ANALYST",
    "column grant extra": 'GRANT SELECT (org_id) ON documents TO "READER"',
    "sequence grant extra": 'GRANT UPDATE ON SEQUENCE invoice_numbers TO "READER"',
    "function grant extra": 'GRANT EXECUTE ON FUNCTION "Quota Of"(int, varchar) TO ANALYST',
    "schema grant extra to PUBLIC": "GRANT CREATE ON SCHEMA public TO PUBLIC",
    "default privileges extra": (
        'ALTER DEFAULT PRIVILEGES IN SCHEMA "Billing" GRANT INSERT ON TABLES TO ANALYST'
    ),
    "missing and extra at once": (
        'REVOKE INSERT ON documents FROM "READER"; GRANT UPDATE ON documents TO "READER";'
        ' REVOKE USAGE ON SCHEMA "Billing" FROM "READER"'
    ),
    # REVOKE of a table privilege takes it off every column too: the lock's column grant of
    # it is granted again.
    "table grant extra over a column grant": "GRANT SELECT ON documents TO ANALYST",
    "grant option missing": 'REVOKE GRANT OPTION FOR TRUNCATE ON documents FROM "READER"',
    "grant option extra": 'GRANT INSERT ON documents TO "READER" WITH GRANT OPTION',
    "grant option extra on a column": (
        "GRANT UPDATE (email) ON documents TO ANALYST WITH GRANT OPTION"
    ),
    "grant option extra on default privileges": (
        'ALTER DEFAULT PRIVILEGES IN SCHEMA "Billing" GRANT SELECT ON TABLES TO ANALYST'
        " WITH GRANT OPTION"
    ),
    "table grant missing with its grant option": 'REVOKE TRUNCATE ON documents FROM "READER"',
    "grant option missing on global default privileges": (
        "ALTER DEFAULT PRIVILEGES FOR ROLE ANALYST"
        ' REVOKE GRANT OPTION FOR SELECT ON TABLES FROM "READER"'
    ),
    "global default privileges missing": (
        "ALTER DEFAULT PRIVILEGES REVOKE USAGE ON SCHEMAS FROM ANALYST"
    ),
    "global default privileges extra": (
        'ALTER DEFAULT PRIVILEGES FOR ROLE ANALYST GRANT USAGE ON SEQUENCES TO "READER"'
    ),
    # Given back, PUBLIC's EXECUTE makes the access list the built-in one: PostgreSQL drops it.
    "global default EXECUTE to PUBLIC extra": (
        "ALTER DEFAULT PRIVILEGES FOR ROLE ANALYST GRANT EXECUTE ON FUNCTIONS TO PUBLIC"
    ),
    "global default EXECUTE to PUBLIC missing": (
        "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC"
    ),
    "global default access lists dropped whole": (
        "ALTER DEFAULT PRIVILEGES FOR ROLE ANALYST GRANT EXECUTE ON FUNCTIONS TO PUBLIC;"
        ' ALTER DEFAULT PRIVILEGES FOR ROLE ANALYST REVOKE SELECT ON TABLES FROM "READER";'
        ' ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM "READER"'
    ),
}


def _named(sql: str, roles: list[str]) -> str:
    reader, analyst = roles
    return sql.replace("READER", reader).replace("ANALYST", analyst)


@pytest.mark.parametrize("case", sorted(DRIFT), ids=lambda c: c.replace(" ", "-"))
def test_fix_repairs_grants(database: str, tmp_path: Path, case: str) -> None:
    with own_roles(database, "App Reader ", "sl_analyst_") as roles:
        result = round_trip(database, tmp_path, _named(GRANTED, roles), _named(DRIFT[case], roles))
    if "extra" in case:  # what --apply consents to, said before it runs
        assert "lose" in result.stdout.partition("hazards:")[2], result.stdout


def test_privileges_on_an_object_the_lock_does_not_mention_are_left_alone(
    database: str, tmp_path: Path
) -> None:
    with own_roles(database, "App Reader ", "sl_analyst_") as roles:
        execute(database, _named(GRANTED, roles))
        lock = tmp_path / "schema_lock.yaml"
        snapshot(database, lock)
        execute(database, f'CREATE TABLE notes (id int); GRANT SELECT ON notes TO "{roles[0]}"')
        migrations = tmp_path / "migrations"
        result = _fix(database, lock, migrations, "--apply")
        said = result.stdout + result.stderr
        assert result.exit_code == 0, said
        assert "table public.notes: " in said, said
        assert "object the lock does not mention; reported and left alone" in said, said
        assert not migrations.exists() or _revisions(migrations) == []
        assert query(database, "SELECT has_table_privilege(%s, 'notes', 'SELECT')", [roles[0]]) == [
            (True,)
        ]


def test_a_role_that_may_not_grant_is_refused(database: str, tmp_path: Path) -> None:
    with own_roles(database, "App Reader ", "sl_analyst_") as roles:
        execute(database, _named(GRANTED, roles))
        lock = tmp_path / "schema_lock.yaml"
        snapshot(database, lock)
        execute(database, f'REVOKE INSERT ON documents FROM "{roles[0]}"')
        drifted, rows = verify(database, lock), checksums(database)
        # Reads every catalog fix reads, owns nothing: its GRANT would only warn.
        with as_role(database, 'GRANT USAGE ON SCHEMA "Billing" TO {role}') as url:
            migrations = tmp_path / "migrations"
            result = _fix(url, lock, migrations, "--apply")
        assert result.exit_code == 5, result.stdout + result.stderr
        assert "table public.documents: this role may not grant on it" in result.stderr
        assert not migrations.exists() or _revisions(migrations) == []
        assert verify(database, lock) == drifted
        assert checksums(database) == rows


def test_grants_of_missing_roles_are_left_for_a_person(database: str, tmp_path: Path) -> None:
    with own_roles(database, "App Reader ", "sl_analyst_") as roles:
        execute(database, _named(GRANTED, roles))
        lock = tmp_path / "schema_lock.yaml"
        snapshot(database, lock)
    # The roles are gone: the lock names roles the cluster lacks, grants to them, and
    # default privileges of one to PUBLIC.
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations)
    said = result.stdout + result.stderr
    assert result.exit_code == 0, said
    assert f'role "{roles[0]}": missing; roles are cluster-wide' in said, said
    assert f"role {roles[1]}: missing" in said, said
    assert f"its owner {roles[1]} does not exist, and fix does not create it" in said, said
    assert not migrations.exists() or _revisions(migrations) == []
