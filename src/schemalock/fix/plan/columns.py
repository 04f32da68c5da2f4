"""Planning for columns: new, renamed, converted, defaults, identity, nullability."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from alembic.operations import MigrateOperation, ops

from schemalock.compare import differences as d
from schemalock.fix import operations as fo
from schemalock.fix.plan import aspects, constraints, routines, views
from schemalock.fix.plan.core import Phase, Planner
from schemalock.fix.plan.sql import (
    SERIALS,
    alter_default,
    binary_coercible,
    canonical_sql,
    generated_as,
    reads,
    reference_of,
    rows_text,
    sa_column,
)
from schemalock.fix.proofs import Blocker
from schemalock.model import (
    OWNED_SEQUENCE,
    CheckConstraint,
    Column,
    Table,
    expressions,
)
from schemalock.model.names import qualified, quote
from schemalock.model.types import type_spelling


def renamed_column(planner: Planner, renamed: d.RenamedColumn) -> None:
    live, old, new = renamed.live, renamed.live_column.name, renamed.lock_column.name
    rename = ops.AlterColumnOp(live.name, old, schema=live.schema, modify_name=new)
    planner.add(Phase.STRUCTURE, f"rename column {old}", rename)


def missing_column(planner: Planner, missing: d.MissingColumn) -> None:
    steps, column = len(planner.plan.steps), missing.column
    _add_column(planner, missing.lock, missing.live, column)
    if len(planner.plan.steps) > steps:  # added: with the lock's collation and comment
        aspects.added_column(planner, missing.live, column)


def _add_column(planner: Planner, lock: Table, live: Table, column: Column) -> None:
    where = qualified(live.schema, live.name, column.name)
    if not planner.types_exist(f"column {where}", column.type):
        return
    add = f"add column {where}"
    if column.default == OWNED_SEQUENCE or column.identity or column.generated:
        _add_filled_column(planner, live, column, add)
        return
    if column.default is None and not column.nullable and planner.prover.has_rows(live):
        planner.refuse(
            f"{where}: NOT NULL without a default",
            planner.prover.rows(live, "true"),
            "rows it would leave NULL (give it a default in the lock, or make it nullable, "
            "fill it, then NOT NULL)",
        )
        return
    if column.default is None or expressions.is_constant(column.default):
        # A constant default is kept in the catalog (PG 11+): no rewrite, so NOT NULL can
        # come with it; unless the type is a domain with checks, which PostgreSQL checks
        # on every row by rewriting the table.
        added = ops.AddColumnOp(live.name, sa_column(column, lock), schema=live.schema)
        if planner.checked_domain(column.type) and planner.prover.has_rows(live):
            where_table = qualified(live.schema, live.name)
            hazards = [
                f"ACCESS EXCLUSIVE lock and a full rewrite of {where_table} (its type "
                f"{column.type} is a domain with checks)"
            ]
            planner.add(Phase.STRUCTURE, add, added, hazards=hazards, long=True)
            return
        planner.add(Phase.STRUCTURE, add, added)
        return
    # A volatile default would rewrite the table under ACCESS EXCLUSIVE: the column comes
    # empty, the default fills new rows, one UPDATE fills the existing ones, and NOT NULL
    # follows the usual proof.
    empty = sa_column(column, lock, default=False, not_null=False)
    planner.add(Phase.STRUCTURE, add, ops.AddColumnOp(live.name, empty, schema=live.schema))
    _set_default(planner, live, column, f"default of {where} (new rows)")
    target, name = qualified(live.schema, live.name), quote(column.name)
    fill = f"UPDATE {target} SET {name} = {canonical_sql(column.default)} WHERE {name} IS NULL"
    planner.add(
        Phase.DATA,
        f"fill {where} in existing rows",
        fo.AutocommitBlock([fo.Sql(fill)]),  # not under the ADD COLUMN's ACCESS EXCLUSIVE
        hazards=[
            f"data-dependent step: writes every existing row of {target} (its new column "
            "only), in one transaction of its own: row locks while it runs"
        ],
        long=True,
    )
    if not column.nullable:
        planner.not_null_steps(live, column.name)


def _add_filled_column(planner: Planner, table: Table, column: Column, title: str) -> None:
    """Serial, identity and generated columns get a value in every existing row: the table
    is rewritten under ACCESS EXCLUSIVE, declared."""
    target = qualified(table.schema, table.name)
    if column.generated_storage == "virtual":  # SQLAlchemy's DDL knows stored ones only
        planner.note(f"{target}.{quote(column.name)}: a virtual generated column: add it by hand")
        return
    hazards = [f"ACCESS EXCLUSIVE lock and a full rewrite of {target} (every row filled)"]
    if column.default == OWNED_SEQUENCE:
        serial = SERIALS.get(column.type)
        if serial is None:
            planner.note(f"{target}.{quote(column.name)}: a {column.type} serial: add it by hand")
            return
        added: MigrateOperation = fo.AddSerialColumn(table.schema, table.name, column.name, serial)
    else:
        added = ops.AddColumnOp(table.name, sa_column(column, table), schema=table.schema)
    planner.add(Phase.STRUCTURE, title, added, hazards=hazards, long=True)


def column_changed(planner: Planner, changed: d.ColumnChanged) -> None:
    """A type conversion sets the column's default itself; nullability is planned apart."""
    lock, live = changed.lock, changed.live
    wanted, found = changed.lock_column, changed.live_column
    if "type" in changed.aspects:
        _convert(planner, lock, live, wanted, found)
    elif changed.aspects & {"default", "identity", "generated"}:
        _default(planner, live, wanted, found)
    if "nullable" in changed.aspects:
        _nullability(planner, lock, live, wanted, found)


def _convert(planner: Planner, lock: Table, live: Table, wanted: Column, found: Column) -> None:
    where = qualified(live.schema, live.name, found.name)
    if not planner.types_exist(f"column {where}", wanted.type):
        return
    triggers, others = routines.column_users(planner, live, found.name)
    if others:
        planner.plan.refusals.append(
            f"{where} to {wanted.type}: used by {', '.join(others)}, and PostgreSQL cannot "
            "change the type of a column they use: drop them, apply, then run fix again (it "
            "creates them as the lock defines them)"
        )
        return
    target, labels = _target(planner, wanted.type)
    if not _castable(planner, found.type, wanted.type, target, labels):
        planner.plan.refusals.append(
            f"{where}: PostgreSQL has no cast from {found.type} to {wanted.type}, so "
            f"`ALTER COLUMN ... TYPE {wanted.type}` cannot convert its values: convert it by "
            "hand (a USING expression of your own, or a new column filled from this one)"
        )
        return
    held, again = _checks_in_the_way(planner, lock, live, found.name)
    if held:
        planner.plan.refusals.append(
            f"{where} to {wanted.type}: PostgreSQL checks the table's constraints again on the "
            f"converted values, and {'; '.join(held)}: change or drop the check by hand (or "
            "redefine it in the lock), then run fix again"
        )
        return
    mapping = _mapping(planner, lock, live, wanted, found)
    mapped = None
    if mapping is not None:
        parent, stored = mapping
        mapped = (
            f"EXISTS (SELECT 1 FROM {qualified(parent.schema, parent.name)} AS p "
            f"WHERE p.{quote(stored)}::text = c.{quote(found.name)})"
        )
    blockers = planner.prover.conversion(live, found.name, found.type, target, mapped, labels)
    blockers += _domain_blockers(planner, live, wanted)
    for blocker in blockers:
        planner.refuse(f"{where} to {wanted.type}", blocker)
    if blockers:
        return
    operations: list[MigrateOperation] = []
    if mapping is not None:
        parent, stored = mapping
        fk = reference_of(lock, wanted.name)
        assert fk is not None
        operations.append(
            fo.MapThroughParent(
                live.schema,
                live.name,
                found.name,
                parent.schema,
                parent.name,
                fk.ref_columns[0],
                stored,
            )
        )
    if found.default is not None:
        operations.append(alter_default(live, found.name, None, found.default))
    operations.append(
        fo.ConvertColumnType(live.schema, live.name, found.name, wanted.type, found.type)
    )
    if wanted.default is not None and wanted.default != OWNED_SEQUENCE:
        operations.append(alter_default(live, found.name, wanted.default, None))
    rewrite = not binary_coercible(found.type, wanted.type)
    hazards = [
        "ACCESS EXCLUSIVE lock and a full rewrite of the table"
        if rewrite
        else f"brief ACCESS EXCLUSIVE lock on {live.name} (no rewrite: binary-coercible)"
    ]
    if mapping is not None:
        hazards.append("data-dependent step: values mapped through the parent table")
    # PostgreSQL cannot change the type of a column a view reads: the views are dropped
    # first and created again after.
    if not views.around_conversion(planner, live, found.name, wanted.type, where):
        return
    for trigger in triggers:
        routines.rebuild_trigger(planner, trigger, f"{where} changes type")
    planner.add(
        Phase.STRUCTURE,
        f"convert {where} to {wanted.type}",
        *operations,
        hazards=hazards,
        long=rewrite,
    )
    for check in again:
        constraints.check_around_conversion(planner, live, check)


def _domain_blockers(planner: Planner, live: Table, wanted: Column) -> list[Blocker]:
    """Converted values a domain the plan creates rejects (its checks, its NOT NULL): the
    conversion would fail on them.  Proven over the planned values, as the base type."""
    source = planner.planned(live)
    found: list[Blocker] = []
    for what, condition in planner.created_checks(wanted.type):
        # NOT of a check that is NULL is NULL: such a value passes, as PostgreSQL lets it.
        rejected = f"(SELECT NOT ({condition}) FROM (SELECT c.{quote(wanted.name)} AS value) v)"
        blocker = planner.prover.proof(live, rejected, source)
        if blocker.count:
            found.append(replace(blocker, why=f"values {what} rejects"))
    return found


def _checks_in_the_way(
    planner: Planner, lock: Table, live: Table, column: str
) -> tuple[list[str], list[CheckConstraint]]:
    """The database's checks over `column` that would stop its conversion: ALTER TYPE adds
    each again over the converted values, so one that cannot run on the new type fails it,
    and so does a validated one those values break.  A check the lock redefines under its
    name is not counted: it is dropped before the conversion (`constraints.check_changed`).
    Nor is one the lock keeps (the same meaning, as the database wrote it for the old type:
    `length(c)` for `length((c)::text)` over text) whose lock definition runs on the planned
    values and holds for them: that one is returned, to be dropped and added again."""
    redefined = {
        c.name
        for c in lock.checks
        for f in live.checks
        if c.name == f.name and not expressions.same(c.expression, f.expression)
    }
    source = planner.planned(live)
    held: list[str] = []
    again: list[CheckConstraint] = []
    for check in live.checks:
        if check.name in redefined or not reads(check.expression, column):
            continue
        found = planner.prover.proof(live, f"NOT ({check.expression})", source)
        if not (found.unrunnable or (check.validated and found.count != 0)):
            continue
        kept = next((c for c in lock.checks if c.name == check.name), None)
        if kept is not None and found.unrunnable:
            condition = f"NOT ({canonical_sql(kept.expression)})"
            if planner.prover.proof(live, condition, source).count == 0:
                again.append(kept)
                continue
        name = f"check {check.name}"
        why = found.why if found.count is None else f"{rows_text(found.count)} would break it"
        held.append(f"{name} {'cannot run on them' if found.unrunnable else 'fails'} ({why})")
    return held, again


def _target(planner: Planner, spelling: str) -> tuple[str, tuple[str, ...] | None]:
    """What a conversion to `spelling` is proven against: a domain the plan creates by its
    base type (the database has no such type yet); an enum of the lock by its labels, the
    lock's and the database's (PostgreSQL removes none), which the database may not have
    yet.  Arrays keep their brackets."""
    element, suffix = spelling, ""
    while element.endswith("[]"):
        element, suffix = element[:-2], suffix + "[]"
    database = planner.lock.database
    for key, enum in database.enums.items():
        if type_spelling(*key) == element:
            live = planner.live.enums.get(key)
            extra = (
                tuple(label for label in live.labels if label not in enum.labels) if live else ()
            )
            return spelling, enum.labels + extra
    for key, domain in database.domains.items():
        if type_spelling(*key) == element and key not in planner.live.domains:
            return _target(planner, domain.type + suffix)
    return spelling, None


def _castable(
    planner: Planner, from_type: str, to_type: str, target: str, labels: tuple[str, ...] | None
) -> bool:
    """Whether `USING column::to_type` has a cast to run.  To an enum the plan creates only a
    string type converts (its value read by the enum's input function), or an array of one
    to an array of it; else PostgreSQL is asked with the type itself (or a created domain's
    base type)."""
    if labels is None or not planner.created_type(to_type):
        return planner.prover.castable(from_type, target)
    if from_type.endswith("[]") and to_type.endswith("[]"):
        from_type = from_type[:-2]
    return planner.prover.string_type(from_type)


def _mapping(
    planner: Planner, lock: Table, live: Table, wanted: Column, found: Column
) -> tuple[Table, str] | None:
    """(parent, column) when the column holds another unique column of its parent: the
    values miswired-reference reports, which a data step maps before the conversion."""
    from schemalock.compare.matching import other_unique_columns

    fk = reference_of(lock, wanted.name)
    if fk is None or len(fk.columns) != 1:
        return None
    parent = planner.live.tables.get((fk.ref_schema, fk.ref_table))
    if parent is None:
        return None
    for other in other_unique_columns(parent, fk.ref_columns[0]):
        stored = f"c.{quote(found.name)}"
        matched = planner.prover.rows(
            live,
            f"EXISTS (SELECT 1 FROM {qualified(parent.schema, parent.name)} AS p "
            f"WHERE p.{quote(other)}::text = {stored}::text)",
        )
        if matched.count:
            return parent, other
    return None


def _default(planner: Planner, live: Table, wanted: Column, found: Column) -> None:
    """The column's default, identity or generation differs (its type does not)."""
    where = qualified(live.schema, live.name, found.name)
    if _generation_differs(wanted, found):
        planner.note(f"{where}: {_generation_note(live, wanted, found)}")
        return
    if expressions.same(wanted.default, found.default) and wanted.identity == found.identity:
        return
    if found.identity and wanted.default != OWNED_SEQUENCE:
        _identity_changed(planner, live, wanted, found)
        return
    if wanted.identity and found.default is None:
        _identity(planner, live, wanted, found)
        return
    if OWNED_SEQUENCE in (wanted.default, found.default) or wanted.identity:
        planner.note(f"{where}: serial and identity defaults are restored by hand")
        return
    _set_default(planner, live, wanted, f"default of {where}", found.default)


def _identity(planner: Planner, table: Table, column: Column, found: Column) -> None:
    """ADD GENERATED ... AS IDENTITY, its sequence moved past the largest value in use.
    PostgreSQL requires the column NOT NULL first: a nullable one is proven so (the
    nullability difference plans it) and gets its identity after."""
    target, name = qualified(table.schema, table.name), quote(column.name)
    phase = Phase.AFTER_KEYS if found.nullable else Phase.STRUCTURE
    planner.add(
        phase,
        f"identity of {target}.{name}",
        *_add_identity(target, column),
        hazards=[f"brief ACCESS EXCLUSIVE lock on {table.name}, then a scan for max({name})"],
    )


def _add_identity(target: str, column: Column) -> list[fo.Sql]:
    """ADD GENERATED ... AS IDENTITY (undone by DROP IDENTITY), then setval past max."""
    name = quote(column.name)
    generated = "ALWAYS" if column.identity == "always" else "BY DEFAULT"
    return [
        fo.Sql(
            f"ALTER TABLE {target} ALTER COLUMN {name} ADD {generated_as(column, generated)}",
            undo=f"ALTER TABLE {target} ALTER COLUMN {name} DROP IDENTITY IF EXISTS",
        ),
        fo.Sql(_restart(target, column.name)),
    ]


def _restart(target: str, column: str) -> str:
    """setval of the column's identity sequence past the largest value in use."""
    return (
        f"SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence({fo.literal(target)}, "
        f"{fo.literal(column)}), coalesce(max({quote(column)}), 0) + 1, false) FROM {target}"
    )


def _identity_changed(planner: Planner, table: Table, wanted: Column, found: Column) -> None:
    """An identity column the lock has as a plain one (DROP IDENTITY: the values stay, the
    sequence goes; the lock's default, if any, after it), or with the other kind (SET
    GENERATED).  Before any nullability change: PostgreSQL keeps an identity column NOT NULL.
    The downgrade adds the identity back (after NOT NULL, undone before it) past max."""
    target, name = qualified(table.schema, table.name), quote(found.name)
    alter = f"ALTER TABLE {target} ALTER COLUMN {name}"
    if wanted.identity:
        kinds = {"always": "ALWAYS", "by default": "BY DEFAULT"}
        change = fo.Sql(
            f"{alter} SET GENERATED {kinds.get(wanted.identity, 'BY DEFAULT')}",
            undo=f"{alter} SET GENERATED {kinds.get(found.identity or '', 'BY DEFAULT')}",
        )
        planner.add(Phase.STRUCTURE, f"identity of {target}.{name}: {wanted.identity}", change)
        return
    restore = "; ".join(op.text for op in _add_identity(target, found))
    drop = fo.Sql(f"{alter} DROP IDENTITY IF EXISTS", undo=restore)
    operations: list[MigrateOperation] = [drop]
    if wanted.default is not None:
        operations.append(alter_default(table, found.name, wanted.default, None))
    planner.add(
        Phase.STRUCTURE,
        f"drop identity of {target}.{name} (its values stay)",
        *operations,
        hazards=[f"brief ACCESS EXCLUSIVE lock on {table.name}; the identity's sequence drops"],
    )


def _set_default(
    planner: Planner, table: Table, column: Column, title: str, previous: str | None = None
) -> None:
    change = alter_default(table, column.name, column.default, previous)
    planner.add(Phase.STRUCTURE, title, change)


def _nullability(planner: Planner, lock: Table, live: Table, wanted: Column, found: Column) -> None:
    if not wanted.nullable:
        planner.set_not_null(live, found.name)
        return
    phase = Phase.STRUCTURE
    key = live.primary_key
    if key is not None and found.name in key.columns:
        # PostgreSQL keeps a primary key's columns NOT NULL: only once the plan has swapped
        # the key for the lock's can the column lose it.
        where = qualified(live.schema, live.name, found.name)
        held = f"left out: DROP NOT NULL of {where}: primary key {key.name} holds it"
        if lock.primary_key is None:
            planner.note(f"{held}, and a primary key the lock lacks is left alone")
            return
        reason = constraints.key_left(planner, lock, live)
        if found.name in lock.primary_key.columns or reason is not None:
            planner.note(f"{held}, and {reason or 'the lock keeps it in the key'}")
            return
        phase = Phase.AFTER_KEYS
    drop = ops.AlterColumnOp(
        live.name,
        found.name,
        schema=live.schema,
        modify_nullable=True,
        existing_nullable=False,
    )
    planner.add(phase, f"drop NOT NULL of {found.name}", drop)


def _generation_differs(wanted: Column, found: Column) -> bool:
    return (
        not expressions.same(wanted.generated, found.generated)
        or wanted.generated_storage != found.generated_storage
    )


def _generation_note(table: Table, wanted: Column, found: Column) -> str:
    """Why a change of how a column is generated is left for a person.  PostgreSQL cannot make
    an existing column generated; `DROP EXPRESSION` keeps the values of a stored one, but no
    downgrade could make the column generated again, and the application loses the values it
    relied on for new rows: a contract change to make knowingly, not a repair."""
    if wanted.generated is None:
        statement = (
            f"ALTER TABLE {qualified(table.schema, table.name)} ALTER COLUMN "
            f"{quote(found.name)} DROP EXPRESSION"
        )
        if found.generated_storage == "virtual":
            return (
                "the database generates it (virtual), the lock does not: a virtual generated "
                "column has no stored values to keep; rebuild it by hand"
            )
        return (
            f"the database generates it, the lock does not: `{statement}` makes it a plain "
            "column and keeps its values, but cannot be undone (PostgreSQL cannot make a column "
            "generated again), so it is run by hand, if that is meant"
        )
    if found.generated is None:
        return (
            "the lock says it is generated, the database column is not, and PostgreSQL cannot "
            "make an existing column generated: add a generated column beside it, move readers "
            "to it and drop the old one, by hand"
        )
    return (
        "its generation expression or storage differs from the lock's; changing it recomputes "
        "every row under ACCESS EXCLUSIVE (PostgreSQL 17+: ALTER COLUMN ... SET EXPRESSION), "
        "so it is planned by hand"
    )


HANDLERS: dict[type[Any], Any] = {
    d.RenamedColumn: renamed_column,
    d.MissingColumn: missing_column,
    d.ColumnChanged: column_changed,
}
