"""Rules about user-defined types: enums and domains."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock import expressions
from schemalock.findings import Category, Finding, Severity
from schemalock.model import Domain
from schemalock.rules.base import Context, Rule, q


class EnumMismatch(Rule):
    """An enum type is missing, extra, or has other labels or label order than the lock.

    ## What it checks
    Every enum under `enums:` exists with exactly the lock's labels in the lock's order, and
    every enum of the covered schemas is in the lock. Labels are case-sensitive.

    ## Why it matters
    Inserting a label the database lacks fails; enum order drives `ORDER BY` and comparisons,
    so a label added in the wrong position changes query results.

    ## Example
    The lock says `job_status: [pending, running, completed, failed]`; the database enum has
    no `failed`.

    ## Fix
    `ALTER TYPE ... ADD VALUE ... BEFORE/AFTER`, outside a transaction block. Safe. Labels can
    never be removed or reordered in place: that needs a new type, and is not generated.
    """

    code, name = "SL114", "enum-mismatch"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True

    def check(self, context: Context) -> Iterator[Finding]:
        if context.live is None:
            return
        lock, live = context.lock.database.enums, context.live.enums
        for key, wanted in lock.items():
            found = live.get(key)
            if found is None:
                yield self.finding(
                    f"enum {q(*key)} is missing",
                    schema=key[0],
                    line=wanted.line,
                    constraint=wanted.name,
                    expected=list(wanted.labels),
                )
            elif found.labels != wanted.labels:
                yield self.finding(
                    f"enum {q(*key)} has labels ({', '.join(found.labels)}); the lock says "
                    f"({', '.join(wanted.labels)})",
                    schema=key[0],
                    line=wanted.line,
                    constraint=wanted.name,
                    expected=list(wanted.labels),
                    actual=list(found.labels),
                )
        for key, found in live.items():
            if key not in lock:
                yield self.finding(
                    f"enum {q(*key)} is not in the lock",
                    schema=key[0],
                    line=context.lock.settings.enums_line,
                    constraint=found.name,
                    actual=list(found.labels),
                )


class DomainMismatch(Rule):
    """A domain is missing, extra, or differs from the lock in type, NOT NULL, default or checks.

    ## What it checks
    Every domain under `domains:` exists with the lock's base type, nullability, default and
    check expressions (compared on PostgreSQL's parse tree), and every domain of the covered
    schemas is in the lock.

    ## Why it matters
    A domain is a type with rules; columns of that type silently accept what the lock says they
    must reject.

    ## Example
    The lock says `email_address: {type: text, checks: {has_at: "VALUE ~ '@'"}}`; the database
    domain has no check.

    ## Fix
    `ALTER DOMAIN ... ADD CONSTRAINT ... NOT VALID`, then `VALIDATE CONSTRAINT`. Changing the
    base type is manual.
    """

    code, name = "SL121", "domain-mismatch"
    severity, category = Severity.ERROR, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        if context.live is None:
            return
        lock, live = context.lock.database.domains, context.live.domains
        for key, wanted in lock.items():
            found = live.get(key)
            if found is None:
                yield self.finding(
                    f"domain {q(*key)} is missing",
                    schema=key[0],
                    line=wanted.line,
                    constraint=wanted.name,
                    expected=wanted.type,
                )
                continue
            difference = _difference(wanted, found)
            if difference:
                yield self.finding(
                    f"domain {q(*key)} {difference}",
                    schema=key[0],
                    line=wanted.line,
                    constraint=wanted.name,
                )
        for key, found in live.items():
            if key not in lock:
                yield self.finding(
                    f"domain {q(*key)} is not in the lock",
                    schema=key[0],
                    line=context.lock.settings.domains_line,
                    constraint=found.name,
                    actual=found.type,
                )


def _difference(wanted: Domain, found: Domain) -> str | None:
    if wanted.type != found.type:
        return f"is over {found.type}; the lock says {wanted.type}"
    if wanted.nullable != found.nullable:
        return (
            "allows NULL; the lock says NOT NULL"
            if found.nullable
            else "is NOT NULL; the lock allows NULL"
        )
    if not expressions.same(wanted.default, found.default):
        return f"default is {found.default or 'none'}; the lock says {wanted.default or 'none'}"
    for check in wanted.checks:
        if not any(expressions.same(check.expression, c.expression) for c in found.checks):
            return f"has no check ({check.expression})"
    for check in found.checks:
        if not any(expressions.same(check.expression, c.expression) for c in wanted.checks):
            return f"has a check the lock does not list ({check.expression})"
    return None
