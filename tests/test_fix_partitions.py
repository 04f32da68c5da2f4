"""`fix --apply` on partitioned tables beyond the cases of test_fix_classes.py: partitions that
are partitioned themselves, keys PostgreSQL cannot put on them, a partition's index a failed
build left behind, names another relation holds, and the downgrades.

The harness is test_fix_classes.py's (OLD with its rows, the lock snapshotted from NEW); only
the CLI and Alembic's own downgrade are used."""

from __future__ import annotations

import psycopg
import pytest

from conftest import execute, query
from test_fix_classes import EVENT_ROWS, EVENTS, MakePair, Pair, _drift, pair

pytestmark = pytest.mark.db

__all__ = ["pair"]  # the fixture, imported to be used here

# 2026 is partitioned again, by id: a second level of partitioned indexes.
TWO_LEVELS = """
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, kind text NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')
    PARTITION BY RANGE (id);
CREATE TABLE events_2026_low PARTITION OF events_2026 FOR VALUES FROM (0) TO (40);
CREATE TABLE events_2026_high PARTITION OF events_2026 DEFAULT;
"""
KEYED = """
ALTER TABLE events ADD PRIMARY KEY (id, at);
CREATE INDEX events_kind_idx ON events (kind);
"""


def _revision(p: Pair) -> str:
    (revision,) = sorted((p.migrations / "versions").glob("*.py"))
    return revision.read_text(encoding="utf-8")


def _downgrade(p: Pair) -> None:
    from alembic import command

    from schemalock.fix import environment

    command.downgrade(environment.config(p.migrations, p.url), "-1")


def _invalid_indexes(url: str) -> list[tuple[object, ...]]:
    return query(
        url,
        "SELECT indexrelid::regclass::text FROM pg_index AS x JOIN pg_class AS c"
        " ON c.oid = x.indexrelid WHERE NOT x.indisvalid AND c.relname LIKE 'events%'",
    )


def test_keys_and_index_of_a_table_partitioned_on_two_levels(pair: MakePair) -> None:
    """Each leaf's index built CONCURRENTLY, the partitioned partition's `ON ONLY` and
    attached between the two; no build under SHARE; the downgrade brings the drift back."""
    p = pair(TWO_LEVELS + EVENT_ROWS, TWO_LEVELS + KEYED)
    p.converged(p.fix())
    text = _revision(p)
    for leaf in ("events_2025", "events_2026_low", "events_2026_high"):
        assert f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {leaf}_pkey" in text
        assert f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {leaf}_kind_idx" in text
    assert "ALTER TABLE ONLY public.events_2026 ADD CONSTRAINT events_2026_pkey" in text
    assert "CREATE INDEX events_2026_kind_idx ON ONLY public.events_2026" in text
    assert "ATTACH PARTITION public.events_2026_low_kind_idx" in text
    assert "op.create_index(" not in text  # PostgreSQL's own build on the parent: SHARE
    assert _invalid_indexes(p.url) == []
    _downgrade(p)
    assert _drift(p.url, p.lock) == p.drift
    p.rows_kept()


def test_a_key_a_partition_key_below_does_not_hold_is_refused(pair: MakePair) -> None:
    """PostgreSQL requires a unique key of a partitioned table to hold every column of its
    partition key, at every level: 2026, partitioned by kind, cannot take (id, at)."""
    by_kind = TWO_LEVELS.replace("PARTITION BY RANGE (id)", "PARTITION BY LIST (kind)")
    by_kind = by_kind.replace("FOR VALUES FROM (0) TO (40)", "FOR VALUES IN ('kind 0')")
    p = pair(by_kind + EVENT_ROWS, EVENTS + "ALTER TABLE events ADD PRIMARY KEY (id, at);")
    p.refused(p.fix(), "events_pkey", "public.events_2026", "partition key")


def test_invalid_partitioned_index_over_an_invalid_partition_index(
    pair: MakePair, database: str
) -> None:
    """A partition's index attached while INVALID (its concurrent build failed on a duplicate,
    since deleted) cannot be detached: the parent's index is dropped and built again."""
    twice = "INSERT INTO events VALUES (1, '2025-03-01', 'a'), (2, '2025-03-01', 'a')"
    execute(database, EVENTS + twice)
    with (
        psycopg.connect(database, autocommit=True) as connection,
        pytest.raises(psycopg.errors.UniqueViolation),
    ):
        connection.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY events_2025_kind_at_idx ON events_2025 (kind, at)"
        )
    execute(
        database,
        "DELETE FROM events WHERE id = 2;"
        "CREATE UNIQUE INDEX events_kind_at_idx ON ONLY events (kind, at);"
        "ALTER INDEX events_kind_at_idx ATTACH PARTITION events_2025_kind_at_idx;",
    )
    p = pair(EVENT_ROWS, EVENTS + "CREATE UNIQUE INDEX events_kind_at_idx ON events (kind, at);")
    assert [rule for rule, _ in p.drift] == ["invalid-index"]
    p.converged(p.fix())
    assert _invalid_indexes(p.url) == []


def test_invalid_index_of_a_partitioned_partition_is_finished(pair: MakePair) -> None:
    """`ON ONLY` the parent and `ON ONLY` its partitioned partition, one leaf attached: the
    other leaves get theirs, and both levels turn valid."""
    old = (
        TWO_LEVELS
        + EVENT_ROWS
        + (
            "CREATE INDEX events_kind_idx ON ONLY events (kind);"
            "CREATE INDEX events_2026_kind_idx ON ONLY events_2026 (kind);"
            "ALTER INDEX events_kind_idx ATTACH PARTITION events_2026_kind_idx;"
            "CREATE INDEX events_2026_low_kind_idx ON events_2026_low (kind);"
            "ALTER INDEX events_2026_kind_idx ATTACH PARTITION events_2026_low_kind_idx;"
        )
    )
    p = pair(old, TWO_LEVELS + "CREATE INDEX events_kind_idx ON events (kind);")
    assert [rule for rule, _ in p.drift] == ["invalid-index"]
    p.converged(p.fix())
    text = _revision(p)
    assert "DROP INDEX" not in text.partition("def downgrade")[0]
    assert "events_2026_low_kind_idx ON" not in text  # attached already: left as it is
    assert _invalid_indexes(p.url) == []


def test_index_left_invalid_on_a_partition_is_built_again(pair: MakePair, database: str) -> None:
    """A failed build of the partition's index (its name the one fix would choose) is dropped
    and built again, not left behind beside a second one."""
    duplicate = "INSERT INTO events VALUES (1, date '2025-06-01' + 7, 'x')"  # as row 1's key
    execute(database, EVENTS + EVENT_ROWS + duplicate)
    with (
        psycopg.connect(database, autocommit=True) as connection,
        pytest.raises(psycopg.errors.UniqueViolation),
    ):
        connection.execute(
            "CREATE UNIQUE INDEX CONCURRENTLY events_2025_pkey ON events_2025 (id, at)"
        )
    execute(database, "DELETE FROM events WHERE kind = 'x'")
    p = pair("SELECT", EVENTS + "ALTER TABLE events ADD PRIMARY KEY (id, at);")
    p.converged(p.fix())
    assert "DROP INDEX CONCURRENTLY IF EXISTS public.events_2025_pkey" in _revision(p)
    assert _invalid_indexes(p.url) == []


def test_index_name_a_partition_index_holds(pair: MakePair) -> None:
    """Index names are the schema's: a partition's index holding the lock's index name would
    make `CREATE INDEX ... IF NOT EXISTS` skip the build.  Built under a free name instead."""
    tables = "CREATE TABLE orgs (id int PRIMARY KEY, name text);" + EVENTS
    p = pair(
        tables + EVENT_ROWS + "CREATE INDEX lookup_idx ON events_2025 (kind);",
        tables + "CREATE INDEX lookup_idx ON orgs (name);",
    )
    p.converged(p.fix())
    assert query(p.url, "SELECT to_regclass('lookup_idx_1')::text") == [("lookup_idx_1",)]


def test_table_whose_name_a_view_holds_is_left_for_a_person(pair: MakePair) -> None:
    p = pair("CREATE VIEW foobar AS SELECT 1 AS id;", "CREATE TABLE foobar (id int);")
    result = p.fix()
    assert "left for a person: public.foobar: the name is taken by a view" in result.stdout
    p.converged_or_left(result, {"missing-table"}, "public.foobar")


def test_partition_in_the_lock_names_the_detach(pair: MakePair) -> None:
    """The partition the lock has as a table is left for a person, with the statement."""
    p = pair(EVENTS + EVENT_ROWS, EVENTS + "ALTER TABLE events DETACH PARTITION events_2025;")
    result = p.fix()
    assert result.exit_code == 0, result.stdout + result.stderr
    assert (
        "ALTER TABLE public.events DETACH PARTITION public.events_2025 CONCURRENTLY"
        in result.stdout
    )
    p.rows_kept()


def test_missing_partitioned_table_and_its_downgrade(pair: MakePair) -> None:
    """Created partitioned, with the partitions the lock lists, after it; the downgrade
    drops them (empty) and it again."""
    orgs = "CREATE TABLE orgs (id int PRIMARY KEY); INSERT INTO orgs VALUES (1);"
    p = pair(orgs, "CREATE TABLE orgs (id int PRIMARY KEY);" + EVENTS + KEYED)
    result = p.fix()
    assert "created partitioned (RANGE (at)) and empty" not in result.stdout
    assert "create partition public.events_2026 of public.events" in result.stdout
    p.converged(result)
    _downgrade(p)
    assert _drift(p.url, p.lock) == p.drift


def test_primary_key_over_a_nullable_column_of_a_partitioned_table(pair: MakePair) -> None:
    """The key's column is proven NOT NULL first (a check NOT VALID on the partitioned table,
    validated, then SET NOT NULL on every level), then the key is built per partition."""
    nullable = EVENTS.replace("id bigint NOT NULL", "id bigint")
    p = pair(nullable + EVENT_ROWS, EVENTS + "ALTER TABLE events ADD PRIMARY KEY (id, at);")
    p.converged(p.fix())
    assert query(
        p.url,
        "SELECT attnotnull FROM pg_attribute WHERE attname = 'id'"
        " AND attrelid = 'events_2026'::regclass",
    ) == [(True,)]
