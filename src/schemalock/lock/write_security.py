"""`snapshot`'s `row_security:` section, deterministically: tables sorted, then policies by
name, defaults left out."""

from __future__ import annotations

from typing import Any

from schemalock.lock.yaml_style import Flow, FlowList
from schemalock.model import DEFAULT_SCHEMA, Database, names
from schemalock.model.policies import PUBLIC, Policy


def sections(database: Database) -> dict[str, Any]:
    """`row_security:` for every table with row-level security on or with policies (none when
    no table has either)."""
    tables = sorted({*database.row_security, *(k[:2] for k in database.policies)})
    if not tables:
        return {}
    found: dict[str, Any] = {}
    for schema, table in tables:
        security = database.row_security.get((schema, table))
        policies = {
            k[2]: _policy(p)
            for k, p in sorted(database.policies.items())
            if k[:2] == (schema, table)
        }
        found[_key(schema, table)] = _without_none(
            enabled=False if security is None or not security.enabled else None,
            forced=True if security is not None and security.forced else None,
            policies=policies or None,
        )
    return {"row_security": found}


def _policy(policy: Policy) -> Flow:
    return Flow(
        _without_none(
            command=policy.command if policy.command != "all" else None,
            restrictive=True if not policy.permissive else None,
            roles=FlowList(policy.roles) if policy.roles != (PUBLIC,) else None,
            using=policy.using,
            with_check=policy.check,
        )
    )


def _key(schema: str, name: str) -> str:
    return names.lock_name(name) if schema == DEFAULT_SCHEMA else names.lock_name(schema, name)


def _without_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
