"""Rules about indexes."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock import expressions
from schemalock.findings import Category, Finding, Severity
from schemalock.model import Index, Table
from schemalock.rules.base import Context, Rule, q


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


def describe_index(index: Index) -> str:
    text = f"{'UNIQUE ' if index.unique else ''}{index.method} ({', '.join(index.keys)})"
    if index.include:
        text += f" INCLUDE ({', '.join(index.include)})"
    return text + (f" WHERE {index.where}" if index.where else "")


def match_indexes(lock: Table, live: Table) -> tuple[list[tuple[Index, Index | None]], list[Index]]:
    """Each lock index with the live index of the same definition (names are not compared)."""
    remaining = list(live.indexes)
    constraint_keys = {(u.columns, u.nulls_not_distinct) for u in live.uniques}
    pairs: list[tuple[Index, Index | None]] = []
    for wanted in lock.indexes:
        found = next((ix for ix in remaining if same_index(ix, wanted)), None)
        if found is not None:
            remaining.remove(found)
        elif unique_key(wanted) is not None and unique_key(wanted) in constraint_keys:
            found = wanted  # enforced by a unique constraint on the same columns
        pairs.append((wanted, found))
    lock_unique_keys = {(u.columns, u.nulls_not_distinct) for u in lock.uniques}
    remaining = [ix for ix in remaining if unique_key(ix) not in lock_unique_keys]
    return pairs, remaining


class MissingIndex(Rule):
    """An index the lock declares does not exist in the database.

    ## What it checks
    Every index under `indexes:` has a live counterpart with the same keys (columns or
    expressions, with opclass and ordering), uniqueness, method, INCLUDE columns and partial
    `WHERE` predicate. Names are not compared; definitions are, on PostgreSQL's parse tree.

    ## Why it matters
    Queries the index was made for fall back to sequential scans; a missing unique index lets
    duplicates in.

    ## Example
    The lock lists `jobs_org_id_idx: {columns: [org_id]}`; the database has no index on
    `jobs (org_id)`.

    ## Fix
    `CREATE INDEX CONCURRENTLY` in an autocommit block: reads and writes continue during the
    build. Safe.
    """

    code, name = "SL112", "missing-index"
    severity, category, fixable = Severity.WARNING, Category.STRUCTURE, True

    def check(self, context: Context) -> Iterator[Finding]:
        for lock, live in context.matched_tables():
            for wanted, found in context.match(match_indexes, lock, live)[0]:
                if found is None:
                    yield self.finding(
                        f"table {q(*lock.key)} has no index {describe_index(wanted)}"
                        f" (lock: {q(wanted.name)})",
                        table=lock,
                        constraint=wanted.name,
                        line=wanted.line,
                        expected=describe_index(wanted),
                    )


class ExtraIndex(Rule):
    """An index exists in the database but not in the lock.

    ## What it checks
    Every valid stand-alone index of a locked table matches an index or unique entry of the
    lock. Indexes behind primary keys and unique constraints belong to those.

    ## Why it matters
    Every index costs write throughput and storage; an unlisted one is unreviewed, often a
    hand-made production hotfix nobody will recreate on the next environment.

    ## Example
    The database has `jobs_created_at_idx`; the lock does not list it.

    ## Fix
    Add it to the lock (`schemalock snapshot` shows its definition). Nothing is generated.
    """

    code, name = "SL118", "extra-index"
    severity, category = Severity.WARNING, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for lock, live in context.matched_tables():
            for index in context.match(match_indexes, lock, live)[1]:
                if index.valid:
                    yield self.finding(
                        f"index {q(live.schema, index.name)} {describe_index(index)} is not in "
                        "the lock",
                        table=lock,
                        constraint=index.name,
                        line=lock.line,
                        actual=describe_index(index),
                    )


class InvalidIndex(Rule):
    """An index exists but is INVALID: PostgreSQL maintains it yet never uses it.

    ## What it checks
    No index of a locked table has `indisvalid = false` (or is not ready).

    ## Why it matters
    A `CREATE INDEX CONCURRENTLY` that failed or was cancelled leaves an invalid index behind:
    it slows every write and speeds up no read, and for a unique index it enforces nothing for
    the rows it missed. It looks present to anyone reading the schema.

    ## Example
    A concurrent build of `jobs_org_id_idx` was cancelled; psql's `\\d jobs` shows it as
    INVALID.

    ## Fix
    `DROP INDEX CONCURRENTLY`, then `CREATE INDEX CONCURRENTLY` again. Safe.
    """

    code, name = "SL115", "invalid-index"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True

    def check(self, context: Context) -> Iterator[Finding]:
        for _, live in context.matched_tables():
            for index in live.indexes:
                if not index.valid:
                    yield self.finding(
                        f"index {q(live.schema, index.name)} on {q(*live.key)} is INVALID",
                        table=live,
                        constraint=index.name,
                        line=_lock_line(context, live, index.name),
                        actual="invalid",
                    )


def _lock_line(context: Context, live: Table, index_name: str) -> int | None:
    lock = context.lock.database.tables.get(live.key)
    if lock is None:
        return None
    for index in lock.indexes:
        if index.name == index_name:
            return index.line
    return lock.line
