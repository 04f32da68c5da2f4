"""Comments: set as the lock says (`COMMENT ON ... IS`), last, on objects that exist by then;
the downgrade puts back the database's.  The objects the plan creates get the lock's comment
the same way (`created`)."""

from __future__ import annotations

from typing import Any

from schemalock.compare import differences as d
from schemalock.fix import operations as fo
from schemalock.fix.plan.core import Phase, Planner
from schemalock.model.names import qualified

# What COMMENT ON calls each kind of subject.
_KEYWORDS = {
    "table": "TABLE",
    "column": "COLUMN",
    "view": "VIEW",
    "materialized view": "MATERIALIZED VIEW",
    "function": "FUNCTION",
    "procedure": "PROCEDURE",
    "sequence": "SEQUENCE",
}


def comment_changed(planner: Planner, changed: d.CommentChanged) -> None:
    target = _target(changed.subject.kind, changed.target, changed.argument_types)
    planner.add(
        Phase.COMMENTS,
        f"comment on {changed.subject.kind} {target}",
        fo.Sql(_comment(changed.subject.kind, target, changed.lock),
               undo=_comment(changed.subject.kind, target, changed.live)),
        hazards=[],
    )  # fmt: skip


def created(
    planner: Planner,
    kind: str,
    path: tuple[str, ...],
    comment: str | None,
    argument_types: tuple[str, ...] | None = None,
) -> None:
    """The lock's comment on an object the plan creates (dropped with it by the downgrade)."""
    if comment is None:
        return
    target = _target(kind, path, argument_types)
    planner.add(
        Phase.COMMENTS,
        f"comment on {kind} {target}",
        fo.Sql(_comment(kind, target, comment)),
        hazards=[],
    )


def _target(kind: str, path: tuple[str, ...], argument_types: tuple[str, ...] | None) -> str:
    target = qualified(*path)
    if kind in ("function", "procedure"):
        target += f"({', '.join(argument_types or ())})"
    return target


def _comment(kind: str, target: str, text: str | None) -> str:
    value = "NULL" if text is None else fo.literal(text)
    return f"COMMENT ON {_KEYWORDS[kind]} {target} IS {value}"


HANDLERS: dict[type[Any], Any] = {d.CommentChanged: comment_changed}
NOTES_ONLY: frozenset[Any] = frozenset()
