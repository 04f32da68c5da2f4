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


class Granted(Strict):
    """A role's privileges with some held WITH GRANT OPTION (it may grant them on)."""

    privileges: list[Privilege] = Field(
        default_factory=list, description="The privileges held (those of `grantable` too)."
    )
    grantable: list[Privilege] = Field(
        default_factory=list,
        description="The privileges held WITH GRANT OPTION (held, whether or not "
        "`privileges` lists them again).",
    )


# role -> privileges: `[select, insert]`, or `{privileges: [select, insert], grantable: [select]}`
ByRole = dict[str, list[Privilege] | Granted]
DefaultKind = Literal["tables", "sequences", "functions", "types", "schemas"]


class GrantsSpec(Strict):
    """Privileges by object, then by role (`public` is every role): a list of privileges, or
    `{privileges: [...], grantable: [...]}` when some are held WITH GRANT OPTION. Only the
    roles named here are compared: a role the lock never names may hold anything. The
    owner's own privileges, and PostgreSQL's built-in defaults of an object never granted or
    revoked on, are not written."""

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
    global_defaults: dict[str, dict[DefaultKind, ByRole]] = Field(
        default_factory=dict,
        description="ALTER DEFAULT PRIVILEGES FOR ROLE owner, without IN SCHEMA (every "
        "schema): `owner -> tables|sequences|functions|types|schemas -> {role: [...]}`. "
        "PUBLIC holds EXECUTE on new functions and USAGE on new types unless revoked: "
        "`public: []` says it was (`public: [execute]`, or not naming it, that it was not).",
    )
