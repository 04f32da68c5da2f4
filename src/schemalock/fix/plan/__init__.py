"""From the comparison's differences to a plan of Alembic operations that repairs the structure
safely: one handler per difference type, one module per object kind.

Nothing is dropped but what the plan itself replaces (an invalid index, a constraint being
redefined); extra tables, columns, indexes and constraints are reported and left alone.  Rows
are never deleted or nulled unless `--orphans delete|set-null` asks for exactly that.  A step
the data forbids (values that would not convert, NULLs, duplicates) is refused with the rows
that forbid it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from schemalock.compare import differences as d
from schemalock.fix.plan import (
    aspects,
    columns,
    comments,
    constraints,
    foreign_keys,
    grants,
    identity,
    indexes,
    partial,
    partition_tables,
    partitions,
    routines,
    schemas,
    security,
    sequences,
    tables,
    types,
    views,
)
from schemalock.fix.plan.core import Orphans, Phase, Plan, Planner, Step

Handler = Callable[[Planner, Any], None]


# Every difference type the comparison yields has a handler: a repair, or a note saying what
# is left alone and why (a test holds the two lists together).
def _one_handler_each(*registries: dict[type[Any], Handler]) -> dict[type[d.Difference], Handler]:
    """The kinds' registries as one; a difference type two kinds claim is a bug, not an order."""
    merged: dict[type[d.Difference], Handler] = {}
    for registry in registries:
        twice = merged.keys() & registry.keys()
        if twice:
            raise AssertionError(f"two planner handlers for {sorted(k.__name__ for k in twice)}")
        merged.update(registry)
    return merged


HANDLERS = _one_handler_each(
    tables.HANDLERS,
    columns.HANDLERS,
    constraints.HANDLERS,
    indexes.HANDLERS,
    foreign_keys.HANDLERS,
    types.HANDLERS,
    views.HANDLERS,
    routines.HANDLERS,
    schemas.HANDLERS,
    comments.HANDLERS,
    security.HANDLERS,
    sequences.HANDLERS,
    grants.HANDLERS,
    partition_tables.HANDLERS,
    aspects.HANDLERS,
    identity.HANDLERS,
)
_NOTES_ONLY: frozenset[Handler] = frozenset(
    {
        tables.left_alone,
        types.extra_enum,
        types.domain_left_alone,
        foreign_keys.extra_foreign_key,
        *views.NOTES_ONLY,
        *routines.NOTES_ONLY,
        *schemas.NOTES_ONLY,
        *security.NOTES_ONLY,
        *sequences.NOTES_ONLY,
        *grants.NOTES_ONLY,
        *partition_tables.NOTES_ONLY,
        *aspects.NOTES_ONLY,
    }
)
# The difference types a plan repairs (the others are noted and left alone): what makes a
# rule `fixable`.
REPAIRED: frozenset[type[d.Difference]] = frozenset(
    kind for kind, handler in HANDLERS.items() if handler not in _NOTES_ONLY
)


def build(planner: Planner, differences: Iterable[d.Difference]) -> Plan:
    """Plan every difference, each by the handler of its type; a refused repair, and every
    repair that depends on one, is left out of the plan (`partial`), the refusals kept."""
    plan = planner.plan
    differences = tuple(differences)
    # What holds each new index's name, asked in one read rather than one read per index.
    new_indexes = [x for x in differences if isinstance(x, d.MissingIndex)]
    partitions.relations_ahead(planner, [(x.live.schema, x.index.name) for x in new_indexes])
    repairs = []
    for difference in differences:
        steps, refusals, notes = len(plan.steps), len(plan.refusals), len(plan.notes)
        HANDLERS[type(difference)](planner, _under_new_name(difference))
        repair = partial.Repair(difference, plan.steps[steps:], plan.refusals[refusals:])
        # Noted for a person, nothing made: what it would have provided is not there.
        repair.held = isinstance(difference, partial.HOLDS) and (
            not repair.steps and not repair.refusals and len(plan.notes) > notes
        )
        repairs.append(repair)
    dropped: set[int] = set()
    for repair, reason in partial.left_out(repairs, planner.refused_schemas):
        dropped |= {id(step) for step in repair.steps}
        if repair.refusals or not repair.steps:
            continue
        line = f"{partial.describe(repair.difference)}: {reason}"
        if reason.endswith(partial.HELD):  # left for a person with it, as it is
            planner.note(line)
        else:
            plan.left_out.append(line)
    plan.steps = [step for step in plan.steps if id(step) not in dropped]
    return plan


def _under_new_name(difference: d.Difference) -> d.Difference:
    """Inside a table being renamed, steps name it by its new name: the rename comes first."""
    if isinstance(difference, d.TableDifference) and not isinstance(difference, d.RenamedTable):
        lock, live = difference.lock, difference.live
        if live.name != lock.name:
            return replace(difference, live=replace(live, name=lock.name))
    return difference


__all__ = ["HANDLERS", "REPAIRED", "Orphans", "Phase", "Plan", "Planner", "Step", "build"]
