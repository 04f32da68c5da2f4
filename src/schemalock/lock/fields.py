"""Lock fields that reach SQL as written, checked when the lock is loaded.

`fix` splices some values of the lock into the statements it writes: a column's type (`ALTER
COLUMN ... TYPE <type> USING x::<type>`, the casts its proofs run), an index's access method
(`USING <method>`), the names an index INCLUDEs.  Each must be exactly one of its kind, or the
lock is refused with the line and column of the value.  Expressions (defaults, checks, index
keys with their operator classes, collations and ordering, predicates, partition keys) are
judged by `invalid-expression` (SL006), which makes the lock invalid for every command; names
are quoted wherever they are used, so any text is a name.

Contradictions PostgreSQL refuses in a table definition (a default and an identity, an identity
on a text column) are refused here too: `fix` would otherwise write a revision that fails.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from schemalock.lock.paths import ConversionError, Path

if TYPE_CHECKING:
    from schemalock.lock.format import ColumnSpec
    from schemalock.lock.format_base import IndexSpec
    from schemalock.lock.format_constraints import ForeignKeySpec
    from schemalock.model import Index

MAX_NAME_BYTES = 63  # PostgreSQL's identifier limit, which enum labels share

_IDENTIFIER = r'(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")'
_MODIFIER = r"(?:-?[0-9]+|[A-Za-z_][A-Za-z0-9_]*)"
# A type as the loader spells it (`types.canonical_type`): a name, perhaps qualified, its words
# (`double precision`, `timestamp(3) with time zone`, `interval day to second(3)`), modifiers
# of numbers or words (`numeric(12,2)`, `geometry(Point,4326)`), array brackets.
_TYPE = re.compile(
    rf"^{_IDENTIFIER}(?:\.{_IDENTIFIER})?(?: [a-z]+)*"
    rf"(?:\({_MODIFIER}(?:,{_MODIFIER})*\))?(?: [a-z]+)*(?:\[[0-9]*\])*$"
)
_METHOD = re.compile(r"^[a-z_][a-z0-9_]*$")
_COLUMN = re.compile(rf"^{_IDENTIFIER}$")
_IDENTITY_TYPES = frozenset({"smallint", "integer", "bigint"})


def _error(message: str, path: Path) -> ConversionError:
    return ConversionError(message, path)


def sql_type(spelling: str, canonical: str, path: Path) -> str:
    """`canonical` (the type `spelling` reads as), refused unless it is one type name."""
    if not _TYPE.match(canonical):
        raise _error(
            f"type {spelling!r} is not one type name (a name, its modifiers in parentheses, "
            "array brackets)",
            path,
        )
    return canonical


def index_method(method: str, path: Path) -> str:
    """An access method (`btree`, `gin`, `hnsw`, ...): one plain name, as `USING` takes it."""
    lowered = method.strip().lower()
    if not _METHOD.match(lowered) or len(lowered.encode()) > MAX_NAME_BYTES:
        raise _error(
            f"method {method!r} is not an index access method name (btree, hash, gist, gin, "
            "brin, spgist, or an extension's)",
            path,
        )
    return lowered


def included_columns(columns: list[str], path: Path) -> tuple[str, ...]:
    """INCLUDE takes column names only: plain, or in double quotes."""
    for number, column in enumerate(columns):
        if not _COLUMN.match(column):
            raise _error(
                f"include: {column!r} is not a column name (INCLUDE lists columns, not "
                "expressions)",
                (*path, number),
            )
    return tuple(columns)


def enum_labels(labels: list[str], path: Path) -> tuple[str, ...]:
    for number, label in enumerate(labels):
        if len(label.encode()) > MAX_NAME_BYTES:
            raise _error(
                f"enum label {label[:20]!r}... is {len(label.encode())} bytes; PostgreSQL "
                f"takes at most {MAX_NAME_BYTES}",
                (*path, number),
            )
    return tuple(labels)


def column_filling(spec: ColumnSpec, type_name: str, serial: bool, path: Path) -> None:
    """At most one of a default (a serial's sequence is one), an identity and a generation
    expression; an identity only on smallint, integer or bigint (PostgreSQL's rules)."""
    given = [
        key
        for key, present in (
            ("default", spec.default is not None or serial),
            ("identity", spec.identity is not None),
            ("generated", spec.generated is not None),
        )
        if present
    ]
    if len(given) > 1:
        what = " and ".join(f"`{key}`" for key in given)
        serial_note = " (a serial type's sequence is its default)" if serial else ""
        raise _error(f"a column takes only one of {what}{serial_note}", (*path, given[1]))
    if spec.identity is not None and type_name not in _IDENTITY_TYPES:
        raise _error(
            f"an identity column is smallint, integer or bigint, not {type_name}",
            (*path, "identity"),
        )


def deferral(spec: ForeignKeySpec, path: Path) -> None:
    if spec.initially_deferred and not spec.deferrable:
        raise _error(
            "`initially_deferred: true` needs `deferrable: true`", (*path, "initially_deferred")
        )


def index(name: str, spec: IndexSpec, owner: Path, line: Callable[[Path], int | None]) -> Index:
    """The lock's index `name` of the table or materialized view at `owner`, as the model
    holds it (`line` finds a path's line in the lock)."""
    from schemalock.model import Index

    path = (*owner, "indexes", name)
    return Index(
        name=name,
        keys=tuple(spec.columns),
        unique=spec.unique,
        method=index_method(spec.method, (*path, "method")),
        where=spec.where,
        include=included_columns(spec.include, (*path, "include")),
        nulls_not_distinct=spec.nulls_not_distinct,
        line=line(path),
    )
