"""`snapshot`'s sections for views, functions and triggers, deterministically: sorted by key,
defaults left out, queries and bodies as literal blocks."""

from __future__ import annotations

from typing import Any

from schemalock.lock.yaml_style import Block, Flow, FlowList
from schemalock.model import DEFAULT_SCHEMA, Database, Index, names
from schemalock.model.routines import Routine
from schemalock.model.triggers import Trigger
from schemalock.model.views import View


def sections(database: Database) -> dict[str, Any]:
    """The `views:`, `functions:` and `triggers:` sections the database needs (none empty)."""
    found: dict[str, Any] = {}
    if database.views:
        found["views"] = {_key(*k): _view(v) for k, v in sorted(database.views.items())}
    if database.routines:
        found["functions"] = {
            _signature(r): _routine(r) for _, r in sorted(database.routines.items())
        }
    if database.triggers:
        by_table: dict[str, dict[str, Any]] = {}
        for (schema, table, name), trigger in sorted(database.triggers.items()):
            by_table.setdefault(_key(schema, table), {})[name] = _trigger(trigger)
        found["triggers"] = by_table
    return found


def _key(schema: str, name: str) -> str:
    return names.lock_name(name) if schema == DEFAULT_SCHEMA else names.lock_name(schema, name)


def _without_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def index_spec(index: Index) -> Flow:
    """An index as the lock writes it, under a table or a materialized view."""
    # One call per index (13,000 at 5,000 tables): the fields that say something, in order.
    spec = Flow(columns=FlowList(index.keys))
    if index.unique:
        spec["unique"] = index.unique
    if index.method != "btree":
        spec["method"] = index.method
    if index.where is not None:
        spec["where"] = index.where
    if index.include:
        spec["include"] = FlowList(index.include)
    if index.nulls_not_distinct:
        spec["nulls_not_distinct"] = index.nulls_not_distinct
    return spec


def _view(view: View) -> dict[str, Any]:
    return _without_none(
        materialized=view.materialized or None,
        options=Flow(view.options) if view.options else None,
        comment=view.comment,
        query=Block(view.query),
        indexes={i.name: index_spec(i) for i in view.indexes} or None,
    )


def _signature(routine: Routine) -> str:
    return f"{_key(routine.schema, routine.name)}({', '.join(routine.argument_types)})"


def _routine(routine: Routine) -> dict[str, Any]:
    plain = ", ".join(routine.argument_types)
    return _without_none(
        procedure=routine.procedure or None,
        # Only when it says more than the key: names, modes, defaults.
        arguments=routine.arguments if routine.arguments != plain else None,
        returns=routine.returns,
        language=routine.language,
        volatility=routine.volatility if routine.volatility != "volatile" else None,
        strict=routine.strict or None,
        security_definer=routine.security_definer or None,
        settings=Flow(routine.settings) if routine.settings else None,
        comment=routine.comment,
        body=Block(routine.body.strip("\n")),
    )


def _trigger(trigger: Trigger) -> Flow:
    return Flow(
        _without_none(
            timing=trigger.timing,
            events=FlowList(trigger.events),
            columns=FlowList(trigger.columns) if trigger.columns else None,
            level=None if trigger.row else "statement",
            function=trigger.function,
            arguments=FlowList(trigger.arguments) if trigger.arguments else None,
            when=trigger.when,
            enabled=trigger.enabled if trigger.enabled != "origin" else None,
            constraint=trigger.constraint or None,
            deferrable=trigger.deferrable or None,
            initially_deferred=trigger.initially_deferred or None,
            old_table=trigger.old_table,
            new_table=trigger.new_table,
        )
    )
