"""Privileges granted to roles (GRANT, and ALTER DEFAULT PRIVILEGES ... IN SCHEMA), from the
explicit access lists of the catalog.

A Grant is what one role holds on one object: keyed (schema, on, object, column, role), the
schema first.  `on` is one of ON; `object` the table, sequence or function signature
(`name(type, ...)`), empty for a schema, the owning role (`FOR ROLE`) for default privileges;
`column` only for a column grant, and for default privileges the kind of object they apply to
(DEFAULT_KINDS).  The owner's own privileges are not grants: an object's owner holds them
implicitly.  An object whose access list was never changed (NULL: PostgreSQL's built-in
defaults, e.g. EXECUTE on a function to PUBLIC) has no grants here either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

ON = ("table", "column", "sequence", "function", "schema", "default")
DEFAULT_KINDS = ("tables", "sequences", "functions", "types", "schemas")
PRIVILEGES = (
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
)
PUBLIC = "public"  # every role (grantee 0 in an access list)


@dataclass(frozen=True, slots=True)
class Grant:
    schema: str
    on: str  # of ON
    object: str
    role: str
    privileges: tuple[str, ...]  # sorted, in PRIVILEGES order
    column: str = ""
    line: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.schema, self.on, self.object, self.column, self.role)


def ordered(privileges: Iterable[str]) -> tuple[str, ...]:
    """Privileges in PRIVILEGES order, once each."""
    given = set(privileges)
    return tuple(p for p in PRIVILEGES if p in given)
