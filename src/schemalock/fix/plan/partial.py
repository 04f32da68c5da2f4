"""One refused step must not sink the rest: which planned repairs depend on a refused one.

A handler that refuses (the data forbids its step) contributes no step.  Every other repair
that leans on what was refused is left out too: a repair on the same columns of the same table
(a check over a column whose conversion was refused, a key over a column left nullable), any
repair inside a table whose creation or rename was refused, a foreign key to a key that was
not added, a column of a type that was not created, anything in a schema that could not be
created.  The rest is the partial plan.

A repair `held` for a person (a missing table whose name another relation holds: noted, no
step, nothing refused) leaves out what depends on it the same way; those are noted with it
rather than refused, as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemalock.compare import differences as d
from schemalock.fix.plan.core import Step
from schemalock.model import DEFAULT_SCHEMA, Index, definitions, expressions, names
from schemalock.model.names import qualified, quote
from schemalock.model.types import type_spelling

# Repairs of the whole table: whatever else happens to the table depends on them.
_WHOLE_TABLE = (d.MissingTable, d.RenamedTable)


@dataclass
class Repair:
    """What one difference's handler planned: its steps, and why it was refused, if it was."""

    difference: d.Difference
    steps: list[Step]
    refusals: list[str]
    held: bool = False  # left for a person (noted), and what it would provide is not made


# What a repair left for a person fails to provide: the table, the column.
HOLDS = (d.MissingTable, d.MissingColumn)


def left_out(repairs: list[Repair], refused_schemas: set[str]) -> list[tuple[Repair, str]]:
    """The repairs to leave out of the plan, each with the reason: refused or held itself, or
    depending (perhaps through another) on a refused or held one.  A reason of a repair that
    depends on a held one ends in `HELD`."""
    out: dict[int, tuple[Repair, str]] = {
        id(repair): (repair, "; ".join(repair.refusals)) for repair in repairs if repair.refusals
    }
    out |= {id(repair): (repair, HELD) for repair in repairs if repair.held}
    for repair in repairs:
        if id(repair) not in out and repair.difference.subject.schema in refused_schemas:
            out[id(repair)] = (
                repair,
                f"schema {quote(repair.difference.subject.schema)} is not created",
            )
    grown = True
    while grown:  # until no repair leans on one left out
        grown = False
        for repair in repairs:
            if id(repair) in out:
                continue
            blocker = next(
                (r for r, _ in out.values() if depends(repair.difference, r.difference)), None
            )
            if blocker is not None:
                reason = f"it depends on {describe(blocker.difference)}"
                if out[id(blocker)][1].endswith(HELD):
                    reason += HELD
                out[id(repair)] = (repair, reason)
                grown = True
    return list(out.values())


HELD = ", which is left for a person"


def describe(difference: d.Difference) -> str:
    """A difference as a left-out line names it: `column public.jobs.org_id`."""
    subject = difference.subject
    return f"{subject.kind} {qualified(*subject.path)}"


def depends(repair: d.Difference, refused: d.Difference) -> bool:
    """Whether planning `repair` needs what `refused` would have provided: a table, a column
    as the lock has it, a key to reference, a type.  Checks, foreign keys and plain indexes
    provide nothing another repair needs."""
    if isinstance(refused, d.MissingEnum | d.MissingDomain):
        return _uses_type(repair, type_spelling(*refused.lock.key))
    made = _made(refused)
    if made is not None and made in _needed(repair):
        return True  # a privilege on, a view over, a trigger executing what is not made
    table = _table(refused)
    if table is None:
        return False
    if isinstance(refused, (*_WHOLE_TABLE, *_COLUMN)) and table in _read(repair):
        return True  # a view, function, trigger or policy over what is not there
    if isinstance(refused, _WHOLE_TABLE):
        return _table(repair) == table or _references(repair, table, None)
    provided = _columns(refused)
    if isinstance(refused, _COLUMN):
        same_table = _table(repair) == table and _overlap(provided, _columns(repair))
        return same_table or _references(repair, table, provided)
    if isinstance(refused, _KEY):
        return _references(repair, table, provided)
    return False


_COLUMN = (d.MissingColumn, d.RenamedColumn, d.ColumnChanged)
_KEY = (d.PrimaryKeyChanged, d.MissingUnique, d.MissingIndex)


def _made(refused: d.Difference) -> tuple[str, str, str] | None:
    """What a repair creates that other objects may need: (kind, schema, name), a function by
    its signature."""
    match refused:
        case d.MissingTable() | d.MissingView():
            return ("relation", *refused.lock.key)
        case d.MissingSequence():
            return ("sequence", *refused.lock.key)
        case d.MissingRoutine():
            return ("function", refused.lock.schema, refused.lock.signature)
    return None


def _needed(repair: d.Difference) -> set[tuple[str, str, str]]:
    """The objects a repair's statements name, in `_made`'s terms."""
    match repair:
        case d.MissingGrant():
            grant = repair.lock
            kind = {"table": "relation", "column": "relation"}.get(grant.on, grant.on)
            return {(kind, grant.schema, grant.object)}
        case d.MissingTrigger() | d.TriggerChanged():
            trigger = repair.lock
            parts = names.split(trigger.function)
            schema, function = (DEFAULT_SCHEMA, parts[0]) if len(parts) == 1 else parts[:2]
            return {
                ("relation", trigger.schema, trigger.table),
                ("function", schema, f"{function}()"),
            }
    return {("relation", *key) for key in _read(repair)}


def _read(repair: d.Difference) -> set[tuple[str, str]]:
    """The tables an object the repair creates or replaces reads: a view's query, a SQL
    function's body (both from the parse tree; unqualified names in public, as the catalog
    prints them), the table of a trigger or a policy.  Any column of them counts."""
    match repair:
        case d.MissingView() | d.ViewChanged():
            return definitions.relations_read(repair.lock.query) or set()
        case d.MissingRoutine() | d.RoutineChanged() if repair.lock.language == "sql":
            return definitions.relations_read(repair.lock.body) or set()
        case d.MissingTrigger() | d.TriggerChanged() | d.MissingPolicy() | d.PolicyChanged():
            return {(repair.lock.schema, repair.lock.table)}
    return set()


def _references(
    repair: d.Difference, table: tuple[str, str], columns: frozenset[str] | None
) -> bool:
    """Whether `repair` adds a foreign key to `table` over any of `columns` (None: any)."""
    if isinstance(repair, d.MissingForeignKey):
        fk = repair.foreign_key
    elif isinstance(repair, d.ForeignKeyChanged | d.ForeignKeyNotValidated):
        fk = repair.lock_key
    else:
        return False
    return (fk.ref_schema, fk.ref_table) == table and _overlap(columns, fk.ref_columns)


def _table(difference: d.Difference) -> tuple[str, str] | None:
    subject = difference.subject
    return (subject.schema, subject.table) if subject.table is not None else None


def _overlap(left: frozenset[str] | None, right: frozenset[str] | tuple[str, ...] | None) -> bool:
    """Whether two sets of columns meet; None is every column of the table."""
    if left is None or right is None:
        return True
    return bool(left & frozenset(right))


def _columns(difference: d.Difference) -> frozenset[str] | None:
    """The columns a repair reads or changes; None when that is the whole table, or cannot be
    told (an expression that does not parse)."""
    match difference:
        case d.MissingColumn() | d.ExtraColumn():
            return frozenset({difference.column.name})
        case d.ColumnChanged() | d.RenamedColumn():
            return frozenset({difference.lock_column.name, difference.live_column.name})
        case d.PrimaryKeyChanged():
            keys = (difference.lock.primary_key, difference.live.primary_key)
            return frozenset(c for key in keys if key is not None for c in key.columns)
        case d.MissingForeignKey():
            return frozenset(difference.foreign_key.columns)
        case d.ForeignKeyChanged():
            return frozenset((*difference.lock_key.columns, *difference.live_key.columns))
        case d.ForeignKeyNotValidated():
            return frozenset(difference.lock_key.columns)
        case d.MissingUnique():
            return frozenset(difference.unique.columns)
        case d.MissingIndex() | d.InvalidIndex():
            return _index_columns(difference.index)
        case d.CheckChanged() | d.CheckNotValidated():
            return expressions.columns_named(difference.lock_check.expression)
    return None


def _index_columns(index: Index) -> frozenset[str] | None:
    """Every column an index reads: its keys (columns or expressions), INCLUDE and WHERE."""
    parts = [expressions.columns_named(key, "index_elem") for key in index.keys]
    parts += [frozenset(index.include)]
    if index.where:
        parts.append(expressions.columns_named(index.where))
    if any(part is None for part in parts):
        return None
    return frozenset().union(*(part for part in parts if part is not None))


def _uses_type(difference: d.Difference, spelling: str) -> bool:
    """Whether a repair creates or converts a column of type `spelling` (or an array of it)."""
    match difference:
        case d.MissingTable():
            columns = difference.lock.columns
        case d.MissingColumn():
            columns = (difference.column,)
        case d.ColumnChanged():
            columns = (difference.lock_column,)
        case d.MissingDomain():
            return difference.lock.type.rstrip("[]") == spelling
        case _:
            return False
    return any(column.type.rstrip("[]") == spelling for column in columns)
