"""The differences of a partitioned table's partitions and of a table's inheritance parents.

Each is a difference inside a table both sides have (`lock`, `live`: the partitioned table, or
the inheriting one).  A partition is named by `partition` (its schema and name) and placed by
`parent`: the partitioned table, or the sub-partitioned partition, it belongs to.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemalock.compare.subject import Difference
from schemalock.model import Table
from schemalock.model.partitions import Partition

__all__ = [
    "PARTITION_ASPECTS",
    "ExtraPartition",
    "InheritanceChanged",
    "MissingPartition",
    "PartitionChanged",
]


@dataclass(frozen=True, kw_only=True)
class _InTable(Difference):
    lock: Table
    live: Table


@dataclass(frozen=True, kw_only=True)
class MissingPartition(_InTable):
    """A partition the lock declares that no partitioned table of the database has.
    `detached`: the database has a table of its name (a partition detached, or never
    attached)."""

    partition: Partition
    parent: tuple[str, str]
    detached: bool = False


@dataclass(frozen=True, kw_only=True)
class ExtraPartition(_InTable):
    partition: Partition
    parent: tuple[str, str]


# bound: another FOR VALUES; parent: a partition of another table (or sub-partition);
# partitioning: a sub-partition partitioned otherwise (or not at all).
PARTITION_ASPECTS = ("bound", "parent", "partitioning")


@dataclass(frozen=True, kw_only=True)
class PartitionChanged(_InTable):
    lock_partition: Partition
    live_partition: Partition
    lock_parent: tuple[str, str]
    live_parent: tuple[str, str]
    aspects: frozenset[str]  # of PARTITION_ASPECTS


@dataclass(frozen=True, kw_only=True)
class InheritanceChanged(_InTable):
    """The table inherits from other parents (or in another order) than the lock says:
    `lock.inherits` and `live.inherits`."""
