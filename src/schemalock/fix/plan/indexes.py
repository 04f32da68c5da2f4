"""Planning for indexes: built concurrently, invalid ones rebuilt; on a partitioned table, built
per partition and attached (`partitions`), and so are its primary key and unique constraints."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from alembic.operations import ops

from schemalock.compare import differences as d
from schemalock.fix.plan import constraints, partitions
from schemalock.fix.plan.core import Phase, Planner
from schemalock.fix.plan.sql import index_op, short_name
from schemalock.model import (
    Index,
    Table,
)
from schemalock.model.names import qualified, quote


def missing_index(planner: Planner, missing: d.MissingIndex) -> None:
    live, index = missing.live, missing.index
    _concurrent_index(planner, live, replace(index, name=_free_name(planner, live, index.name)))


def _free_name(planner: Planner, table: Table, name: str) -> str:
    """`name`, or a variant of it no index of the table and no relation of its schema holds.
    Index names are the schema's: one held by a partition's index, a constraint's index, a
    sequence or a view would make `CREATE INDEX ... IF NOT EXISTS` skip the build (and the
    index stay missing), or `ADD CONSTRAINT` fail."""
    free = planner.free_index_name(table, name)
    while partitions.relation(planner, table.schema, free) is not None:
        free = planner.free_index_name(table, name)
    return free


def _concurrent_index(planner: Planner, table: Table, index: Index) -> None:
    if index.unique:
        blocker = planner.duplicates(table, index)
        if blocker is not None:
            return
    if table.partition_by:
        if partitions.build(planner, table, index, Phase.CONSTRAINTS):
            return
        # A foreign table among the partitions takes no index: PostgreSQL's own build, which
        # skips it, under SHARE on every partition.
        planner.add(
            Phase.STRUCTURE,
            f"index {index.name} on partitioned {table.name}",
            index_op(table, index, False),
            hazards=[
                f"SHARE lock on every partition of {qualified(table.schema, table.name)} "
                "for the build: a foreign table among its partitions takes no index"
            ],
            long=True,
        )
        return
    build = index_op(table, index, True)
    planner.build_concurrently(table, f"index {index.name} on {table.name}", build)


def invalid_index(planner: Planner, invalid: d.InvalidIndex) -> None:
    live, index = invalid.live, invalid.index
    if index.unique and planner.duplicates(live, index) is not None:
        return
    if live.partition_by:  # no DROP INDEX CONCURRENTLY of a partitioned index: finish it
        partitions.finish(planner, live, index)
        return
    drop = ops.DropIndexOp(
        index.name,
        table_name=live.name,
        schema=live.schema,
        postgresql_concurrently=True,
        if_exists=True,
    )
    rebuild = index_op(live, index, True, from_lock=False)
    planner.build_concurrently(live, f"rebuild invalid index {index.name}", drop, rebuild)


def primary_key(planner: Planner, changed: d.PrimaryKeyChanged) -> None:
    """A primary key missing from a partitioned table: each partition's key built online and
    attached; any other table's, as `constraints` plans it."""
    lock, live = changed.lock, changed.live
    if lock.primary_key is None:
        constraints.primary_key(planner, changed)
        return
    wanted = lock.primary_key.name or short_name(f"{live.name}_pkey")
    if not live.partition_by or live.primary_key is not None:
        # Adopting its index renames it: the name must be free, but for the key it replaces.
        former = live.primary_key.name if live.primary_key is not None else None
        free = wanted if former == wanted else _free_name(planner, live, wanted)
        constraints.primary_key(planner, changed, free)
        return
    columns = lock.primary_key.columns
    name = _free_name(planner, live, wanted)
    index = Index(name=name, keys=tuple(quote(c) for c in columns), unique=True)
    if planner.duplicates(live, index) is not None:
        return
    for column in columns:
        found = live.column(column)
        if found is not None and found.nullable:
            planner.set_not_null(live, column)
    key = partitions.Key(partitions.PRIMARY_KEY, columns)
    partitions.build(planner, live, index, Phase.KEYS, key)


def missing_unique(planner: Planner, missing: d.MissingUnique) -> None:
    """A unique constraint missing from a partitioned table, built as its primary key is."""
    live, unique = missing.live, missing.unique
    default = short_name(f"{live.name}_{'_'.join(unique.columns)}_key")
    name = _free_name(planner, live, unique.name or default)
    if not live.partition_by:
        constraints.missing_unique(planner, missing, name)
        return
    index = Index(
        name=name,
        keys=tuple(quote(c) for c in unique.columns),
        unique=True,
        nulls_not_distinct=unique.nulls_not_distinct,
    )
    if planner.duplicates(live, index) is not None:
        return
    key = partitions.Key(partitions.UNIQUE, unique.columns)
    partitions.build(planner, live, index, Phase.CONSTRAINTS, key)


HANDLERS: dict[type[Any], Any] = {
    d.MissingIndex: missing_index,
    d.InvalidIndex: invalid_index,
    d.PrimaryKeyChanged: primary_key,
    d.MissingUnique: missing_unique,
}
