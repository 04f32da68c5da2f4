"""`fix --apply` when the database stops it part-way: a lock not granted in time, a connection
ended by the server, a server crash, a permission, a value the server refuses.  Each is one
readable line and exit 4 (could not complete: what was applied, how to resume), never exit 2
and never "internal error", which is kept for schemalock's own bugs."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from conftest import as_role, execute, lock_held, query, run_cli, write
from schemalock.app.pgserver import embedded_server
from schemalock.fix import guards

pytestmark = pytest.mark.db

SCHEMA = "CREATE TABLE t (id integer PRIMARY KEY, a integer); INSERT INTO t VALUES (1, 1), (2, 2);"
LOCK = """version: 1
tables:
  t:
    columns:
      id: {type: integer, primary_key: true}
      a: {type: integer}
      b: {type: integer%s}
"""


def _fingerprint(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as connection:
        return guards.fingerprint(connection, ["public"])


@contextlib.contextmanager
def _share_lock(url: str) -> Iterator[None]:
    """Another session holds SHARE on t: reads go on, ALTER TABLE waits."""
    with psycopg.connect(url) as holder:
        holder.execute("LOCK TABLE t IN SHARE MODE")
        yield
        holder.rollback()


@contextlib.contextmanager
def _when_waiting(url: str, act: Callable[[int], None]) -> Iterator[list[int]]:
    """Calls `act(pid)` on the first backend found waiting for a lock on an ALTER TABLE."""
    done: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        with psycopg.connect(url, autocommit=True) as watcher:
            while not stop.is_set():
                row = watcher.execute(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE 'ALTER TABLE%' AND datname = current_database() LIMIT 1"
                ).fetchone()
                if row is not None:
                    act(int(row[0]))
                    done.append(int(row[0]))
                    return
                time.sleep(0.05)

    worker = threading.Thread(target=watch)
    worker.start()
    try:
        yield done
    finally:
        stop.set()
        worker.join()


def _apply(url: str, tmp_path: Path, *options: str, lock: str = LOCK % "") -> tuple[int, str]:
    path = write(tmp_path / "schema_lock.yaml", lock)
    result = run_cli(
        "fix", "--apply", "--lock", path, "--database-url", url,
        "--migrations", str(tmp_path / "migrations"), *options,
    )  # fmt: skip
    return result.exit_code, result.stderr


def _assert_incomplete(code: int, stderr: str, cause: str) -> str:
    """Exit 4 and one line, after whatever Alembic logged of the steps it began, never an
    internal error; returns the line."""
    assert code == 4, stderr
    assert "internal error" not in stderr
    assert "Traceback" not in stderr
    said = [line for line in stderr.splitlines() if not line.startswith("INFO  [alembic")]
    assert len(said) == 1, stderr
    stderr = said[0]
    assert stderr.startswith(f"schemalock: error: could not complete the migration: {cause}")
    assert "the failed revision's transaction was rolled back" in stderr
    assert "`schemalock fix --replace --apply` plans again" in stderr
    return stderr


def test_a_lock_not_granted_in_time(database: str, tmp_path: Path) -> None:
    execute(database, SCHEMA)
    before = _fingerprint(database)
    with _share_lock(database):
        code, stderr = _apply(database, tmp_path, "--lock-timeout", "300ms")
    _assert_incomplete(code, stderr, "a lock it needed was not granted within lock_timeout")
    assert "while running `ALTER TABLE public.t ADD COLUMN b INTEGER`" in stderr
    assert "(55P03)" in stderr
    assert "the database is at no revision" in stderr
    assert _fingerprint(database) == before


def test_a_connection_the_server_ends(database: str, tmp_path: Path) -> None:
    execute(database, SCHEMA)
    before = _fingerprint(database)

    def terminate(pid: int) -> None:
        execute(database, f"SELECT pg_terminate_backend({pid})")

    with _share_lock(database), _when_waiting(database, terminate) as terminated:
        code, stderr = _apply(database, tmp_path, "--lock-timeout", "60s", "--step-timeout", "2min")
    assert terminated
    _assert_incomplete(code, stderr, "the server ended the connection (administrator command)")
    assert _fingerprint(database) == before


def test_a_server_that_crashes(tmp_path: Path) -> None:
    """A backend killed outright makes PostgreSQL end every connection and recover: on a
    server of this test's own, so no other test loses its connections."""
    with embedded_server(tempfile.mkdtemp(prefix="schemalock-crash-")) as (url, _):
        execute(url, SCHEMA)

        def kill(pid: int) -> None:
            os.kill(pid, signal.SIGKILL)

        with (
            contextlib.suppress(psycopg.OperationalError),
            _share_lock(url),
            _when_waiting(url, kill) as killed,
        ):
            code, stderr = _apply(url, tmp_path, "--lock-timeout", "60s", "--step-timeout", "2min")
        assert killed, stderr
        _assert_incomplete(code, stderr, "the connection to the server was lost")
        for _ in range(100):  # crash recovery
            with contextlib.suppress(psycopg.OperationalError):
                assert query(url, "SELECT count(*) FROM t") == [(2,)]
                break
            time.sleep(0.1)
        assert query(url, "SELECT count(*) FROM pg_attribute WHERE attname = 'b'") == [(0,)]


def test_a_role_that_may_not_alter_the_table(database: str, tmp_path: Path) -> None:
    execute(database, SCHEMA)
    before = _fingerprint(database)
    grants = "GRANT USAGE, CREATE ON SCHEMA public TO {role}; GRANT SELECT ON t TO {role};"
    with as_role(database, grants) as url:
        code, stderr = _apply(url, tmp_path)
    _assert_incomplete(code, stderr, "permission denied")
    assert "must be owner of table t (42501)" in stderr
    assert _fingerprint(database) == before


def test_a_default_the_server_refuses(database: str, tmp_path: Path) -> None:
    execute(database, SCHEMA)
    before = _fingerprint(database)
    code, stderr = _apply(database, tmp_path, lock=LOCK % ", default: \"'abc'\"")
    _assert_incomplete(code, stderr, "the server refused a value")
    assert 'invalid input syntax for type integer: "abc" (22P02)' in stderr
    assert _fingerprint(database) == before


def test_the_migration_names_its_session(database: str, tmp_path: Path) -> None:
    """A DBA looking at pg_stat_activity while a migration waits sees whose it is."""
    execute(database, SCHEMA)
    names: list[object] = []

    def look(pid: int) -> None:
        names.extend(
            row[0]
            for row in query(
                database, f"SELECT application_name FROM pg_stat_activity WHERE pid = {pid}"
            )
        )

    with _share_lock(database), _when_waiting(database, look):
        code, stderr = _apply(database, tmp_path, "--lock-timeout", "3s")
    _assert_incomplete(code, stderr, "a lock it needed was not granted within lock_timeout")
    assert names == ["schemalock/0.1.0/fix"]


def test_a_lock_met_by_the_revisions_first_check_is_not_a_changed_schema(
    database: str, tmp_path: Path
) -> None:
    """The fingerprint check reads definitions, which waits for a table's lock like any step:
    a lock not granted there is exit 4 (the schema did not change), not the check's refusal,
    whose words the failing statement's text also holds."""
    from schemalock.errors import SchemalockError
    from schemalock.fix.command import run_upgrade

    execute(database, SCHEMA + "CREATE INDEX t_a ON t (a);")
    path = write(tmp_path / "schema_lock.yaml", LOCK % "")
    migrations = tmp_path / "migrations"
    planned = run_cli(
        "fix", "--lock", path, "--database-url", database, "--migrations", str(migrations),
        "--lock-timeout", "300ms",
    )  # fmt: skip
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    before = _fingerprint(database)
    with lock_held(database, "t"), pytest.raises(SchemalockError) as stopped:
        run_upgrade(migrations, database, log=False)
    message = str(stopped.value)
    assert stopped.value.exit_code == 4, message
    assert message.startswith(
        "could not complete the migration: a lock it needed was not granted within lock_timeout"
        " (another session holds it) while running `DO"
    )
    assert _fingerprint(database) == before


def test_a_version_table_another_session_locks_is_inconclusive(
    database: str, tmp_path: Path
) -> None:
    """fix reads which revision the database is at on its own connection: a lock there is
    exit 4 within the lock timeout, not an internal error."""
    execute(
        database,
        SCHEMA + "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);",
    )
    path = write(tmp_path / "schema_lock.yaml", LOCK % "")
    with lock_held(database, "alembic_version"):
        result = run_cli(
            "fix", "--lock", path, "--database-url", database,
            "--migrations", str(tmp_path / "migrations"), "--statement-timeout", "1",
        )  # fmt: skip
    assert result.exit_code == 4, result.stdout + result.stderr
    assert result.stderr.startswith("schemalock: error: fix: waited longer than lock_timeout")
    assert "internal error" not in result.stderr
    assert not (tmp_path / "migrations").exists()
