"""Rules about whole tables."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.rules.base import Context, Rule, q


class MissingTable(Rule):
    """A table the lock declares does not exist in the database.

    ## What it checks
    Every table under `tables:` exists (ordinary or partitioned) in its schema.

    ## Why it matters
    Code that reads or writes the table fails at run time; a deploy that dropped it, or a
    migration that never ran, shows up here before users do.

    ## Example
    The lock lists `jobs`; the database has no `public.jobs`.

    ## Fix
    `schemalock fix` creates the table from the lock. Safe: creating a table touches no data.
    """

    code, name = "SL101", "missing-table"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.MissingTable,)

    def check(self, context: Context) -> Iterator[Finding]:
        for missing in context.differences(d.MissingTable):
            yield self.reported(missing, f"table {q(*missing.lock.key)} is missing")


class ExtraTable(Rule):
    """A table exists in the database but not in the lock.

    ## What it checks
    Every table in the schemas the lock covers is listed under `tables:` or matched by
    `database.ignore`. Partitions count as their parent, not as tables of their own, and
    Alembic's version table (`alembic_version`, or any table whose one column is
    `version_num`: an environment's own `version_table`) is bookkeeping, never extra.

    ## Why it matters
    An unlisted table is unreviewed schema: a forgotten experiment, a legacy copy still
    receiving writes, or a migration the lock never learned about.

    ## Example
    The database has `public.users_backup`; the lock does not mention it.

    ## Fix
    Add it to the lock (`schemalock snapshot` shows its definition) or to `database.ignore`.
    Nothing is generated: schemalock never drops a table on its own.
    """

    code, name = "SL102", "extra-table"
    severity, category = Severity.WARNING, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for extra in context.differences(d.ExtraTable):
            yield self.reported(extra, f"table {q(*extra.live.key)} is not in the lock")


class RenamedTable(Rule):
    """A table the lock says was renamed still has its old name in the database.

    ## What it checks
    For a table with `renamed_from: OLD`, the database has neither the new name nor anything
    but the old one. Without `renamed_from` the same state reads as one missing and one extra
    table.

    ## Why it matters
    Code written for the new name fails; a tool that saw "drop + create" would lose the rows.

    ## Example
    The lock lists `organizations` with `renamed_from: orgs`; the database still has `orgs`.

    ## Fix
    `ALTER TABLE ... RENAME TO ...`. Safe for data, but running code that uses the old name
    breaks at that moment: deploy the code change together with the rename.
    """

    code, name = "SL116", "renamed-table"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.RenamedTable,)

    def check(self, context: Context) -> Iterator[Finding]:
        for renamed in context.differences(d.RenamedTable):
            yield self.reported(
                renamed,
                f"table {q(*renamed.live.key)} should be renamed to {q(renamed.lock.name)}",
                expected=renamed.lock.name,
                actual=renamed.live.name,
            )


class PartitionMismatch(Rule):
    """A table's partitioning differs from the lock.

    ## What it checks
    A table with `partition_by:` is partitioned by that key in the database, and a table
    without it is not partitioned. Keys are compared on PostgreSQL's parse tree.

    ## Why it matters
    Partitioning decides how data is stored, pruned and retained; it cannot be changed in
    place, so a difference means the table was created from a different definition.

    ## Example
    The lock says `partition_by: RANGE (created_at)`; the database table is not partitioned.

    ## Fix
    Manual: recreate the table partitioned and move the rows. Not generated (it rewrites the
    table).
    """

    code, name = "SL120", "partition-mismatch"
    severity, category = Severity.ERROR, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.PartitioningChanged):
            lock, live = changed.lock, changed.live
            expected = lock.partition_by or "not partitioned"
            actual = live.partition_by or "not partitioned"
            yield self.reported(
                changed,
                f"table {q(*live.key)} is partitioned {actual}; the lock says {expected}"
                if live.partition_by
                else f"table {q(*live.key)} is not partitioned; the lock says {expected}",
                expected=expected,
                actual=actual,
            )
