"""Sequences of their own: those no column uses as its serial or identity sequence (those are
the column's, `serial`/`identity`).  A sequence may still be OWNED BY a column (dropped with
it) without being its default.  Every option is concrete in the model: what the lock leaves
out is PostgreSQL's default for the type and direction (`defaults`)."""

from __future__ import annotations

from dataclasses import dataclass, field

TYPES = ("smallint", "integer", "bigint")
_LIMITS = {"smallint": 2**15 - 1, "integer": 2**31 - 1, "bigint": 2**63 - 1}


def defaults(type_: str, increment: int) -> tuple[int, int]:
    """(minimum, maximum) CREATE SEQUENCE gives a type and direction when it is not told."""
    top = _LIMITS[type_]
    return (1, top) if increment > 0 else (-top - 1, -1)


@dataclass(frozen=True, slots=True)
class Sequence:
    schema: str
    name: str
    type: str = "bigint"  # of TYPES
    start: int = 1
    increment: int = 1
    minimum: int = 1
    maximum: int = 2**63 - 1
    cache: int = 1
    cycle: bool = False
    owned_by: tuple[str, str, str] | None = None  # (schema, table, column)
    comment: str | None = field(default=None, compare=False)
    line: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)
