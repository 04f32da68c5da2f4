"""Rules about a table's aspects besides its columns' types and its keys: column collations,
identity sequence options, storage parameters, exclusion constraints."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.compare.aspects import comparable_options
from schemalock.model import Column
from schemalock.model.exclusions import ExclusionConstraint
from schemalock.model.sequences import IDENTITY_OPTIONS, identity_sequence
from schemalock.rules.base import Context, Rule, q
from schemalock.rules.sequences import options


class CollationMismatch(Rule):
    """A column's collation differs from the lock.

    ## What it checks
    The column's collation (`COLLATE`) equals the lock's `collation:`; a column the lock gives
    none has its type's default collation.

    ## Why it matters
    Collation decides how text sorts and compares: `ORDER BY`, `<`, unique and index lookups
    under `"C"` behave otherwise than under `en_US`, and an index built for one collation
    cannot serve a query that uses the other. A changed collation passes every other check.

    ## Example
    The lock says `users.email: {type: text, collation: C}`; the database column has the
    database's default collation.

    ## Fix
    `ALTER COLUMN ... TYPE <its type> COLLATE ...`: the values are unchanged, but it takes an
    ACCESS EXCLUSIVE lock and rebuilds every index on the column. The downgrade sets the old
    collation back.
    """

    code, name = "SL122", "collation-mismatch"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.CollationChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.CollationChanged):
            want, have = changed.lock_column, changed.live_column
            yield self.reported(
                changed,
                f"column {q(*changed.lock.key, have.name)} has collation "
                f"{_collation(have.collation)}; the lock says {_collation(want.collation)}",
                column=want.name,
                expected=want.collation,
                actual=have.collation,
            )


def _collation(name: str | None) -> str:
    return name if name is not None else "its type's default"


class IdentityOptionsMismatch(Rule):
    """An identity column's sequence has other options than the lock.

    ## What it checks
    For a column that is an identity in both: its sequence's start, increment, minimum,
    maximum, cache, cycle and type (`AS`, the column's own unless altered apart) equal the
    lock's `identity: {generated: ..., start: ..., ...}`; options the lock leaves out are
    PostgreSQL's defaults for the column's type. The current value is data, not compared.

    ## Why it matters
    A lowered `max` runs out (`nextval: reached maximum value`) and stops every insert;
    `cycle` turned on hands out numbers already used; a changed increment or start breaks
    numbering the application relies on. None of it shows in the column's type or default.

    ## Example
    The lock says `orders.id: {type: bigint, identity: {generated: always, start: 1000,
    increment: 10}}`; the database column's identity starts at 1 and counts by 1.

    ## Fix
    `ALTER TABLE ... ALTER COLUMN ... SET INCREMENT BY ... SET START ... SET MAXVALUE ...`
    (`ALTER SEQUENCE ... AS` for the type): no rewrite, a brief lock. `schemalock fix` sets
    exactly the options that differ, and refuses bounds the sequence's current value lies
    outside (PostgreSQL would fail); the downgrade puts the old options back.
    """

    code, name = "SL125", "identity-options-mismatch"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.IdentityOptionsChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.IdentityOptionsChanged):
            want, have = changed.lock_column, changed.live_column
            aspects = [a for a in IDENTITY_OPTIONS if a in changed.aspects]
            expected, actual = identity_said(want, aspects), identity_said(have, aspects)
            yield self.reported(
                changed,
                f"identity column {q(*changed.lock.key, have.name)} has {actual}; the lock "
                f"says {expected}",
                column=want.name,
                expected=expected,
                actual=actual,
            )


def identity_said(column: Column, aspects: list[str]) -> str:
    """The `aspects` of the column's identity sequence, as CREATE SEQUENCE says them."""
    sequence = identity_sequence(column.type, column.identity_options)
    return options(sequence, aspects)


class TableOptionsMismatch(Rule):
    """A table's storage parameters differ from the lock.

    ## What it checks
    The table's storage parameters (`WITH (fillfactor=70, autovacuum_enabled=false)`, as
    `ALTER TABLE ... SET (...)` sets them) equal the lock's `options:`; a table the lock gives
    none has PostgreSQL's defaults. `off` and `false` are one value.

    ## Why it matters
    They change how the table is stored and maintained: a fillfactor the updates were tuned
    for, autovacuum switched off on a busy table, a toast or parallel setting. Changed by hand
    on one server, they make it behave unlike the others, and nothing else reports it.

    ## Example
    The lock says `jobs: {options: {fillfactor: "70"}}`; the database table has no
    fillfactor (100).

    ## Fix
    `ALTER TABLE ... SET (...)` / `RESET (...)`: a brief SHARE UPDATE EXCLUSIVE lock, no
    rewrite (a new fillfactor applies to pages written from then on). The downgrade puts the
    old values back.
    """

    code, name = "SL123", "table-options-mismatch"
    severity, category, fixable = Severity.WARNING, Category.STRUCTURE, True
    repaired_by = (d.TableOptionsChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.TableOptionsChanged):
            want, have = changed.lock.options, changed.live.options
            yield self.reported(
                changed,
                f"table {q(*changed.lock.key)} has options {_options(have)}; "
                f"the lock says {_options(want)}",
                expected=dict(want),
                actual=dict(have),
            )


def _options(options: tuple[tuple[str, str], ...]) -> str:
    if not options:
        return "none"
    return "(" + ", ".join(f"{k}={v}" for k, v in comparable_options(options).items()) + ")"


class ExclusionMismatch(Rule):
    """An exclusion constraint the lock declares is missing or excludes something else.

    ## What it checks
    Every entry under `exclusions:` exists with the same meaning, compared on PostgreSQL's
    parse tree (`EXCLUDE USING gist (room_id WITH =, during WITH &&) WHERE (active)`), and
    with the same deferral (`deferrable`, `initially_deferred`). Names are not compared.

    ## Why it matters
    An exclusion constraint is what keeps two bookings of one room from overlapping; without
    it, or with another operator or predicate, the database accepts rows the application
    relies on never seeing.

    ## Example
    The lock says `bookings: {exclusions: {no_overlap: "EXCLUDE USING gist (room_id WITH =,
    during WITH &&)"}}`; the database has no such constraint.

    ## Fix
    Left for a person, with the statement: adding one builds an index and checks every row
    under an ACCESS EXCLUSIVE lock, and fails on the first two rows that conflict.
    """

    code, name = "SL124", "exclusion-mismatch"
    severity, category = Severity.ERROR, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for missing in context.differences(d.MissingExclusion):
            wanted = missing.exclusion
            yield self.reported(
                missing,
                f"table {q(*missing.lock.key)} has no exclusion constraint {q(wanted.name)} "
                f"({wanted.definition})",
                constraint=wanted.name,
                expected=wanted.definition,
            )
        for changed in context.differences(d.ExclusionChanged):
            want, have = changed.lock_exclusion, changed.live_exclusion
            yield self.reported(
                changed,
                f"exclusion constraint {q(have.name)} on {q(*changed.lock.key)} is "
                f"{_exclusion(have)}; the lock says {_exclusion(want)}",
                constraint=want.name,
                expected=_exclusion(want),
                actual=_exclusion(have),
            )


def _exclusion(exclusion: ExclusionConstraint) -> str:
    """The definition as the constraint's DDL ends it, deferral included."""
    text = exclusion.definition
    if exclusion.deferrable:
        text += " DEFERRABLE" + (" INITIALLY DEFERRED" if exclusion.initially_deferred else "")
    return f"({text})"
