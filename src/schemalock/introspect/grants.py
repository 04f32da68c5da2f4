"""Rows of grants.sql -> the model's grants and the cluster's roles.  The query runs in
`introspect()`, with the other bulk reads."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from schemalock.model import names
from schemalock.model.grants import PUBLIC, Grant, builtin, ordered
from schemalock.model.types import live_type

Key = tuple[str, str, str, str, str]
_PUBLIC_SCHEMA: Key = ("public", "schema", "", "", "public")


def public_schema_default(server_version: int) -> frozenset[str]:
    """What PUBLIC holds on schema `public` in a new database: USAGE, and CREATE before
    PostgreSQL 15.  Not a grant: every database starts with it."""
    return frozenset({"usage"} if server_version >= 150000 else {"usage", "create"})


def grants(
    rows: list[tuple[Any, ...]], public_default: frozenset[str] = frozenset()
) -> tuple[dict[Key, Grant], frozenset[str]]:
    """Grants by key, and every role's name.  PUBLIC's `public_default` on schema `public` is
    left out (only what it holds beyond that is a grant).  In a global default access list
    of functions or types, what PUBLIC holds is a grant when it is not the built-in EXECUTE
    or USAGE (none, when revoked: `model.grants`)."""
    held: defaultdict[Key, set[str]] = defaultdict(set)
    grantable: defaultdict[Key, set[str]] = defaultdict(set)
    roles: set[str] = set()
    stored: set[Key] = set()  # PUBLIC's keys in the global access lists of functions, types
    for kind, schema, name, argument_types, detail, grantee, privilege, option in rows:
        if kind == "role":
            roles.add(privilege)
            continue
        if kind == "global":
            stored.add((schema, "default", name, detail, PUBLIC))
            continue
        role = grantee  # `public` for PUBLIC
        if kind == "function":
            types = ", ".join(live_type(t) for t in argument_types)
            name = f"{names.lock_name(name)}({types})"
        key = (schema, kind, name, detail, role)
        held[key].add(privilege.lower())
        if option:  # with several grantors, held with the option from any of them
            grantable[key].add(privilege.lower())
    held[_PUBLIC_SCHEMA] -= public_default
    for key in stored:
        held.setdefault(key, set())  # PUBLIC's privileges there are listed, none as well
    found = {
        key: Grant(
            schema=key[0],
            on=key[1],
            object=key[2],
            column=key[3],
            role=key[4],
            privileges=ordered(privileges),
            grantable=ordered(grantable[key]),
        )
        for key, privileges in held.items()
        if ordered(privileges) != builtin(key)
    }
    return found, frozenset(roles)
