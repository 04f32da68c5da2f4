"""Planning for whole tables: new, renamed, and what is left alone."""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation, ops

from schemalock.compare import differences as d
from schemalock.fix import operations as fo
from schemalock.fix.plan.core import Phase, Planner
from schemalock.fix.plan.sql import check_op, fk_op, index_op, sa_column, short_name, unique_op
from schemalock.model import (
    OWNED_SEQUENCE,
    Column,
    Table,
)
from schemalock.model.names import qualified, quote


def missing_table(planner: Planner, missing: d.MissingTable) -> None:
    table = missing.lock
    key = table.key
    if any(column.generated_storage == "virtual" for column in table.columns):
        # SQLAlchemy's DDL compiler knows only stored generated columns.
        planner.note(f"{qualified(*key)}: a virtual generated column: create the table by hand")
        return
    known = [
        planner.types_exist(f"column {qualified(*key, c.name)}", c.type) for c in table.columns
    ]
    if not all(known):
        return
    planner.create_schema(table.schema)
    columns = [sa_column(column, table) for column in table.columns]
    elements: list[Any] = []
    if table.primary_key:
        import sqlalchemy as sa

        name = table.primary_key.name or f"{table.name}_pkey"
        elements.append(sa.PrimaryKeyConstraint(*table.primary_key.columns, name=name))
    create = ops.CreateTableOp(table.name, columns + elements, schema=table.schema)
    serials = [
        _owned_sequence(planner, table, c) for c in table.columns if c.default == OWNED_SEQUENCE
    ]
    planner.add(Phase.STRUCTURE, f"create {qualified(*key)}", create, *serials)
    # A new, empty table: its constraints and indexes cost nothing to add validated.
    for unique in table.uniques:
        planner.add(Phase.STRUCTURE, "unique on a new table", unique_op(table, unique))
    for check in table.checks:
        planner.add(Phase.STRUCTURE, "check on a new table", check_op(table, check, False))
    for index in table.indexes:
        planner.add(Phase.STRUCTURE, "index on a new table", index_op(table, index, False))
    for fk in table.foreign_keys:
        planner.add(Phase.FOREIGN_KEYS, "foreign key of a new table", fk_op(table, fk, False))


def _owned_sequence(planner: Planner, table: Table, column: Column) -> MigrateOperation:
    """What `serial` does: a sequence the column owns, and its nextval() as the default
    (dropped with the table, so the downgrade has nothing of its own to undo)."""
    target = qualified(table.schema, table.name)
    sequence = qualified(table.schema, short_name(f"{table.name}_{column.name}_seq"))
    name = quote(column.name)
    return fo.Sql(
        f"CREATE SEQUENCE {sequence} AS {column.type} OWNED BY {target}.{name}; "
        f"ALTER TABLE {target} ALTER COLUMN {name} SET DEFAULT "
        f"pg_catalog.nextval({fo.literal(sequence)}::pg_catalog.regclass)"
    )


def renamed_table(planner: Planner, renamed: d.RenamedTable) -> None:
    table = renamed.lock
    assert table.renamed_from is not None
    rename = ops.RenameTableOp(table.renamed_from, table.name, schema=table.schema)
    planner.add(Phase.STRUCTURE, f"rename {table.renamed_from} to {table.name}", rename)


LEFT_ALONE: dict[type[d.Difference], str] = {
    d.ExtraTable: "extra tables are reported and left alone (drop them by hand if you must)",
    d.ExtraColumn: "extra columns are reported and left alone: dropping one loses data",
    d.ExtraIndex: "extra indexes are reported and left alone",
    d.ExtraForeignKey: "extra constraints are reported and left alone",
    d.ExtraUnique: "extra constraints are reported and left alone",
    d.ExtraCheck: "extra constraints are reported and left alone",
    d.PartitioningChanged: "a partitioning change means rebuilding the table: plan it by hand",
}


def left_alone(planner: Planner, difference: d.Difference) -> None:
    """What fix never changes on its own: said in the plan's notes, once per table and kind."""
    subject = difference.subject
    where = qualified(subject.schema, subject.table) if subject.table else "the database"
    planner.note(f"{where}: {LEFT_ALONE[type(difference)]}")


HANDLERS: dict[type[Any], Any] = {
    d.MissingTable: missing_table,
    d.RenamedTable: renamed_table,
    **dict.fromkeys(LEFT_ALONE, left_alone),
}
