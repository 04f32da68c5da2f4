"""Planning for primary keys, unique constraints and checks."""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation

from schemalock.compare import differences as d
from schemalock.fix import operations as fo
from schemalock.fix.plan.core import Phase, Planner
from schemalock.fix.plan.sql import canonical_sql, check_op, index_op, rows_text, short_name
from schemalock.model import (
    CheckConstraint,
    Index,
    Table,
)
from schemalock.model.names import qualified, quote


def primary_key(planner: Planner, changed: d.PrimaryKeyChanged, free: str | None = None) -> None:
    """A missing primary key, or one on other columns: its unique index built concurrently,
    its columns proven NOT NULL, then adopted (`ADD PRIMARY KEY USING INDEX`); a key on other
    columns is swapped for it in one transaction (DROP CONSTRAINT, then ADD ... USING INDEX),
    unless `key_left` says why that is left for a person.  `free`: the name to give it, when
    another relation holds the lock's (`indexes` finds one)."""
    lock, live = changed.lock, changed.live
    where = qualified(live.schema, live.name)
    if lock.primary_key is None:
        # Dropping it is for a person, as for any extra constraint; said, so fix never says
        # "nothing to repair" while verify reports it.
        planner.note(
            f"{where}: a primary key the lock lacks is left alone, as extra constraints are"
        )
        return
    former = live.primary_key
    if former is not None:
        reason = key_left(planner, lock, live)
        if reason is not None:
            planner.note(f"{where}: {reason}")
            return
    columns = lock.primary_key.columns
    name = free or lock.primary_key.name or short_name(f"{live.name}_pkey")
    # Beside the current key, the new index needs a free name; adopting it renames it.
    built = name if former is None else planner.free_index_name(live, name)
    index = Index(name=built, keys=tuple(quote(c) for c in columns), unique=True)
    if planner.duplicates(live, index) is not None:
        return
    for column in columns:
        found = live.column(column)
        if found is not None and found.nullable:
            planner.set_not_null(live, column)
    build = index_op(live, index, True)
    planner.build_concurrently(live, f"unique index {built} for the primary key", build)
    adopt = fo.AddConstraintUsingIndex(live.schema, live.name, name, built, "PRIMARY KEY")
    if former is None:
        planner.add(Phase.KEYS, f"primary key {name} using its index", adopt)
        return
    old = former.name or short_name(f"{live.name}_pkey")
    listed = ", ".join(quote(c) for c in former.columns)
    drop = fo.Sql(
        f"ALTER TABLE {where} DROP CONSTRAINT {quote(old)}",
        # The downgrade builds the old key again, under ACCESS EXCLUSIVE (its index is gone).
        undo=f"ALTER TABLE {where} ADD CONSTRAINT {quote(old)} PRIMARY KEY ({listed})",
    )
    planner.add(
        Phase.KEYS,
        f"primary key {name} in place of {old} ({', '.join(former.columns)})",
        drop,
        adopt,
        hazards=[
            f"brief ACCESS EXCLUSIVE lock on {live.name}: the old primary key dropped and the "
            "new one adopted in one transaction (its columns are NOT NULL by then: no scan)"
        ],
    )


def key_left(planner: Planner, lock: Table, live: Table) -> str | None:
    """Why a primary key on other columns than the lock's is left for a person, or None when
    the plan swaps it.  PostgreSQL drops a primary key only with what depends on it: a foreign
    key pointing at its columns would have to be dropped and added again around the swap,
    which is a change of the referencing tables to make knowingly."""
    former = live.primary_key
    if former is None or lock.primary_key is None:
        return None
    if live.partition_by:
        return "a different primary key on a partitioned table: change it by hand"
    referencing = [
        f"{qualified(*source)} ({quote(name)})"
        for source, name, _, targets in planner.prover.references_to(live)
        if set(targets) == set(former.columns)
    ]
    if referencing:
        return (
            f"a different primary key, and {', '.join(referencing)} references the current "
            f"one ({', '.join(former.columns)}): change it by hand (drop those foreign keys, "
            "swap the key, add them again)"
        )
    return None


def missing_unique(planner: Planner, missing: d.MissingUnique, free: str | None = None) -> None:
    """Its unique index built concurrently, then adopted; `free` as for `primary_key`."""
    live, unique = missing.live, missing.unique
    name = free or unique.name or short_name(f"{live.name}_{'_'.join(unique.columns)}_key")
    index = Index(
        name=name,
        keys=tuple(quote(c) for c in unique.columns),
        unique=True,
        nulls_not_distinct=unique.nulls_not_distinct,
    )
    if planner.duplicates(live, index) is not None:
        return
    build = index_op(live, index, True)
    planner.build_concurrently(live, f"unique index {name} on {live.name}", build)
    adopt = fo.AddConstraintUsingIndex(live.schema, live.name, name, name, "UNIQUE")
    planner.add(Phase.CONSTRAINTS, f"unique constraint {name} using its index", adopt)


def check_changed(planner: Planner, changed: d.CheckChanged) -> None:
    """A missing or redefined check: added NOT VALID (new rows are checked at once), then
    validated in its own transaction, unless existing rows break it: then VALIDATE waits
    for them to be corrected, as it does for orphans.  One the lock marks `validated:
    false` stays NOT VALID, as the lock says."""
    live, check = changed.live, changed.lock_check
    target = qualified(live.schema, live.name)
    name = check.name or short_name(f"{live.name}_check")
    steps: list[MigrateOperation] = []
    former = next((c for c in live.checks if c.name == name), None)
    if former is not None:
        drop = fo.Sql(
            f"ALTER TABLE {target} DROP CONSTRAINT {quote(name)}",
            # Back NOT VALID: the rows it held for are unchanged, new ones checked.
            undo=f"ALTER TABLE {target} ADD CONSTRAINT {quote(name)} "
            f"CHECK ({former.expression}){_no_inherit(former)} NOT VALID",
        )
        if _in_the_way(planner, live, former):
            # Before the conversion of its columns, which would add it again and fail.
            planner.add(Phase.TYPES, f"drop check {name} before its columns change", drop)
        else:
            steps.append(drop)
    named = CheckConstraint(name=name, expression=check.expression, no_inherit=check.no_inherit)
    steps.append(check_op(live, named, True))
    title = f"{'redefine' if former else 'add'} check {name} NOT VALID"
    planner.add(Phase.CONSTRAINTS, title, *steps)
    if check.validated:
        _validate_check(planner, live, named, "it is added NOT VALID")


def check_around_conversion(planner: Planner, table: Table, check: CheckConstraint) -> None:
    """A check the lock keeps, as the database wrote it for a column's old type, which cannot
    run on the new one (ALTER TYPE would add it again and fail): dropped before the
    conversion, added after it as the lock defines it (NOT VALID, then validated, proven over
    the converted values).  Once, whichever of its columns' conversions asks."""
    assert check.name is not None
    target = qualified(table.schema, table.name)
    if not planner.once(f"check around conversion {target}.{quote(check.name)}"):
        return
    former = next(c for c in table.checks if c.name == check.name)
    drop = fo.Sql(
        f"ALTER TABLE {target} DROP CONSTRAINT {quote(check.name)}",
        undo=f"ALTER TABLE {target} ADD CONSTRAINT {quote(check.name)} "
        f"CHECK ({former.expression}){_no_inherit(former)} NOT VALID",
    )
    planner.add(Phase.TYPES, f"drop check {check.name} before its columns change", drop)
    named = CheckConstraint(check.expression, check.name, no_inherit=check.no_inherit)
    add = check_op(table, named, True)
    planner.add(Phase.CONSTRAINTS, f"add check {check.name} again NOT VALID", add)
    if check.validated:
        _validate_check(planner, table, named, "it is added NOT VALID")


def _no_inherit(check: CheckConstraint) -> str:
    """A check's NO INHERIT, as its DDL says it: put back as it was."""
    return " NO INHERIT" if check.no_inherit else ""


def _in_the_way(planner: Planner, table: Table, check: CheckConstraint) -> bool:
    """Whether the database's `check` would stop the plan's conversions of its columns: it
    cannot run on the converted values, or they break it (ALTER TYPE adds it again)."""
    source = planner.planned(table)
    if source is None:
        return False
    found = planner.prover.proof(table, f"NOT ({check.expression})", source)
    return found.unrunnable or (check.validated and found.count != 0)


def check_not_validated(planner: Planner, pending: d.CheckNotValidated) -> None:
    """A check the database holds NOT VALID, which the lock does not mark so: validated
    once no row is proven to break it; else left NOT VALID, with the count."""
    wanted, found = pending.lock_check, pending.live_check
    if wanted.validated:
        named = CheckConstraint(name=found.name, expression=wanted.expression)
        _validate_check(planner, pending.live, named, "it stays NOT VALID")


def _validate_check(planner: Planner, table: Table, check: CheckConstraint, state: str) -> None:
    """VALIDATE CONSTRAINT, proven first: rows breaking the check (its expression false)
    leave it NOT VALID, counted in a note."""
    assert check.name is not None
    target = qualified(table.schema, table.name)
    # Over the rows as the plan leaves them: a column it adds, holding its default; a
    # converted one, its converted values.
    condition = f"NOT ({canonical_sql(check.expression)})"
    breaking = planner.prover.proof(table, condition, planner.planned(table))
    if breaking.unrunnable:
        planner.refuse(
            f"check {check.name} on {target}",
            breaking,
            f"it cannot run on the columns as the plan leaves them ({breaking.why})",
        )
        return
    if breaking.count is None:
        planner.note(
            f"{target}: check {check.name} cannot be proven before the plan has run "
            f"({breaking.why}); {state}, so new rows are checked: run fix again once it has, "
            "to validate it"
        )
        return
    if breaking.count:
        keys = f" (keys: {', '.join(breaking.keys)})" if breaking.keys else ""
        planner.note(
            f"{target}: {rows_text(breaking.count)} break check {check.name}{keys}; {state}, "
            "so new rows are checked; once they are corrected, run fix again (or ALTER "
            f"TABLE {target} VALIDATE CONSTRAINT {quote(check.name)})"
        )
        return
    planner.validate(table, check.name, f"check {check.name}")


# Keys (PrimaryKeyChanged, MissingUnique) are registered by `indexes`, which builds a
# partitioned table's per partition and hands every other table's to `primary_key` and
# `missing_unique` here.
HANDLERS: dict[type[Any], Any] = {
    d.CheckChanged: check_changed,
    d.CheckNotValidated: check_not_validated,
}
