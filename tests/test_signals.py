"""SIGTERM (a CI runner's cancel) and SIGINT (Ctrl-C) stop schemalock without leaving its
statement running on the server.

Each test runs the real command in a subprocess, makes its statement wait for a lock another
session holds, finds that statement's backend in pg_stat_activity (by the wait, not by the
application name), sends the signal, and looks one second later: the backend runs nothing and
holds no lock.  Before, SIGTERM ended the process at once and the statement went on waiting
(and holding what it had locked) until its lock_timeout; SIGINT printed nothing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from conftest import execute, lock_held, query, run_cli, write

STOPPED = "cancelled the statement running on the server; its transaction is rolled back"


def _start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`schemalock ARGS` in a process of its own, with no database URL from this one's
    environment (and `env` added)."""
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("SCHEMALOCK_DATABASE_URL", "DATABASE_URL")
        },
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "schemalock", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _waiting_backend(url: str, process: subprocess.Popen[str], holder: int | None) -> int:
    """The pid of the backend that waits for a lock in this database (the command's)."""
    for _ in range(1500):
        rows = query(
            url,
            "SELECT pid FROM pg_catalog.pg_stat_activity"
            " WHERE datname = pg_catalog.current_database() AND wait_event_type = 'Lock'"
            " AND pid <> pg_catalog.pg_backend_pid() AND pid IS DISTINCT FROM %s",
            [holder],
        )
        if rows:
            return int(str(rows[0][0]))
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError("the command never waited for the lock")


def _stop(process: subprocess.Popen[str], signum: int) -> tuple[int, str]:
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


def _left_on_server(url: str, pid: int) -> list[tuple[object, ...]]:
    """What the backend `pid` still runs or holds, one second after the process ended."""
    time.sleep(1)
    return query(
        url,
        "SELECT 'active: ' || a.query FROM pg_catalog.pg_stat_activity AS a"
        " WHERE a.pid = %s AND a.state = 'active'"
        " UNION ALL SELECT 'lock: ' || l.locktype || ' ' || l.mode FROM pg_catalog.pg_locks AS l"
        " WHERE l.pid = %s",
        [pid, pid],
    )


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_cancels_verify_s_running_statement(
    database: str, tmp_path: Path, signum: int, code: int
) -> None:
    """verify's row check waits behind another session's ACCESS EXCLUSIVE lock.  Before:
    SIGTERM killed the process (exit -15) and the check's backend was still active, waiting,
    a second later; SIGINT exited 130 without a word."""
    execute(
        database,
        "CREATE TABLE accounts (id integer PRIMARY KEY, email text);"
        "INSERT INTO accounts SELECT g, 'user' || g || '@example.org'"
        " FROM pg_catalog.generate_series(1, 100) AS g",
    )
    lock = write(tmp_path / "schema_lock.yaml", run_cli("snapshot", "-d", database).stdout)
    with lock_held(database, "accounts"):
        process = _start("verify", "-l", lock, "-d", database, "--statement-timeout", "60")
        backend = _waiting_backend(database, process, None)
        exit_code, stderr = _stop(process, signum)
        left = _left_on_server(database, backend)
    assert left == []
    name = signal.Signals(signum).name
    assert (exit_code, stderr) == (code, f"schemalock: stopped by {name}: {STOPPED}\n")


@contextlib.contextmanager
def _reading(url: str, table: str) -> Iterator[int]:
    """Another session inside a transaction that has read `table` (ACCESS SHARE: reads go on,
    ALTER TABLE waits); yields its pid."""
    with psycopg.connect(url) as session:
        session.execute(f"SELECT count(*) FROM {table}")
        yield session.info.backend_pid
        session.rollback()


def test_sigterm_rolls_back_a_migration_fix_applies(database: str, tmp_path: Path) -> None:
    """`fix --apply`: the revision adds a column to a_first, then waits to add one to
    b_second.  SIGTERM cancels Alembic's statement (a SQLAlchemy connection): exit 143, the
    migration's transaction rolled back (no column, no alembic_version), the migrations lock
    released.  Before: the process died and its ALTER TABLE went on waiting, holding a_first's
    ACCESS EXCLUSIVE lock."""
    execute(
        database,
        "CREATE TABLE a_first (id integer PRIMARY KEY, note text);"
        "CREATE TABLE b_second (id integer PRIMARY KEY, note text)",
    )
    lock = write(tmp_path / "schema_lock.yaml", run_cli("snapshot", "-d", database).stdout)
    execute(database, "ALTER TABLE a_first DROP COLUMN note; ALTER TABLE b_second DROP COLUMN note")
    migrations = str(tmp_path / "migrations")
    options = ("--lock-timeout", "60s", "--step-timeout", "120s")
    with _reading(database, "b_second") as reader:
        process = _start("fix", "--apply", "-l", lock, "-d", database, "-m", migrations, *options)
        backend = _waiting_backend(database, process, reader)
        exit_code, stderr = _stop(process, signal.SIGTERM)
        left = _left_on_server(database, backend)
    assert left == []
    assert exit_code == 143, stderr
    assert stderr.splitlines()[-1] == f"schemalock: stopped by SIGTERM: {STOPPED}"
    assert (
        query(
            database,
            "SELECT a.attrelid::pg_catalog.regclass::text FROM pg_catalog.pg_attribute AS a"
            " WHERE a.attname = 'note' AND NOT a.attisdropped",
        )
        == []
    )
    assert query(database, "SELECT pg_catalog.to_regclass('alembic_version')") == [(None,)]
    assert query(database, "SELECT pid FROM pg_catalog.pg_locks WHERE locktype = 'advisory'") == []
