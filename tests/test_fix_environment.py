"""The migrations environment `schemalock fix` writes into, and the guards around applying, on a
real PostgreSQL: ensure() on every kind of folder, Alembic upgrades online and offline (and from
its command line), the advisory lock, read-only and pooler targets refused, and the schema
fingerprint that a revision checks before it changes anything."""

from __future__ import annotations

import ast
import contextlib
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from psycopg import sql
from psycopg.pq import TransactionStatus
from sqlalchemy import text
from sqlalchemy.engine import make_url

from conftest import ROOT, as_role, execute, query
from schemalock import db
from schemalock.errors import EXIT_REFUSED, Refused, UsageError
from schemalock.fix import environment, guards
from test_safety import _as_url

pytestmark = pytest.mark.db

TEMPLATES = ROOT / "src" / "schemalock" / "fix" / "templates"
ENV_FILES = ["README", "alembic.ini", "env.py", "script.py.mako", "versions/.gitkeep"]


def _files(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _revision(env: Path, rev: str, down: str | None, body: str) -> None:
    """A hand-written revision; `body` is upgrade()'s code, one statement per line."""
    code = "\n".join(f"    {line}" for line in body.strip().splitlines())
    (env / "versions" / f"{rev}_test.py").write_text(
        f"from alembic import op\n\nrevision = {rev!r}\ndown_revision = {down!r}\n"
        f"branch_labels = None\ndepends_on = None\n\n\ndef upgrade() -> None:\n{code}\n\n\n"
        "def downgrade() -> None:\n    pass\n",
        encoding="utf-8",
    )


def _advisory_locks(url: str) -> list[tuple[object, ...]]:
    """Advisory locks held in this test's database: pg_locks is server-wide, and another run
    on the same server (a `fix --apply` elsewhere) holds locks of its own databases."""
    return query(
        url,
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory'"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )


def _tables(url: str) -> set[object]:
    return {row[0] for row in query(url, "SELECT relname FROM pg_class WHERE relkind = 'r'")}


@contextmanager
def _connection(url: str, autocommit: bool = True) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(url, autocommit=autocommit) as connection:
        yield connection


# --- ensure() -----------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["missing", "empty"])
def test_ensure_creates_a_fresh_environment(tmp_path: Path, state: str) -> None:
    target = tmp_path / "a" / "migrations"
    if state == "empty":
        target.mkdir(parents=True)
    assert environment.ensure(target) == target
    assert sorted(_files(target)) == ENV_FILES
    assert _files(target) == _files(TEMPLATES)
    assert environment.head(target) is None


def test_ensure_leaves_existing_environments_alone(tmp_path: Path) -> None:
    ours = environment.ensure(tmp_path / "ours")
    (ours / "env.py").write_text("# edited by a person\n", encoding="utf-8")
    generic = tmp_path / "generic"
    command.init(Config(str(tmp_path / "elsewhere.ini")), str(generic))  # no ini inside
    for env in (ours, generic):
        before = _files(env)
        assert environment.ensure(env) == env
        assert _files(env) == before


def test_ensure_follows_an_alembic_ini_to_its_scripts(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    command.init(Config(str(project / "alembic.ini")), str(project / "db"))
    before = _files(project)
    assert environment.ensure(project) == project / "db"
    assert _files(project) == before


@pytest.mark.parametrize("case", ["other files", "a file", "ini naming nothing usable"])
def test_ensure_refuses_what_is_not_an_environment(tmp_path: Path, case: str) -> None:
    target = tmp_path / "target"
    if case == "a file":
        target.write_text("x", encoding="utf-8")
    else:
        target.mkdir()
        (target / "notes.txt").write_text("mine", encoding="utf-8")
    if case == "ini naming nothing usable":
        (target / "alembic.ini").write_text("[alembic]\nscript_location = gone\n", "utf-8")
    with pytest.raises(UsageError) as raised:
        environment.ensure(target)
    message = str(raised.value)
    assert str(target) in message
    assert "\n" not in message
    if case != "a file":
        assert sorted(path.name for path in target.iterdir()) == sorted(
            ["notes.txt", "alembic.ini"] if case.startswith("ini") else ["notes.txt"]
        )


def test_the_repository_migrations_folder_is_the_templates() -> None:
    assert _files(ROOT / "migrations") == _files(TEMPLATES)
    assert environment.head(ROOT / "migrations") is None


def test_head_names_several_heads(tmp_path: Path) -> None:
    env = environment.ensure(tmp_path / "m")
    _revision(env, "aaa1", None, "pass")
    _revision(env, "bbb2", None, "pass")
    with pytest.raises(UsageError, match=r"2 heads \(aaa1, bbb2\)"):
        environment.head(env)


def test_new_revisions_import_once(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    env = environment.ensure(tmp_path / "m")
    script = ScriptDirectory(str(env)).generate_revision(
        "c0ffee", "x", imports="from sqlalchemy.dialects import postgresql\nimport json"
    )
    assert script is not None
    source = Path(script.path).read_text("utf-8")
    assert source.count("from sqlalchemy.dialects import postgresql") == 1
    assert "\nimport json\n" in source
    compile(source, script.path, "exec")


# --- Alembic online and offline -----------------------------------------------------------


def test_upgrade_with_no_revisions(database: str, tmp_path: Path) -> None:
    env = environment.ensure(tmp_path / "m")
    command.upgrade(environment.config(env, database), "head")
    with _connection(database, autocommit=False) as connection:
        assert environment.applied(connection) is None
    assert _advisory_locks(database) == []


# After CREATE INDEX CONCURRENTLY in autocommit_block() (which commits), the session still
# holds the advisory lock: a transaction-level lock would be gone.
_STILL_LOCKED = (
    "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory'"
    " AND pid = pg_backend_pid() AND objid = 1051219134) THEN"
    " RAISE EXCEPTION 'lock lost'; END IF; END $$"
)


@pytest.mark.parametrize("form", ["keywords", "postgres://", "postgresql+psycopg://"])
def test_upgrade_applies_a_revision_holding_the_lock_throughout(
    database: str, tmp_path: Path, form: str
) -> None:
    env = environment.ensure(tmp_path / "m")
    _revision(
        env,
        "0001",
        None,
        f"""
op.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
with op.get_context().autocommit_block():
    op.execute("CREATE INDEX CONCURRENTLY t_v ON t (v)")
op.execute({_STILL_LOCKED!r})
""",
    )
    url = database
    if form != "keywords":
        url = _as_url(database, scheme=form.removesuffix("://"))
    command.upgrade(environment.config(env, url), "head")
    assert "t" in _tables(database)
    assert query(database, "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_v'::regclass")
    assert environment.head(env) == "0001"
    with _connection(database, autocommit=False) as connection:
        assert environment.applied(connection) == "0001"
        assert connection.info.transaction_status == TransactionStatus.IDLE  # left as found
    assert _advisory_locks(database) == []  # released


def test_offline_sql_needs_no_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("DATABASE_URL", "SCHEMALOCK_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    env = environment.ensure(tmp_path / "m")
    check = guards.fingerprint_check_sql(["public", "odd :name"], "0" * 64)
    _revision(env, "0001", None, f"op.execute({check!r})\nop.execute('CREATE TABLE t (id int)')")
    command.upgrade(environment.config(env), "head", sql=True)
    out = capsys.readouterr().out
    assert (
        out.index("BEGIN;")
        < out.index("DO $schemalock_fingerprint$")
        < out.index("CREATE TABLE t (id int);")
    )
    assert "INSERT INTO alembic_version (version_num) VALUES ('0001')" in out
    assert out.rstrip().endswith("COMMIT;")


def test_alembic_command_line(database: str, tmp_path: Path) -> None:
    env = environment.ensure(tmp_path / "m")
    _revision(env, "0001", None, "op.execute('CREATE TABLE t (id int)')")
    alembic = [sys.executable, "-m", "alembic", "-c", str(env / "alembic.ini")]
    clean = {"PATH": "/usr/bin:/bin"}

    def run(*args: str, env_vars: dict[str, str] = clean) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*alembic, *args], capture_output=True, text=True, env=env_vars, cwd=tmp_path
        )

    missing = run("upgrade", "head")
    assert missing.returncode != 0
    assert "no database: pass -x database_url=... or set DATABASE_URL" in missing.stderr
    offline = run("upgrade", "head", "--sql")
    assert offline.returncode == 0
    assert "CREATE TABLE t (id int);" in offline.stdout
    applied = run("-x", f"database_url={database}", "upgrade", "head")
    assert applied.returncode == 0, applied.stderr
    assert "Running upgrade  -> 0001" in applied.stderr
    assert "t" in _tables(database)
    again = run("current", env_vars={**clean, "DATABASE_URL": _as_url(database)})
    assert again.returncode == 0
    assert "0001 (head)" in again.stdout


def test_an_environment_of_your_own_gets_the_url_as_sqlalchemy_url(
    database: str, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    command.init(Config(str(project / "alembic.ini")), str(project / "db"))
    scripts = environment.ensure(project)
    _revision(scripts, "0001", None, "op.execute('CREATE TABLE mine (id int)')")
    command.upgrade(environment.config(project, database), "head")
    assert "mine" in _tables(database)
    # The URL survives configparser's % interpolation and SQLAlchemy's parsing.
    config = environment.config(project, "postgresql://app:p%25w%40rd@db.example.com:5433/x")
    url = make_url(str(config.get_main_option("sqlalchemy.url")))
    assert (url.drivername, url.password, url.query["host"], url.query["port"]) == (
        "postgresql+psycopg",
        "p%w@rd",
        "db.example.com",
        "5433",
    )


# --- the guards ---------------------------------------------------------------------------


def test_a_second_run_is_refused_while_another_session_holds_the_lock(
    database: str, tmp_path: Path
) -> None:
    env = environment.ensure(tmp_path / "m")
    _revision(env, "0001", None, "op.execute('CREATE TABLE t (id int)')")
    with _connection(database) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (guards.LOCK_KEY,))
        pid = holder.info.backend_pid
        with pytest.raises(CommandError, match=rf"another migration is running \(session {pid} "):
            command.upgrade(environment.config(env, database), "head")
        assert "t" not in _tables(database)
        with _connection(database, autocommit=False) as other:
            with pytest.raises(Refused) as refused, guards.advisory_lock(other):
                pass
            assert refused.value.exit_code == EXIT_REFUSED
            assert f"session {pid} holds advisory lock {guards.LOCK_KEY}" in str(refused.value)
            assert other.info.transaction_status == TransactionStatus.IDLE
    command.upgrade(environment.config(env, database), "head")  # the holder has gone
    assert "t" in _tables(database)


def test_schemalock_holding_the_lock_hands_it_to_env_py(database: str, tmp_path: Path) -> None:
    env = environment.ensure(tmp_path / "m")
    _revision(env, "0001", None, "op.execute('CREATE TABLE t (id int)')")
    made_outside = environment.config(env, database)  # names no holder
    connection = db.connect(database, "fix")  # read-only transactions, as fix connects
    try:
        with guards.advisory_lock(connection):
            assert guards.lock_holder() == connection.info.backend_pid
            with pytest.raises(CommandError, match="another migration is running"):
                command.upgrade(made_outside, "head")
            command.upgrade(environment.config(env, database), "head")
        assert guards.lock_holder() is None
    finally:
        connection.close()
    assert "t" in _tables(database)
    assert _advisory_locks(database) == []


@pytest.mark.parametrize("where", ["database", "role"])
def test_a_read_only_target_is_refused(database: str, tmp_path: Path, where: str) -> None:
    env = environment.ensure(tmp_path / "m")
    _revision(env, "0001", None, "op.execute('CREATE TABLE t (id int)')")
    with _connection(database) as connection:
        guards.refuse_unsafe_target(database, connection)  # writable: nothing to refuse
    [(name,)] = query(database, "SELECT current_database()")
    setting = "SET default_transaction_read_only = on"
    with contextlib.ExitStack() as stack:
        if where == "database":
            execute(database, f"ALTER DATABASE {sql.Identifier(str(name)).as_string()} {setting}")
            target = database
        else:
            target = stack.enter_context(as_role(database, f"ALTER ROLE {{role}} {setting}"))
        _refused_as_read_only(env, target)
    assert "t" not in _tables(database)


def _refused_as_read_only(env: Path, target: str) -> None:
    expected = "the server is read-only here (default_transaction_read_only = on)"
    with pytest.raises(CommandError, match=f"^refusing to migrate: {re.escape(expected)}"):
        command.upgrade(environment.config(env, target), "head")
    connection = db.connect(target, "fix")
    try:
        with pytest.raises(Refused, match=f"^refusing to migrate: {re.escape(expected)}$"):
            guards.refuse_unsafe_target(target, connection)
    finally:
        connection.close()


POOLED = [
    ("postgresql://u:secretpw@ep-x-pooler.neon.tech/db", "host ep-x-pooler.neon.tech"),
    ("postgres://u:secretpw@EP-X-POOLER.us-east-2.aws.neon.tech/db?sslmode=require", "-pooler"),
    ("postgresql+psycopg://u:secretpw@db.example.com:6432/db", "port 6432 is PgBouncer's"),
    ("host=ep-x-pooler.neon.tech user=u password=secretpw dbname=db", "pooled endpoint"),
    ("postgresql://u:secretpw@a.example.com,b-pooler.example.com/db", "b-pooler.example.com"),
    ("postgresql://u:s3cret-pw@h-pooler-s3cret-pw.example.com/db", "h-pooler-***.example.com"),
]


@pytest.mark.parametrize(("url", "named"), POOLED)
def test_a_pooler_is_refused_before_connecting(tmp_path: Path, url: str, named: str) -> None:
    env = environment.ensure(tmp_path / "m")
    with pytest.raises(Refused) as refused:
        guards.refuse_pooler(url)
    with pytest.raises(CommandError) as from_env:
        command.upgrade(environment.config(env, url), "head")  # no DNS, no connection
    message = str(refused.value)
    assert message.startswith("refusing to migrate through a connection pooler: ")
    assert named in message
    assert "do not survive transaction pooling" in message
    assert "secretpw" not in message
    assert "s3cret-pw" not in message
    assert "\n" not in message
    assert str(from_env.value) == message  # the same rule, word for word


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:secretpw@ep-x-123456.us-east-2.aws.neon.tech/db",
        "postgresql://u:secretpw@db.example.com:5432/db",
        "host=/tmp dbname=db",
    ],
)
def test_a_direct_endpoint_is_not_a_pooler(url: str) -> None:
    assert guards.pooler_reason(url) is None


def test_a_malformed_url_is_refused_without_showing_it() -> None:
    with pytest.raises(Refused) as refused:
        guards.refuse_pooler("host=x password='secretpw")
    assert "secretpw" not in str(refused.value)


def test_env_py_states_the_same_rules_as_the_guards() -> None:
    """env.py is self-contained (a copy must run without schemalock): its constants are
    guards' to the character."""
    tree = ast.parse((TEMPLATES / "env.py").read_text("utf-8"))
    constants = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
    }
    shared = ["LOCK_KEY", "TRY_LOCK_SQL", "UNLOCK_SQL", "POOLER_HOST_MARK", "POOLER_PORT"]
    shared += ["BACKEND_PID_SQL", "NEON_HOST_SUFFIX"]
    shared += ["LOCK_HOLDER_SQL", "SERVER_REFUSAL_SQL"]
    for name in shared:
        assert constants[name] == getattr(guards, name), name
    import hashlib

    digest = hashlib.sha256(b"schemalock migrations").digest()
    assert int.from_bytes(digest[:8], "big") >> 1 == guards.LOCK_KEY
    assert f"classid = {guards.LOCK_KEY >> 32} AND l.objid = {guards.LOCK_KEY & 0xFFFFFFFF}" in (
        guards.LOCK_HOLDER_SQL
    )
    assert guards.LOCK_KEY_SQL in (TEMPLATES / "env.py").read_text("utf-8")
    assert not any(
        isinstance(node, ast.ImportFrom) and (node.module or "").startswith("schemalock")
        for node in ast.walk(tree)
    )


# --- the fingerprint ----------------------------------------------------------------------

SCHEMA = """
CREATE SCHEMA "Other Schema";
CREATE TYPE status AS ENUM ('new', 'done');
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE TABLE parent (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, code text UNIQUE);
CREATE TABLE child (
    id bigint PRIMARY KEY, parent_id int, status status DEFAULT 'new', qty positive,
    price numeric(10, 2), total numeric GENERATED ALWAYS AS (price * qty) STORED);
ALTER TABLE child ADD CONSTRAINT child_parent_fkey FOREIGN KEY (parent_id)
    REFERENCES parent (id) NOT VALID;
ALTER TABLE child ADD CONSTRAINT child_qty_small CHECK (qty < 100) NOT VALID;
CREATE INDEX child_status ON child (status) WHERE status <> 'done';
CREATE TABLE events (at timestamptz NOT NULL, n int) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE "Other Schema"."Odd ""Nm"" t" (x text);
CREATE SCHEMA elsewhere;
CREATE TABLE elsewhere.t (x int);
INSERT INTO parent (code) VALUES ('a');
"""
SCHEMAS = ["public", "Other Schema"]

CHANGES = {
    "add column": "ALTER TABLE child ADD COLUMN note text",
    "add index": "CREATE INDEX parent_code_lower ON parent (lower(code))",
    "drop index": "DROP INDEX child_status",
    "validate foreign key": "ALTER TABLE child VALIDATE CONSTRAINT child_parent_fkey",
    "validate check": "ALTER TABLE child VALIDATE CONSTRAINT child_qty_small",
    "set not null": "ALTER TABLE child ALTER COLUMN parent_id SET NOT NULL",
    "change default": "ALTER TABLE child ALTER COLUMN status SET DEFAULT 'done'",
    "change type": "ALTER TABLE parent ALTER COLUMN code TYPE varchar(20)",
    "add enum label": "ALTER TYPE status ADD VALUE 'late'",
    "domain check": "ALTER DOMAIN positive ADD CONSTRAINT small CHECK (VALUE < 10)",
    "new table": "CREATE TABLE added (id int)",
    "table in the other schema": 'ALTER TABLE "Other Schema"."Odd ""Nm"" t" ADD COLUMN y int',
    "partition key table gone": "DROP TABLE events",
    "identity dropped": "ALTER TABLE parent ALTER COLUMN id DROP IDENTITY",
}
NOT_CHANGES = {
    "rows": "INSERT INTO child (id, parent_id, qty) VALUES (1, 1, 5); UPDATE parent SET code = 'b'",
    "deleted rows": "DELETE FROM parent",
    "alembic_version": (
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);"
        "INSERT INTO alembic_version VALUES ('x')"
    ),
    "uncovered schema": "ALTER TABLE elsewhere.t ADD COLUMN y int",
    "new partition": (
        "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01')"
        " TO ('2028-01-01')"
    ),
    "statistics": "ANALYZE",
}


def _fingerprint(url: str, schemas: list[str] = SCHEMAS) -> str:
    with _connection(url) as connection:
        return guards.fingerprint(connection, schemas)


def test_fingerprint_and_its_check_agree(database: str) -> None:
    execute(database, SCHEMA)
    planned = _fingerprint(database)
    assert len(planned) == 64
    assert int(planned, 16) >= 0
    execute(database, guards.fingerprint_check_sql(SCHEMAS, planned))  # no exception
    with pytest.raises(psycopg.Error) as raised:
        execute(database, guards.fingerprint_check_sql(SCHEMAS, "0" * 64))
    assert raised.value.sqlstate == guards.CHANGED_SQLSTATE
    assert str(raised.value).startswith(guards.CHANGED_MESSAGE)
    assert raised.value.diag.message_detail == f"fingerprint planned {'0' * 64}, now {planned}"
    assert _fingerprint(database, ["public"]) != planned  # the schemas count
    # Read-only: inside schemalock's own READ ONLY transaction, leaving it open as found.
    connection = db.connect(database)
    try:
        with db.read_only(connection, db.Timeouts()) as conn:
            assert guards.fingerprint(conn, SCHEMAS) == planned
            assert conn.info.transaction_status == TransactionStatus.INTRANS
    finally:
        connection.close()


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_schema_change_fails_the_check(database: str, change: str) -> None:
    execute(database, SCHEMA)
    check = guards.fingerprint_check_sql(SCHEMAS, _fingerprint(database))
    execute(database, CHANGES[change])
    with pytest.raises(psycopg.Error, match=f"^{guards.CHANGED_MESSAGE}"):
        execute(database, check)


@pytest.mark.parametrize("change", sorted(NOT_CHANGES))
def test_data_and_uncovered_objects_do_not_count(database: str, change: str) -> None:
    execute(database, SCHEMA)
    planned = _fingerprint(database)
    execute(database, NOT_CHANGES[change])
    assert _fingerprint(database) == planned
    execute(database, guards.fingerprint_check_sql(SCHEMAS, planned))


AWKWARD = ["odd :name", "per%cent", "quote'\"s", "$schemalock_fingerprint$", "back\\slash"]


def test_the_check_runs_first_in_a_revision_whatever_the_schema_names(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in AWKWARD:
        execute(database, sql.SQL("CREATE SCHEMA {0}; CREATE TABLE {0}.t (x int)").format(
            sql.Identifier(name)).as_string())  # fmt: skip
    check = guards.fingerprint_check_sql(AWKWARD, _fingerprint(database, AWKWARD))
    assert text(check).compile().params == {}  # sqlalchemy.text() sees no bind parameter
    env = environment.ensure(tmp_path / "m")
    _revision(env, "0001", None, f"op.execute({check!r})\nop.execute('CREATE TABLE a (x int)')")
    command.upgrade(environment.config(env, database), "head", sql=True)
    assert check in capsys.readouterr().out  # offline, word for word
    command.upgrade(environment.config(env, database), "head")
    assert "a" in _tables(database)

    stale = guards.fingerprint_check_sql(AWKWARD, _fingerprint(database, AWKWARD))
    _revision(env, "0002", "0001", f"op.execute({stale!r})\nop.execute('CREATE TABLE b (x int)')")
    execute(database, sql.SQL("ALTER TABLE {}.t ADD COLUMN y int").format(
        sql.Identifier("odd :name")).as_string())  # fmt: skip
    with pytest.raises(Exception, match=guards.CHANGED_MESSAGE):
        command.upgrade(environment.config(env, database), "head")
    assert "b" not in _tables(database)  # nothing after the check ran
    with _connection(database) as connection:
        assert environment.applied(connection) == "0001"
    assert _advisory_locks(database) == []


def test_the_check_needs_a_fingerprint() -> None:
    with pytest.raises(ValueError, match="not a schema fingerprint"):
        guards.fingerprint_check_sql(["public"], "x'; DROP TABLE t; --")


def test_advisory_lock_survives_a_failed_transaction(database: str) -> None:
    """A block that leaves the caller's transaction failed still releases the lock."""
    connection = psycopg.connect(database)
    try:
        with guards.advisory_lock(connection), pytest.raises(psycopg.errors.DivisionByZero):
            connection.execute("SELECT 1 / 0")
        assert _advisory_locks(database) == []
    finally:
        connection.close()
