"""The comment of an object both databases have, differing (see `compare.comments`)."""

from __future__ import annotations

from dataclasses import dataclass

from schemalock.compare.subject import Difference

__all__ = ["CommentChanged"]


@dataclass(frozen=True, kw_only=True)
class CommentChanged(Difference):
    """`subject.kind` says what is commented (table, column, view, materialized view,
    function, procedure, sequence); `target` its live (schema, name[, column]), a routine's
    `argument_types` beside it.  None: no comment."""

    lock: str | None
    live: str | None
    target: tuple[str, ...]
    argument_types: tuple[str, ...] | None = None
