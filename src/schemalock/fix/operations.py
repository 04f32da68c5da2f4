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
from alembic.operations import MigrateOperation, ops

from schemalock.model.names import qualified, quote


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
        column = quote(self.column)
        return (
            f"UPDATE {qualified(self.schema, self.table)} AS c "
            f"SET {column} = p.{quote(self.key)}::text "
            f"FROM {qualified(self.parent_schema, self.parent_table)} AS p "
            f"WHERE p.{quote(self.stored)}::text = c.{column}"
        )

    def reverse(self) -> MigrateOperation:
        parent = qualified(self.parent_schema, self.parent_table)
        return Irreversible(
            f"{qualified(self.schema, self.table, self.column)} was mapped from "
            f"{parent}.{quote(self.stored)} to {parent}.{quote(self.key)}: rows that held a "
            f"{quote(self.key)} before cannot be told from mapped ones, and mapping all of "
            "them back would rewrite rows that were right"
        )


@dataclass
class Quarantine(SqlOperation):
    """Move rows matching `condition` into `schemalock_quarantine` as JSON, losing nothing."""

    schema: str
    table: str
    condition: str  # over alias `c`
    reason: str
    columns: tuple[str, ...] = ()  # what the downgrade writes back: all but generated columns

    def sql(self) -> str:
        return (
            f"WITH moved AS (DELETE FROM {qualified(self.schema, self.table)} AS c "
            f"WHERE {self.condition} RETURNING c.*) "
            f"INSERT INTO {QUARANTINE} (source_table, reason, row) "
            f"SELECT {literal(qualified(self.schema, self.table))}, {literal(self.reason)}, "
            "to_jsonb(moved) FROM moved"
        )

    def reverse(self) -> MigrateOperation:
        return Restore(self.schema, self.table, self.reason, self.columns)


@dataclass
class Restore(SqlOperation):
    """Put quarantined rows back, whatever constraints their table has by then.

    The rows broke a foreign key (that is why they moved), and the key may still be there when
    the downgrade runs: one that existed NOT VALID before the upgrade validated it, one added
    since.  NOT VALID still checks new rows, so each foreign key or check the restore trips
    over is dropped, the rows go back, and it is added again NOT VALID, as it was before the
    upgrade: rows written before it are not checked, new ones are.  Deferrable constraints of
    the table are checked at once here, where a failure can be caught, not at COMMIT."""

    schema: str
    table: str
    reason: str
    columns: tuple[str, ...] = ()

    def sql(self) -> str:
        source = qualified(self.schema, self.table)
        table = f"{literal(source)}::pg_catalog.regclass"
        constraints = f"FROM pg_catalog.pg_constraint AS con WHERE con.conrelid = {table}"
        deferral = (
            "    FOR failed IN SELECT con.conname {constraints} AND con.{flag} LOOP\n"
            "        EXECUTE pg_catalog.format('SET CONSTRAINTS %I.%I {mode}', {schema}, failed);\n"
            "    END LOOP;\n"
        )
        body = (
            "\nDECLARE\n"
            "    relaxed text[] := '{}';\n"
            "    definitions text[] := '{}';\n"
            "    failed text;\n"
            "    definition text;\n"
            "BEGIN\n"
            + deferral.format(
                constraints=constraints,
                flag="condeferrable",
                mode="IMMEDIATE",
                schema=literal(self.schema),
            )
            + "    LOOP\n"
            "        BEGIN\n"
            f"            {self._insert()};\n"
            "            EXIT;\n"
            "        EXCEPTION WHEN foreign_key_violation OR check_violation THEN\n"
            "            GET STACKED DIAGNOSTICS failed = CONSTRAINT_NAME;\n"
            "            SELECT pg_catalog.pg_get_constraintdef(con.oid) INTO definition\n"
            f"                {constraints}\n"
            "                AND con.conname = failed AND con.contype IN ('f', 'c');\n"
            "            IF definition IS NULL OR failed = ANY (relaxed) THEN\n"
            "                RAISE;\n"
            "            END IF;\n"
            "            EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', "
            f"{literal(source)}, failed);\n"
            "            relaxed := relaxed || failed;\n"
            "            definitions := definitions || definition;\n"
            "        END;\n"
            "    END LOOP;\n"
            "    FOR i IN 1 .. coalesce(pg_catalog.array_length(relaxed, 1), 0) LOOP\n"
            "        EXECUTE pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', "
            f"{literal(source)}, relaxed[i],\n"
            "            pg_catalog.regexp_replace(definitions[i], ' NOT VALID$', ''));\n"
            "        RAISE NOTICE 'schemalock: % of % added back NOT VALID: the restored rows "
            f"break it', relaxed[i], {literal(source)};\n"
            "    END LOOP;\n"
            + deferral.format(
                constraints=constraints,
                flag="condeferred",
                mode="DEFERRED",
                schema=literal(self.schema),
            )
            + "END\n"
        )
        return do_block(body)

    def _insert(self) -> str:
        # The rows' own identity values, not new ones: OVERRIDING SYSTEM VALUE; generated
        # columns are computed again.
        source = qualified(self.schema, self.table)
        listed = ", ".join(quote(c) for c in self.columns)
        values = ", ".join(f"r.{quote(c)}" for c in self.columns)
        return (
            f"WITH restored AS (DELETE FROM {QUARANTINE} WHERE source_table = {literal(source)} "
            f"AND reason = {literal(self.reason)} RETURNING row) INSERT INTO {source} ({listed}) "
            f"OVERRIDING SYSTEM VALUE SELECT {values} FROM restored, "
            f"jsonb_populate_record(NULL::{source}, restored.row) AS r"
        )


@dataclass
class AddSerialColumn(SqlOperation):
    """`ADD COLUMN ... serial`: the sequence, owned by the column, numbers every existing row
    (a rewrite, declared as one); Alembic's add_column cannot say `serial`."""

    schema: str
    table: str
    column: str
    serial: str  # serial, bigserial or smallserial

    def sql(self) -> str:
        target = qualified(self.schema, self.table)
        return f"ALTER TABLE {target} ADD COLUMN {quote(self.column)} {self.serial}"

    def reverse(self) -> MigrateOperation:
        target = qualified(self.schema, self.table)
        return Sql(f"ALTER TABLE {target} DROP COLUMN {quote(self.column)}")


@dataclass
class Guard(SqlOperation):
    """Stop the migration, changing nothing more, if `condition` (SQL) holds when it runs:
    what was proven at planning time is checked again at apply time.  `what`: for a
    downgrade's check, what it would otherwise drop."""

    condition: str
    message: str
    what: str = ""

    def sql(self) -> str:
        return do_block(
            f" BEGIN IF {self.condition} THEN RAISE EXCEPTION USING ERRCODE = '55000', "
            f"MESSAGE = {literal('schemalock: ' + self.message)}; END IF; END ",
            "$schemalock_guard$",
        )

    def reverse(self) -> MigrateOperation:
        return Nothing()


def do_block(body: str, tag: str = "$schemalock$") -> str:
    """`DO` with a PL/pgSQL `body`, dollar-quoted by a tag the body does not hold (a name
    could hold the tag and end the body early)."""
    while tag in body:
        tag = tag[:-1] + "_$"
    return f"DO {tag}{body}{tag}"


@dataclass
class CreateSchema(SqlOperation):
    """CREATE SCHEMA for the lock's objects in a schema the database lacks; the downgrade
    drops it only while it is empty."""

    schema: str

    def sql(self) -> str:
        return f"CREATE SCHEMA {quote(self.schema)}"

    def reverse(self) -> MigrateOperation:
        return DropIfUnused("SCHEMA", quote(self.schema))


@dataclass
class DropIfUnused(SqlOperation):
    """The downgrade of a schema or type the upgrade created: dropped (never CASCADE) while
    nothing depends on it; else kept, saying so, and the downgrade goes on: what was created
    in it since is someone else's."""

    kind: str  # SCHEMA, TYPE or DOMAIN
    name: str  # quoted, qualified where it has a schema

    def sql(self) -> str:
        kept = f"schemalock: {self.kind.lower()} {self.name} kept: objects created since use it"
        return do_block(
            f" BEGIN DROP {self.kind} {self.name}; EXCEPTION WHEN dependent_objects_still_exist"
            f" THEN RAISE NOTICE USING MESSAGE = {literal(kept)}; END "
        )

    def reverse(self) -> MigrateOperation:
        return Irreversible(f"{self.kind} {self.name} is only ever dropped by a downgrade")


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
    kept: str | None = None  # what its undoing leaves in place, and why (said in a comment)

    def sql(self) -> str:
        return self.text

    def reverse(self) -> MigrateOperation:
        if self.lost:
            return Irreversible(self.lost)
        if self.kept:
            return Comment(self.kept)
        return Sql(self.undo) if self.undo else Nothing()


@dataclass
class OnDowngrade(MigrateOperation):
    """SQL only the downgrade runs: what dropping an object took with it (privileges, a
    comment, triggers), given back once the downgrade has created the object again.  The
    upgrade shows it as a comment."""

    text: str

    def reverse(self) -> MigrateOperation:
        return Sql(self.text)


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
@renderers.dispatch_for(Restore)
@renderers.dispatch_for(CreateSchema)
@renderers.dispatch_for(DropIfUnused)
@renderers.dispatch_for(AddSerialColumn)
@renderers.dispatch_for(Guard)
@renderers.dispatch_for(Sql)
def _render_sql(context: AutogenContext, op: SqlOperation) -> str:
    return _execute(op.sql())


@renderers.dispatch_for(ops.RenameTableOp)
def _render_rename_table(context: AutogenContext, op: ops.RenameTableOp) -> str:
    # Autogenerate never detects a renamed table, so Alembic ships no renderer for its op.
    schema = f", schema={op.schema!r}" if op.schema else ""
    return f"op.rename_table({op.table_name!r}, {op.new_table_name!r}{schema})"


@renderers.dispatch_for(Irreversible)
def _render_irreversible(context: AutogenContext, op: Irreversible) -> str:
    return f"raise NotImplementedError({op.reason!r})"


@renderers.dispatch_for(Nothing)
def _render_nothing(context: AutogenContext, op: Nothing) -> str:
    return "pass"


@renderers.dispatch_for(Comment)
def _render_comment(context: AutogenContext, op: Comment) -> str:
    return "\n".join(f"# {line}".rstrip() for line in op.text.splitlines())


@renderers.dispatch_for(OnDowngrade)
def _render_on_downgrade(context: AutogenContext, op: OnDowngrade) -> str:
    return _render_comment(context, Comment(f"given back by the downgrade: {op.text}"))


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


@dataclass
class MapOrphansThroughParent(MapThroughParent):
    """MapThroughParent for a column that already has the key's type (a text reference holding
    the parent's slug where its text id belongs): only values no `key` matches are mapped, so
    a reference that is right is never rewritten.  `as_text`: the stored column's type differs
    from the column's, and both are compared as text."""

    as_text: bool = False

    def sql(self) -> str:
        column = f"c.{quote(self.column)}"
        parent = qualified(self.parent_schema, self.parent_table)
        stored = f"p.{quote(self.stored)}"
        match = f"{stored}::text = {column}::text" if self.as_text else f"{stored} = {column}"
        return (
            f"UPDATE {qualified(self.schema, self.table)} AS c "
            f"SET {quote(self.column)} = p.{quote(self.key)} FROM {parent} AS p "
            f"WHERE {match} AND NOT EXISTS (SELECT 1 FROM {parent} AS k "
            f"WHERE k.{quote(self.key)} = {column})"
        )


class CreateTable(ops.CreateTableOp):
    """`create_table` that renders for a table of no columns too: Alembic's renderer joins an
    empty argument list into `op.create_table('t',\\n,\\nschema='s')`, which is no Python."""


@renderers.dispatch_for(CreateTable)
def _render_create_table(context: AutogenContext, op: CreateTable) -> str:
    text: str = renderers.dispatch(ops.CreateTableOp)(context, op)
    if op.columns:
        return text
    # The empty argument list is the first `,\n,\n`: a name renders as repr(), on one line.
    return text.replace(",\n,\n", ",\n", 1)
