"""Table-level aspects besides columns' types, keys and indexes: column collations, identity
sequence options, storage parameters, exclusion constraints and the NO INHERIT of checks, for
a table both sides have."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from schemalock.compare import differences as d
from schemalock.compare.matching import match_checks
from schemalock.compare.pairs import ColumnPair, pair_columns
from schemalock.model import Column, Table
from schemalock.model.exclusions import ExclusionConstraint
from schemalock.model.sequences import IDENTITY_OPTIONS

# Spellings PostgreSQL accepts for one boolean: `autovacuum_enabled=off` is `false`.
_BOOLEANS = {"on": "true", "yes": "true", "true": "true", "off": "false", "no": "false"}
_BOOLEANS["false"] = "false"


def table_aspect_differences(
    lock: Table, live: Table, columns: list[ColumnPair] | None = None
) -> Iterator[d.Difference]:
    """`columns`: the table's column pairs, when the caller has them already."""
    for pair in pair_columns(lock, live) if columns is None else columns:
        want, have = pair.lock, pair.live
        if want is None or have is None:
            continue
        subject = d.Subject("column", lock.schema, lock.name, want.name)
        if want.collation != have.collation:
            yield d.CollationChanged(
                subject=subject,
                line=want.line,
                lock=lock,
                live=live,
                lock_column=want,
                live_column=have,
            )
        if aspects := identity_aspects(want, have):
            yield d.IdentityOptionsChanged(
                subject=subject,
                line=want.line,
                lock=lock,
                live=live,
                lock_column=want,
                live_column=have,
                aspects=aspects,
            )
    if comparable_options(lock.options) != comparable_options(live.options):
        yield d.TableOptionsChanged(
            subject=d.Subject("options", lock.schema, lock.name),
            line=lock.line,
            lock=lock,
            live=live,
        )
    yield from exclusion_differences(lock, live)
    yield from check_inheritance_differences(lock, live)


def identity_aspects(want: Column, have: Column) -> frozenset[str]:
    """The identity's sequence options that differ, for a column that is an identity on both
    sides (adding or dropping one is the column's `identity` aspect).  Each side's options
    are relative to its own column type: a column converted to bigint with nothing said has
    bigint's defaults, as PostgreSQL gives its sequence."""
    if want.identity is None or have.identity is None:
        return frozenset()
    wanted, found = dict(want.identity_options), dict(have.identity_options)
    return frozenset(name for name in IDENTITY_OPTIONS if wanted.get(name) != found.get(name))


def comparable_options(options: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Storage parameters by name, each boolean spelled one way."""
    return {name: _BOOLEANS.get(value.strip().lower(), value) for name, value in options}


def _in(table: Table, name: str | None) -> d.Subject:
    return d.Subject("exclusion", table.schema, table.name, name)


def match_exclusions(
    lock: Table, live: Table
) -> tuple[list[tuple[ExclusionConstraint, ExclusionConstraint | None]], list[ExclusionConstraint]]:
    """Each lock exclusion with the live one of the same name and meaning; else of the same
    meaning under a name no lock exclusion holds (renamed: names are not compared); else of
    the same name (redefined).  The live ones nothing claimed come second."""
    claimed = {x.name for x in lock.exclusions}

    def renamed(want: ExclusionConstraint, have: ExclusionConstraint) -> bool:
        return have.name not in claimed and want.means_the_same(have)

    passes: tuple[Callable[[ExclusionConstraint, ExclusionConstraint], bool], ...] = (
        lambda want, have: want.name == have.name and want.means_the_same(have),
        renamed,
        lambda want, have: want.name == have.name,
    )
    remaining = list(live.exclusions)
    found: dict[int, ExclusionConstraint] = {}
    for same in passes:
        for index, wanted in enumerate(lock.exclusions):
            match = (
                next((x for x in remaining if same(wanted, x)), None)
                if index not in found
                else None
            )
            if match is not None:
                found[index] = match
                del remaining[next(i for i, x in enumerate(remaining) if x is match)]
    return [(wanted, found.get(index)) for index, wanted in enumerate(lock.exclusions)], remaining


def exclusion_differences(lock: Table, live: Table) -> Iterator[d.Difference]:
    pairs, extra = match_exclusions(lock, live)
    for wanted, found in pairs:
        subject = _in(lock, wanted.name)
        if found is None:
            yield d.MissingExclusion(
                subject=subject, line=wanted.line, lock=lock, live=live, exclusion=wanted
            )
            continue
        aspects = set()
        if not wanted.means_the_same(found):
            aspects.add("definition")
        if (wanted.deferrable, wanted.initially_deferred) != (
            found.deferrable,
            found.initially_deferred,
        ):
            aspects.add("deferral")
        if aspects:
            yield d.ExclusionChanged(
                subject=subject,
                line=wanted.line,
                lock=lock,
                live=live,
                lock_exclusion=wanted,
                live_exclusion=found,
                aspects=frozenset(aspects),
            )
    for exclusion in extra:
        yield d.ExtraExclusion(
            subject=_in(lock, exclusion.name),
            line=lock.line,
            lock=lock,
            live=live,
            exclusion=exclusion,
        )


def check_inheritance_differences(lock: Table, live: Table) -> Iterator[d.Difference]:
    """Checks of the same meaning, NO INHERIT on one side only (a check of another meaning is
    `CheckChanged`, planned whole)."""
    pairs, _ = match_checks(lock, live)
    for wanted, found, same in pairs:
        if found is not None and same and wanted.no_inherit != found.no_inherit:
            yield d.CheckInheritanceChanged(
                subject=d.Subject("check", lock.schema, lock.name, wanted.name or found.name),
                line=wanted.line,
                lock=lock,
                live=live,
                lock_check=wanted,
                live_check=found,
            )
