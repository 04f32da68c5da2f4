"""Sequences of their own: those no column uses as its serial or identity sequence (those are
the column's, `serial`/`identity`).  A sequence may still be OWNED BY a column (dropped with
it) without being its default.  Every option is concrete in the model: what the lock leaves
out is PostgreSQL's default for the type and direction (`defaults`)."""

from __future__ import annotations

from collections.abc import Iterable
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


# An identity column's sequence options, in the order ALTER COLUMN ... SET says them: `type`
# (AS, which follows the column's type unless the sequence was altered apart), then
# CREATE SEQUENCE's.  A column holds only those that differ from PostgreSQL's defaults.
IDENTITY_OPTIONS = ("type", "start", "increment", "min", "max", "cache", "cycle")
IdentityOptions = tuple[tuple[str, int | str], ...]  # (option, value), in IDENTITY_OPTIONS order


def identity_sequence(column_type: str, options: Iterable[tuple[str, int | str]]) -> Sequence:
    """Every option of an identity column's sequence: `options`, PostgreSQL's defaults for
    the rest (the column's type, then the type's and direction's bounds, start at the first)."""
    given = dict(options)
    type_ = str(given.get("type", column_type))
    increment = int(given.get("increment", 1))
    least, greatest = defaults(type_, increment)
    minimum, maximum = int(given.get("min", least)), int(given.get("max", greatest))
    first = minimum if increment > 0 else maximum
    return Sequence(
        schema="",
        name="",
        type=type_,
        start=int(given.get("start", first)),
        increment=increment,
        minimum=minimum,
        maximum=maximum,
        cache=int(given.get("cache", 1)),
        cycle=bool(given.get("cycle", False)),
    )


def identity_options(column_type: str, sequence: Sequence) -> IdentityOptions:
    """The options of an identity column's sequence that differ from the defaults (given the
    others: a start at `min` is the default whatever `min` is)."""
    least, greatest = defaults(sequence.type, sequence.increment)
    first = sequence.minimum if sequence.increment > 0 else sequence.maximum
    pairs: tuple[tuple[str, int | str, int | str], ...] = (
        ("type", sequence.type, column_type),
        ("start", sequence.start, first),
        ("increment", sequence.increment, 1),
        ("min", sequence.minimum, least),
        ("max", sequence.maximum, greatest),
        ("cache", sequence.cache, 1),
        ("cycle", sequence.cycle, False),
    )
    return tuple((name, value) for name, value, default in pairs if value != default)
