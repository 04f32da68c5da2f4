"""Rules about the values rows hold: declared patterns and accepted values."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from schemalock.check.findings import Category, Finding, Severity
from schemalock.model import Column, Table
from schemalock.probe import ColumnStats
from schemalock.probe.samples import redact
from schemalock.probe.sql import array_literal, no_equality
from schemalock.rules.base import Context, Rule, about, q, rows


def _checked(
    context: Context, rule: str, measure: str
) -> Iterator[tuple[Table, Table, Column, ColumnStats]]:
    """(lock table, live table, lock column, statistics) where `measure` found something."""
    assert context.probe is not None
    for lock, live in context.matched_tables():
        profile = context.probe.profile(rule, live, lock) or {}
        for column in lock.columns:
            stats = profile.get(column.name)
            if stats is not None and getattr(stats, measure):
                yield lock, live, column, stats


def _samples(
    context: Context, rule: str, live: Table, column: Column, condition: str, params: list[Any]
) -> tuple[str, ...]:
    from psycopg import sql

    assert context.probe is not None
    where = sql.SQL(condition).format(sql.Identifier(column.name))
    return tuple(redact(v) for v in context.probe.samples(rule, live, where, params, column))


class MockData(Rule):
    """Rows look like mock or test data.

    ## What it checks
    Text (citext included), JSON and uuid columns of locked tables (listed in the lock or not),
    with built-in detectors evaluated by PostgreSQL: emails at reserved or throwaway domains and
    their subdomains (`example.com`, `test.example.com`, `test.com`, mailinator and the like) or
    under the TLDs RFC 2606 reserves (`.test`, `.example`, `.invalid`, `.localhost`); the words
    mock, fake and dummy as the whole value or right before a data noun ("mock data", "fake
    user", "Acme Mock Org"), test before one ("test user", "test customer"), and lorem ipsum;
    John and Jane Doe; JSON markers (`"source": "mock"`, `"mock": true`, `"is_test" : true`);
    fixture UUIDs (nil and nil with a small counter, groups of one repeated digit such as
    `11111111-2222-3333-4444-555555555555`, the documentation example
    `123e4567-e89b-12d3-a456-426614174000`, obvious sequences) in uuid columns and as the whole
    value of text columns. Whole words only, and never inside an email address: "Hammock",
    "Testament", "Protest", "Fakenham" and "attestation" are real data, and so are the surnames
    and phrases "Tom Mock", "Jo Dummy", "Mock Trial Coach", "Crash Test Dummy Engineer" and
    `tom.mock@outlook.com`; UUIDs or hashes inside JSON are not markers. One scan per table
    gives exact counts per column; a case-folded substring test (ASCII letters; under a Turkish
    collation an `İ` is not folded), or for whole-value UUIDs a length test, decides which
    values the regular expressions read at all. A few redacted samples, with the detectors they
    match, come from a query that stops at its limit. `mock_data: false` on a table or column
    switches the detectors off there. With `verify --api-base URL`, every endpoint the lock
    lists is asked too: JSON without `"source": "real_database"` is this finding (the seed
    document's first checkpoint).

    ## Why it matters
    Mock rows in production are the fallbacks and fixtures that were supposed to be gone: the
    seed document's first checkpoint ("No Mock Data"). They skew quotas, billing and every
    statistic built on them.

    ## Example
    3 rows of `organizations.name` read "Test User", 2 emails end in `@example.com`.

    ## Fix
    Remove or quarantine the rows after checking where they came from; schemalock never
    deletes data on its own.
    """

    code, name = "SL401", "mock-data"
    severity, category = Severity.ERROR, Category.DATA
    needs_data, measures = True, frozenset({"mock"})

    def check(self, context: Context) -> Iterator[Finding]:
        probe = context.probe
        if probe is None:
            return
        for lock, live in context.matched_tables():
            for name, stats in (probe.profile(self.name, live, lock) or {}).items():
                column = live.column(name)
                if not stats.mock or column is None:
                    continue
                detail = probe.mock_samples(self.name, live, column)
                kinds, samples = detail if detail else ((), ())
                wanted = lock.column(name)
                yield self.finding(
                    f"{rows(context, stats.mock)} of {q(*lock.key, name)} "
                    f"{'looks' if stats.mock == 1 else 'look'} like mock data"
                    + (f" (samples show: {', '.join(kinds)})" if kinds else ""),
                    table=lock,
                    column=name,
                    line=wanted.line if wanted else lock.line,
                    count=stats.mock,
                    samples=tuple(redact(s) for s in samples),
                    actual=list(kinds) or None,
                    estimated=probe.estimates,
                )


class PatternViolation(Rule):
    """Values of a column do not match the column's `pattern:`.

    ## What it checks
    Every non-NULL value of a column with `pattern:` matches it, as PostgreSQL's `~` reads the
    regular expression (passed as a bound parameter). Reports the exact count and a few
    redacted samples.

    ## Why it matters
    An external id in the wrong shape is a wiring bug: a Clerk organization id that is not
    `org_...` came from somewhere else, or from a test fixture.

    ## Example
    `organizations.clerk_org_id: {pattern: '^org_[0-9A-Za-z]+$'}` and 3 rows hold
    `user_2x...`.

    ## Fix
    Correct the rows at their source; then a CHECK constraint keeps new ones out.
    """

    code, name = "SL402", "pattern-violation"
    severity, category = Severity.ERROR, Category.DATA
    needs_data, measures = True, frozenset({"pattern"})

    def check(self, context: Context) -> Iterator[Finding]:
        if context.probe is None:
            return
        for lock, live, column, stats in _checked(context, self.name, "pattern_violations"):
            samples = _samples(
                context, self.name, live, column, "c.{}::pg_catalog.text !~ %s", [column.pattern]
            )
            yield self.finding(
                f"{about(context, stats.pattern_violations)} of {stats.non_null} values of "
                f"{q(*lock.key, column.name)} do not match {column.pattern!r}",
                table=lock,
                column=column.name,
                line=column.line,
                count=stats.pattern_violations,
                samples=samples,
                expected=column.pattern,
                estimated=context.probe.estimates,
            )


class AcceptedValuesViolation(Rule):
    """Values of a column are not among the column's `values:`.

    ## What it checks
    Every non-NULL value of a column with `values:` is one of them, compared in the column's
    own type (the list is a bound parameter the server reads as that type, so `1.50` of a
    `numeric(6,2)` column is the lock's `1.5`, and a citext column compares without case). A
    lock value the type cannot hold (`abc` for a numeric column) makes the check
    inconclusive, with the server's message. Reports the exact count and a few redacted
    samples.

    ## Why it matters
    A status or plan the code does not know falls through every branch: a job `cancelled`
    where only pending/running/completed/failed exist is never picked up again.

    ## Example
    `jobs.status: {values: [pending, running, completed, failed]}` and 2 rows hold `done`.

    ## Fix
    Correct the rows, or add the value to the lock if the code handles it; an enum type or a
    CHECK constraint then enforces the list.
    """

    code, name = "SL403", "accepted-values-violation"
    severity, category = Severity.ERROR, Category.DATA
    needs_data, measures = True, frozenset({"values"})

    def check(self, context: Context) -> Iterator[Finding]:
        if context.probe is None:
            return
        for lock, live, column, stats in _checked(context, self.name, "value_violations"):
            samples = _samples(
                context,
                self.name,
                live,
                column,
                # As the scan compared: as text where the type has no equality (json).
                "NOT (c.{}::pg_catalog.text = ANY (%s))"
                if no_equality(column.type)
                else "NOT (c.{} = ANY (%s))",
                [array_literal(column.values or ())],
            )
            yield self.finding(
                f"{about(context, stats.value_violations)} of {stats.non_null} values of "
                f"{q(*lock.key, column.name)} are not among {list(column.values or ())}",
                table=lock,
                column=column.name,
                line=column.line,
                count=stats.value_violations,
                samples=samples,
                expected=list(column.values or ()),
                estimated=context.probe.estimates,
            )


class DuplicateTable(Rule):
    """A table duplicates another one: legacy data the canonical table may not hold.

    ## What it checks
    Pairs of a legacy table and its canonical one: declared in the lock (`duplicate_of:`) or
    found in the database. Found takes two things: names that relate (one contains the other,
    one is an abbreviation of the other as `orgs` of `organizations`, or one carries a legacy
    marker: backup, bak, old, legacy, copy, archive, tmp, temp, or a numeric or date suffix) and
    at least three distinctive columns shared, by name and type, at least 80% of those of the
    table with fewer (columns most tables have, like `id` or `created_at`, do not count). The
    marked name is the legacy side; else the one with fewer columns. For each pair: the columns
    shared, how many legacy rows the canonical table also holds, and above all how many it does
    not. Rows are matched on a natural unique key of the canonical table the legacy one has too,
    with `=`, so a legacy row whose key is NULL counts as only in the legacy table; a generated
    key (an `id`, serial, identity or defaulted column) proves nothing across two tables, so
    without a natural key whole rows are compared on every shared column (NULLs equal there: a
    copied row with an empty column is still a copy).

    ## Why it matters
    Two tables for one thing split reads and writes between them; dropping the legacy one
    loses every row that only it holds. The seed database's `orgs` next to `organizations`
    is exactly this open question.

    ## Example
    `orgs` (legacy, `duplicate_of: organizations`): 4 of 4 columns shared; 40 of 45 rows also
    in organizations by clerk_org_id; 5 rows only in orgs.

    ## Fix
    Copy the legacy-only rows into the canonical table, repoint writers, then retire the
    legacy table. schemalock never drops a table on its own.
    """

    code, name = "SL404", "duplicate-table"
    severity, category = Severity.WARNING, Category.DATA
    needs_data = True

    def check(self, context: Context) -> Iterator[Finding]:
        probe, live = context.probe, context.live
        if probe is None or live is None:
            return
        for legacy, canonical, declared in _duplicate_pairs(context):
            shared = _shared_columns(legacy, canonical)
            key = _matching_key(canonical, shared)
            columns = key or tuple(shared)
            counted = (
                probe.overlap(self.name, legacy, canonical, columns, whole_row=key is None)
                if columns
                else None
            )
            lock_table = context.lock.database.tables.get(legacy.key)
            share = f"{len(shared)} of {len(legacy.columns)} columns shared"
            if counted is None:
                rows = ""
            else:
                total, only = counted
                matched = ", ".join(key) if key else "every shared column"
                rows = (
                    f"; {total - only} of {total} rows also in {q(*canonical.key)} "
                    f"(matched on {matched}); {only} rows only in "
                    f"{q(*legacy.key)}, which dropping it would lose"
                )
            yield self.finding(
                f"table {q(*legacy.key)} duplicates {q(*canonical.key)}"
                f"{' (declared)' if declared else ''}: {share}{rows}",
                table=legacy.key,
                line=lock_table.line if lock_table else None,
                count=counted[1] if counted else None,
                expected=q(*canonical.key),
                actual=shared,
            )


def _duplicate_pairs(context: Context) -> list[tuple[Table, Table, bool]]:
    """(legacy, canonical, declared in the lock) for live tables."""
    from schemalock.model.names import split_table

    assert context.live is not None
    live = context.live.tables
    pairs: list[tuple[Table, Table, bool]] = []
    for lock in context.lock.database.tables.values():
        if lock.duplicate_of:
            canonical = live.get(split_table(lock.duplicate_of, lock.schema))
            if lock.key in live and canonical is not None:
                pairs.append((live[lock.key], canonical, True))
    declared = {frozenset((a.key, b.key)) for a, b, _ in pairs}
    for legacy, canonical in _look_alikes(list(live.values())):
        if frozenset((legacy.key, canonical.key)) not in declared:
            pairs.append((legacy, canonical, False))
    return pairs


# Columns so many tables have that sharing them says nothing about two tables.
_GENERIC_COLUMNS = frozenset(
    {
        "id",
        "uuid",
        "created_at",
        "updated_at",
        "deleted_at",
        "modified_at",
        "inserted_at",
        "created",
        "updated",
        "modified",
        "created_by",
        "updated_by",
        "version",
    }
)


def _look_alikes(tables: list[Table]) -> list[tuple[Table, Table]]:
    """(legacy, canonical) pairs of tables whose names relate and which share at least three
    distinctive columns (name and type), and at least 80% of those of the table with fewer:
    found through an index of columns, not by comparing every pair."""
    from collections import Counter, defaultdict

    holders: dict[tuple[str, str], list[Table]] = defaultdict(list)
    for table in tables:
        for column in table.columns:
            holders[(column.name, column.type)].append(table)
    common = max(3, len(tables) // 10)  # in this many tables, a column says nothing
    distinctive = {
        table.key: [
            (c.name, c.type)
            for c in table.columns
            if c.name.lower() not in _GENERIC_COLUMNS and len(holders[(c.name, c.type)]) <= common
        ]
        for table in tables
    }
    by_key = {table.key: table for table in tables}
    found = []
    for table in tables:
        shared = Counter(
            other.key
            for key in distinctive[table.key]
            for other in holders[key]
            if other is not table
        )
        for other_key, count in shared.items():
            other = by_key[other_key]
            fewest = min(len(distinctive[table.key]), len(distinctive[other_key]))
            if (
                count >= 3
                and count >= 0.8 * fewest
                and _names_relate(table.name, other.name)
                and _reads_as_copy(table, other)
            ):
                found.append((table, other))
    return found


_LEGACY_MARKERS = frozenset(
    {"backup", "backups", "bak", "old", "legacy", "copy", "archive", "archived", "tmp", "temp"}
)
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def _words(name: str) -> list[str]:
    """A table name's words, lower case: `customers_backup_2024`, `CustomersOld`."""
    return [word.lower() for word in _WORD.findall(name)]


def _legacy_marked(name: str) -> bool:
    """Named like a copy: a marker word, or a numeric or date suffix (`orders_2023`,
    `users_20240101`; a version like `orders_v2` is the newer table, not a copy)."""
    words = _words(name)
    if any(word in _LEGACY_MARKERS for word in words):
        return True
    return len(words) >= 2 and words[-1].isdigit() and words[-2] != "v"


def _stem(name: str) -> str:
    """The name without its legacy markers and numeric suffixes, singular, in one word."""
    words = [w for w in _words(name) if w not in _LEGACY_MARKERS]
    while len(words) > 1 and words[-1].isdigit():
        words.pop()
    stem = "".join(words)
    return stem[:-1] if stem.endswith("s") and len(stem) > 3 else stem


def _names_relate(legacy: str, canonical: str) -> bool:
    """Whether two names may name one thing: one carries a legacy marker, one contains the
    other (after markers), or one abbreviates the other (`orgs`, `organizations`)."""
    if _legacy_marked(legacy) or _legacy_marked(canonical):
        return True
    short, long = sorted((_stem(legacy), _stem(canonical)), key=len)
    return len(short) >= 3 and (short in long or _abbreviates(short, long))


def _abbreviates(short: str, long: str) -> bool:
    """`org` of `organization`, `acct` of `account`: same first letter, letters in order."""
    if short[0] != long[0]:
        return False
    rest = iter(long[1:])
    return all(letter in rest for letter in short[1:])


def _reads_as_copy(table: Table, other: Table) -> bool:
    """Whether `table` is the legacy side of the pair: the one named like a copy; else the
    smaller one; with as many columns, the longer name (each pair is reported once)."""
    marked = [_legacy_marked(t.name) for t in (table, other)]
    if marked[0] != marked[1]:
        return marked[0]
    if len(table.columns) != len(other.columns):
        return len(table.columns) < len(other.columns)
    return (len(table.name), table.key) > (len(other.name), other.key)


def _shared_columns(legacy: Table, canonical: Table) -> list[str]:
    return [
        c.name
        for c in legacy.columns
        if (match := canonical.column(c.name)) is not None and match.type == c.type
    ]


def _matching_key(canonical: Table, shared: list[str]) -> tuple[str, ...] | None:
    """A natural unique key of the canonical table whose columns the legacy table has too;
    None when there is none, and rows are compared whole."""
    keys = [u.columns for u in canonical.uniques]
    keys += [canonical.primary_key.columns] if canonical.primary_key else []
    for key in keys:
        if all(column in shared for column in key) and not _generated(canonical, key):
            return key
    return None


def _generated(table: Table, key: tuple[str, ...]) -> bool:
    """A one-column key of generated values (an `id`, a serial, an identity, a default such
    as gen_random_uuid()): a copy's rows may hold other ones, and equal ones in two tables
    prove nothing (`billing_addresses` 5 is not `shipping_addresses` 5)."""
    column = table.column(key[0]) if len(key) == 1 else None
    return column is not None and (
        column.name.lower() == "id" or column.identity is not None or column.default is not None
    )
