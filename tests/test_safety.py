"""Safety on a real server: read-only transactions with their limits in force, nothing left in
the session, honest failures (exit 3 and 4), and no password in any output."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from psycopg.conninfo import conninfo_to_dict

from conftest import Server, execute, lock_held, query, run_cli, write
from schemalock import db, introspect
from schemalock.errors import Inconclusive
from test_roundtrip import RICH_SCHEMA, snapshot

pytestmark = pytest.mark.db

SENTINEL = "S3ntinel-Pw%2F@:"


def _as_url(conninfo: str, scheme: str = "postgresql", password: str | None = None) -> str:
    params = conninfo_to_dict(conninfo)
    user = params.get("user", "postgres")
    auth = f"{user}:{quote(password, safe='')}" if password else str(user)
    host = params.get("host", "")
    netloc = f"{auth}@{host}" if host and not str(host).startswith("/") else f"{auth}@"
    if params.get("port") and host and not str(host).startswith("/"):
        netloc += f":{params['port']}"
    query = f"?host={host}" if str(host).startswith("/") else ""
    if params.get("port") and str(host).startswith("/"):
        query += f"&port={params['port']}"
    return f"{scheme}://{netloc}/{params['dbname']}{query}"


def _assert_no_secret(*outputs: str) -> None:
    forms = {SENTINEL, quote(SENTINEL, safe=""), base64.b64encode(SENTINEL.encode()).decode()}
    for output in outputs:
        for form in forms:
            assert form not in output


def test_settings_are_in_force_inside_the_transaction(database: str) -> None:
    connection = db.connect(database)
    try:
        with db.read_only(connection, db.Timeouts(statement_ms=12_000)) as conn:
            shown = {
                name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
                for name in (
                    "statement_timeout",
                    "lock_timeout",
                    "idle_in_transaction_session_timeout",
                    "transaction_read_only",
                    "transaction_isolation",
                    "search_path",
                    "application_name",
                )
            }
        after = connection.execute("SHOW statement_timeout").fetchone()
    finally:
        connection.close()
    assert shown["statement_timeout"] == "12s"
    assert shown["lock_timeout"] == "4s"
    assert shown["idle_in_transaction_session_timeout"] == "42s"
    assert shown["transaction_read_only"] == "on"
    assert shown["transaction_isolation"] == "repeatable read"
    assert shown["search_path"] == "pg_catalog, public"
    assert shown["application_name"] == "schemalock/0.1.0/verify"
    assert after is not None
    assert after[0] != "12s", "SET LOCAL must not leak into the session"


def test_reads_cannot_write(database: str) -> None:
    execute(database, "CREATE TABLE t (id int)")
    connection = db.connect(database)
    try:
        with (
            pytest.raises(Inconclusive, match="cannot execute INSERT in a read-only transaction"),
            db.read_only(connection, db.Timeouts()) as conn,
        ):
            conn.execute("INSERT INTO public.t VALUES (1)")
    finally:
        connection.close()
    assert query(database, "SELECT count(*) FROM t") == [(0,)]


def test_no_server_side_prepared_statements(database: str) -> None:
    """A transaction-mode pooler (Neon -pooler) breaks prepared statements: never make any."""
    execute(database, RICH_SCHEMA)
    connection = db.connect(database)
    try:
        for _ in range(8):  # psycopg would prepare from the 5th execution by default
            with db.read_only(connection, db.Timeouts()) as conn:
                introspect.introspect(conn, ["public"])
        prepared = connection.execute("SELECT count(*) FROM pg_prepared_statements").fetchone()
    finally:
        connection.close()
    assert prepared == (0,)


def test_hostile_search_path_cannot_shadow_catalog_functions(database: str, tmp_path: Path) -> None:
    execute(database, RICH_SCHEMA)
    lock = tmp_path / "lock.yaml"
    snapshot(database, lock)
    execute(
        database,
        """
        CREATE SCHEMA evil;
        CREATE FUNCTION evil.format_type(oid, integer) RETURNS text
            LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked format_type'; END $$;
        CREATE FUNCTION evil.name_eq_text(name, text) RETURNS boolean
            LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked ='; END $$;
        CREATE OPERATOR evil.= (LEFTARG = name, RIGHTARG = text, FUNCTION = evil.name_eq_text);
        CREATE FUNCTION public.pg_get_expr(pg_node_tree, oid) RETURNS text
            LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'hijacked pg_get_expr'; END $$;
    """,
    )
    dbname = conninfo_to_dict(database)["dbname"]
    execute(database, f'ALTER DATABASE "{dbname}" SET search_path = evil, public')
    result = run_cli("verify", "--lock", str(lock), "--database-url", database)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "hijacked" not in result.stdout + result.stderr


@pytest.fixture
def lock_holder(database: str) -> Iterator[None]:
    execute(database, RICH_SCHEMA)
    with lock_held(database, "jobs"):
        yield


def test_a_held_lock_makes_verify_inconclusive(
    database: str, tmp_path: Path, lock_holder: None
) -> None:
    lock = write(tmp_path / "lock.yaml", "version: 1\ntables: {}\n")
    result = run_cli(
        "verify",
        "--lock",
        lock,
        "--database-url",
        database,
        "--format",
        "json",
        "--statement-timeout",
        "1.5",
    )
    report = json.loads(result.stdout)
    assert result.exit_code == 4
    assert report["findings"] == []
    assert report["summary"]["inconclusive"] == 1
    assert report["inconclusive"][0]["rule"] == "introspection"
    assert "lock_timeout (500 ms)" in report["inconclusive"][0]["reason"]


def test_statement_timeout_is_inconclusive(database: str, lock_holder: None) -> None:
    class SlowLocks(db.Timeouts):
        @property
        def lock_ms(self) -> int:  # waits on the lock long enough for statement_timeout
            return 10_000

    connection = db.connect(database)
    try:
        with (
            pytest.raises(Inconclusive, match="statement_timeout \\(300 ms\\) reached"),
            db.read_only(connection, SlowLocks(statement_ms=300)) as conn,
        ):
            introspect.introspect(conn, ["public"])
    finally:
        connection.close()


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_url_schemes(database: str, tmp_path: Path, scheme: str) -> None:
    lock = write(tmp_path / "lock.yaml", "version: 1\ntables: {}\n")
    result = run_cli("verify", "--lock", lock, "--database-url", _as_url(database, scheme))
    assert result.exit_code == 0, result.stderr


def test_database_url_from_the_environment(database: str, tmp_path: Path) -> None:
    lock = write(tmp_path / "lock.yaml", "version: 1\ntables: {}\n")
    assert run_cli("verify", "--lock", lock, env={"DATABASE_URL": database}).exit_code == 0
    assert (
        run_cli(
            "verify",
            "--lock",
            lock,
            env={
                "SCHEMALOCK_DATABASE_URL": database,
                "DATABASE_URL": "postgresql://x@127.0.0.1:9/x",
            },
        ).exit_code
        == 0
    )
    result = run_cli("verify", "--lock", lock)
    assert result.exit_code == 2
    assert "no database" in result.stderr


@pytest.mark.parametrize(
    ("url", "code", "needle"),
    [
        (f"postgresql://app:{quote(SENTINEL, safe='')}@127.0.0.1:9/neondb", 3, "cannot connect"),
        (
            f"postgresql://app:{quote(SENTINEL, safe='')}@host.invalid:5432/neondb",
            3,
            "cannot connect",
        ),
        (
            f"postgresql://app:{quote(SENTINEL, safe='')}@127.0.0.1:abc/neondb",
            2,
            "invalid database URL",
        ),
        (f"host=127.0.0.1 port=9 password='{SENTINEL}' dbname", 2, "invalid database URL"),
        # Unencoded, the @ and / of the password would make part of it the host or the port.
        (f"postgresql://app:{SENTINEL}@127.0.0.1:9/neondb", 2, "percent-encode @ and /"),
        (f"postgresql://app:{SENTINEL} x@127.0.0.1:9/neondb", 2, "percent-encode @ and /"),
    ],
)
def test_connection_failures_redact_the_password(
    tmp_path: Path, url: str, code: int, needle: str
) -> None:
    lock = write(tmp_path / "lock.yaml", "version: 1\ntables: {}\n")
    for args in (
        ("verify", "--lock", lock, "--database-url", url),
        ("snapshot", "--database-url", url),
    ):
        result = run_cli(*args)
        assert result.exit_code == code, result.stderr
        assert needle in result.stderr
        assert result.stderr.count("\n") == 1
        assert "Traceback" not in result.stderr
        _assert_no_secret(result.stdout, result.stderr)
    # --debug shows the traceback, and still no password.
    debug = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemalock",
            "--debug",
            "verify",
            "--lock",
            lock,
            "--database-url",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert debug.returncode == code
    assert "Traceback" in debug.stderr
    _assert_no_secret(debug.stdout, debug.stderr)


def test_unknown_database_is_a_connection_failure(database: str, tmp_path: Path) -> None:
    lock = write(tmp_path / "lock.yaml", "version: 1\ntables: {}\n")
    params = conninfo_to_dict(database)
    params["dbname"] = "no_such_database"
    from psycopg.conninfo import make_conninfo

    result = run_cli("verify", "--lock", lock, "--database-url", make_conninfo(**params))  # type: ignore[arg-type]
    assert result.exit_code == 3
    assert 'database "no_such_database" does not exist' in result.stderr


def test_wrong_password(pg_server: Server, database: str, tmp_path: Path) -> None:
    if not pg_server.embedded or pg_server.data_dir is None:
        pytest.skip("needs the embedded server, whose pg_hba.conf the test may change")
    hba = Path(pg_server.data_dir) / "pg_hba.conf"
    original = hba.read_text()
    execute(database, f"CREATE ROLE sl_pw_user LOGIN PASSWORD 'right-{SENTINEL}'")
    hba.write_text("local all sl_pw_user scram-sha-256\n" + original)
    execute(pg_server.admin_url, "SELECT pg_reload_conf()")
    try:
        lock = write(tmp_path / "lock.yaml", "version: 1\ntables: {}\n")
        params = conninfo_to_dict(database)
        host = params["host"]
        url = f"postgresql://sl_pw_user:{quote(SENTINEL, safe='')}@/{params['dbname']}?host={host}"
        result = run_cli("verify", "--lock", lock, "--database-url", url)
        assert result.exit_code == 3
        assert "password authentication failed" in result.stderr
        _assert_no_secret(result.stdout, result.stderr)
    finally:
        hba.write_text(original)
        execute(pg_server.admin_url, "SELECT pg_reload_conf()")
        execute(database, "DROP ROLE sl_pw_user")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            f"postgresql://app:{quote(SENTINEL, safe='')}@ep-x-123.neon.tech/neondb"
            "?sslmode=require",
            "postgresql://app:***@ep-x-123.neon.tech/neondb?sslmode=require",
        ),
        (
            f"postgresql://app@h/db?password={quote(SENTINEL, safe='')}&sslmode=require",
            "postgresql://app@h/db?password=***&sslmode=require",
        ),
        (
            f"postgresql://app@h/db?sslpassword={quote(SENTINEL, safe='')}",
            "postgresql://app@h/db?sslpassword=***",
        ),
        (
            f"host=h sslpassword=k{SENTINEL[:4]} password='{SENTINEL}' dbname=db",
            "host=h sslpassword=*** password=*** dbname=db",
        ),
        ("postgresql://app@h:5432/db", "postgresql://app@h:5432/db"),
    ],
)
def test_display_url(url: str, shown: str) -> None:
    assert db.display_url(url) == shown
    _assert_no_secret(db.display_url(url))


def test_internal_errors_are_redacted_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last line of defence: an unexpected error's message never shows the password."""
    from schemalock.check import verify as verifying

    url = f"postgresql://app:{quote(SENTINEL, safe='')}@127.0.0.1:9/db?sslmode=disable"

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"unexpected, while using {url} and {SENTINEL}")

    monkeypatch.setattr(verifying, "verify", explode)
    lock = write(tmp_path / "lock.yaml", "version: 1\ntables: {}\n")
    result = run_cli("verify", "--lock", lock, "--database-url", url)
    assert result.exit_code == 2
    assert "internal error: RuntimeError" in result.stderr
    _assert_no_secret(result.stdout, result.stderr)


# Passwords a person might really have: so short, or so ordinary, that they also stand in prose.
EVERYDAY_PASSWORDS = ["a", "1", "12", "127", "abc", "postgres", "database"]


@pytest.mark.parametrize("password", EVERYDAY_PASSWORDS)
def test_everyday_passwords_are_hidden_where_they_stand_not_in_prose(
    database: str, tmp_path: Path, password: str
) -> None:
    """A one-letter password once made every `a` of a message `***` (`c***nnot connect`),
    garbling it and, by the gaps, telling the password.  Redaction hides the password where a
    connection string writes one, and leaves the sentence whole."""
    lock = write(tmp_path / "lock.yaml", "version: 1\ntables: {}\n")
    # Trust authentication ignores the password: the run connects, and reports its target.
    url = _as_url(database, password=password)
    result = run_cli("verify", "--lock", lock, "--database-url", url, "--format", "json")
    assert result.exit_code == 0, result.stderr
    target = json.loads(result.stdout)["target"]["url"]
    assert target == _as_url(database).replace("postgres@", "postgres:***@", 1)
    assert f":{password}@" not in result.stdout + result.stderr
    # The same password in a failure: the message reads as libpq wrote it.
    closed = f"postgresql://app:{password}@127.0.0.1:9/database"
    failed = run_cli("verify", "--lock", lock, "--database-url", closed)
    assert failed.exit_code == 3
    assert failed.stderr.startswith(
        "schemalock: error: cannot connect: connection failed: "
        'connection to server at "127.0.0.1", port 9 failed: '
        "Connection refused; Is the server running on that host and accepting TCP/IP connections?"
    )
    message = f"cannot use {closed}, nor host=h password={password} dbname=database"
    assert db.redact(message, closed) == (
        "cannot use postgresql://app:***@127.0.0.1:9/database, nor host=h password=*** "
        "dbname=database"
    )


@pytest.mark.parametrize("password", ["a b", "pass word", "x y z"])
def test_a_password_libpq_quotes_back_is_hidden(tmp_path: Path, password: str) -> None:
    """libpq quotes the piece of a connection string it could not read, which may be part of
    an unquoted password."""
    lock = write(tmp_path / "lock.yaml", "version: 1\ntables: {}\n")
    url = f"host=127.0.0.1 port=9 password={password} dbname=x"
    result = run_cli("verify", "--lock", lock, "--database-url", url)
    assert result.exit_code == 2
    assert 'missing "=" after "***" in connection info string' in result.stderr
    assert f'"{password.split()[-1]}"' not in result.stderr


@pytest.mark.parametrize(
    ("text", "secret", "shown"),
    [
        ("a database is a place", "postgresql://u:database@h/db", "a database is a place"),
        ("role postgres: cannot", "postgres://postgres:postgres@h/db", "role postgres: cannot"),
        (
            f"used {SENTINEL} here",
            f"postgresql://u:{quote(SENTINEL, safe='')}@h/db",
            "used *** here",
        ),
        ("npg_4xQ8zT2 leaked", "postgresql://u:npg_4xQ8zT2@h/db", "*** leaked"),
        ("see password='a b' there", "host=h password='a b'", "see password=*** there"),
        (
            "url postgres://u:p@ss@h/db end",
            "postgres://u:p%40ss@h/db",
            "url postgres://u:***@h/db end",
        ),
    ],
)
def test_redaction_rules(text: str, secret: str, shown: str) -> None:
    assert db.redact(text, secret) == shown


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:S3cr@tPw/x9@127.0.0.1:9/db",
        "postgres://app:a@b@127.0.0.1/db?sslmode=disable",
        "postgresql://app:pa@ss@host.invalid/db",
    ],
)
def test_an_unencoded_at_sign_never_turns_the_password_into_a_host(
    tmp_path: Path, url: str
) -> None:
    """libpq reads `user:pa@ss@host` as the host `ss@host`, and would print it."""
    lock = write(tmp_path / "lock.yaml", "version: 1\ntables: {}\n")
    result = run_cli("verify", "--lock", lock, "--database-url", url)
    assert result.exit_code == 2
    assert result.stderr == (
        "schemalock: error: invalid database URL (more than one @ before the host: "
        "percent-encode @ and / in the user name and password, as %40 and %2F); "
        "password redacted\n"
    )


@pytest.mark.parametrize("error", ["DeadlockDetected", "SerializationFailure"])
def test_another_session_in_the_way_is_not_a_lost_connection(error: str) -> None:
    """Both are psycopg's OperationalError, like a dropped connection; the message says what
    happened."""
    import psycopg

    raised = getattr(psycopg.errors, error)("deadlock detected")
    with pytest.raises(Inconclusive) as caught, db.inconclusive_errors("fk-orphans", db.Timeouts()):
        raise raised
    assert caught.value.reason == "another session was in the way (deadlock detected)"
