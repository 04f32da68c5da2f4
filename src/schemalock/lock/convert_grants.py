"""The lock's `grants:` section -> the model's grants (`model.grants`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from schemalock.lock.convert_objects import signature
from schemalock.lock.paths import ConversionError, Path
from schemalock.model import DEFAULT_SCHEMA, names
from schemalock.model.grants import GLOBAL, Grant, builtin, ordered

if TYPE_CHECKING:
    from schemalock.lock.format import LockHead
    from schemalock.lock.format_grants import ByRole, Granted, Privilege

Line = Callable[[Path], "int | None"]
Key = tuple[str, str, str, str, str]


def grants(spec: LockHead, line: Line, user_types: frozenset[str]) -> dict[Key, Grant]:
    found: dict[Key, Grant] = {}
    for grant in _all(spec, line, user_types):
        if grant.key in found:
            raise ConversionError(
                f"the grants of {grant.role} on {grant.object or grant.schema} are listed twice",
                ("grants",),
            )
        found[grant.key] = grant
    return found


def _all(spec: LockHead, line: Line, user_types: frozenset[str]) -> Iterator[Grant]:
    given = spec.grants
    for on, section in (("table", given.tables), ("sequence", given.sequences)):
        for key, by_role in section.items():
            path: Path = ("grants", f"{on}s", key)
            schema, name = _named(names.split_table, key, path)
            yield from _per_role(by_role, line, path, schema, on, name)
    for key, by_role in given.columns.items():
        path = ("grants", "columns", key)
        schema, table, column = _named(names.split_column_ref, key, path)
        yield from _per_role(by_role, line, path, schema, "column", table, column)
    for key, by_role in given.functions.items():
        path = ("grants", "functions", key)
        schema, name, types = signature(key, path, user_types)
        yield from _per_role(by_role, line, path, schema, "function", function_object(name, types))
    for schema, by_role in given.schemas.items():
        yield from _per_role(by_role, line, ("grants", "schemas", schema), schema, "schema", "")
    for schema, by_owner in given.defaults.items():
        for owner, by_kind in by_owner.items():
            path = ("grants", "defaults", schema, owner)
            for kind, by_role in by_kind.items():
                yield from _per_role(by_role, line, path, schema, "default", owner, kind)
    for owner, by_kind in given.global_defaults.items():
        for kind, by_role in by_kind.items():
            path = ("grants", "global_defaults", owner, kind)
            yield from _per_role(by_role, line, path, GLOBAL, "default", owner, kind)


def function_object(name: str, types: tuple[str, ...] | list[str]) -> str:
    """A function grant's object: `name(type, ...)`, as a function's key in the lock."""
    return f"{names.lock_name(name)}({', '.join(types)})"


def _named(split: Callable[[str, str], tuple[str, ...]], text: str, path: Path) -> tuple[str, ...]:
    try:
        return split(text, DEFAULT_SCHEMA)
    except names.NameError_ as error:
        raise ConversionError(str(error), path) from None


def _per_role(
    by_role: ByRole,
    line: Line,
    path: Path,
    schema: str,
    on: str,
    name: str,
    column: str = "",
) -> Iterator[Grant]:
    for role, given in by_role.items():
        held, grantable = _held(given)
        if held == builtin((schema, on, name, column, role)) and not grantable:
            # `role: []`: nothing granted, as if not listed, but the role is named (and
            # PUBLIC's built-in EXECUTE of global default privileges, as if not listed)
            continue
        yield Grant(
            schema=schema,
            on=on,
            object=name,
            role=role,
            privileges=held,
            column=column,
            grantable=grantable,
            line=line((*path, role)[:4]),
        )


def _held(given: list[Privilege] | Granted) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(privileges, grantable): the grantable ones are held too, listed or not."""
    if isinstance(given, list):
        return ordered(given), ()
    return ordered([*given.privileges, *given.grantable]), ordered(given.grantable)


def named_roles(spec: LockHead) -> set[str]:
    """Every role `grants:` names (an empty list too: the role holds nothing)."""
    given = spec.grants
    roles: set[str] = set()
    for section in (given.tables, given.columns, given.sequences, given.functions, given.schemas):
        for by_role in section.values():
            roles |= set(by_role)
    for by_owner in [*given.defaults.values(), given.global_defaults]:
        for owner, by_kind in by_owner.items():
            roles.add(owner)
            for by_role in by_kind.values():
                roles |= set(by_role)
    return roles
