"""A table's partitions and parents as the lock writes them (`partitions:`, `inherits:`),
deterministically: partitions by name, parents in inheritance order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemalock.lock.yaml_style import FlowList
from schemalock.model import names
from schemalock.model.partitions import Partition


def _name(key: tuple[str, str], schema: str) -> str:
    """A name in its owner's schema unqualified, in another schema-qualified."""
    return names.lock_name(key[1]) if key[0] == schema else names.lock_name(*key)


# A partition's own indexes and constraints as the lock writes them (the writer's, in the
# shape of a table's), the keys it has.
Own = Callable[[Partition], dict[str, Any]]


def partitions(found: tuple[Partition, ...], schema: str, own: Own) -> dict[str, Any]:
    """`{name: bound}`, or `{name: {bound, partition_by, partitions}}` for a partition that is
    itself partitioned, with its own indexes and constraints (`own`) for one that has some;
    `schema` is the parent's."""
    written: dict[str, Any] = {}
    for partition in sorted(found, key=lambda p: (p.schema != schema, p.key)):
        fields = own(partition)
        if partition.partition_by is None and not fields:
            written[_name(partition.key, schema)] = partition.bound
            continue
        spec: dict[str, Any] = {"bound": partition.bound}
        if partition.partition_by is not None:
            spec["partition_by"] = partition.partition_by
            spec["partitions"] = partitions(partition.partitions or (), partition.schema, own)
        written[_name(partition.key, schema)] = spec | fields
    return written


def table_fields(
    partitions_found: tuple[Partition, ...] | None, inherits: Any, schema: str, own: Own
) -> dict[str, Any]:
    """The table-level keys this module writes, those that apply."""
    result: dict[str, Any] = {}
    if inherits:
        result["inherits"] = FlowList(_name(parent, schema) for parent in inherits)
    if partitions_found is not None:
        result["partitions"] = partitions(partitions_found, schema, own)
    return result
