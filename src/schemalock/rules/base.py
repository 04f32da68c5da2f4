"""What a rule is: a small unit with a stable code, a kebab-case name and documented behaviour.

Every rule's docstring has the sections in `DOC_SECTIONS` (a test enforces it): what it checks,
why it matters, an example, and the fix with whether it is safe.  Rules are pure: they read a
`Context` and yield findings; they never touch a connection or print.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import Comparison, compare
from schemalock.compare.differences import Difference, Subject
from schemalock.model import Database, Environment, Lock, Table, names

if TYPE_CHECKING:
    from schemalock.probe import Questions

DOC_SECTIONS = ("What it checks", "Why it matters", "Example", "Fix")

D = TypeVar("D", bound=Difference)


@dataclass(frozen=True)
class Target:
    """The database verify runs against: its host (`local` for a Unix socket) and the
    environment the run claims (`--env`)."""

    host: str
    environment: Environment | None = None


@dataclass
class Context:
    """What rules read: the lock, the live database (None when offline) and the comparison of
    the two, made once however many rules ask."""

    lock: Lock
    live: Database | None = None
    probe: Questions | None = None  # questions to the database; None offline (lint)
    target: Target | None = None  # what verify connected to, for policy rules
    _comparison: Comparison | None = field(default=None, repr=False)
    # What a rule works out from the models once per run, however often it runs (a dry run
    # asks its questions ahead, then the rule runs for real): by the rule's name.
    worked_out: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def comparison(self) -> Comparison:
        if self._comparison is None:
            live = self.live if self.live is not None else Database()
            self._comparison = compare(self.lock.database, live, self.lock.settings)
        return self._comparison

    def differences(self, kind: type[D]) -> list[D]:
        """The comparison's differences of one type."""
        return self.comparison.of(kind)

    def matched_tables(self) -> Iterator[tuple[Table, Table]]:
        """(lock, live) for each table both sides have."""
        for pair in self.comparison.tables:
            if pair.lock is not None and pair.live is not None:
                yield pair.lock, pair.live


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    category: ClassVar[Category]
    needs_database: ClassVar[bool] = True
    needs_data: ClassVar[bool] = False  # reads rows: skipped by --no-data
    measures: ClassVar[frozenset[str]] = frozenset()  # what the per-table scan must compute
    lint_only: ClassVar[bool] = False  # too costly to repeat on every verify
    # Reported by `schemalock diff` (two locks, no Context): verify and lint never run it.
    diff_only: ClassVar[bool] = False
    fixable: ClassVar[bool] = False
    # The differences whose repair by `schemalock fix` removes what this rule reports:
    # `fixable` is true exactly when the planner repairs one of them (tests hold the two
    # together).
    repaired_by: ClassVar[tuple[type[Difference], ...]] = ()

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
        subject: Subject | None = None,
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
            subject=subject,
            **extra,
        )

    def reported(self, difference: Difference, message: str, **extra: Any) -> Finding:
        """A finding about a difference: its subject's schema and table, its lock line."""
        subject = difference.subject
        return self.finding(
            message,
            schema=subject.schema,
            table=(subject.schema, subject.table) if subject.table is not None else None,
            line=difference.line,
            subject=subject,
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
