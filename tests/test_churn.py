"""Introspection while another session creates and drops tables, indexes and types.

The catalog tables are read through the transaction's snapshot, but the functions that print an
object (pg_get_indexdef, pg_get_expr, format_type, pg_get_partkeydef) read the latest catalog:
for an object dropped after the snapshot they give NULL.  A vanished object must be absent from
the result or make the run inconclusive: never a crash, never a false finding.

The deterministic tests make the race happen every time: a second session holds
`pg_description` (which the first catalog query reads, after the run's snapshot is taken) until
the run waits for it, then commits its DDL, so every catalog function of that read sees the
objects gone.  The churn test runs the commands 50 times beside a loop of CREATE/DROP.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from conftest import CliResult, execute, run_cli, write
from schemalock import db, introspect
from schemalock.model import Database

CHURN = """
CREATE TABLE churn (
    id serial PRIMARY KEY,
    n integer NOT NULL DEFAULT 42 CHECK (n > 0),
    u text UNIQUE,
    parent integer REFERENCES churn (id),
    created date DEFAULT current_date
);
CREATE INDEX churn_n ON churn (n) WHERE n > 5;
CREATE INDEX churn_lower_u ON churn (lower(u));
CREATE INDEX churn_parent ON churn (parent);
CREATE TABLE pchurn (id integer NOT NULL, at date DEFAULT current_date) PARTITION BY RANGE (id);
CREATE TABLE pchurn_1 PARTITION OF pchurn FOR VALUES FROM (0) TO (100);
"""
DROP_CHURN = "DROP TABLE churn, pchurn"
KEEP = "CREATE TABLE keep (id integer PRIMARY KEY, note text DEFAULT 'x' CHECK (note <> ''))"
RUNS = 50


def _snapshot_tables(url: str) -> dict[str, Any]:
    result = run_cli("snapshot", "-d", url)
    assert result.exit_code == 0, result.stderr
    tables: dict[str, Any] = yaml.safe_load(result.stdout)["tables"]
    return tables


def _report(result: CliResult) -> dict[str, Any]:
    assert "internal error" not in result.stderr, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


class _LockedCatalog:
    """Another session holding pg_description, until it commits `ddl`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = psycopg.connect(url)
        self.session.execute("LOCK TABLE pg_catalog.pg_description IN ACCESS EXCLUSIVE MODE")

    def commit_when_waited_for(self, ddl: str) -> None:
        """Wait until a schemalock session waits for the lock in its first catalog query
        (snapshot taken, nothing printed yet), then commit `ddl` and release it."""
        with psycopg.connect(self.url, autocommit=True) as watcher:
            for _ in range(1000):
                waiting = watcher.execute(
                    "SELECT query FROM pg_catalog.pg_stat_activity"
                    " WHERE datname = pg_catalog.current_database()"
                    " AND wait_event_type = 'Lock' AND pid <> %s",
                    [self.session.info.backend_pid],
                ).fetchall()
                if waiting:
                    break
                time.sleep(0.01)
        assert waiting, "the run never waited for pg_description"
        assert "pg_get_partkeydef" in str(waiting[0][0])  # introspection's tables query
        self.session.execute(ddl)
        self.session.commit()

    def close(self) -> None:
        self.session.close()


def _run_while(url: str, ddl: str, *args: str) -> CliResult:
    """`schemalock ARGS`, with `ddl` committed between its snapshot and its first catalog
    function call."""
    locked = _LockedCatalog(url)
    results: list[CliResult] = []
    worker = threading.Thread(target=lambda: results.append(run_cli(*args)))
    try:
        worker.start()
        locked.commit_when_waited_for(ddl)
    finally:
        locked.close()
        worker.join(60)
    assert results, "the run did not end"
    return results[0]


def test_verify_leaves_out_tables_dropped_while_it_reads(database: str, tmp_path: Path) -> None:
    """Before: pg_get_indexdef() gave NULL and verify ended `internal error: TypeError`,
    exit 2.  The dropped tables are missing, as the lock then implies, and nothing else is
    reported of them (no index, default or check said missing)."""
    execute(database, KEEP + ";" + CHURN)
    lock = write(tmp_path / "schema_lock.yaml", run_cli("snapshot", "-d", database).stdout)
    result = _run_while(database, DROP_CHURN, "verify", "-l", lock, "-d", database, "-f", "json")
    report = _report(result)
    assert result.exit_code == 1, result.stderr
    assert report["inconclusive"] == []
    found = sorted((f["code"], f["table"]) for f in report["findings"])
    assert found == [("SL101", "churn"), ("SL101", "pchurn")]


def test_snapshot_leaves_out_tables_dropped_while_it_reads(database: str) -> None:
    """Before: `internal error: TypeError`, exit 2.  The lock holds the tables that remain,
    exactly as a snapshot without the churn tables writes them."""
    execute(database, KEEP)
    expected = _snapshot_tables(database)
    execute(database, CHURN)
    result = _run_while(database, DROP_CHURN, "snapshot", "-d", database)
    assert result.exit_code == 0, result.stderr
    assert yaml.safe_load(result.stdout)["tables"] == expected


@pytest.mark.parametrize("command", ["verify", "snapshot"])
def test_a_table_changed_while_read_is_read_again(
    database: str, tmp_path: Path, command: str
) -> None:
    """A column's type changes under the read (its indexes are rebuilt under new oids, so
    the first read sees them gone while the table stays): the run reads again on a fresh
    snapshot and reports the table as it now is.  Before: `internal error: TypeError`."""
    execute(database, KEEP + ";" + CHURN)
    lock = write(tmp_path / "schema_lock.yaml", run_cli("snapshot", "-d", database).stdout)
    ddl = "ALTER TABLE churn ALTER n TYPE bigint"
    if command == "snapshot":
        result = _run_while(database, ddl, "snapshot", "-d", database)
        assert result.exit_code == 0, result.stderr
        assert _snapshot_tables(database) == yaml.safe_load(result.stdout)["tables"]
        return
    result = _run_while(database, ddl, "verify", "-l", lock, "-d", database, "-f", "json")
    report = _report(result)
    assert (result.exit_code, report["inconclusive"]) == (1, []), result.stderr
    found = [(f["code"], f["table"], f["column"]) for f in report["findings"]]
    assert found == [("SL105", "churn", "n")]


def _read_after(url: str, ddl: str) -> Database:
    """introspect() in a transaction whose snapshot predates `ddl`, committed by another
    session before the first catalog query."""
    timeouts = db.Timeouts()
    connection = db.connect(url, "verify")
    try:
        with db.read_only(connection, timeouts) as conn:
            execute(url, ddl)
            return introspect.introspect(conn, ["public"])
    finally:
        connection.close()


def test_introspect_leaves_out_a_dropped_table(database: str) -> None:
    """Each printing function's NULL at once: partition key, defaults, indexes.  Before:
    TypeError."""
    execute(database, KEEP + ";" + CHURN)
    live = _read_after(database, DROP_CHURN)
    assert sorted(live.tables) == [("public", "keep")]
    assert live.tables[("public", "keep")].checks[0].expression == "note <> ''::text"


def test_introspect_reports_a_table_whose_part_vanished(database: str) -> None:
    """A column of a type dropped since the snapshot (format_type prints `???`): the table is
    still there, so it changed while read.  Before: the column was read as of type `???`, a
    false column-type-mismatch."""
    execute(
        database,
        "CREATE TYPE mood AS ENUM ('ok'); CREATE TABLE t (id integer PRIMARY KEY, m mood)",
    )
    with pytest.raises(introspect.CatalogChanged, match=r"table public\.t changed .*column m"):
        _read_after(database, "DROP TYPE mood CASCADE")


def test_a_schema_that_keeps_changing_is_inconclusive(database: str) -> None:
    """Three reads in a row each see an index replaced: inconclusive, with the reason."""
    execute(database, "CREATE TABLE t (id integer PRIMARY KEY, n integer); CREATE INDEX ON t (n)")
    types = iter(["bigint", "integer", "bigint", "integer"])

    def read(conn: psycopg.Connection[Any]) -> Database:
        execute(database, f"ALTER TABLE t ALTER n TYPE {next(types)}")
        return introspect.introspect(conn, ["public"])

    connection = db.connect(database, "verify")
    try:
        with pytest.raises(
            introspect.CatalogChanged,
            match=r"3 reads in a row .* changed while it was read \(its index t_n_idx",
        ):
            introspect.consistent_read(connection, db.Timeouts(), read)
    finally:
        connection.close()
    assert next(types) == "integer"  # exactly three reads


def _churn(url: str, stop: threading.Event, looping: threading.Event, rounds: list[int]) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        while not stop.is_set():
            connection.execute(CHURN)
            stop.wait(0.005)  # the tables live a moment: some runs read them whole
            connection.execute(DROP_CHURN)
            rounds[0] += 1
            looping.set()


def test_verify_and_snapshot_beside_a_create_drop_loop(database: str, tmp_path: Path) -> None:
    """The reported reproduction: a loop creates and drops an indexed table (constraints,
    defaults, a partitioned one) while verify and snapshot run 50 times.  Each run exits as the
    lock implies (0: the churn tables are at most extra-table warnings), and each snapshot
    holds a churn table whole or not at all.  Before: a third of the runs (more than half on
    PostgreSQL 18) ended `internal error: TypeError`, exit 2 (pg_get_indexdef() NULL), or
    `database error (could not open relation with OID ...)`, exit 4 (pg_get_partkeydef())."""
    execute(database, KEEP)
    lock = write(tmp_path / "schema_lock.yaml", run_cli("snapshot", "-d", database).stdout)
    execute(database, CHURN)
    whole = _snapshot_tables(database)
    execute(database, DROP_CHURN)
    stop, looping, rounds = threading.Event(), threading.Event(), [0]
    worker = threading.Thread(target=_churn, args=(database, stop, looping, rounds))
    worker.start()
    try:
        assert looping.wait(30)
        before = rounds[0]
        for run in range(RUNS):
            if run % 2:
                _check_verify(run_cli("verify", "-l", lock, "-d", database, "-f", "json"))
            else:
                _check_snapshot(run_cli("snapshot", "-d", database), whole)
    finally:
        stop.set()
        worker.join()
    assert rounds[0] > before  # the loop went on beside the runs


def _check_verify(result: CliResult) -> None:
    report = _report(result)
    for finding in report["findings"]:
        assert (finding["code"], finding["table"]) in {("SL102", "churn"), ("SL102", "pchurn")}
    changed = [i for i in report["inconclusive"] if "changed while it was read" in i["reason"]]
    assert changed == report["inconclusive"], report["inconclusive"]
    assert result.exit_code == (4 if changed else 0), result.stderr


def _check_snapshot(result: CliResult, whole: dict[str, Any]) -> None:
    assert "internal error" not in result.stderr, result.stderr
    if result.exit_code == 4:  # a table kept changing under three reads in a row
        assert "changed while it was read" in result.stderr, result.stderr
        return
    assert result.exit_code == 0, result.stderr
    tables = yaml.safe_load(result.stdout)["tables"]
    assert tables["keep"] == whole["keep"]
    for name in ("churn", "pchurn"):
        assert tables.get(name, whole[name]) == whole[name]
