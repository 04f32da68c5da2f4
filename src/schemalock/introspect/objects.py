"""Rows of views.sql, functions.sql, triggers.sql and domains.sql -> the model's views,
routines, triggers and domains.  The queries run in `introspect()`, with the other bulk reads."""

from __future__ import annotations

from typing import Any

from schemalock.model import DEFAULT_SCHEMA, CheckConstraint, Domain, Index, definitions, names
from schemalock.model.routines import Routine
from schemalock.model.triggers import Trigger
from schemalock.model.types import live_type
from schemalock.model.views import View

_VOLATILITY = {"i": "immutable", "s": "stable", "v": "volatile"}
_ENABLED = {"O": "origin", "D": "disabled", "R": "replica", "A": "always"}
# pg_trigger.tgtype bits (TRIGGER_TYPE_* in PostgreSQL's trigger.h)
_ROW, _BEFORE, _INSTEAD = 1, 2, 64
_EVENT_BITS = (("insert", 4), ("update", 16), ("delete", 8), ("truncate", 32))


def body_fragment(server_version: int) -> str:
    """functions.sql's `{body}`: a SQL-standard body (PostgreSQL 14+) printed, else prosrc."""
    if server_version >= 140000:
        return (
            "CASE WHEN p.prosqlbody IS NOT NULL"
            " THEN pg_catalog.pg_get_function_sqlbody(p.oid) ELSE p.prosrc END"
        )
    return "p.prosrc"


def cloned_fragment(server_version: int) -> str:
    """triggers.sql's `{cloned}`: not a clone of a partitioned table's trigger (13+)."""
    return "t.tgparentid = 0" if server_version >= 130000 else "true"


def views(
    rows: list[tuple[Any, ...]], indexes: dict[int, list[Index]]
) -> dict[tuple[str, str], View]:
    """Views by (schema, name); one dropped since the snapshot (no query) is left out."""
    found = {}
    for oid, schema, name, materialized, query, options, comment in rows:
        if query is None:
            continue
        found[(schema, name)] = View(
            schema=schema,
            name=name,
            query=_query_text(query),
            materialized=materialized,
            options=tuple(sorted(_setting(option) for option in options)),
            indexes=tuple(indexes.get(oid, ())),
            comment=comment,
        )
    return found


def _query_text(printed: str) -> str:
    """pg_get_viewdef() output without its leading space and final semicolon."""
    return printed.strip().removesuffix(";").rstrip()


def _setting(text: str) -> tuple[str, str]:
    """`search_path=public, pg_temp` -> ("search_path", "public, pg_temp")."""
    name, _, value = text.partition("=")
    return name, value


def routines(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str, tuple[str, ...]], Routine]:
    found = {}
    for (
        schema,
        name,
        argument_types,
        arguments,
        procedure,
        returns,
        language,
        body,
        volatility,
        strict,
        security_definer,
        settings,
        comment,
    ) in rows:
        routine = Routine(
            schema=schema,
            name=name,
            argument_types=tuple(live_type(t) for t in argument_types),
            arguments=arguments or "",
            procedure=procedure,
            returns=None if procedure else returns,
            language=language,
            body=body or "",
            volatility=_VOLATILITY[volatility],
            strict=strict,
            security_definer=security_definer,
            settings=tuple(sorted(_setting(s) for s in settings)),
            comment=comment,
        )
        found[routine.key] = routine
    return found


def triggers(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str, str], Trigger]:
    """Triggers by (schema, relation, name); one dropped since the snapshot (no definition)
    is left out."""
    found = {}
    for (
        schema,
        relation,
        name,
        bits,
        columns,
        function_schema,
        function,
        enabled,
        is_constraint,
        deferrable,
        initially_deferred,
        old_table,
        new_table,
        definition,
    ) in rows:
        if definition is None:
            continue
        arguments, when = definitions.trigger_clauses(definition)
        timing = "instead of" if bits & _INSTEAD else "before" if bits & _BEFORE else "after"
        found[(schema, relation, name)] = Trigger(
            schema=schema,
            table=relation,
            name=name,
            timing=timing,
            events=tuple(event for event, bit in _EVENT_BITS if bits & bit),
            function=names.lock_name(function)
            if function_schema == DEFAULT_SCHEMA
            else names.lock_name(function_schema, function),
            columns=tuple(columns),
            row=bool(bits & _ROW),
            arguments=arguments,
            when=when,
            enabled=_ENABLED[enabled],
            constraint=is_constraint,
            deferrable=deferrable,
            initially_deferred=initially_deferred,
            old_table=old_table,
            new_table=new_table,
        )
    return found


def domain(
    schema: str,
    name: str,
    type_: str,
    not_null: bool,
    default: str | None,
    check_names: list[str],
    check_exprs: list[str],
) -> Domain:
    return Domain(
        schema=schema,
        name=name,
        type=live_type(type_),
        nullable=not not_null,
        default=default,
        checks=tuple(
            CheckConstraint(expression=e, name=n)
            for n, e in zip(check_names, check_exprs, strict=True)
        ),
    )
