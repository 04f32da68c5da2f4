"""A table's `partitions:` and `inherits:` -> the model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemalock.lock.format_partitions import PartitionSpec
from schemalock.lock.paths import ConversionError, Path
from schemalock.model import names
from schemalock.model.partitions import Partition

Line = Callable[[Path], "int | None"]
# A partition's own indexes and constraints (`PartitionSpec`, its schema, its path, its line)
# as `Partition` fields: the table converter's, which reads them as a table's.
Own = Callable[[PartitionSpec, str, Path, "int | None"], dict[str, Any]]


def partitions(
    written: dict[str, str | PartitionSpec] | None,
    partition_by: str | None,
    schema: str,
    path: Path,
    line: Line,
    outer: int | None = None,
    *,
    own: Own,
) -> tuple[Partition, ...] | None:
    """The partitions a table's (or a sub-partitioned partition's) `partitions:` lists, in
    the lock's order; None when the key is left out (not declared, not compared).  The lock
    maps lines four levels deep: a sub-partition has its parent's line (`outer`).  A
    partition written in full may list indexes and constraints of its own (`own`)."""
    if written is None:
        return None
    if partition_by is None:
        raise ConversionError("`partitions:` needs `partition_by:`", path)
    found = []
    for key, spec in written.items():
        where: Path = (*path, key)
        name = _split(key, schema, where)
        at = line(where) or outer
        if isinstance(spec, str):
            found.append(Partition(*name, bound=spec, line=at))
            continue
        sub = (*where, "partitions")
        found.append(
            Partition(
                *name,
                bound=spec.bound,
                partition_by=spec.partition_by,
                partitions=partitions(
                    spec.partitions, spec.partition_by, name[0], sub, line, at, own=own
                ),
                line=at,
                **own(spec, name[0], where, at),
            )
        )
    return tuple(found)


def inherits(written: list[str], schema: str, path: Path) -> tuple[tuple[str, str], ...]:
    """The parents a table's `inherits:` names, in order."""
    parents = tuple(_split(key, schema, (*path, n)) for n, key in enumerate(written))
    if len(set(parents)) != len(parents):
        raise ConversionError("a table inherits from each parent once", path)
    return parents


def _split(key: str, schema: str, path: Path) -> tuple[str, str]:
    try:
        return names.split_table(key, schema)
    except names.NameError_ as error:
        raise ConversionError(str(error), path) from None
