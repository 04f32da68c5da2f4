"""Partitions and inheritance on a real PostgreSQL: snapshot writes them, verify reports each
way they drift (a partition dropped, detached, added, bound or parent changed; a table that
stopped inheriting or inherits another parent), and fix creates a missing partition, refused
while the DEFAULT partition holds rows of its range."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import execute, query, run_cli
from schemalock.fix.plan.partition_tables import bound_condition
from schemalock.model import expressions
from test_fix_classes import MakePair, pair
from test_roundtrip import snapshot

pytestmark = pytest.mark.db

__all__ = ["pair"]  # the fixture, imported to be used here

# Range (one partition in another schema, open below), list, hash, default, and a partition
# that is itself partitioned; a legacy inheritance child of two parents.
SCHEMA = """
CREATE SCHEMA archive;
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, region text NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE archive.events_old PARTITION OF events FOR VALUES FROM (MINVALUE) TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')
    PARTITION BY LIST (region);
CREATE TABLE events_2026_eu PARTITION OF events_2026 FOR VALUES IN ('eu', 'ch');
CREATE TABLE events_2026_rest PARTITION OF events_2026 DEFAULT;
CREATE TABLE events_later PARTITION OF events DEFAULT;
CREATE TABLE accounts (id int NOT NULL, region text) PARTITION BY LIST (region);
CREATE TABLE accounts_eu PARTITION OF accounts FOR VALUES IN ('eu', 'ch', NULL);
CREATE TABLE accounts_us PARTITION OF accounts FOR VALUES IN ('us');
CREATE TABLE tokens (id int NOT NULL) PARTITION BY HASH (id);
CREATE TABLE tokens_0 PARTITION OF tokens FOR VALUES WITH (modulus 2, remainder 0);
CREATE TABLE tokens_1 PARTITION OF tokens FOR VALUES WITH (modulus 2, remainder 1);
CREATE TABLE readings (id int, value numeric);
CREATE TABLE tagged (tag text);
CREATE TABLE readings_2026 (note text) INHERITS (readings, tagged);
INSERT INTO events VALUES (1, '2024-03-01', 'eu'), (2, '2025-03-01', 'us'),
    (3, '2026-03-01', 'ch'), (4, '2026-04-01', 'us'), (5, '2030-01-01', 'eu');
INSERT INTO readings_2026 VALUES (1, 2.5, 'x', 'y');
"""


def _verify(url: str, lock: Path) -> tuple[int, list[dict[str, Any]]]:
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", url, "--format", "json",
        "--fail-on", "info",
    )  # fmt: skip
    return result.exit_code, json.loads(result.stdout)["findings"]


def _messages(url: str, lock: Path) -> list[tuple[str, str]]:
    return sorted((f["rule"], f["message"]) for f in _verify(url, lock)[1])


def test_round_trip_of_every_kind_of_partition_is_silent(database: str, tmp_path: Path) -> None:
    execute(database, SCHEMA)
    lock = tmp_path / "schema_lock.yaml"
    tables = yaml.safe_load(snapshot(database, lock))["tables"]
    assert tables["events"]["partitions"] == {
        "events_2025": "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "events_2026": {
            "bound": "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
            "partition_by": "LIST (region)",
            "partitions": {
                "events_2026_eu": "FOR VALUES IN ('eu', 'ch')",
                "events_2026_rest": "DEFAULT",
            },
        },
        "events_later": "DEFAULT",
        "archive.events_old": "FOR VALUES FROM (MINVALUE) TO ('2025-01-01')",
    }
    assert tables["tokens"]["partitions"] == {
        "tokens_0": "FOR VALUES WITH (modulus 2, remainder 0)",
        "tokens_1": "FOR VALUES WITH (modulus 2, remainder 1)",
    }
    assert tables["readings_2026"]["inherits"] == ["readings", "tagged"]
    assert "events_2025" not in tables
    assert "archive.events_old" not in tables
    assert _verify(database, lock) == (0, [])


def test_a_lock_without_partitions_declares_none_and_stays_silent(
    database: str, tmp_path: Path
) -> None:
    """A lock written before partitions were locked: its partitioned tables have no
    `partitions:`, and their partitions are not compared."""
    execute(database, SCHEMA)
    lock = tmp_path / "schema_lock.yaml"
    document = yaml.safe_load(snapshot(database, lock))
    for table in document["tables"].values():
        table.pop("partitions", None)
    lock.write_text(yaml.safe_dump(document), encoding="utf-8")
    execute(database, f"{DRIFTS['dropped'][0]}; {DRIFTS['added'][0]}")
    assert _verify(database, lock) == (0, [])


DRIFTS = {
    "dropped": (
        "DROP TABLE events_2025",
        [
            (
                "missing-partition",
                "partition public.events_2025 of public.events (FOR VALUES FROM "
                "('2025-01-01') TO ('2026-01-01')) is missing",
            )
        ],
    ),
    "detached": (
        "ALTER TABLE events_2026 DETACH PARTITION events_2026_eu",
        [
            (
                "missing-partition",
                "partition public.events_2026_eu of public.events_2026 (FOR VALUES IN ('eu', "
                "'ch')) is missing: public.events_2026_eu is a table of its own (detached)",
            )
        ],
    ),
    "added": (
        "CREATE TABLE accounts_fr PARTITION OF accounts FOR VALUES IN ('fr')",
        [
            (
                "extra-partition",
                "partition public.accounts_fr of public.accounts (FOR VALUES IN ('fr')) is not "
                "in the lock",
            )
        ],
    ),
    "bound changed": (
        "ALTER TABLE accounts DETACH PARTITION accounts_us;"
        " ALTER TABLE accounts ATTACH PARTITION accounts_us FOR VALUES IN ('us', 'ca')",
        [
            (
                "partition-changed",
                "partition public.accounts_us has FOR VALUES IN ('us', 'ca'); the lock says "
                "FOR VALUES IN ('us')",
            )
        ],
    ),
    "another parent": (
        "ALTER TABLE events DETACH PARTITION events_2025;"
        " CREATE TABLE events_copy (LIKE events) PARTITION BY RANGE (at);"
        " ALTER TABLE events_copy ATTACH PARTITION events_2025"
        " FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        [
            ("extra-table", "table public.events_copy is not in the lock"),
            (
                "partition-changed",
                "partition public.events_2025 is a partition of public.events_copy; the lock "
                "says of public.events",
            ),
        ],
    ),
    "inheritance removed": (
        "ALTER TABLE readings_2026 NO INHERIT tagged",
        [
            (
                "inheritance-mismatch",
                "table public.readings_2026 inherits from public.readings; the lock says "
                "public.readings, public.tagged",
            )
        ],
    ),
    "inheritance changed": (
        "ALTER TABLE readings_2026 NO INHERIT readings; CREATE TABLE sensors (id int);"
        " ALTER TABLE readings_2026 INHERIT sensors",
        [
            ("extra-table", "table public.sensors is not in the lock"),
            (
                "inheritance-mismatch",
                "table public.readings_2026 inherits from public.tagged, public.sensors; the "
                "lock says public.readings, public.tagged",
            ),
        ],
    ),
}


@pytest.mark.parametrize("drift", DRIFTS, ids=list(DRIFTS))
def test_each_drift_is_reported_once(database: str, tmp_path: Path, drift: str) -> None:
    execute(database, SCHEMA)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    statements, expected = DRIFTS[drift]
    execute(database, statements)
    assert _messages(database, lock) == expected


def test_a_bound_is_compared_on_its_meaning() -> None:
    same = [
        ("FOR VALUES IN ('eu', 'ch')", "for values in ('ch','eu')"),
        ("FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')", "FOR VALUES FROM ('2025-01-01'::date)"
         " TO ('2026-01-01')"),
        ("DEFAULT", "default"),
        ("FOR VALUES WITH (modulus 2, remainder 0)", "FOR VALUES WITH (MODULUS 2, REMAINDER 0)"),
    ]  # fmt: skip
    for left, right in same:
        assert expressions.same(left, right, "bound"), (left, right)
    assert not expressions.same("FOR VALUES FROM (1) TO (2)", "FOR VALUES FROM (2) TO (1)", "bound")
    assert expressions.parse_error("FOR VALUES IN (1); DROP TABLE x", "bound")


# Rows of a two-column range key and a list key, and partitions with MINVALUE and MAXVALUE at
# every position: the condition fix reads a bound as must select what PostgreSQL routes there.
GRID = """
CREATE TABLE grid (a int, b int) PARTITION BY RANGE (a, b);
CREATE TABLE grid_low PARTITION OF grid FOR VALUES FROM (MINVALUE, MINVALUE) TO (2, 5);
CREATE TABLE grid_mid PARTITION OF grid FOR VALUES FROM (2, 5) TO (4, MAXVALUE);
CREATE TABLE grid_four PARTITION OF grid FOR VALUES FROM (5, MINVALUE) TO (5, 3);
CREATE TABLE grid_high PARTITION OF grid FOR VALUES FROM (6, MAXVALUE) TO (MAXVALUE, MAXVALUE);
CREATE TABLE grid_rest PARTITION OF grid DEFAULT;
INSERT INTO grid SELECT x, y FROM generate_series(0, 8) AS x, generate_series(0, 8) AS y;
INSERT INTO grid VALUES (NULL, 1), (3, NULL);
CREATE TABLE tags (t text) PARTITION BY LIST (lower(t));
CREATE TABLE tags_ab PARTITION OF tags FOR VALUES IN ('a', 'b', NULL);
CREATE TABLE tags_rest PARTITION OF tags DEFAULT;
INSERT INTO tags VALUES ('A'), ('b'), ('c'), (NULL);
"""


def test_a_bound_read_as_a_condition_selects_the_partitions_rows(database: str) -> None:
    execute(database, GRID)
    bounds = query(
        database,
        "SELECT c.relname, p.relname, pg_get_partkeydef(p.oid),"
        " pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent"
        " WHERE p.relname IN ('grid', 'tags') ORDER BY 1",
    )
    checked = 0
    for name, parent, key, bound in bounds:
        condition = bound_condition(str(key), str(bound))
        if condition is None:
            assert bound == "DEFAULT"
            continue
        [(selected,)] = query(database, f"SELECT count(*) FROM {parent} AS c WHERE {condition}")
        [(held,)] = query(database, f"SELECT count(*) FROM {name}")
        assert (name, selected) == (name, held), condition
        checked += 1
    assert checked == 5


# -- fix ------------------------------------------------------------------------------------

EVENTS = """
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, kind text NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_rest PARTITION OF events DEFAULT;
"""
EVENTS_2026 = (
    "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO "
    "('2027-01-01') PARTITION BY LIST (kind);"
    " CREATE TABLE events_2026_a PARTITION OF events_2026 FOR VALUES IN ('a');"
    " CREATE TABLE events_2026_b PARTITION OF events_2026 DEFAULT;"
)
ROWS_2025 = "INSERT INTO events VALUES (1, '2025-03-01', 'a'), (2, '2030-01-01', 'b');"


def test_fix_creates_a_missing_partition_and_its_downgrade_drops_it(pair: MakePair) -> None:
    """A sub-partitioned partition with its partitions, parents first; the DEFAULT partition
    holds no row of 2026.  The downgrade drops them (empty) and the drift is back."""
    p = pair(EVENTS + ROWS_2025, EVENTS + EVENTS_2026)
    assert {rule for rule, _ in p.drift} == {"missing-partition"}
    p.converged(p.fix())
    from test_fix_partitions import _downgrade, _revision

    text = _revision(p)
    assert "CREATE TABLE public.events_2026 PARTITION OF public.events FOR VALUES FROM" in text
    assert "DROP TABLE public.events_2026_a" in text
    assert "holds data" in text
    _downgrade(p)
    from test_fix_classes import _drift

    assert _drift(p.url, p.lock) == p.drift
    p.rows_kept()


def test_a_partition_and_an_index_of_the_parent_added_in_one_plan(pair: MakePair) -> None:
    """The partition is created once the parent's index is complete, so PostgreSQL gives it
    the index; created before, it would hold none, and the parent's index stay INVALID."""
    table = (
        "CREATE TABLE t (id integer, day date NOT NULL) PARTITION BY RANGE (day);"
        " CREATE TABLE t_2024 PARTITION OF t FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');"
    )
    rows = "INSERT INTO t SELECT g, date '2024-01-01' + g FROM generate_series(1, 100) AS g;"
    p = pair(
        table + rows,
        table + " CREATE TABLE t_2025 PARTITION OF t FOR VALUES FROM ('2025-01-01')"
        " TO ('2026-01-01'); CREATE INDEX t_day ON t (day);",
    )
    p.converged(p.fix())
    indexes = (
        "SELECT bool_and(indisvalid), count(*) FROM pg_index"
        " WHERE indrelid IN ('t'::regclass, 't_2024'::regclass, 't_2025'::regclass)"
    )
    assert query(p.url, indexes) == [(True, 3)]
    from test_fix_partitions import _downgrade

    _downgrade(p)
    from test_fix_classes import _drift

    assert _drift(p.url, p.lock) == p.drift


def test_fix_refuses_a_partition_whose_rows_sit_in_the_default_partition(
    pair: MakePair,
) -> None:
    p = pair(EVENTS + ROWS_2025 + "INSERT INTO events VALUES (3, '2026-05-01', 'a');",
             EVENTS + EVENTS_2026)  # fmt: skip
    p.refused(p.fix(), "events_2026", "public.events_rest", "1 row")


def test_fix_downgrade_keeps_a_partition_that_took_rows(pair: MakePair) -> None:
    p = pair(EVENTS + ROWS_2025, EVENTS + EVENTS_2026)
    p.converged(p.fix())
    execute(p.url, "INSERT INTO events VALUES (4, '2026-02-01', 'a')")
    from test_fix_partitions import _downgrade

    with pytest.raises(Exception, match="holds data"):
        _downgrade(p)
    assert query(p.url, "SELECT count(*) FROM events_2026") == [(1,)]


def test_fix_leaves_a_detached_partition_and_inheritance_for_a_person(
    database: str, tmp_path: Path
) -> None:
    from conftest import fix_notes

    execute(database, SCHEMA)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, DRIFTS["detached"][0] + "; " + DRIFTS["inheritance removed"][0])
    said = fix_notes(database, lock, tmp_path / "migrations")
    assert (
        "ALTER TABLE public.events_2026 ATTACH PARTITION public.events_2026_eu FOR VALUES" in said
    )
    assert "ALTER TABLE public.readings_2026 INHERIT public.tagged" in said
