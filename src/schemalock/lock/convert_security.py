"""The lock's `row_security:` section -> the model's row-level security and policies."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from schemalock.lock.paths import ConversionError, Path
from schemalock.model import DEFAULT_SCHEMA, names
from schemalock.model.policies import Policy, RowSecurity

if TYPE_CHECKING:
    from schemalock.lock.format import LockHead

Line = Callable[[Path], "int | None"]


def row_security(
    spec: LockHead, line: Line
) -> tuple[dict[tuple[str, str], RowSecurity], dict[tuple[str, str, str], Policy]]:
    """Tables whose row-level security is enabled or forced (one disabled and not forced is
    as if not listed), and every policy."""
    tables: dict[tuple[str, str], RowSecurity] = {}
    policies: dict[tuple[str, str, str], Policy] = {}
    for table_key, security in spec.row_security.items():
        path: Path = ("row_security", table_key)
        try:
            schema, table = names.split_table(table_key, DEFAULT_SCHEMA)
        except names.NameError_ as error:
            raise ConversionError(str(error), path) from None
        if security.enabled or security.forced:
            tables[(schema, table)] = RowSecurity(
                schema=schema,
                table=table,
                enabled=security.enabled,
                forced=security.forced,
                line=line(path),
            )
        for name, policy in security.policies.items():
            policies[(schema, table, name)] = Policy(
                schema=schema,
                table=table,
                name=name,
                command=policy.command,
                permissive=not policy.restrictive,
                roles=tuple(sorted(set(policy.roles))),
                using=policy.using,
                check=policy.with_check,
                line=line((*path, "policies", name)),
            )
    return tables, policies
