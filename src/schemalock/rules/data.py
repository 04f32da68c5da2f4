"""Rules about the values rows hold: declared patterns and accepted values."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from schemalock.findings import Category, Finding, Severity
from schemalock.model import Column, Table
from schemalock.probe import ColumnStats, redact
from schemalock.rules.base import Context, Rule, q


def _checked(context: Context, measure: str) -> Iterator[tuple[Table, Table, Column, ColumnStats]]:
    """(lock table, live table, lock column, statistics) where `measure` found something."""
    assert context.probe is not None
    for lock, live in context.matched_tables():
        profile = context.probe.profile(measure, live, lock) or {}
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
    Text, JSON and uuid columns of locked tables (listed in the lock or not), with built-in
    detectors evaluated by PostgreSQL: emails at reserved or throwaway domains
    (`example.com`, `test.com`, mailinator and the like), the words mock, fake, dummy, test
    user and lorem ipsum as whole words, John and Jane Doe, JSON markers (`"source":
    "mock"`, `"mock": true`, `"is_test": true`) and fixture UUIDs (nil, repeated digits,
    documentation examples). Whole words only: "Hammock", "Testament", "Protest", "Fakenham"
    and "attestation" are real data, and UUIDs or hashes inside JSON are not markers. One
    scan per table; counts are exact, samples redacted. `mock_data: false` on a table or
    column switches the detectors off there.

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
                detail = probe.mock_breakdown(self.name, live, column)
                breakdown, samples = detail if detail else ({}, ())
                kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(breakdown.items()))
                wanted = lock.column(name)
                yield self.finding(
                    f"{stats.mock} rows of {q(*lock.key, name)} look like mock data"
                    + (f" ({kinds})" if kinds else ""),
                    table=lock,
                    column=name,
                    line=wanted.line if wanted else lock.line,
                    count=stats.mock,
                    samples=tuple(redact(s) for s in samples),
                    actual=breakdown or None,
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
        for lock, live, column, stats in _checked(context, "pattern_violations"):
            samples = _samples(
                context, self.name, live, column, "c.{}::pg_catalog.text !~ %s", [column.pattern]
            )
            yield self.finding(
                f"{stats.pattern_violations} of {stats.non_null} values of "
                f"{q(*lock.key, column.name)} do not match {column.pattern!r}",
                table=lock,
                column=column.name,
                line=column.line,
                count=stats.pattern_violations,
                samples=samples,
                expected=column.pattern,
            )


class AcceptedValuesViolation(Rule):
    """Values of a column are not among the column's `values:`.

    ## What it checks
    Every non-NULL value of a column with `values:` is one of them (compared as text, the list
    passed as a bound parameter). Reports the exact count and a few redacted samples.

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
        for lock, live, column, stats in _checked(context, "value_violations"):
            samples = _samples(
                context,
                self.name,
                live,
                column,
                "NOT (c.{}::pg_catalog.text = ANY (%s::pg_catalog.text[]))",
                [list(column.values or ())],
            )
            yield self.finding(
                f"{stats.value_violations} of {stats.non_null} values of "
                f"{q(*lock.key, column.name)} are not among {list(column.values or ())}",
                table=lock,
                column=column.name,
                line=column.line,
                count=stats.value_violations,
                samples=samples,
                expected=list(column.values or ()),
            )
