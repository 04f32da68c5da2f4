"""Functions, procedures and triggers: created, replaced, or dropped and created again.

`CREATE OR REPLACE` where PostgreSQL allows it: a routine keeping its kind, its return type and
its argument list (names, modes, defaults); its privileges and what uses it stay.  Otherwise
the routine is dropped and created again: the views calling it are rebuilt around it
(`views.rebuild`), the triggers executing it dropped first and created again after, its
privileges given back; anything else using it (a default, a check, an index, a policy) would
make PostgreSQL refuse the drop, so the plan refuses it first, naming them.

A trigger whose enabled state alone differs is enabled or disabled; another difference drops
it and creates it as the lock defines it, in one transaction.  Triggers are created last, once
the plan's own data steps are done: none of them fires a trigger the plan creates.  Extra
routines and triggers are reported and left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemalock import db
from schemalock.compare import differences as d
from schemalock.fix import dependencies
from schemalock.fix import operations as fo
from schemalock.fix.plan import comments, object_sql, views
from schemalock.fix.plan.core import Phase, Planner, Step
from schemalock.model import DEFAULT_SCHEMA, Table, names
from schemalock.model.names import qualified, quote
from schemalock.model.routines import Routine
from schemalock.model.triggers import Trigger

_SHARED = "triggers"
# DETACH order: views first (negative orders, deepest first), then triggers, then routines.
_TRIGGERS_DROPPED, _ROUTINES_DROPPED = 1_000_000, 2_000_000
# What makes `CREATE OR REPLACE` refuse: another return type (OUT arguments included), a
# procedure for a function, renamed arguments or removed defaults.
_DROP_ASPECTS = frozenset({"kind", "returns", "arguments"})


@dataclass
class _Triggers:
    rebuilt: set[tuple[str, str, str]] = field(default_factory=set)
    in_place: dict[tuple[str, str, str], list[Step]] = field(default_factory=dict)


# -- functions and procedures ------------------------------------------------------------


def missing_routine(planner: Planner, missing: d.MissingRoutine) -> None:
    routine = missing.lock
    planner.create_schema(routine.schema)
    created = _statement(planner, routine)
    if created is not None:
        planner.add(
            Phase.ROUTINES,
            f"create {routine.kind} {_named(routine)}",
            fo.Sql(created, undo=object_sql.drop_routine(routine)),
            hazards=[],
        )
        comments.created(
            planner, routine.kind, (routine.schema, routine.name), routine.comment,
            routine.argument_types,
        )  # fmt: skip


def routine_changed(planner: Planner, changed: d.RoutineChanged) -> None:
    want, have = changed.lock, changed.live
    if changed.aspects & _DROP_ASPECTS:
        _recreate(planner, want, have, changed.aspects & _DROP_ASPECTS)
        return
    replaced = _statement(planner, want, replace=True)
    if replaced is not None:
        planner.add(
            Phase.ROUTINES,
            f"replace {want.kind} {_named(want)} ({', '.join(sorted(changed.aspects))})",
            fo.Sql(replaced, undo=object_sql.create_routine(have, replace=True)),
            hazards=[],
        )


def _recreate(planner: Planner, want: Routine, have: Routine, why: frozenset[str]) -> None:
    identity = object_sql.identity(have)
    blocking = dependencies.other_users(planner.prover, identity)
    if blocking:
        planner.plan.refusals.append(
            f"{have.kind} {_named(have)}: its {', '.join(sorted(why))} change, so it must be "
            f"dropped and created again, and PostgreSQL refuses to drop it while "
            f"{'; '.join(blocking)} use it: change those by hand, then run fix again"
        )
        return
    created = _statement(planner, want)
    if created is None:
        return
    reason = f"{have.kind} {_named(have)} is dropped and created again"
    views.rebuild(planner, views.readers_of_routine(planner, have.key), reason)
    for trigger in _executing(planner, have):
        rebuild_trigger(planner, trigger, reason)
    back = _privileges(planner, have)
    if have.comment is not None:  # dropped with it: the downgrade gives it back
        back.append(
            f"COMMENT ON {have.kind.upper()} {object_sql.identity(have)} IS "
            f"{fo.literal(have.comment)}"
        )
    planner.add(
        Phase.DETACH,
        f"drop {have.kind} {_named(have)}, created again after: its "
        f"{', '.join(sorted(why))} change",
        # The downgrade runs them backwards, after the CREATE: the REVOKE first, as written.
        *(fo.OnDowngrade(text) for text in reversed(back)),
        fo.Sql(object_sql.drop_routine(have), undo=object_sql.create_routine(have)),
        hazards=[f"{have.kind} {_named(have)} is absent while the migration runs"],
        order=_ROUTINES_DROPPED,
    )
    planner.add(
        Phase.ROUTINES,
        f"create {want.kind} {_named(want)} again",
        fo.Sql(created, undo=object_sql.drop_routine(want)),
        *(fo.Sql(text) for text in back if not text.startswith("COMMENT ON")),
        hazards=[],
    )
    comments.created(
        planner, want.kind, (want.schema, want.name), want.comment, want.argument_types
    )


def _privileges(planner: Planner, routine: Routine) -> list[str]:
    """The statements that give a routine created again its live privileges: the default
    (EXECUTE to PUBLIC) revoked first when its access list was not the default."""
    from schemalock.fix.plan.grants import grant_statements

    granted = [
        grant
        for grant in planner.live.grants.values()
        if grant.schema == routine.schema
        and grant.on == "function"
        and grant.object == routine.signature
    ]
    statements = []
    if not _default_privileges(planner, object_sql.identity(routine)):
        kind = "PROCEDURE" if routine.procedure else "FUNCTION"
        statements.append(f"REVOKE ALL ON {kind} {object_sql.identity(routine)} FROM PUBLIC")
    return statements + [s for grant in granted for s in grant_statements(grant)]


def _default_privileges(planner: Planner, identity: str) -> bool:
    with db.read_only(planner.prover.connection, planner.prover.timeouts, "fix") as conn:
        row = conn.execute(
            "SELECT proacl IS NULL FROM pg_catalog.pg_proc"
            " WHERE oid = pg_catalog.to_regprocedure(%s)",
            [identity],
        ).fetchone()
    return row is None or bool(row[0])


def _executing(planner: Planner, routine: Routine) -> list[Trigger]:
    """The live triggers that execute `routine` (a trigger function takes no arguments)."""
    if routine.argument_types or routine.procedure:
        return []
    return [
        trigger
        for trigger in planner.live.triggers.values()
        if _function_key(trigger) == (routine.schema, routine.name)
    ]


def _function_key(trigger: Trigger) -> tuple[str, str]:
    parts = names.split(trigger.function)
    return (DEFAULT_SCHEMA, parts[0]) if len(parts) == 1 else (parts[0], parts[1])


def extra_routine(planner: Planner, extra: d.ExtraRoutine) -> None:
    planner.note(
        f"{extra.live.kind} {_named(extra.live)}: extra functions are reported and left alone"
    )


def _statement(planner: Planner, routine: Routine, replace: bool = False) -> str | None:
    return object_sql.spelled(
        planner.plan.refusals,
        f"{routine.kind} {_named(routine)}",
        lambda: object_sql.create_routine(routine, replace=replace),
    )


def _named(routine: Routine) -> str:
    return f"{qualified(routine.schema)}.{routine.signature}"


# -- triggers ----------------------------------------------------------------------------


def missing_trigger(planner: Planner, missing: d.MissingTrigger) -> None:
    trigger = missing.lock
    if _taken_care_of(planner, trigger):
        return
    statements = _trigger_statements(planner, trigger)
    if statements is None:
        return
    before = len(planner.plan.steps)
    planner.add(
        Phase.TRIGGERS,
        f"create trigger {quote(trigger.name)} on {_on(trigger)}",
        fo.Sql(statements[0], undo=object_sql.drop_trigger(trigger)),
        *(fo.Sql(text) for text in statements[1:]),
        hazards=[f"brief SHARE ROW EXCLUSIVE lock on {_on(trigger)}"],
    )
    _planned(planner, trigger, planner.plan.steps[before:])


def trigger_changed(planner: Planner, changed: d.TriggerChanged) -> None:
    want, have = changed.lock, changed.live
    if _taken_care_of(planner, want):
        return
    before = len(planner.plan.steps)
    if changed.aspects == {"enabled"}:
        planner.add(
            Phase.TRIGGERS,
            f"trigger {quote(want.name)} on {_on(want)}: {want.enabled}",
            fo.Sql(
                object_sql.set_trigger_state(want, want.enabled),
                undo=object_sql.set_trigger_state(have, have.enabled),
            ),
            hazards=[f"brief SHARE ROW EXCLUSIVE lock on {_on(want)}"],
        )
    else:
        statements = _trigger_statements(planner, want)
        if statements is None:
            return
        given_back = object_sql.trigger_statements(have)
        planner.add(
            Phase.TRIGGERS,
            f"create trigger {quote(want.name)} on {_on(want)} again "
            f"({', '.join(sorted(changed.aspects))})",
            *(fo.OnDowngrade(text) for text in given_back[1:]),
            fo.Sql(object_sql.drop_trigger(have), undo=given_back[0]),
            fo.Sql(statements[0], undo=object_sql.drop_trigger(want)),
            *(fo.Sql(text) for text in statements[1:]),
            hazards=[f"brief SHARE ROW EXCLUSIVE lock on {_on(want)}"],
        )
    _planned(planner, want, planner.plan.steps[before:])


def extra_trigger(planner: Planner, extra: d.ExtraTrigger) -> None:
    planner.note(
        f"trigger {quote(extra.live.name)} on {_on(extra.live)}: extra triggers are reported "
        "and left alone"
    )


def rebuild_trigger(planner: Planner, live: Trigger, why: str) -> None:
    """Drop a live trigger before what it executes is dropped, and create it after (the
    lock's definition where it lists it), superseding what its own difference planned."""
    state = _state(planner)
    if live.key in state.rebuilt or views.is_rebuilt(planner, (live.schema, live.table)):
        return  # the view it is on is rebuilt, and gives it back
    wanted = planner.lock.database.triggers.get(live.key, live)
    statements = _trigger_statements(planner, wanted)
    if statements is None:
        return
    state.rebuilt.add(live.key)
    for step in state.in_place.pop(live.key, []):
        if step in planner.plan.steps:
            planner.plan.steps.remove(step)
    given_back = object_sql.trigger_statements(live)
    planner.add(
        Phase.DETACH,
        f"drop trigger {quote(live.name)} on {_on(live)}, created again after: {why}",
        *(fo.OnDowngrade(text) for text in given_back[1:]),
        fo.Sql(object_sql.drop_trigger(live), undo=given_back[0]),
        hazards=[f"trigger {quote(live.name)} does not fire while the migration runs"],
        order=_TRIGGERS_DROPPED,
    )
    planner.add(
        Phase.TRIGGERS,
        f"create trigger {quote(wanted.name)} on {_on(wanted)} again",
        fo.Sql(statements[0], undo=object_sql.drop_trigger(wanted)),
        *(fo.Sql(text) for text in statements[1:]),
        hazards=[],
    )


def _planned(planner: Planner, trigger: Trigger, steps: list[Step]) -> None:
    """Steps a trigger's own difference planned: superseded if it is rebuilt after all (with
    the routine it executes, or the view it is on)."""
    _state(planner).in_place[trigger.key] = steps
    views.planned_for(planner, (trigger.schema, trigger.table), steps)


def column_users(planner: Planner, table: Table, column: str) -> tuple[list[Trigger], list[str]]:
    """What uses a column: the live triggers (rebuilt around a conversion), and the rest
    (policies: refused)."""
    triggers, others = [], []
    relation = qualified(table.schema, table.name)
    for kind, name in dependencies.column_users(planner.prover, relation, column):
        trigger = planner.live.triggers.get((table.schema, table.name, name))
        if kind == "trigger" and trigger is not None:
            triggers.append(trigger)
        else:  # a policy, a function, or a trigger the model does not hold (a clone)
            others.append(f"{kind} {name if kind == 'function' else quote(name)}")
    return triggers, others


def _taken_care_of(planner: Planner, trigger: Trigger) -> bool:
    """Whether the trigger is created again already: by the rebuild of the routine it
    executes, or of the view it is on."""
    return trigger.key in _state(planner).rebuilt or views.is_rebuilt(
        planner, (trigger.schema, trigger.table)
    )


def _trigger_statements(planner: Planner, trigger: Trigger) -> list[str] | None:
    where = f"trigger {quote(trigger.name)} on {_on(trigger)}"
    return object_sql.spelled(
        planner.plan.refusals, where, lambda: object_sql.trigger_statements(trigger)
    )


def _on(trigger: Trigger) -> str:
    return qualified(trigger.schema, trigger.table)


def _state(planner: Planner) -> _Triggers:
    state = planner.shared.setdefault(_SHARED, _Triggers())
    assert isinstance(state, _Triggers)
    return state


HANDLERS: dict[type[Any], Any] = {
    d.MissingRoutine: missing_routine,
    d.ExtraRoutine: extra_routine,
    d.RoutineChanged: routine_changed,
    d.MissingTrigger: missing_trigger,
    d.ExtraTrigger: extra_trigger,
    d.TriggerChanged: trigger_changed,
}
NOTES_ONLY: frozenset[Any] = frozenset({extra_routine, extra_trigger})
