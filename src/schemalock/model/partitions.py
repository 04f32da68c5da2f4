"""The partitions of a partitioned table, as part of their parent's definition.

A partition is not a table of the model (`Database.tables` holds the partitioned table only):
its columns, keys and indexes are its parent's, so the parent's comparison covers them, and its
rows are its parent's rows, so data checks that read the parent see them once.  What a
partition adds is its name (it may sit in another schema than its parent), its bound
(`FOR VALUES FROM (..) TO (..)`, `FOR VALUES IN (..)`, `FOR VALUES WITH (modulus .., remainder
..)` or `DEFAULT`, as `pg_get_expr(relpartbound, oid)` prints it) and, for a partition that is
itself partitioned, its own partition key and partitions, and its own indexes and constraints:
those made on the partition alone (an index not attached to an index of its parent, a
constraint not inherited or cloned from one of its parent's), which only it has.  A
sub-partitioned partition's own index is a partitioned index: its partitions' indexes are
attached to it and belong to it, so they are not theirs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the model's package imports this module
    from schemalock.model import CheckConstraint, ForeignKey, Index, PrimaryKey, UniqueConstraint
    from schemalock.model.exclusions import ExclusionConstraint


@dataclass(frozen=True, slots=True)
class Partition:
    schema: str
    name: str
    bound: str  # FOR VALUES ... or DEFAULT
    partition_by: str | None = None  # a sub-partitioned partition's own key
    # A sub-partitioned partition's partitions; None: not partitioned (or, in a lock, not said)
    partitions: tuple[Partition, ...] | None = None
    # Its own indexes and constraints, in the shapes a table's have (a lock lists them on the
    # partition, in the shape of a table's).
    primary_key: PrimaryKey | None = None
    foreign_keys: tuple[ForeignKey, ...] = ()
    uniques: tuple[UniqueConstraint, ...] = ()
    checks: tuple[CheckConstraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    exclusions: tuple[ExclusionConstraint, ...] = ()
    line: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)


def walk(
    partitions: tuple[Partition, ...] | None, parent: tuple[str, str]
) -> Iterator[tuple[tuple[str, str], Partition]]:
    """Every partition of a tree, sub-partitions included, with the key of its parent (the
    partitioned table or a sub-partitioned partition), parents before their partitions."""
    for partition in partitions or ():
        yield parent, partition
        yield from walk(partition.partitions, partition.key)
