"""Rules about columns: presence, type, nullability, default."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock import expressions
from schemalock.diff import pair_columns
from schemalock.findings import Category, Finding, Severity
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
    """

    code, name = "SL103", "missing-column"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True

    def check(self, context: Context) -> Iterator[Finding]:
        for lock, live in context.matched_tables():
            for pair in context.match(pair_columns, lock, live):
                if pair.lock is not None and pair.live is None:
                    yield self.finding(
                        f"column {q(*lock.key, pair.lock.name)} is missing",
                        table=lock,
                        column=pair.lock.name,
                        line=pair.lock.line,
                        expected=pair.lock.type,
                    )


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
        for lock, live in context.matched_tables():
            for pair in context.match(pair_columns, lock, live):
                if pair.lock is None and pair.live is not None:
                    yield self.finding(
                        f"column {q(*live.key, pair.live.name)} is not in the lock",
                        table=lock,
                        column=pair.live.name,
                        line=lock.line,
                        actual=pair.live.type,
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

    def check(self, context: Context) -> Iterator[Finding]:
        for lock, pair in context.matched_columns():
            if pair.renamed and pair.lock is not None and pair.live is not None:
                yield self.finding(
                    f"column {q(*lock.key, pair.live.name)} should be renamed to "
                    f"{q(pair.lock.name)}",
                    table=lock,
                    column=pair.lock.name,
                    line=pair.lock.line,
                    expected=pair.lock.name,
                    actual=pair.live.name,
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

    def check(self, context: Context) -> Iterator[Finding]:
        for lock, pair in context.matched_columns():
            assert pair.lock
            assert pair.live
            if pair.lock.type != pair.live.type:
                yield self.finding(
                    f"column {q(*lock.key, pair.live.name)} is {pair.live.type}; "
                    f"the lock says {pair.lock.type}",
                    table=lock,
                    column=pair.lock.name,
                    line=pair.lock.line,
                    expected=pair.lock.type,
                    actual=pair.live.type,
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

    def check(self, context: Context) -> Iterator[Finding]:
        for lock, pair in context.matched_columns():
            assert pair.lock
            assert pair.live
            if pair.lock.nullable != pair.live.nullable:
                state = "allows NULL" if pair.live.nullable else "is NOT NULL"
                wanted = "NOT NULL" if not pair.lock.nullable else "NULL allowed"
                yield self.finding(
                    f"column {q(*lock.key, pair.live.name)} {state}; the lock says {wanted}",
                    table=lock,
                    column=pair.lock.name,
                    line=pair.lock.line,
                    expected=_null_text(pair.lock),
                    actual=_null_text(pair.live),
                )


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

    def check(self, context: Context) -> Iterator[Finding]:
        for lock, pair in context.matched_columns():
            assert pair.lock
            assert pair.live
            problem = _default_problem(pair.lock, pair.live)
            if problem:
                what, expected, actual = problem
                yield self.finding(
                    f"column {q(*lock.key, pair.live.name)} {what}",
                    table=lock,
                    column=pair.lock.name,
                    line=pair.lock.line,
                    expected=expected,
                    actual=actual,
                )


def _default_problem(want: Column, have: Column) -> tuple[str, str | None, str | None] | None:
    """What differs in how the column gets a value, and the two sides; None when nothing."""
    if not expressions.same(_default(want.default), _default(have.default)):
        return (
            f"default is {_shown(have.default)}; the lock says {_shown(want.default)}",
            want.default,
            have.default,
        )
    if want.identity != have.identity:
        return (
            f"identity is {have.identity or 'none'}; the lock says {want.identity or 'none'}",
            want.identity,
            have.identity,
        )
    if (
        not expressions.same(want.generated, have.generated)
        or want.generated_storage != have.generated_storage
    ):
        return (
            f"is {_generated(have)}; the lock says {_generated(want)}",
            want.generated,
            have.generated,
        )
    return None


def _default(expression: str | None) -> str | None:
    return None if expression is None or expression.strip().upper() == "NULL" else expression


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
