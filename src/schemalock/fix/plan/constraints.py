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


def primary_key(planner: Planner, changed: d.PrimaryKeyChanged) -> None:
    lock, live = changed.lock, changed.live
    if lock.primary_key is None:
        return
    where = qualified(live.schema, live.name)
    if live.primary_key is not None:
        planner.note(f"{where}: a different primary key: change it by hand")
        return
    columns = lock.primary_key.columns
    name = lock.primary_key.name or short_name(f"{live.name}_pkey")
    index = Index(name=name, keys=tuple(quote(c) for c in columns), unique=True)
    if planner.duplicates(live, index) is not None:
        return
    for column in columns:
        found = live.column(column)
        if found is not None and found.nullable:
            planner.set_not_null(live, column)
    build = index_op(live, index, True)
    planner.build_concurrently(live, f"unique index {name} for the primary key", build)
    adopt = fo.AddConstraintUsingIndex(live.schema, live.name, name, name, "PRIMARY KEY")
    planner.add(Phase.KEYS, f"primary key {name} using its index", adopt)


def missing_unique(planner: Planner, missing: d.MissingUnique) -> None:
    live, unique = missing.live, missing.unique
    name = unique.name or short_name(f"{live.name}_{'_'.join(unique.columns)}_key")
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
        steps.append(
            fo.Sql(
                f"ALTER TABLE {target} DROP CONSTRAINT {quote(name)}",
                # Back NOT VALID: the rows it held for are unchanged, new ones checked.
                undo=f"ALTER TABLE {target} ADD CONSTRAINT {quote(name)} "
                f"CHECK ({former.expression}) NOT VALID",
            )
        )
    named = CheckConstraint(name=name, expression=check.expression)
    steps.append(check_op(live, named, True))
    title = f"{'redefine' if former else 'add'} check {name} NOT VALID"
    planner.add(Phase.CONSTRAINTS, title, *steps)
    if check.validated:
        _validate_check(planner, live, named, "it is added NOT VALID")


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
    breaking = planner.prover.rows(table, f"NOT ({canonical_sql(check.expression)})")
    if breaking.count:
        keys = f" (keys: {', '.join(breaking.keys)})" if breaking.keys else ""
        planner.note(
            f"{target}: {rows_text(breaking.count)} break check {check.name}{keys}; {state}, "
            "so new rows are checked; once they are corrected, run fix again (or ALTER "
            f"TABLE {target} VALIDATE CONSTRAINT {quote(check.name)})"
        )
        return
    planner.validate(table, check.name, f"check {check.name}")


HANDLERS: dict[type[Any], Any] = {
    d.PrimaryKeyChanged: primary_key,
    d.MissingUnique: missing_unique,
    d.CheckChanged: check_changed,
    d.CheckNotValidated: check_not_validated,
}
