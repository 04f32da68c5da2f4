"""Data checks asked together (probe/pipeline.py): the round trips of `verify` do not grow with
the number of tables, a failing check leaves every other one answered and itself inconclusive
with the server's reason, and every answer is the one the checks get one statement at a time:
directly, through a far-away network (bench/latency_proxy.py, in this process) and through
PgBouncer in transaction mode.  Round trips are counted by the proxy from the protocol (Query
and Sync messages: where libpq waits for the server), never timed."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from conftest import Server, execute, lock_held, run_cli, scratch_database, write
from schemalock import db
from schemalock.probe import Probe, pipeline
from test_pooler import _bouncer, _session

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from latency_proxy import Counts, proxied_url

pytestmark = pytest.mark.db


# Names that do not look alike (duplicate-table would pair look-alikes, one question a pair).
NAMES = (
    "accounts",
    "invoices",
    "ledgers",
    "shipments",
    "vendors",
    "carriers",
    "refunds",
    "coupons",
    "badges",
    "sessions",
    "tickets",
    "reviews",
    "folders",
    "devices",
    "regions",
    "budgets",
    "tariffs",
    "parcels",
    "routes",
    "drivers",
    "menus",
    "recipes",
    "kitchens",
    "orchards",
    "harvests",
    "tractors",
    "silos",
    "barns",
    "meadows",
    "lanterns",
)


def _build(url: str, children: int) -> str:
    """`parent` and `children` tables that reference it in the lock only (no foreign key, so
    each relation's orphans are counted), with accepted values (asked about before the scan),
    a pattern and mock-data detectors to scan for; every child has two orphans, one mock
    email, one value not accepted and one code off its pattern.  Returns the lock."""
    statements = [
        "CREATE TABLE parent (id integer PRIMARY KEY)",
        "INSERT INTO parent SELECT generate_series(1, 10)",
    ]
    lock = ["version: 1", "tables:", "  parent:", "    columns:"]
    lock.append("      id: {type: integer, primary_key: true}")
    for name in NAMES[:children]:
        statements += [
            f"CREATE TABLE {name} (id integer PRIMARY KEY, parent_id integer, kind text,"
            " code text, email text)",
            f"INSERT INTO {name} SELECT g, g, CASE WHEN g = 2 THEN 'c' ELSE 'a' END,"
            " CASE WHEN g = 3 THEN 'X-3' ELSE 'C-' || g END,"
            " CASE WHEN g = 1 THEN 'jane@example.com' ELSE 'person' || g || '@corp.io' END"
            " FROM generate_series(1, 12) g",
        ]
        lock += [
            f"  {name}:",
            "    columns:",
            "      id: {type: integer, primary_key: true}",
            "      parent_id: {type: integer, references: parent.id}",
            "      kind: {type: text, values: [a, b]}",
            "      code: {type: text, pattern: '^C-[0-9]+$'}",
            "      email: {type: text}",
        ]
    execute(url, ";\n".join(statements))
    return "\n".join(lock) + "\n"


def _verify(url: str, lock: Path, *options: str) -> dict[str, Any]:
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", url, "--format", "json", *options
    )
    assert result.exit_code in (0, 1, 4), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    report["exit_code"] = result.exit_code
    return report


def _through_proxy(
    url: str, lock: Path, *options: str, delay_s: float = 0.0
) -> tuple[dict[str, Any], Counts]:
    with proxied_url(url, delay_s) as (proxied, proxy):
        report = _verify(proxied, lock, *options)
        return report, proxy.counts()


def _answers(report: dict[str, Any]) -> dict[str, Any]:
    """What a report says about the database: its findings, inconclusive checks, exit code."""
    keep = ("code", "table", "column", "message", "count", "samples", "actual")
    return {
        "findings": [{key: f.get(key) for key in keep} for f in report["findings"]],
        "inconclusive": report["inconclusive"],
        "exit_code": report["exit_code"],
    }


@contextlib.contextmanager
def _one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Within it, verify asks nothing ahead: each question is its own statement, as before."""
    with monkeypatch.context() as patch:
        patch.setattr(Probe, "prefetch", lambda *_: None)
        yield


def _built(
    pg_server: Server, tmp_path: Path, build: Callable[[str, int], str], size: int
) -> tuple[dict[str, Any], Counts]:
    """Verify, through the proxy, of a fresh database `build` makes of `size` tables."""
    with scratch_database(pg_server) as name:
        url = pg_server.url_for(name)
        lock = tmp_path / f"{build.__name__}_{size}.yaml"
        write(lock, build(url, size))
        return _through_proxy(url, lock)


def test_round_trips_do_not_grow_with_tables(pg_server: Server, tmp_path: Path) -> None:
    trips, statements = {}, {}
    for children in (3, 30):
        report, counts = _built(pg_server, tmp_path, _build, children)
        # Each child's orphans, and one mock email, one value and one code out of place, each
        # with its sample (fetched once the count is known: asked ahead too).
        for code, count in (("SL201", 2), ("SL401", 1), ("SL402", 1), ("SL403", 1)):
            found = [f for f in report["findings"] if f["code"] == code]
            assert [f["count"] for f in found] == [count] * children, report["findings"]
            assert all(f["samples"] for f in found), found
        assert not report["inconclusive"]
        trips[children], statements[children] = counts.round_trips, counts.statements
    assert trips[30] == trips[3], (trips, statements)
    # Every table was asked about (its values, its scan, its orphans, ...): the statements
    # grew with the tables, the round trips did not.
    assert statements[30] - statements[3] >= 27 * 2, statements


def _build_copies(url: str, pairs: int) -> str:
    """`pairs` tables, each with a legacy copy the lock declares (`duplicate_of`) holding ten
    of its twelve rows and two of its own.  Returns the lock."""
    statements, lock = [], ["version: 1", "tables:"]
    for name in NAMES[:pairs]:
        statements += [
            f"CREATE TABLE {name} (code text PRIMARY KEY, email text)",
            f"INSERT INTO {name} SELECT 'C-' || g, 'p' || g || '@corp.io'"
            " FROM generate_series(1, 12) g",
            f"CREATE TABLE {name}_old (code text, email text)",
            f"INSERT INTO {name}_old SELECT 'C-' || g, 'p' || g || '@corp.io'"
            " FROM generate_series(3, 14) g",
        ]
        lock += [
            f"  {name}:",
            "    columns: {code: {type: text, primary_key: true}, email: {type: text}}",
            f"  {name}_old:",
            f"    duplicate_of: {name}",
            "    columns: {code: {type: text}, email: {type: text}}",
        ]
    execute(url, ";\n".join(statements))
    return "\n".join(lock) + "\n"


def test_duplicate_overlaps_are_asked_together(pg_server: Server, tmp_path: Path) -> None:
    """duplicate-table compares each pair's rows: asked ahead with the other questions, so the
    round trips do not grow with the pairs either."""
    trips = {}
    for pairs in (2, 20):
        report, counts = _built(pg_server, tmp_path, _build_copies, pairs)
        copies = [f for f in report["findings"] if f["code"] == "SL404"]
        assert [f["count"] for f in copies] == [2] * pairs, report["findings"]
        assert not report["inconclusive"]
        trips[pairs] = counts.round_trips
    assert trips[20] == trips[2], trips


def test_one_failing_check_among_many(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cast error (an accepted value the server cannot read as an integer) in the first
    wave, a lock another session holds (lock_timeout) in the scans and the orphan counts: the
    failing checks are inconclusive with the server's reasons, every other one is answered,
    and all of it is what one statement at a time answers."""
    lock = tmp_path / "schema_lock.yaml"
    text = _build(database, 12).replace(
        "  vendors:\n    columns:\n      id: {type: integer, primary_key: true}",
        "  vendors:\n    columns:\n      id: {type: integer, primary_key: true, values: [1, x]}",
    )
    write(lock, text)
    with lock_held(database, "coupons"):
        report, _ = _through_proxy(database, lock, "--statement-timeout", "1.5")
        with _one_at_a_time(monkeypatch):
            alone = _verify(database, lock, "--statement-timeout", "1.5")
    reasons = {(entry["rule"], entry["table"]): entry["reason"] for entry in report["inconclusive"]}
    assert (
        'invalid input syntax for type integer: "x"'
        in reasons[("accepted-values-violation", "vendors")]
    )
    assert "lock_timeout" in reasons[("fk-orphans", "coupons")]
    assert {table for _, table in reasons} == {"vendors", "coupons"}
    orphans = {f["table"] for f in report["findings"] if f["code"] == "SL201"}
    assert orphans == set(NAMES[:12]) - {"coupons"}
    mock = {f["table"] for f in report["findings"] if f["code"] == "SL401"}
    assert mock == set(NAMES[:12]) - {"coupons"}
    assert _answers(report) == _answers(alone)
    assert report["exit_code"] == 1


def test_answers_through_a_far_network_are_those_of_one_at_a_time(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    execute(
        database,
        """
        CREATE TABLE organizations (id uuid PRIMARY KEY, name text, plan text, slug text);
        CREATE TABLE jobs (id integer PRIMARY KEY, org_id text, kind text);
        CREATE TABLE usage (id integer PRIMARY KEY, job_id integer, org_ref varchar(40));
        CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
        INSERT INTO organizations VALUES
            ('6f1c1d52-3c1e-4a4e-9b7a-2f4f5a9c8d11', 'Northwind', 'free', 'north'),
            ('0b8e4c2a-9d7f-4e51-8a63-5c2d1e0f9a77', 'Acme Mock Org', 'platinum', 'Bad Slug'),
            ('00000000-0000-0000-0000-000000000001', 'Test User', 'pro', 'ok');
        INSERT INTO jobs VALUES
            (1, '6f1c1d52-3c1e-4a4e-9b7a-2f4f5a9c8d11', 'search'),
            (2, '{0B8E4C2A-9D7F-4E51-8A63-5C2D1E0F9A77}', 'search'),
            (3, '9a9a9a9a-1b1b-4c4c-8d8d-2e2e2e2e2e2e', 'analysis'),
            (4, 'not a uuid', 'x'),
            (5, NULL, 'search');
        INSERT INTO usage VALUES (1, 1, '6f1c1d52-3c1e-4a4e-9b7a-2f4f5a9c8d11'), (2, 9, NULL);
        INSERT INTO alembic_version VALUES ('abc');
        """,
    )
    lock = tmp_path / "schema_lock.yaml"
    write(
        lock,
        """version: 1
tables:
  organizations:
    columns:
      id: {type: uuid, primary_key: true}
      name: {type: text}
      plan: {type: text, values: [free, pro]}
      slug: {type: text, pattern: '^[a-z]+$'}
  jobs:
    columns:
      id: {type: integer, primary_key: true}
      org_id: {type: text, references: organizations.id}
      kind: {type: text, values: [search, analysis]}
  usage:
    columns:
      id: {type: integer, primary_key: true}
      job_id: {type: integer, references: jobs.id}
      org_ref: {type: varchar(40)}
  alembic_version:
    columns:
      version_num: {type: varchar(32), primary_key: true}
""",
    )
    with _one_at_a_time(monkeypatch):
        alone = _verify(database, lock)
    direct = _verify(database, lock)
    far, _ = _through_proxy(database, lock, delay_s=0.005)
    rules = {f["rule"] for f in alone["findings"]}
    assert {"fk-orphans", "mock-data", "pattern-violation", "accepted-values-violation"} <= rules
    assert _answers(direct) == _answers(alone)
    assert _answers(far) == _answers(alone)
    with _one_at_a_time(monkeypatch):
        alone = _verify(database, lock, "--sample", "100")
    assert _answers(_verify(database, lock, "--sample", "100")) == _answers(alone)


def _statement(
    connection: psycopg.Connection[Any], key: object, text: str, params: list[Any] | None = None
) -> pipeline.Statement:
    wire = pipeline.wire_text(sql.SQL(text).format(), params, connection)
    return pipeline.Statement(key, wire, params)


def test_each_failure_costs_one_round_trip_and_no_answer(database: str) -> None:
    asked = [
        ("SELECT 1", None),
        ("SELECT 1 / 0", None),
        ("SELECT %s::text ~ %s, '100%%'", ["abc", "^a"]),
        ("SELECT 'x'::integer", None),
        ("SELECT pg_catalog.current_setting('transaction_read_only')", None),
    ]
    with proxied_url(database) as (proxied, proxy):
        connection = db.connect(proxied)
        try:
            statements = [_statement(connection, text, text, params) for text, params in asked]
            before = proxy.counts()
            outcomes = pipeline.ask(connection, db.Timeouts(), statements)
            after = proxy.counts().minus(before)
            assert connection.execute("SELECT 2").fetchall() == [(2,)]  # usable, as it was
        finally:
            connection.close()
    assert outcomes["SELECT 1"].rows == [(1,)]
    assert "division by zero" in str(outcomes["SELECT 1 / 0"].error)
    assert outcomes["SELECT %s::text ~ %s, '100%%'"].rows == [(True, "100%")]
    assert 'invalid input syntax for type integer: "x"' in str(
        outcomes["SELECT 'x'::integer"].error
    )
    assert outcomes["SELECT pg_catalog.current_setting('transaction_read_only')"].rows == [("on",)]
    # The first round trip answers up to the division, the second up to the cast, the third
    # the rest: five statements went, then three again, then one; each round trip in a
    # transaction of its own (BEGIN, the settings, ROLLBACK), the last two first ending the
    # transaction the failure left open.
    assert (after.round_trips, after.statements) == (3, (5 + 3 + 1) + 3 * 3 + 2), after


def test_pipelined_transactions_are_the_probes(database: str) -> None:
    """The settings in force are those `db.begin_read_only` sets, and a long pipeline is split
    into transactions of BATCH_CHECKS statements (so no snapshot is held for long), all in one
    round trip."""
    shown = (
        "SELECT pg_catalog.current_setting('statement_timeout'),"
        " pg_catalog.current_setting('lock_timeout'),"
        " pg_catalog.current_setting('idle_in_transaction_session_timeout'),"
        " pg_catalog.current_setting('search_path'),"
        " pg_catalog.current_setting('application_name'),"
        " pg_catalog.current_setting('transaction_isolation'),"
        " pg_catalog.current_setting('transaction_read_only')"
    )
    own = (
        "SELECT l.virtualtransaction FROM pg_catalog.pg_locks l"
        " WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'virtualxid' AND %s"
    )
    timeouts = db.Timeouts(statement_ms=4321)
    count = 2 * pipeline.BATCH_CHECKS + 1
    with proxied_url(database) as (proxied, proxy):
        connection = db.connect(proxied)
        try:
            with db.read_only(connection, timeouts):
                expected = connection.execute(shown).fetchall()
            before = proxy.counts()
            settings = pipeline.ask(connection, timeouts, [_statement(connection, 0, shown)])[0]
            outcomes = pipeline.ask(
                connection,
                timeouts,
                [_statement(connection, n, own, [n >= 0]) for n in range(count)],
            )
            after = proxy.counts().minus(before)
            left = connection.execute("SHOW statement_timeout").fetchall()
        finally:
            connection.close()
    assert settings.rows == expected
    transactions = [outcomes[n].rows for n in range(count)]
    assert len({str(rows) for rows in transactions}) == 3
    assert after.round_trips == 2
    assert left != [("4321ms",)]  # nothing stays for the session


def test_through_pgbouncer_in_transaction_mode(
    pg_server: Server, database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each transaction ends inside its round trip, or (after a failure) at the start of the
    next, so the pooler keeps the one server session for the client meanwhile: the answers are
    those of a direct connection, failures included, and nothing stays on the session."""
    lock = tmp_path / "schema_lock.yaml"
    write(
        lock,
        _build(database, 8).replace(
            "  ledgers:\n    columns:\n      id: {type: integer, primary_key: true}",
            "  ledgers:\n    columns:\n      id: {type: integer, primary_key: true, values: [x]}",
        ),
    )
    with _one_at_a_time(monkeypatch):
        alone = _verify(database, lock)
    assert alone["inconclusive"]  # the cast error: a failure mid-pipeline
    with _bouncer(pg_server) as pool:
        through = pool.url_for(str(conninfo_to_dict(database)["dbname"]))
        pristine = _session(through)
        assert _answers(_verify(through, lock)) == _answers(alone)
        assert _session(through) == pristine


def _tables(url: str, count: int) -> None:
    """`count` tables of a row each."""
    execute(
        url,
        ";\n".join(
            f"CREATE TABLE {name} (id integer PRIMARY KEY, note text);"
            f" INSERT INTO {name} VALUES (1, 'a')"
            for name in NAMES[:count]
        ),
    )


@pytest.mark.parametrize("command", ["snapshot", "fix"])
def test_catalog_statements_do_not_grow_with_tables(
    pg_server: Server, tmp_path: Path, command: str
) -> None:
    """snapshot and fix's planning read the catalog in a constant number of statements, as
    verify does; fix's own questions are about its steps (here: one missing index)."""
    statements = {}
    for count in (3, 30):
        with scratch_database(pg_server) as name:
            url = pg_server.url_for(name)
            _tables(url, count)
            execute(url, f"CREATE INDEX drifted ON {NAMES[0]} (note)")
            lock = tmp_path / f"{command}_{count}.yaml"
            run_cli("snapshot", "--database-url", url, "--output", str(lock))
            execute(url, "DROP INDEX drifted")
            argv = {
                "snapshot": ["snapshot", "--output", str(tmp_path / f"again_{count}.yaml")],
                "fix": ["fix", "--lock", str(lock), "--migrations", str(tmp_path / f"m{count}")],
            }[command]
            with proxied_url(url) as (proxied, proxy):
                result = run_cli(*argv, "--database-url", proxied)
                statements[count] = proxy.counts().statements
            assert result.exit_code == 0, result.stdout + result.stderr
    assert statements[30] == statements[3], statements
