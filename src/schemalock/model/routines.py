"""Functions and procedures, identified by their signature: schema, name and the types of
their input arguments (PostgreSQL's identity), so overloads are distinct objects."""

from __future__ import annotations

from dataclasses import dataclass, field

VOLATILITIES = ("immutable", "stable", "volatile")


@dataclass(frozen=True, slots=True)
class Routine:
    schema: str
    name: str
    # Input argument types, canonical (`integer`, `character varying`): with schema and name,
    # the identity PostgreSQL resolves a call by.
    argument_types: tuple[str, ...]
    # The whole argument list as pg_get_function_arguments() prints it: names, modes, defaults.
    arguments: str = ""
    procedure: bool = False
    returns: str | None = None  # None for a procedure
    language: str = "sql"
    body: str = ""  # prosrc, or a SQL-standard body (`BEGIN ATOMIC ... END`, `RETURN ...`)
    volatility: str = "volatile"
    strict: bool = False
    security_definer: bool = False
    # proconfig: `SET name = value` clauses, e.g. (("search_path", "public, pg_temp"),).
    settings: tuple[tuple[str, str], ...] = ()
    comment: str | None = field(default=None, compare=False)
    line: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.schema, self.name, self.argument_types)

    @property
    def signature(self) -> str:
        """`name(type, type)`: how the lock keys it and findings name it."""
        return f"{self.name}({', '.join(self.argument_types)})"

    @property
    def kind(self) -> str:
        return "procedure" if self.procedure else "function"

    @property
    def pins_search_path(self) -> bool:
        return any(name == "search_path" for name, _ in self.settings)
