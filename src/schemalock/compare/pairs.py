"""Pair lock objects with live ones: the small, pure diff every structure rule reads."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property

from schemalock.model import Column, Database, Table


@dataclass(frozen=True)
class TablePair:
    lock: Table | None
    live: Table | None
    renamed: bool = False  # the live table still has the lock's `renamed_from` name

    @cached_property
    def columns(self) -> list[ColumnPair]:
        """The columns of a table both sides have, paired once for every stage that reads
        them (columns, collations and identities, comments); [] when one side lacks it."""
        if self.lock is None or self.live is None:
            return []
        return pair_columns(self.lock, self.live)


@dataclass(frozen=True)
class ColumnPair:
    lock: Column | None
    live: Column | None
    renamed: bool = False


# Tables a migration tool keeps for itself: never extra, though a lock may still describe them.
BOOKKEEPING = frozenset({"alembic_version"})


def bookkeeping(table: Table) -> bool:
    """Alembic's version table, under its default name or the `version_table` an environment
    chose: one column, `version_num`."""
    return table.name in BOOKKEEPING or [c.name for c in table.columns] == ["version_num"]


def ignored(schema: str, name: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(name, p) or fnmatchcase(f"{schema}.{name}", p) for p in patterns)


def pair_tables(lock: Database, live: Database, ignore: tuple[str, ...] = ()) -> list[TablePair]:
    pairs: list[TablePair] = []
    claimed: set[tuple[str, str]] = set()
    for key, table in lock.tables.items():
        if ignored(*key, ignore):
            continue
        found = live.tables.get(key)
        old_key = (table.schema, table.renamed_from) if table.renamed_from else None
        if found is None and old_key and old_key in live.tables and old_key not in lock.tables:
            pairs.append(TablePair(table, live.tables[old_key], renamed=True))
            claimed.add(old_key)
        else:
            pairs.append(TablePair(table, found))
            claimed.add(key)
    for key, table in live.tables.items():
        if key not in claimed and not ignored(*key, ignore) and not bookkeeping(table):
            pairs.append(TablePair(None, table))
    return pairs


def pair_columns(lock: Table, live: Table) -> list[ColumnPair]:
    live_by_name = {column.name: column for column in live.columns}
    lock_names = {column.name for column in lock.columns}
    pairs: list[ColumnPair] = []
    claimed: set[str] = set()
    for column in lock.columns:
        found = live_by_name.get(column.name)
        old = column.renamed_from
        if found is None and old and old in live_by_name and old not in lock_names:
            pairs.append(ColumnPair(column, live_by_name[old], renamed=True))
            claimed.add(old)
        else:
            pairs.append(ColumnPair(column, found))
            claimed.add(column.name)
    pairs += [ColumnPair(None, c) for c in live.columns if c.name not in claimed]
    return pairs
