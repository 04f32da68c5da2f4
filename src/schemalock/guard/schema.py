"""The schema objects of two locks, judged from the comparison stage's differences.

`compare(new, old)`: the pull request's lock in the lock's role, the base lock in the live
database's.  The differences then mean exactly what they mean to `verify`, and a rename the new
lock declares (`renamed_from`) pairs the old object with the new one:
- a Missing* difference is an object the new lock adds (progress, at its line);
- an Extra* difference is an object of the base lock the new one no longer declares (a
  regression, at its line in the base lock);
- in a *Changed difference, `lock*` is the object as the new lock has it, `live*` as the base
  lock had it.

Tables and columns are judged here, keys, checks and indexes in `keys`, enums and domains in
`schema_types`: each registers its handlers in `HANDLERS`, one per difference type (a test
holds every difference type to a handler).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from schemalock.compare import Comparison, compare
from schemalock.compare import differences as d
from schemalock.guard import column_types, renames
from schemalock.guard.changes import Change, Kind
from schemalock.model import Column, Lock, Table
from schemalock.model.types import type_spelling
from schemalock.rules.base import q

D = TypeVar("D", bound=d.Difference)
Handler = Callable[[Any, "Sides"], Iterator[Change]]
HANDLERS: dict[type[d.Difference], Handler] = {}


def handles(*kinds: type[D]) -> Callable[[Callable[[D, Sides], Iterator[Change]]], Handler]:
    def register(handler: Callable[[D, Sides], Iterator[Change]]) -> Handler:
        for kind in kinds:
            HANDLERS[kind] = handler
        return handler

    return register


@dataclass(frozen=True)
class Sides:
    """The two locks, and what judging a type needs: each domain's base type."""

    new: Lock
    old: Lock

    @property
    def domains(self) -> dict[str, str]:
        return {
            type_spelling(*key): domain.type
            for lock in (self.old, self.new)
            for key, domain in lock.database.domains.items()
        }


def compared(new: Lock, old: Lock) -> tuple[Comparison, list[Change]]:
    """The comparison of the two locks' schemas, the base lock taken through the renames the
    new one declares (`renames`, reported as the second item).  Only the tables both locks
    leave out (`database.ignore`) stay out: a pattern the new lock adds hides nothing here."""
    tables, columns = renames.declared(new.database, old.database)
    base = renames.applied(old.database, tables, columns)
    kept = tuple(p for p in new.settings.ignore if p in old.settings.ignore)
    comparison = compare(new.database, base, replace(new.settings, ignore=kept))
    return comparison, list(renames.changes(new.database, tables, columns))


def changes(new: Lock, old: Lock, comparison: Iterable[d.Difference]) -> list[Change]:
    """Every difference judged, by the handler its type registered."""
    sides = Sides(new, old)
    return [change for x in comparison for change in HANDLERS[type(x)](x, sides)]


def critical(tables: tuple[Table | None, ...], column: str | None = None) -> bool:
    """Whether a table, or a column of it, is marked `critical: true` on either side."""
    for table in tables:
        if table is None:
            continue
        found = table.column(column) if column else None
        if table.critical or (found is not None and found.critical):
            return True
    return False


def about(
    difference: d.Difference,
    kind: Kind,
    message: str,
    line: int | None,
    *,
    tables: tuple[Table | None, ...] = (),
    in_base: bool = False,
    column: str | None = None,
    constraint: str | None = None,
    before: Any = None,
    after: Any = None,
) -> Change:
    subject = difference.subject
    return Change(
        kind=kind,
        message=message,
        line=line,
        in_base=in_base,
        schema=subject.schema,
        table=subject.table,
        column=column,
        constraint=constraint,
        subject=subject,
        before=before,
        after=after,
        critical=critical(tables, column),
    )


# -- tables ------------------------------------------------------------------------------


@handles(d.MissingTable)
def _added_table(x: d.MissingTable, sides: Sides) -> Iterator[Change]:
    yield about(x, Kind.PROGRESS, f"table {q(*x.lock.key)} added", x.line, tables=(x.lock,))


@handles(d.ExtraTable)
def _removed_table(x: d.ExtraTable, sides: Sides) -> Iterator[Change]:
    table = x.live
    yield about(
        x,
        Kind.REGRESSION,
        f"table {q(*table.key)} removed",
        table.line,
        tables=(table,),
        in_base=True,
    )


@handles(d.RenamedTable)
def _renamed_table(x: d.RenamedTable, sides: Sides) -> Iterator[Change]:
    message = f"table {q(*x.lock.key)} renamed from {q(x.live.name)}"
    yield about(x, Kind.NEUTRAL, message, x.line, before=x.live.name, after=x.lock.name)


@handles(d.PartitioningChanged)
def _partitioning(x: d.PartitioningChanged, sides: Sides) -> Iterator[Change]:
    was, now = x.live.partition_by, x.lock.partition_by
    message = f"table {q(*x.lock.key)} partitioned by {now or 'nothing'}, was {was or 'nothing'}"
    yield about(x, Kind.NEUTRAL, message, x.line, before=was, after=now)


# -- columns -----------------------------------------------------------------------------


@handles(d.MissingColumn)
def _added_column(x: d.MissingColumn, sides: Sides) -> Iterator[Change]:
    name = x.column.name
    yield about(
        x,
        Kind.PROGRESS,
        f"column {q(*x.lock.key, name)} added",
        x.line,
        column=name,
        tables=(x.lock,),
    )


@handles(d.ExtraColumn)
def _removed_column(x: d.ExtraColumn, sides: Sides) -> Iterator[Change]:
    column = x.column
    yield about(
        x,
        Kind.REGRESSION,
        f"column {q(*x.lock.key, column.name)} removed",
        column.line,
        tables=(x.live,),
        in_base=True,
        column=column.name,
        before=column.type,
    )


@handles(d.RenamedColumn)
def _renamed_column(x: d.RenamedColumn, sides: Sides) -> Iterator[Change]:
    new, old = x.lock_column, x.live_column
    message = f"column {q(*x.lock.key, new.name)} renamed from {q(old.name)}"
    yield about(x, Kind.NEUTRAL, message, x.line, column=new.name, before=old.name, after=new.name)


@handles(d.ColumnChanged)
def _changed_column(x: d.ColumnChanged, sides: Sides) -> Iterator[Change]:
    new, old = x.lock_column, x.live_column
    name = q(*x.lock.key, new.name)

    def change(kind: Kind, message: str, before: Any, after: Any) -> Change:
        return about(
            x,
            kind,
            f"column {name}: {message}",
            x.line,
            tables=(x.lock, x.live),
            column=new.name,
            before=before,
            after=after,
        )

    if "type" in x.aspects:
        kind, why = column_types.judge(old.type, new.type, sides.domains)
        yield change(kind, f"type {old.type} -> {new.type}: {why}", old.type, new.type)
    if "nullable" in x.aspects:
        if new.nullable:
            yield change(Kind.REGRESSION, "NOT NULL dropped: it may be NULL now", False, True)
        else:
            yield change(Kind.PROGRESS, "NOT NULL now", True, False)
    if "default" in x.aspects:
        message = f"default {old.default or 'none'} -> {new.default or 'none'}"
        yield change(Kind.NEUTRAL, message, old.default, new.default)
    if "identity" in x.aspects:
        message = f"identity {old.identity or 'none'} -> {new.identity or 'none'}"
        yield change(Kind.NEUTRAL, message, old.identity, new.identity)
    if "generated" in x.aspects:
        yield _generated(change, old, new)


def _generated(change: Callable[[Kind, str, Any, Any], Change], old: Column, new: Column) -> Change:
    if old.generated and not new.generated:
        kind, message = Kind.REGRESSION, f"no longer generated as {old.generated}"
    elif new.generated and not old.generated:
        kind, message = Kind.PROGRESS, f"generated as {new.generated} now"
    elif old.generated_storage != new.generated_storage and old.generated == new.generated:
        kind, message = (
            Kind.NEUTRAL,
            f"generated {new.generated_storage}, was {old.generated_storage}",
        )
    else:
        kind, message = Kind.REGRESSION, f"generated as {new.generated}, no longer {old.generated}"
    return change(kind, message, old.generated, new.generated)
