"""Sequences and extensions: not repaired by `fix` yet.  Each difference is left for a person
with a note saying what to run; nothing is created, altered or dropped (rules say
`fixable = False`)."""

from __future__ import annotations

from typing import Any

from schemalock.compare import differences as d
from schemalock.fix.plan.core import Planner
from schemalock.model.names import qualified
from schemalock.rules.sequences import options


def sequence_left_alone(planner: Planner, difference: d.Difference) -> None:
    subject = difference.subject
    where = f"sequence {qualified(subject.schema, subject.name)}"
    if isinstance(difference, d.ExtraSequence):
        planner.note(f"{where}: extra sequences are reported and left alone")
        return
    if isinstance(difference, d.SequenceChanged):
        aspects = [a for a in d.SEQUENCE_ASPECTS if a in difference.aspects]
        planner.note(
            f"{where}: sequences are not repaired by fix yet: ALTER SEQUENCE {where[9:]} "
            f"{options(difference.lock, aspects)} by hand"
        )
        return
    assert isinstance(difference, d.MissingSequence)
    every = [a for a in d.SEQUENCE_ASPECTS if a != "owned by" or difference.lock.owned_by]
    planner.note(
        f"{where}: sequences are not repaired by fix yet: CREATE SEQUENCE {where[9:]} "
        f"{options(difference.lock, every)} by hand"
    )


def extension_left_alone(planner: Planner, difference: d.Difference) -> None:
    name = qualified(difference.subject.name)
    if isinstance(difference, d.ExtraExtension):
        planner.note(f"extension {name}: extra extensions are reported and left alone")
    elif isinstance(difference, d.MissingExtension):
        planner.note(
            f"extension {name}: extensions are not installed by fix yet: CREATE EXTENSION "
            f"{name} SCHEMA {qualified(difference.lock.schema)} by hand"
        )
    else:
        assert isinstance(difference, d.ExtensionChanged)
        want = difference.lock
        statement = (
            f"SET SCHEMA {qualified(want.schema)}"
            if "schema" in difference.aspects
            else f"UPDATE TO '{want.version}'"
        )
        planner.note(
            f"extension {name}: extensions are not repaired by fix yet: ALTER EXTENSION "
            f"{name} {statement} by hand"
        )


HANDLERS: dict[type[Any], Any] = {
    d.MissingSequence: sequence_left_alone,
    d.ExtraSequence: sequence_left_alone,
    d.SequenceChanged: sequence_left_alone,
    d.MissingExtension: extension_left_alone,
    d.ExtraExtension: extension_left_alone,
    d.ExtensionChanged: extension_left_alone,
}
# Every handler here only notes: none repairs (what makes the rules not `fixable`).
NOTES_ONLY: frozenset[Any] = frozenset(HANDLERS.values())
