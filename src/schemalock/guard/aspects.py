"""Collations, storage parameters, exclusion constraints and NO INHERIT of two locks, judged
from the comparison stage's differences (the new lock in the lock's role, as in `schema`).
An exclusion added promises more, one removed or redefined less; a collation, a storage
parameter or a check's inheritance says how, not what, and is neutral."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.compare import differences as d
from schemalock.guard.changes import Change, Kind
from schemalock.guard.schema import Sides, about, handles
from schemalock.guard.sequences import narrowed
from schemalock.model.sequences import IDENTITY_OPTIONS, identity_sequence
from schemalock.rules.base import q


@handles(d.CollationChanged)
def _collation(x: d.CollationChanged, sides: Sides) -> Iterator[Change]:
    new, old = x.lock_column.collation, x.live_column.collation
    yield about(
        x,
        Kind.NEUTRAL,
        f"column {q(*x.lock.key, x.lock_column.name)}: collation {old or 'default'} -> "
        f"{new or 'default'}",
        x.line,
        tables=(x.lock, x.live),
        column=x.lock_column.name,
        before=old,
        after=new,
    )


@handles(d.IdentityOptionsChanged)
def _identity(x: d.IdentityOptionsChanged, sides: Sides) -> Iterator[Change]:
    """Neutral, but for options that bring running out or reuse closer (as a sequence's)."""
    new, old = x.lock_column, x.live_column
    aspects = ", ".join(a for a in IDENTITY_OPTIONS if a in x.aspects)
    before = identity_sequence(old.type, old.identity_options)
    after = identity_sequence(new.type, new.identity_options)
    yield about(
        x,
        Kind.REGRESSION if narrowed(old=before, new=after) else Kind.NEUTRAL,
        f"column {q(*x.lock.key, new.name)}: identity {aspects} changed",
        x.line,
        tables=(x.lock, x.live),
        column=new.name,
        before=dict(old.identity_options),
        after=dict(new.identity_options),
    )


@handles(d.TableOptionsChanged)
def _options(x: d.TableOptionsChanged, sides: Sides) -> Iterator[Change]:
    old, new = dict(x.live.options), dict(x.lock.options)
    yield about(
        x,
        Kind.NEUTRAL,
        f"table {q(*x.lock.key)}: storage parameters {old or 'none'} -> {new or 'none'}",
        x.line,
        tables=(x.lock, x.live),
        before=old,
        after=new,
    )


@handles(d.MissingExclusion)
def _added(x: d.MissingExclusion, sides: Sides) -> Iterator[Change]:
    exclusion = x.exclusion
    yield about(
        x,
        Kind.PROGRESS,
        f"table {q(*x.lock.key)}: exclusion constraint {exclusion.name} added",
        x.line,
        tables=(x.lock,),
        constraint=exclusion.name,
        after=exclusion.definition,
    )


@handles(d.ExtraExclusion)
def _removed(x: d.ExtraExclusion, sides: Sides) -> Iterator[Change]:
    exclusion = x.exclusion
    yield about(
        x,
        Kind.REGRESSION,
        f"table {q(*x.lock.key)}: exclusion constraint {exclusion.name} removed",
        exclusion.line or x.live.line,
        tables=(x.lock, x.live),
        in_base=True,
        constraint=exclusion.name,
        before=exclusion.definition,
    )


@handles(d.ExclusionChanged)
def _changed(x: d.ExclusionChanged, sides: Sides) -> Iterator[Change]:
    new, old = x.lock_exclusion, x.live_exclusion
    # Another definition is not provably as strict; a deferral alone says when, not what.
    kind = Kind.REGRESSION if "definition" in x.aspects else Kind.NEUTRAL
    yield about(
        x,
        kind,
        f"table {q(*x.lock.key)}: exclusion constraint {new.name} is ({new.definition}), was "
        f"({old.definition}){'' if 'definition' in x.aspects else ' (deferral changed)'}",
        x.line,
        tables=(x.lock, x.live),
        constraint=new.name,
        before=old.definition,
        after=new.definition,
    )


@handles(d.CheckInheritanceChanged)
def _inheritance(x: d.CheckInheritanceChanged, sides: Sides) -> Iterator[Change]:
    new = x.lock_check
    # NO INHERIT added: the children no longer hold the check (a weaker promise for them).
    kind = Kind.REGRESSION if new.no_inherit else Kind.PROGRESS
    state = "NO INHERIT now" if new.no_inherit else "no longer NO INHERIT (children hold it)"
    yield about(
        x,
        kind,
        f"table {q(*x.lock.key)}: check {new.name} {state}",
        x.line,
        tables=(x.lock, x.live),
        constraint=new.name,
        before=x.live_check.no_inherit,
        after=new.no_inherit,
    )
