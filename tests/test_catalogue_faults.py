"""Catalogue cases D02-D20 (issue 9; research/reliability-anchors.md, section 3.D): timeouts
that are really in force, and faults (a killed connection or client, a deadlock, a slow server,
a value that arrives after the proof) that end a run honestly: inconclusive (exit 4) for a
read, "could not complete the migration" (exit 4) for `fix --apply`, with nothing half-applied
and nothing left running on the server.

No test here stops or kills a server process: a backend is ended with pg_terminate_backend(),
a client process with SIGKILL."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from conftest import as_role, execute, query, run_cli, url_as, write
from schemalock import db
from schemalock.errors import Inconclusive, SchemalockError
from test_catalogue_connections import forwarding, one_error_line, tcp_server
from test_fix import COMBINED, COMBINED_DRIFT, _fix, _revisions
from test_fix_convergence import checksums, findings
from test_fix_failures import _assert_incomplete
from test_fix_safety import _converted, _prepare

pytestmark = pytest.mark.db

RESUME = "`schemalock fix --replace --apply` plans again"


def _backend(url: str, condition: str, wait_s: float = 20) -> int:
    """The pid of another backend in this database matching `condition` (SQL on
    pg_stat_activity), once there is one."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        rows = query(
            url,
            "SELECT pid FROM pg_catalog.pg_stat_activity WHERE datname = current_database()"
            f" AND pid <> pg_backend_pid() AND {condition} LIMIT 1",
        )
        if rows:
            return int(str(rows[0][0]))
        time.sleep(0.02)
    raise AssertionError(f"no backend with {condition}")


@contextlib.contextmanager
def _in_thread(act: Callable[[], None]) -> Iterator[list[BaseException]]:
    """`act` runs in a thread for the length of the block; yields what it raised."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            act()
        except BaseException as error:
            raised.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        yield raised
    finally:
        worker.join()


@contextlib.contextmanager
def _holding(
    url: str, statement: str, *settings: str
) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """Another session inside a transaction that ran `settings` and `statement` (and holds its
    locks).  The server ends it after 30 s idle: should schemalock ever wait for it without a
    timeout, the test fails instead of hanging."""
    with psycopg.connect(url) as session:
        for setting in ("SET idle_in_transaction_session_timeout = '30s'", *settings):
            session.execute(setting)
        session.execute(statement)
        yield session
        with contextlib.suppress(psycopg.OperationalError):
            session.rollback()


# --- D02: the revision's statements run under their timeouts ---------------------------------

_SET = re.compile(r"^SET (lock_timeout|statement_timeout) = '([^']+)'$")
# Steps that scan or rewrite a whole table: under the long statement timeout.
_LONG = re.compile(r"^(CREATE (UNIQUE )?INDEX CONCURRENTLY|ALTER TABLE .* VALIDATE CONSTRAINT"
                   r"|ALTER TABLE .* ALTER COLUMN .* TYPE )")  # fmt: skip
_BOOKKEEPING = re.compile(r"^(CREATE TABLE|INSERT INTO|UPDATE|DELETE FROM) alembic_version\b")


def _kind(statement: str) -> str:
    """CONCURRENTLY (an index build), CONSTRAINT (VALIDATE), TYPE (a rewrite), or brief."""
    long = _LONG.match(statement)
    return long[1].split()[-1] if long else "brief"


def _offline_sql(migrations: Path, downgrade_from: str | None = None) -> list[str]:
    """The statements `alembic upgrade head --sql` (or `downgrade REV:base --sql`) prints."""
    from alembic import command

    from schemalock.fix import environment

    config = environment.config(migrations, log=False)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        if downgrade_from is None:
            command.upgrade(config, "head", sql=True)
        else:
            command.downgrade(config, f"{downgrade_from}:base", sql=True)
    text = printed.getvalue().split("-- Running ", 1)[1].split("\n", 1)[1]
    return [s.strip() for s in text.split(";\n\n") if s.strip()]


def _under_timeouts(statements: list[str]) -> list[tuple[str, str, str]]:
    """(statement's first line, lock_timeout, statement_timeout) in force for each statement
    that is not a SET, a transaction boundary or Alembic's own version bookkeeping.  A SET is
    the session's: it outlives the COMMIT Alembic makes around an autocommit block."""
    lock, statement, seen = "", "", []
    for text in statements:
        setting = _SET.match(text)
        if setting is not None:
            lock, statement = (
                (setting[2], statement) if setting[1] == "lock_timeout" else (lock, setting[2])
            )
        elif text not in ("BEGIN", "COMMIT") and not _BOOKKEEPING.match(text):
            seen.append((text.split("\n", 1)[0], lock, statement))
    return seen


def test_d02_every_statement_of_a_revision_runs_under_its_timeouts(
    database: str, tmp_path: Path
) -> None:
    """D02/E13: the revision for a drift of every kind, as `alembic upgrade --sql` prints it:
    its fingerprint check comes after the timeouts, and every statement runs under
    lock_timeout 1s; CREATE INDEX CONCURRENTLY, VALIDATE and the rewriting ALTER ... TYPE under
    the long statement timeout (7s), every other step under the step timeout (3s); the
    downgrade under 1s and 7s throughout.  (That such a lock_timeout is in force online:
    tests/test_fix_failures.py::test_a_lock_not_granted_in_time.)"""
    lock = _prepare(database, tmp_path, COMBINED, drift=COMBINED_DRIFT)
    migrations = tmp_path / "migrations"
    timeouts = ("--lock-timeout", "1s", "--step-timeout", "3s", "--long-timeout", "7s")
    planned = _fix(database, lock, migrations, *timeouts)
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    (fingerprint, *lock_timeouts), *steps = _under_timeouts(_offline_sql(migrations))
    assert fingerprint.startswith("DO $schemalock_fingerprint$"), fingerprint
    assert lock_timeouts == ["1s", "3s"]
    for statement, lock_timeout, statement_timeout in steps:
        wanted = "7s" if _LONG.match(statement) else "3s"
        assert (lock_timeout, statement_timeout) == ("1s", wanted), statement
    # The plan holds each kind: concurrent builds, VALIDATEs, a rewrite, and brief steps.
    kinds = {_kind(statement) for statement, _, _ in steps}
    assert kinds == {"CONCURRENTLY", "CONSTRAINT", "TYPE", "brief"}, steps
    [revision] = _revisions(migrations)
    undone = _under_timeouts(_offline_sql(migrations, revision.name.split("_")[0]))
    assert len(undone) >= 9, undone
    assert all((lock, statement) == ("1s", "7s") for _, lock, statement in undone), undone


# --- D04: a waiting migration holds the application's queries for lock_timeout at most ---------

_WAITING = "wait_event_type = 'Lock'"
_ALTER_WAITING = f"query LIKE 'ALTER TABLE%' AND {_WAITING}"
SCHEMA = (
    "CREATE TABLE t (id integer PRIMARY KEY, a integer DEFAULT 1); INSERT INTO t VALUES (1, 1);"
)


def test_d04_a_migration_waiting_for_a_lock_stalls_readers_for_lock_timeout_at_most(
    database: str, tmp_path: Path
) -> None:
    """D04: a long read holds t; `fix --apply` queues for ACCESS EXCLUSIVE behind it, and an
    application's SELECT queues behind the migration.  The migration gives up at its
    lock_timeout (2s), so the SELECT waits no longer than that: exit 4, schema unchanged."""
    lock = _prepare(database, tmp_path, SCHEMA, drift="ALTER TABLE t ALTER COLUMN a SET DEFAULT 2")
    seen: list[tuple[bool, float]] = []

    def application() -> None:
        """Once the migration waits: a SELECT, queued behind it; how long it stalled."""
        migration = _backend(database, _ALTER_WAITING)
        with psycopg.connect(database, autocommit=True) as app:

            def select() -> None:
                app.execute("SELECT count(*) FROM t")

            started = time.monotonic()
            with _in_thread(select) as failed:
                pid = _backend(database, f"pid = {app.info.backend_pid} AND {_WAITING}")
                blockers = query(database, "SELECT unnest(pg_blocking_pids(%s))", [pid])
            assert failed == []
            seen.append(((migration,) in blockers, time.monotonic() - started))

    with _holding(database, "SELECT count(*) FROM t"), _in_thread(application) as raised:
        code, stderr = _apply(database, lock, tmp_path, "--lock-timeout", "2s")
    assert raised == []
    _assert_incomplete(code, stderr, "a lock it needed was not granted within lock_timeout")
    [(behind_the_migration, stalled)] = seen
    assert behind_the_migration
    assert stalled < 2 + 2, stalled
    assert query(database, "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef") == [("2",)]


def _apply(url: str, lock: Path, tmp_path: Path, *options: str) -> tuple[int, str]:
    result = _fix(url, lock, tmp_path / "migrations", "--apply", *options)
    return result.exit_code, result.stderr


# --- D06 D08 D13: a read cut short ------------------------------------------------------------


def test_d06_a_frozen_client_s_transaction_is_ended_by_the_server(database: str) -> None:
    """D06: a client that stops inside its read-only transaction (frozen, suspended) is cut
    off by the server after idle_in_transaction_session_timeout, its locks and snapshot
    released; the client's next query is inconclusive, saying so."""

    class ShortIdle(db.Timeouts):
        @property
        def idle_ms(self) -> int:
            return 300

    execute(database, "CREATE TABLE t (id integer)")
    connection = db.connect(database)
    pid = connection.info.backend_pid

    def read_freeze_read() -> None:
        with db.read_only(connection, ShortIdle()) as conn:
            conn.execute("SELECT count(*) FROM public.t").fetchone()
            time.sleep(2)  # frozen, well past 300 ms
            conn.execute("SELECT count(*) FROM public.t").fetchone()

    try:
        with pytest.raises(Inconclusive, match="due to idle-in-transaction timeout") as lost:
            read_freeze_read()
    finally:
        connection.close()
    assert (lost.value.check, lost.value.exit_code) == ("introspection", 4)
    assert query(database, f"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}") == [(0,)]
    assert query(database, f"SELECT count(*) FROM pg_locks WHERE pid = {pid}") == [(0,)]


SLOW_CHILD = """
CREATE TABLE parent (id integer PRIMARY KEY);
CREATE TABLE child (id integer PRIMARY KEY, parent_id integer);
CREATE TABLE later (id integer PRIMARY KEY, parent_id integer);
INSERT INTO parent VALUES (1);
INSERT INTO child SELECT g, 1 FROM generate_series(1, {rows}) g;
INSERT INTO later VALUES (1, 1), (2, 99);
ALTER TABLE child ENABLE ROW LEVEL SECURITY;
CREATE POLICY slow ON child USING (pg_sleep(0.2) IS NOT NULL);
"""
SLOW_LOCK = """version: 1
tables:
  parent: {columns: {id: {type: integer, primary_key: true}}}
  child:
    columns:
      id: {type: integer, primary_key: true}
      parent_id: {type: integer, references: parent.id}
  later:
    columns:
      id: {type: integer, primary_key: true}
      parent_id: {type: integer, references: parent.id}
"""
# Row-level security sleeps 0.2 s a row for a role other than the owner: the orphan scan of
# child is slow, long enough to be caught running.
SLOW_READER = "GRANT SELECT ON parent, child, later TO {role}"
# What verify is told to ignore over SLOW_CHILD: the relations the lock declares and the
# database lacks, and the policy that is the tests' clock.
NOT_THE_SUBJECT = "missing-foreign-key,fk-missing-index,rls-mismatch,extra-policy"
SCANNING_CHILD = "state = 'active' AND wait_event = 'PgSleep'"


def test_d08_a_connection_killed_mid_verify_is_inconclusive(database: str, tmp_path: Path) -> None:
    """D08: the server ends verify's connection while it scans child: exit 4; that check and
    every one after it (later's orphan, a real one) are inconclusive, `connection lost`;
    nothing is reported as a finding or a pass from after the cut, and no internal error."""
    execute(database, SLOW_CHILD.format(rows=40))
    lock = write(tmp_path / "schema_lock.yaml", SLOW_LOCK)

    def cut() -> None:
        execute(database, f"SELECT pg_terminate_backend({_backend(database, SCANNING_CHILD)})")

    with as_role(database, SLOW_READER) as reader, _in_thread(cut) as raised:
        result = run_cli(
            "verify", "--lock", lock, "--database-url", reader, "--format", "json",
            "--ignore", NOT_THE_SUBJECT,
        )  # fmt: skip
    assert raised == []
    assert result.exit_code == 4, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["findings"] == [], report["findings"]
    lost = {(entry["rule"], entry["table"]) for entry in report["inconclusive"]}
    # Cut while scanning child, so later's orphan (id 2) was never counted: not a finding.
    assert {("fk-orphans", "child"), ("fk-orphans", "later")} <= lost, report["inconclusive"]
    assert all("connection lost" in entry["reason"] for entry in report["inconclusive"]), report
    assert "internal error" not in result.stderr


def test_d13_a_killed_client_s_query_ends_at_its_statement_timeout(
    database: str, tmp_path: Path
) -> None:
    """D13: SIGKILL of schemalock mid-scan (nothing of it runs to cancel anything): the
    server's statement_timeout, set in the scan's transaction, still ends the query at 2 s,
    though the scan would take 20 s."""
    execute(database, SLOW_CHILD.format(rows=100))
    lock = write(tmp_path / "schema_lock.yaml", SLOW_LOCK)
    with as_role(database, SLOW_READER) as reader:
        process = subprocess.Popen(
            [sys.executable, "-m", "schemalock", "verify", "--lock", lock,
             "--database-url", reader, "--statement-timeout", "2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")},
        )  # fmt: skip
        try:
            backend = _backend(database, SCANNING_CHILD)
        finally:
            process.kill()
            process.wait()
        killed = time.monotonic()
        while query(database, f"SELECT 1 FROM pg_stat_activity WHERE pid = {backend}"):
            assert time.monotonic() - killed < 2 + 3, "the query outlived its statement_timeout"
            time.sleep(0.05)


# --- D09 D11 D14 D20: a migration stopped part-way ----------------------------------------------

FAMILY = """
CREATE TABLE parent (id integer PRIMARY KEY);
CREATE TABLE child (id integer PRIMARY KEY, parent_id integer REFERENCES parent (id),
    a integer DEFAULT 1, b text DEFAULT 'x');
CREATE INDEX child_parent_id ON child (parent_id);
INSERT INTO parent VALUES (1), (2);
INSERT INTO child VALUES (1, 1, 1, 'x'), (2, 2, 5, 'y');
"""


def _step_titles(migrations: Path) -> list[str]:
    """The titles of the steps the revision's upgrade() runs (the comment before each)."""
    [revision] = _revisions(migrations)
    upgrade = revision.read_text().split("def upgrade()", 1)[1].split("def downgrade()", 1)[0]
    return [
        line.strip()[2:]
        for line in upgrade.splitlines()
        if line.strip().startswith("# ") and not line.strip().startswith(("# ###", "# Refuse"))
    ]


def _no_revision(url: str) -> bool:
    """alembic_version is absent, or empty."""
    if query(url, "SELECT to_regclass('alembic_version') IS NULL") == [(True,)]:
        return True
    return query(url, "SELECT count(*) FROM alembic_version") == [(0,)]


def test_d09_a_migration_killed_mid_transaction_applies_nothing(
    database: str, tmp_path: Path
) -> None:
    """D09: a revision of three transactional steps (two defaults, then a foreign key, which
    waits for parent) whose connection the server ends at the third: exit 4, none of the three
    applied, no revision recorded, rows unchanged; planned again, the same steps apply."""
    drift = (
        "ALTER TABLE child ALTER COLUMN a DROP DEFAULT, ALTER COLUMN b DROP DEFAULT,"
        " DROP CONSTRAINT child_parent_id_fkey"
    )
    lock = _prepare(database, tmp_path, FAMILY, drift=drift)
    before = checksums(database)

    def terminate() -> None:
        execute(database, f"SELECT pg_terminate_backend({_backend(database, _ALTER_WAITING)})")

    with _holding(database, "LOCK TABLE parent IN SHARE MODE"), _in_thread(terminate) as raised:
        failed = _fix(database, lock, tmp_path / "migrations", "--apply", "--lock-timeout", "60s",
                      "--step-timeout", "2min")  # fmt: skip
    assert raised == []
    line = _assert_incomplete(
        failed.exit_code, failed.stderr, "the server ended the connection (administrator command)"
    )
    assert "while running `ALTER TABLE public.child ADD CONSTRAINT child_parent_id_fkey" in line
    assert "the database is at no revision" in line
    assert query(database, "SELECT count(*) FROM pg_attrdef WHERE adrelid = 'child'::regclass") == [
        (0,)
    ]
    assert query(database, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'") == [(0,)]
    assert _no_revision(database)
    assert checksums(database) == before
    planned = _step_titles(tmp_path / "migrations")
    assert len(planned) >= 3, planned
    again = _fix(database, lock, tmp_path / "migrations", "--replace", "--apply")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert _step_titles(tmp_path / "migrations") == planned
    assert findings(database, lock) == []


def test_d11_a_concurrent_index_build_failing_mid_revision_is_reported_and_redone(
    database: str, tmp_path: Path
) -> None:
    """D11: a unique index planned over distinct values; a duplicate arrives before the
    revision runs, so CREATE UNIQUE INDEX CONCURRENTLY fails (it runs outside the revision's
    transaction): exit 4 naming the statement and 23505, rows unchanged, and the message says
    how to go on.  Once the duplicate is gone, `fix --replace --apply` drops the INVALID index
    the failed build left and builds it again."""
    from schemalock.fix.command import run_upgrade

    lock = _prepare(
        database,
        tmp_path,
        "CREATE TABLE t (id integer PRIMARY KEY, email text);"
        " CREATE UNIQUE INDEX t_email_key ON t (email);"
        " INSERT INTO t VALUES (1, 'a@x.io'), (2, 'b@x.io')",
        drift="DROP INDEX t_email_key",
    )
    migrations = tmp_path / "migrations"
    planned = _fix(database, lock, migrations)
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    execute(database, "INSERT INTO t VALUES (3, 'a@x.io')")
    before = checksums(database)
    with pytest.raises(SchemalockError) as stopped:
        run_upgrade(migrations, database, log=False)
    message = str(stopped.value)
    assert stopped.value.exit_code == 4, message
    assert message.startswith("could not complete the migration: the rows broke a constraint")
    assert "while running `CREATE UNIQUE INDEX CONCURRENTLY" in message
    assert "(23505)" in message
    assert "only the steps in autocommit blocks that finished before the failure" in message
    assert RESUME in message
    assert checksums(database) == before
    valid = "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('t_email_key')"
    assert query(database, valid) == [(False,)]  # the failed build's index stays, INVALID
    assert "left its index behind, INVALID" in message
    execute(database, "DELETE FROM t WHERE id = 3")
    again = _fix(database, lock, migrations, "--replace", "--apply")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert query(database, valid) == [(True,)]
    assert findings(database, lock) == []


def test_d14_a_deadlock_with_the_application_rolls_the_step_back(
    database: str, tmp_path: Path
) -> None:
    """D14: the migration adds a foreign key (holding child, waiting for parent, which the
    application holds); the application then waits for child: a lock cycle.  The server ends
    the migration's statement (40P01): exit 4 naming the deadlock, no key, no revision, rows
    unchanged, and the application goes on."""
    lock = _prepare(
        database, tmp_path, FAMILY, drift="ALTER TABLE child DROP CONSTRAINT child_parent_id_fkey"
    )
    before = checksums(database)
    # The application's deadlock check comes later than the migration's (1 s): the migration
    # is the one the server ends, every time.
    app_lock = "LOCK TABLE parent IN ROW EXCLUSIVE MODE"
    with _holding(database, app_lock, "SET deadlock_timeout = '10s'") as app:

        def close_the_cycle() -> None:
            _backend(database, _ALTER_WAITING)
            app.execute("LOCK TABLE child IN ROW EXCLUSIVE MODE")

        with _in_thread(close_the_cycle) as raised:
            code, stderr = _apply(database, lock, tmp_path, "--lock-timeout", "20s")
    assert raised == [], raised
    line = _assert_incomplete(code, stderr, "a deadlock with another session")
    assert "(40P01)" in line
    assert query(database, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'") == [(0,)]
    assert _no_revision(database)
    assert checksums(database) == before


def test_d20_a_value_arriving_after_the_proof_rolls_the_rewrite_back(
    database: str, tmp_path: Path
) -> None:
    """D20: text to uuid, proven on the rows there were; a value that is no uuid arrives
    before the revision runs: the ALTER fails (22P02), exit 4, every row and value as before,
    the column still text, no revision recorded."""
    from schemalock.fix.command import run_upgrade

    valid = ["'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12'"]
    lock = _converted(database, tmp_path, "text-to-uuid", valid)
    migrations = tmp_path / "migrations"
    planned = _fix(database, lock, migrations)
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    execute(database, "INSERT INTO conv VALUES (3, 'n/a')")
    before = checksums(database)
    with pytest.raises(SchemalockError) as stopped:
        run_upgrade(migrations, database, log=False)
    message = str(stopped.value)
    assert stopped.value.exit_code == 4, message
    assert message.startswith("could not complete the migration: the server refused a value")
    assert 'invalid input syntax for type uuid: "n/a" (22P02)' in message
    assert "the database is at no revision" in message
    assert checksums(database) == before
    assert query(database, "SELECT pg_typeof(v)::text FROM conv LIMIT 1") == [("text",)]
    assert _no_revision(database)


# --- D17: a server slow to wake ---------------------------------------------------------------


def test_d17_a_server_slow_to_answer_is_waited_for_within_the_connect_timeout(
    database: str, tmp_path: Path
) -> None:
    """D17: a compute waking from scale-to-zero answers only after 3 s: the default connect
    timeout (10 s) waits for it, exit 0; SCHEMALOCK_CONNECT_TIMEOUT=1 gives up, exit 3."""
    lock = write(tmp_path / "schema_lock.yaml", "version: 1\ntables: {}\n")
    with tcp_server(forwarding(database, delay_s=3)) as port:
        url = url_as(database, host="127.0.0.1", port=str(port))
        started = time.monotonic()
        woken = run_cli("verify", "--lock", lock, "--database-url", url)
        waited = time.monotonic() - started
        impatient = run_cli(
            "verify", "--lock", lock, "--database-url", url,
            env={"SCHEMALOCK_CONNECT_TIMEOUT": "1"},
        )  # fmt: skip
    assert woken.exit_code == 0, woken.stderr
    assert woken.stdout.startswith("No findings")
    assert waited >= 3
    assert impatient.exit_code == 3, impatient.stderr
    assert "timeout expired" in one_error_line(impatient.stderr)
