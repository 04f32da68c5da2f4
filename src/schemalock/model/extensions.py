"""Extensions (CREATE EXTENSION): their name, the schema their objects are in, and their
version.  `plpgsql` is in every database and never listed; what an extension owns (its
functions, types, tables) belongs to it and is not an object of its own."""

from __future__ import annotations

from dataclasses import dataclass, field

ALWAYS_THERE = "plpgsql"


@dataclass(frozen=True, slots=True)
class Extension:
    schema: str
    name: str
    version: str | None = None  # None in a lock that does not pin it: not compared
    line: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)
