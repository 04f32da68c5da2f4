"""Rules about whether relations hold: validated constraints and orphaned rows."""

from __future__ import annotations

import re
from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.model import ForeignKey, Index, Table
from schemalock.probe import OrphanCount
from schemalock.probe.samples import redact
from schemalock.rules.base import Context, Rule, cols, q, rows
from schemalock.rules.keys import describe_fk


def relations(context: Context) -> Iterator[tuple[Table, Table, ForeignKey, Table]]:
    """Every relation the lock declares whose tables exist: (lock child, live child, lock
    foreign key, live parent)."""
    assert context.live is not None
    for lock, live in context.matched_tables():
        for fk in lock.foreign_keys:
            parent = context.live.tables.get((fk.ref_schema, fk.ref_table))
            if parent is not None:
                yield lock, live, fk, parent


def unproven(context: Context) -> set[int]:
    """The lock's foreign keys (by identity) that no validated key of the database guarantees:
    missing, pointing elsewhere, or NOT VALID."""
    keys = {id(x.foreign_key) for x in context.differences(d.MissingForeignKey)}
    changed = context.differences(d.ForeignKeyChanged)
    keys |= {id(x.lock_key) for x in changed if "target" in x.aspects}
    keys |= {id(x.lock_key) for x in context.differences(d.ForeignKeyNotValidated)}
    return keys


def orphan_count(
    context: Context, rule: str, live: Table, fk: ForeignKey, parent: Table
) -> OrphanCount | None:
    assert context.probe is not None
    return context.probe.orphans(rule, live, fk, parent)


class FkNotValidated(Rule):
    """A foreign key exists but was added NOT VALID and never validated.

    ## What it checks
    Every foreign key matching a relation of the lock is validated (`convalidated`), unless
    the lock marks it `validated: false` (knowingly left NOT VALID; `snapshot` writes the mark).
    Orphans are counted either way, by `fk-orphans`.

    ## Why it matters
    A NOT VALID foreign key checks new rows only: rows written before it may point nowhere,
    and the planner cannot rely on it. It is the first half of a safe migration whose second
    half never ran.

    ## Example
    `ALTER TABLE quota_usage ADD CONSTRAINT quota_usage_job_id_fkey ... NOT VALID` with no
    `VALIDATE CONSTRAINT` after it.

    ## Fix
    `ALTER TABLE ... VALIDATE CONSTRAINT ...`: SHARE UPDATE EXCLUSIVE, so reads and writes go
    on. It fails while orphans exist (`fk-orphans` counts them).
    """

    code, name = "SL202", "fk-not-validated"
    severity, category, fixable = Severity.ERROR, Category.INTEGRITY, True
    repaired_by = (d.ForeignKeyNotValidated,)

    def check(self, context: Context) -> Iterator[Finding]:
        for pending in context.differences(d.ForeignKeyNotValidated):
            wanted, found = pending.lock_key, pending.live_key
            if not wanted.validated:
                continue  # the lock says so: knowingly NOT VALID
            yield self.reported(
                pending,
                f"foreign key {q(found.name)} {describe_fk(found)} on {q(*pending.live.key)} "
                "is NOT VALID: rows written before it were never checked",
                constraint=found.name,
                column=wanted.columns[0] if len(wanted.columns) == 1 else None,
            )


class FkOrphans(Rule):
    """Child rows reference parent rows that do not exist.

    ## What it checks
    For every relation of the lock that no validated foreign key proves, the exact number of
    child rows whose key is entirely non-NULL and matches no parent row (MATCH SIMPLE: a key
    with a NULL part is not checked), with a few sample keys. It is an anti-join inside
    PostgreSQL (`NOT EXISTS`, never `NOT IN`). A `text` child of a `uuid` parent is compared
    as uuid, and a `text` child of an integer parent as that integer type, PostgreSQL deciding
    what reads as one (`pg_input_is_valid` from 16, an equivalent proven against real casts
    before); values that do not are counted separately, with samples of their own. A `char(n)`
    child is read without its padding. One scan of the child counts both and keeps the first
    sample keys (redacted like every sample); where a validated foreign key exists, nothing is
    scanned. Under `--sample` the counts are estimates for the whole table.

    ## Why it matters
    Orphans are what a missing or unvalidated foreign key lets in: usage charged to jobs that
    do not exist, subscriptions of deleted organizations. They also make adding or validating
    the constraint fail.

    ## Example
    12 rows of `quota_usage.job_id` reference no `jobs.id`.

    ## Fix
    Decide per row: restore the parent, or move the orphans aside (`schemalock fix --orphans
    quarantine`). Never deleted unless asked for by name.
    """

    code, name = "SL201", "fk-orphans"
    severity, category, fixable = Severity.ERROR, Category.INTEGRITY, True
    repaired_by = (d.MissingForeignKey, d.ForeignKeyNotValidated)
    needs_data = True

    def check(self, context: Context) -> Iterator[Finding]:
        if context.probe is None:
            return
        guaranteed_not = unproven(context)
        for lock, live, fk, parent in relations(context):
            if id(fk) not in guaranteed_not:
                continue
            counted = orphan_count(context, self.name, live, fk, parent)
            if counted is None:
                continue
            column = fk.columns[0] if len(fk.columns) == 1 else None
            where = f"{q(*live.key)}{cols(fk.columns)}"
            target = f"{q(*parent.key)}{cols(fk.ref_columns)}"
            estimated = context.probe.estimates
            # A key of several columns is as long as they are together: each gets the length
            # a one-column sample has.
            limit = 40 * len(fk.columns)
            if counted.orphans:
                yield self.finding(
                    f"{rows(context, counted.orphans)} of {where} reference no {target} "
                    f"(compared {counted.compared_as})",
                    table=lock,
                    column=column,
                    constraint=fk.name,
                    line=fk.line,
                    subject=d.Subject("foreign key", *lock.key, fk.name),
                    count=counted.orphans,
                    samples=tuple(redact(s, limit) for s in counted.samples),
                    estimated=estimated,
                )
            if counted.invalid:
                parent_column = parent.column(fk.ref_columns[0])
                kind = parent_column.type if parent_column else "of the parent's type"
                yield self.finding(
                    f"{rows(context, counted.invalid)} of {where} hold values that are not "
                    f"{kind} at all, so they can reference no {target}",
                    table=lock,
                    column=column,
                    constraint=fk.name,
                    line=fk.line,
                    subject=d.Subject("foreign key", *lock.key, fk.name),
                    count=counted.invalid,
                    samples=tuple(redact(s, limit) for s in counted.invalid_samples),
                    estimated=estimated,
                )


class CheckNotValidated(Rule):
    """A check constraint exists but was added NOT VALID and never validated.

    ## What it checks
    Every check of the lock that the database holds (the same meaning, compared as
    `check-mismatch` compares) is validated (`convalidated`), unless the lock marks it
    `validated: false`: `{expression: ..., validated: false}` under `checks:`, which
    `snapshot` writes for every NOT VALID check. Structure only: `check-violations` counts
    the rows that break it.

    ## Why it matters
    A NOT VALID check holds for rows written after it only: older rows may break it, and
    PostgreSQL relies on it nowhere (no partition pruning, no proof for SET NOT NULL). It is
    the first half of a safe migration whose second half never ran, and `schemalock fix`
    itself leaves checks so while rows break them.

    ## Example
    `ALTER TABLE jobs ADD CONSTRAINT results_nonnegative CHECK (results_count >= 0) NOT VALID`
    with no `VALIDATE CONSTRAINT` after it.

    ## Fix
    `ALTER TABLE ... VALIDATE CONSTRAINT ...`: SHARE UPDATE EXCLUSIVE, so reads and writes go
    on. `schemalock fix` plans it once it has proven that no row breaks the check; while rows
    do, it leaves the check NOT VALID and says how many. Safe. To keep a check NOT VALID on
    purpose, mark it `validated: false` in the lock.
    """

    code, name = "SL205", "check-not-validated"
    severity, category, fixable = Severity.ERROR, Category.INTEGRITY, True
    repaired_by = (d.CheckNotValidated,)

    def check(self, context: Context) -> Iterator[Finding]:
        for pending in context.differences(d.CheckNotValidated):
            wanted, found = pending.lock_check, pending.live_check
            if not wanted.validated:
                continue  # the lock says so: knowingly NOT VALID
            yield self.reported(
                pending,
                f"check {q(found.name)} ({found.expression}) on {q(*pending.live.key)} is NOT "
                "VALID: rows written before it were never checked",
                constraint=found.name,
            )


class CheckViolations(Rule):
    """Rows break a check constraint the database has not validated.

    ## What it checks
    For every check of the lock that the database holds NOT VALID, the exact number of rows
    for which its expression is false (a NULL result passes, as in PostgreSQL), with the
    primary keys of a few (redacted like every sample). The expression is the database's own,
    evaluated inside PostgreSQL in one scan under the run's timeouts, in a READ ONLY
    transaction; a check that calls a function, an operator or a type outside pg_catalog is
    not run (inconclusive): reading rows would run that code. Rows are counted whether or not
    the lock marks the check `validated: false`: the mark says the check never read the old
    rows, not that rows breaking it are fine (as `fk-orphans` counts orphans under a NOT VALID
    foreign key). Under `--sample` the count is an estimate.

    ## Why it matters
    These rows hold values the lock rules out, and they are what `VALIDATE CONSTRAINT` fails
    on: the check cannot be completed until someone decides what they become.

    ## Example
    3 rows of `jobs` have `results_count < 0` under the NOT VALID check
    `jobs_results_count_check`.

    ## Fix
    Correct the rows (a decision per row: nothing is generated, nothing deleted); then
    `schemalock fix` proves no row breaks the check and validates it.
    """

    code, name = "SL206", "check-violations"
    severity, category = Severity.ERROR, Category.INTEGRITY
    needs_data = True

    def check(self, context: Context) -> Iterator[Finding]:
        if context.probe is None:
            return
        for pending in context.differences(d.CheckNotValidated):
            wanted, found, live = pending.lock_check, pending.live_check, pending.live
            assert found.name is not None
            counted = context.probe.check_violations(self.name, live, found.name)
            if counted is None or not counted.violations:
                continue
            known = " (NOT VALID, as the lock says)" if not wanted.validated else ""
            yield self.reported(
                pending,
                f"{rows(context, counted.violations)} of {q(*live.key)} break check "
                f"{q(found.name)} ({found.expression}){known}",
                constraint=found.name,
                count=counted.violations,
                samples=tuple(redact(s, 80) for s in counted.samples),
                estimated=context.probe.estimates,
            )


def _leading_columns(index: Index) -> tuple[str, ...]:
    """The columns a valid, complete btree index can look rows up by: its plain-column keys up
    to the first expression, whatever their ordering or opclass."""
    if not index.valid or index.where is not None or index.method != "btree":
        return ()
    columns = []
    for key in index.keys:
        column = _key_column(key)
        if column is None:
            break
        columns.append(column)
    return tuple(columns)


_ORDERING = re.compile(r"(\s+(ASC|DESC))?(\s+NULLS\s+(FIRST|LAST))?$", re.IGNORECASE)


def _key_column(key: str) -> str | None:
    """The column an index key names. Plain and ordered keys are read here; only the rare key
    with an opclass or a collation is parsed (pglast costs 80 ms to import, a key ~0.1 ms)."""
    from schemalock.compare.matching import column_name
    from schemalock.model.expressions import indexed_column

    bare = _ORDERING.sub("", key.strip())
    if (found := column_name(bare)) is not None:
        return found
    return None if "(" in bare else indexed_column(key)


def _supports(key: tuple[str, ...], columns: tuple[str, ...]) -> bool:
    """Whether an index on `key` serves lookups on `columns`: they lead it, in any order."""
    return len(key) >= len(columns) and set(key[: len(columns)]) == set(columns)


class FkMissingIndex(Rule):
    """A foreign key's columns have no index to look rows up by (advice: only when asked for).

    ## What it checks
    For every relation of the lock, the child table in the database has an index (a
    stand-alone one, its primary key or a unique constraint) whose leading columns are the
    relation's columns, in any order. This is design advice, not drift: many schemas leave
    such keys unindexed on purpose (pgbench, Prisma and Drizzle apps by default), and a
    database that agrees with its lock must verify silent. So `verify` runs it only when asked
    for by name, code or category: `--select fk-missing-index`, `--select SL204` or
    `--select advice` (a code prefix such as `SL2` does not).

    ## Why it matters
    Every delete or key update of a parent row scans the whole child table to find
    referencing rows (ON DELETE CASCADE included), and joins from parent to child cannot use
    an index: fine at a hundred rows, an outage at ten million.

    ## Example
    `quota_usage.job_id` references `jobs.id` and no index of `quota_usage` starts with
    `job_id`.

    ## Fix
    `CREATE INDEX CONCURRENTLY ... ON quota_usage (job_id)` in an autocommit block: reads and
    writes go on during the build. Safe. `schemalock fix` builds it once the lock lists the
    index under `indexes:` (an index the lock does not declare would be `extra-index` drift).
    """

    code, name = "SL204", "fk-missing-index"
    severity, category = Severity.WARNING, Category.ADVICE

    def check(self, context: Context) -> Iterator[Finding]:
        for lock, live in context.matched_tables():
            keys = [u.columns for u in live.uniques]
            keys += [live.primary_key.columns] if live.primary_key else []
            keys += [_leading_columns(index) for index in live.indexes]
            for fk in lock.foreign_keys:
                if not any(_supports(key, fk.columns) for key in keys):
                    yield self.finding(
                        f"no index of {q(*live.key)} starts with {cols(fk.columns)}, the "
                        f"columns referencing {q(fk.ref_schema, fk.ref_table)}",
                        table=lock,
                        line=fk.line,
                        constraint=fk.name,
                        column=fk.columns[0] if len(fk.columns) == 1 else None,
                        subject=d.Subject("foreign key", *lock.key, fk.name),
                    )
