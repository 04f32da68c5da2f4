"""Rules about sequences of their own (those no column uses as its serial or identity
sequence: those are the column's)."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.model.sequences import Sequence
from schemalock.rules.base import Context, Rule, q


class MissingSequence(Rule):
    """A sequence the lock declares does not exist in the database.

    ## What it checks
    Every entry under `sequences:` exists in its schema.

    ## Why it matters
    Code that calls `nextval('invoice_numbers')` (an invoice or order number shared by several
    tables, a default written by hand) fails at run time.

    ## Example
    The lock lists `invoice_numbers`; the database has no `public.invoice_numbers`.

    ## Fix
    `CREATE SEQUENCE` with the lock's options, and `setval()` past the numbers already used.
    `schemalock fix` creates it with the lock's options (and `OWNED BY` its column, once the
    column exists); numbers drawn elsewhere before are for a person to `setval()` past.
    """

    code, name = "SL741", "missing-sequence"
    severity, category = Severity.ERROR, Category.STRUCTURE
    fixable = True
    repaired_by = (d.MissingSequence,)

    def check(self, context: Context) -> Iterator[Finding]:
        for missing in context.differences(d.MissingSequence):
            sequence = missing.lock
            yield self.reported(
                missing, f"sequence {q(*sequence.key)} is missing", constraint=sequence.name
            )


class ExtraSequence(Rule):
    """A sequence exists in the database but not in the lock.

    ## What it checks
    Every sequence of the schemas the database holds, but those a serial or identity column
    uses (they are the column's) and those an extension owns, is listed under `sequences:` or
    matched by `database.ignore`.

    ## Why it matters
    A sequence nobody declared is either left over (a dropped column's, a tool's) or
    something code depends on that the lock does not promise; both deserve a look.

    ## Example
    The database has `public.legacy_ids`; the lock does not mention it.

    ## Fix
    Add it to the lock (`schemalock snapshot` writes it) or to `database.ignore`, or drop it.
    Nothing is generated: schemalock never drops a sequence on its own.
    """

    code, name = "SL742", "extra-sequence"
    severity, category = Severity.WARNING, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for extra in context.differences(d.ExtraSequence):
            sequence = extra.live
            yield self.reported(
                extra,
                f"sequence {q(*sequence.key)} is not in the lock",
                constraint=sequence.name,
            )


class SequenceChanged(Rule):
    """A sequence's options or owner differ from the lock.

    ## What it checks
    For each sequence both have: its type, start, increment, minimum, maximum, cache, cycle,
    and the column that owns it (`OWNED BY`). The current value is data, not compared.

    ## Why it matters
    A sequence narrowed to `integer` or given a `max` runs out (`nextval: reached maximum
    value`) and stops every insert that draws from it; `cycle` turned on hands out numbers
    already used; a changed increment breaks numbering promises (invoice numbers).

    ## Example
    The lock's `invoice_numbers` is `bigint`; the database's is `AS integer`.

    ## Fix
    `ALTER SEQUENCE` with the lock's options (or change the lock if the change was meant).
    `schemalock fix` alters exactly the options that differ, and the owner; it refuses bounds
    the sequence's current value lies outside (PostgreSQL would fail).
    """

    code, name = "SL743", "sequence-changed"
    severity, category = Severity.ERROR, Category.STRUCTURE
    fixable = True
    repaired_by = (d.SequenceChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.SequenceChanged):
            aspects = [a for a in d.SEQUENCE_ASPECTS if a in changed.aspects]
            yield self.reported(
                changed,
                f"sequence {q(*changed.live.key)} has another {', '.join(aspects)} than the lock",
                constraint=changed.live.name,
                expected=options(changed.lock, aspects),
                actual=options(changed.live, aspects),
            )


def options(sequence: Sequence, aspects: list[str]) -> str:
    """The differing options of one side, as CREATE SEQUENCE says them."""
    owner = q(*sequence.owned_by) if sequence.owned_by else "NONE"
    said = {
        "type": f"AS {sequence.type}",
        "start": f"START {sequence.start}",
        "increment": f"INCREMENT {sequence.increment}",
        "min": f"MINVALUE {sequence.minimum}",
        "max": f"MAXVALUE {sequence.maximum}",
        "cache": f"CACHE {sequence.cache}",
        "cycle": "CYCLE" if sequence.cycle else "NO CYCLE",
        "owned by": f"OWNED BY {owner}",
    }
    return " ".join(said[a] for a in aspects)
