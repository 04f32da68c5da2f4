"""Rules about primary and foreign keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.compare.matching import compatible
from schemalock.model import Database, ForeignKey, Table
from schemalock.rules.base import Context, Rule, cols, q


def describe_fk(fk: ForeignKey) -> str:
    into = f" (partition {q(*fk.ref_partition)})" if fk.ref_partition else ""
    return f"{cols(fk.columns)} -> {q(fk.ref_schema, fk.ref_table)}{cols(fk.ref_columns)}{into}"


class PrimaryKeyMismatch(Rule):
    """A table's primary key is missing, extra, or on other columns than the lock says.

    ## What it checks
    The primary key's columns, in order, equal the lock's (`primary_key: true` on one column
    or `primary_key: [a, b]` on the table).

    ## Why it matters
    Without the key, duplicate rows get in and foreign keys to the table cannot exist.

    ## Example
    The lock says `primary_key: [org_id, period_start]`; the database key is `(id)`.

    ## Fix
    Build a unique index concurrently, then `ADD PRIMARY KEY USING INDEX`. Fails on
    duplicates or NULLs, which are reported, never deleted.
    """

    code, name = "SL108", "primary-key-mismatch"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.PrimaryKeyChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.PrimaryKeyChanged):
            lock, live = changed.lock, changed.live
            want = lock.primary_key.columns if lock.primary_key else None
            have = live.primary_key.columns if live.primary_key else None
            name = q(*live.key)
            if have is None:
                message = f"table {name} has no primary key; the lock says {cols(want or ())}"
            elif want is None:
                message = f"table {name} has primary key {cols(have)}; the lock has none"
            else:
                message = f"table {name} primary key is {cols(have)}; the lock says {cols(want)}"
            yield self.reported(
                changed,
                message,
                constraint=live.primary_key.name if live.primary_key else None,
                expected=list(want) if want else None,
                actual=list(have) if have else None,
            )


class MissingForeignKey(Rule):
    """A relation the lock declares has no foreign-key constraint in the database.

    ## What it checks
    For every `references:` and `foreign_keys:` entry, the database has a foreign key on the
    same columns.

    ## Why it matters
    Without the constraint nothing stops rows pointing at parents that do not exist; the
    orphans pile up silently (`fk-orphans` counts them).

    ## Example
    The lock says `quota_usage.job_id: {references: jobs.id}`; the database has no FK on it.

    ## Fix
    `ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID`, then `VALIDATE CONSTRAINT` as a separate
    step: new rows are checked at once, existing rows without blocking writes. Validation fails
    while orphans exist; they are reported, never deleted unless asked for by name.
    """

    code, name = "SL109", "missing-foreign-key"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.MissingForeignKey,)

    def check(self, context: Context) -> Iterator[Finding]:
        for missing in context.differences(d.MissingForeignKey):
            wanted = missing.foreign_key
            yield self.reported(
                missing,
                f"table {q(*missing.lock.key)} has no foreign key {describe_fk(wanted)}",
                column=wanted.columns[0] if len(wanted.columns) == 1 else None,
                constraint=wanted.name,
                expected=describe_fk(wanted),
            )


class ForeignKeyMismatch(Rule):
    """A foreign key exists but points elsewhere or has other actions than the lock says.

    ## What it checks
    The foreign key on the lock's columns references the lock's table and columns, with the
    same `ON DELETE` / `ON UPDATE` actions, `MATCH` type and deferrability.

    ## Why it matters
    `ON DELETE CASCADE` where the lock says `NO ACTION` deletes child rows the team expects to
    keep; the reverse leaves deletes failing.

    ## Example
    The lock says `jobs.org_id: {references: organizations.id, on_delete: cascade}`; the
    database FK has `ON DELETE NO ACTION`.

    ## Fix
    Add the corrected constraint `NOT VALID`, validate it, then drop the old one. Safe for
    data.
    """

    code, name = "SL110", "foreign-key-mismatch"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.ForeignKeyChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.ForeignKeyChanged):
            wanted, found = changed.lock_key, changed.live_key
            name = q(*changed.live.key)
            expected: object
            actual: object
            if "target" in changed.aspects:
                message = (
                    f"foreign key {q(found.name)} on {name} is {describe_fk(found)}; "
                    f"the lock says {describe_fk(wanted)}"
                )
                expected, actual = describe_fk(wanted), describe_fk(found)
            else:
                diffs = [a for a in d.FOREIGN_KEY_ACTIONS if a in changed.aspects]
                expected = {a: getattr(wanted, a) for a in diffs}
                actual = {a: getattr(found, a) for a in diffs}
                shown = ", ".join(
                    f"{a} {getattr(found, a)} (lock: {getattr(wanted, a)})" for a in diffs
                )
                message = f"foreign key {q(found.name)} on {name} has {shown}"
            yield self.reported(
                changed, message, constraint=found.name, expected=expected, actual=actual
            )


class FkTypeMismatch(Rule):
    """A relation joins columns of different types, so no foreign key can hold it.

    ## What it checks
    For every relation the lock declares, the child and parent column types can be compared by
    PostgreSQL's equality operators: in the lock itself (checked offline by `schemalock lint`)
    and in the database. Text types and length limits are compatible with each other
    (`varchar(20)` to `text`); `text` to `uuid` is not (an error). Integers of different widths
    (`bigint` referencing `integer`, or `integer` referencing `bigint`) can hold a foreign key,
    but one side holds values the other cannot: a warning.

    ## Why it matters
    PostgreSQL refuses a foreign key from `text` to `uuid` (42804), so the relation is never
    enforced, and queries that join or filter across it fail with `operator does not exist:
    text = uuid` (the seed database's jobs statistics query).

    ## Example
    The lock says `jobs.org_id: {type: uuid, references: organizations.id}`; in the database
    `jobs.org_id` is `text` while `organizations.id` is `uuid`.

    ## Fix
    Convert the child column to the parent's type (`ALTER COLUMN ... TYPE uuid USING ...`)
    after proving every value converts, then add the foreign key. Not safe without that proof.
    """

    code, name = "SL203", "fk-type-mismatch"
    severity, category, fixable = Severity.ERROR, Category.INTEGRITY, True
    repaired_by = (d.ColumnChanged,)
    needs_database = False

    def check(self, context: Context) -> Iterator[Finding]:
        lock_db = context.lock.database
        for table in lock_db.tables.values():
            for fk in table.foreign_keys:
                yield from self._compare(lock_db, table, fk, "in the lock")
        if context.live is None:
            return
        for lock_table, live_table in context.matched_tables():
            for fk in lock_table.foreign_keys:
                yield from self._compare(
                    context.live, live_table, fk, "in the database", line=fk.line
                )

    def _compare(
        self, database: Database, table: Table, fk: ForeignKey, where: str, line: int | None = None
    ) -> Iterator[Finding]:
        parent = database.tables.get((fk.ref_schema, fk.ref_table))
        if parent is None:
            return
        for child_name, parent_name in zip(fk.columns, fk.ref_columns, strict=False):
            child, target = table.column(child_name), parent.column(parent_name)
            if child is None or target is None:
                continue
            widths = _widths_differ(child.type, target.type)
            if compatible(child.type, target.type) and not widths:
                continue
            found = self.finding(
                f"{q(*table.key, child_name)} is {child.type} but references "
                f"{q(*parent.key, parent_name)} of type {target.type} ({where})"
                + (f": {widths}" if widths else ""),
                table=table,
                column=child_name,
                constraint=fk.name,
                line=line if line is not None else fk.line,
                subject=d.Subject("foreign key", *table.key, fk.name),
                expected=target.type,
                actual=child.type,
            )
            # The key holds, and fix can create it: a warning, never a lock fix refuses.
            yield replace(found, severity=Severity.WARNING) if widths else found


_INTEGER_BYTES = {"smallint": 2, "integer": 4, "bigint": 8}


def _widths_differ(child: str, parent: str) -> str | None:
    """What integers of two widths in one relation cost, or None when the types are not two
    integer types of different widths.  A foreign key holds across them, yet a wider child
    holds values no parent row can have, and a narrower one cannot hold every parent key."""
    if child not in _INTEGER_BYTES or parent not in _INTEGER_BYTES or child == parent:
        return None
    if _INTEGER_BYTES[child] > _INTEGER_BYTES[parent]:
        return f"values beyond the {parent} range can never match a parent row"
    return f"parent keys beyond the {child} range cannot be referenced"
