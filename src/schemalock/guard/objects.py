"""Views, routines, triggers and schemas of two locks, judged from the comparison stage's
differences (the new lock in the lock's role, as in `schema`): an object added is progress,
one removed a regression; a change is neutral, but for one that weakens a promise (a function
that became SECURITY DEFINER or lost its pinned `search_path`, a trigger disabled)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from schemalock.compare import differences as d
from schemalock.guard.changes import Change, Kind
from schemalock.guard.schema import Sides, about, handles
from schemalock.model import names


def _name(x: d.Difference) -> str:
    subject = x.subject
    if subject.kind in ("function", "procedure"):
        return f"{subject.kind} {names.quote(subject.schema)}.{subject.name}"
    return f"{subject.kind} {names.qualified(*subject.path)}"


def _change(
    x: d.Difference, kind: Kind, message: str, line: int | None, in_base: bool = False
) -> Change:
    return about(x, kind, message, line, in_base=in_base, constraint=x.subject.name)


@handles(d.MissingView, d.MissingRoutine, d.MissingTrigger, d.MissingSchema)
def _added(x: d.Difference, sides: Sides) -> Iterator[Change]:
    yield _change(x, Kind.PROGRESS, f"{_name(x)} added", x.line)


@handles(d.ExtraView, d.ExtraRoutine, d.ExtraTrigger)
def _removed(x: Any, sides: Sides) -> Iterator[Change]:  # ExtraView, ExtraRoutine, ExtraTrigger
    yield _change(x, Kind.REGRESSION, f"{_name(x)} removed", x.live.line, in_base=True)


@handles(d.ExtraSchema)
def _schema_removed(x: d.ExtraSchema, sides: Sides) -> Iterator[Change]:
    yield _change(x, Kind.REGRESSION, f"{_name(x)} no longer covered", x.line)


@handles(d.ViewChanged)
def _changed_view(x: d.ViewChanged, sides: Sides) -> Iterator[Change]:
    aspects = ", ".join(a for a in d.VIEW_ASPECTS if a in x.aspects)
    yield _change(x, Kind.NEUTRAL, f"{_name(x)}: {aspects} changed", x.line)


@handles(d.RoutineChanged)
def _changed_routine(x: d.RoutineChanged, sides: Sides) -> Iterator[Change]:
    new, old = x.lock, x.live
    weaker = (new.security_definer and not old.security_definer) or (
        old.pins_search_path and not new.pins_search_path
    )
    aspects = ", ".join(a for a in d.ROUTINE_ASPECTS if a in x.aspects)
    kind = Kind.REGRESSION if weaker else Kind.NEUTRAL
    yield _change(x, kind, f"{_name(x)}: {aspects} changed", x.line)


@handles(d.TriggerChanged)
def _changed_trigger(x: d.TriggerChanged, sides: Sides) -> Iterator[Change]:
    disabled = x.lock.enabled == "disabled" and x.live.enabled != "disabled"
    aspects = ", ".join(a for a in d.TRIGGER_ASPECTS if a in x.aspects)
    kind = Kind.REGRESSION if disabled else Kind.NEUTRAL
    yield _change(x, kind, f"{_name(x)}: {aspects} changed", x.line)


@handles(d.CommentChanged)
def _changed_comment(x: d.CommentChanged, sides: Sides) -> Iterator[Change]:
    # Documentation: a PR may reword it freely.
    yield _change(x, Kind.NEUTRAL, f"{_name(x)}: comment changed", x.line)
