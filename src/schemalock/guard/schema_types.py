"""Enums and domains of two locks, judged from the comparison stage's differences (the new
lock in the lock's role, as in `schema`)."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.compare import differences as d
from schemalock.guard import column_types
from schemalock.guard.changes import Change, Kind
from schemalock.guard.schema import Sides, about, handles
from schemalock.model import expressions, names


def _change(
    x: d.Difference,
    kind: Kind,
    message: str,
    line: int | None,
    *,
    in_base: bool = False,
    before: object = None,
    after: object = None,
) -> Change:
    """A change of a type (an enum, a domain): named as its constraint, of no table."""
    return about(
        x,
        kind,
        message,
        line,
        in_base=in_base,
        constraint=x.subject.name,
        before=before,
        after=after,
    )


def _name(x: d.Difference) -> str:
    return names.qualified(x.subject.schema, x.subject.name)


@handles(d.MissingEnum)
def _added_enum(x: d.MissingEnum, sides: Sides) -> Iterator[Change]:
    yield _change(x, Kind.PROGRESS, f"enum {_name(x)} added", x.line, after=list(x.lock.labels))


@handles(d.ExtraEnum)
def _removed_enum(x: d.ExtraEnum, sides: Sides) -> Iterator[Change]:
    yield _change(
        x,
        Kind.REGRESSION,
        f"enum {_name(x)} removed",
        x.live.line,
        in_base=True,
        before=list(x.live.labels),
    )


@handles(d.EnumChanged)
def _changed_enum(x: d.EnumChanged, sides: Sides) -> Iterator[Change]:
    new, old = x.lock.labels, x.live.labels
    added = [label for label in new if label not in old]
    removed = [label for label in old if label not in new]
    if added:  # the enum accepts more: as a wider `values:` list, a regression
        message = f"enum {_name(x)}: {_labels(added)} accepted now"
        yield _change(x, Kind.REGRESSION, message, x.line, before=list(old), after=list(new))
    if removed:
        message = f"enum {_name(x)}: {_labels(removed)} no longer accepted"
        yield _change(x, Kind.PROGRESS, message, x.line, before=list(old), after=list(new))
    if not added and not removed:
        message = f"enum {_name(x)}: labels reordered"
        yield _change(x, Kind.NEUTRAL, message, x.line, before=list(old), after=list(new))


def _labels(labels: list[str]) -> str:
    return ", ".join(repr(label) for label in labels)


@handles(d.MissingDomain)
def _added_domain(x: d.MissingDomain, sides: Sides) -> Iterator[Change]:
    yield _change(x, Kind.PROGRESS, f"domain {_name(x)} added", x.line)


@handles(d.ExtraDomain)
def _removed_domain(x: d.ExtraDomain, sides: Sides) -> Iterator[Change]:
    yield _change(x, Kind.REGRESSION, f"domain {_name(x)} removed", x.live.line, in_base=True)


@handles(d.DomainChanged)
def _changed_domain(x: d.DomainChanged, sides: Sides) -> Iterator[Change]:
    new, old = x.lock, x.live
    head = f"domain {_name(x)}"
    if "type" in x.aspects:
        kind, why = column_types.judge(old.type, new.type, sides.domains)
        message = f"{head}: type {old.type} -> {new.type}: {why}"
        yield _change(x, kind, message, x.line, before=old.type, after=new.type)
    if "nullable" in x.aspects:
        kind = Kind.REGRESSION if new.nullable else Kind.PROGRESS
        message = f"{head}: NOT NULL {'dropped' if new.nullable else 'added'}"
        yield _change(x, kind, message, x.line, before=old.nullable, after=new.nullable)
    if "default" in x.aspects:
        message = f"{head}: default {old.default or 'none'} -> {new.default or 'none'}"
        yield _change(x, Kind.NEUTRAL, message, x.line, before=old.default, after=new.default)
    if "checks" in x.aspects:
        for check in old.checks:
            if not any(expressions.same(check.expression, c.expression) for c in new.checks):
                message = f"{head}: check {check.name or ''} ({check.expression}) removed"
                yield _change(
                    x, Kind.REGRESSION, " ".join(message.split()), x.line, before=check.expression
                )
        for check in new.checks:
            if not any(expressions.same(check.expression, c.expression) for c in old.checks):
                message = f"{head}: check {check.name or ''} ({check.expression}) added"
                yield _change(
                    x, Kind.PROGRESS, " ".join(message.split()), x.line, after=check.expression
                )
