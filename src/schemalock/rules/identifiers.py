"""Rules about identifiers stored in the wrong shape or pointing at the wrong key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.compare.matching import unique_columns
from schemalock.model import Column, ForeignKey, Table
from schemalock.probe import ColumnStats
from schemalock.probe.sql import comparison
from schemalock.rules.base import Context, Rule, about, q, rows
from schemalock.rules.integrity import orphan_count, relations, unproven

MOSTLY = 0.9  # share of non-NULL values that makes a column "holding UUIDs"
# The last word of a column name that says it identifies something (`event_id`, `eventId`,
# `order_uuid`, `payment_ref`), and words that say its values are digests or secrets.
ID_WORDS = frozenset({"id", "uuid", "guid", "ref", "reference"})
DIGEST_WORDS = re.compile(
    r"(hash|digest|token|checksum|etag|signature|secret|salt|nonce|fingerprint)(e?s)?|(sha|md)[0-9]*"
)


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
    case, braces and missing hyphens accepted), reporting how many would not convert, when
    something says they are this database's ids: the lock declares a reference on the column
    to a uuid column,
    a uuid column elsewhere has its name, its name points at a
    table with a uuid key (`org_id`: a table whose name starts with `org`), or a sample value
    is found in a uuid primary key.  A text column of UUIDs no key of the database holds (a
    request or correlation id, another system's ids) is ordinary data: silent; so is a table's
    own text key of UUIDs and the text references to it (an ORM's `String @id
    @default(uuid())`: a design, kept by the lock).  When every
    UUID is the key of another table (tried first: tables the column's name points at; then
    any uuid primary key holding a sample value), the finding names that relation. A
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
            evidence = _evidence(context, lock.key, name, stats.uuid)
            if evidence is None:
                continue  # nobody's ids: a correlation or external id is text by right
            suggestion = evidence.parent
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


@dataclass(frozen=True)
class Evidence:
    """Why a text column of UUIDs holds this database's ids, and the uuid key every one of
    them matches (None: none, or the lock declares the reference already)."""

    parent: str | None = None


def _evidence(context: Context, key: tuple[str, str], name: str, uuids: int) -> Evidence | None:
    """Whether a column's UUIDs are ids of this database (see UuidStoredAsText), and the key
    they all match; None when nothing says so.  Tables the column's name points at (`org_id`:
    tables whose name starts with `org`) are tried first; then every uuid key holding a sample
    value, found by index probes, so an unhelpful name still gets its suggestion."""
    assert context.probe is not None
    assert context.live is not None
    lock_table = context.lock.database.tables.get(key)
    if lock_table and any(
        _references_uuid(context, fk, name) for fk in lock_table.foreign_keys if name in fk.columns
    ):
        return Evidence()
    live = context.live.tables[key]
    child = live.column(name)
    if child is None:
        return None
    keys = _uuid_keys(context, exclude=key)
    stem = name.lower().removesuffix("_id").removesuffix("id").rstrip("_")
    named = [k for k in keys if len(stem) >= 2 and k[0].name.lower().startswith(stem)]
    for parent, parent_column in named:
        if context.probe.matching(SUGGESTING, live, child, parent, parent_column) == uuids:
            return Evidence(q(*parent.key, parent_column.name))
    others = [k for k in keys if k not in named]
    holders = (
        context.probe.uuid_holders(SUGGESTING, live, child, others, every=False) if others else []
    )
    for parent, parent_column in holders or []:
        if context.probe.matching(SUGGESTING, live, child, parent, parent_column) == uuids:
            return Evidence(q(*parent.key, parent_column.name))
    # A table's own text key of UUIDs is not evidence: an ORM's `String @id @default(uuid())`
    # keys every table so by design, and its references are text too.
    if named or holders or _uuid_elsewhere(context, key, name):
        return Evidence()
    return None


def _references_uuid(context: Context, fk: ForeignKey, name: str) -> bool:
    """Whether the lock's reference `fk` makes column `name` point at a uuid column (a text
    reference to a text key of UUIDs is a design, not a mistyped id)."""
    parent = context.lock.database.tables.get((fk.ref_schema, fk.ref_table))
    target = parent.column(fk.ref_columns[fk.columns.index(name)]) if parent else None
    return target is None or target.type == "uuid"


def _uuid_elsewhere(context: Context, key: tuple[str, str], name: str) -> bool:
    """Whether another table has a uuid column of this name: the same id, typed there."""
    assert context.live is not None
    return any(
        column.name == name and column.type == "uuid"
        for table in context.live.tables.values()
        if table.key != key
        for column in table.columns
    )


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
    """A text column holds UUIDs without hyphens.

    ## What it checks
    Text columns named as ids (the name's last word is `id`, `uuid`, `guid`, `ref` or
    `reference`: `event_id`, `eventId`) whose non-NULL values are at least 90% 32-digit hex
    strings with a UUID's version digit (1-8, the 13th) and variant digit (8, 9, a or b, the
    17th). PostgreSQL reads those as UUIDs. A hash or a random token is not one: one random hex
    string in eight has both digits, so a column of md5 or sha digests never passes, and a name
    that says digest or secret (`token_hash`, `checksum`, `etag`, `sha256`, `api_token`) is
    never read. A notice, never an error. Migration tools' bookkeeping tables (Alembic's
    revision ids) are never read.

    ## Why it matters
    They are UUIDs (Python's `uuid4().hex`), so the column has the costs of
    `uuid-stored-as-text`, and each value takes 33 bytes rather than 16.

    ## Example
    `webhook_events.event_id` holds values like `3f2a9c1d7e4b4a6c9d0e1f2a3b4c5d6e`.

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
            if stats.undashed_uuid >= MOSTLY * stats.non_null and names_an_id(name):
                column = lock.column(name)
                yield self.finding(
                    f"column {q(*lock.key, name)}: {about(context, stats.undashed_uuid)} of its "
                    f"{stats.non_null} values are UUIDs without hyphens",
                    table=lock,
                    column=name,
                    line=column.line if column else lock.line,
                    count=stats.undashed_uuid,
                    estimated=context.probe.estimates,
                )


def names_an_id(name: str) -> bool:
    """Whether a column's name says it identifies something (`event_id`, `eventId`, `ref`) and
    nothing says digest or secret (`token_hash`, `sha256`, `api_token_id`)."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower())
    if not words or any(DIGEST_WORDS.fullmatch(word) for word in words):
        return False
    return words[-1] in ID_WORDS


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
