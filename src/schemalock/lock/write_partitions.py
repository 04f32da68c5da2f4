"""A table's partitions and parents as the lock writes them (`partitions:`, `inherits:`),
deterministically: partitions by name, parents in inheritance order."""

from __future__ import annotations

from typing import Any

from schemalock.lock.yaml_style import FlowList
from schemalock.model import names
from schemalock.model.partitions import Partition


def _name(key: tuple[str, str], schema: str) -> str:
    """A name in its owner's schema unqualified, in another schema-qualified."""
    return names.lock_name(key[1]) if key[0] == schema else names.lock_name(*key)


def partitions(found: tuple[Partition, ...], schema: str) -> dict[str, Any]:
    """`{name: bound}`, or `{name: {bound, partition_by, partitions}}` for a partition that is
    itself partitioned; `schema` is the parent's."""
    written: dict[str, Any] = {}
    for partition in sorted(found, key=lambda p: (p.schema != schema, p.key)):
        if partition.partition_by is None:
            written[_name(partition.key, schema)] = partition.bound
            continue
        spec: dict[str, Any] = {"bound": partition.bound, "partition_by": partition.partition_by}
        spec["partitions"] = partitions(partition.partitions or (), partition.schema)
        written[_name(partition.key, schema)] = spec
    return written


def table_fields(
    partitions_found: tuple[Partition, ...] | None, inherits: Any, schema: str
) -> dict[str, Any]:
    """The table-level keys this module writes, those that apply."""
    result: dict[str, Any] = {}
    if inherits:
        result["inherits"] = FlowList(_name(parent, schema) for parent in inherits)
    if partitions_found is not None:
        result["partitions"] = partitions(partitions_found, schema)
    return result
