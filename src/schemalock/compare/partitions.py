"""Partitions and inheritance: the lock's partitions of each partitioned table against the
database's, and each table's inheritance parents.

A table whose lock entry has no `partitions:` (a lock written before partitions were locked)
declares none, and its partitions are not compared.  A partition is found by its name anywhere
in the database's partition trees, so one attached to another parent reads as moved (one
difference, `parent`), not as one missing and one extra; one the database holds as a table of
its own reads as missing, `detached`, and that table is not also extra; the other way round,
a partition the lock has as a table is the lock's missing table, not also an extra partition.

A partition's own indexes and constraints are compared as a table's are (`own_pairs`): the
differences name the partition as their table, so the rules and the planner of tables' indexes
and constraints serve them unchanged.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import replace

from schemalock.compare import partition_differences as pd
from schemalock.compare.pairs import TablePair
from schemalock.compare.subject import Difference, Subject
from schemalock.model import Database, Table, expressions
from schemalock.model.names import lock_name
from schemalock.model.partitions import Partition, walk

Key = tuple[str, str]


def declared(lock: Database) -> dict[Key, tuple[Key, Partition]]:
    """Every partition the lock declares, with its parent."""
    return {
        partition.key: (parent, partition)
        for table in lock.tables.values()
        for parent, partition in walk(table.partitions, table.key)
    }


def _held(live: Database) -> dict[Key, tuple[Key, Partition]]:
    return {
        partition.key: (parent, partition)
        for table in live.tables.values()
        for parent, partition in walk(table.partitions, table.key)
    }


def subject(table: Table, partition: Partition) -> Subject:
    """A partition as a finding names it: in its partitioned table, by its lock name."""
    name = partition.name if partition.schema == table.schema else lock_name(*partition.key)
    return Subject("partition", table.schema, table.name, name)


def partition_differences(
    lock: Database, live: Database, pairs: Iterable[TablePair]
) -> Iterator[Difference]:
    """Missing, extra and changed partitions, and changed inheritance, of the paired tables."""
    wanted, held = declared(lock), _held(live)
    for pair in pairs:
        if pair.lock is None or pair.live is None:
            continue
        if pair.lock.inherits != pair.live.inherits:
            yield pd.InheritanceChanged(
                subject=Subject("inheritance", *pair.lock.key),
                line=pair.lock.line,
                lock=pair.lock,
                live=pair.live,
            )
        if pair.lock.partitions is not None and pair.live.partition_by is not None:
            yield from _partitions(pair.lock, pair.live, wanted, held, live, lock.tables.keys())


def own_pairs(
    lock: Database, live: Database, pairs: Iterable[TablePair]
) -> Iterator[tuple[Table, Table]]:
    """For each partition the lock declares and the database has (under whichever parent),
    its own indexes and constraints on each side as a table of the partition's name with its
    partitioned table's columns (the partition's own: a partition has its parent's)."""
    held = _held(live)
    for pair in pairs:
        if pair.lock is None or pair.live is None or pair.lock.partitions is None:
            continue
        for _, partition in walk(pair.lock.partitions, pair.lock.key):
            found = held.get(partition.key)
            if found is not None:
                yield own_table(pair.lock, partition), own_table(pair.live, found[1])


def own_table(table: Table, partition: Partition) -> Table:
    """A partition of `table` (at any depth) as a table holding its own indexes and
    constraints and `table`'s columns; partitioned as the partition is."""
    return replace(
        Table(partition.schema, partition.name, columns=table.columns),
        primary_key=partition.primary_key,
        foreign_keys=partition.foreign_keys,
        uniques=partition.uniques,
        checks=partition.checks,
        indexes=partition.indexes,
        exclusions=partition.exclusions,
        partition_by=partition.partition_by,
        line=partition.line,
    )


def _partitions(
    lock: Table,
    live: Table,
    wanted: dict[Key, tuple[Key, Partition]],
    held: dict[Key, tuple[Key, Partition]],
    database: Database,
    tables: Collection[Key],
) -> Iterator[Difference]:
    renamed = {live.key: lock.key}  # the live table may still have its old name

    for parent, partition in walk(lock.partitions, lock.key):
        found = held.get(partition.key)
        where = subject(lock, partition)
        if found is None:
            yield pd.MissingPartition(
                subject=where,
                line=partition.line,
                lock=lock,
                live=live,
                partition=partition,
                parent=parent,
                detached=partition.key in database.tables,
            )
            continue
        live_parent, live_partition = found
        if aspects := _aspects(
            partition, parent, live_partition, renamed.get(live_parent, live_parent)
        ):
            yield pd.PartitionChanged(
                subject=where,
                line=partition.line,
                lock=lock,
                live=live,
                lock_partition=partition,
                live_partition=live_partition,
                lock_parent=parent,
                live_parent=live_parent,
                aspects=aspects,
            )
    listed = _listed(lock)
    for parent, partition in walk(live.partitions, live.key):
        parent = renamed.get(parent, parent)
        # One the lock has as a table of its own is its missing table (missing-table).
        if partition.key not in wanted and parent in listed and partition.key not in tables:
            yield pd.ExtraPartition(
                subject=subject(lock, partition),
                line=lock.line,
                lock=lock,
                live=live,
                partition=partition,
                parent=parent,
            )


def _listed(table: Table) -> set[Key]:
    """The table and its sub-partitioned partitions whose partitions the lock lists: only
    under those is a partition the lock does not name extra."""
    found = {table.key} if table.partitions is not None else set()
    found |= {p.key for _, p in walk(table.partitions, table.key) if p.partitions is not None}
    return found


def _aspects(want: Partition, parent: Key, have: Partition, live_parent: Key) -> frozenset[str]:
    aspects = set()
    if live_parent != parent:
        aspects.add("parent")
    if not expressions.same(want.bound, have.bound, "bound"):
        aspects.add("bound")
    if not expressions.same(want.partition_by, have.partition_by, "partition"):
        aspects.add("partitioning")
    return frozenset(aspects)
