"""Planning for whole tables: new, renamed, and what is left alone."""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation, ops

from schemalock.compare import differences as d
from schemalock.fix import operations as fo
from schemalock.fix.plan import aspects, comments, partition_tables, partitions, security
from schemalock.fix.plan.core import Phase, Planner
from schemalock.fix.plan.sql import (
    canonical_sql,
    check_op,
    fk_op,
    index_op,
    sa_column,
    short_name,
    unique_op,
)
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
    if _name_taken(planner, table):
        return
    planner.create_schema(table.schema)
    columns = [sa_column(column, table) for column in table.columns]
    elements: list[Any] = []
    if table.primary_key:
        import sqlalchemy as sa

        name = table.primary_key.name or f"{table.name}_pkey"
        elements.append(sa.PrimaryKeyConstraint(*table.primary_key.columns, name=name))
    options: dict[str, Any] = {}
    if table.partition_by:
        options["postgresql_partition_by"] = canonical_sql(table.partition_by, "partition")
    if table.partition_by and not table.partitions:
        planner.note(
            f"{qualified(*key)}: created partitioned ({table.partition_by}) and empty: the lock "
            "does not hold partitions, so none is created, and a row has nowhere to go until "
            "one is: create its partitions by hand"
        )
    # fo.CreateTable: Alembic's own renders a table of no columns as invalid Python.
    create = fo.CreateTable(table.name, columns + elements, schema=table.schema, **options)
    serials = [
        _owned_sequence(planner, table, c) for c in table.columns if c.default == OWNED_SEQUENCE
    ]
    planner.add(Phase.STRUCTURE, f"create {qualified(*key)}", create, *serials)
    partition_tables.create_all(planner, table)  # the partitions the lock lists, if any
    comments.created(planner, "table", key, table.comment)
    security.created(planner, table)
    aspects.created(planner, table)  # its collations, storage parameters, exclusions
    for column in table.columns:
        comments.created(planner, "column", (*key, column.name), column.comment)
    # A new, empty table: its constraints and indexes cost nothing to add validated.
    for unique in table.uniques:
        planner.add(Phase.STRUCTURE, "unique on a new table", unique_op(table, unique))
    for check in table.checks:
        planner.add(Phase.STRUCTURE, "check on a new table", check_op(table, check, False))
    for index in table.indexes:
        planner.add(Phase.STRUCTURE, "index on a new table", index_op(table, index, False))
    for fk in table.foreign_keys:
        planner.add(Phase.FOREIGN_KEYS, "foreign key of a new table", fk_op(table, fk, False))


def _name_taken(planner: Planner, table: Table) -> bool:
    """Whether another relation holds the table's name (a partition, a view, an index...),
    which CREATE TABLE would fail on: left for a person, said why.  A partition the lock has
    as a table of its own is not detached: that keeps its rows but takes them out of the
    partitioned table, which its readers and writers would notice; a person decides."""
    found = partitions.relation(planner, table.schema, table.name)
    if found is None:
        return False
    kind, parent = found
    where = qualified(table.schema, table.name)
    if parent is not None:
        planner.note(
            f"{where} is a partition of {parent}, and the lock has it as a table of its own: "
            f"detaching it keeps its rows in {where} but takes them out of {parent} (its "
            "readers no longer see them, and rows for its range have nowhere to go); if that is "
            f"meant, run `ALTER TABLE {parent} DETACH PARTITION {where} CONCURRENTLY` (outside "
            "a transaction; PostgreSQL 14 and later, no DEFAULT partition) and fix again"
        )
    else:
        planner.note(
            f"{where}: the name is taken by a {kind}, so the table cannot be created: rename or "
            "drop it by hand, then run fix again"
        )
    return True


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
    # An extra foreign key is foreign_keys' to judge: it may be the old definition it replaces.
    **dict.fromkeys(LEFT_ALONE.keys() - {d.ExtraForeignKey}, left_alone),
}
