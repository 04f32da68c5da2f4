"""Building blocks: Alembic operations and SQL text for the objects of the model."""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation, ops

from schemalock.fix import operations as fo
from schemalock.fix.sqltypes import sqlalchemy_type
from schemalock.model import (
    OWNED_SEQUENCE,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Table,
    UniqueConstraint,
    expressions,
)
from schemalock.model.names import qualified, quote


def lock_hazard(op: MigrateOperation) -> str | None:
    """The lock a catalog-only step takes, briefly and under lock_timeout."""
    if isinstance(op, ops.CreateTableOp | fo.Comment | fo.Nothing):
        return None
    if isinstance(op, ops.CreateForeignKeyOp):
        tables = f"{op.source_table} and {op.referent_table}"
        return f"brief SHARE ROW EXCLUSIVE lock on {tables}"
    table = getattr(op, "table_name", None) or getattr(op, "table", None)
    return f"brief ACCESS EXCLUSIVE lock on {table} (catalog only)" if table else None


def fk_fields(fk: ForeignKey) -> dict[str, Any]:
    from dataclasses import fields

    return {f.name: getattr(fk, f.name) for f in fields(fk)}


def reference_of(table: Table, column: str) -> ForeignKey | None:
    return next((fk for fk in table.foreign_keys if fk.columns == (column,)), None)


def binary_coercible(old: str, new: str) -> bool:
    """Whether PostgreSQL changes the type without rewriting or scanning the table: varchar to
    text, or to a varchar at least as long (sql-altertable); anything else rewrites."""
    if not old.startswith("character varying"):
        return False
    if new == "text" or new == "character varying":
        return True
    old_length, new_length = type_length(old), type_length(new)
    return (
        new.startswith("character varying(")
        and old_length is not None
        and new_length is not None
        and new_length >= old_length
    )


def type_length(type_name: str) -> int | None:
    inside = type_name.partition("(")[2].rstrip(")")
    return int(inside) if inside.isdigit() else None


SERIALS = {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}


def rows_text(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def short_name(name: str) -> str:
    return name[:63]


def free_name(name: str, taken: set[str]) -> str:
    candidate, number = name, 1
    while candidate in taken:
        suffix = f"_{number}"
        candidate, number = name[: 63 - len(suffix)] + suffix, number + 1
    return candidate


def canonical_sql(text: str, kind: str = "expr") -> str:
    """SQL from the lock as PostgreSQL's parser read it: one expression (or index key) and
    nothing else, no comment, whatever the file said (`fix` also refuses a lock lint rejects)."""
    return expressions.as_sql(text, kind)


def sa_column(column: Column, table: Table, default: bool = True, not_null: bool = True) -> Any:
    """The lock's column for `add_column` and `create_table`: never SQLAlchemy's implicit
    SERIAL (a serial column's sequence is made by the planner itself), identity and stored
    generated columns as Alembic spells them."""
    import sqlalchemy as sa

    server_default = None
    if default and column.default is not None and column.default != OWNED_SEQUENCE:
        server_default = sa.text(canonical_sql(column.default))
    extra: list[Any] = []
    if column.identity:
        extra.append(sa.Identity(always=column.identity == "always", **identity_arguments(column)))
    if column.generated:
        extra.append(sa.Computed(canonical_sql(column.generated), persisted=True))
    return sa.Column(
        column.name,
        sqlalchemy_type(column.type, table.schema),
        *extra,
        nullable=column.nullable or not not_null,
        server_default=server_default,
        # SQLAlchemy would make an integer primary key SERIAL; an identity says what it is.
        autoincrement="auto" if column.identity else False,
    )


def identity_arguments(column: Column) -> dict[str, Any]:
    """sa.Identity's arguments for the sequence options the lock gives the column (those that
    differ from the defaults; PostgreSQL derives the rest as the lock does)."""
    keywords = {"start": "start", "increment": "increment", "min": "minvalue"}
    keywords |= {"max": "maxvalue", "cache": "cache", "cycle": "cycle"}
    given = dict(column.identity_options)
    return {keywords[name]: given[name] for name in keywords if name in given}


def generated_as(column: Column, generated: str) -> str:
    """`GENERATED ALWAYS AS IDENTITY (START WITH 1000 ...)`: the column's identity with the
    sequence options the lock gives it (AS, a sequence altered apart, is left out)."""
    given = identity_arguments(column)
    words = {"start": "START WITH", "increment": "INCREMENT BY", "minvalue": "MINVALUE"}
    words |= {"maxvalue": "MAXVALUE", "cache": "CACHE"}
    said = [f"{words[k]} {v}" for k, v in given.items() if k != "cycle"]
    said += ["CYCLE"] if given.get("cycle") else []
    return f"GENERATED {generated} AS IDENTITY" + (f" ({' '.join(said)})" if said else "")


def alter_default(
    table: Table, column: str, default: str | None, previous: str | None
) -> MigrateOperation:
    """SET or DROP DEFAULT (`default` from the lock); `previous` (the live one) lets the
    downgrade put the old default back."""
    return ops.AlterColumnOp(
        table.name,
        column,
        schema=table.schema,
        modify_server_default=server_default(None if default is None else canonical_sql(default)),
        existing_server_default=server_default(previous),
    )


def server_default(expression: str | None) -> Any:
    """As Alembic renders it: `sa.text(...)` (a bare TextClause renders unquoted)."""
    import sqlalchemy as sa

    return None if expression is None else sa.DefaultClause(sa.text(expression))


def index_op(
    table: Table, index: Index, concurrently: bool, from_lock: bool = True
) -> MigrateOperation:
    """CREATE INDEX for `index`; `from_lock` False: its SQL is the catalog's own (an invalid
    index rebuilt as it was), spliced as PostgreSQL printed it."""
    import sqlalchemy as sa

    def sql(text: str, kind: str = "expr") -> str:
        return canonical_sql(text, kind) if from_lock else text

    keys = [sa.text(sql(key, "index_elem")) for key in index.keys]
    options: dict[str, Any] = {}
    if concurrently:
        options["postgresql_concurrently"] = True
    if index.method != "btree":
        options["postgresql_using"] = index.method
    if index.where:
        options["postgresql_where"] = sa.text(sql(index.where))
    if index.include:
        options["postgresql_include"] = list(index.include)
    if index.nulls_not_distinct:
        options["postgresql_nulls_not_distinct"] = True
    return ops.CreateIndexOp(
        index.name,
        table.name,
        keys,
        schema=table.schema,
        unique=index.unique,
        if_not_exists=concurrently or None,
        **options,
    )


def unique_op(table: Table, unique: UniqueConstraint) -> MigrateOperation:
    name = unique.name or short_name(f"{table.name}_{'_'.join(unique.columns)}_key")
    return ops.CreateUniqueConstraintOp(name, table.name, list(unique.columns), schema=table.schema)


def check_op(table: Table, check: CheckConstraint, not_valid: bool) -> MigrateOperation:
    name = check.name or short_name(f"{table.name}_check")
    if check.no_inherit:  # SQLAlchemy's DDL has no NO INHERIT
        target, constraint = qualified(table.schema, table.name), quote(name)
        return fo.Sql(
            f"ALTER TABLE {target} ADD CONSTRAINT {constraint} CHECK "
            f"({canonical_sql(check.expression)}) NO INHERIT{' NOT VALID' if not_valid else ''}",
            undo=f"ALTER TABLE {target} DROP CONSTRAINT {constraint}",
        )
    options = {"postgresql_not_valid": True} if not_valid else {}
    return ops.CreateCheckConstraintOp(
        name, table.name, canonical_sql(check.expression), schema=table.schema, **options
    )


def fk_op(table: Table, fk: ForeignKey, not_valid: bool) -> MigrateOperation:
    name = fk.name or short_name(f"{table.name}_{'_'.join(fk.columns)}_fkey")
    options: dict[str, Any] = {"postgresql_not_valid": True} if not_valid else {}
    referent_schema, referent = fk.referenced  # the partition, for a key into one
    return ops.CreateForeignKeyOp(
        name,
        table.name,
        referent,
        list(fk.columns),
        list(fk.ref_columns),
        source_schema=table.schema,
        referent_schema=referent_schema,
        ondelete=action_sql(fk.on_delete),
        onupdate=action_sql(fk.on_update),
        deferrable=fk.deferrable or None,
        initially="DEFERRED" if fk.initially_deferred else None,
        match="FULL" if fk.match == "full" else None,
        **options,
    )


def references_sql(fk: ForeignKey) -> str:
    """`FOREIGN KEY (...) REFERENCES ...` with its actions, as PostgreSQL reads it back."""
    listed = ", ".join(quote(c) for c in fk.columns)
    targets = ", ".join(quote(c) for c in fk.ref_columns)
    text = f"FOREIGN KEY ({listed}) REFERENCES {qualified(*fk.referenced)} ({targets})"
    if fk.match == "full":
        text += " MATCH FULL"
    text += f" ON UPDATE {fk.on_update.upper()} ON DELETE {fk.on_delete.upper()}"
    if fk.deferrable:
        text += " DEFERRABLE INITIALLY " + ("DEFERRED" if fk.initially_deferred else "IMMEDIATE")
    return text


def action_sql(action: str) -> str | None:
    return None if action == "no action" else action.upper()


def orphan_condition(fk: ForeignKey) -> str:
    """Rows (alias `c`) whose whole key is set and has no parent row (MATCH SIMPLE)."""
    set_ = " AND ".join(f"c.{quote(c)} IS NOT NULL" for c in fk.columns)
    match = " AND ".join(
        f"p.{quote(p)} = c.{quote(c)}" for c, p in zip(fk.columns, fk.ref_columns, strict=True)
    )
    parent = qualified(*fk.referenced)
    return f"{set_} AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {match})"


def reads(expression: str, column: str) -> bool:
    """Whether the SQL `expression` (a check's, as the catalog or the lock prints it) names
    `column`; True when it does not parse, as the safe answer."""
    from pglast import ast, parse_sql
    from pglast.visitors import Visitor

    names: set[str] = set()

    class References(Visitor):
        def visit_ColumnRef(self, ancestors: object, node: ast.ColumnRef) -> None:
            last = node.fields[-1] if node.fields else None
            if isinstance(last, ast.String) and last.sval is not None:
                names.add(last.sval)

    try:
        References()(parse_sql(f"SELECT {expression}"))
    except Exception:  # pglast's ParseError: cannot tell
        return True
    return column in names
