"""Keys, checks and indexes of two locks, judged from the comparison stage's differences (the
new lock in the lock's role, as in `schema`), and what the differences do not say: a key or
check the new lock marks `validated: false`, and objects renamed with their definition kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from schemalock.compare import Comparison
from schemalock.compare import differences as d
from schemalock.compare.matching import match_checks, match_foreign_keys, match_indexes
from schemalock.guard.changes import Change, Kind
from schemalock.guard.schema import Sides, about, critical, handles
from schemalock.model import ForeignKey, Table, UniqueConstraint
from schemalock.rules.base import cols, q
from schemalock.rules.indexes import describe_index
from schemalock.rules.keys import describe_fk

# Actions that delete or change rows of the referencing table when the referenced row goes.
_DESTRUCTIVE = frozenset({"cascade", "set null", "set default"})
_UNCHECKED = "marked validated: false: rows written before it need not satisfy it"


def _on(x: d.TableDifference) -> str:
    return f"table {q(*x.lock.key)}"


def _fk(fk: ForeignKey) -> dict[str, Any]:
    """The finding's column (of a one-column key) and constraint."""
    return {"column": fk.columns[0] if len(fk.columns) == 1 else None, "constraint": fk.name}


def _unique(unique: UniqueConstraint) -> dict[str, Any]:
    one = unique.columns[0] if len(unique.columns) == 1 else None
    return {"column": one, "constraint": unique.name}


# -- primary and foreign keys ------------------------------------------------------------


@handles(d.PrimaryKeyChanged)
def _primary_key(x: d.PrimaryKeyChanged, sides: Sides) -> Iterator[Change]:
    new, old = x.lock.primary_key, x.live.primary_key
    tables = (x.lock, x.live)
    if new is not None and old is None:
        message = f"{_on(x)}: primary key {cols(new.columns)} added"
        yield about(x, Kind.PROGRESS, message, new.line, tables=tables, after=list(new.columns))
    elif old is not None and new is None:
        message = f"{_on(x)}: primary key {cols(old.columns)} removed"
        yield about(
            x,
            Kind.REGRESSION,
            message,
            old.line,
            tables=tables,
            in_base=True,
            before=list(old.columns),
        )
    elif new is not None and old is not None:
        # A key on fewer of the same columns makes more combinations unique, not fewer.
        kind = Kind.PROGRESS if set(new.columns) < set(old.columns) else Kind.REGRESSION
        message = f"{_on(x)}: primary key {cols(new.columns)}, no longer {cols(old.columns)}"
        yield about(
            x,
            kind,
            message,
            new.line,
            tables=tables,
            before=list(old.columns),
            after=list(new.columns),
        )


@handles(d.MissingForeignKey)
def _added_foreign_key(x: d.MissingForeignKey, sides: Sides) -> Iterator[Change]:
    fk = x.foreign_key
    message = f"{_on(x)}: foreign key {describe_fk(fk)} added"
    yield about(
        x, Kind.PROGRESS, message, x.line, tables=(x.lock,), after=describe_fk(fk), **_fk(fk)
    )


@handles(d.ExtraForeignKey)
def _removed_foreign_key(x: d.ExtraForeignKey, sides: Sides) -> Iterator[Change]:
    fk = x.foreign_key
    message = f"{_on(x)}: foreign key {describe_fk(fk)} removed"
    yield about(
        x,
        Kind.REGRESSION,
        message,
        fk.line or x.live.line,
        tables=(x.lock, x.live),
        in_base=True,
        before=describe_fk(fk),
        **_fk(fk),
    )


@handles(d.ForeignKeyChanged)
def _changed_foreign_key(x: d.ForeignKeyChanged, sides: Sides) -> Iterator[Change]:
    new, old = x.lock_key, x.live_key
    head = f"{_on(x)}: foreign key {cols(new.columns)}"

    def change(kind: Kind, message: str, before: Any, after: Any) -> Change:
        return about(
            x,
            kind,
            f"{head}{message}",
            x.line,
            tables=(x.lock, x.live),
            before=before,
            after=after,
            **_fk(new),
        )

    if "target" in x.aspects:
        target, was = describe_fk(new).partition(" -> ")[2], describe_fk(old).partition(" -> ")[2]
        yield change(Kind.REGRESSION, f" references {target}, no longer {was}", was, target)
        return
    for action in ("on_delete", "on_update"):
        was, now = getattr(old, action), getattr(new, action)
        if was != now:
            yield change(_action_kind(was, now), f": {action} {now}, was {was}", was, now)
    if old.match != new.match:
        kind = Kind.PROGRESS if new.match == "full" else Kind.REGRESSION
        yield change(
            kind, f": MATCH {new.match.upper()}, was {old.match.upper()}", old.match, new.match
        )
    for aspect in ("deferrable", "initially_deferred"):
        was, now = getattr(old, aspect), getattr(new, aspect)
        if was != now:
            yield change(Kind.NEUTRAL, f": {aspect} {str(now).lower()}", was, now)


def _action_kind(was: str, now: str) -> Kind:
    """Deleting a referenced row may now delete or change rows (a regression), or no longer."""
    if now in _DESTRUCTIVE and was not in _DESTRUCTIVE:
        return Kind.REGRESSION
    if was in _DESTRUCTIVE and now not in _DESTRUCTIVE:
        return Kind.PROGRESS
    return Kind.NEUTRAL


@handles(d.ForeignKeyNotValidated)
def _validated_key(x: d.ForeignKeyNotValidated, sides: Sides) -> Iterator[Change]:
    # The base lock marked the key `validated: false`: progress when the new one does not.
    if x.lock_key.validated:
        message = f"{_on(x)}: foreign key {describe_fk(x.lock_key)} must be validated now"
        yield about(
            x,
            Kind.PROGRESS,
            message,
            x.line,
            tables=(x.lock, x.live),
            before=False,
            after=True,
            **_fk(x.lock_key),
        )


@handles(d.MissingUnique)
def _added_unique(x: d.MissingUnique, sides: Sides) -> Iterator[Change]:
    message = f"{_on(x)}: unique {cols(x.unique.columns)} added"
    yield about(x, Kind.PROGRESS, message, x.line, tables=(x.lock,), **_unique(x.unique))


@handles(d.ExtraUnique)
def _removed_unique(x: d.ExtraUnique, sides: Sides) -> Iterator[Change]:
    unique = x.unique
    message = f"{_on(x)}: unique {cols(unique.columns)} removed"
    yield about(
        x,
        Kind.REGRESSION,
        message,
        unique.line or x.live.line,
        tables=(x.lock, x.live),
        in_base=True,
        before=list(unique.columns),
        **_unique(unique),
    )


# -- checks and indexes ------------------------------------------------------------------


@handles(d.CheckChanged)
def _changed_check(x: d.CheckChanged, sides: Sides) -> Iterator[Change]:
    new, old = x.lock_check, x.live_check
    tables = (x.lock, x.live)
    if old is None:
        message = f"{_on(x)}: check {_check(new.name, new.expression)} added"
        yield about(
            x,
            Kind.PROGRESS,
            message,
            x.line,
            tables=tables,
            constraint=new.name,
            after=new.expression,
        )
        return
    # Another expression under the same name: not provably as strict, so a regression.
    message = f"{_on(x)}: check {new.name} is ({new.expression}), no longer ({old.expression})"
    yield about(
        x,
        Kind.REGRESSION,
        message,
        x.line,
        tables=tables,
        constraint=new.name,
        before=old.expression,
        after=new.expression,
    )


def _check(name: str | None, expression: str) -> str:
    return f"{name} ({expression})" if name else f"({expression})"


@handles(d.ExtraCheck)
def _removed_check(x: d.ExtraCheck, sides: Sides) -> Iterator[Change]:
    check = x.check
    message = f"{_on(x)}: check {_check(check.name, check.expression)} removed"
    yield about(
        x,
        Kind.REGRESSION,
        message,
        check.line or x.live.line,
        tables=(x.lock, x.live),
        in_base=True,
        constraint=check.name,
        before=check.expression,
    )


@handles(d.CheckNotValidated)
def _validated_check(x: d.CheckNotValidated, sides: Sides) -> Iterator[Change]:
    if x.lock_check.validated:
        message = f"{_on(x)}: check {x.lock_check.name} must be validated now"
        yield about(
            x,
            Kind.PROGRESS,
            message,
            x.line,
            tables=(x.lock, x.live),
            constraint=x.lock_check.name,
            before=False,
            after=True,
        )


@handles(d.MissingIndex)
def _added_index(x: d.MissingIndex, sides: Sides) -> Iterator[Change]:
    index = x.index
    message = f"{_on(x)}: index {index.name} {describe_index(index)} added"
    yield about(
        x,
        Kind.PROGRESS,
        message,
        x.line,
        tables=(x.lock,),
        constraint=index.name,
        after=describe_index(index),
    )


@handles(d.ExtraIndex)
def _removed_index(x: d.ExtraIndex, sides: Sides) -> Iterator[Change]:
    index = x.index
    message = f"{_on(x)}: index {index.name} {describe_index(index)} removed"
    yield about(
        x,
        Kind.REGRESSION,
        message,
        index.line or x.live.line,
        tables=(x.lock, x.live),
        in_base=True,
        constraint=index.name,
        before=describe_index(index),
    )


@handles(d.InvalidIndex)
def _invalid_index(x: d.InvalidIndex, sides: Sides) -> Iterator[Change]:
    return iter(())  # a lock's indexes are always valid: only a live database has invalid ones


# -- what the differences do not say -----------------------------------------------------


def marks(comparison: Comparison) -> list[Change]:
    """For each table both locks have: keys and checks the new lock marks `validated: false`
    (the comparison reads that mark on the live side only), and keys, checks and indexes
    renamed with their definition kept."""
    found: list[Change] = []
    for pair in comparison.tables:
        if pair.lock is not None and pair.live is not None:
            found += _marks(pair.lock, pair.live)
    return found


def _marks(new: Table, old: Table) -> Iterator[Change]:
    def change(kind: Kind, kind_of: str, name: str | None, message: str, **fields: Any) -> Change:
        subject = d.Subject(kind_of, new.schema, new.name, name)
        column = fields.get("column")
        return Change(
            kind=kind,
            message=f"table {q(*new.key)}: {kind_of} {message}",
            line=fields.pop("line"),
            schema=new.schema,
            table=new.name,
            column=column,
            constraint=name,
            subject=subject,
            critical=critical((new, old), column),
        )

    for key, was in match_foreign_keys(new, old)[0]:
        if was is None or key != was:
            continue
        fields = {"line": key.line, "column": _fk(key)["column"]}
        if was.validated and not key.validated:
            yield change(
                Kind.REGRESSION,
                "foreign key",
                key.name,
                f"{describe_fk(key)} {_UNCHECKED}",
                **fields,
            )
        if was.name and key.name and was.name != key.name:
            yield change(
                Kind.NEUTRAL,
                "foreign key",
                key.name,
                f"{key.name} renamed from {was.name}",
                **fields,
            )
    for check, old_check, same in match_checks(new, old)[0]:
        if old_check is None or not same:
            continue
        if old_check.validated and not check.validated:
            yield change(
                Kind.REGRESSION, "check", check.name, f"{check.name} {_UNCHECKED}", line=check.line
            )
        if old_check.name and check.name and old_check.name != check.name:
            yield change(
                Kind.NEUTRAL,
                "check",
                check.name,
                f"{check.name} renamed from {old_check.name}",
                line=check.line,
            )
    for index, old_index in match_indexes(new, old)[0]:
        if old_index is not None and old_index is not index and old_index.name != index.name:
            yield change(
                Kind.NEUTRAL,
                "index",
                index.name,
                f"{index.name} renamed from {old_index.name}",
                line=index.line,
            )


# -- a unique or an index removed and added again: one change ----------------------------


def paired(differences: list[d.Difference]) -> tuple[list[Change], list[d.Difference]]:
    """The changes of a unique constraint whose columns were only reordered (the same
    uniqueness: neutral) and of an index redefined under its name (one "changed" line), and
    the differences left for their handlers."""
    found: list[Change] = []
    used: set[int] = set()
    added = [x for x in differences if isinstance(x, d.MissingUnique | d.MissingIndex)]
    for x in differences:
        if not isinstance(x, d.ExtraUnique | d.ExtraIndex) or id(x) in used:
            continue
        for y in added:
            if id(y) in used or y.subject.path[:2] != x.subject.path[:2]:
                continue
            change = _reordered(x, y) or _redefined(x, y)
            if change is not None:
                found.append(change)
                used |= {id(x), id(y)}
                break
    return found, [x for x in differences if id(x) not in used]


def _reordered(x: d.Difference, y: d.Difference) -> Change | None:
    if not (isinstance(x, d.ExtraUnique) and isinstance(y, d.MissingUnique)):
        return None
    old, new = x.unique, y.unique
    if set(old.columns) != set(new.columns) or len(old.columns) != len(new.columns):
        return None
    message = (
        f"{_on(y)}: unique {cols(new.columns)} was {cols(old.columns)}: the same uniqueness "
        "(the order of its index's columns may change which queries it speeds up)"
    )
    return about(y, Kind.NEUTRAL, message, y.line, tables=(y.lock,), **_unique(new))


def _redefined(x: d.Difference, y: d.Difference) -> Change | None:
    """An index of the same name, another definition: a non-unique one is neutral (it
    promises nothing about the data); a unique one that is no longer unique, or changed at
    all while unique (not provably as strict), is a regression; becoming unique is progress."""
    if not (isinstance(x, d.ExtraIndex) and isinstance(y, d.MissingIndex)):
        return None
    old, new = x.index, y.index
    if old.name != new.name:
        return None
    if old.unique and not new.unique:
        kind, why = Kind.REGRESSION, "no longer unique"
    elif old.unique:
        kind, why = Kind.REGRESSION, "a unique index redefined: not provably as strict"
    elif new.unique:
        kind, why = Kind.PROGRESS, "unique now"
    else:
        kind, why = Kind.NEUTRAL, "an index promises nothing about the data"
    message = (
        f"{_on(y)}: index {new.name} is {describe_index(new)}, was {describe_index(old)}: {why}"
    )
    return about(
        y,
        kind,
        message,
        y.line,
        tables=(y.lock,),
        constraint=new.name,
        before=describe_index(old),
        after=describe_index(new),
    )
