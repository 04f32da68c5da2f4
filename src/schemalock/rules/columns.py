"""Rules about columns: presence, type, nullability, default."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.model import Column
from schemalock.rules.base import Context, Rule, q


class MissingColumn(Rule):
    """A column the lock declares does not exist in the database.

    ## What it checks
    Every column of every table present in both lock and database exists by name.

    ## Why it matters
    Queries naming the column fail with `column ... does not exist`.

    ## Example
    The lock lists `jobs.completed_at`; the database table has no such column.

    ## Fix
    `ALTER TABLE ... ADD COLUMN`. Safe when nullable without a volatile default; a NOT NULL
    column on a populated table needs a backfill first, and `schemalock fix` plans it so.
    When the table also has a column the lock does not list, of the same type, the finding
    asks whether it was renamed: a rename the lock does not mark (`renamed_from:`) reads as a
    drop and an add, and `fix` adds an empty column beside the one holding the data.
    """

    code, name = "SL103", "missing-column"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.MissingColumn,)

    def check(self, context: Context) -> Iterator[Finding]:
        extras = context.differences(d.ExtraColumn)
        for missing in context.differences(d.MissingColumn):
            column = missing.column
            old = [e.column.name for e in _same_type(extras, missing)]
            hint = f"; renamed? add `renamed_from: {_either(old)}` to it in the lock" if old else ""
            yield self.reported(
                missing,
                f"column {q(*missing.lock.key, column.name)} is missing{hint}",
                column=column.name,
                expected=column.type,
            )


Side = TypeVar("Side", d.MissingColumn, d.ExtraColumn)


def _same_type(others: list[Side], one: d.MissingColumn | d.ExtraColumn) -> list[Side]:
    """The other side's columns of the same table and type as `one`: rename candidates."""
    return [
        other
        for other in others
        if other.lock.key == one.lock.key and other.column.type == one.column.type
    ]


def _either(names: list[str]) -> str:
    return " or ".join(q(name) for name in names)


class ExtraColumn(Rule):
    """A column exists in the database but not in the lock.

    ## What it checks
    Every column of a locked table is listed in the lock.

    ## Why it matters
    An unlisted column is unreviewed schema; it may hold data nobody knows is there, or be
    the old half of a rename.

    ## Example
    The database table `jobs` has `legacy_status`; the lock does not list it.

    ## Fix
    Add it to the lock, or mark a rename with `renamed_from:`. Nothing is generated:
    schemalock never drops a column on its own.
    """

    code, name = "SL104", "extra-column"
    severity, category = Severity.WARNING, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        missing = context.differences(d.MissingColumn)
        for extra in context.differences(d.ExtraColumn):
            column = extra.column
            new = [m.column.name for m in _same_type(missing, extra)]
            hint = (
                f"; renamed to {_either(new)}? add `renamed_from: {q(column.name)}` to it in "
                "the lock"
                if new
                else ""
            )
            yield self.reported(
                extra,
                f"column {q(*extra.live.key, column.name)} is not in the lock{hint}",
                column=column.name,
                actual=column.type,
            )


class RenamedColumn(Rule):
    """A column the lock says was renamed still has its old name in the database.

    ## What it checks
    For a column with `renamed_from: OLD`, the database has the old name and not the new one.

    ## Why it matters
    Without the mapping, the state reads as one missing and one extra column, and a naive
    migration would drop the old column with its data.

    ## Example
    The lock has `email` with `renamed_from: mail`; the database still has `mail`.

    ## Fix
    `ALTER TABLE ... RENAME COLUMN`. Safe for data; deploy the code that uses the new name
    at the same time.
    """

    code, name = "SL117", "renamed-column"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.RenamedColumn,)

    def check(self, context: Context) -> Iterator[Finding]:
        for renamed in context.differences(d.RenamedColumn):
            want, have = renamed.lock_column, renamed.live_column
            yield self.reported(
                renamed,
                f"column {q(*renamed.lock.key, have.name)} should be renamed to {q(want.name)}",
                column=want.name,
                expected=want.name,
                actual=have.name,
            )


class ColumnTypeMismatch(Rule):
    """A column's type differs from the lock.

    ## What it checks
    The column's type, as PostgreSQL's `format_type` prints it, equals the lock's type after
    aliases are resolved (`int4` is `integer`, `varchar(20)` is `character varying(20)`,
    `timestamptz` is `timestamp with time zone`, `text[]` is `_text`).

    ## Why it matters
    Queries and parameters typed for the lock fail or compare wrongly: a `text` column holding
    ids where the application sends `uuid` gives `operator does not exist: text = uuid`.

    ## Example
    The lock says `jobs.org_id: uuid`; the database column is `text`.

    ## Fix
    `ALTER COLUMN ... TYPE ... USING ...`. Not safe by default: it rewrites the table under an
    ACCESS EXCLUSIVE lock and fails on the first value that does not convert, so `schemalock
    fix` proves castability against the data first.
    """

    code, name = "SL105", "column-type-mismatch"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.ColumnChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in _changed(context, "type"):
            want, have = changed.lock_column, changed.live_column
            yield self.reported(
                changed,
                f"column {q(*changed.lock.key, have.name)} is {have.type}; "
                f"the lock says {want.type}",
                column=want.name,
                expected=want.type,
                actual=have.type,
            )


class NullabilityMismatch(Rule):
    """A column allows NULL where the lock says NOT NULL, or the other way round.

    ## What it checks
    The column's NOT NULL flag equals the lock's `nullable:` (default true; false for primary
    key, identity and serial columns).

    ## Why it matters
    A nullable column the code treats as required lets incomplete rows in; a NOT NULL column
    the lock calls optional makes inserts fail.

    ## Example
    The lock says `organizations.quota_used: {nullable: false}`; the column allows NULL.

    ## Fix
    `SET NOT NULL` through a `CHECK (... IS NOT NULL) NOT VALID` constraint, `VALIDATE`, then
    `SET NOT NULL`, so no long ACCESS EXCLUSIVE scan; it fails if NULLs exist, and no row is
    changed. `DROP NOT NULL` is instant.
    """

    code, name = "SL106", "nullability-mismatch"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.ColumnChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in _changed(context, "nullable"):
            want, have = changed.lock_column, changed.live_column
            state = "allows NULL" if have.nullable else "is NOT NULL"
            wanted = "NOT NULL" if not want.nullable else "NULL allowed"
            yield self.reported(
                changed,
                f"column {q(*changed.lock.key, have.name)} {state}; the lock says {wanted}",
                column=want.name,
                expected=_null_text(want),
                actual=_null_text(have),
            )


def _changed(context: Context, *aspects: str) -> Iterator[d.ColumnChanged]:
    """The column changes that concern any of `aspects`."""
    for changed in context.differences(d.ColumnChanged):
        if changed.aspects.intersection(aspects):
            yield changed


def _null_text(column: Column) -> str:
    return "NULL" if column.nullable else "NOT NULL"


class DefaultMismatch(Rule):
    """A column's default, identity or generation expression differs from the lock.

    ## What it checks
    The default expression equals the lock's `default:`, compared on PostgreSQL's parse tree,
    so spellings do not matter: `now()` equals `CURRENT_TIMESTAMP`, `0` equals `'0'::integer`,
    and casts the catalog adds are ignored. Identity (`always`, `by default`) and generated
    columns (expression and storage) are compared the same way.

    ## Why it matters
    Inserts that omit the column get a different value than the code expects, or none at all.

    ## Example
    The lock says `quota_used: {default: 0}`; the database column has no default.

    ## Fix
    `ALTER COLUMN ... SET DEFAULT` / `DROP DEFAULT`: instant and safe, existing rows are not
    touched. Identity and generation changes need a column rebuild and are not generated.
    """

    code, name = "SL107", "default-mismatch"
    severity, category, fixable = Severity.WARNING, Category.STRUCTURE, True
    repaired_by = (d.ColumnChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in _changed(context, "default", "identity", "generated"):
            want, have = changed.lock_column, changed.live_column
            what, expected, actual = _default_problem(changed.aspects, want, have)
            yield self.reported(
                changed,
                f"column {q(*changed.lock.key, have.name)} {what}",
                column=want.name,
                expected=expected,
                actual=actual,
            )


def _default_problem(
    aspects: frozenset[str], want: Column, have: Column
) -> tuple[str, str | None, str | None]:
    """What differs in how the column gets a value (the first of default, identity and
    generation that does), and the two sides."""
    if "default" in aspects:
        return (
            f"default is {_shown(have.default)}; the lock says {_shown(want.default)}",
            want.default,
            have.default,
        )
    if "identity" in aspects:
        return (
            f"identity is {have.identity or 'none'}; the lock says {want.identity or 'none'}",
            want.identity,
            have.identity,
        )
    return (
        f"is {_generated(have)}; the lock says {_generated(want)}",
        want.generated,
        have.generated,
    )


def _shown(expression: str | None) -> str:
    return expression if expression is not None else "none"


def _generated(column: Column) -> str:
    """How a column is generated, in the words of its DDL."""
    if column.generated is None:
        return "not generated"
    storage = (column.generated_storage or "stored").upper()
    expression = column.generated
    if not _parenthesised(expression):
        expression = f"({expression})"
    return f"GENERATED ALWAYS AS {expression} {storage}"


def _parenthesised(expression: str) -> bool:
    """Whether the whole expression is one parenthesised group, as pg_get_expr prints most
    generation expressions: `(price * qty)`, not `(a) + (b)`."""
    depth, quote = 0, ""
    for position, character in enumerate(expression):
        if quote:
            quote = "" if character == quote else quote
        elif character in "'\"":
            quote = character
        elif character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
            if depth == 0 and position < len(expression) - 1:
                return False
    return expression.startswith("(") and expression.endswith(")") and depth == 0
