"""Partitions and inheritance of two locks, judged from the comparison stage's differences
(the new lock in the lock's role, as in `schema`): a partition added is progress, one removed a
regression (its rows' range is no longer promised); another bound, parent or inheritance is a
change that promises neither more nor less."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.compare import differences as d
from schemalock.guard.changes import Change, Kind
from schemalock.guard.schema import Sides, about, handles
from schemalock.model import Table
from schemalock.rules.base import q


@handles(d.MissingPartition)
def _added(x: d.MissingPartition, sides: Sides) -> Iterator[Change]:
    message = f"partition {q(*x.partition.key)} of {q(*x.parent)} added ({x.partition.bound})"
    yield about(x, Kind.PROGRESS, message, x.line, constraint=x.subject.name)


@handles(d.ExtraPartition)
def _removed(x: d.ExtraPartition, sides: Sides) -> Iterator[Change]:
    message = f"partition {q(*x.partition.key)} of {q(*x.parent)} removed"
    line = x.partition.line or x.live.line
    yield about(x, Kind.REGRESSION, message, line, in_base=True, constraint=x.subject.name)


@handles(d.PartitionChanged)
def _changed(x: d.PartitionChanged, sides: Sides) -> Iterator[Change]:
    aspects = ", ".join(a for a in d.PARTITION_ASPECTS if a in x.aspects)
    message = f"partition {q(*x.lock_partition.key)}: {aspects} changed"
    yield about(
        x,
        Kind.NEUTRAL,
        message,
        x.line,
        constraint=x.subject.name,
        before=x.live_partition.bound,
        after=x.lock_partition.bound,
    )


@handles(d.InheritanceChanged)
def _inheritance(x: d.InheritanceChanged, sides: Sides) -> Iterator[Change]:
    def parents(table: Table) -> str:
        return ", ".join(q(*p) for p in table.inherits) or "nothing"

    message = f"table {q(*x.lock.key)} inherits from {parents(x.lock)}, was {parents(x.live)}"
    yield about(x, Kind.NEUTRAL, message, x.line, before=parents(x.live), after=parents(x.lock))
