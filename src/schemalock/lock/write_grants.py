"""`snapshot`'s `grants:` section, deterministically: per kind, objects and roles sorted,
privileges in a fixed order."""

from __future__ import annotations

from typing import Any

from schemalock.lock.yaml_style import FlowList
from schemalock.model import DEFAULT_SCHEMA, Database, names
from schemalock.model.grants import Grant

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
        found: dict[str, dict[str, FlowList]] = {}
        for grant in (g for g in ordered if g.on == on):
            found.setdefault(_object(grant), {})[grant.role] = FlowList(grant.privileges)
        if found:
            grants[section] = found
    defaults: dict[str, Any] = {}
    for grant in (g for g in ordered if g.on == "default"):
        by_kind = defaults.setdefault(grant.schema, {}).setdefault(grant.object, {})
        by_kind.setdefault(grant.column, {})[grant.role] = FlowList(grant.privileges)
    if defaults:
        grants["defaults"] = defaults
    return {"grants": grants}


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
