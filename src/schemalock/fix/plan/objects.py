"""Views, routines, triggers and schemas: not repaired by `fix` yet.  Each difference is left
for a person with a note saying what to run, the lock's definition included; nothing is
created, replaced or dropped (rules say `fixable = False`)."""

from __future__ import annotations

from typing import Any

from schemalock.compare import differences as d
from schemalock.fix.plan.core import Planner
from schemalock.model.names import qualified


def view_left_alone(planner: Planner, difference: d.Difference) -> None:
    subject = difference.subject
    where = f"{subject.kind} {qualified(subject.schema, subject.name)}"
    if isinstance(difference, d.ExtraView):
        planner.note(f"{where}: extra views are reported and left alone")
        return
    assert isinstance(difference, d.MissingView | d.ViewChanged)
    view = difference.lock
    statement = (
        "CREATE MATERIALIZED VIEW" if view.materialized else "create or replace it: CREATE VIEW"
    )
    planner.note(
        f"{where}: views are not repaired by fix yet: {statement} by hand, as the lock "
        f"defines it: {' '.join(view.query.split())}"
    )


def routine_left_alone(planner: Planner, difference: d.Difference) -> None:
    subject = difference.subject
    where = f"{subject.kind} {qualified(subject.schema)}.{subject.name}"
    if isinstance(difference, d.ExtraRoutine):
        planner.note(f"{where}: extra functions are reported and left alone")
        return
    planner.note(
        f"{where}: functions are not repaired by fix yet: create or replace it by hand "
        "(CREATE OR REPLACE FUNCTION; drop and create when its return type changes), as the "
        "lock defines it"
    )


def trigger_left_alone(planner: Planner, difference: d.Difference) -> None:
    subject = difference.subject
    where = f"trigger {qualified(subject.name)} on {qualified(subject.schema, subject.table)}"
    if isinstance(difference, d.ExtraTrigger):
        planner.note(f"{where}: extra triggers are reported and left alone")
        return
    planner.note(
        f"{where}: triggers are not repaired by fix yet: create it by hand (CREATE OR REPLACE "
        "TRIGGER), as the lock defines it"
    )


def schema_left_alone(planner: Planner, difference: d.Difference) -> None:
    schema = qualified(difference.subject.schema)
    if isinstance(difference, d.MissingSchema):
        planner.note(f"schema {schema}: missing; CREATE SCHEMA {schema} by hand")
    else:
        planner.note(f"schema {schema}: not in the lock; reported and left alone")


HANDLERS: dict[type[Any], Any] = {
    d.MissingView: view_left_alone,
    d.ExtraView: view_left_alone,
    d.ViewChanged: view_left_alone,
    d.MissingRoutine: routine_left_alone,
    d.ExtraRoutine: routine_left_alone,
    d.RoutineChanged: routine_left_alone,
    d.MissingTrigger: trigger_left_alone,
    d.ExtraTrigger: trigger_left_alone,
    d.TriggerChanged: trigger_left_alone,
    d.MissingSchema: schema_left_alone,
    d.ExtraSchema: schema_left_alone,
}
# Every handler here only notes: none repairs (what makes the rules not `fixable`).
NOTES_ONLY: frozenset[Any] = frozenset(HANDLERS.values())
