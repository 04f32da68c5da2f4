"""Rules about the values rows hold: mock markers, declared patterns and accepted values."""

from __future__ import annotations

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
    user", "Acme Mock Org", "Mock Team"), test before one ("test user", "Test Company"; teams,
    companies, workspaces, tenants and projects are data nouns too), and lorem ipsum; John and
    Jane Doe; JSON markers (`"source": "mock"`, `"mock": true`, `"is_test" : true`) and lorem
    ipsum inside a `json` or `jsonb` value;
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
    switches the detectors off there; migration tools' bookkeeping tables (`alembic_version`,
    `_prisma_migrations`, `schema_migrations`, ...) are never read. With `verify --api-base
    URL`, every endpoint the lock lists is asked too: JSON without `"source": "real_database"`
    is this finding (the seed document's first checkpoint).

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
    redacted samples. Migration tools' bookkeeping tables are not data: never read.

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
    samples. Migration tools' bookkeeping tables are not data: never read.

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
