"""What `schemalock fix` must never do, on a real PostgreSQL: run lock text as SQL outside its
slot, lose information in a type change, break a view, leave an INVALID index, cascade a
quarantine into other tables, rewrite rows a downgrade cannot tell apart, wait on locks
without a timeout, drop data written since, accept nonsense timeouts, leave a revision behind
on a read-only server, trip over a user's own version table, or remove a revision it did not
write."""

from __future__ import annotations

import ast
import re
import threading
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from conftest import execute, lock_held, query, run_cli
from test_fix import COMBINED, COMBINED_DRIFT, _fix, _revisions
from test_fix_convergence import (
    checksums,
    downgrade,
    edit,
    findings,
    function_of,
    raises_not_implemented,
)
from test_roundtrip import snapshot

pytestmark = pytest.mark.db


def _prepare(
    url: str,
    tmp_path: Path,
    schema: str,
    drift: str = "",
    lock: tuple[tuple[str, str], ...] = (),
) -> Path:
    """`schema` built, its lock snapshotted (then edited), the drift injected."""
    execute(url, schema)
    path = tmp_path / "schema_lock.yaml"
    text = snapshot(url, path)
    if lock:
        path.write_text(edit(text, *lock), encoding="utf-8")
    if drift:
        execute(url, drift)
    return path


def _nothing_written(migrations: Path) -> bool:
    return not migrations.exists() or _revisions(migrations) == []


# --- lock expressions stay in their slot ---------------------------------------------------

VICTIMS = """
CREATE TABLE victims (id int PRIMARY KEY);
INSERT INTO victims VALUES (1);
CREATE TABLE t (id int PRIMARY KEY, q int DEFAULT 0, a text);
INSERT INTO t VALUES (1, 3, 'x'), (2, 0, NULL);
"""
T_COLUMNS = "      a: {type: text}\n"


INJECTIONS = {
    "default": ("      q: {type: integer, default: '0'}\n", "default: '0; DROP TABLE victims'"),
    "check": (T_COLUMNS, "checks: {q_ok: 'q >= 0) NOT VALID; DROP TABLE victims; --'}"),
    "index-key": (T_COLUMNS, "indexes: {t_a_idx: {columns: ['a); DROP TABLE victims; --']}}"),
    "index-predicate": (
        T_COLUMNS,
        "indexes: {t_a_idx: {columns: [a], where: 'true; DROP TABLE victims'}}",
    ),
}


def _injected(kind: str) -> tuple[str, str]:
    """The lock edit: the default replaced, or a check or index added to table t."""
    line, text = INJECTIONS[kind]
    if kind == "default":
        return line, "      q: {type: integer, " + text + "}\n"
    return line, line + "    " + text + "\n"


@pytest.mark.parametrize("kind", sorted(INJECTIONS))
def test_lock_expressions_never_run_beyond_their_slot(
    database: str, tmp_path: Path, kind: str
) -> None:
    lock = _prepare(database, tmp_path, VICTIMS, lock=(_injected(kind),))
    lint = run_cli("lint", "--lock", str(lock))
    assert "invalid-expression" in lint.stdout, lint.stdout
    assert lint.exit_code != 0
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert query(database, "SELECT id FROM victims") == [(1,)]
    assert result.exit_code == 2, result.stdout + result.stderr
    assert _nothing_written(migrations)


def test_a_default_ending_in_a_comment_renders_safely(database: str, tmp_path: Path) -> None:
    """`0 -- trailing` parses as one expression; spliced as written into CREATE TABLE, the
    comment would swallow the rest of its line."""
    lock = _prepare(
        database,
        tmp_path,
        VICTIMS + "CREATE TABLE t2 (q int DEFAULT 0, r text NOT NULL DEFAULT 'x');",
        drift="DROP TABLE t2",
        lock=(
            (
                "  t2:\n    columns:\n      q: {type: integer, default: '0'}",
                "  t2:\n    columns:\n      q: {type: integer, default: '0 -- trailing'}",
            ),
        ),
    )
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert query(database, "SELECT id FROM victims") == [(1,)]
    if result.exit_code == 2:  # refused as an invalid lock: fine, if nothing was written
        assert _nothing_written(migrations), result.stderr
        return
    assert result.exit_code == 0, result.stdout + result.stderr
    assert findings(database, lock) == []
    assert query(
        database,
        "SELECT column_name, column_default FROM information_schema.columns "
        "WHERE table_name = 't2' ORDER BY ordinal_position",
    ) == [("q", "0"), ("r", "'x'::text")]


# --- lossless type changes only ------------------------------------------------------------

# (lock type, live type, a lossy value, lossless values): SQL literals.
CONVERSIONS = {
    "text-to-varchar(5)": ("varchar(5)", "text", "'ABCDEFGHIJ'", ["'ABC'", "'ABCDE'"]),
    "numeric(10,4)-to-numeric(10,2)": (
        "numeric(10,2)", "numeric(10,4)", "12.3456", ["12.34", "0.5"],
    ),
    "timestamp(6)-to-timestamp(0)": (
        "timestamp(0)", "timestamp(6)", "'2026-03-01 10:00:00.250001'",
        ["'2026-03-01 10:00:00'", "'2026-03-01 23:59:59'"],
    ),
    "integer-to-smallint": ("smallint", "integer", "100000", ["7", "-32768"]),
    "text-to-char(5)": ("character(5)", "text", "'abcdefg'", ["'abcde'", "'ab'"]),
    "text-to-bit(3)": ("bit(3)", "text", "'1011'", ["'101'", "'010'"]),
    "text-to-integer": ("integer", "text", "'abc'", ["'42'", "'-7'"]),
    "text-to-uuid": (
        "uuid", "text", "'n/a'",
        ["'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12}'"],
    ),
}  # fmt: skip


def _converted(url: str, tmp_path: Path, conversion: str, values: list[str]) -> Path:
    wanted, live, _, _ = CONVERSIONS[conversion]
    rows = ", ".join(f"({n}, {value})" for n, value in enumerate(values, start=1))
    return _prepare(
        url,
        tmp_path,
        f"CREATE TABLE conv (id int PRIMARY KEY, v {wanted})",
        drift=f"ALTER TABLE conv ALTER COLUMN v TYPE {live} USING v::text::{live};"
        f" INSERT INTO conv VALUES {rows}",
    )


@pytest.mark.parametrize("conversion", sorted(CONVERSIONS))
def test_a_type_change_that_would_lose_information_is_refused(
    database: str, tmp_path: Path, conversion: str
) -> None:
    """Proven on the values, not on input validity alone (pg_input_is_valid accepts values
    a cast rounds or truncates, and PostgreSQL 15 has no pg_input_is_valid)."""
    _, _, lossy, lossless = CONVERSIONS[conversion]
    lock = _converted(database, tmp_path, conversion, [lossless[0], lossy])
    before = checksums(database)
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert re.search(r"\b1 rows?\b", result.stderr), result.stderr
    assert re.search(r"keys?: 2\b", result.stderr), result.stderr
    assert _nothing_written(migrations)
    assert checksums(database) == before


def test_a_conversion_no_predicate_covers_is_proven_by_converting(
    database: str, tmp_path: Path
) -> None:
    """text to date: before PostgreSQL 16 no predicate says what reads as a date, so the proof
    converts every value, read-only, and a failure refuses with the server's own words."""
    lock = _prepare(
        database,
        tmp_path,
        "CREATE TABLE conv (id int PRIMARY KEY, v date)",
        drift="ALTER TABLE conv ALTER COLUMN v TYPE text;"
        " INSERT INTO conv VALUES (1, '2026-01-02'), (2, 'soon')",
    )
    before = checksums(database)
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert "public.conv.v to date: values that do not convert" in result.stderr
    [version] = query(database, "SELECT current_setting('server_version_num')::int")
    if int(str(version[0])) >= 160000:
        assert "1 row (keys: 2)" in result.stderr, result.stderr
    else:
        assert '"soon"' in result.stderr, result.stderr  # PostgreSQL's message names it
    assert _nothing_written(migrations)
    assert checksums(database) == before


@pytest.mark.parametrize("conversion", sorted(CONVERSIONS))
def test_a_lossless_type_change_applies_and_converges(
    database: str, tmp_path: Path, conversion: str
) -> None:
    wanted, _, _, lossless = CONVERSIONS[conversion]
    lock = _converted(database, tmp_path, conversion, lossless)
    expected = query(database, f"SELECT id, v::{wanted}::text FROM conv ORDER BY id")
    result = _fix(database, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert findings(database, lock) == []
    assert query(database, "SELECT id, v::text FROM conv ORDER BY id") == expected


def test_a_retyped_column_a_view_depends_on_is_converted_around_the_view(
    database: str, tmp_path: Path
) -> None:
    """PostgreSQL refuses to change the type of a column a view reads: the view (one the lock
    does not list) is dropped before the conversion and created again after, as it was, its
    rows unchanged; the hazard says so."""
    lock = _prepare(
        database,
        tmp_path,
        "CREATE TABLE t (id int PRIMARY KEY, v varchar(100))",
        drift="ALTER TABLE t ALTER COLUMN v TYPE varchar(50);"
        " INSERT INTO t VALUES (1, 'short'), (2, NULL);"
        " CREATE VIEW short_values AS SELECT id, v FROM t",
    )
    result = _fix(database, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "view public.short_values is absent while the migration runs" in result.stdout
    assert query(
        database,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'short_values'::regclass AND attname = 'v'",
    ) == [("character varying(100)",)]
    assert query(database, "SELECT id, v FROM short_values ORDER BY id") == [
        (1, "short"),
        (2, None),
    ]


def test_a_unique_expression_index_over_duplicates_is_refused(
    database: str, tmp_path: Path
) -> None:
    lock = _prepare(
        database,
        tmp_path,
        "CREATE TABLE users (id int PRIMARY KEY, email text);"
        " CREATE UNIQUE INDEX users_email_key ON users (lower(email))",
        drift="DROP INDEX users_email_key;"
        " INSERT INTO users VALUES (1, 'Ann@acme.io'), (2, 'ann@acme.io'), (3, 'bob@acme.io'),"
        " (4, 'BOB@acme.io'), (5, 'cy@acme.io'), (6, NULL), (7, NULL)",
    )
    result = _fix(database, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert "2 keys held by more than one row" in result.stderr, result.stderr  # ann, bob
    assert query(database, "SELECT count(*) FROM pg_index WHERE NOT indisvalid") == [(0,)]


# --- orphans quarantined -------------------------------------------------------------------

ORPHANS = """
CREATE TABLE parent (id int PRIMARY KEY, name text);
CREATE TABLE child (id {key} PRIMARY KEY, parent_id int, price numeric(8, 2), qty int{generated});
INSERT INTO parent VALUES (1, 'kept');
INSERT INTO child ({columns}) VALUES {rows};
"""
REFERENCE = (
    "      parent_id: {type: integer}",
    "      parent_id: {type: integer, references: parent.id}",
)


def _with_receipts(children: str, receipts: str) -> str:
    """ORPHANS' child rows, and receipts pointing at them ON DELETE CASCADE."""
    return ORPHANS.format(
        key="int", generated="", columns="id, parent_id, price, qty", rows=children
    ) + (
        "CREATE TABLE receipts (id int PRIMARY KEY,"
        " child_id int REFERENCES child (id) ON DELETE CASCADE);"
        f" INSERT INTO receipts VALUES {receipts};"
    )


def test_quarantine_refuses_orphans_other_rows_cascade_from(database: str, tmp_path: Path) -> None:
    schema = _with_receipts(
        "(1, 1, 2.50, 4), (2, 7, 1.00, 1), (3, 8, NULL, NULL)",
        "(10, 1), (11, 2), (12, 2), (13, NULL)",
    )
    lock = _prepare(database, tmp_path, schema, lock=(REFERENCE,))
    before = checksums(database)
    result = _fix(database, lock, tmp_path / "migrations", "--apply", "--orphans", "quarantine")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert "receipts" in result.stderr, result.stderr
    assert re.search(r"\b2\b", result.stderr), result.stderr
    assert checksums(database) == before


def test_the_revision_checks_again_what_quarantine_was_proven_against(
    database: str, tmp_path: Path
) -> None:
    """No row pointed at an orphan when fix planned; one does by the time the revision runs:
    its guard stops it (exit 5, refused, not an internal error) and nothing is moved."""
    from schemalock.errors import EXIT_REFUSED, Refused
    from schemalock.fix.command import run_upgrade

    schema = _with_receipts("(1, 1, 2.50, 4), (2, 7, 1.00, 1)", "(10, 1)")
    lock = _prepare(database, tmp_path, schema, lock=(REFERENCE,))
    migrations = tmp_path / "migrations"
    planned = _fix(database, lock, migrations, "--orphans", "quarantine")
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    execute(database, "INSERT INTO receipts VALUES (11, 2)")  # now it points at orphan 2
    before = checksums(database)
    with pytest.raises(Refused, match="stopped itself: rows of other tables point at") as err:
        run_upgrade(migrations, database)
    assert err.value.exit_code == EXIT_REFUSED
    assert checksums(database) == before


def test_a_column_of_a_checked_domain_is_declared_a_rewrite(database: str, tmp_path: Path) -> None:
    lock = _prepare(
        database,
        tmp_path,
        "CREATE DOMAIN percent AS integer CHECK (VALUE BETWEEN 0 AND 100);"
        " CREATE TABLE scores (id int PRIMARY KEY); INSERT INTO scores VALUES (1), (2);",
        lock=(
            (
                "      id: {type: integer, primary_key: true}\n",
                "      id: {type: integer, primary_key: true}\n"
                "      share: {type: percent, nullable: false, default: 50}\n",
            ),
        ),
    )
    result = _fix(database, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "full rewrite of public.scores (its type percent is a domain with checks)" in (
        result.stdout
    )
    assert findings(database, lock) == []


def test_quarantine_of_rows_with_identity_and_generated_columns_is_undone(
    database: str, tmp_path: Path
) -> None:
    schema = ORPHANS.format(
        key="bigint GENERATED ALWAYS AS IDENTITY",
        generated=", total numeric GENERATED ALWAYS AS (price * qty) STORED",
        columns="parent_id, price, qty",
        rows="(1, 2.50, 4), (7, 1.00, 1), (8, NULL, NULL), (NULL, 3.00, 2)",
    )
    lock = _prepare(database, tmp_path, schema, lock=(REFERENCE,))
    before = checksums(database)
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply", "--orphans", "quarantine")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert query(database, "SELECT id FROM child ORDER BY id") == [(1,), (4,)]
    assert query(database, "SELECT count(*) FROM schemalock_quarantine") == [(2,)]
    assert [f["rule"] for f in findings(database, lock)] == ["extra-table"]
    [revision] = _revisions(migrations)
    assert not raises_not_implemented(revision)
    downgrade(migrations, database)
    assert checksums(database) == before
    assert query(database, "SELECT count(*) FROM schemalock_quarantine") == [(0,)]


KEYS = {
    "immediate": "",
    "deferrable-initially-immediate": " DEFERRABLE",
    "deferrable-initially-deferred": " DEFERRABLE INITIALLY DEFERRED",
}
FAMILY = """
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int PRIMARY KEY, parent_id int, note text);
CREATE INDEX child_parent_id_idx ON child (parent_id);
INSERT INTO parent VALUES (1), (2);
INSERT INTO child VALUES (1, 1, 'kept'), (2, 2, 'kept'), (3, NULL, 'no parent');
ALTER TABLE child ADD CONSTRAINT child_parent_fkey FOREIGN KEY (parent_id)
    REFERENCES parent (id){deferral};
"""
ORPHANED = (
    "ALTER TABLE child DROP CONSTRAINT child_parent_fkey;"
    " INSERT INTO child VALUES (4, 7, 'orphan'), (5, 8, 'orphan'), (6, 7, 'orphan')"
)


def _keys(url: str) -> list[tuple[object, ...]]:
    """The constraints of `child` as PostgreSQL prints them, validated or not."""
    return query(
        url,
        "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint"
        " WHERE conrelid = 'child'::regclass AND contype IN ('f', 'c') ORDER BY conname",
    )


def _family(url: str, tmp_path: Path, deferral: str) -> Path:
    """parent and child with their key in the lock; the key dropped and orphans written."""
    return _prepare(url, tmp_path, FAMILY.format(deferral=deferral), drift=ORPHANED)


@pytest.mark.parametrize("key", sorted(KEYS))
def test_the_downgrade_of_a_quarantine_puts_every_row_back(
    database: str, tmp_path: Path, key: str
) -> None:
    """`fix --apply`, `fix --apply --orphans quarantine`, `alembic downgrade -1`: before, the
    downgrade failed with ForeignKeyViolation (at once, or at COMMIT for a deferred key), the
    key having existed NOT VALID before the revision, and rows stayed in the quarantine.  Now
    the rows and the key come back as they were before the revision, deferral included; the
    next downgrade brings back the database the chain started from.  (Where the revision
    added the key itself, see the next test.)"""
    lock = _family(database, tmp_path, KEYS[key])
    original = (checksums(database), _keys(database))
    migrations = tmp_path / "migrations"
    first = _fix(database, lock, migrations, "--apply")
    assert first.exit_code == 0, first.stdout + first.stderr
    [(_, definition, validated)] = _keys(database)
    assert validated is False
    assert str(definition).endswith(f"{KEYS[key]} NOT VALID")
    before = (checksums(database), _keys(database))
    result = _fix(database, lock, migrations, "--apply", "--orphans", "quarantine")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert query(database, "SELECT count(*) FROM schemalock_quarantine") == [(3,)]
    assert [validated for _, _, validated in _keys(database)] == [True]
    downgrade(migrations, database)
    assert query(database, "SELECT count(*) FROM schemalock_quarantine") == [(0,)]
    assert (checksums(database), _keys(database)) == before
    downgrade(migrations, database)  # and the revision before it
    assert (checksums(database), _keys(database)) == original


@pytest.mark.parametrize("key", sorted(KEYS))
@pytest.mark.parametrize("chain", ["key-existed-not-valid", "key-added-by-the-revision"])
def test_the_downgrade_of_a_quarantine_relaxes_constraints_added_since(
    database: str, tmp_path: Path, key: str, chain: str
) -> None:
    """Whatever constraints exist when the downgrade runs: a check the orphans break, added
    after the upgrade, is dropped for the restore and added back NOT VALID; the key as it was
    before the revision (NOT VALID, or absent where the revision added it).  Every row is
    back.  Before: CheckViolation (or ForeignKeyViolation first), rows left in quarantine."""
    lock = _family(database, tmp_path, KEYS[key])
    migrations = tmp_path / "migrations"
    if chain == "key-existed-not-valid":
        assert _fix(database, lock, migrations, "--apply").exit_code == 0
    before = checksums(database)
    result = _fix(database, lock, migrations, "--apply", "--orphans", "quarantine")
    assert result.exit_code == 0, result.stdout + result.stderr
    execute(database, "ALTER TABLE child ADD CONSTRAINT child_parent_small CHECK (parent_id < 5)")
    downgrade(migrations, database)
    assert checksums(database) == before
    assert query(database, "SELECT count(*) FROM schemalock_quarantine") == [(0,)]
    kept = [("child_parent_fkey", False)] if chain == "key-existed-not-valid" else []
    assert [(name, validated) for name, _, validated in _keys(database)] == [
        *kept,
        ("child_parent_small", False),
    ]
    with pytest.raises(psycopg.errors.CheckViolation):  # new rows are checked again
        execute(database, "INSERT INTO child VALUES (9, 6, 'new')")


# --- the mapping of miswired references ----------------------------------------------------


def test_the_downgrade_of_a_mapping_refuses_to_guess(database: str, tmp_path: Path) -> None:
    lock = _prepare(
        database,
        tmp_path,
        "CREATE TABLE organizations (id uuid PRIMARY KEY, clerk_org_id text UNIQUE NOT NULL);"
        " CREATE TABLE jobs (id int PRIMARY KEY, org_id uuid REFERENCES organizations (id))",
        drift="ALTER TABLE jobs DROP CONSTRAINT jobs_org_id_fkey;"
        " ALTER TABLE jobs ALTER COLUMN org_id TYPE text;"
        " INSERT INTO organizations VALUES ('11111111-1111-4111-8111-111111111111', 'org_2abc');"
        " INSERT INTO jobs VALUES (1, 'org_2abc'), (2, '11111111-1111-4111-8111-111111111111')",
    )
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    fixed = query(database, "SELECT id, org_id::text FROM jobs ORDER BY id")
    assert fixed == [(n, "11111111-1111-4111-8111-111111111111") for n in (1, 2)]
    [revision] = _revisions(migrations)
    assert raises_not_implemented(revision)
    with pytest.raises(NotImplementedError) as refused:
        downgrade(migrations, database)
    reason = str(refused.value)
    assert re.search(r"mapped", reason, re.IGNORECASE), reason
    assert re.search(r"cannot|can't", reason, re.IGNORECASE), reason
    assert query(database, "SELECT id, org_id::text FROM jobs ORDER BY id") == fixed


# --- downgrades: under lock_timeout, never dropping data written since -----------------------


def test_the_downgrade_runs_under_lock_timeout(database: str, tmp_path: Path) -> None:
    lock = _prepare(
        database,
        tmp_path,
        "CREATE TABLE t (id int PRIMARY KEY, a text); CREATE INDEX t_a_idx ON t (a);"
        " INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 50) AS g",
        drift="DROP INDEX t_a_idx",
    )
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply", "--lock-timeout", "1s")
    assert result.exit_code == 0, result.stdout + result.stderr
    [revision] = _revisions(migrations)
    assert "SET lock_timeout = '1s'" in ast.unparse(function_of(revision, "downgrade"))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            downgrade(migrations, database)
        except Exception as error:
            failure.append(error)

    worker = threading.Thread(target=run)
    with lock_held(database, "t"):
        started = time.monotonic()
        worker.start()
        worker.join(timeout=5)
        waited = time.monotonic() - started
    worker.join()
    assert waited < 5, "the downgrade waited for the lock"
    assert failure, "the downgrade did not fail"
    assert "lock timeout" in str(failure[0]), failure
    assert query(database, "SELECT to_regclass('t_a_idx') IS NOT NULL") == [(True,)]


@pytest.mark.parametrize(
    ("schema", "drift", "written", "still"),
    [
        pytest.param(
            "CREATE TABLE gadgets (id int PRIMARY KEY, note text)",
            "DROP TABLE gadgets",
            "INSERT INTO gadgets VALUES (1, 'made since')",
            "SELECT count(*) = 1 FROM gadgets",
            id="created-table-with-rows",
        ),
        pytest.param(
            "CREATE TABLE gadgets (id int PRIMARY KEY, note text);"
            " INSERT INTO gadgets VALUES (1, NULL), (2, NULL)",
            "ALTER TABLE gadgets DROP COLUMN note",
            "UPDATE gadgets SET note = 'written since' WHERE id = 2",
            "SELECT count(note) = 1 FROM gadgets",
            id="added-column-with-values",
        ),
        pytest.param(
            "CREATE TABLE gadgets (id int PRIMARY KEY, qty int NOT NULL DEFAULT 0);"
            " INSERT INTO gadgets VALUES (1, 0), (2, 0)",
            "ALTER TABLE gadgets DROP COLUMN qty",
            "UPDATE gadgets SET qty = 5 WHERE id = 2",
            "SELECT sum(qty) = 5 FROM gadgets",
            id="added-column-with-values-other-than-its-default",
        ),
    ],
)
def test_the_downgrade_never_drops_data_written_since(
    database: str, tmp_path: Path, schema: str, drift: str, written: str, still: str
) -> None:
    lock = _prepare(database, tmp_path, schema, drift=drift)
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    execute(database, written)
    # Refused by the revision (however it says so), naming what it will not drop.
    with pytest.raises(Exception, match="gadgets"):
        downgrade(migrations, database)
    assert query(database, still) == [(True,)]
    assert findings(database, lock) == []


# --- options --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        pytest.param(("--lock-timeout", "0"), id="no-lock-timeout"),
        pytest.param(
            ("--lock-timeout", "10min", "--step-timeout", "60s"), id="lock-not-the-smaller"
        ),
        pytest.param(("--lock-timeout", "soon"), id="unparsable"),
    ],
)
def test_timeouts_that_would_not_protect_are_refused(
    database: str, tmp_path: Path, options: tuple[str, ...]
) -> None:
    lock = _prepare(
        database,
        tmp_path,
        "CREATE TABLE t (id int PRIMARY KEY, a text); CREATE INDEX t_a_idx ON t (a)",
        drift="DROP INDEX t_a_idx",
    )
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, *options)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert _nothing_written(migrations)


# --- applying -------------------------------------------------------------------------------


def test_apply_on_a_read_only_database_leaves_no_revision(database: str, tmp_path: Path) -> None:
    lock = _prepare(
        database,
        tmp_path,
        "CREATE TABLE t (id int PRIMARY KEY, a text); CREATE INDEX t_a_idx ON t (a)",
        drift="DROP INDEX t_a_idx",
    )
    name = conninfo_to_dict(database)["dbname"]
    execute(database, f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert "read-only" in result.stderr
    assert _nothing_written(migrations)
    assert query(database, "SELECT to_regclass('t_a_idx') IS NULL") == [(True,)]


def test_a_user_environment_with_its_own_version_table(database: str, tmp_path: Path) -> None:
    from schemalock.fix import environment

    lock = _prepare(
        database,
        tmp_path,
        "CREATE TABLE t (id int PRIMARY KEY, a text); CREATE INDEX t_a_idx ON t (a)",
        drift="DROP INDEX t_a_idx",
    )
    migrations = environment.ensure(tmp_path / "migrations")
    env = migrations / "env.py"
    env.write_text(
        edit(
            env.read_text(encoding="utf-8"),
            (
                "context.configure(connection=connection, transaction_per_migration=True)",
                "context.configure(connection=connection, transaction_per_migration=True, "
                "version_table='my_versions')",
            ),
        ),
        encoding="utf-8",
    )
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert query(database, "SELECT count(*) FROM my_versions") == [(1,)]
    again = _fix(database, lock, migrations)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "nothing to repair" in again.stdout
    assert len(_revisions(migrations)) == 1


def _base_revision(migrations: Path) -> None:
    (migrations / "versions" / "0001_base.py").write_text(
        '"""base"""\nfrom alembic import op\n\nrevision = "0001"\ndown_revision = None\n'
        "branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n"
        '    op.execute("CREATE TABLE t (id int PRIMARY KEY, a text)")\n'
        '    op.execute("CREATE INDEX t_a_idx ON t (a)")\n\n\n'
        'def downgrade():\n    op.execute("DROP TABLE t")\n',
        encoding="utf-8",
    )


def _planned_unapplied(database: str, tmp_path: Path) -> tuple[Path, Path, Path]:
    """A history with an applied base revision, and a fix planned on it but not applied."""
    from alembic import command

    from schemalock.fix import environment

    migrations = environment.ensure(tmp_path / "migrations")
    _base_revision(migrations)
    command.upgrade(environment.config(migrations, database), "head")
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, "DROP INDEX t_a_idx")
    planned = _fix(database, lock, migrations)
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    [written] = [p for p in _revisions(migrations) if p.name != "0001_base.py"]
    return lock, migrations, written


def test_fix_refuses_to_plan_over_an_unapplied_revision(database: str, tmp_path: Path) -> None:
    lock, migrations, written = _planned_unapplied(database, tmp_path)
    again = _fix(database, lock, migrations)
    assert again.exit_code == 5
    assert "not applied" in again.stderr
    assert written.exists()
    assert len(_revisions(migrations)) == 2


def _down_revision(path: Path) -> object:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "down_revision"
            and node.value is not None
        ):
            return ast.literal_eval(node.value)
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "down_revision":
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path} has no down_revision")


def test_replace_rewrites_an_unapplied_schemalock_revision(database: str, tmp_path: Path) -> None:
    lock, migrations, written = _planned_unapplied(database, tmp_path)
    result = _fix(database, lock, migrations, "--replace", "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert not written.exists()
    [fresh] = [p for p in _revisions(migrations) if p.name != "0001_base.py"]
    assert _down_revision(fresh) == "0001"
    assert findings(database, lock) == []
    assert "nothing to repair" in _fix(database, lock, migrations).stdout


def test_replace_never_removes_a_hand_written_revision(database: str, tmp_path: Path) -> None:
    from schemalock.fix import environment

    execute(database, "CREATE TABLE t (id int PRIMARY KEY, a text); CREATE INDEX t_a_idx ON t (a)")
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, "DROP INDEX t_a_idx")
    migrations = environment.ensure(tmp_path / "migrations")
    (migrations / "versions" / "0001_hand.py").write_text(
        '"""by hand"""\nfrom alembic import op\n\nrevision = "0001"\ndown_revision = None\n'
        "branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n"
        '    op.execute("CREATE INDEX t_a_idx ON t (a)")\n\n\n'
        'def downgrade():\n    op.execute("DROP INDEX t_a_idx")\n',
        encoding="utf-8",
    )
    result = _fix(database, lock, migrations, "--replace")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert [p.name for p in _revisions(migrations)] == ["0001_hand.py"]


# --- every revision's functions start under timeouts ---------------------------------------

_SETTING = re.compile(r"^\s*SET\s+(LOCAL\s+)?(lock_timeout|statement_timeout)\b", re.IGNORECASE)


def _leading_settings(function: ast.FunctionDef) -> set[str] | None:
    """The timeouts set before the function's first statement that does something else (the
    fingerprint check aside); None if it raises NotImplementedError first."""
    seen: set[str] = set()
    for node in function.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.Raise):
            return None if "NotImplementedError" in ast.unparse(node) else seen
        call = node.value if isinstance(node, ast.Expr) else None
        if not (isinstance(call, ast.Call) and ast.unparse(call.func) == "op.execute"):
            return seen
        argument = call.args[0] if call.args else None
        text = argument.value if isinstance(argument, ast.Constant) else None
        if not isinstance(text, str):
            return seen
        if text.startswith("DO $schemalock_fingerprint"):
            continue
        setting = _SETTING.match(text)
        if setting is None:
            return seen
        seen.add(setting.group(2).lower())
    return seen


REVISIONS = {
    # indexes, a foreign key, unique and check constraints, a type, a default, NOT NULL
    "combined": (COMBINED, COMBINED_DRIFT),
    # a created table and an added column, whose downgrade checks for rows first
    "created": (
        "CREATE TABLE gadgets (id int PRIMARY KEY, note text);"
        " CREATE TABLE parts (id int PRIMARY KEY, qty int NOT NULL DEFAULT 0)",
        "DROP TABLE gadgets; ALTER TABLE parts DROP COLUMN qty",
    ),
}


def _revision_of(database: str, tmp_path: Path, kind: str) -> Path:
    schema, drift = REVISIONS[kind]
    lock = _prepare(database, tmp_path, schema, drift=drift)
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations)
    assert result.exit_code == 0, result.stdout + result.stderr
    [revision] = _revisions(migrations)
    return revision


@pytest.mark.parametrize("kind", sorted(REVISIONS))
@pytest.mark.parametrize(
    "function",
    [
        "upgrade",
        "downgrade",
    ],
)
def test_every_revision_function_starts_under_timeouts(
    database: str, tmp_path: Path, function: str, kind: str
) -> None:
    revision = _revision_of(database, tmp_path, kind)
    settings = _leading_settings(function_of(revision, function))
    assert settings is None or settings == {"lock_timeout", "statement_timeout"}, settings
    assert settings is not None, "this revision's downgrade can be run: it must set them"
