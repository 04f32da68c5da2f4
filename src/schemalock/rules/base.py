"""What a rule is: a small unit with a stable code, a kebab-case name and documented behaviour.

Every rule's docstring has the sections in `DOC_SECTIONS` (a test enforces it): what it checks,
why it matters, an example, and the fix with whether it is safe.  Rules are pure: they read a
`Context` and yield findings; they never touch a connection or print.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from schemalock import names
from schemalock.diff import ColumnPair, TablePair, pair_columns, pair_tables
from schemalock.findings import Category, Finding, Severity
from schemalock.model import Database, Environment, Lock, Table

if TYPE_CHECKING:
    from schemalock.probe import Probe

DOC_SECTIONS = ("What it checks", "Why it matters", "Example", "Fix")

T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """The database verify runs against: its host (`local` for a Unix socket) and the
    environment the run claims (`--env`)."""

    host: str
    environment: Environment | None = None


@dataclass
class Context:
    """What rules read: the lock, the live database (None when offline) and their pairing."""

    lock: Lock
    live: Database | None = None
    probe: Probe | None = None  # questions to the database; None offline (lint)
    target: Target | None = None  # what verify connected to, for policy rules
    _tables: list[TablePair] | None = field(default=None, repr=False)
    _matches: dict[tuple[object, tuple[str, str]], object] = field(default_factory=dict, repr=False)

    @property
    def tables(self) -> list[TablePair]:
        if self._tables is None:
            live = self.live if self.live is not None else Database()
            self._tables = pair_tables(self.lock.database, live, self.lock.settings.ignore)
        return self._tables

    def matched_tables(self) -> Iterator[tuple[Table, Table]]:
        for pair in self.tables:
            if pair.lock is not None and pair.live is not None:
                yield pair.lock, pair.live

    def matched_columns(self) -> Iterator[tuple[Table, ColumnPair]]:
        for lock_table, live_table in self.matched_tables():
            for pair in self.match(pair_columns, lock_table, live_table):
                if pair.lock is not None and pair.live is not None:
                    yield lock_table, pair

    def match(self, matcher: Callable[[Table, Table], T], lock: Table, live: Table) -> T:
        """`matcher(lock, live)`, computed once per table however many rules ask."""
        key = (matcher, lock.key)
        if key not in self._matches:
            self._matches[key] = matcher(lock, live)
        return cast(T, self._matches[key])


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    category: ClassVar[Category]
    needs_database: ClassVar[bool] = True
    needs_data: ClassVar[bool] = False  # reads rows: skipped by --no-data
    measures: ClassVar[frozenset[str]] = frozenset()  # what the per-table scan must compute
    lint_only: ClassVar[bool] = False  # too costly to repeat on every verify
    fixable: ClassVar[bool] = False

    def check(self, context: Context) -> Iterator[Finding]:
        raise NotImplementedError

    @classmethod
    def summary(cls) -> str:
        return (inspect.getdoc(cls) or "").partition("\n")[0]

    @classmethod
    def documentation(cls) -> str:
        return inspect.getdoc(cls) or ""

    def finding(
        self,
        message: str,
        *,
        table: Table | tuple[str, str] | None = None,
        schema: str | None = None,
        column: str | None = None,
        constraint: str | None = None,
        line: int | None = None,
        **extra: Any,
    ) -> Finding:
        table_name = None
        if table is not None:
            schema, table_name = table.key if isinstance(table, Table) else table
        return Finding(
            code=self.code,
            rule=self.name,
            severity=self.severity,
            category=self.category,
            message=message,
            schema=schema,
            table=table_name,
            column=column,
            constraint=constraint,
            lock_line=line,
            fixable=self.fixable,
            **extra,
        )


def q(*parts: str | None) -> str:
    """An object's qualified name as messages show it: `public."Order Items".qty`."""
    return names.qualified(*parts)


def about(context: Context, count: int) -> str:
    """A row count as messages show it: "about N" when --sample made it an estimate."""
    return f"about {count}" if context.probe is not None and context.probe.estimates else str(count)


def rows(context: Context, count: int) -> str:
    """ "1 row", "12 rows", or "about 12 rows" under --sample."""
    return f"{about(context, count)} {'row' if count == 1 else 'rows'}"


def cols(columns: tuple[str, ...] | list[str]) -> str:
    """A column list as messages show it: `(org_id, "Period Start")`."""
    return "(" + ", ".join(names.quote(column) for column in columns) + ")"
