"""Splitting pg_get_indexdef() output into key elements and INCLUDE columns, and a row of
indexes.sql into the model's index."""

from __future__ import annotations

import re
from sys import intern

from schemalock.model import Index

# The characters that matter when splitting pg_get_indexdef() output, quoted names and string
# literals taken whole, so a scan never steps through the text one character at a time.
_INDEXDEF_TOKEN = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'|[(),]')


def index_elements(definition: str) -> tuple[list[str], list[str]]:
    """Key elements and INCLUDE columns from pg_get_indexdef() output.

    The first parenthesis outside quotes opens the key list (index and table names that contain
    one are quoted), so the scan needs no SQL parser.
    """
    if '"' not in definition and "'" not in definition:
        # Nothing quoted (the common index): the first parenthesis opens the keys, and keys
        # with no parenthesis of their own end at the first closing one.
        start = definition.index("(") + 1
        end = definition.find(")", start)
        inside = definition[start:end]
        if end > 0 and "(" not in inside:
            rest = definition[end + 1 :]
            if not rest.startswith(" INCLUDE ("):
                return [key.strip() for key in inside.split(",")], []
    keys, end = _parenthesized_list(definition, 0)
    rest = definition[end + 1 :]
    include: list[str] = []
    if rest.startswith(" INCLUDE ("):
        include, _ = _parenthesized_list(rest, 0)
    return keys, include


def _parenthesized_list(text: str, start: int) -> tuple[list[str], int]:
    """The comma-separated items of the first parenthesized list at or after `start`."""
    items: list[str] = []
    depth, begin = 0, -1
    for token in _INDEXDEF_TOKEN.finditer(text, start):
        char = token.group()
        if char == "(":
            depth += 1
            if depth == 1:
                begin = token.end()
        elif char == ")":
            depth -= 1
            if depth == 0:
                items.append(text[begin : token.start()].strip())
                return items, token.start()
        elif char == "," and depth == 1:
            items.append(text[begin : token.start()].strip())
            begin = token.end()
    raise ValueError(f"unbalanced parentheses in index definition {text!r}")


def index_row(
    _oid: int,
    name: str,
    definition: str,
    unique: bool,
    valid: bool,
    method: str,
    predicate: str | None,
    nulls_not_distinct: bool,
    _partial: bool,
) -> Index:
    keys, include = index_elements(definition)
    return Index(
        name=name,
        keys=tuple(map(intern, keys)),
        unique=unique,
        method=intern(method),
        where=predicate,
        include=tuple(include),
        nulls_not_distinct=bool(nulls_not_distinct),
        valid=valid,
    )
