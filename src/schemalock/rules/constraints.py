"""Rules about unique and check constraints, and constraints the lock does not know."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock import expressions
from schemalock.findings import Category, Finding, Severity
from schemalock.model import CheckConstraint, Table, UniqueConstraint
from schemalock.rules.base import Context, Rule, cols, q
from schemalock.rules.indexes import unique_key
from schemalock.rules.keys import match_foreign_keys


def _unique_matches(
    lock: Table, live: Table
) -> tuple[list[tuple[UniqueConstraint, bool]], list[UniqueConstraint]]:
    """Lock uniques and whether the database enforces them (a constraint or a unique index)."""
    remaining = list(live.uniques)
    enforced_by_index = {unique_key(ix) for ix in live.indexes}
    result = []
    for wanted in lock.uniques:
        found = next((u for u in remaining if u == wanted), None)
        if found is not None:
            remaining.remove(found)
        enforced = (
            found is not None or (wanted.columns, wanted.nulls_not_distinct) in enforced_by_index
        )
        result.append((wanted, enforced))
    lock_index_keys = {unique_key(ix) for ix in lock.indexes}
    remaining = [u for u in remaining if (u.columns, u.nulls_not_distinct) not in lock_index_keys]
    return result, remaining


def match_checks(
    lock: Table, live: Table
) -> tuple[list[tuple[CheckConstraint, CheckConstraint | None, bool]], list[CheckConstraint]]:
    """Each lock check with the live check of the same meaning, else of the same name."""
    remaining = list(live.checks)
    result = []
    for wanted in lock.checks:
        same = next(
            (c for c in remaining if expressions.same(c.expression, wanted.expression)), None
        )
        named = same or next((c for c in remaining if wanted.name and c.name == wanted.name), None)
        if named is not None:
            remaining.remove(named)
        result.append((wanted, named, same is not None))
    return result, remaining


class MissingUnique(Rule):
    """A uniqueness the lock declares is not enforced by the database.

    ## What it checks
    Every `unique: true` column and `unique:` entry is enforced by a unique constraint or by a
    plain unique index on exactly those columns.

    ## Why it matters
    Without it, duplicates get in: two organizations with the same Clerk id, two
    subscriptions for one Dodo id, and every lookup by that key becomes ambiguous.

    ## Example
    The lock says `organizations.clerk_org_id: {unique: true}`; nothing in the database
    enforces it.

    ## Fix
    `CREATE UNIQUE INDEX CONCURRENTLY`, then `ADD CONSTRAINT ... UNIQUE USING INDEX`. Fails
    on existing duplicates, which are reported, never removed.
    """

    code, name = "SL111", "missing-unique"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True

    def check(self, context: Context) -> Iterator[Finding]:
        for lock, live in context.matched_tables():
            for wanted, enforced in context.match(_unique_matches, lock, live)[0]:
                if not enforced:
                    yield self.finding(
                        f"table {q(*lock.key)} has no unique constraint on {cols(wanted.columns)}",
                        table=lock,
                        column=wanted.columns[0] if len(wanted.columns) == 1 else None,
                        constraint=wanted.name,
                        line=wanted.line,
                        expected=list(wanted.columns),
                    )


class CheckMismatch(Rule):
    """A check constraint the lock declares is missing or says something else.

    ## What it checks
    Every check under `checks:` exists with the same meaning, compared on PostgreSQL's parse
    tree (`plan IN ('free', 'pro')` equals the catalog's `plan = ANY (ARRAY[...])`). A check
    with the lock's name but another expression is reported as changed.

    ## Why it matters
    The database accepts values the lock rules out (a negative quota, an unknown plan).

    ## Example
    The lock says `checks: {quota_nonnegative: "quota_used >= 0"}`; the database has no such
    check.

    ## Fix
    `ADD CONSTRAINT ... CHECK (...) NOT VALID`, then `VALIDATE CONSTRAINT`, so writes are not
    blocked during the scan. Validation fails on violating rows, which are reported.
    """

    code, name = "SL113", "check-mismatch"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True

    def check(self, context: Context) -> Iterator[Finding]:
        for lock, live in context.matched_tables():
            for wanted, found, same in context.match(match_checks, lock, live)[0]:
                if same:
                    continue
                if found is None:
                    message = f"table {q(*lock.key)} has no check ({wanted.expression})"
                else:
                    message = (
                        f"check {q(found.name)} on {q(*lock.key)} is ({found.expression}); "
                        f"the lock says ({wanted.expression})"
                    )
                yield self.finding(
                    message,
                    table=lock,
                    constraint=wanted.name,
                    line=wanted.line,
                    expected=wanted.expression,
                    actual=found.expression if found else None,
                )


class ExtraConstraint(Rule):
    """A foreign key, unique or check constraint exists in the database but not in the lock.

    ## What it checks
    Every constraint of a locked table is accounted for by the lock (primary keys are
    `primary-key-mismatch`'s concern).

    ## Why it matters
    An unlisted constraint changes what writes succeed: an unexpected FK blocks deletes, an
    unexpected check rejects rows the code considers valid.

    ## Example
    The database has `CHECK (amount > 0)` on `billing_audit`; the lock lists no checks there.

    ## Fix
    Add it to the lock (`schemalock snapshot` shows it). Nothing is generated: schemalock does
    not drop constraints on its own.
    """

    code, name = "SL119", "extra-constraint"
    severity, category = Severity.WARNING, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for lock, live in context.matched_tables():
            name = q(*live.key)
            for fk in context.match(match_foreign_keys, lock, live)[1]:
                yield self.finding(
                    f"foreign key {q(fk.name)} on {name} is not in the lock",
                    table=lock,
                    constraint=fk.name,
                    line=lock.line,
                )
            for unique in context.match(_unique_matches, lock, live)[1]:
                yield self.finding(
                    f"unique constraint {q(unique.name)} on {name} {cols(unique.columns)} "
                    "is not in the lock",
                    table=lock,
                    constraint=unique.name,
                    line=lock.line,
                )
            for check in context.match(match_checks, lock, live)[1]:
                yield self.finding(
                    f"check {q(check.name)} on {name} ({check.expression}) is not in the lock",
                    table=lock,
                    constraint=check.name,
                    line=lock.line,
                )
