"""Through a real PgBouncer in transaction mode, on a port other than 6432: verify and snapshot
answer exactly as they do on a direct connection, `fix --apply` and `alembic upgrade` with our
env.py refuse before they write, and nothing of schemalock's (a setting, a name, a lock) stays
on the pool's server session for the next client.

The pool holds ONE server connection, so every client of a test shares the same server session:
whatever one leaves behind, the next one sees.  PgBouncer is Debian's `pgbouncer` (`.ci/run`
installs it); without it these tests skip, unless SCHEMALOCK_REQUIRE_PGBOUNCER is set (CI sets
it), when they fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from conftest import Server, execute, query, run_cli, write
from schemalock.fix import guards

pytestmark = pytest.mark.db

SCHEMA = """
CREATE TABLE organizations (id uuid PRIMARY KEY, name text NOT NULL);
CREATE TABLE jobs (id integer PRIMARY KEY, org_id uuid, kind text NOT NULL);
INSERT INTO organizations VALUES
    ('6f1c1d52-3c1e-4a4e-9b7a-2f4f5a9c8d11', 'Northwind Analytics'),
    ('0b8e4c2a-9d7f-4e51-8a63-5c2d1e0f9a77', 'Acme Mock Org');
INSERT INTO jobs VALUES
    (1, '6f1c1d52-3c1e-4a4e-9b7a-2f4f5a9c8d11', 'search'),
    (2, '9a9a9a9a-1b1b-4c4c-8d8d-2e2e2e2e2e2e', 'search'),
    (3, NULL, 'analysis');
"""

LOCK = """version: 1
tables:
  organizations:
    columns:
      id: {type: uuid, primary_key: true}
      name: {type: text, nullable: false}
  jobs:
    columns:
      id: {type: integer, primary_key: true}
      org_id: {type: uuid, references: organizations.id}
      kind: {type: text, nullable: false, values: [search]}
    indexes:
      jobs_org_id_idx: {columns: [org_id]}
"""

# What a fresh client must find on the pool's server session: the server's defaults.
SETTINGS = (
    "application_name",
    "lock_timeout",
    "statement_timeout",
    "idle_in_transaction_session_timeout",
    "search_path",
    "default_transaction_read_only",
    "transaction_isolation",
)


@dataclass(frozen=True)
class Bouncer:
    port: int
    server: Server

    def url_for(self, database: str) -> str:
        params = conninfo_to_dict(self.server.admin_url)
        user = str(params.get("user") or "postgres")
        return make_conninfo(host="127.0.0.1", port=str(self.port), user=user, dbname=database)


def _free_port() -> int:
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port != int(guards.POOLER_PORT):
            return port


def _pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/sbin")
    if found is None:
        message = "PgBouncer is not installed (apt-get install pgbouncer; .ci/run does)"
        if os.environ.get("SCHEMALOCK_REQUIRE_PGBOUNCER"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def _run_as(host: str) -> list[str]:
    """PgBouncer refuses to run as root: as root, it runs as the user that can reach the
    server (the owner of the socket's folder, or nobody over TCP)."""
    if os.geteuid() != 0:
        return []
    owner = os.stat(host).st_uid if host.startswith("/") else pwd.getpwnam("nobody").pw_uid
    return ["-u", pwd.getpwuid(owner).pw_name]


@pytest.fixture
def bouncer(pg_server: Server) -> Iterator[Bouncer]:
    """A PgBouncer of this test's own, transaction pooling over one server connection."""
    with _bouncer(pg_server) as started:
        yield started


@contextlib.contextmanager
def _bouncer(pg_server: Server, query_wait_timeout: int = 20) -> Iterator[Bouncer]:
    binary = _pgbouncer_binary()
    params = conninfo_to_dict(pg_server.admin_url)
    host, port = str(params.get("host") or "127.0.0.1"), str(params.get("port") or "5432")
    user = str(params.get("user") or "postgres")
    # Not under pytest's tmp_path: PgBouncer may run as another user, and writes its log here.
    workdir = Path(tempfile.mkdtemp(prefix="schemalock-pgbouncer-"))
    workdir.chmod(0o777)
    listen = _free_port()
    (workdir / "users.txt").write_text(f'"{user}" ""\n')
    ini = workdir / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        f"* = host={host} port={port}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {listen}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {workdir / 'users.txt'}\n"
        "pool_mode = transaction\ndefault_pool_size = 1\nmin_pool_size = 0\n"
        f"max_client_conn = 50\nquery_wait_timeout = {query_wait_timeout}\n"
        f"logfile = {workdir / 'pgbouncer.log'}\npidfile = {workdir / 'pgbouncer.pid'}\n"
    )
    for path in workdir.iterdir():
        path.chmod(0o666)
    process = subprocess.Popen(
        [binary, *_run_as(host), str(ini)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(listen, process, workdir)
        yield Bouncer(listen, pg_server)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_for(port: int, process: subprocess.Popen[bytes], workdir: Path) -> None:
    for _ in range(200):
        if process.poll() is not None:
            log = workdir / "pgbouncer.log"
            said = log.read_text() if log.exists() else process.stderr.read().decode()  # type: ignore[union-attr]
            pytest.fail(f"PgBouncer did not start: {said[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    pytest.fail("PgBouncer did not listen within 10 s")


def _session(url: str) -> dict[str, object]:
    """What a fresh client, sending no setting of its own, finds on its server session."""
    with psycopg.connect(url, autocommit=True) as connection:
        shown: dict[str, object] = {
            name: connection.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in SETTINGS
        }
        shown["advisory locks"] = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database ="
            " (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchone()
        shown["prepared statements"] = connection.execute(
            "SELECT count(*) FROM pg_prepared_statements"
        ).fetchone()
        shown["temporary tables"] = connection.execute(
            "SELECT count(*) FROM pg_class WHERE relpersistence = 't'"
        ).fetchone()
    return shown


@pytest.fixture
def pooled(bouncer: Bouncer, database: str) -> tuple[str, str]:
    """(direct URL, URL through the pooler) of this test's database, with SCHEMA in it; the
    pooler's session starts as a direct one does."""
    execute(database, SCHEMA)
    through = bouncer.url_for(str(conninfo_to_dict(database)["dbname"]))
    assert _session(through) == _session(database)
    return database, through


def test_the_pool_hands_one_session_around(pooled: tuple[str, str]) -> None:
    """The harness is real: a session setting made by one client of the pool is what the next
    client gets, and the pid the pooler names at start-up is not the backend's."""
    direct, through = pooled
    with psycopg.connect(through, autocommit=True) as first:
        first.execute("SET lock_timeout = '7s'")
        told, backend = first.info.backend_pid, first.execute("SELECT pg_backend_pid()").fetchone()
    with psycopg.connect(through, autocommit=True) as second:
        assert second.execute("SHOW lock_timeout").fetchone() == ("7s",)
        assert second.execute("SELECT pg_backend_pid()").fetchone() == backend
        second.execute("RESET ALL")
    assert (told,) != backend
    with psycopg.connect(direct) as own:
        assert (own.info.backend_pid,) == own.execute("SELECT pg_backend_pid()").fetchone()


def _report(url: str, lock: str, *options: str) -> dict[str, object]:
    result = run_cli("verify", "--lock", lock, "--database-url", url, "--format", "json", *options)
    assert result.exit_code == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert isinstance(report, dict)
    report.pop("target")
    report["summary"].pop("duration_ms")
    return report


def test_verify_and_snapshot_answer_the_same_through_the_pooler(
    pooled: tuple[str, str], tmp_path: Path
) -> None:
    direct, through = pooled
    lock = write(tmp_path / "schema_lock.yaml", LOCK)
    pristine = _session(direct)
    expected = _report(direct, lock)
    findings = {(f["rule"], f["table"], f["column"]) for f in expected["findings"]}  # type: ignore[attr-defined]
    # Data checks ran, through several transactions: the comparison means something.
    assert {("fk-orphans", "jobs", "org_id"), ("mock-data", "organizations", "name")} <= findings
    assert {("accepted-values-violation", "jobs", "kind"), ("missing-index", "jobs", None)} <= (
        findings
    )
    assert _report(through, lock) == expected
    assert _report(through, lock, "--sample", "100") == _report(direct, lock, "--sample", "100")
    snapshots = [run_cli("snapshot", "--database-url", url) for url in (direct, through)]
    assert [s.exit_code for s in snapshots] == [0, 0]
    assert snapshots[0].stdout == snapshots[1].stdout
    assert _session(through) == pristine


def test_fix_apply_through_the_pooler_is_refused_before_anything(
    pooled: tuple[str, str], tmp_path: Path
) -> None:
    direct, through = pooled
    lock = write(tmp_path / "schema_lock.yaml", LOCK)
    pristine = _session(direct)
    before = guards_fingerprint(direct)
    migrations = tmp_path / "migrations"
    result = run_cli(
        "fix", "--apply", "--lock", lock, "--database-url", through, "--migrations", str(migrations)
    )
    assert result.exit_code == 5, result.stdout + result.stderr
    assert result.stderr.startswith(
        "schemalock: error: refusing to migrate: cannot prove this connection holds a session "
        "of its own: the server session answering (backend pid "
    )
    assert "so a pooler or proxy stands in between" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not migrations.exists()
    assert guards_fingerprint(direct) == before
    assert _session(through) == pristine


def test_alembic_upgrade_through_the_pooler_is_refused_and_leaves_nothing(
    pooled: tuple[str, str], tmp_path: Path
) -> None:
    direct, through = pooled
    lock = write(tmp_path / "schema_lock.yaml", LOCK)
    migrations = tmp_path / "migrations"
    planned = run_cli(
        "fix", "--lock", lock, "--database-url", direct, "--migrations", str(migrations)
    )
    assert planned.exit_code == 0, planned.stdout + planned.stderr
    assert list((migrations / "versions").glob("*.py"))
    pristine = _session(direct)
    before = guards_fingerprint(direct)
    upgrade = _alembic_upgrade(migrations, through)
    assert upgrade.returncode != 0
    assert "refusing to migrate: cannot prove this connection holds a session of its own" in (
        upgrade.stderr
    )
    assert guards_fingerprint(direct) == before
    assert query(direct, "SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'") == [
        (0,)
    ]
    assert _session(through) == pristine
    # The same revision applies on the direct connection, where the session is its own.
    assert _alembic_upgrade(migrations, direct).returncode == 0
    assert guards_fingerprint(direct) != before


def _alembic_upgrade(migrations: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(migrations / "alembic.ini"), "upgrade", "head"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "DATABASE_URL": url, "SCHEMALOCK_DATABASE_URL": ""},
    )


def guards_fingerprint(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as connection:
        return guards.fingerprint(connection, ["public"])


@pytest.mark.parametrize(
    ("told", "backend", "host", "own"),
    [
        (4242, 4242, "db.example.com", True),  # straight to the server (or through a TCP proxy)
        (4242, 4242, "/var/run/postgresql", True),
        (-672887145, 5489, "127.0.0.1", False),  # PgBouncer names a pid of its own
        (-672887145, 5489, "db.internal", False),
        (1, 5489, "ep-cool-darkness-123456.us-east-2.aws.neon.tech", True),  # Neon's proxy
        (1, 5489, "EP-COOL-DARKNESS-123456.us-east-2.aws.neon.tech", True),
        (1, 5489, "ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech", False),
        (1, 5489, "ep-x.neon.tech.example.com", False),
        (1, 5489, "neon.tech", False),
    ],
)
def test_who_holds_a_session_of_its_own(told: int, backend: int, host: str, own: bool) -> None:
    assert (guards.shared_session_reason(told, backend, host) is None) is own


def test_a_query_queued_in_the_pooler_too_long_is_inconclusive(
    pg_server: Server, database: str, tmp_path: Path
) -> None:
    """D19: every server connection of the pool is busy (another client holds the only one in
    a transaction), so the pooler gives up on verify's query after query_wait_timeout: the run
    is inconclusive (exit 4) and says why, never a pass and never a lost connection."""
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", LOCK)
    with _bouncer(pg_server, query_wait_timeout=1) as pool:
        through = pool.url_for(str(conninfo_to_dict(database)["dbname"]))
        with psycopg.connect(through) as busy:
            busy.execute("SELECT 1")  # holds the pool's one server connection, in a transaction
            result = run_cli("verify", "--lock", lock, "--database-url", through)
    assert result.exit_code == 4, result.stdout + result.stderr
    assert result.stderr == (
        "schemalock: error: connection: the pooler's queue timed out (query_wait_timeout): "
        "every server connection of the pool was busy; try again when it is less busy, or "
        "connect to the server directly\n"
    )


def test_start_up_options_a_pooler_refuses_are_explained(pooled: tuple[str, str]) -> None:
    """C15: schemalock never relies on start-up `options` (its limits are SET LOCAL in each
    transaction, as the other tests here show); one the user puts in the URL, which PgBouncer
    refuses, is exit 3 saying what to do."""
    _, through = pooled
    url = f"{through} options='-c statement_timeout=5s'"
    result = run_cli("snapshot", "--database-url", url)
    assert result.exit_code == 3, result.stderr
    assert "unsupported startup parameter" in result.stderr
    assert "a connection pooler accepts few start-up parameters: leave it out of the URL" in (
        result.stderr
    )
