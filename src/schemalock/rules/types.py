"""Rules about user-defined types: enums and domains."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.model import expressions
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
    repaired_by = (d.MissingEnum, d.EnumChanged)

    def check(self, context: Context) -> Iterator[Finding]:
        if context.live is None:
            return
        for missing in context.differences(d.MissingEnum):
            wanted = missing.lock
            yield self.reported(
                missing,
                f"enum {q(*wanted.key)} is missing",
                constraint=wanted.name,
                expected=list(wanted.labels),
            )
        for changed in context.differences(d.EnumChanged):
            wanted, found = changed.lock, changed.live
            yield self.reported(
                changed,
                f"enum {q(*wanted.key)} has labels ({', '.join(found.labels)}); the lock says "
                f"({', '.join(wanted.labels)})",
                constraint=wanted.name,
                expected=list(wanted.labels),
                actual=list(found.labels),
            )
        for extra in context.differences(d.ExtraEnum):
            found = extra.live
            yield self.reported(
                extra,
                f"enum {q(*found.key)} is not in the lock",
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
    `schemalock fix` creates a missing domain (nothing uses it yet). A differing one is left for
    a person: `ALTER DOMAIN ... ADD CONSTRAINT ... NOT VALID`, then `VALIDATE CONSTRAINT`, which
    checks every column of that type. Changing the base type is manual.
    """

    code, name = "SL121", "domain-mismatch"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.MissingDomain,)

    def check(self, context: Context) -> Iterator[Finding]:
        if context.live is None:
            return
        for missing in context.differences(d.MissingDomain):
            wanted = missing.lock
            yield self.reported(
                missing,
                f"domain {q(*wanted.key)} is missing",
                constraint=wanted.name,
                expected=wanted.type,
            )
        for changed in context.differences(d.DomainChanged):
            yield self.reported(
                changed,
                f"domain {q(*changed.lock.key)} {_difference(changed)}",
                constraint=changed.lock.name,
            )
        for extra in context.differences(d.ExtraDomain):
            found = extra.live
            yield self.reported(
                extra,
                f"domain {q(*found.key)} is not in the lock",
                constraint=found.name,
                actual=found.type,
            )


def _difference(changed: d.DomainChanged) -> str:
    """The first of the domain's aspects that differs, in words."""
    wanted, found, aspects = changed.lock, changed.live, changed.aspects
    if "type" in aspects:
        return f"is over {found.type}; the lock says {wanted.type}"
    if "nullable" in aspects:
        return (
            "allows NULL; the lock says NOT NULL"
            if found.nullable
            else "is NOT NULL; the lock allows NULL"
        )
    if "default" in aspects:
        return f"default is {found.default or 'none'}; the lock says {wanted.default or 'none'}"
    for check in wanted.checks:
        if not any(expressions.same(check.expression, c.expression) for c in found.checks):
            return f"has no check ({check.expression})"
    extra = next(
        c
        for c in found.checks
        if not any(expressions.same(c.expression, w.expression) for w in wanted.checks)
    )
    return f"has a check the lock does not list ({extra.expression})"
