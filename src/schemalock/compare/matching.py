"""Which live object answers which lock object, kind by kind.

Each matcher pairs one table's objects of one kind and returns the lock objects with their live
counterparts (or None) and the live objects nothing claimed.  Names never decide a match on
their own: definitions do, compared on PostgreSQL's parse trees where they are expressions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TypeVar

from schemalock.model import (
    CheckConstraint,
    ForeignKey,
    Index,
    Table,
    UniqueConstraint,
    expressions,
)
from schemalock.model.types import is_texty

T = TypeVar("T")

# Types PostgreSQL compares with its own equality operators, so a foreign key between them holds.
_FAMILIES = {
    "smallint": "integer",
    "integer": "integer",
    "bigint": "integer",
    "text": "text",
    "character varying": "text",
    "character": "text",
    "bpchar": "text",
    "timestamp with time zone": "timestamp",
    "timestamp without time zone": "timestamp",
}


def compatible(child: str, parent: str) -> bool:
    """Whether a foreign key from a `child` column to a `parent` column can exist."""
    return child == parent or _family(child) == _family(parent)


@cache  # a schema has a few dozen types; its foreign keys ask of them tens of thousands of times
def _family(type_name: str) -> str:
    base = re.sub(r"\(.*?\)", "", type_name).replace("  ", " ").strip()
    return _FAMILIES.get(base, base)


def _take(remaining: list[T], taken: T) -> None:
    """Remove `taken` itself: objects equal to it (another name, the same definition: names
    are not compared) stay to be paired with their own twins."""
    del remaining[next(i for i, item in enumerate(remaining) if item is taken)]


def _same_definition(want: ForeignKey, have: ForeignKey) -> bool:
    return want == have and want.name in (None, have.name)


def _same_name(want: ForeignKey, have: ForeignKey) -> bool:
    return want.name is not None and (want.name, want.columns) == (have.name, have.columns)


def _same_target(want: ForeignKey, have: ForeignKey) -> bool:
    return (want.columns, want.target) == (have.columns, have.target)


def _same_columns(want: ForeignKey, have: ForeignKey) -> bool:
    return want.columns == have.columns


_FOREIGN_KEY_PASSES: tuple[Callable[[ForeignKey, ForeignKey], bool], ...] = (
    _same_definition,
    _same_name,
    _same_target,
    _same_columns,
)


def match_foreign_keys(
    lock: Table, live: Table
) -> tuple[list[tuple[ForeignKey, ForeignKey | None]], list[ForeignKey]]:
    """Each lock FK with its live counterpart: one of the same definition first, then of the
    lock's name on the same columns, then of the same columns and target, then of the same
    columns.  Two keys on one column (a hand-made one and the column's own) pair with their
    own twins, whatever order the catalog lists them in."""
    remaining = list(live.foreign_keys)
    found: dict[int, ForeignKey] = {}
    for same in _FOREIGN_KEY_PASSES:
        for index, wanted in enumerate(lock.foreign_keys):
            if index in found:
                continue
            match = next((f for f in remaining if same(wanted, f)), None)
            if match is not None:
                found[index] = match
                _take(remaining, match)
    pairs = [(wanted, found.get(index)) for index, wanted in enumerate(lock.foreign_keys)]
    return pairs, remaining


def column_name(sql: str) -> str | None:
    """The column an SQL identifier names (`"Email"` is Email, `Email` is email), or None when
    the text is an expression."""
    if len(sql) > 1 and sql.startswith('"') and sql.endswith('"'):
        inner = sql[1:-1]
        return inner.replace('""', '"') if '"' not in inner.replace('""', "") else None
    if (
        sql
        and (sql[0].isalpha() or sql[0] == "_")
        and sql.replace("_", "a").replace("$", "a").isalnum()
    ):
        return sql.lower()
    return None


def key_columns(index: Index) -> tuple[str, ...] | None:
    """The column names of an index whose keys are all plain columns, else None."""
    columns = [column_name(key) for key in index.keys]
    return None if None in columns else tuple(c for c in columns if c is not None)


def unique_key(index: Index) -> tuple[tuple[str, ...], bool] | None:
    """(columns, nulls_not_distinct) of a unique index that does exactly what a unique
    constraint on those columns would; None for any other index."""
    if not index.unique or not index.valid or index.where is not None or index.include:
        return None
    columns = key_columns(index)
    return (columns, index.nulls_not_distinct) if columns is not None else None


def same_index(left: Index, right: Index) -> bool:
    if (left.unique, left.method, left.include, left.nulls_not_distinct) != (
        right.unique,
        right.method,
        right.include,
        right.nulls_not_distinct,
    ):
        return False
    if len(left.keys) != len(right.keys) or not expressions.same(left.where, right.where):
        return False
    return all(
        expressions.same(a, b, "index_elem") for a, b in zip(left.keys, right.keys, strict=True)
    )


def match_indexes(lock: Table, live: Table) -> tuple[list[tuple[Index, Index | None]], list[Index]]:
    """Each lock index with the live index of the same definition (names are not compared)."""
    remaining = list(live.indexes)
    constraint_keys = {(u.columns, u.nulls_not_distinct) for u in live.uniques}
    pairs: list[tuple[Index, Index | None]] = []
    for wanted in lock.indexes:
        found = next((ix for ix in remaining if same_index(ix, wanted)), None)
        if found is not None:
            _take(remaining, found)
        elif unique_key(wanted) is not None and unique_key(wanted) in constraint_keys:
            found = wanted  # enforced by a unique constraint on the same columns
        pairs.append((wanted, found))
    lock_unique_keys = {(u.columns, u.nulls_not_distinct) for u in lock.uniques}
    remaining = [ix for ix in remaining if unique_key(ix) not in lock_unique_keys]
    return pairs, remaining


def match_uniques(
    lock: Table, live: Table
) -> tuple[list[tuple[UniqueConstraint, bool]], list[UniqueConstraint]]:
    """Lock uniques and whether the database enforces them (a constraint or a unique index)."""
    remaining = list(live.uniques)
    enforced_by_index = {unique_key(ix) for ix in live.indexes}
    result = []
    for wanted in lock.uniques:
        found = next((u for u in remaining if u == wanted), None)
        if found is not None:
            _take(remaining, found)
        enforced = (
            found is not None or (wanted.columns, wanted.nulls_not_distinct) in enforced_by_index
        )
        result.append((wanted, enforced))
    lock_index_keys = {unique_key(ix) for ix in lock.indexes}
    remaining = [u for u in remaining if (u.columns, u.nulls_not_distinct) not in lock_index_keys]
    return result, remaining


def _same_meaning(want: CheckConstraint, have: CheckConstraint) -> bool:
    return expressions.same(have.expression, want.expression)


def _same_name_and_meaning(want: CheckConstraint, have: CheckConstraint) -> bool:
    return want.name == have.name and _same_meaning(want, have)


def _same_check_name(want: CheckConstraint, have: CheckConstraint) -> bool:
    return want.name is not None and want.name == have.name


def match_checks(
    lock: Table, live: Table
) -> tuple[list[tuple[CheckConstraint, CheckConstraint | None, bool]], list[CheckConstraint]]:
    """Each lock check with the live check of the same meaning and name; else of the same
    meaning under a name no other lock check holds (a check renamed); else of the same name
    (a check redefined); else of the same meaning.  The bool says whether the meaning is the
    same.  A live check keeps its name before its meaning: `k2` redefined while another check
    takes its old meaning is `k2` changed and the other added, in one plan."""
    claimed = {c.name for c in lock.checks if c.name is not None}

    def renamed(want: CheckConstraint, have: CheckConstraint) -> bool:
        return have.name not in claimed and _same_meaning(want, have)

    passes: tuple[tuple[Callable[[CheckConstraint, CheckConstraint], bool], bool], ...] = (
        (_same_name_and_meaning, True),
        (renamed, True),
        (_same_check_name, False),
        (_same_meaning, True),
    )
    remaining = list(live.checks)
    found: dict[int, tuple[CheckConstraint, bool]] = {}
    for same, same_meaning in passes:
        for index, wanted in enumerate(lock.checks):
            if index in found:
                continue
            match = next((c for c in remaining if same(wanted, c)), None)
            if match is not None:
                found[index] = (match, same_meaning)
                _take(remaining, match)
    result = []
    for index, wanted in enumerate(lock.checks):
        match, same_meaning = found.get(index, (None, False))
        result.append((wanted, match, same_meaning))
    return result, remaining


def unique_columns(parent: Table, referenced: str) -> list[str]:
    """The parent's columns other than `referenced` that are unique on their own: a primary
    key, a unique constraint or a unique index without predicate, of one column each."""
    single = [u.columns[0] for u in parent.uniques if len(u.columns) == 1]
    single += [
        key[0][0] for key in map(unique_key, parent.indexes) if key is not None and len(key[0]) == 1
    ]
    if parent.primary_key and len(parent.primary_key.columns) == 1:
        single.append(parent.primary_key.columns[0])
    return sorted({c for c in single if c != referenced})


def other_unique_columns(parent: Table, referenced: str) -> list[str]:
    """The parent's other single-column unique keys of a text type: what a text reference may
    hold instead of `referenced` (Clerk ids instead of uuids), which a conversion maps."""
    return [c for c in unique_columns(parent, referenced) if _texty(parent, c)]


def _texty(table: Table, name: str) -> bool:
    column = table.column(name)
    return column is not None and is_texty(column.type)
