"""Rules about the partitions of partitioned tables and about table inheritance."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.rules.base import Context, Rule, q


def _parents(parents: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(q(*parent) for parent in parents) or "no table"


class MissingPartition(Rule):
    """A partition the lock declares is not a partition of its table in the database.

    ## What it checks
    Every entry under a table's `partitions:` (and under a sub-partitioned partition's) is a
    partition of some partitioned table in the database. A table without `partitions:` declares
    none and is not checked (locks written before partitions were locked stay silent);
    `schemalock snapshot` writes them.

    ## Why it matters
    A row whose key falls in the missing partition's range has nowhere to go (the insert
    fails), or lands in the DEFAULT partition, where retention jobs and pruning do not expect
    it. A partition detached by hand keeps its rows but takes them out of every query of the
    parent.

    ## Example
    The lock lists `events_2027: FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')` under
    `events`; the database has no such partition, or `events_2027` is a table of its own.

    ## Fix
    `schemalock fix` creates it (`CREATE TABLE ... PARTITION OF ... FOR VALUES ...`), refused
    while the DEFAULT partition holds rows of its range (the create would fail on them; move
    them first). A detached partition is left for a person, with the `ATTACH PARTITION`
    statement.
    """

    code, name = "SL131", "missing-partition"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.MissingPartition,)

    def check(self, context: Context) -> Iterator[Finding]:
        for missing in context.differences(d.MissingPartition):
            partition = missing.partition
            where = f"partition {q(*partition.key)} of {q(*missing.parent)} ({partition.bound})"
            message = (
                f"{where} is missing: {q(*partition.key)} is a table of its own (detached)"
                if missing.detached
                else f"{where} is missing"
            )
            yield self.reported(
                missing, message, constraint=missing.subject.name, expected=partition.bound
            )


class ExtraPartition(Rule):
    """A partitioned table has a partition the lock does not declare.

    ## What it checks
    Every partition of a table whose lock entry lists `partitions:` is listed there (a
    partition of a sub-partitioned partition, under that partition's `partitions:`).

    ## Why it matters
    An unlisted partition is unreviewed schema: a range created by hand or by a job the lock
    never learned about, or a partition left behind that still takes rows.

    ## Example
    The lock lists `events_2026` under `events`; the database also has `events_2030`.

    ## Fix
    Add it to the lock (`schemalock snapshot` writes it). Nothing is generated: schemalock never
    detaches or drops a partition, which would take its rows out of the table.
    """

    code, name = "SL132", "extra-partition"
    severity, category = Severity.WARNING, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for extra in context.differences(d.ExtraPartition):
            partition = extra.partition
            yield self.reported(
                extra,
                f"partition {q(*partition.key)} of {q(*extra.parent)} ({partition.bound}) "
                "is not in the lock",
                constraint=extra.subject.name,
                actual=partition.bound,
            )


class PartitionChanged(Rule):
    """A partition has another bound, parent or partitioning than the lock says.

    ## What it checks
    For each partition the lock declares and the database has: its bound (compared on
    PostgreSQL's parse tree: `IN` lists in any order, literal casts aside), the table (or
    sub-partitioned partition) it is attached to, and, for a sub-partitioned one, its
    partition key.

    ## Why it matters
    The bound decides which rows a partition holds: another range sends rows elsewhere, and
    retention that drops "the 2026 partition" drops other rows. A partition attached to
    another table answers that table's queries.

    ## Example
    The lock says `events_2026: FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')`; the database
    has it `FROM ('2026-01-01') TO ('2026-07-01')`.

    ## Fix
    Manual: detach the partition and attach it again with the lock's bound, which moves rows
    (rows outside the new bound make the attach fail; a DEFAULT partition is scanned). `fix`
    writes the statements in its notes and runs none of them.
    """

    code, name = "SL133", "partition-changed"
    severity, category = Severity.ERROR, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.PartitionChanged):
            want, have = changed.lock_partition, changed.live_partition
            name = f"partition {q(*want.key)}"
            parts = []
            if "parent" in changed.aspects:
                parts.append(
                    f"is a partition of {q(*changed.live_parent)}; the lock says of "
                    f"{q(*changed.lock_parent)}"
                )
            if "bound" in changed.aspects:
                parts.append(f"has {have.bound}; the lock says {want.bound}")
            if "partitioning" in changed.aspects:
                parts.append(
                    f"is partitioned {have.partition_by or 'not at all'}; the lock says "
                    f"{want.partition_by or 'not partitioned'}"
                )
            yield self.reported(
                changed,
                f"{name} {', and '.join(parts)}",
                constraint=changed.subject.name,
                expected=want.bound,
                actual=have.bound,
            )


class InheritanceMismatch(Rule):
    """A table inherits from other tables than the lock says.

    ## What it checks
    A table's parents (`CREATE TABLE ... INHERITS`, legacy inheritance rather than
    partitioning) are those of its `inherits:`, in that order; a table without `inherits:`
    inherits from none.

    ## Why it matters
    A query of the parent reads the rows of every child: a table that stopped inheriting
    takes its rows out of those queries, one that started adds them, and the children's
    inherited columns and checks follow the parent.

    ## Example
    The lock says `measurements_2026: {inherits: [measurements]}`; the database table inherits
    from nothing (`ALTER TABLE ... NO INHERIT` ran).

    ## Fix
    `ALTER TABLE child INHERIT parent` or `NO INHERIT parent`. `fix` writes the statements in
    its notes and runs none of them: either changes what every query of the parent returns.
    """

    code, name = "SL134", "inheritance-mismatch"
    severity, category = Severity.ERROR, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.InheritanceChanged):
            want, have = changed.lock.inherits, changed.live.inherits
            yield self.reported(
                changed,
                f"table {q(*changed.live.key)} inherits from {_parents(have)}; the lock says "
                f"{_parents(want)}",
                expected=_parents(want),
                actual=_parents(have),
            )
