"""Planning for foreign keys: added NOT VALID, validated, their orphans."""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation

from schemalock.compare import differences as d
from schemalock.fix import operations as fo
from schemalock.fix.plan import columns
from schemalock.fix.plan.core import Orphans, Phase, Planner
from schemalock.fix.plan.sql import fk_fields, fk_op, orphan_condition, references_sql, short_name
from schemalock.fix.proofs import points_at
from schemalock.model import (
    Column,
    ForeignKey,
    Table,
)
from schemalock.model.names import qualified, quote


def foreign_key_changed(planner: Planner, changed: d.ForeignKeyChanged) -> None:
    """A foreign key on the lock's columns with another target, actions, match or deferral:
    dropped and added again NOT VALID in one transaction (no moment without it), then
    validated."""
    live, wanted, found = changed.live, changed.lock_key, changed.live_key
    if found.name is None:
        return
    target = qualified(live.schema, live.name)
    drop = fo.Sql(
        f"ALTER TABLE {target} DROP CONSTRAINT {quote(found.name)}",
        # Back NOT VALID: the rows it held for are unchanged, new ones checked.
        undo=f"ALTER TABLE {target} ADD CONSTRAINT {quote(found.name)} "
        f"{references_sql(found)} NOT VALID",
    )
    named = ForeignKey(**{**fk_fields(wanted), "name": found.name})
    planner.add(
        Phase.FOREIGN_KEYS,
        f"redefine foreign key {found.name}",
        drop,
        fk_op(live, named, True),
    )
    if named.validated:  # else the lock keeps it NOT VALID on purpose
        _validate_foreign_key(planner, live, named)


def missing_foreign_key(planner: Planner, missing: d.MissingForeignKey) -> None:
    _foreign_key(planner, missing.live, missing.foreign_key)


def _foreign_key(planner: Planner, table: Table, fk: ForeignKey) -> None:
    name = fk.name or short_name(f"{table.name}_{'_'.join(fk.columns)}_fkey")
    named = ForeignKey(**{**fk_fields(fk), "name": name})
    if table.partition_by and planner.prover.connection.info.server_version < 180000:
        _partitioned_foreign_key(planner, table, named)
        return
    planner.add(Phase.FOREIGN_KEYS, f"foreign key {name} NOT VALID", fk_op(table, named, True))
    if named.validated:  # else the lock keeps it NOT VALID on purpose
        _validate_foreign_key(planner, table, named)


def _partitioned_foreign_key(planner: Planner, table: Table, fk: ForeignKey) -> None:
    """Before PostgreSQL 18 a partitioned table's foreign key cannot be NOT VALID: it is
    added validated, scanning every partition under SHARE ROW EXCLUSIVE; orphans stop it."""
    assert fk.name is not None
    target = qualified(table.schema, table.name)
    orphans = _orphans_after_plan(planner, table, fk)
    if orphans:
        planner.note(
            f"{target} ({', '.join(fk.columns)}): {orphans} orphan rows, and a foreign key "
            "of a partitioned table cannot be added NOT VALID before PostgreSQL 18: resolve "
            "them, then run fix again"
        )
        return
    planner.add(
        Phase.FOREIGN_KEYS,
        f"foreign key {fk.name} (validated: partitioned table)",
        fk_op(table, fk, False),
        hazards=[
            f"scan of every partition of {target} under SHARE ROW EXCLUSIVE (writes wait): "
            "NOT VALID is not allowed on a partitioned table before PostgreSQL 18"
        ],
        long=True,
    )


def foreign_key_not_validated(planner: Planner, pending: d.ForeignKeyNotValidated) -> None:
    """Validate a NOT VALID key matching a relation of the lock, unless the lock marks it
    `validated: false`."""
    if pending.lock_key.validated:
        _validate_foreign_key(planner, pending.live, pending.live_key)


def _validate_foreign_key(planner: Planner, table: Table, fk: ForeignKey) -> None:
    assert fk.name is not None
    orphans = _orphans_after_plan(planner, table, fk)
    where = f"{qualified(table.schema, table.name)} ({', '.join(fk.columns)})"
    if orphans and planner.orphans is Orphans.FAIL:
        planner.note(
            f"{where}: {orphans} orphan rows; the foreign key {fk.name} is added NOT VALID, "
            "so new rows are checked, and VALIDATE waits until the orphans are resolved "
            "(`--orphans quarantine` moves them aside, losing nothing)"
        )
        return
    if orphans:
        target = qualified(table.schema, table.name)
        _refuse_miswired(planner, table, fk)
        planner.add(
            Phase.DATA,
            f"{planner.orphans} {orphans} orphans of {fk.name}",
            *_orphan_ops(planner, table, fk),
            hazards=[f"data-dependent step: writes the orphan rows of {target}"],
        )
    planner.validate(table, fk.name, f"foreign key {fk.name}", Phase.VALIDATE_FOREIGN_KEYS)


def _refuse_miswired(planner: Planner, table: Table, fk: ForeignKey) -> None:
    """Orphans holding another unique column of the parent (an integer `legacy_no` where
    `id` belongs) are miswired, not orphans: moving, deleting or nulling them would lose
    references a mapping repairs.  Refused, naming the column."""
    from schemalock.rules.identifiers import unique_columns

    parent = planner.live.tables.get((fk.ref_schema, fk.ref_table))
    lock = planner.lock.database.tables.get(table.key)
    wanted = lock.column(fk.columns[0]) if lock and len(fk.columns) == 1 else None
    found = table.column(fk.columns[0])
    if parent is None or wanted is None or found is None or wanted.type != found.type:
        return  # a column being converted was mapped before its orphans were counted
    value = f"c.{quote(fk.columns[0])}::text"
    for other in unique_columns(parent, fk.ref_columns[0]):
        held = planner.prover.rows(
            table,
            f"{orphan_condition(fk)} AND EXISTS (SELECT 1 FROM "
            f"{qualified(parent.schema, parent.name)} AS p WHERE p.{quote(other)}::text = "
            f"{value})",
        )
        if held:
            planner.refuse(
                f"--orphans {planner.orphans} on {qualified(table.schema, table.name)}",
                held,
                f"orphans that hold {qualified(parent.schema, parent.name, other)}, where "
                f"{quote(fk.ref_columns[0])} belongs (miswired-reference: map them through "
                "the parent, then run fix again)",
            )


def _orphans_after_plan(planner: Planner, table: Table, fk: ForeignKey) -> int:
    """Orphans the VALIDATE would meet: values a data step maps through the parent first
    are not orphans."""
    lock = planner.lock.database.tables.get(table.key)
    wanted = lock.column(fk.columns[0]) if lock and len(fk.columns) == 1 else None
    found = table.column(fk.columns[0])
    if lock is None or wanted is None or found is None or wanted.type == found.type:
        return planner.orphan_counts(table, fk) if planner.orphan_counts else 0
    mapping = columns._mapping(planner, lock, table, wanted, found)
    value = f"c.{quote(found.name)}"
    parent = qualified(fk.ref_schema, fk.ref_table)
    key = quote(fk.ref_columns[0])
    # Where no predicate can tell, the conversion's own proof has shown every value
    # converts (or the plan is refused anyway).
    valid = planner.prover.valid(value, wanted.type, found.type) or "true"
    converted = f"CASE WHEN {valid} THEN {value}::{wanted.type} END"
    condition = (
        f"{value} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {parent} AS p WHERE p.{key} = ({converted}))"
    )
    if mapping is not None:
        condition += (
            f" AND NOT EXISTS (SELECT 1 FROM {parent} AS p "
            f"WHERE p.{quote(mapping[1])}::text = {value})"
        )
    return planner.prover.rows(table, condition).count or 0


def _orphan_ops(planner: Planner, table: Table, fk: ForeignKey) -> list[MigrateOperation]:
    condition = orphan_condition(fk)
    reason = f"orphans of {fk.name}"
    target = qualified(table.schema, table.name)
    if planner.orphans in (Orphans.QUARANTINE, Orphans.DELETE):
        guard = _unreferenced(planner, table, condition)
        if planner.orphans is Orphans.QUARANTINE:
            kept = tuple(c.name for c in table.columns if not c.generated)
            quarantine = fo.Quarantine(table.schema, table.name, condition, reason, kept)
            return [*guard, fo.Sql(fo.QUARANTINE_TABLE), quarantine]
        lost = f"the deleted orphans of {target} cannot be restored"
        return [*guard, fo.Sql(f"DELETE FROM {target} AS c WHERE {condition}", lost=lost)]
    lost = f"the nulled orphan references of {target} cannot be restored"
    required = [c for c in fk.columns if not (table.column(c) or Column(c, "")).nullable]
    if required:
        planner.plan.refusals.append(
            f"--orphans set-null: {target} ({', '.join(required)}) is NOT NULL"
        )
    nulls = ", ".join(f"{quote(c)} = NULL" for c in fk.columns)
    return [fo.Sql(f"UPDATE {target} AS c SET {nulls} WHERE {condition}", lost=lost)]


def _unreferenced(planner: Planner, table: Table, rows: str) -> list[MigrateOperation]:
    """Orphan rows leave their table only if no other row points at them: a foreign key's
    ON DELETE would cascade (losing rows nobody asked about), null, or stop the step.
    Proven now, and checked again by the revision when it runs."""
    target = qualified(table.schema, table.name)
    pointing = planner.prover.references_to(table)  # one catalog read for proof and guard
    for source, blocker in planner.prover.referenced(table, rows, pointing):
        planner.refuse(
            f"--orphans {planner.orphans} on {target}",
            blocker,
            f"orphan rows {source} points at (moving them would cascade to its rows, null "
            "them, or fail)",
        )
    references = [points_at(reference) for reference in pointing]
    if not references:
        return []
    pointed_at = " OR ".join(references)
    return [
        fo.Guard(
            f"EXISTS (SELECT 1 FROM {target} AS c WHERE ({rows}) AND ({pointed_at}))",
            f"rows of other tables point at orphan rows of {target}: nothing was moved",
        )
    ]


HANDLERS: dict[type[Any], Any] = {
    d.MissingForeignKey: missing_foreign_key,
    d.ForeignKeyChanged: foreign_key_changed,
    d.ForeignKeyNotValidated: foreign_key_not_validated,
}
