"""Catalogue cases F10 and F11 (research/reliability-anchors.md, section 3): what introspection
counts as a table, and how many catalog queries it costs, on a real PostgreSQL.  Each test names
its case id, so the README's reliability table can cite it.  (F05, F06 and F12, which end in
what `fix` does, are in test_catalogue_fix.py.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from conftest import execute, run_cli
from test_roundtrip import snapshot

pytestmark = pytest.mark.db

OTHER_RELATIONS = """
CREATE TABLE real_one (id int PRIMARY KEY);
CREATE FOREIGN DATA WRAPPER dummy_fdw;
CREATE SERVER dummy_server FOREIGN DATA WRAPPER dummy_fdw;
CREATE FOREIGN TABLE remote_rows (id int, note text) SERVER dummy_server;
CREATE TABLE legacy_parent (id int, kind text);
CREATE TABLE legacy_child (extra int) INHERITS (legacy_parent);
CREATE TABLE by_range (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE by_range_2026 PARTITION OF by_range
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE VIEW a_view AS SELECT id FROM real_one;
CREATE MATERIALIZED VIEW a_matview AS SELECT id FROM real_one;
"""


def test_f10_temp_foreign_and_inherited_relations(database: str, tmp_path: Path) -> None:
    """F10: another session's TEMP table (schema pg_temp_N), a foreign table, views and a
    partition are not tables of the lock; a legacy inheritance child is a table of its own, not
    a partition; the snapshot verifies clean while the temp table exists."""
    execute(database, OTHER_RELATIONS)
    with psycopg.connect(database, autocommit=True) as other_session:
        other_session.execute("CREATE TEMP TABLE session_scratch (a int PRIMARY KEY)")
        lock = tmp_path / "schema_lock.yaml"
        document = yaml.safe_load(snapshot(database, lock))
        assert document["database"]["schemas"] == ["public"]
        tables = document["tables"]
        assert sorted(tables) == ["by_range", "legacy_child", "legacy_parent", "real_one"]
        assert "partition_by" not in tables["legacy_child"]
        assert tables["legacy_child"]["columns"] == {
            "id": {"type": "integer"},
            "kind": {"type": "text"},
            "extra": {"type": "integer"},
        }
        result = run_cli(
            "verify", "--lock", str(lock), "--database-url", database, "--format", "json",
            "--fail-on", "info",
        )  # fmt: skip
        report = json.loads(result.stdout)
        assert report["findings"] == [], [f["message"] for f in report["findings"]]
        assert result.exit_code == 0


class _CountingCursor(psycopg.Cursor[Any]):
    """A cursor that counts the statements sent through it."""

    sent = 0

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        type(self).sent += 1
        return super().execute(*args, **kwargs)


def _schema_of(tables: int) -> str:
    """`tables` tables, each with a primary key, a foreign key to the one before, an index,
    a check, a default and an enum column: every kind of object introspection reads."""
    parts = ["CREATE TYPE mood AS ENUM ('ok', 'meh');"]
    for n in range(tables):
        reference = f", prev_id int REFERENCES t{n - 1} (id)" if n else ""
        parts.append(
            f"CREATE TABLE t{n} (id int PRIMARY KEY, name text NOT NULL DEFAULT 'x',"
            f" state mood, qty int CHECK (qty >= 0){reference});"
            f" CREATE INDEX t{n}_name ON t{n} (lower(name)) WHERE qty > 0;"
        )
    return "\n".join(parts)


def _statements_to_read(url: str) -> tuple[int, int]:
    """(statements introspection sent, tables it found)."""
    from schemalock import db, introspect

    connection = db.connect(url, "snapshot")
    try:
        connection.cursor_factory = _CountingCursor
        _CountingCursor.sent = 0
        live = introspect.read_database(connection, db.Timeouts(30_000), ["public"])
        return _CountingCursor.sent, len(live.tables)
    finally:
        connection.close()


@pytest.mark.parametrize("tables", [5, 200])
def test_f11_introspection_costs_a_constant_number_of_queries(database: str, tables: int) -> None:
    """F11: reading 5 tables or 200 (with keys, indexes, checks, defaults, enums) sends the
    same, small number of statements: bulk catalog queries, never one per table (each round
    trip costs milliseconds on a hosted database)."""
    execute(database, "CREATE TABLE probe (id int PRIMARY KEY)")
    baseline, found = _statements_to_read(database)
    assert found == 1
    execute(database, "DROP TABLE probe; " + _schema_of(tables))
    sent, found = _statements_to_read(database)
    assert found == tables
    assert sent == baseline, (sent, baseline)
    assert sent <= 16, sent
