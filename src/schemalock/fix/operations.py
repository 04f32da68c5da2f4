"""Alembic operations for what the stock ones cannot say, with their renderers.

Stock operations (`create_index` with `postgresql_concurrently`, `create_foreign_key` with
`postgresql_not_valid`, `add_column`, `alter_column`, ...) carry most of a plan.  These exist
where the stock ones lose information: VALIDATE CONSTRAINT, a constraint adopting an index,
a type change with its USING expression (Alembic's renderer drops `postgresql_using`), data
steps that move or map rows, and an `autocommit_block()` around concurrent index builds.  Each
renders, through Alembic's documented `renderers.dispatch_for`, as plain `op.execute(...)` or
`with op.get_context().autocommit_block():` code: a generated revision needs nothing but
Alembic to run.  Identifiers are quoted with PostgreSQL's rules (`names.qualified`), literals
doubled, so names with quotes, spaces or reserved words stay names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from alembic.autogenerate import render, renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import MigrateOperation

from schemalock.names import qualified, quote


def literal(text: str) -> str:
    """An SQL string literal (standard_conforming_strings, as on every supported server)."""
    return "'" + text.replace("'", "''") + "'"


class SqlOperation(MigrateOperation):
    """An operation that is one SQL statement; `reverse()` says how to undo it."""

    def sql(self) -> str:
        raise NotImplementedError

    def reverse(self) -> MigrateOperation:
        return Irreversible(f"{type(self).__name__} cannot be undone")


@dataclass
class ValidateConstraint(SqlOperation):
    schema: str
    table: str
    name: str

    def sql(self) -> str:
        return (
            f"ALTER TABLE {qualified(self.schema, self.table)} "
            f"VALIDATE CONSTRAINT {quote(self.name)}"
        )

    def reverse(self) -> MigrateOperation:
        return Nothing()  # validating checked rows; undoing it changes nothing


@dataclass
class AddConstraintUsingIndex(SqlOperation):
    """`ADD CONSTRAINT ... UNIQUE|PRIMARY KEY USING INDEX`: adopts an index built concurrently."""

    schema: str
    table: str
    name: str
    index: str
    kind: str  # "UNIQUE" or "PRIMARY KEY"

    def sql(self) -> str:
        return (
            f"ALTER TABLE {qualified(self.schema, self.table)} ADD CONSTRAINT "
            f"{quote(self.name)} {self.kind} USING INDEX {quote(self.index)}"
        )

    def reverse(self) -> MigrateOperation:
        return Sql(
            f"ALTER TABLE {qualified(self.schema, self.table)} "
            f"DROP CONSTRAINT IF EXISTS {quote(self.name)}"
        )


@dataclass
class ConvertColumnType(SqlOperation):
    """`ALTER COLUMN ... TYPE ... USING ...`, the types in PostgreSQL's own spelling."""

    schema: str
    table: str
    column: str
    to_type: str
    from_type: str

    def sql(self) -> str:
        return _convert(self.schema, self.table, self.column, self.to_type)

    def reverse(self) -> MigrateOperation:
        return Sql(_convert(self.schema, self.table, self.column, self.from_type))


def _convert(schema: str, table: str, column: str, to_type: str) -> str:
    name = quote(column)
    return (
        f"ALTER TABLE {qualified(schema, table)} ALTER COLUMN {name} "
        f"TYPE {to_type} USING {name}::{to_type}"
    )


@dataclass
class MapThroughParent(SqlOperation):
    """Replace values of `column` that equal the parent's `stored` column by the parent's
    `key`: Clerk ids stored where internal uuids belong, mapped through `organizations`."""

    schema: str
    table: str
    column: str
    parent_schema: str
    parent_table: str
    key: str
    stored: str

    def sql(self) -> str:
        return _map(self, self.stored, self.key)

    def reverse(self) -> MigrateOperation:
        return Sql(_map(self, self.key, self.stored))


def _map(step: MapThroughParent, source: str, target: str) -> str:
    column = quote(step.column)
    return (
        f"UPDATE {qualified(step.schema, step.table)} AS c "
        f"SET {column} = p.{quote(target)}::text "
        f"FROM {qualified(step.parent_schema, step.parent_table)} AS p "
        f"WHERE p.{quote(source)}::text = c.{column}"
    )


@dataclass
class Quarantine(SqlOperation):
    """Move rows matching `condition` into `schemalock_quarantine` as JSON, losing nothing."""

    schema: str
    table: str
    condition: str  # over alias `c`
    reason: str

    def sql(self) -> str:
        return (
            f"WITH moved AS (DELETE FROM {qualified(self.schema, self.table)} AS c "
            f"WHERE {self.condition} RETURNING c.*) "
            f"INSERT INTO {QUARANTINE} (source_table, reason, row) "
            f"SELECT {literal(qualified(self.schema, self.table))}, {literal(self.reason)}, "
            "to_jsonb(moved) FROM moved"
        )

    def reverse(self) -> MigrateOperation:
        source = qualified(self.schema, self.table)
        return Sql(
            f"WITH restored AS (DELETE FROM {QUARANTINE} WHERE source_table = {literal(source)} "
            f"AND reason = {literal(self.reason)} RETURNING row) INSERT INTO {source} "
            f"SELECT (jsonb_populate_record(NULL::{source}, row)).* FROM restored"
        )


QUARANTINE = "public.schemalock_quarantine"
QUARANTINE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {QUARANTINE} ("
    "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, source_table text NOT NULL, "
    "reason text NOT NULL, row jsonb NOT NULL, "
    "quarantined_at timestamptz NOT NULL DEFAULT now())"
)


@dataclass
class Sql(SqlOperation):
    """One SQL statement (a reverse step, a timeout, a DELETE the user asked for by name)."""

    text: str
    undo: str | None = None
    lost: str | None = None  # why it cannot be undone: the rows it deleted or nulled

    def sql(self) -> str:
        return self.text

    def reverse(self) -> MigrateOperation:
        if self.lost:
            return Irreversible(self.lost)
        return Sql(self.undo) if self.undo else Nothing()


@dataclass
class Irreversible(MigrateOperation):
    reason: str


@dataclass
class Nothing(MigrateOperation):
    """The reverse of a step that changes nothing to undo."""


@dataclass
class Comment(MigrateOperation):
    text: str

    def reverse(self) -> MigrateOperation:
        return self


@dataclass
class AutocommitBlock(MigrateOperation):
    """Operations that cannot run in a transaction (CREATE INDEX CONCURRENTLY); Alembic
    commits everything before the block."""

    ops: list[MigrateOperation] = field(default_factory=list)

    def reverse(self) -> MigrateOperation:
        return AutocommitBlock([op.reverse() for op in reversed(self.ops)])


# `op.execute()` reads its text through sqlalchemy.text(), where `:name` is a bind parameter
# even inside quotes; `\:` is its escape for a colon.  Casts (`::uuid`) are left alone.
_BIND = re.compile(r"(?<![:\w\\]):(?=\w)")


def _execute(sql: str) -> str:
    return f"op.execute({_BIND.sub(lambda _: chr(92) + ':', sql)!r})"


@renderers.dispatch_for(ValidateConstraint)
@renderers.dispatch_for(AddConstraintUsingIndex)
@renderers.dispatch_for(ConvertColumnType)
@renderers.dispatch_for(MapThroughParent)
@renderers.dispatch_for(Quarantine)
@renderers.dispatch_for(Sql)
def _render_sql(context: AutogenContext, op: SqlOperation) -> str:
    return _execute(op.sql())


@renderers.dispatch_for(Irreversible)
def _render_irreversible(context: AutogenContext, op: Irreversible) -> str:
    return f"raise NotImplementedError({op.reason!r})"


@renderers.dispatch_for(Nothing)
def _render_nothing(context: AutogenContext, op: Nothing) -> str:
    return "pass"


@renderers.dispatch_for(Comment)
def _render_comment(context: AutogenContext, op: Comment) -> str:
    return "\n".join(f"# {line}".rstrip() for line in op.text.splitlines())


@renderers.dispatch_for(AutocommitBlock)
def _render_block(context: AutogenContext, op: AutocommitBlock) -> str:
    body: list[str] = []
    for inner in op.ops:
        body += render.render_op_text(context, inner).splitlines()
    return "with op.get_context().autocommit_block():\n" + "\n".join(
        f"    {line}" for line in body or ["pass"]
    )


def sql_of(op: Any) -> str | None:
    """The SQL of one of our operations (for tests and the printed plan)."""
    return op.sql() if isinstance(op, SqlOperation) else None
