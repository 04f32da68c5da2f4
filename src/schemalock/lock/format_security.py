"""The lock format's `row_security:` section: per table, whether row-level security is enabled
and forced, and its policies; `schemalock.lock.convert_security` turns it into the model."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemalock.lock.format_base import SqlText, Strict


class PolicySpec(Strict):
    """A policy (`CREATE POLICY name ON table`)."""

    command: Literal["all", "select", "insert", "update", "delete"] = Field(
        default="all", description="The command it applies to (`FOR ...`)."
    )
    restrictive: bool = Field(
        default=False,
        description="`AS RESTRICTIVE` (every restrictive policy must pass); the default is "
        "permissive (any permissive policy lets a row through).",
    )
    roles: list[str] = Field(
        default_factory=lambda: ["public"],
        min_length=1,
        description="The roles it applies to (`TO ...`); `public` is every role. The "
        "database must have each role the lock names.",
    )
    using: SqlText | None = Field(
        default=None,
        description="The USING condition (rows visible / affected), compared on PostgreSQL's "
        "parse tree.",
    )
    with_check: SqlText | None = Field(
        default=None,
        description="The WITH CHECK condition (rows written), compared on the parse tree.",
    )


class RowSecuritySpec(Strict):
    """A table's row-level security, keyed by the table (`documents` or `schema.documents`).
    A table not listed here has it disabled."""

    enabled: bool = Field(default=True, description="`ALTER TABLE ... ENABLE ROW LEVEL SECURITY`.")
    forced: bool = Field(
        default=False,
        description="`ALTER TABLE ... FORCE ROW LEVEL SECURITY`: the table's owner is bound "
        "by the policies too.",
    )
    policies: dict[str, PolicySpec] = Field(
        default_factory=dict, description="The table's policies, by name."
    )
