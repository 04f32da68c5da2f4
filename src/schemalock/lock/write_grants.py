"""`snapshot`'s `grants:` section, deterministically: per kind, objects and roles sorted,
privileges in a fixed order; `{privileges: [...], grantable: [...]}` when some are held WITH
GRANT OPTION."""

from __future__ import annotations

from typing import Any

from schemalock.lock.yaml_style import Flow, FlowList
from schemalock.model import DEFAULT_SCHEMA, Database, names
from schemalock.model.grants import GLOBAL, Grant

_SECTIONS = (
    ("table", "tables"),
    ("column", "columns"),
    ("sequence", "sequences"),
    ("function", "functions"),
    ("schema", "schemas"),
)


def sections(database: Database) -> dict[str, Any]:
    if not database.grants:
        return {}
    grants: dict[str, Any] = {}
    ordered = sorted(database.grants.values(), key=lambda g: g.key)
    for on, section in _SECTIONS:
        found: dict[str, dict[str, FlowList | Flow]] = {}
        for grant in (g for g in ordered if g.on == on):
            found.setdefault(_object(grant), {})[grant.role] = _held(grant)
        if found:
            grants[section] = found
    defaults: dict[str, Any] = {}
    for grant in (g for g in ordered if g.on == "default"):
        by_owner = defaults.setdefault(grant.schema, {})
        by_kind = by_owner.setdefault(grant.object, {})
        by_kind.setdefault(grant.column, {})[grant.role] = _held(grant)
    in_global = defaults.pop(GLOBAL, None)
    if defaults:
        grants["defaults"] = defaults
    if in_global:
        grants["global_defaults"] = in_global
    return {"grants": grants}


def _held(grant: Grant) -> FlowList | Flow:
    if not grant.grantable:
        return FlowList(grant.privileges)
    return Flow(privileges=FlowList(grant.privileges), grantable=FlowList(grant.grantable))


def _object(grant: Grant) -> str:
    """The key the lock writes the object under: qualified outside public."""
    if grant.on == "schema":
        return grant.schema
    if grant.on == "function":  # already `name(types)`
        if grant.schema == DEFAULT_SCHEMA:
            return grant.object
        return f"{names.lock_name(grant.schema)}.{grant.object}"
    parts = (grant.object, grant.column) if grant.on == "column" else (grant.object,)
    return (
        names.lock_name(*parts)
        if grant.schema == DEFAULT_SCHEMA
        else names.lock_name(grant.schema, *parts)
    )
