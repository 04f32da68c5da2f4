"""A table's partitions and inheritance parents, from the two columns tables.sql adds to
each table's row (no query of their own).  A partition's own indexes and constraints come from
constraints.sql and indexes.sql, which read them with the tables' (by the partitions' oids)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from schemalock.model import Table
from schemalock.model.partitions import Partition

Key = tuple[str, str]


def oids(found: list[list[Any]] | None) -> list[int]:
    """The oids of the partitions of a `partitions_of()` tree."""
    return [row[6] for row in found or ()]


def partitions_of(
    key: Key, partition_by: str | None, found: list[list[Any]] | None, own: Mapping[int, Table]
) -> tuple[Partition, ...] | None:
    """A partitioned table's partitions (None for another table), from `found`: [schema,
    name, parent schema, parent name, bound, key, oid] rows of the whole tree, each with its
    own indexes and constraints (`own`: as a table holds them, by the partition's oid; one
    with none is not there)."""
    if partition_by is None:
        return None
    return _tree(key, found or [], own)


def _own(table: Table | None) -> dict[str, Any]:
    if table is None:
        return {}
    return {
        "primary_key": table.primary_key,
        "foreign_keys": table.foreign_keys,
        "uniques": table.uniques,
        "checks": table.checks,
        "indexes": table.indexes,
        "exclusions": table.exclusions,
    }


def _tree(root: Key, rows: list[list[Any]], own: Mapping[int, Table]) -> tuple[Partition, ...]:
    """The partitions under `root`, each sub-partitioned one holding its own.  A partition
    whose bound (or, partitioned, whose key) the catalog no longer prints was dropped or
    detached since the snapshot: left out with what is under it, as a later read would."""
    children: defaultdict[Key, list[list[Any]]] = defaultdict(list)
    for row in rows:
        children[(row[2], row[3])].append(row)

    def under(parent: Key) -> tuple[Partition, ...]:
        found = []
        for schema, name, _parent_schema, _parent_name, bound, key, oid in children[parent]:
            if bound is None:
                continue
            partitioned = (schema, name) in children or key is not None
            if partitioned and key is None:
                continue
            found.append(
                Partition(
                    schema=schema,
                    name=name,
                    bound=bound,
                    partition_by=key,
                    partitions=under((schema, name)) if key is not None else None,
                    **_own(own.get(oid)),
                )
            )
        return tuple(found)

    return under(root)
