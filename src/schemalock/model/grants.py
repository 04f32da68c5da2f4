"""Privileges granted to roles (GRANT, and ALTER DEFAULT PRIVILEGES, in a schema or global), from
the explicit access lists of the catalog.

A Grant is what one role holds on one object: keyed (schema, on, object, column, role), the
schema first.  `on` is one of ON; `object` the table, sequence or function signature
(`name(type, ...)`), empty for a schema, the owning role (`FOR ROLE`) for default privileges;
`column` only for a column grant, and for default privileges the kind of object they apply to
(DEFAULT_KINDS).  The owner's own privileges are not grants: an object's owner holds them
implicitly.  An object whose access list was never changed (NULL: PostgreSQL's built-in
defaults, e.g. EXECUTE on a function to PUBLIC) has no grants here either.  `grantable` are
the privileges held WITH GRANT OPTION (some of `privileges`).

Global default privileges (ALTER DEFAULT PRIVILEGES FOR ROLE r without IN SCHEMA) have schema
GLOBAL.  PostgreSQL stores them as the whole access list new objects get, when it differs
from its built-in one, and the built-in one gives PUBLIC EXECUTE on functions and USAGE on
types (`builtin`): so a global grant is what a role holds beyond the built-in list, and
PUBLIC's there is what it holds instead of the built-in EXECUTE or USAGE, empty when it was
revoked.  A key no grant has holds the built-in privileges.
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
GLOBAL = ""  # the schema of global default privileges (no IN SCHEMA)


@dataclass(frozen=True, slots=True)
class Grant:
    schema: str
    on: str  # of ON
    object: str
    role: str
    privileges: tuple[str, ...]  # sorted, in PRIVILEGES order
    column: str = ""
    grantable: tuple[str, ...] = ()  # of privileges, WITH GRANT OPTION
    line: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.schema, self.on, self.object, self.column, self.role)


def ordered(privileges: Iterable[str]) -> tuple[str, ...]:
    """Privileges in PRIVILEGES order, once each."""
    given = set(privileges)
    return tuple(p for p in PRIVILEGES if p in given)


def builtin(key: tuple[str, str, str, str, str]) -> tuple[str, ...]:
    """What the role of `key` holds when no grant has the key: nothing, but PUBLIC's EXECUTE
    on functions and USAGE on types in global default privileges (PostgreSQL's built-in
    access list of a new function or type)."""
    schema, on, _, kind, role = key
    if on != "default" or schema != GLOBAL or role != PUBLIC:
        return ()
    return {"functions": ("execute",), "types": ("usage",)}.get(kind, ())
