"""Rules about comments (COMMENT ON)."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.model.names import qualified
from schemalock.rules.base import Context, Rule

_SHOWN = 60  # characters of a comment a message quotes


class CommentChanged(Rule):
    """A comment on a table, column, view, function or sequence differs from the lock.

    ## What it checks
    When the lock says its comments are the database's (`database.comments: exact`, which
    `snapshot` writes), for each of these objects both have: its `COMMENT ON` text, exactly
    (no `comment:` means no comment). In a lock written by hand (`comments: documentation`,
    the default) `comment:` fields are notes for people and never compared. An object one
    side lacks is reported by its own rule.

    ## Why it matters
    Comments are the schema's documentation where people and tools read it: `psql`'s `\\d+`,
    PostgREST and Supabase (which publish them as the API's descriptions), catalog browsers.
    One changed or dropped outside review misleads every reader, quietly.

    ## Example
    The lock says `organizations.quota_used` has the comment "jobs charged this period"; the
    database's column has none.

    ## Fix
    `schemalock fix` sets it as the lock says (`COMMENT ON ... IS '...'`, or `IS NULL`); the
    downgrade puts the database's back. Or take the database's text into the lock.
    """

    code, name = "SL781", "comment-changed"
    severity, category, fixable = Severity.INFO, Category.STRUCTURE, True
    repaired_by = (d.CommentChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.CommentChanged):
            subject = changed.subject
            where = (
                f"{subject.kind} {qualified(subject.schema)}.{subject.name}"
                if subject.kind in ("function", "procedure")
                else f"{subject.kind} {qualified(*subject.path)}"
            )
            yield self.reported(
                changed,
                f"{where}: comment {_shown(changed.live)}; the lock says {_shown(changed.lock)}",
                expected=changed.lock,
                actual=changed.live,
            )


def _shown(comment: str | None) -> str:
    if comment is None:
        return "none"
    text = " ".join(comment.split())
    return repr(text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "...")
