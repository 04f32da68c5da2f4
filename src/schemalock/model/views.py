"""Views and materialized views: a stored query, compared on PostgreSQL's parse tree
(`schemalock.model.definitions`), never on its text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from schemalock.model import Index


@dataclass(frozen=True, slots=True)
class View:
    schema: str
    name: str
    query: str  # the SELECT, as the lock writes it or pg_get_viewdef() prints it
    materialized: bool = False
    # reloptions: security_barrier, security_invoker, check_option (`local`, `cascaded`).
    options: tuple[tuple[str, str], ...] = ()
    indexes: tuple[Index, ...] = ()  # a materialized view's indexes
    comment: str | None = field(default=None, compare=False)
    line: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)

    @property
    def kind(self) -> str:
        """How messages name it."""
        return "materialized view" if self.materialized else "view"
