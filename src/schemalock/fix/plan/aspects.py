"""Planning for a table's aspects besides columns' types and keys: a column's collation and the
table's storage parameters are repaired; exclusion constraints and a check's NO INHERIT are
left for a person, with the statements (adding an exclusion checks every row under an ACCESS
EXCLUSIVE lock and fails on conflicting ones; NO INHERIT changes what the children hold)."""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation

from schemalock.compare import differences as d
from schemalock.compare.aspects import comparable_options
from schemalock.fix import operations as fo
from schemalock.fix.plan import comments, routines, views
from schemalock.fix.plan.core import Phase, Planner
from schemalock.fix.plan.object_sql import option_list
from schemalock.model import Column, Table, exclusions, names
from schemalock.model.names import qualified, quote

# -- collation ---------------------------------------------------------------------------


def collation_changed(planner: Planner, changed: d.CollationChanged) -> None:
    """`ALTER COLUMN ... TYPE <its type> COLLATE ...`: no rewrite, its indexes rebuilt.  After
    a conversion (which gives the new type's default collation) only a collation the lock
    names is set, and the downgrade leaves the default for the conversion's undoing."""
    live, wanted, found = changed.live, changed.lock_column, changed.live_column
    converted = wanted.type != found.type
    if converted and wanted.collation is None:
        return  # the conversion gives the type's default
    where = qualified(live.schema, live.name, found.name)
    triggers, others = routines.column_users(planner, live, found.name)
    if others:
        planner.plan.refusals.append(
            f"{where} to collation {wanted.collation or 'default'}: used by "
            f"{', '.join(others)}, and PostgreSQL cannot change the collation of a column they "
            "use: drop them, apply, then run fix again (it creates them as the lock defines them)"
        )
        return
    statement = fo.Sql(
        collate(live, wanted, wanted.collation),
        undo=collate(live, wanted, None if converted else found.collation),
    )
    why = f"{where} changes collation"
    views.rebuild(
        planner, views.readers_of_column(planner, live.schema, live.name, found.name), why
    )
    for trigger in triggers:
        routines.rebuild_trigger(planner, trigger, why)
    planner.add(
        Phase.STRUCTURE,
        f"set the collation of {where} to {wanted.collation or 'its type default'}",
        statement,
        hazards=[
            f"ACCESS EXCLUSIVE lock on {live.name} while the indexes on {quote(found.name)} "
            "are rebuilt (no table rewrite: the values are unchanged)"
        ],
        long=True,
    )


def collate(table: Table, column: Column, collation: str | None) -> str:
    """The column as its type with `collation` (None: the type's default collation)."""
    clause = f" COLLATE {qualified(*names.split(collation))}" if collation is not None else ""
    return (
        f"ALTER TABLE {qualified(table.schema, table.name)} ALTER COLUMN {quote(column.name)} "
        f"TYPE {column.type}{clause}"
    )


# -- storage parameters ------------------------------------------------------------------


def options_changed(planner: Planner, changed: d.TableOptionsChanged) -> None:
    """One `ALTER TABLE ... RESET (...), SET (...)`, undone by the one that puts back what it
    changed."""
    live = changed.live
    forward = _set_options(live, changed.lock.options, live.options)
    backward = _set_options(live, live.options, changed.lock.options)
    if forward is None:
        return
    planner.add(
        Phase.STRUCTURE,
        f"set the storage parameters of {qualified(live.schema, live.name)}",
        fo.Sql(forward, undo=backward),
        hazards=[
            f"brief SHARE UPDATE EXCLUSIVE lock on {live.name} (ACCESS EXCLUSIVE for the few "
            "parameters that need it); no rewrite: a new fillfactor applies to pages written "
            "from then on"
        ],
    )


def _set_options(
    table: Table, wanted: tuple[tuple[str, str], ...], found: tuple[tuple[str, str], ...]
) -> str | None:
    """The statement that takes `found` storage parameters to `wanted`; None for none."""
    want, have = comparable_options(wanted), comparable_options(found)
    written = dict(wanted)
    unset = sorted(have.keys() - want.keys())
    changed = tuple((k, written[k]) for k in sorted(want) if have.get(k) != want[k])
    actions = []
    if unset:
        option_list(tuple((name, "") for name in unset))  # the names checked
        actions.append(f"RESET ({', '.join(unset)})")
    if changed:
        actions.append(f"SET ({option_list(changed)})")
    if not actions:
        return None
    return f"ALTER TABLE {qualified(table.schema, table.name)} {', '.join(actions)}"


# -- exclusion constraints and NO INHERIT: left for a person ------------------------------


def exclusion_sql(exclusion: exclusions.ExclusionConstraint) -> str:
    return exclusions.as_sql(exclusion)


def missing_exclusion(planner: Planner, missing: d.MissingExclusion) -> None:
    live, wanted = missing.live, missing.exclusion
    target = qualified(live.schema, live.name)
    planner.note(
        f"exclusion constraint {quote(wanted.name or '')} on {target} is missing: adding it "
        "builds its index and checks every row under an ACCESS EXCLUSIVE lock, and fails on "
        f"the first rows that conflict; when that is acceptable, run `ALTER TABLE {target} ADD "
        f"CONSTRAINT {quote(wanted.name or '')} {exclusion_sql(wanted)}`"
    )


def exclusion_changed(planner: Planner, changed: d.ExclusionChanged) -> None:
    live, wanted, found = changed.live, changed.lock_exclusion, changed.live_exclusion
    target = qualified(live.schema, live.name)
    name = quote(found.name or "")
    planner.note(
        f"exclusion constraint {name} on {target} differs from the lock: redefining it builds "
        "its index and checks every row under an ACCESS EXCLUSIVE lock, and fails on rows "
        f"that conflict; when that is acceptable, run `ALTER TABLE {target} DROP CONSTRAINT "
        f"{name}, ADD CONSTRAINT {quote(wanted.name or found.name or '')} "
        f"{exclusion_sql(wanted)}`"
    )


def extra_exclusion(planner: Planner, extra: d.ExtraExclusion) -> None:
    target = qualified(extra.live.schema, extra.live.name)
    planner.note(
        f"exclusion constraint {quote(extra.exclusion.name or '')} on {target}: extra "
        "constraints are reported and left alone"
    )


def check_inheritance_changed(planner: Planner, changed: d.CheckInheritanceChanged) -> None:
    live, wanted, found = changed.live, changed.lock_check, changed.live_check
    target, name = qualified(live.schema, live.name), quote(found.name or "")
    inherit = " NO INHERIT" if wanted.no_inherit else ""
    children = (
        "the tables that inherit from it lose it"
        if wanted.no_inherit
        else "the tables that inherit from it gain it, and their rows are checked"
    )
    planner.note(
        f"check {name} on {target} is{'' if found.no_inherit else ' not'} NO INHERIT, unlike "
        f"the lock: it has to be dropped and added again, and {children}; when that is "
        f"acceptable, run `ALTER TABLE {target} DROP CONSTRAINT {name}, ADD CONSTRAINT {name} "
        f"CHECK ({wanted.expression}){inherit} NOT VALID` then `ALTER TABLE {target} VALIDATE "
        f"CONSTRAINT {name}`"
    )


def created(planner: Planner, table: Table) -> None:
    """A table the plan creates, with the collations and storage parameters the lock gives
    it (its exclusion constraints cost nothing on no rows: added at once).  Dropped with the
    table, nothing to undo of their own."""
    target = qualified(table.schema, table.name)
    operations: list[MigrateOperation] = [
        fo.Sql(collate(table, column, column.collation))
        for column in table.columns
        if column.collation is not None
    ]
    options = _set_options(table, table.options, ())
    if options is not None:
        operations.append(fo.Sql(options))
    operations += [
        fo.Sql(f"ALTER TABLE {target} ADD CONSTRAINT {quote(x.name or '')} {exclusion_sql(x)}")
        for x in table.exclusions
        if x.name
    ]
    if operations:
        planner.add(Phase.STRUCTURE, f"collations, options and exclusions of {target}", *operations)


def added_column(planner: Planner, table: Table, column: Column) -> None:
    """A column the plan adds, with the collation and comment the lock gives it."""
    if column.collation is not None:
        planner.add(
            Phase.STRUCTURE,
            f"collation of {qualified(table.schema, table.name, column.name)}",
            fo.Sql(collate(table, column, column.collation)),
        )
    comments.created(planner, "column", (*table.key, column.name), column.comment)


HANDLERS: dict[type[Any], Any] = {
    d.CollationChanged: collation_changed,
    d.TableOptionsChanged: options_changed,
    d.MissingExclusion: missing_exclusion,
    d.ExclusionChanged: exclusion_changed,
    d.ExtraExclusion: extra_exclusion,
    d.CheckInheritanceChanged: check_inheritance_changed,
}
NOTES_ONLY: frozenset[Any] = frozenset(
    {missing_exclusion, exclusion_changed, extra_exclusion, check_inheritance_changed}
)
