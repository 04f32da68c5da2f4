"""Rules about indexes."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.model import Index
from schemalock.rules.base import Context, Rule, q


def describe_index(index: Index) -> str:
    text = f"{'UNIQUE ' if index.unique else ''}{index.method} ({', '.join(index.keys)})"
    if index.include:
        text += f" INCLUDE ({', '.join(index.include)})"
    return text + (f" WHERE {index.where}" if index.where else "")


class MissingIndex(Rule):
    """An index the lock declares does not exist in the database.

    ## What it checks
    Every index under `indexes:` has a live counterpart with the same keys (columns or
    expressions, with opclass and ordering), uniqueness, method, INCLUDE columns and partial
    `WHERE` predicate. Names are not compared; definitions are, on PostgreSQL's parse tree.
    So does every index a partition lists of its own (`partitions: {name: {bound, indexes}}`),
    reported with the partition as the table.

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
    repaired_by = (d.MissingIndex,)

    def check(self, context: Context) -> Iterator[Finding]:
        for missing in context.differences(d.MissingIndex):
            wanted = missing.index
            yield self.reported(
                missing,
                f"table {q(*missing.lock.key)} has no index {describe_index(wanted)}"
                f" (lock: {q(wanted.name)})",
                constraint=wanted.name,
                expected=describe_index(wanted),
            )


class ExtraIndex(Rule):
    """An index exists in the database but not in the lock.

    ## What it checks
    Every valid stand-alone index of a locked table matches an index or unique entry of the
    lock. Indexes behind primary keys and unique constraints belong to those. A partition's
    own indexes (not attached to an index of its parent) are checked against the ones the
    lock lists on that partition, when the lock lists the partitions.

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
        for extra in context.differences(d.ExtraIndex):
            index = extra.index
            yield self.reported(
                extra,
                f"index {q(extra.live.schema, index.name)} {describe_index(index)} is not in "
                "the lock",
                constraint=index.name,
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
    repaired_by = (d.InvalidIndex,)

    def check(self, context: Context) -> Iterator[Finding]:
        for invalid in context.differences(d.InvalidIndex):
            live, index = invalid.live, invalid.index
            yield self.reported(
                invalid,
                f"index {q(live.schema, index.name)} on {q(*live.key)} is INVALID",
                constraint=index.name,
                actual="invalid",
            )
