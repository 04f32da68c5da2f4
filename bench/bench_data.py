"""The data-check database `bench_data`: what it holds, how it is built, what verify must find.

Deterministic (every value is a function of the row number), so the expected counts are
computed here rather than measured:

- `parent (id bigint PRIMARY KEY)`: ids 1..1,000,000.
- `child (id bigint PRIMARY KEY, parent_id bigint, status text, note text)`: 10,000,000 rows, no
  foreign key and no index on `parent_id`.  Row i references parent `(i * 7919) % 1,000,000 + 1`
  (scattered: 7919 is prime, so consecutive rows hit parents far apart), except every 1000th row
  (i % 1000 = 0), an orphan referencing `1,000,000 + i`, and i % 50 = 7 (2%), NULL.
- `note` is ordinary text from word lists that hold the usual false friends of a mock-data scan
  ("Hammock", "Testament", "Fakenham", "attestation"); i % 5000 = 1 says "test user" and
  i % 5000 = 2501 holds "j.doe@example.com".
- `child_fk`: a copy of `child` without its orphans (9,990,000 rows), with a validated foreign
  key to `parent`: the relation the database proves, which verify must not scan.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from bench_server import BenchError, BuiltDatabase, Server, ensure_built

DATABASE = "bench_data"
PARENTS = 1_000_000
CHILDREN = 10_000_000
CHILD_CHUNK = 2_500_000  # rows per INSERT into child, for progress
SCATTER = 7919
ORPHAN_EVERY = 1000  # i % 1000 = 0
NULL_MODULUS, NULL_REMAINDER = 50, 7  # i % 50 = 7: 2%, never an orphan row (1000 is 50 * 20)
MOCK_MODULUS, TEST_USER_REMAINDER, EMAIL_REMAINDER = 5000, 1, 2501

# The yardsticks: the hand-written queries a DBA would type.
ORPHAN_COUNT_SQL = (
    "SELECT count(*) FROM child c WHERE c.parent_id IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM parent p WHERE p.id = c.parent_id)"
)
MOCK_COUNT_SQL = (
    "SELECT count(*) FROM child"
    " WHERE note ~* '(^|[^[:alnum:]])(test user|mock|fake|dummy)([^[:alnum:]]|$)'"
)

_ADJECTIVES = ("Quarterly", "Blue", "Sturdy", "Quiet", "Garden", "Weekly", "Oak", "Compact",
               "Spare", "Annual", "Coastal")  # fmt: skip
_NOUNS = ("Hammock", "invoice", "shipment", "Testament", "chair", "lamp", "renewal", "Fakenham",
          "attestation", "order", "parcel", "blanket", "ticket")  # fmt: skip
_VERBS = ("delivered to", "returned by", "reviewed by", "signed for by", "cancelled by",
          "paid by", "picked up by")  # fmt: skip
_PEOPLE = ("the warehouse", "Mrs Alvarez", "accounts", "the front desk", "Leeds branch")
_STATUSES = ("active", "pending", "shipped", "cancelled", "returned")


def _array(words: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join("'" + word.replace("'", "''") + "'" for word in words) + "]"


def _pick(words: tuple[str, ...], divisor: int) -> str:
    """SQL: one of `words` chosen by the row number i."""
    return f"({_array(words)})[((i / {divisor}) % {len(words)})::int + 1]"


_A, _N, _V = len(_ADJECTIVES), len(_NOUNS), len(_VERBS)
NOTE_SQL = f"""CASE
      WHEN i % {MOCK_MODULUS} = {TEST_USER_REMAINDER}
        THEN 'Placed by test user ' || (i / {MOCK_MODULUS}) || ', ref ' || i
      WHEN i % {MOCK_MODULUS} = {EMAIL_REMAINDER}
        THEN 'Receipt sent to j.doe@example.com, ref ' || i
      ELSE {_pick(_ADJECTIVES, 1)} || ' ' || {_pick(_NOUNS, _A)} || ' '
        || {_pick(_VERBS, _A * _N)} || ' ' || {_pick(_PEOPLE, _A * _N * _V)} || ', ref ' || i
    END"""
PARENT_ID_SQL = f"""CASE
      WHEN i % {ORPHAN_EVERY} = 0 THEN {PARENTS} + i
      WHEN i % {NULL_MODULUS} = {NULL_REMAINDER} THEN NULL
      ELSE (i * {SCATTER}) % {PARENTS} + 1
    END"""


def _child_insert(first: int, last: int) -> str:
    return f"""INSERT INTO child (id, parent_id, status, note)
  SELECT i, {PARENT_ID_SQL}, {_pick(_STATUSES, 1)}, {NOTE_SQL}
  FROM generate_series({first}::bigint, {last}::bigint) AS i"""


def build_steps() -> list[tuple[str, str]]:
    """(progress label, SQL) in order; each runs in its own transaction (VACUUM must)."""
    steps = [
        ("parent", "CREATE TABLE parent (id bigint PRIMARY KEY)"),
        (
            f"parent: {PARENTS:,} rows",
            f"INSERT INTO parent SELECT generate_series(1::bigint, {PARENTS}::bigint)",
        ),
        # The primary key comes after the load: one index build instead of 10M insertions.
        ("child", "CREATE TABLE child (id bigint, parent_id bigint, status text, note text)"),
    ]
    for first in range(1, CHILDREN + 1, CHILD_CHUNK):
        last = min(first + CHILD_CHUNK - 1, CHILDREN)
        steps.append((f"child: rows {first:,}-{last:,}", _child_insert(first, last)))
    steps += [
        ("child: primary key", "ALTER TABLE child ADD PRIMARY KEY (id)"),
        (
            "child_fk: child without orphans",
            "CREATE TABLE child_fk AS SELECT id, parent_id, status, note FROM child"
            f" WHERE id % {ORPHAN_EVERY} <> 0",
        ),
        ("child_fk: primary key", "ALTER TABLE child_fk ADD PRIMARY KEY (id)"),
        (
            "child_fk: validated foreign key",
            "ALTER TABLE child_fk ADD CONSTRAINT child_fk_parent_id_fkey"
            " FOREIGN KEY (parent_id) REFERENCES parent (id)",
        ),
        # Set hint bits and the visibility map now, so the first timed scan does not write
        # the whole table (a live table would have been vacuumed long ago).
        ("vacuum", "VACUUM parent, child, child_fk"),
    ]
    return steps


def marker() -> str:
    """The database comment that says an earlier run built exactly this."""
    script = ";\n".join(sql for _, sql in build_steps())
    digest = hashlib.sha256(script.encode()).hexdigest()[:16]
    return f"schemalock bench data: {PARENTS} parents, {CHILDREN} children, sha256 {digest}"


def _residues(count: int, modulus: int, remainder: int) -> int:
    """How many i in 1..count have i % modulus == remainder."""
    first = remainder or modulus
    return 0 if count < first else (count - first) // modulus + 1


EXPECTED_ORPHANS = _residues(CHILDREN, ORPHAN_EVERY, 0)
EXPECTED_NULLS = _residues(CHILDREN, NULL_MODULUS, NULL_REMAINDER)
EXPECTED_TEST_USER_ROWS = _residues(CHILDREN, MOCK_MODULUS, TEST_USER_REMAINDER)
EXPECTED_EMAIL_ROWS = _residues(CHILDREN, MOCK_MODULUS, EMAIL_REMAINDER)
EXPECTED_FK_ROWS = CHILDREN - EXPECTED_ORPHANS
PROVEN_TABLE = "child_fk"
TABLES = ("parent", "child", PROVEN_TABLE)
ROWS = {"parent": PARENTS, "child": CHILDREN, PROVEN_TABLE: EXPECTED_FK_ROWS}


def ensure_data_database(server: Server, progress: Callable[[str], None]) -> BuiltDatabase:
    def build(url: str) -> None:
        with psycopg.connect(url, autocommit=True) as connection:
            for label, statement in build_steps():
                started = time.perf_counter()
                connection.execute(statement.encode())  # bytes: no parameters, run as is
                progress(f"data: built {label} in {time.perf_counter() - started:.1f} s")

    return ensure_built(server, DATABASE, marker(), build)


def prepare_lock(lock: Path) -> None:
    """Edit a snapshot's lock: declare `child.parent_id -> parent.id` (the relation the
    database does not enforce), so verify checks it for orphans; and `mock_data: false` on
    `child_fk`, so the mock-data scan reads one 10M-row table, like its yardstick."""
    text = lock.read_text(encoding="utf-8")
    column = "      parent_id: {type: bigint}\n"
    referencing = "      parent_id: {type: bigint, references: parent.id}\n"
    text = _edit_table(
        lock, text, "child", lambda block: _replace_once(lock, block, column, referencing)
    )
    text = _edit_table(
        lock,
        text,
        PROVEN_TABLE,
        lambda block: _replace_once(
            lock, block, f"  {PROVEN_TABLE}:\n", f"  {PROVEN_TABLE}:\n    mock_data: false\n"
        ),
    )
    lock.write_text(text, encoding="utf-8")


def _edit_table(lock: Path, text: str, table: str, edit: Callable[[str], str]) -> str:
    block = re.search(rf"^  {re.escape(table)}:\n(?:    .*\n)*", text, re.MULTILINE)
    if block is None:
        raise BenchError(f"{lock}: no table `{table}`")
    return text[: block.start()] + edit(block.group(0)) + text[block.end() :]


def _replace_once(lock: Path, block: str, old: str, new: str) -> str:
    if block.count(old) != 1:
        raise BenchError(f"{lock}: expected {old.strip()!r} once in:\n{block}")
    return block.replace(old, new)


def describe(url: str) -> str:
    """What the database holds, with its sizes and the settings that shape the plans."""
    with psycopg.connect(url, autocommit=True) as connection:
        sizes = {
            str(row[0]): (int(row[1]), int(row[2]))
            for row in connection.execute(
                "SELECT relname, pg_table_size(oid), pg_indexes_size(oid) FROM pg_class"
                " WHERE relname = ANY (%s) AND relnamespace = 'public'::regnamespace",
                (list(TABLES),),
            )
        }
        settings = connection.execute(
            "SELECT current_setting('shared_buffers'), current_setting('work_mem'),"
            " current_setting('max_parallel_workers_per_gather')"
        ).fetchone()
    assert settings is not None

    def size(table: str) -> str:
        heap, indexes = sizes[table]
        return f"{heap / 2**20:,.0f} MiB + {indexes / 2**20:,.0f} MiB of indexes"

    return (
        f"`parent` {PARENTS:,} rows ({size('parent')}); `child` {CHILDREN:,} rows "
        f"({size('child')}), no foreign key and no index on `parent_id`, "
        f"{EXPECTED_ORPHANS:,} orphans (every {ORPHAN_EVERY}th row), {EXPECTED_NULLS:,} NULL "
        f"`parent_id` ({100 * EXPECTED_NULLS / CHILDREN:g}%), parents referenced in scattered "
        f"order (`(i * {SCATTER}) % {PARENTS:,} + 1`); `{PROVEN_TABLE}` {EXPECTED_FK_ROWS:,} "
        f"rows ({size(PROVEN_TABLE)}), `child` without its orphans, with a validated foreign "
        f"key to `parent`.  `child.note`: {EXPECTED_TEST_USER_ROWS:,} rows say 'test user', "
        f"{EXPECTED_EMAIL_ROWS:,} hold 'j.doe@example.com', the rest ordinary words including "
        "'Hammock', 'Testament', 'Fakenham' and 'attestation'.  Built by INSERT ... SELECT "
        "generate_series, then VACUUM and ANALYZE.  Server settings: shared_buffers "
        f"{settings[0]}, work_mem {settings[1]}, max_parallel_workers_per_gather {settings[2]}."
    )


@dataclass(frozen=True)
class ScanCounters:
    """pg_stat_user_tables for one table: how often and how much it was read."""

    seq_scan: int
    seq_tup_read: int
    idx_scan: int
    idx_tup_fetch: int

    def minus(self, before: ScanCounters) -> ScanCounters:
        return ScanCounters(
            self.seq_scan - before.seq_scan,
            self.seq_tup_read - before.seq_tup_read,
            self.idx_scan - before.idx_scan,
            self.idx_tup_fetch - before.idx_tup_fetch,
        )

    @property
    def untouched(self) -> bool:
        return not (self.seq_scan or self.seq_tup_read or self.idx_scan or self.idx_tup_fetch)

    def show(self) -> str:
        return (
            f"seq_scan +{self.seq_scan}, seq_tup_read +{self.seq_tup_read:,}, "
            f"idx_scan +{self.idx_scan}, idx_tup_fetch +{self.idx_tup_fetch:,}"
        )


STATS_SETTLE_S = 1.5  # a backend flushes its counters as it exits, just after the client


def scan_counters(url: str, tables: tuple[str, ...]) -> dict[str, ScanCounters]:
    """The counters now, read on a fresh connection (a fresh statistics snapshot)."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SELECT pg_stat_clear_snapshot()")
        rows = connection.execute(
            "SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0),"
            " coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables"
            " WHERE schemaname = 'public' AND relname = ANY (%s)",
            (list(tables),),
        ).fetchall()
    found = {str(row[0]): ScanCounters(*(int(value) for value in row[1:])) for row in rows}
    missing = set(tables) - set(found)
    if missing:
        raise BenchError(f"no statistics for {', '.join(sorted(missing))}")
    return found
