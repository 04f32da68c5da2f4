"""Schemas on their own: one the lock lists that the database lacks is created (before anything
in it; the downgrade drops it only while it is empty).  A schema the lock neither lists nor
ignores is reported with what it holds and left alone."""

from __future__ import annotations

from typing import Any

from schemalock.compare import differences as d
from schemalock.fix.plan.core import Planner
from schemalock.model.names import qualified


def missing_schema(planner: Planner, missing: d.MissingSchema) -> None:
    planner.create_schema(missing.schema)


def extra_schema(planner: Planner, extra: d.ExtraSchema) -> None:
    planner.note(f"schema {qualified(extra.schema)}: not in the lock; reported and left alone")


HANDLERS: dict[type[Any], Any] = {
    d.MissingSchema: missing_schema,
    d.ExtraSchema: extra_schema,
}
NOTES_ONLY: frozenset[Any] = frozenset({extra_schema})
