"""A foreign key's orphan rows as the plan leaves them, and what is done with them.

Orphans are counted over the planned values: a column the plan converts is compared in its
new type (a text column holding uuids, read as uuid), and values a data step maps through the
parent first are not orphans.  A reference that holds another unique column of its parent
(the slug where the id belongs) is mapped to the key when that is unambiguous; other orphans
are moved aside, deleted or nulled only when `--orphans` says so.
"""

from __future__ import annotations

from alembic.operations import MigrateOperation

from schemalock import db
from schemalock.compare.matching import compatible, unique_columns
from schemalock.fix import operations as fo
from schemalock.fix.plan import columns
from schemalock.fix.plan.core import Orphans, Phase, Planner
from schemalock.fix.plan.sql import canonical_sql, orphan_condition, rows_text
from schemalock.fix.proofs import points_at
from schemalock.model import OWNED_SEQUENCE, Column, ForeignKey, Table, expressions
from schemalock.model.names import qualified, quote


def planned_value(planner: Planner, table: Table, column: str, alias: str) -> str | None:
    """SQL for `alias.column` as the plan leaves it: in the lock's type where the plan converts
    it (NULL where a value does not convert: the conversion's own proof refuses those), the
    default where the plan adds the column; None when that cannot be said before applying (a
    volatile default, a sequence)."""
    lock = planner.lock.database.tables.get(table.key)
    wanted = lock.column(column) if lock else None
    found = table.column(column)
    value = f"{alias}.{quote(column)}"
    if wanted is None or (found is not None and wanted.type == found.type):
        return value
    # Read as the type it is proven as before the plan has run (a domain the plan creates:
    # its base type), or untyped when there is none yet (an enum the plan creates).
    spelling = planner.proven_as(wanted.type)
    if found is None:  # added by this plan: every row holds its default
        if wanted.default is None:
            return "NULL" if spelling is None else f"NULL::{spelling}"
        constant = wanted.default != OWNED_SEQUENCE and expressions.is_constant(wanted.default)
        if spelling is None or not constant:
            return None
        return f"({canonical_sql(wanted.default)})::{spelling}"
    if spelling is None:
        return None
    valid = planner.prover.valid(value, spelling, found.type) or "true"
    return f"(CASE WHEN {valid} THEN {value}::{spelling} END)"


def planned_orphans(
    planner: Planner, table: Table, fk: ForeignKey, mapped: tuple[str, ...] = ()
) -> str | None:
    """SQL over the current rows (alias `c`) true for those that are orphans once the plan's
    earlier steps ran: conversions, and the mappings from the parent's `mapped` columns (or
    the one a conversion maps from); None when that cannot be said before applying."""
    reference = (fk.ref_schema, fk.ref_table)
    parent = planner.live.tables.get(reference)
    children = [planned_value(planner, table, c, "c") for c in fk.columns]
    if parent is not None:
        keys = [planned_value(planner, parent, k, "p") for k in fk.ref_columns]
    else:  # outside the lock's schemas, as it is; or created by this plan, empty
        keys = [f"p.{quote(k)}" for k in fk.ref_columns]
    if None in children or None in keys:
        return None
    # A value a conversion cannot read is NULL in its planned form, yet still set: raw here.
    set_ = " AND ".join(
        f"c.{quote(c)} IS NOT NULL" if table.column(c) else f"{v} IS NOT NULL"
        for c, v in zip(fk.columns, children, strict=True)
    )
    if parent is None and reference in planner.lock.database.tables:
        return set_  # every value set is an orphan of a table the plan creates
    match = " AND ".join(f"{k} = {v}" for k, v in zip(keys, children, strict=True))
    condition = f"{set_} AND NOT EXISTS (SELECT 1 FROM {qualified(*reference)} AS p WHERE {match})"
    child = table.column(fk.columns[0])
    for stored in (*mapped, *_converted_mapping(planner, table, fk)):
        assert parent is not None  # a mapping reads both
        assert child is not None
        condition += f" AND NOT {_holds(parent, stored, child)}"
    return condition


def _converted_mapping(planner: Planner, table: Table, fk: ForeignKey) -> tuple[str, ...]:
    """The parent's column a conversion of the reference maps its values from, if any."""
    lock = planner.lock.database.tables.get(table.key)
    wanted = lock.column(fk.columns[0]) if lock and len(fk.columns) == 1 else None
    found = table.column(fk.columns[0])
    if lock is None or wanted is None or found is None or wanted.type == found.type:
        return ()
    mapping = columns._mapping(planner, lock, table, wanted, found)
    return () if mapping is None else (mapping[1],)


def changes_values(planner: Planner, table: Table, fk: ForeignKey) -> bool:
    """Whether the plan changes the values of the key's columns (or the parent's) first, or
    creates the parent."""
    reference = (fk.ref_schema, fk.ref_table)
    parent = planner.live.tables.get(reference)
    if parent is None and reference in planner.lock.database.tables:
        return True
    raw = [planned_value(planner, table, c, "c") == f"c.{quote(c)}" for c in fk.columns]
    if parent is not None:
        raw += [planned_value(planner, parent, k, "p") == f"p.{quote(k)}" for k in fk.ref_columns]
    return not all(raw)


def count(planner: Planner, table: Table, condition: str) -> int | None:
    """Rows of `table` (alias `c`) where `condition` holds; None when PostgreSQL cannot tell
    before the plan runs (a value no cast reads, a type the plan creates): the conversion's
    own proof reports those."""
    import psycopg

    source = f"{qualified(table.schema, table.name)} AS c"
    unreadable = (psycopg.DataError, psycopg.errors.CannotCoerce, psycopg.errors.UndefinedObject)
    with db.read_only(planner.prover.connection, planner.prover.timeouts, "fix") as conn:
        try:
            row = conn.execute(f"SELECT count(*) FROM {source} WHERE {condition}").fetchone()
        except unreadable:
            return None
    return int(str(row[0])) if row else 0


def map_miswired(
    planner: Planner, table: Table, fk: ForeignKey, replaced: ForeignKey | None = None
) -> tuple[str, ...] | None:
    """References holding another unique column of the parent (its slug where its id
    belongs) in a column of the key's own type: mapped to the key in a data step, before the
    key is validated, when that is unambiguous.  Returns the parent's columns mapped from
    (none: no such reference, or the column is not this key's alone to rewrite); None when
    refused: values naming two rows of the parent.  `replaced`: the live key `fk` replaces
    (its old target's values, `id` where `c5` is now the target): the mapping runs after it
    is dropped, just before the new key is validated."""
    parent = planner.live.tables.get((fk.ref_schema, fk.ref_table))
    child = table.column(fk.columns[0]) if len(fk.columns) == 1 else None
    if parent is None or child is None or changes_values(planner, table, fk):
        return ()  # a conversion maps its own values (columns), before its proof
    orphans = planned_orphans(planner, table, fk)
    if orphans is None or not _rewritable(planner, table, fk, replaced):
        return ()
    key = fk.ref_columns[0]
    stored = tuple(
        other
        for other in unique_columns(parent, key)
        if planner.prover.rows(table, f"{orphans} AND {_holds(parent, other, child)}")
    )
    if not stored:
        return ()
    where, source = qualified(table.schema, table.name, child.name), _source(parent)
    ambiguous = _ambiguous(parent, key, child, stored)
    blocker = planner.prover.rows(table, ambiguous)
    if blocker:
        planner.refuse(
            f"mapping {where} through {source}",
            blocker,
            f"values that name more than one row of {source} (one row's {quote(key)}, another's "
            f"{', '.join(map(quote, stored))}): which is meant cannot be told; correct them, "
            "then run fix again",
        )
        return None
    held = " OR ".join(_holds(parent, other, child) for other in stored)
    mapped = planner.prover.rows(table, f"{orphans} AND ({held})").count or 0
    guard = fo.Guard(
        f"EXISTS (SELECT 1 FROM {qualified(table.schema, table.name)} AS c WHERE {ambiguous})",
        f"values of {where} name more than one row of {source}: nothing was mapped",
    )
    maps = [
        fo.MapOrphansThroughParent(
            table.schema, table.name, child.name, parent.schema, parent.name, key, other,
            as_text=not _comparable(parent, other, child),
        )
        for other in stored
    ]  # fmt: skip
    froms = ", ".join(f"{source}.{quote(other)}" for other in stored)
    planner.add(
        Phase.DATA if replaced is None else Phase.VALIDATE_FOREIGN_KEYS,
        f"map {where} from {froms} to {quote(key)}",
        guard,
        *maps,
        hazards=[
            f"data-dependent step: {rows_text(mapped)} of {qualified(table.schema, table.name)} "
            f"hold {froms} where {quote(key)} belongs, mapped to it (row triggers fire; the "
            "downgrade cannot tell them from rows that were right)"
        ],
    )
    return stored


def _rewritable(
    planner: Planner, table: Table, fk: ForeignKey, replaced: ForeignKey | None = None
) -> bool:
    """Whether rewriting the reference's values is this key's business alone: no other live
    key on the column (but the one `fk` replaces) points elsewhere (the new values would
    break it), and no key points at the column (ON UPDATE would cascade or fail)."""
    column = fk.columns[0]
    others = [other for other in table.foreign_keys if other is not replaced]
    if any(column in other.columns and other.target != fk.target for other in others):
        return False
    return not any(column in targets for *_, targets in planner.prover.references_to(table))


def _comparable(parent: Table, other: str, child: Column) -> bool:
    found = parent.column(other)
    return found is not None and compatible(child.type, found.type)


def _equal(parent: Table, other: str, child: Column) -> str:
    """SQL: the parent row `p` holds in `other` the value of the row `c`, compared in their
    types where those compare (an index serves), else as text."""
    stored, value = f"p.{quote(other)}", f"c.{quote(child.name)}"
    if _comparable(parent, other, child):
        return f"{stored} = {value}"
    return f"{stored}::text = {value}::text"


def _holds(parent: Table, other: str, child: Column) -> str:
    return f"EXISTS (SELECT 1 FROM {_source(parent)} AS p WHERE {_equal(parent, other, child)})"


def _ambiguous(parent: Table, key: str, child: Column, stored: tuple[str, ...]) -> str:
    """SQL: the row `c` names two rows of the parent (one's key, another's slug, or two
    others' columns): a mapping could only guess."""
    named = " OR ".join(
        [f"p.{quote(key)} = c.{quote(child.name)}", *(_equal(parent, o, child) for o in stored)]
    )
    return (
        f"c.{quote(child.name)} IS NOT NULL AND (SELECT count(DISTINCT p.{quote(key)}) FROM "
        f"{_source(parent)} AS p WHERE {named}) > 1"
    )


def _source(table: Table) -> str:
    return qualified(table.schema, table.name)


def refuse_miswired(planner: Planner, table: Table, fk: ForeignKey) -> None:
    """Orphans holding another unique column of the parent where no mapping is planned (the
    column is not this key's alone to rewrite): moving, deleting or nulling them would lose
    references a mapping repairs.  Refused, naming the column."""
    parent = planner.live.tables.get((fk.ref_schema, fk.ref_table))
    child = table.column(fk.columns[0]) if len(fk.columns) == 1 else None
    if parent is None or child is None or changes_values(planner, table, fk):
        return  # a column being converted was mapped before its orphans were counted
    for other in unique_columns(parent, fk.ref_columns[0]):
        held = planner.prover.rows(
            table, f"{orphan_condition(fk)} AND {_holds(parent, other, child)}"
        )
        if held:
            planner.refuse(
                f"--orphans {planner.orphans} on {qualified(table.schema, table.name)}",
                held,
                f"orphans that hold {qualified(parent.schema, parent.name, other)}, where "
                f"{quote(fk.ref_columns[0])} belongs (miswired-reference: map them through "
                "the parent, then run fix again)",
            )


def orphan_ops(
    planner: Planner, table: Table, fk: ForeignKey, proof: str
) -> list[MigrateOperation]:
    """What `--orphans` does with them.  `proof`: the orphans over the current rows, for the
    checks made now; the steps themselves run after the conversions, on the planned values."""
    condition = orphan_condition(fk)
    reason = f"orphans of {fk.name}"
    target = qualified(table.schema, table.name)
    if planner.orphans in (Orphans.QUARANTINE, Orphans.DELETE):
        guard = _unreferenced(planner, table, proof, condition)
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


def _unreferenced(planner: Planner, table: Table, proof: str, rows: str) -> list[MigrateOperation]:
    """Orphan rows leave their table only if no other row points at them: a foreign key's
    ON DELETE would cascade (losing rows nobody asked about), null, or stop the step.
    Proven now over `proof`, and checked again over `rows` by the revision when it runs."""
    target = qualified(table.schema, table.name)
    pointing = planner.prover.references_to(table)  # one catalog read for proof and guard
    for source, blocker in planner.prover.referenced(table, proof, pointing):
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
