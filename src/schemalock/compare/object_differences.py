"""The differences of views, routines (functions and procedures), triggers and schemas.

As everywhere in `differences`: Missing* is an object the lock declares and the database lacks
(`lock`), Extra* one the database holds and the lock does not declare (`live`, at the line of
the lock's section for its kind), *Changed one both hold that differs in `aspects`.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemalock.compare.subject import Difference
from schemalock.model.routines import Routine
from schemalock.model.triggers import Trigger
from schemalock.model.views import View

__all__ = [
    "ROUTINE_ASPECTS",
    "TRIGGER_ASPECTS",
    "VIEW_ASPECTS",
    "ExtraRoutine",
    "ExtraSchema",
    "ExtraTrigger",
    "ExtraView",
    "MissingRoutine",
    "MissingSchema",
    "MissingTrigger",
    "MissingView",
    "RoutineChanged",
    "TriggerChanged",
    "ViewChanged",
]

# -- views -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MissingView(Difference):
    lock: View


@dataclass(frozen=True, kw_only=True)
class ExtraView(Difference):
    live: View


# `kind`: a view on one side, a materialized view on the other.
VIEW_ASPECTS = ("kind", "query", "options", "indexes")


@dataclass(frozen=True, kw_only=True)
class ViewChanged(Difference):
    lock: View
    live: View
    aspects: frozenset[str]  # of VIEW_ASPECTS


# -- functions and procedures ------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MissingRoutine(Difference):
    lock: Routine


@dataclass(frozen=True, kw_only=True)
class ExtraRoutine(Difference):
    live: Routine


ROUTINE_ASPECTS = (
    "kind",
    "arguments",
    "returns",
    "language",
    "body",
    "volatility",
    "strict",
    "security_definer",
    "settings",
)


@dataclass(frozen=True, kw_only=True)
class RoutineChanged(Difference):
    lock: Routine
    live: Routine
    aspects: frozenset[str]  # of ROUTINE_ASPECTS


# -- triggers ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MissingTrigger(Difference):
    lock: Trigger


@dataclass(frozen=True, kw_only=True)
class ExtraTrigger(Difference):
    live: Trigger


TRIGGER_ASPECTS = (
    "timing",
    "events",
    "columns",
    "level",
    "function",
    "arguments",
    "when",
    "enabled",
    "constraint",
    "transition tables",
)


@dataclass(frozen=True, kw_only=True)
class TriggerChanged(Difference):
    lock: Trigger
    live: Trigger
    aspects: frozenset[str]  # of TRIGGER_ASPECTS


# -- schemas -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MissingSchema(Difference):
    """A schema the lock lists under `database.schemas` that the database lacks."""

    schema: str


@dataclass(frozen=True, kw_only=True)
class ExtraSchema(Difference):
    """A schema of the database the lock neither lists nor ignores (`schema.*` in
    `database.ignore`); `holds` counts what is in it, by kind (`{"table": 2}`)."""

    schema: str
    holds: tuple[tuple[str, int], ...] = ()
