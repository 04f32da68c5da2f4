"""Rules about identifiers stored in the wrong shape or pointing at the wrong key."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.compare.matching import unique_columns
from schemalock.model import Column, Table
from schemalock.probe import ColumnStats
from schemalock.probe.sql import comparison
from schemalock.rules.base import Context, Rule, about, q, rows
from schemalock.rules.integrity import orphan_count, relations, unproven

MOSTLY = 0.9  # share of non-NULL values that makes a column "holding UUIDs"


def _uuid_columns(context: Context, rule: str) -> Iterator[tuple[Table, str, ColumnStats]]:
    assert context.probe is not None
    for lock, live in context.matched_tables():
        profile = context.probe.profile(rule, live, lock)
        for name, stats in (profile or {}).items():
            if stats.non_null and stats.uuid >= MOSTLY * stats.non_null:
                yield lock, name, stats


class UuidStoredAsText(Rule):
    """A text column holds UUIDs: it should be of type uuid.

    ## What it checks
    Every text, varchar, char or citext column of a locked table (whether the lock lists it or
    not) whose non-NULL values are at least 90% UUIDs, as PostgreSQL itself reads them (upper
    case, braces and missing hyphens accepted), reporting how many would not convert. When every
    UUID is the key of another table (tried first: tables the column's name points at; then any
    uuid primary key holding a few sample values), the finding names that relation. A
    migration tool's bookkeeping table is not data (`_prisma_migrations.id` is a uuid in a
    varchar by Prisma's design): never read.

    ## Why it matters
    Comparing a text column with a uuid parameter fails (`operator does not exist: text =
    uuid`), a foreign key to a uuid key cannot exist, and text UUIDs compare case-sensitively,
    so one id can be stored twice.

    ## Example
    `jobs.org_id` is `text` and all 1,200 of its values are UUIDs.

    ## Fix
    `ALTER COLUMN ... TYPE uuid USING ...::uuid` once every value converts; `schemalock fix`
    proves that first.
    """

    code, name = "SL301", "uuid-stored-as-text"
    severity, category, fixable = Severity.WARNING, Category.IDENTIFIERS, True
    repaired_by = (d.ColumnChanged,)
    needs_data, measures = True, frozenset({"uuid"})

    def check(self, context: Context) -> Iterator[Finding]:
        if context.probe is None:
            return
        for lock, name, stats in _uuid_columns(context, self.name):
            if stats.undashed >= MOSTLY * stats.non_null:
                continue  # 32-hex tokens: undashed-uuid-as-text's notice
            column = lock.column(name)
            bad = stats.non_null - stats.uuid
            suggestion = _suggested_parent(context, lock.key, name, stats.uuid)
            yield self.finding(
                f"column {q(*lock.key, name)} is text but {about(context, stats.uuid)} of its "
                f"{stats.non_null} values are UUIDs; {about(context, bad)} "
                "would not convert to uuid"
                + (
                    f"; every one matches {suggestion}: a reference the lock does not declare"
                    if suggestion
                    else ""
                ),
                table=lock,
                column=name,
                line=column.line if column else lock.line,
                count=stats.uuid,
                expected="uuid",
                actual=column.type if column else None,
                estimated=context.probe.estimates,
            )


def _suggested_parent(context: Context, key: tuple[str, str], name: str, uuids: int) -> str | None:
    """The uuid key of another table all of a column's UUIDs match; None when the lock already
    declares a reference or nothing matches.  Tables the column's name points at (`org_id`:
    tables whose name starts with `org`) are tried first; then every uuid key that holds a few
    sample values, found by index probes, so an unhelpful name still gets its suggestion."""
    assert context.probe is not None
    assert context.live is not None
    lock_table = context.lock.database.tables.get(key)
    if lock_table and any(name in fk.columns for fk in lock_table.foreign_keys):
        return None
    live = context.live.tables[key]
    child = live.column(name)
    if child is None:
        return None
    keys = _uuid_keys(context, exclude=key)
    stem = name.lower().removesuffix("_id").removesuffix("id").rstrip("_")
    named = [k for k in keys if len(stem) >= 2 and k[0].name.lower().startswith(stem)]
    for parent, parent_column in named:
        if context.probe.matching(SUGGESTING, live, child, parent, parent_column) == uuids:
            return q(*parent.key, parent_column.name)
    others = [k for k in keys if k not in named]
    holders = context.probe.uuid_holders(SUGGESTING, live, child, others) if others else []
    for parent, parent_column in holders or []:
        if context.probe.matching(SUGGESTING, live, child, parent, parent_column) == uuids:
            return q(*parent.key, parent_column.name)
    return None


SUGGESTING = "uuid-stored-as-text"


def _uuid_keys(context: Context, exclude: tuple[str, str]) -> list[tuple[Table, Column]]:
    """Single-column uuid primary keys of the live database, in name order."""
    assert context.live is not None
    keys = []
    for table in sorted(context.live.tables.values(), key=lambda t: t.key):
        pk = table.primary_key.columns if table.primary_key else ()
        column = table.column(pk[0]) if len(pk) == 1 and table.key != exclude else None
        if column is not None and column.type == "uuid":
            keys.append((table, column))
    return keys


class UndashedUuidAsText(Rule):
    """A text column holds 32-digit hexadecimal ids: perhaps UUIDs without hyphens.

    ## What it checks
    Text columns whose non-NULL values are at least 90% 32-digit hex strings. PostgreSQL
    reads those as UUIDs, but hashes look the same, so this is a notice, never an error.
    Migration tools' bookkeeping tables (Alembic's revision ids) are never read.

    ## Why it matters
    If they are UUIDs, the column has the costs of `uuid-stored-as-text`; if they are hashes,
    nothing is wrong.

    ## Example
    `webhook_events.dedup_key` holds values like `3f2a9c...` (32 hex digits).

    ## Fix
    If they are UUIDs: `ALTER COLUMN ... TYPE uuid USING ...::uuid`. Otherwise nothing.
    """

    code, name = "SL303", "undashed-uuid-as-text"
    severity, category = Severity.INFO, Category.IDENTIFIERS
    needs_data, measures = True, frozenset({"uuid"})

    def check(self, context: Context) -> Iterator[Finding]:
        if context.probe is None:
            return
        for lock, name, stats in _uuid_columns(context, self.name):
            if stats.undashed >= MOSTLY * stats.non_null:
                column = lock.column(name)
                yield self.finding(
                    f"column {q(*lock.key, name)}: {about(context, stats.undashed)} of its "
                    f"{stats.non_null} values are 32-digit hex strings (UUIDs "
                    "without hyphens, or hashes)",
                    table=lock,
                    column=name,
                    line=column.line if column else lock.line,
                    count=stats.undashed,
                    estimated=context.probe.estimates,
                )


class MiswiredReference(Rule):
    """A reference column holds another column of the parent than the one it references.

    ## What it checks
    For every relation of the lock that no validated foreign key proves and that has orphans,
    whether the child values match another unique column of the parent instead: the
    application stored, say, Clerk organization ids where internal uuids belong. Every other
    column of the parent that is unique on its own (primary key, unique constraint, or a
    unique index without a predicate) and whose type can be compared with the child's is
    tried: text ids, an integer `legacy_no` for an integer child, an `ext uuid` for a uuid
    child. Under `--sample` the counts are estimates for the whole table.

    ## Why it matters
    Every join and filter through the reference finds nothing or fails on types; the seed
    database's jobs statistics query fails exactly so ("UUID mismatch").

    ## Example
    `jobs.org_id` references `organizations.id`, but its values are
    `organizations.clerk_org_id` values like `org_2abc...`.

    ## Fix
    Map the values through the parent (`UPDATE jobs SET org_id = o.id FROM organizations o
    WHERE o.clerk_org_id = jobs.org_id`), then convert the type and add the foreign key.
    `schemalock fix` plans these steps.
    """

    code, name = "SL302", "miswired-reference"
    severity, category, fixable = Severity.ERROR, Category.IDENTIFIERS, True
    repaired_by = (d.ColumnChanged,)
    needs_data = True

    def check(self, context: Context) -> Iterator[Finding]:
        if context.probe is None:
            return
        guaranteed_not = unproven(context)
        for lock, live, fk, parent in relations(context):
            if len(fk.columns) != 1 or id(fk) not in guaranteed_not:
                continue
            counted = orphan_count(context, self.name, live, fk, parent)
            child = live.column(fk.columns[0])
            if counted is None or child is None or not counted.orphans + counted.invalid:
                continue
            for other in unique_columns(parent, fk.ref_columns[0]):
                other_column = parent.column(other)
                assert other_column is not None
                if comparison(child.type, other_column.type) is None:
                    continue
                matched = context.probe.matching(self.name, live, child, parent, other_column)
                if matched:
                    yield self.finding(
                        f"{rows(context, matched)} of {q(*live.key, child.name)} hold "
                        f"{q(*parent.key, other)} values where {q(*parent.key, fk.ref_columns[0])} "
                        f"belongs: map them through {q(*parent.key)} "
                        f"(UPDATE ... SET {q(child.name)} = p.{q(fk.ref_columns[0])} FROM "
                        f"{q(*parent.key)} p WHERE p.{q(other)} = {q(child.name)}), "
                        "then convert the type and add the foreign key",
                        table=lock,
                        column=child.name,
                        line=fk.line,
                        count=matched,
                        expected=fk.ref_columns[0],
                        actual=other,
                        estimated=context.probe.estimates,
                    )
