"""Sequences and extensions of two databases, compared: a sequence's every option and the
column that owns it; an extension's schema and (when the lock pins it) version.  Extensions
are matched by name, in whichever schema.  The lock's `database.ignore` leaves them out by
name, as tables."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.compare import differences as d
from schemalock.compare.pairs import ignored
from schemalock.model import Database, LockSettings
from schemalock.model.sequences import Sequence

# Each aspect and the attribute it compares.
_ATTRIBUTES = (
    ("type", "type"),
    ("start", "start"),
    ("increment", "increment"),
    ("min", "minimum"),
    ("max", "maximum"),
    ("cache", "cache"),
    ("cycle", "cycle"),
    ("owned by", "owned_by"),
)


def sequence_differences(
    lock: Database, live: Database, settings: LockSettings
) -> Iterator[d.Difference]:
    line = settings.section_line("sequences")
    for key, wanted in lock.sequences.items():
        if ignored(*key, settings.ignore):
            continue
        subject = d.Subject("sequence", key[0], name=key[1])
        found = live.sequences.get(key)
        if found is None:
            yield d.MissingSequence(subject=subject, line=wanted.line, lock=wanted)
        elif aspects := sequence_aspects(wanted, found):
            yield d.SequenceChanged(
                subject=subject, line=wanted.line, lock=wanted, live=found, aspects=aspects
            )
    for key, found in live.sequences.items():
        if key not in lock.sequences and not ignored(*key, settings.ignore):
            subject = d.Subject("sequence", key[0], name=key[1])
            yield d.ExtraSequence(subject=subject, line=line, live=found)
    yield from _extensions(lock, live, settings)


def _extensions(lock: Database, live: Database, settings: LockSettings) -> Iterator[d.Difference]:
    line = settings.section_line("extensions")
    have = {e.name: e for e in live.extensions.values()}
    wanted_names = {e.name for e in lock.extensions.values()}
    for wanted in lock.extensions.values():
        if ignored(*wanted.key, settings.ignore):
            continue
        subject = d.Subject("extension", wanted.schema, name=wanted.name)
        found = have.get(wanted.name)
        if found is None:
            yield d.MissingExtension(subject=subject, line=wanted.line, lock=wanted)
            continue
        aspects = set()
        if wanted.schema != found.schema:
            aspects.add("schema")
        if wanted.version is not None and wanted.version != found.version:
            aspects.add("version")
        if aspects:
            yield d.ExtensionChanged(
                subject=subject,
                line=wanted.line,
                lock=wanted,
                live=found,
                aspects=frozenset(aspects),
            )
    for found in have.values():
        if found.name not in wanted_names and not ignored(*found.key, settings.ignore):
            subject = d.Subject("extension", found.schema, name=found.name)
            yield d.ExtraExtension(subject=subject, line=line, live=found)


def sequence_aspects(want: Sequence, have: Sequence) -> frozenset[str]:
    """Which of SEQUENCE_ASPECTS differ between two sequences of one name."""
    return frozenset(
        aspect
        for aspect, attribute in _ATTRIBUTES
        if getattr(want, attribute) != getattr(have, attribute)
    )
