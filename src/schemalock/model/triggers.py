"""Triggers of tables and views, constraint triggers included; the internal ones PostgreSQL
makes for foreign keys, and the clones a partitioned table's trigger has on its partitions, are
not objects of their own."""

from __future__ import annotations

from dataclasses import dataclass, field

TIMINGS = ("before", "after", "instead of")
EVENTS = ("insert", "update", "delete", "truncate")
# pg_trigger.tgenabled: fires in origin and local sessions (the default), never, only in
# replica sessions, always.
ENABLED = ("origin", "disabled", "replica", "always")


@dataclass(frozen=True, slots=True)
class Trigger:
    schema: str
    table: str  # the table or view it is on
    name: str
    timing: str  # of TIMINGS
    events: tuple[str, ...]  # of EVENTS, in that order
    function: str  # the trigger function, `name` in public or `schema.name`
    columns: tuple[str, ...] = ()  # UPDATE OF these columns
    row: bool = True  # FOR EACH ROW, else FOR EACH STATEMENT
    arguments: tuple[str, ...] = ()
    when: str | None = None
    enabled: str = "origin"
    constraint: bool = False  # CREATE CONSTRAINT TRIGGER
    deferrable: bool = False
    initially_deferred: bool = False
    # REFERENCING OLD TABLE AS x NEW TABLE AS y
    old_table: str | None = None
    new_table: str | None = None
    line: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.schema, self.table, self.name)
