"""duplicate-table: a legacy copy of a table, and the rows only it holds.

Precision first: a gate that calls clean tables copies gets switched off.  Two tables that
merely look alike (`latest_metrics` beside `metrics`, `vote_v2` beside `vote`, one name in two
schemas) are different tables until their rows say otherwise: a pair found in the database is
reported only when the copy holds rows the canonical table also holds.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.model import Table
from schemalock.model.bookkeeping import is_bookkeeping
from schemalock.rules.base import Context, Rule, q


class DuplicateTable(Rule):
    """A table duplicates another one: legacy data the canonical table may not hold.

    ## What it checks
    Pairs of a legacy table and its canonical one: declared in the lock (`duplicate_of:`) or
    found in the database. Found takes three things: names that relate (one contains the other,
    one is an abbreviation of the other as `orgs` of `organizations`, they differ by a letter or
    by case as `organisation` and `Organizations`, or one carries a legacy marker: backup, bak,
    old, legacy, copy, archive, tmp, temp, or a numeric or date suffix); at least three
    distinctive columns shared, by name and type, at least 80% of those of the table with fewer
    (columns most tables have, like `id` or `created_at`, do not count); and rows: some rows of
    the legacy table are also in the canonical one. Shared columns alone prove nothing, and an
    empty table duplicates nothing (a declared pair whose legacy table is empty is not reported
    either). The name with a legacy marker (or the table in a schema named so, as `archive`) is
    the legacy side; a version (`vote_v2`, `orders_new`) marks the newer table, so the other one
    is the legacy side; else the one with fewer columns. Migration tools' bookkeeping tables
    (`schema_migrations`, `__drizzle_migrations`, ...) are never paired. For each pair: the
    columns shared, how many legacy rows the canonical table also holds, and above all how many
    it does not. Rows are matched on a natural unique key of the canonical table the legacy one
    has too, with `=`, so a legacy row whose key is NULL counts as only in the legacy table; a
    generated key (an `id`, serial, identity or defaulted column) proves nothing across two
    tables, so without a natural key whole rows are compared on every shared column (NULLs equal
    there: a copied row with an empty column is still a copy).

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
            if not _evident(declared, counted):
                continue
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


def _evident(declared: bool, counted: tuple[int, int] | None) -> bool:
    """Whether a pair is worth a finding: the legacy table holds rows, and, unless the lock
    declares the pair, some of them are also in the canonical table.  A declared pair the rows
    could not be compared for (no shared column) is still reported, by its columns."""
    if counted is None:
        return declared  # found pairs always share columns: None there is an inconclusive scan
    total, only = counted
    return total > 0 and (declared or only < total)


def _duplicate_pairs(context: Context) -> list[tuple[Table, Table, bool]]:
    """(legacy, canonical, declared in the lock) for live tables; worked out once a run."""
    pairs = context.worked_out.get(DuplicateTable.name)
    if pairs is None:
        pairs = context.worked_out[DuplicateTable.name] = _pairs(context)
    assert isinstance(pairs, list)
    return pairs


def _pairs(context: Context) -> list[tuple[Table, Table, bool]]:
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
    candidates = [table for table in live.values() if not is_bookkeeping(table)]
    for legacy, canonical in _look_alikes(candidates):
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
    holders: dict[tuple[str, str], list[Table]] = defaultdict(list)
    for table in tables:
        for column in table.columns:
            holders[(column.name, column.type)].append(table)
    # Held by this many tables (a tenth of them, at most 50), a column says nothing of two.
    common = max(3, min(len(tables) // 10, 50))
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
# The last word of a newer table's name: `orders_new`, `orders_next`.
_NEWER_MARKERS = frozenset({"new", "next"})
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def _words(name: str) -> list[str]:
    """A table name's words, lower case: `customers_backup_2024`, `CustomersOld`, `Vote_v2`."""
    return [word.lower() for word in _WORD.findall(name)]


def _version_words(words: list[str]) -> int:
    """How many of the last words say "a newer version": `v2` (read as `v`, `2`), `new`."""
    if len(words) >= 3 and words[-2] == "v" and words[-1].isdigit():
        return 2
    if len(words) >= 2 and words[-1] in _NEWER_MARKERS:
        return 1
    return 0


def _versioned(name: str) -> bool:
    """Named as the newer version of a table: `vote_v2`, `VoteV2`, `orders_new`."""
    return _version_words(_words(name)) > 0


def _legacy_marked(name: str) -> bool:
    """Named like a copy: a marker word, or a numeric or date suffix (`orders_2023`,
    `users_20240101`; a version like `orders_v2` is the newer table, not a copy)."""
    words = _words(name)
    if any(word in _LEGACY_MARKERS for word in words):
        return True
    return len(words) >= 2 and words[-1].isdigit() and not _versioned(name)


def _legacy_schema(table: Table) -> bool:
    """In a schema named like a store of copies: `archive.invoices`, `backup_2024.users`."""
    return any(word in _LEGACY_MARKERS for word in _words(table.schema))


def _stem(name: str) -> str:
    """The name without its legacy markers, version and numeric suffixes, singular, in one
    word: `Vote_v2` and `votes_backup_2024` are both `vote`."""
    words = _words(name)
    words = words[: len(words) - _version_words(words)] or words
    words = [w for w in words if w not in _LEGACY_MARKERS] or words
    while len(words) > 1 and words[-1].isdigit():
        words.pop()
    stem = "".join(words)
    return stem[:-1] if stem.endswith("s") and len(stem) > 3 else stem


def _names_relate(legacy: str, canonical: str) -> bool:
    """Whether two names may name one thing: one carries a legacy marker, one contains the
    other (after markers and versions), one abbreviates the other (`orgs`, `organizations`),
    or they differ by one letter (`organisation`, `Organizations`)."""
    if _legacy_marked(legacy) or _legacy_marked(canonical):
        return True
    short, long = sorted((_stem(legacy), _stem(canonical)), key=len)
    if len(short) < 3:
        return False
    return short in long or _abbreviates(short, long) or _one_edit_apart(short, long)


def _abbreviates(short: str, long: str) -> bool:
    """`org` of `organization`, `acct` of `account`: same first letter, letters in order."""
    if short[0] != long[0]:
        return False
    rest = iter(long[1:])
    return all(letter in rest for letter in short[1:])


def _one_edit_apart(short: str, long: str) -> bool:
    """A spelling variant: one letter replaced, added or dropped (`organisation` and
    `organization`, `colour` and `color`), in names of at least six letters, where one
    letter cannot make another word of it as in `cart` and `card`."""
    if len(short) < 6 or len(long) - len(short) > 1:
        return False
    if len(short) == len(long):
        return sum(a != b for a, b in zip(short, long, strict=True)) == 1
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _reads_as_copy(table: Table, other: Table) -> bool:
    """Whether `table` is the legacy side of the pair: the one named like a copy, or in a
    schema named so (`archive.invoices`); else the one without a version when the other has
    one (`vote` beside `vote_v2`); else the smaller one; with as many columns, the longer name
    (each pair is reported once)."""
    marked = [_legacy_marked(t.name) or _legacy_schema(t) for t in (table, other)]
    if marked[0] != marked[1]:
        return marked[0]
    versioned = [_versioned(t.name) for t in (table, other)]
    if versioned[0] != versioned[1]:
        return versioned[1]
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
