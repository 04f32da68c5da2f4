"""Catalogue cases C01-C17 (issue 9; research/reliability-anchors.md, section 3.C): a run that
cannot connect, or takes its credentials from elsewhere, fails with the documented exit code
(3: connection; 2: what the user must fix in the URL or the environment) in one line carrying
libpq's or the server's own words, and no spelling of the password anywhere.

The servers the cases need but the suite has none of (one that never answers, one that demands
TLS, one that speaks TLS, one slow to wake) are small asyncio servers on 127.0.0.1 here; the
ones that answer hand the connection on to the test's real server."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from psycopg.conninfo import conninfo_to_dict

from conftest import Server, as_role, execute, run_cli, url_as, write

pytestmark = pytest.mark.db

SENTINEL = "S3ntinel-Pw%2F@:"
EMPTY_LOCK = "version: 1\ntables: {}\n"


def secret_forms(secret: str = SENTINEL) -> set[str]:
    """Every spelling of `secret` a log could show: raw, percent-encoded, percent-decoded, and
    base64 of the raw and the encoded one."""
    encoded = quote(secret, safe="")
    forms = {secret, encoded, quote(secret), unquote(secret)}
    return forms | {base64.b64encode(form.encode()).decode() for form in (secret, encoded)}


def assert_no_secret(*outputs: str, secret: str = SENTINEL) -> None:
    for output in outputs:
        for form in secret_forms(secret):
            assert form not in output, f"{form!r} shown"


def one_error_line(stderr: str) -> str:
    """stderr holds exactly one line, schemalock's error; returns it."""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("schemalock: error: "), stderr
    return lines[0]


def _lock(tmp_path: Path) -> str:
    return write(tmp_path / "schema_lock.yaml", EMPTY_LOCK)


# --- small servers on 127.0.0.1 ---------------------------------------------------------------

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
SSL_REQUEST, GSSENC_REQUEST = 80877103, 80877104


@contextlib.contextmanager
def tcp_server(handler: Handler) -> Iterator[int]:
    """`handler` serving each client of a TCP server on 127.0.0.1, in an event loop of its own
    thread; yields the port.  A client's error stays in its handler (a test reads the client)."""

    async def quietly(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await handler(reader, writer)
        writer.close()

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(asyncio.start_server(quietly, "127.0.0.1", 0))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.run_until_complete(_shut(server))
        loop.close()


async def _shut(server: asyncio.Server) -> None:
    """Stop listening, and end every client's handler still running."""
    server.close()
    handlers = asyncio.all_tasks() - {asyncio.current_task()}
    for task in handlers:
        task.cancel()
    await asyncio.gather(*handlers, return_exceptions=True)
    await server.wait_closed()


async def _packet(reader: asyncio.StreamReader) -> bytes:
    """One length-prefixed start-up packet, length included."""
    head = await reader.readexactly(4)
    return head + await reader.readexactly(int.from_bytes(head, "big") - 4)


async def startup_packet(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tls: ssl.SSLContext | None = None
) -> bytes:
    """Answers the client's encryption requests (TLS with `tls` when given, else `N`: no) and
    returns its start-up packet."""
    while True:
        packet = await _packet(reader)
        code = int.from_bytes(packet[4:8], "big")
        if code == SSL_REQUEST and tls is not None:
            writer.write(b"S")
            await writer.drain()
            await writer.start_tls(tls)
        elif code in (SSL_REQUEST, GSSENC_REQUEST):
            writer.write(b"N")
            await writer.drain()
        else:
            return packet


def error_response(sqlstate: str, message: str) -> bytes:
    """A FATAL ErrorResponse, as a server sends it to refuse a connection."""
    fields = b"".join(
        kind + value.encode() + b"\0"
        for kind, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", sqlstate), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + (len(body) + 4).to_bytes(4, "big") + body


def _open_upstream(
    url: str,
) -> Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]:
    """Opens a connection to the server of `url` (a TCP port, or the embedded server's Unix
    socket)."""
    params = conninfo_to_dict(url)
    host, port = str(params.get("host") or "/tmp"), str(params.get("port") or "5432")
    if host.startswith("/"):  # the embedded server listens on a Unix socket only
        return lambda: asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
    return lambda: asyncio.open_connection(host, int(port))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


def forwarding(url: str, delay_s: float = 0.0, tls: ssl.SSLContext | None = None) -> Handler:
    """A proxy to the server of `url`: waits `delay_s` before it answers anything (a compute
    waking up), and speaks TLS to the client when given `tls` (the server itself need not)."""
    upstream = _open_upstream(url)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(delay_s)
        first = await startup_packet(reader, writer, tls)
        server_reader, server_writer = await upstream()
        server_writer.write(first)
        await asyncio.gather(_pipe(reader, server_writer), _pipe(server_reader, writer))

    return handle


# --- C01 C03 C17: no server, a silent one, no URL ------------------------------------------


def test_c01_an_unknown_host_is_named_and_exits_3(tmp_path: Path) -> None:
    """C01: a host name that does not resolve: exit 3, at once, naming the host; no secret."""
    url = f"postgresql://app:{quote(SENTINEL, safe='')}@ep-typo.invalid:5432/neondb"
    started = time.monotonic()
    result = run_cli("verify", "--lock", _lock(tmp_path), "--database-url", url)
    assert result.exit_code == 3, result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith("schemalock: error: cannot connect: ")
    assert "ep-typo.invalid" in line
    assert time.monotonic() - started < 10
    assert_no_secret(result.stdout, result.stderr)


@contextlib.contextmanager
def _silent_listener() -> Iterator[int]:
    """A port that accepts the TCP handshake (the kernel's backlog does) and never says a word:
    a blackholed or frozen server, as the client sees it."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield int(listener.getsockname()[1])


def test_c03_a_silent_server_times_out(tmp_path: Path) -> None:
    """C03: SCHEMALOCK_CONNECT_TIMEOUT bounds the wait for a server that never answers: exit 3
    `timeout expired` after about that long; a timeout that is not whole seconds is exit 2."""
    with _silent_listener() as port:
        url = f"postgresql://app:{quote(SENTINEL, safe='')}@127.0.0.1:{port}/db?sslmode=disable"
        started = time.monotonic()
        result = run_cli(
            "verify", "--lock", _lock(tmp_path), "--database-url", url,
            env={"SCHEMALOCK_CONNECT_TIMEOUT": "2"},
        )  # fmt: skip
        waited = time.monotonic() - started
    assert result.exit_code == 3, result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith("schemalock: error: cannot connect: ")
    assert "timeout expired" in line
    assert 1.5 < waited < 10, waited
    assert_no_secret(result.stdout, result.stderr)
    bad = run_cli(
        "verify", "--lock", _lock(tmp_path), "--database-url", url,
        env={"SCHEMALOCK_CONNECT_TIMEOUT": "soon"},
    )  # fmt: skip
    assert bad.exit_code == 2
    assert one_error_line(bad.stderr) == (
        "schemalock: error: SCHEMALOCK_CONNECT_TIMEOUT must be whole seconds, not 'soon'"
    )


@pytest.mark.parametrize("variable", ["DATABASE_URL", "SCHEMALOCK_DATABASE_URL"])
def test_c17_an_empty_database_url_is_no_database(tmp_path: Path, variable: str) -> None:
    """C17: a fork's pull request gets its secrets as empty strings: exit 2, "no database",
    never a connection to some default server."""
    result = run_cli("verify", "--lock", _lock(tmp_path), env={variable: ""})
    assert result.exit_code == 2, result.stderr
    assert one_error_line(result.stderr) == (
        "schemalock: error: no database: pass --database-url or set SCHEMALOCK_DATABASE_URL "
        "or DATABASE_URL"
    )
    assert result.stdout == ""


# --- C06 C07: where the password comes from --------------------------------------------------


@contextlib.contextmanager
def _password_role(pg_server: Server, database: str, password: str) -> Iterator[str]:
    """A role that must give `password` (scram-sha-256 on the embedded server's Unix socket,
    the only way in); yields the URL of `database` as that role, without a password."""
    if not pg_server.embedded or pg_server.data_dir is None:
        pytest.skip("needs the embedded server, whose pg_hba.conf the test may change")
    role = f"sl_pw_{uuid.uuid4().hex[:8]}"
    hba = Path(pg_server.data_dir) / "pg_hba.conf"
    original = hba.read_text()
    execute(database, f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    hba.write_text(f"local all {role} scram-sha-256\n" + original)
    execute(pg_server.admin_url, "SELECT pg_reload_conf()")
    try:
        params = conninfo_to_dict(database)
        yield f"postgresql://{role}@/{params['dbname']}?host={params['host']}"
    finally:
        hba.write_text(original)
        execute(pg_server.admin_url, "SELECT pg_reload_conf()")
        execute(database, f"DROP ROLE {role}")


def _with_password(url: str, password: str) -> str:
    user, rest = url.split("@", 1)
    return f"{user}:{quote(password, safe='')}@{rest}"


def test_c06_password_sources_follow_libpq_s_precedence(
    pg_server: Server, database: str, tmp_path: Path
) -> None:
    """C06: schemalock hands the URL to libpq unchanged, so libpq's order holds: the URL's
    password, else PGPASSWORD, else the password file (PGPASSFILE).  A wrong one is exit 3,
    `password authentication failed`, and never shown; the next source is never tried."""
    right, wrong = "right-Pw-7f3c9a", SENTINEL
    lock = _lock(tmp_path)
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"*:*:*:*:{right}\n")
    passfile.chmod(0o600)
    with _password_role(pg_server, database, right) as url:
        cases = [
            (url, {"PGPASSWORD": right}, 0),
            (url, {"PGPASSFILE": str(passfile)}, 0),
            (_with_password(url, right), {"PGPASSWORD": wrong}, 0),
            (url, {"PGPASSWORD": wrong}, 3),
            (url, {"PGPASSWORD": wrong, "PGPASSFILE": str(passfile)}, 3),
            (_with_password(url, wrong), {"PGPASSWORD": right}, 3),
        ]
        results = [
            (run_cli("verify", "--lock", lock, "--database-url", u, env=e), e) for u, e, _ in cases
        ]
    for (result, env), (_, _, code) in zip(results, cases, strict=True):
        assert result.exit_code == code, (env, result.stderr)
        if code == 3:
            assert "password authentication failed" in one_error_line(result.stderr)
        assert_no_secret(result.stdout, result.stderr)
        assert right not in result.stdout + result.stderr


def test_c07_a_url_from_the_environment_is_never_shown(database: str, tmp_path: Path) -> None:
    """C07: the whole URL as one CI secret (DATABASE_URL), its password holding `%2F`, `@` and
    `:`: neither the failure (also under --debug, with its traceback) nor a successful JSON
    report shows it raw, percent-encoded, percent-decoded or in base64."""
    lock = _lock(tmp_path)
    closed = f"postgresql://app:{quote(SENTINEL, safe='')}@127.0.0.1:9/db"
    for args in (("verify", "--lock", lock), ("snapshot",)):
        result = run_cli(*args, env={"DATABASE_URL": closed})
        assert result.exit_code == 3, result.stderr
        assert one_error_line(result.stderr).startswith("schemalock: error: cannot connect: ")
        assert_no_secret(result.stdout, result.stderr)
    env = {k: v for k, v in os.environ.items() if k != "SCHEMALOCK_DATABASE_URL"}
    debug = subprocess.run(
        [sys.executable, "-m", "schemalock", "--debug", "verify", "--lock", lock],
        capture_output=True, text=True, timeout=60, check=False,
        env={**env, "DATABASE_URL": closed},
    )  # fmt: skip
    assert debug.returncode == 3, debug.stderr
    assert "Traceback" in debug.stderr
    assert_no_secret(debug.stdout, debug.stderr)
    # Trust authentication ignores the password: the run connects and reports its target.
    live = _with_password(_as_url(database), SENTINEL)
    report = run_cli("verify", "--lock", lock, "--format", "json", env={"DATABASE_URL": live})
    assert report.exit_code == 0, report.stderr
    assert ":***@" in json.loads(report.stdout)["target"]["url"]
    assert_no_secret(report.stdout, report.stderr)


def _as_url(conninfo: str) -> str:
    """A key=value connection string of the test server as a postgresql:// URL."""
    params = conninfo_to_dict(conninfo)
    host, port = str(params.get("host") or ""), str(params.get("port") or "")
    user, name = params.get("user", "postgres"), params["dbname"]
    if host.startswith("/"):
        return f"postgresql://{user}@/{name}?host={host}" + (f"&port={port}" if port else "")
    return f"postgresql://{user}@{host}" + (f":{port}" if port else "") + f"/{name}"


# --- C08 C10 C11: TLS and channel binding -----------------------------------------------------

# What Neon's proxy answers a client that did not ask for TLS.
NEON_INSECURE = "connection is insecure (try using `sslmode=require`)"


async def _refuse_without_tls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await startup_packet(reader, writer)
    writer.write(error_response("28000", NEON_INSECURE))
    await writer.drain()


@pytest.mark.parametrize("sslmode", ["disable", "prefer"])
def test_c08_a_server_that_requires_tls_is_exit_3_in_its_words(
    tmp_path: Path, sslmode: str
) -> None:
    """C08: a server (Neon's proxy) refusing a connection without TLS: exit 3, its message
    passed on whole, one line, no secret."""
    with tcp_server(_refuse_without_tls) as port:
        url = f"postgresql://app:{quote(SENTINEL, safe='')}@127.0.0.1:{port}/db?sslmode={sslmode}"
        result = run_cli("verify", "--lock", _lock(tmp_path), "--database-url", url)
    assert result.exit_code == 3, result.stderr
    line = one_error_line(result.stderr)
    assert line.startswith("schemalock: error: cannot connect: ")
    assert NEON_INSECURE in line
    assert_no_secret(result.stdout, result.stderr)


@pytest.fixture
def tls_files(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def test_c10_verify_full_without_a_root_certificate_says_how_to_give_one(
    database: str, tmp_path: Path, tls_files: tuple[Path, Path]
) -> None:
    """C10: `sslmode=verify-full` with no root certificate (an empty HOME, so no
    ~/.postgresql/root.crt): exit 3 naming root.crt and `sslrootcert=system`; given the
    certificate, the same URL verifies.  The TLS end is a proxy in front of the test server."""
    cert, key = tls_files
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    home = tmp_path / "home"
    home.mkdir()
    lock = _lock(tmp_path)
    with tcp_server(forwarding(database, tls=context)) as port:
        url = url_as(database, host="127.0.0.1", port=str(port), sslmode="verify-full")
        missing = run_cli("verify", "--lock", lock, "--database-url", url, env={"HOME": str(home)})
        given = run_cli(
            "verify", "--lock", lock, "--database-url", url_as(url, sslrootcert=str(cert))
        )
    assert missing.exit_code == 3, missing.stderr
    line = one_error_line(missing.stderr)
    assert "root.crt" in line
    assert "sslrootcert=system" in line
    assert given.exit_code == 0, given.stderr
    assert given.stdout.startswith("No findings")


def test_c11_channel_binding_that_cannot_be_met_is_exit_3(database: str, tmp_path: Path) -> None:
    """C11: `channel_binding=require` where the server authenticates without it (trust, no
    TLS): exit 3 in libpq's words, never a connection that silently dropped the option."""
    url = url_as(database, channel_binding="require")
    result = run_cli("verify", "--lock", _lock(tmp_path), "--database-url", url)
    assert result.exit_code == 3, result.stderr
    assert "channel binding required" in one_error_line(result.stderr)


# --- C14: connection limits --------------------------------------------------------------------

PARENT_CHILD = """
CREATE TABLE parent (id integer PRIMARY KEY);
CREATE TABLE child (id integer PRIMARY KEY, parent_id integer REFERENCES parent (id));
CREATE INDEX child_parent_id ON child (parent_id);
INSERT INTO parent VALUES (1), (2);
INSERT INTO child VALUES (1, 1), (2, 2), (3, NULL);
"""


def test_c14_connection_limits(database: str, tmp_path: Path) -> None:
    """C14: a role allowed no connection: exit 3 `too many connections`.  Allowed one: verify,
    row checks and all, needs no second (exit 0 with the orphan check run); allowed two, `fix
    --apply` (its guard session and Alembic's) applies."""
    execute(database, PARENT_CHILD)
    lock = write(tmp_path / "schema_lock.yaml", run_cli("snapshot", "-d", database).stdout)
    with as_role(database, "ALTER ROLE {role} CONNECTION LIMIT 0") as none:
        refused = run_cli("verify", "--lock", lock, "--database-url", none)
    assert refused.exit_code == 3, refused.stderr
    assert "too many connections for role" in one_error_line(refused.stderr)
    # A NOT VALID key makes verify count orphans: a row check, on the one connection.
    execute(
        database,
        "ALTER TABLE child DROP CONSTRAINT child_parent_id_fkey;"
        " ALTER TABLE child ADD CONSTRAINT child_parent_id_fkey FOREIGN KEY (parent_id)"
        " REFERENCES parent (id) NOT VALID",
    )
    grants = "ALTER ROLE {role} CONNECTION LIMIT 1; GRANT SELECT ON parent, child TO {role}"
    with as_role(database, grants) as one:
        checked = run_cli("verify", "--lock", lock, "--database-url", one, "--format", "json")
    report = json.loads(checked.stdout)
    assert (checked.exit_code, report["inconclusive"]) == (1, []), checked.stdout
    assert {f["rule"] for f in report["findings"]} == {"fk-not-validated"}, report["findings"]
    owner = (
        "ALTER ROLE {role} CONNECTION LIMIT 2; GRANT CREATE ON SCHEMA public TO {role};"
        " ALTER TABLE parent OWNER TO {role}; ALTER TABLE child OWNER TO {role}"
    )
    with as_role(database, owner) as two:
        applied = run_cli(
            "fix", "--apply", "--lock", lock, "--database-url", two,
            "--migrations", str(tmp_path / "migrations"),
        )  # fmt: skip
        assert applied.exit_code == 0, applied.stderr
        again = run_cli("verify", "--lock", lock, "--database-url", two)
    assert again.exit_code == 0, again.stdout
