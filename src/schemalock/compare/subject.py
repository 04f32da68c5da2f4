"""What every difference is: its subject (the object it is about) and its lock line.  The
difference types themselves are in `differences` (tables, columns, keys, types) and in one
module per family of other kinds (`object_differences`: views, routines, triggers, schemas),
all re-exported by `differences`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Subject:
    """What a difference or finding is about: a kind of object and where it sits.

    `name` is the object's own name within its table (a column, a constraint, an index, a
    trigger), or the name of an object outside tables (a type, a view, a function's
    signature `name(type, ...)`); `table` is None for objects outside tables."""

    kind: str  # table, column, primary key, ..., view, function, trigger, schema
    schema: str
    table: str | None = None
    name: str | None = None

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(part for part in (self.schema, self.table, self.name) if part is not None)


@dataclass(frozen=True, kw_only=True)
class Difference:
    subject: Subject
    line: int | None
