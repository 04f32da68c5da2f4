"""Views and materialized views: created, replaced in place where PostgreSQL allows it, else
dropped and created again together with every view that reads them.

`CREATE OR REPLACE VIEW` keeps a view's privileges and the views over it, but only when its
columns keep their names, types and number (PostgreSQL refuses a rename, a retype or a removed
column; an added one could not be taken back by the downgrade's own `OR REPLACE`).  The lock's
query is described on the live database (LIMIT 0, read-only) to decide.  Otherwise, and for a
materialized view (which has no `OR REPLACE`), the view is rebuilt: it and the views reading
it, however indirectly (`pg_depend`), are dropped before the structure changes, in reverse
order of their dependencies, and created after, in order, with their privileges, comments,
indexes and triggers back.  The same rebuild lets a column a view reads change its type.
Extra views are reported and left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alembic.operations import MigrateOperation

from schemalock.compare import differences as d
from schemalock.fix import dependencies
from schemalock.fix import operations as fo
from schemalock.fix.plan import comments, object_sql
from schemalock.fix.plan.core import Phase, Planner, Step
from schemalock.fix.plan.partitions import index_sql
from schemalock.fix.plan.sql import index_op
from schemalock.model import Index, Table, definitions
from schemalock.model.grants import Grant
from schemalock.model.names import qualified, quote
from schemalock.model.triggers import Trigger
from schemalock.model.views import View

Key = tuple[str, str]
_SHARED = "views"


@dataclass
class _Views:
    """What the view handlers share across one plan."""

    graph: dependencies.Dependencies
    levels: dict[Key, int]
    rebuilt: set[Key] = field(default_factory=set)  # dropped, then created again
    # Steps a view's own difference planned in place (OR REPLACE, options, indexes), and
    # the steps of the triggers of a view: superseded when the view is rebuilt after all.
    in_place: dict[Key, list[Step]] = field(default_factory=dict)


def missing_view(planner: Planner, missing: d.MissingView) -> None:
    view = missing.lock
    planner.create_schema(view.schema)
    statement = _statement(planner, view, lambda: object_sql.create_view(view))
    if statement is None:
        return
    operations: list[MigrateOperation] = [
        fo.Sql(statement, undo=object_sql.drop_view(view)),
        *_indexes(view, view.indexes),
    ]
    planner.add(
        Phase.VIEWS,
        f"create {view.kind} {qualified(view.schema, view.name)}",
        *operations,
        hazards=_populated(view),
        order=_state(planner).levels.get(view.key, 0),
    )
    comments.created(planner, view.kind, view.key, view.comment)


def view_changed(planner: Planner, changed: d.ViewChanged) -> None:
    want, have = changed.lock, changed.live
    state = _state(planner)
    if want.key in state.rebuilt:
        return  # rebuilt with the lock's definition already
    aspects = changed.aspects
    if "kind" in aspects or ("query" in aspects and not _replaceable(planner, want, have)):
        rebuild(planner, {want.key}, f"its definition changes ({', '.join(sorted(aspects))})")
        return
    before = len(planner.plan.steps)
    where = f"{want.kind} {qualified(want.schema, want.name)}"
    if "query" in aspects:
        statement = _statement(planner, want, lambda: object_sql.create_view(want, replace=True))
        if statement is None:
            return
        planner.add(
            Phase.VIEWS,
            f"replace {where} (CREATE OR REPLACE: same columns)",
            fo.Sql(statement, undo=object_sql.create_view(have, replace=True)),
            hazards=[f"brief ACCESS EXCLUSIVE lock on {want.name}"],
            order=state.levels.get(want.key, 0),
        )
    if "options" in aspects:
        _options(planner, want, have)
    if "indexes" in aspects:
        _changed_indexes(planner, want, have)
    state.in_place.setdefault(want.key, []).extend(planner.plan.steps[before:])


def extra_view(planner: Planner, extra: d.ExtraView) -> None:
    view = extra.live
    planner.note(
        f"{view.kind} {qualified(view.schema, view.name)}: extra views are reported and left alone"
    )


def rebuild(planner: Planner, roots: set[Key], why: str) -> set[Key]:
    """Drop `roots` and every view reading them before the structure changes, and create them
    again after, each as the lock defines it (as it was, for a view the lock does not list),
    with its privileges, comment, indexes and triggers.  Returns the views rebuilt."""
    state = _state(planner)
    views = state.graph.closure(roots) - state.rebuilt
    for key in sorted(views, key=lambda k: -state.levels.get(k, 0)):
        live = planner.live.views.get(key) or _elsewhere(planner, key)
        if live is None:
            continue  # not a view this plan read: PostgreSQL refuses, and says what
        wanted = planner.lock.database.views.get(key, live)
        created = _statement(planner, wanted, lambda w=wanted: object_sql.create_view(w))
        if created is None:
            continue
        state.rebuilt.add(key)
        for step in state.in_place.pop(key, []):
            if step in planner.plan.steps:
                planner.plan.steps.remove(step)
        _rebuild_one(planner, live, wanted, created, why)
    return views


def readers_of_column(planner: Planner, schema: str, table: str, column: str) -> set[Key]:
    """The views reading a column, however indirectly."""
    if not (planner.live.views or (planner.live.elsewhere and planner.live.elsewhere.views)):
        return set()
    return _state(planner).graph.readers_of_column(schema, table, column)


def readers_of_routine(planner: Planner, key: tuple[str, str, tuple[str, ...]]) -> set[Key]:
    """The views calling a function, however indirectly."""
    if not (planner.live.views or (planner.live.elsewhere and planner.live.elsewhere.views)):
        return set()
    return _state(planner).graph.readers_of_routine(key)


def around_conversion(
    planner: Planner, table: Table, column: str, new_type: str, where: str
) -> bool:
    """Rebuild the views reading a column that changes type (PostgreSQL refuses the change
    under them), once each is known to be creatable again over the new type: False (refused,
    naming the view and PostgreSQL's reason) when one is not, e.g. `c > 0` over text."""
    readers = readers_of_column(planner, table.schema, table.name, column)
    levels = _state(planner).levels
    # Upstream first, each view as it will read: a view over a view over the column is
    # asked over its reader's converted query, not over the reader as it is today.
    shadows = {(table.schema, table.name): definitions.converted(table, column, new_type)}
    for key in sorted(readers, key=lambda k: (levels.get(k, 0), k)):
        view = planner.lock.database.views.get(key) or planner.live.views.get(key)
        if view is None:
            continue
        over = definitions.over_shadows(view.query, shadows)
        if over is None:
            continue
        shadows[key] = over
        why = dependencies.failure(planner.prover, over)
        if why is not None:
            planner.plan.refusals.append(
                f"{where} to {new_type}: {view.kind} {qualified(*key)} reads it and could not be "
                f"created again over {new_type} ({why}): change its definition"
                + (" in the lock" if key in planner.lock.database.views else " or drop it")
                + " by hand, then run fix again"
            )
            return False
    rebuild(planner, readers, f"{where} changes type")
    return True


def is_rebuilt(planner: Planner, key: Key) -> bool:
    """Whether the view `key` is dropped and created again by this plan."""
    return key in planner.live.views and key in _state(planner).rebuilt


def planned_for(planner: Planner, key: Key, steps: list[Step]) -> None:
    """Steps another kind planned on the view `key` (its triggers): superseded if it is
    rebuilt after all, which gives its triggers back itself."""
    if key in planner.live.views:
        _state(planner).in_place.setdefault(key, []).extend(steps)


def _rebuild_one(planner: Planner, live: View, wanted: View, created: str, why: str) -> None:
    state = _state(planner)
    name = qualified(live.schema, live.name)
    level = state.levels.get(live.key, 0)
    # The downgrade runs a step's operations backwards: the view first, then what it held,
    # in the order written (a trigger before its DISABLE), its indexes too.
    held = _restored(planner, live) + [_index_sql(live, index) for index in live.indexes]
    given_back = [fo.OnDowngrade(text) for text in reversed(held)]
    planner.add(
        Phase.DETACH,
        f"drop {live.kind} {name}, created again after: {why}",
        *given_back,
        fo.Sql(object_sql.drop_view(live), undo=object_sql.create_view(live)),
        hazards=[f"{live.kind} {name} is absent while the migration runs (ACCESS EXCLUSIVE)"],
        order=-level,
    )
    planner.add(
        Phase.VIEWS,
        f"create {wanted.kind} {name} again",
        fo.Sql(created, undo=object_sql.drop_view(wanted)),
        *_indexes(wanted, wanted.indexes),
        *(fo.Sql(text) for text in _restored(planner, wanted)),
        hazards=_populated(wanted),
        order=level,
    )


def _restored(planner: Planner, view: View) -> list[str]:
    """What dropping a view takes with it: its live privileges, its comment, its triggers (the
    lock's where it lists them), as the statements that give them back."""
    from schemalock.fix.plan.grants import grant_statements

    statements = [s for grant in _grants_of(planner, view) for s in grant_statements(grant)]
    if view.comment:
        kind = "MATERIALIZED VIEW" if view.materialized else "VIEW"
        statements.append(
            f"COMMENT ON {kind} {qualified(view.schema, view.name)} IS {fo.literal(view.comment)}"
        )
    for trigger in _triggers_of(planner, view):
        statements.extend(object_sql.trigger_statements(trigger))
    return statements


def _grants_of(planner: Planner, view: View) -> list[Grant]:
    return [
        grant
        for key, grant in planner.live.grants.items()
        if key[0] == view.schema and grant.on in ("table", "column") and grant.object == view.name
    ]


def _triggers_of(planner: Planner, view: View) -> list[Trigger]:
    found = {key: trigger for key, trigger in planner.live.triggers.items() if key[:2] == view.key}
    found.update(
        (key, trigger)
        for key, trigger in planner.lock.database.triggers.items()
        if key[:2] == view.key
    )
    return list(found.values())


def _elsewhere(planner: Planner, key: Key) -> View | None:
    return planner.live.elsewhere.views.get(key) if planner.live.elsewhere else None


def _replaceable(planner: Planner, want: View, have: View) -> bool:
    """Whether `CREATE OR REPLACE VIEW` can turn `have` into `want` and back: the same columns
    (names, types, modifiers), in the same order."""
    if want.materialized or have.materialized:
        return False
    new = dependencies.output_columns(planner.prover, want.query)
    old = dependencies.output_columns(planner.prover, have.query)
    return new is not None and new == old


def _options(planner: Planner, want: View, have: View) -> None:
    wanted, found = dict(want.options), dict(have.options)
    changed = tuple((k, v) for k, v in sorted(wanted.items()) if found.get(k) != v)
    unset = sorted(found.keys() - wanted.keys())
    undo_set = tuple((k, v) for k, v in sorted(found.items()) if wanted.get(k) != v)
    undo_unset = sorted(wanted.keys() - found.keys())
    # Each statement undone by the one that puts back what it changed.
    forward = object_sql.set_view_options(want, (), unset) + object_sql.set_view_options(
        want, changed, []
    )
    backward = object_sql.set_view_options(have, undo_set, []) + object_sql.set_view_options(
        have, (), undo_unset
    )
    # The downgrade runs a step's operations backwards: the options put back come last.
    operations: list[MigrateOperation] = [fo.OnDowngrade(text) for text in backward]
    operations += [fo.Sql(text) for text in forward]
    planner.add(
        Phase.VIEWS,
        f"set the options of {want.kind} {qualified(want.schema, want.name)}",
        *operations,
        hazards=[f"brief ACCESS EXCLUSIVE lock on {want.name}"],
        order=_state(planner).levels.get(want.key, 0),
    )


def _changed_indexes(planner: Planner, want: View, have: View) -> None:
    """A materialized view's indexes: each the lock lists that the view lacks (by name) is
    built, one of another definition dropped and built again; an extra one is left alone."""
    found = {index.name: index for index in have.indexes}
    wanted = {index.name for index in want.indexes}
    operations: list[MigrateOperation] = []
    for index in want.indexes:
        old = found.get(index.name)
        if old is not None and _same_index(old, index):
            continue
        if old is not None:
            drop = f"DROP INDEX {qualified(want.schema, old.name)}"
            operations.append(fo.Sql(drop, undo=_index_sql(have, old)))
        operations.extend(_indexes(want, (index,)))
    for name in sorted(found.keys() - wanted):
        planner.note(
            f"index {quote(name)} on materialized view {qualified(want.schema, want.name)}: "
            "extra indexes are reported and left alone"
        )
    if operations:
        planner.add(
            Phase.VIEWS,
            f"indexes of materialized view {qualified(want.schema, want.name)}",
            *operations,
            hazards=[f"index build on {qualified(want.schema, want.name)} (blocks its refresh)"],
            long=True,
        )


def _same_index(left: Index, right: Index) -> bool:
    from schemalock.compare.objects import view_aspects

    return not view_aspects(
        View("s", "v", "", True, indexes=(left,)), View("s", "v", "", True, indexes=(right,))
    )


def _index_sql(view: View, index: Index) -> str:
    """The live index's CREATE INDEX (the catalog's own key text), for the downgrade."""
    return index_sql(Table(schema=view.schema, name=view.name), index, from_lock=False)


def _indexes(view: View, indexes: tuple[Index, ...]) -> list[MigrateOperation]:
    table = Table(schema=view.schema, name=view.name)
    return [index_op(table, index, concurrently=False) for index in indexes]


def _populated(view: View) -> list[str]:
    if not view.materialized:
        return []
    return [f"materialized view {qualified(view.schema, view.name)} filled: its query runs"]


def _statement(planner: Planner, view: View, spell: Any) -> str | None:
    where = f"{view.kind} {qualified(view.schema, view.name)}"
    return object_sql.spelled(planner.plan.refusals, where, spell)


def _state(planner: Planner) -> _Views:
    state = planner.shared.get(_SHARED)
    if state is None:
        graph = dependencies.read(planner.prover)
        state = _Views(graph, _levels(planner, graph))
        planner.shared[_SHARED] = state
    assert isinstance(state, _Views)
    return state


def _levels(planner: Planner, graph: dependencies.Dependencies) -> dict[Key, int]:
    """Each view's depth in the graph of views reading views, the live database's and the
    lock's together: a view is created after, and dropped before, every view it reads."""
    reads: dict[Key, set[Key]] = {key: set(found) for key, found in graph.reads.items()}
    for key, view in planner.lock.database.views.items():
        reads.setdefault(key, set()).update(definitions.relations_read(view.query) or ())
    views = set(reads) | set(planner.live.views) | set(planner.lock.database.views)
    levels: dict[Key, int] = {}

    def level(key: Key, seen: frozenset[Key]) -> int:
        if key in levels:
            return levels[key]
        under = [level(k, seen | {key}) for k in reads.get(key, ()) if k in views and k not in seen]
        levels[key] = 1 + max(under, default=0)
        return levels[key]

    for key in views:
        level(key, frozenset())
    return levels


HANDLERS: dict[type[Any], Any] = {
    d.MissingView: missing_view,
    d.ExtraView: extra_view,
    d.ViewChanged: view_changed,
}
NOTES_ONLY: frozenset[Any] = frozenset({extra_view})
