"""Comments (COMMENT ON) of the objects both databases have: tables, columns, views,
functions and procedures, sequences, compared when the lock says its comments are the
database's (`database.comments: exact`, as `snapshot` writes; a lock written by hand uses
`comment:` as notes for people).  A comment is documentation a person or a tool reads
(PostgREST and Supabase show it as the API's description), so one that differs is reported,
as information.  An object one side lacks is reported by its own rule, not here."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from schemalock.compare.comment_differences import CommentChanged
from schemalock.compare.pairs import TablePair, ignored
from schemalock.compare.subject import Subject
from schemalock.model import Database


def comment_differences(
    lock: Database,
    live: Database,
    tables: Iterable[TablePair],
    ignore: tuple[str, ...] = (),
) -> Iterator[CommentChanged]:
    """For a lock whose comments are exact (`database.comments`): a comment it does not give
    is no comment."""

    def differ(want: str | None, have: str | None) -> bool:
        return want != have

    for pair in tables:
        if pair.lock is None or pair.live is None:
            continue
        want, have = pair.lock, pair.live
        if differ(want.comment, have.comment):
            subject = Subject("table", want.schema, want.name)
            yield CommentChanged(
                subject=subject, line=want.line, lock=want.comment, live=have.comment,
                target=(have.schema, have.name),
            )  # fmt: skip
        for columns in pair.columns:
            if columns.lock is None or columns.live is None:
                continue
            if differ(columns.lock.comment, columns.live.comment):
                yield CommentChanged(
                    subject=Subject("column", want.schema, want.name, columns.lock.name),
                    line=columns.lock.line or want.line,
                    lock=columns.lock.comment,
                    live=columns.live.comment,
                    target=(have.schema, have.name, columns.live.name),
                )
    yield from _objects(lock.views, live.views, ignore, differ, lambda view: view.kind)
    yield from _objects(lock.routines, live.routines, ignore, differ, lambda r: r.kind)
    yield from _objects(lock.sequences, live.sequences, ignore, differ, lambda _: "sequence")


def _objects(
    lock: Mapping[Any, Any],
    live: Mapping[Any, Any],
    ignore: tuple[str, ...],
    differ: Callable[[str | None, str | None], bool],
    kind: Callable[[Any], str],
) -> Iterator[CommentChanged]:
    for key, want in lock.items():
        have = live.get(key)
        if have is None or ignored(key[0], key[1], ignore):
            continue
        if not differ(want.comment, have.comment):
            continue
        name = getattr(want, "signature", want.name)
        yield CommentChanged(
            subject=Subject(kind(want), want.schema, name=name),
            line=want.line,
            lock=want.comment,
            live=have.comment,
            target=(want.schema, want.name),
            argument_types=getattr(want, "argument_types", None),
        )
