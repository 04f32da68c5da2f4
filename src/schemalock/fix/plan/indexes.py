"""Planning for indexes: built concurrently, invalid ones rebuilt."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from alembic.operations import ops

from schemalock.compare import differences as d
from schemalock.fix.plan.core import Phase, Planner
from schemalock.fix.plan.sql import index_op
from schemalock.model import (
    Index,
    Table,
)
from schemalock.model.names import qualified


def missing_index(planner: Planner, missing: d.MissingIndex) -> None:
    live, index = missing.live, missing.index
    name = planner.free_index_name(live, index.name)
    _concurrent_index(planner, live, replace(index, name=name))


def _concurrent_index(planner: Planner, table: Table, index: Index) -> None:
    if index.unique:
        blocker = planner.duplicates(table, index)
        if blocker is not None:
            return
    if table.partition_by:
        planner.add(
            Phase.STRUCTURE,
            f"index {index.name} on partitioned {table.name}",
            index_op(table, index, False),
            hazards=[
                f"SHARE lock on every partition of {qualified(table.schema, table.name)} "
                "for the build: CONCURRENTLY is not supported on a partitioned table"
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
    drop = ops.DropIndexOp(
        index.name,
        table_name=live.name,
        schema=live.schema,
        postgresql_concurrently=True,
        if_exists=True,
    )
    rebuild = index_op(live, index, True, from_lock=False)
    planner.build_concurrently(live, f"rebuild invalid index {index.name}", drop, rebuild)


HANDLERS: dict[type[Any], Any] = {d.MissingIndex: missing_index, d.InvalidIndex: invalid_index}
