"""Row-level security of tables (enabled, forced) and their policies.

A table's row-level security is an object only when it is enabled or forced: a table without
an entry has it off, as PostgreSQL creates tables.  Policies are keyed by (schema, table,
name), as triggers are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# CREATE POLICY ... FOR <command>; pg_policy.polcmd spells them '*', 'r', 'a', 'w', 'd'.
COMMANDS = ("all", "select", "insert", "update", "delete")
# The role a policy applies to when it names none (pg_policy.polroles holds 0).
PUBLIC = "public"


@dataclass(frozen=True, slots=True)
class RowSecurity:
    """`ALTER TABLE ... ENABLE ROW LEVEL SECURITY` (and `FORCE`: the owner is bound too)."""

    schema: str
    table: str
    enabled: bool = True
    forced: bool = False
    line: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.table)

    @property
    def state(self) -> str:
        """In words: `enabled`, `enabled and forced`, `forced` (not enabled), `disabled`."""
        if self.enabled:
            return "enabled and forced" if self.forced else "enabled"
        return "forced but not enabled" if self.forced else "disabled"


@dataclass(frozen=True, slots=True)
class Policy:
    schema: str
    table: str
    name: str
    command: str = "all"  # of COMMANDS
    permissive: bool = True  # else AS RESTRICTIVE
    roles: tuple[str, ...] = (PUBLIC,)  # sorted
    using: str | None = None
    check: str | None = None  # WITH CHECK
    line: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.schema, self.table, self.name)
