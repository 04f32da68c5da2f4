"""Rules about unique and check constraints, and constraints the lock does not know."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.model import CheckConstraint
from schemalock.rules.base import Context, Rule, cols, q


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
    repaired_by = (d.MissingUnique,)

    def check(self, context: Context) -> Iterator[Finding]:
        for missing in context.differences(d.MissingUnique):
            wanted = missing.unique
            yield self.reported(
                missing,
                f"table {q(*missing.lock.key)} has no unique constraint on {cols(wanted.columns)}",
                column=wanted.columns[0] if len(wanted.columns) == 1 else None,
                constraint=wanted.name,
                expected=list(wanted.columns),
            )


class CheckMismatch(Rule):
    """A check constraint the lock declares is missing or says something else.

    ## What it checks
    Every check under `checks:` exists with the same meaning, compared on PostgreSQL's parse
    tree (`plan IN ('free', 'pro')` equals the catalog's `plan = ANY (ARRAY[...])`). A check
    with the lock's name but another expression is reported as changed, and so is one that is
    NO INHERIT where the lock says otherwise (`no_inherit: true`).

    ## Why it matters
    The database accepts values the lock rules out (a negative quota, an unknown plan).

    ## Example
    The lock says `checks: {quota_nonnegative: "quota_used >= 0"}`; the database has no such
    check.

    ## Fix
    `ADD CONSTRAINT ... CHECK (...) NOT VALID`, then `VALIDATE CONSTRAINT`, so writes are not
    blocked during the scan. Validation fails on violating rows, which are reported. A check
    NO INHERIT on one side only is left for a person, with the statements: it is dropped and
    added again, and the tables that inherit gain or lose it.
    """

    code, name = "SL113", "check-mismatch"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.CheckChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.CheckChanged):
            wanted, found, table = changed.lock_check, changed.live_check, changed.lock
            if found is None:
                message = f"table {q(*table.key)} has no check ({wanted.expression})"
            else:
                message = (
                    f"check {q(found.name)} on {q(*table.key)} is ({found.expression}); "
                    f"the lock says ({wanted.expression})"
                )
            yield self.reported(
                changed,
                message,
                constraint=wanted.name,
                expected=wanted.expression,
                actual=found.expression if found else None,
            )
        for inheritance in context.differences(d.CheckInheritanceChanged):
            have, want = inheritance.live_check, inheritance.lock_check
            yield self.reported(
                inheritance,
                f"check {q(have.name)} on {q(*inheritance.lock.key)} is {_inheritance(have)}; "
                f"the lock says {_inheritance(want)}",
                constraint=want.name,
                expected=_inheritance(want),
                actual=_inheritance(have),
            )


def _inheritance(check: CheckConstraint) -> str:
    return "NO INHERIT" if check.no_inherit else "inherited (not NO INHERIT)"


class ExtraConstraint(Rule):
    """A foreign key, unique, check or exclusion constraint is in the database, not in the lock.

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
        for fk in context.differences(d.ExtraForeignKey):
            name, constraint = q(*fk.live.key), fk.foreign_key.name
            yield self.reported(
                fk,
                f"foreign key {q(constraint)} on {name} is not in the lock",
                constraint=constraint,
            )
        for unique in context.differences(d.ExtraUnique):
            name, constraint = q(*unique.live.key), unique.unique.name
            yield self.reported(
                unique,
                f"unique constraint {q(constraint)} on {name} {cols(unique.unique.columns)} "
                "is not in the lock",
                constraint=constraint,
            )
        for check in context.differences(d.ExtraCheck):
            name, constraint = q(*check.live.key), check.check.name
            yield self.reported(
                check,
                f"check {q(constraint)} on {name} ({check.check.expression}) is not in the lock",
                constraint=constraint,
            )
        for extra in context.differences(d.ExtraExclusion):
            name, constraint = q(*extra.live.key), extra.exclusion.name
            yield self.reported(
                extra,
                f"exclusion constraint {q(constraint)} on {name} ({extra.exclusion.definition}) "
                "is not in the lock",
                constraint=constraint,
            )
