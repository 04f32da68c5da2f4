"""Planning for foreign keys: added NOT VALID, validated, their orphans."""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation, ops

from schemalock import db
from schemalock.compare import differences as d
from schemalock.compare.matching import match_foreign_keys
from schemalock.fix import operations as fo
from schemalock.fix.plan import orphans, tables
from schemalock.fix.plan.core import Orphans, Phase, Planner
from schemalock.fix.plan.sql import (
    fk_fields,
    fk_op,
    free_name,
    lock_hazard,
    orphan_condition,
    references_sql,
    short_name,
)
from schemalock.model import ForeignKey, Table
from schemalock.model.names import qualified, quote


def foreign_key_changed(planner: Planner, changed: d.ForeignKeyChanged) -> None:
    """A foreign key on the lock's columns with another target, actions, match or deferral:
    dropped and added again NOT VALID in one transaction (no moment without it), then
    validated."""
    live, wanted, found = changed.live, changed.lock_key, changed.live_key
    if found.name is None:
        return
    named = ForeignKey(**{**fk_fields(wanted), "name": found.name})
    drop, dropping = _drop(live, found), _drop_hazard(live, found)
    if live.partition_by and planner.prover.connection.info.server_version < 180000:
        # Not mapped either; with orphans the old key stays, left for a person.
        _partitioned_foreign_key(planner, live, named, [drop], [dropping], "redefine ")
        return
    add = fk_op(live, named, True)
    planner.add(
        Phase.FOREIGN_KEYS,
        f"redefine foreign key {found.name}",
        drop,
        add,
        hazards=[dropping, *filter(None, [lock_hazard(add)])],
    )
    if named.validated:  # else the lock keeps it NOT VALID on purpose
        # Values written for the old target that name a row of the new one by another of its
        # unique columns (`id` where `c5` is now the target) are mapped, once the old key
        # is gone: the next run would map them otherwise.
        _validate_foreign_key(planner, live, named, replaced=found)


def missing_foreign_key(planner: Planner, missing: d.MissingForeignKey) -> None:
    _foreign_key(planner, missing.lock, missing.live, missing.foreign_key)


def extra_foreign_key(planner: Planner, extra: d.ExtraForeignKey) -> None:
    """An extra key is left alone, unless it is the old definition of a lock's key of the same
    name: that one is replaced (`_foreign_key`), and its step says so."""
    if extra.foreign_key.name not in _replaced(extra.lock, extra.live):
        tables.left_alone(planner, extra)


def _foreign_key(planner: Planner, lock: Table, table: Table, fk: ForeignKey) -> None:
    """A missing key, added NOT VALID, then validated.  Under the lock's name: a live key of
    another definition holding that name (the key moved to other columns) is its old
    definition, dropped in the same transaction; any other constraint holding it leaves the
    new key a free variant of the name (PostgreSQL names a table's constraints uniquely)."""
    name = fk.name or short_name(f"{table.name}_{'_'.join(fk.columns)}_fkey")
    old = next((f for f in match_foreign_keys(lock, table)[1] if f.name == name), None)
    replacing: list[MigrateOperation] = []
    hazards: list[str] = []
    if old is not None:
        replacing.append(_drop(table, old))
        hazards.append(_drop_hazard(table, old))
    else:
        name = free_name(name, _constraint_names(planner, table))
    named = ForeignKey(**{**fk_fields(fk), "name": name})
    if table.partition_by and planner.prover.connection.info.server_version < 180000:
        _partitioned_foreign_key(planner, table, named, replacing, hazards)
        return
    title = f"foreign key {name} NOT VALID"
    if old is not None:
        title = f"redefine foreign key {name} NOT VALID (was on {', '.join(old.columns)})"
    add = fk_op(table, named, True)
    hazards += filter(None, [lock_hazard(add)])
    planner.add(Phase.FOREIGN_KEYS, title, *replacing, add, hazards=hazards)
    if named.validated:  # else the lock keeps it NOT VALID on purpose
        _validate_foreign_key(planner, table, named)


def _replaced(lock: Table, live: Table) -> set[str]:
    """Names of live keys no lock key answers whose name a missing lock key has: the old
    definitions `_foreign_key` replaces."""
    pairs, extra = match_foreign_keys(lock, live)
    wanted = {
        fk.name or short_name(f"{live.name}_{'_'.join(fk.columns)}_fkey")
        for fk, found in pairs
        if found is None
    }
    return {fk.name for fk in extra if fk.name in wanted}


def _drop(table: Table, old: ForeignKey) -> MigrateOperation:
    assert old.name is not None
    target = qualified(table.schema, table.name)
    return fo.Sql(
        f"ALTER TABLE {target} DROP CONSTRAINT {quote(old.name)}",
        # Back NOT VALID: the rows it held for are unchanged, new ones checked.
        undo=f"ALTER TABLE {target} ADD CONSTRAINT {quote(old.name)} "
        f"{references_sql(old)} NOT VALID",
    )


def _drop_hazard(table: Table, old: ForeignKey) -> str:
    """Dropping a foreign key takes ACCESS EXCLUSIVE on both its tables (their triggers)."""
    return (
        f"brief ACCESS EXCLUSIVE lock on {table.name} and {old.ref_table} (catalog only: "
        f"the old {old.name} is dropped)"
    )


def _constraint_names(planner: Planner, table: Table) -> set[str]:
    """The names the table's constraints hold, live (from the catalog: NOT NULL constraints of
    PostgreSQL 18 and exclusion constraints too) and planned by this plan so far."""
    names = {fk.name for fk in table.foreign_keys} | {c.name for c in table.checks}
    names |= {u.name for u in table.uniques}
    if table.primary_key is not None:
        names.add(table.primary_key.name)
    with db.read_only(planner.prover.connection, planner.prover.timeouts, "fix") as conn:
        rows = conn.execute(
            "SELECT conname::pg_catalog.text FROM pg_catalog.pg_constraint"
            " WHERE conrelid = pg_catalog.to_regclass(%s)",
            [qualified(table.schema, table.name)],
        ).fetchall()
    names |= {str(row[0]) for row in rows}
    names |= {_planned_name(op, table) for step in planner.plan.steps for op in step.ops}
    return {name for name in names if name}


def _planned_name(op: MigrateOperation, table: Table) -> str | None:
    """The name of the constraint `op` adds to `table`, if it adds one."""
    if isinstance(op, ops.CreateForeignKeyOp):
        where = (op.source_table, op.kw.get("source_schema"))
    elif isinstance(op, ops.CreateCheckConstraintOp):
        where = (op.table_name, op.schema)
    elif isinstance(op, fo.AddConstraintUsingIndex):
        return op.name if (op.table, op.schema) == (table.name, table.schema) else None
    else:
        return None
    return str(op.constraint_name) if where == (table.name, table.schema) else None


def _partitioned_foreign_key(
    planner: Planner,
    table: Table,
    fk: ForeignKey,
    replacing: list[MigrateOperation],
    hazards: list[str],
    redefine: str = "",
) -> None:
    """Before PostgreSQL 18 a partitioned table's foreign key cannot be NOT VALID: it is
    added validated, scanning every partition under SHARE ROW EXCLUSIVE; orphans stop it (a
    key being `redefine`d keeps its old definition then: its values are not mapped, having
    been written for the old target)."""
    assert fk.name is not None
    target = qualified(table.schema, table.name)
    resolved = _resolve(planner, table, fk, not redefine)
    if resolved is None:
        return  # refused: the mapping would have to guess
    found, _ = resolved
    if found is None or found[0]:
        counted = "uncounted" if found is None else str(found[0])
        planner.note(
            f"{target} ({', '.join(fk.columns)}): {counted} orphan rows, and a foreign key "
            "of a partitioned table cannot be added NOT VALID before PostgreSQL 18: resolve "
            "them, then run fix again"
        )
        return
    planner.add(
        Phase.FOREIGN_KEYS,
        f"{redefine}foreign key {fk.name} (validated: partitioned table)",
        *replacing,
        fk_op(table, fk, False),
        hazards=[
            *hazards,
            f"scan of every partition of {target} under SHARE ROW EXCLUSIVE (writes wait): "
            "NOT VALID is not allowed on a partitioned table before PostgreSQL 18",
        ],
        long=True,
    )


def foreign_key_not_validated(planner: Planner, pending: d.ForeignKeyNotValidated) -> None:
    """Validate a NOT VALID key matching a relation of the lock, unless the lock marks it
    `validated: false`."""
    if pending.lock_key.validated:
        _validate_foreign_key(planner, pending.live, pending.live_key)


def _validate_foreign_key(
    planner: Planner,
    table: Table,
    fk: ForeignKey,
    map_values: bool = True,
    replaced: ForeignKey | None = None,
) -> None:
    """VALIDATE, once what stops it is resolved: references holding the parent's slug mapped
    to its key (`map_values`: not while another key still holds the column), orphans left
    NOT VALID with a note, or moved aside as `--orphans` says."""
    assert fk.name is not None
    resolved = _resolve(planner, table, fk, map_values, replaced)
    if resolved is None:
        return  # refused: the mapping would have to guess
    found, mapped = resolved
    where = f"{qualified(table.schema, table.name)} ({', '.join(fk.columns)})"
    if found is None:
        planner.note(
            f"{where}: its orphan rows cannot be counted before the plan has run; the "
            f"foreign key {fk.name} is added NOT VALID: run fix again after it"
        )
        return
    count, proof = found
    if count and planner.orphans is Orphans.FAIL:
        planner.note(
            f"{where}: {count} orphan rows; the foreign key {fk.name} is added NOT VALID, "
            "so new rows are checked, and VALIDATE waits until the orphans are resolved "
            "(`--orphans quarantine` moves them aside, losing nothing)"
        )
        return
    if count:
        target = qualified(table.schema, table.name)
        if not mapped:
            orphans.refuse_miswired(planner, table, fk)
        planner.add(
            Phase.DATA,
            f"{planner.orphans} {count} orphans of {fk.name}",
            *orphans.orphan_ops(planner, table, fk, proof),
            hazards=[f"data-dependent step: writes the orphan rows of {target}"],
        )
    planner.validate(table, fk.name, f"foreign key {fk.name}", Phase.VALIDATE_FOREIGN_KEYS)


Counted = tuple[int, str] | None  # orphans, and the SQL telling them; None: cannot be told


def _resolve(
    planner: Planner,
    table: Table,
    fk: ForeignKey,
    map_values: bool,
    replaced: ForeignKey | None = None,
) -> tuple[Counted, tuple[str, ...]] | None:
    """The orphans VALIDATE would meet, once references holding another unique column of
    the parent are mapped (when there are orphans at all, and `map_values`), and the columns
    mapped from; None when the mapping is refused.  `replaced` as `orphans.map_miswired`."""
    found = _orphans_after_plan(planner, table, fk, ())
    if not map_values or found is None or not found[0]:
        return found, ()
    mapped = orphans.map_miswired(planner, table, fk, replaced)
    if not mapped:
        return None if mapped is None else (found, ())
    return _orphans_after_plan(planner, table, fk, mapped), mapped


def _orphans_after_plan(
    planner: Planner, table: Table, fk: ForeignKey, mapped: tuple[str, ...]
) -> Counted:
    """The orphans VALIDATE would meet, and the SQL telling them among the current rows:
    values a data step maps through the parent first are not orphans, values a conversion
    changes are compared as converted.  None when that cannot be told before applying."""
    if not mapped and not orphans.changes_values(planner, table, fk):
        probed = planner.orphan_counts(table, fk) if planner.orphan_counts else 0
        return probed, orphan_condition(fk)
    condition = orphans.planned_orphans(planner, table, fk, mapped)
    counted = None if condition is None else orphans.count(planner, table, condition)
    return None if condition is None or counted is None else (counted, condition)


HANDLERS: dict[type[Any], Any] = {
    d.MissingForeignKey: missing_foreign_key,
    d.ExtraForeignKey: extra_foreign_key,
    d.ForeignKeyChanged: foreign_key_changed,
    d.ForeignKeyNotValidated: foreign_key_not_validated,
}
