"""Sequences and extensions of two locks, judged from the comparison stage's differences (the
new lock in the lock's role, as in `schema`): a sequence added is progress, one removed a
regression; a change is neutral, but for one that brings running out or reuse closer (a
narrower type, a lower maximum, a higher minimum, `cycle` turned on).  Extensions: added is
progress, removed a regression, moved or at another version neutral."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.compare import differences as d
from schemalock.guard.changes import Change, Kind
from schemalock.guard.schema import Sides, about, handles
from schemalock.model import names
from schemalock.model.sequences import TYPES, Sequence


def _name(x: d.Difference) -> str:
    return f"sequence {names.qualified(x.subject.schema, x.subject.name)}"


@handles(d.MissingSequence)
def _added(x: d.MissingSequence, sides: Sides) -> Iterator[Change]:
    yield about(x, Kind.PROGRESS, f"{_name(x)} added", x.line, constraint=x.lock.name)


@handles(d.ExtraSequence)
def _removed(x: d.ExtraSequence, sides: Sides) -> Iterator[Change]:
    yield about(
        x, Kind.REGRESSION, f"{_name(x)} removed", x.live.line, in_base=True,
        constraint=x.live.name,
    )  # fmt: skip


@handles(d.SequenceChanged)
def _changed(x: d.SequenceChanged, sides: Sides) -> Iterator[Change]:
    aspects = ", ".join(a for a in d.SEQUENCE_ASPECTS if a in x.aspects)
    kind = Kind.REGRESSION if narrowed(old=x.live, new=x.lock) else Kind.NEUTRAL
    yield about(x, kind, f"{_name(x)}: {aspects} changed", x.line, constraint=x.lock.name)


def narrowed(old: Sequence, new: Sequence) -> bool:
    """Whether the new sequence runs out sooner or hands out numbers again."""
    return (
        TYPES.index(new.type) < TYPES.index(old.type)
        or new.maximum < old.maximum
        or new.minimum > old.minimum
        or (new.cycle and not old.cycle)
    )


@handles(d.MissingExtension)
def _extension_added(x: d.MissingExtension, sides: Sides) -> Iterator[Change]:
    name = f"extension {names.quote(x.lock.name)}"
    yield about(x, Kind.PROGRESS, f"{name} added", x.line, constraint=x.lock.name)


@handles(d.ExtraExtension)
def _extension_removed(x: d.ExtraExtension, sides: Sides) -> Iterator[Change]:
    name = f"extension {names.quote(x.live.name)}"
    yield about(
        x, Kind.REGRESSION, f"{name} removed", x.live.line, in_base=True,
        constraint=x.live.name,
    )  # fmt: skip


@handles(d.ExtensionChanged)
def _extension_changed(x: d.ExtensionChanged, sides: Sides) -> Iterator[Change]:
    aspects = ", ".join(a for a in d.EXTENSION_ASPECTS if a in x.aspects)
    name = f"extension {names.quote(x.lock.name)}"
    yield about(x, Kind.NEUTRAL, f"{name}: {aspects} changed", x.line, constraint=x.lock.name)
