"""One change between two versions of the lock, and how it is judged."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from schemalock.compare.differences import Subject


class Kind(StrEnum):
    REGRESSION = "regression"  # promises less: removes or weakens
    PROGRESS = "progress"  # promises more: adds or strengthens
    NEUTRAL = "neutral"  # promises the same: text, names, order, mechanisms


@dataclass(frozen=True)
class Change:
    """What changed, judged, with the object it is about and where it is written.

    `line` is a line of the new lock, or of the base lock when `in_base` (something removed
    has no line in the new one).  `before` and `after` are the two sides' values, as JSON
    can hold them.  `critical`: the table or column is marked `critical: true` (on either
    side).  `acknowledged`: the reason the change carries itself (a waiver added);
    `acknowledgeable`: False when no waiver may acknowledge it (a blanket waiver added)."""

    kind: Kind
    message: str
    line: int | None
    in_base: bool = False
    schema: str | None = None
    table: str | None = None
    column: str | None = None
    constraint: str | None = None
    subject: Subject | None = None
    before: Any = None
    after: Any = None
    critical: bool = False
    acknowledged: str | None = None
    acknowledgeable: bool = True


def judged(gained: bool, lost: bool) -> Kind:
    """A change that only gains a promise is progress, one that loses any is a regression."""
    if lost:
        return Kind.REGRESSION
    return Kind.PROGRESS if gained else Kind.NEUTRAL
