"""The statements that create and drop views, functions, procedures and triggers, spelled from
the model (the lock's definition, or the live one a downgrade puts back).

Bodies are dollar-quoted with a tag they do not hold; SQL-standard bodies (`BEGIN ATOMIC ...
END`, `RETURN ...`) are written as they are, after the routine's attributes, as PostgreSQL
requires.  Names are quoted with PostgreSQL's rules; trigger arguments and option values are
string literals.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from schemalock.fix.operations import literal
from schemalock.fix.plan.sql import canonical_sql
from schemalock.model import DEFAULT_SCHEMA, names
from schemalock.model.names import qualified, quote
from schemalock.model.routines import Routine
from schemalock.model.triggers import Trigger
from schemalock.model.views import View

# Settings whose value is a list of names, written unquoted as the catalog prints them
# (`search_path = public, pg_temp`): a quoted one would be a single name holding the commas.
T = TypeVar("T")
_LIST_SETTINGS = frozenset(
    {
        "search_path",
        "temp_tablespaces",
        "local_preload_libraries",
        "session_preload_libraries",
        "shared_preload_libraries",
    }
)
_OPTION_NAME = re.compile(r"[a-z_][a-z0-9_.]*\Z")
_STANDARD_BODY = re.compile(r"(BEGIN\s+ATOMIC\b|RETURN\b)", re.IGNORECASE)


class NotOneStatement(ValueError):
    """A definition from the lock that would not be the one statement it is meant to be (a
    query holding a `;` and more, an argument list closing early): never written."""


def spelled(refusals: list[str], what: str, spell: Callable[[], T]) -> T | None:
    """`spell()`, or None with `what` refused (appended to `refusals`) when the lock's
    definition would not be the one statement it is meant to be."""
    try:
        return spell()
    except (NotOneStatement, ValueError) as error:
        refusals.append(
            f"{what}: the lock's definition cannot be written as one statement ({error}): "
            "correct it in the lock"
        )
        return None


def one_statement(text: str, node: str) -> str:
    """`text` when PostgreSQL's parser reads it as exactly one statement of type `node`."""
    from pglast import parse_sql

    try:
        statements = parse_sql(text)
    except Exception as error:  # pglast's ParseError
        raise NotOneStatement(f"PostgreSQL's parser rejects it: {error}") from None
    if len(statements) != 1 or type(statements[0].stmt).__name__ != node:
        raise NotOneStatement("it is not one statement of its kind")
    return text


# -- views -------------------------------------------------------------------------------


def create_view(view: View, replace: bool = False) -> str:
    """CREATE [OR REPLACE] VIEW, or CREATE MATERIALIZED VIEW (populated: WITH DATA)."""
    kind = "MATERIALIZED VIEW" if view.materialized else "VIEW"
    verb = "CREATE OR REPLACE" if replace and not view.materialized else "CREATE"
    options = f" WITH ({option_list(view.options)})" if view.options else ""
    data = " WITH DATA" if view.materialized else ""
    statement = f"{verb} {kind} {qualified(view.schema, view.name)}{options} AS {view.query}{data}"
    return one_statement(statement, "CreateTableAsStmt" if view.materialized else "ViewStmt")


def drop_view(view: View) -> str:
    """Never CASCADE: what else depends on it stops the statement, and the plan with it."""
    kind = "MATERIALIZED VIEW" if view.materialized else "VIEW"
    return f"DROP {kind} {qualified(view.schema, view.name)}"


def option_list(options: tuple[tuple[str, str], ...]) -> str:
    """`security_barrier = 'true', check_option = 'local'`: reloptions as WITH (...) takes them."""
    for name, _ in options:
        if not _OPTION_NAME.match(name):
            raise ValueError(f"not an option name: {name!r}")
    return ", ".join(f"{name} = {literal(value)}" for name, value in options)


def set_view_options(
    view: View, options: tuple[tuple[str, str], ...], unset: list[str]
) -> list[str]:
    """ALTER [MATERIALIZED] VIEW ... RESET (...), SET (...): `unset` reset, `options` set."""
    kind = "MATERIALIZED VIEW" if view.materialized else "VIEW"
    target = f"ALTER {kind} {qualified(view.schema, view.name)}"
    statements = []
    if unset:
        option_list(tuple((name, "") for name in unset))  # the same check of the names
        statements.append(f"{target} RESET ({', '.join(unset)})")
    if options:
        statements.append(f"{target} SET ({option_list(options)})")
    return statements


# -- functions and procedures ------------------------------------------------------------


def create_routine(routine: Routine, replace: bool = False) -> str:
    """CREATE [OR REPLACE] FUNCTION or PROCEDURE with every attribute the model holds."""
    verb = "CREATE OR REPLACE" if replace else "CREATE"
    kind = "PROCEDURE" if routine.procedure else "FUNCTION"
    parts = [f"{verb} {kind} {qualified(routine.schema, routine.name)}({_arguments(routine)})"]
    if not routine.procedure:
        parts.append(f"RETURNS {routine.returns}")
    parts.append(f"LANGUAGE {quote(routine.language)}")
    if not routine.procedure:
        parts.append(routine.volatility.upper())
        if routine.strict:
            parts.append("STRICT")
    if routine.security_definer:
        parts.append("SECURITY DEFINER")
    parts.extend(_setting(name, value) for name, value in routine.settings)
    parts.append(_body(routine))
    return one_statement("\n    ".join(parts), "CreateFunctionStmt")


def drop_routine(routine: Routine) -> str:
    kind = "PROCEDURE" if routine.procedure else "FUNCTION"
    return f"DROP {kind} {identity(routine)}"


def identity(routine: Routine) -> str:
    """`schema.name(type, type)`: how DROP, GRANT and COMMENT name one of its overloads."""
    types = ", ".join(routine.argument_types)
    return f"{qualified(routine.schema, routine.name)}({types})"


def _arguments(routine: Routine) -> str:
    return routine.arguments or ", ".join(routine.argument_types)


def _setting(name: str, value: str) -> str:
    if not _OPTION_NAME.match(name):
        raise ValueError(f"not a setting name: {name!r}")
    if name in _LIST_SETTINGS:
        return f"SET {name} = {value}"
    return f"SET {name} = {literal(value)}"


def _body(routine: Routine) -> str:
    body = routine.body
    if routine.language == "sql" and _STANDARD_BODY.match(body.lstrip()):
        return body.strip()
    tag = "$body$"
    while tag in body:
        tag = tag[:-1] + "_$"
    return f"AS {tag}{body}{tag}"


# -- triggers ----------------------------------------------------------------------------


def create_trigger(trigger: Trigger) -> str:
    """CREATE [CONSTRAINT] TRIGGER as the model defines it; its enabled state is apart."""
    events = []
    for event in trigger.events:
        if event == "update" and trigger.columns:
            events.append(f"UPDATE OF {', '.join(quote(c) for c in trigger.columns)}")
        else:
            events.append(event.upper())
    parts = [
        f"CREATE {'CONSTRAINT ' if trigger.constraint else ''}TRIGGER {quote(trigger.name)}",
        f"{trigger.timing.upper()} {' OR '.join(events)}",
        f"ON {qualified(trigger.schema, trigger.table)}",
    ]
    if trigger.constraint:
        parts.append("DEFERRABLE" if trigger.deferrable else "NOT DEFERRABLE")
        parts.append("INITIALLY DEFERRED" if trigger.initially_deferred else "INITIALLY IMMEDIATE")
    transitions = [
        f"{which} TABLE AS {quote(name)}"
        for which, name in (("OLD", trigger.old_table), ("NEW", trigger.new_table))
        if name
    ]
    if transitions:
        parts.append(f"REFERENCING {' '.join(transitions)}")
    parts.append(f"FOR EACH {'ROW' if trigger.row else 'STATEMENT'}")
    if trigger.when:
        parts.append(f"WHEN ({canonical_sql(trigger.when)})")
    arguments = ", ".join(literal(argument) for argument in trigger.arguments)
    parts.append(f"EXECUTE FUNCTION {trigger_function(trigger)}({arguments})")
    return one_statement(" ".join(parts), "CreateTrigStmt")


def trigger_function(trigger: Trigger) -> str:
    """The trigger function's name in SQL: the lock writes `name` (in public) or `schema.name`."""
    parts = names.split(trigger.function)
    if len(parts) == 1:
        parts = [DEFAULT_SCHEMA, *parts]
    return qualified(*parts)


def drop_trigger(trigger: Trigger) -> str:
    return f"DROP TRIGGER {quote(trigger.name)} ON {qualified(trigger.schema, trigger.table)}"


_ENABLE = {
    "origin": "ENABLE TRIGGER",
    "disabled": "DISABLE TRIGGER",
    "replica": "ENABLE REPLICA TRIGGER",
    "always": "ENABLE ALWAYS TRIGGER",
}


def enable_trigger(trigger: Trigger) -> str | None:
    """ALTER TABLE ... ENABLE/DISABLE TRIGGER to its state; None where it is the default."""
    if trigger.enabled == "origin":
        return None
    return set_trigger_state(trigger, trigger.enabled)


def set_trigger_state(trigger: Trigger, state: str) -> str:
    return (
        f"ALTER TABLE {qualified(trigger.schema, trigger.table)} "
        f"{_ENABLE[state]} {quote(trigger.name)}"
    )


def trigger_statements(trigger: Trigger) -> list[str]:
    """CREATE TRIGGER and, when it is not enabled as by default, its state."""
    state = enable_trigger(trigger)
    return [create_trigger(trigger), *([state] if state else [])]
