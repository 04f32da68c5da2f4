"""Rows of policies.sql -> the model's row-level security (tables where it is enabled or
forced) and policies.  The query runs in `introspect()`, with the other bulk reads."""

from __future__ import annotations

from typing import Any

from schemalock.model.policies import Policy, RowSecurity

# pg_policy.polcmd
_COMMANDS = {"*": "all", "r": "select", "a": "insert", "w": "update", "d": "delete"}


def row_security(
    rows: list[tuple[Any, ...]],
) -> tuple[dict[tuple[str, str], RowSecurity], dict[tuple[str, str, str], Policy]]:
    tables: dict[tuple[str, str], RowSecurity] = {}
    policies: dict[tuple[str, str, str], Policy] = {}
    for schema, table, enabled, forced, name, command, permissive, roles, using, check in rows:
        if enabled or forced:
            tables[(schema, table)] = RowSecurity(
                schema=schema, table=table, enabled=enabled, forced=forced
            )
        if name is not None:
            policies[(schema, table, name)] = Policy(
                schema=schema,
                table=table,
                name=name,
                command=_COMMANDS[command],
                permissive=permissive,
                roles=tuple(sorted(roles)),
                using=using,
                check=check,
            )
    return tables, policies
