"""The lock's `views:`, `functions:` and `triggers:` sections -> the model."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from schemalock.lock import fields
from schemalock.lock.paths import ConversionError, Path
from schemalock.model import DEFAULT_SCHEMA, names
from schemalock.model.routines import Routine
from schemalock.model.triggers import EVENTS, Trigger
from schemalock.model.types import UnknownType, canonical_type
from schemalock.model.views import View

if TYPE_CHECKING:
    from schemalock.lock.format import LockHead

Line = Callable[[Path], "int | None"]


def _split(text: str, path: Path) -> tuple[str, str]:
    try:
        return names.split_table(text, DEFAULT_SCHEMA)
    except names.NameError_ as error:
        raise ConversionError(str(error), path) from None


def views(spec: LockHead, line: Line) -> dict[tuple[str, str], View]:
    result = {}
    for key, view in spec.views.items():
        path: Path = ("views", key)
        schema, name = _split(key, path)
        if view.indexes and not view.materialized:
            raise ConversionError("only a materialized view has indexes", (*path, "indexes"))
        result[(schema, name)] = View(
            schema=schema,
            name=name,
            query=view.query,
            materialized=view.materialized,
            options=tuple(sorted(view.options.items())),
            indexes=tuple(
                fields.index(i_name, ix, path, line) for i_name, ix in view.indexes.items()
            ),
            comment=view.comment,
            line=line(path),
        )
    return result


def routines(
    spec: LockHead, line: Line, user_types: frozenset[str]
) -> dict[tuple[str, str, tuple[str, ...]], Routine]:
    result: dict[tuple[str, str, tuple[str, ...]], Routine] = {}
    for key, function in spec.functions.items():
        path: Path = ("functions", key)
        schema, name, types = signature(key, path, user_types)
        if function.procedure and function.returns is not None:
            raise ConversionError("a procedure returns nothing; drop `returns:`", path)
        if not function.procedure and function.returns is None:
            raise ConversionError("a function needs `returns:` (a procedure says so)", path)
        routine = Routine(
            schema=schema,
            name=name,
            argument_types=types,
            arguments=function.arguments if function.arguments is not None else "",
            procedure=function.procedure,
            returns=function.returns,
            language=function.language.strip().lower(),
            body=function.body,
            volatility=function.volatility,
            strict=function.strict,
            security_definer=function.security_definer,
            settings=tuple(sorted(function.settings.items())),
            comment=function.comment,
            line=line(path),
        )
        if routine.key in result:
            raise ConversionError(f"function {routine.signature} is listed twice", path)
        result[routine.key] = routine
    return result


def signature(
    text: str, path: Path, user_types: frozenset[str] = frozenset()
) -> tuple[str, str, tuple[str, ...]]:
    """`schema.name(type, ...)` -> (schema, name, canonical argument types)."""
    split = names.split_signature(text)
    if split is None:
        raise ConversionError(
            f"a function is keyed by its signature, `name(type, ...)`; {text!r} has no "
            "argument list (write `name()` for none)",
            path,
        )
    schema, name = _split(split[0], path)
    return schema, name, tuple(argument_type(t, user_types) for t in split[1])


def argument_type(spelling: str, user_types: frozenset[str] = frozenset()) -> str:
    """A type as format_type() prints it when it is one schemalock knows, else as written
    (whitespace made single)."""
    try:
        return canonical_type(spelling, user_types)
    except UnknownType:
        return " ".join(spelling.split())


def triggers(spec: LockHead, line: Line) -> dict[tuple[str, str, str], Trigger]:
    result = {}
    for table_key, by_name in spec.triggers.items():
        schema, table = _split(table_key, ("triggers", table_key))
        for name, trigger in by_name.items():
            path: Path = ("triggers", table_key, name)
            if trigger.columns and "update" not in trigger.events:
                raise ConversionError("`columns:` (UPDATE OF) needs `update` in `events`", path)
            if trigger.initially_deferred and not trigger.deferrable:
                raise ConversionError("`initially_deferred` needs `deferrable: true`", path)
            function_schema, function = _split(trigger.function, (*path, "function"))
            result[(schema, table, name)] = Trigger(
                schema=schema,
                table=table,
                name=name,
                timing=trigger.timing,
                events=tuple(e for e in EVENTS if e in trigger.events),
                function=names.lock_name(function)
                if function_schema == DEFAULT_SCHEMA
                else names.lock_name(function_schema, function),
                columns=tuple(trigger.columns),
                row=trigger.level == "row",
                arguments=tuple(trigger.arguments),
                when=trigger.when,
                enabled=trigger.enabled,
                constraint=trigger.constraint,
                deferrable=trigger.deferrable,
                initially_deferred=trigger.initially_deferred,
                old_table=trigger.old_table,
                new_table=trigger.new_table,
                line=line(path),
            )
    return result
