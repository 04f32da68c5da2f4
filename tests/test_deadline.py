"""D07: a server that stops answering mid-query ends the run within a bound
(schemalock.db.deadline).

statement_timeout cannot fire in a frozen backend, a proxy that stops forwarding drops the
error it sends, and TCP keepalives are answered by the kernel (or the proxy), so before the
client-side deadline `verify` and `fix --apply` waited forever.  A backend is frozen here with
SIGSTOP, always on a private embedded server this module starts (never on a server other tests
or people use), and always thawed (SIGCONT) before the test ends; the proxy that goes silent
works on any server.  SCHEMALOCK_CLIENT_GRACE=1 keeps each run short: the cancel request goes
out at the statement limit + 1 s, the socket is shut down 1 s later."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Server, as_role, execute, query, run_cli, scratch_database, url_as, write
from schemalock.app.pgserver import embedded_server
from schemalock.db import deadline
from test_catalogue_connections import Handler, _open_upstream, startup_packet, tcp_server
from test_catalogue_faults import (
    NOT_THE_SUBJECT,
    SCANNING_CHILD,
    SLOW_CHILD,
    SLOW_LOCK,
    SLOW_READER,
)
from test_signals import _start as start

pytestmark = pytest.mark.db

GRACE = 1.0
# How much later than its deadline a run may end on a busy machine (interpreter start, the
# checks after the cut, the report).
MARGIN_S = 20.0
HUNG_S = 90.0  # before the deadline existed, the run never ended: stopped here
STOPPED_ANSWERING = "the server stopped answering: no reply within"


@pytest.fixture(scope="module")
def private_server() -> Iterator[Server]:
    """An embedded server of this module's own: its backends may be frozen."""
    with embedded_server(tempfile.mkdtemp(prefix="schemalock-deadline-")) as (url, data_dir):
        yield Server(admin_url=url, embedded=True, data_dir=data_dir)


@pytest.fixture
def private(private_server: Server) -> Iterator[str]:
    """The URL of an empty database on the private server, for this test only."""
    with scratch_database(private_server) as name:
        yield private_server.url_for(name)


def _start(*args: str) -> subprocess.Popen[str]:
    return start(*args, env={deadline.GRACE_ENV: f"{GRACE:g}"})


def _running(url: str, condition: str) -> tuple[int, float]:
    """(pid, seconds its statement has run) of the backend matching `condition`, once one
    does."""
    for _ in range(1000):
        rows = query(
            url,
            "SELECT pid, extract(epoch FROM clock_timestamp() - query_start)::float8"
            " FROM pg_catalog.pg_stat_activity WHERE datname = current_database()"
            f" AND pid <> pg_backend_pid() AND {condition} LIMIT 1",
        )
        if rows:
            pid, ran = rows[0]
            assert isinstance(pid, int)
            assert isinstance(ran, float)
            return pid, ran
        time.sleep(0.02)
    raise AssertionError(f"no backend with {condition}")


@contextlib.contextmanager
def _frozen(url: str, pid: int) -> Iterator[None]:
    """The backend `pid` stopped (SIGSTOP) for the block, then thawed; once it has gone (its
    client's socket is shut), the block is over."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)
    for _ in range(1500):
        if not query(url, "SELECT 1 FROM pg_catalog.pg_stat_activity WHERE pid = %s", [pid]):
            return
        time.sleep(0.02)
    raise AssertionError(f"backend {pid} still there after it was thawed")


def _finish(process: subprocess.Popen[str]) -> tuple[str, str, float]:
    """stdout, stderr and how long the process took to end from now; a process that does
    not end within HUNG_S is killed and the test fails."""
    began = time.monotonic()
    try:
        stdout, stderr = process.communicate(timeout=HUNG_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError(
            f"schemalock hung on a server that stopped answering ({HUNG_S} s)"
        ) from None
    return stdout, stderr, time.monotonic() - began


def test_d07_a_server_that_stops_answering_mid_verify_is_inconclusive_within_the_deadline(
    private: str, tmp_path: Path
) -> None:
    """verify's scan of child runs (3 s statement_timeout); its backend is frozen.  The
    server's timeout cannot fire, yet verify ends: exit 4, that check and every later one
    inconclusive, each saying the server stopped answering, no finding reported (later's
    real orphan was never counted), and not before statement_timeout + grace.  Before:
    verify waited forever (killed here after 90 s)."""
    execute(private, SLOW_CHILD.format(rows=40))
    lock = write(tmp_path / "schema_lock.yaml", SLOW_LOCK)
    limit = 3.0
    with as_role(private, SLOW_READER) as reader:
        process = _start(
            "verify", "--lock", lock, "--database-url", reader, "--format", "json",
            "--statement-timeout", f"{limit:g}", "--ignore", NOT_THE_SUBJECT,
        )  # fmt: skip
        pid, ran = _running(private, SCANNING_CHILD)
        assert ran < limit, "the scan was found too late to freeze it before its timeout"
        with _frozen(private, pid):
            stdout, stderr, took = _finish(process)
    assert process.returncode == 4, stdout + stderr
    assert "Traceback" not in stderr
    assert "internal error" not in stderr
    report = json.loads(stdout)
    assert report["findings"] == [], report["findings"]
    reasons = {(entry["rule"], entry["table"]): entry["reason"] for entry in report["inconclusive"]}
    assert {("fk-orphans", "child"), ("fk-orphans", "later")} <= set(reasons), reasons
    # Every check after the cut failed for the same cause, and says so.
    for reason in reasons.values():
        assert reason.startswith(f"connection lost ({STOPPED_ANSWERING} "), reason
        assert "(statement limit 3 s + 1 s grace + 1 s after a cancel request)" in reason
        assert reason.endswith("; results incomplete)"), reason
    # Never before the server's own timeout + grace; within a bound after it.
    assert ran + took >= limit + GRACE, (ran, took)
    assert took < limit + 2 * GRACE + MARGIN_S, took


def _going_silent(url: str, silent: threading.Event) -> Handler:
    """A proxy to the server of `url` that, once `silent` is set, passes the client's bytes on
    but none of the server's, and keeps the client's connection open: it blackholes the
    answers (the statement's result, the server's statement_timeout error, the end of a
    cancel request) while the client's kernel still gets its ACKs."""
    upstream = _open_upstream(url)

    async def to_client(server: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await server.read(65536):
                if not silent.is_set():
                    client.write(data)
                    await client.drain()
        while silent.is_set():  # the server hung up: that is not passed on either
            await asyncio.sleep(0.1)

    async def to_server(client: asyncio.StreamReader, server: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await client.read(65536):
                server.write(data)
                await server.drain()
        server.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = await startup_packet(reader, writer)
        server_reader, server_writer = await upstream()
        server_writer.write(first)
        await asyncio.gather(to_server(reader, server_writer), to_client(server_reader, writer))

    return handle


def test_d07_a_proxy_that_stops_forwarding_mid_verify_is_inconclusive_within_the_deadline(
    database: str, tmp_path: Path
) -> None:
    """D07 as the catalogue states it: verify connects through a proxy, which goes silent
    while the scan of child runs (3 s statement_timeout).  The server ends the scan at 3 s,
    but its error never arrives, and the proxy keeps the connection up.  verify ends anyway:
    exit 4, inconclusive, the server stopped answering, no finding, within the bound.  Before:
    verify waited forever (killed here after 90 s)."""
    execute(database, SLOW_CHILD.format(rows=40))
    lock = write(tmp_path / "schema_lock.yaml", SLOW_LOCK)
    limit, silent = 3.0, threading.Event()
    with (
        as_role(database, SLOW_READER) as reader,
        tcp_server(_going_silent(reader, silent)) as port,
    ):
        process = _start(
            "verify", "--lock", lock, "--format", "json", "--statement-timeout", f"{limit:g}",
            "--database-url", url_as(reader, host="127.0.0.1", port=str(port)),
            "--ignore", NOT_THE_SUBJECT,
        )  # fmt: skip
        _, ran = _running(database, SCANNING_CHILD)
        silent.set()
        try:
            stdout, stderr, took = _finish(process)
        finally:
            silent.clear()
    assert process.returncode == 4, stdout + stderr
    report = json.loads(stdout)
    assert report["findings"] == [], report["findings"]
    reasons = [entry["reason"] for entry in report["inconclusive"]]
    assert reasons, report
    for reason in reasons:
        assert reason.startswith(f"connection lost ({STOPPED_ANSWERING} "), reason
    assert ran + took >= limit + GRACE, (ran, took)
    assert took < limit + 2 * GRACE + MARGIN_S, took


def test_a_statement_the_server_still_runs_within_its_timeout_is_left_alone(
    database: str, tmp_path: Path
) -> None:
    """The deadline is statement_timeout + grace, not grace alone: a scan of 3 s under a
    10 s statement_timeout (grace 1 s) finishes, and verify reports later's orphan with no
    inconclusive check.  (Guards against a watchdog that fires early; it passed before the
    deadline existed too.)"""
    execute(database, SLOW_CHILD.format(rows=15))  # 0.2 s a row: 3 s a scan of child
    lock = write(tmp_path / "schema_lock.yaml", SLOW_LOCK)
    with as_role(database, SLOW_READER) as reader:
        began = time.monotonic()
        result = run_cli(
            "verify", "--lock", lock, "--database-url", reader, "--format", "json",
            "--statement-timeout", "10", "--ignore", NOT_THE_SUBJECT,
            env={deadline.GRACE_ENV: f"{GRACE:g}"},
        )  # fmt: skip
        took = time.monotonic() - began
    report = json.loads(result.stdout)
    assert report["inconclusive"] == [], report["inconclusive"]
    assert [(f["rule"], f["table"]) for f in report["findings"]] == [("fk-orphans", "later")]
    assert result.exit_code == 1, result.stderr
    assert took >= 3, took


FIX_SCHEMA = "CREATE TABLE t (id integer PRIMARY KEY, a integer); INSERT INTO t VALUES (1, 1);"
FIX_LOCK = """version: 1
tables:
  t:
    columns:
      id: {type: integer, primary_key: true}
      a: {type: integer}
      b: {type: integer}
"""
ALTER_WAITING = "query LIKE 'ALTER TABLE%' AND wait_event_type = 'Lock'"


def test_d07_a_migration_step_the_server_stops_answering_ends_within_its_step_timeout(
    private: str, tmp_path: Path
) -> None:
    """`fix --apply`: the revision's ALTER TABLE (--step-timeout 3s) waits for a lock another
    session holds, and its backend is frozen, so neither lock_timeout nor statement_timeout
    can fire.  The deadline follows the SET statement_timeout the revision ran: exit 4, "could
    not complete the migration", the server stopped answering, within 3 s + grace; nothing
    applied.  Before: fix waited forever (killed here after 90 s)."""
    execute(private, FIX_SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", FIX_LOCK)
    limit = 3.0
    with contextlib.ExitStack() as holding:
        import psycopg

        holder = holding.enter_context(psycopg.connect(private))
        holder.execute("LOCK TABLE t IN SHARE MODE")
        process = _start(
            "fix", "--apply", "--lock", lock, "--database-url", private,
            "--migrations", str(tmp_path / "migrations"),
            "--lock-timeout", "2s", "--step-timeout", f"{limit:g}s",
        )  # fmt: skip
        pid, ran = _running(private, ALTER_WAITING)
        with _frozen(private, pid):
            stdout, stderr, took = _finish(process)
        holder.rollback()
    assert process.returncode == 4, stdout + stderr
    said = [line for line in stderr.splitlines() if not line.startswith("INFO  [alembic")]
    assert len(said) == 1, stderr
    assert said[0].startswith(
        "schemalock: error: could not complete the migration: the connection to the server was "
        "lost while running `ALTER TABLE public.t ADD COLUMN b INTEGER`: " + STOPPED_ANSWERING
    ), said
    assert "(statement limit 3 s + 1 s grace + 1 s after a cancel request); the " in said[0]
    assert "the database is at no revision" in said[0]
    assert ran + took >= limit + GRACE, (ran, took)
    assert took < limit + 2 * GRACE + MARGIN_S, took
    assert query(private, "SELECT count(*) FROM pg_attribute WHERE attname = 'b'") == [(0,)]


def test_a_migration_statement_runs_to_its_own_statement_timeout(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alembic's connections (made through SQLAlchemy once `fix --apply` set up tracking) are
    watched, and their deadline is the statement_timeout the migration set, never less: none
    before the first SET (a hand-written revision may run for hours under the server's
    setting), then the largest SET; so 2.5 s statements with a grace of 1 s finish."""
    from psycopg.conninfo import conninfo_to_dict
    from sqlalchemy import create_engine, pool, text

    from schemalock import db

    monkeypatch.setenv(deadline.GRACE_ENV, f"{GRACE:g}")
    db.track_pool_connections()
    params = conninfo_to_dict(database)
    engine = create_engine("postgresql+psycopg://", connect_args=params, poolclass=pool.NullPool)
    with engine.connect() as connection:
        driver = connection.connection.dbapi_connection
        assert isinstance(driver, deadline.DeadlineConnection)
        assert driver.deadline_watch is not None
        assert driver.deadline_watch.limit_s() is None
        assert connection.scalar(text("SELECT 1 FROM pg_sleep(2.5)")) == 1
        connection.execute(text("SET statement_timeout = '2min'"))
        connection.execute(text("SET statement_timeout = '5s'"))
        assert driver.deadline_watch.limit_s() == 120
        assert connection.scalar(text("SELECT 1 FROM pg_sleep(2.5)")) == 1
        connection.execute(text("SELECT set_config('statement_timeout', '1s', false)"))
        assert driver.deadline_watch.limit_s() is None  # not read here: no deadline since


@pytest.mark.parametrize(
    ("statement", "milliseconds"),
    [
        ("SET statement_timeout = '60s'", 60_000),
        ("set local statement_timeout to '1h';", 3_600_000),
        ("SET SESSION statement_timeout = 1500", 1500),
        ("SET statement_timeout = '2.5 min'", 150_000),
        ("SET statement_timeout = '0'", 0),
        ("SET statement_timeout TO DEFAULT", 0),
        ("RESET statement_timeout", 0),
        ("RESET ALL", 0),
        ("SELECT set_config('statement_timeout', '5s', false)", 0),
        ("SET statement_timeout = '1s'; SELECT 1", 0),
        ("SET lock_timeout = '5s'", None),
        ("CREATE INDEX CONCURRENTLY i ON t (a)", None),
    ],
)
def test_the_statement_timeout_a_migration_sets_is_read_or_given_up_on(
    statement: str, milliseconds: float | None
) -> None:
    """A SET read exactly; anything else that touches statement_timeout is 0: the migration's
    statements have no client deadline from then on."""
    assert deadline.statement_timeout_ms(statement) == milliseconds


@pytest.mark.parametrize("grace", ["soon", "0", "-1", "nan", "inf"])
def test_a_bad_grace_is_a_usage_error_before_connecting(grace: str, tmp_path: Path) -> None:
    lock = write(tmp_path / "schema_lock.yaml", "version: 1\ntables: {}\n")
    # Nothing listens there: a connection attempt would be exit 3.
    url = "postgresql://nobody@127.0.0.1:1/none"
    result = run_cli(
        "verify", "--lock", lock, "--database-url", url, env={deadline.GRACE_ENV: grace}
    )
    assert result.exit_code == 2, result.stderr
    assert result.stderr == (
        f"schemalock: error: {deadline.GRACE_ENV} must be a number of seconds above 0, "
        f"not {grace!r}\n"
    )
