"""The lock format's `grants:` section: per kind of object, per object, per role, the
privileges granted; `schemalock.lock.convert_grants` turns it into the model."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemalock.lock.format_base import Strict

Privilege = Literal[
    "select",
    "insert",
    "update",
    "delete",
    "truncate",
    "references",
    "trigger",
    "maintain",
    "usage",
    "create",
    "execute",
]
# role -> privileges
ByRole = dict[str, list[Privilege]]
DefaultKind = Literal["tables", "sequences", "functions", "types", "schemas"]


class GrantsSpec(Strict):
    """Privileges by object, then by role (`public` is every role). Only the roles named
    here are compared: a role the lock never names may hold anything. The owner's own
    privileges, and PostgreSQL's built-in defaults of an object never granted or revoked on,
    are not written."""

    tables: dict[str, ByRole] = Field(
        default_factory=dict,
        description="Tables, views, materialized views, foreign tables: `name` or "
        "`schema.name` -> `{role: [select, insert, ...]}`.",
    )
    columns: dict[str, ByRole] = Field(
        default_factory=dict,
        description="Column privileges: `table.column` or `schema.table.column` -> roles.",
    )
    sequences: dict[str, ByRole] = Field(
        default_factory=dict, description="Sequences (serial ones too): `[usage, select, update]`."
    )
    functions: dict[str, ByRole] = Field(
        default_factory=dict,
        description="Functions and procedures by signature (`name(type, ...)`): `[execute]`.",
    )
    schemas: dict[str, ByRole] = Field(
        default_factory=dict, description="Schemas: `[usage, create]`."
    )
    defaults: dict[str, dict[str, dict[DefaultKind, ByRole]]] = Field(
        default_factory=dict,
        description="ALTER DEFAULT PRIVILEGES FOR ROLE owner IN SCHEMA schema: `schema -> "
        "owner -> tables|sequences|functions|types|schemas -> {role: [...]}`.",
    )
