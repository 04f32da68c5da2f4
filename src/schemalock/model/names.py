"""Identifiers: splitting the lock's dotted names and quoting names for people to read.

Names in the lock are exact (case-sensitive, no folding).  A dot separates schema, table and
column; a part that itself contains a dot or a double quote is written in double quotes, with
`""` for a quote, as in SQL.  SQL always receives identifiers through psycopg's `sql.Identifier`;
`quote` here is only for messages and documents.
"""

from __future__ import annotations

import os
import re
from functools import cache
from typing import Any

_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")  # what PostgreSQL's quote_ident leaves bare


class NameError_(ValueError):
    pass


def split(text: str) -> list[str]:
    """`billing.invoices` -> ["billing", "invoices"]; `"a.b".c` -> ["a.b", "c"]."""
    parts: list[str] = []
    current: list[str] = []
    index, quoted = 0, False
    while index < len(text):
        char = text[index]
        if quoted:
            if char == '"':
                if text[index + 1 : index + 2] == '"':
                    current.append('"')
                    index += 1
                else:
                    quoted = False
                    if text[index + 1 : index + 2] not in ("", "."):
                        raise NameError_(f"text after a closing quote in name {text!r}")
            else:
                current.append(char)
        elif char == '"' and not current:
            quoted = True
        elif char == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    if quoted:
        raise NameError_(f"unterminated quote in name {text!r}")
    parts.append("".join(current))
    if any(part == "" for part in parts):
        raise NameError_(f"empty part in name {text!r}")
    return parts


def split_table(text: str, default_schema: str) -> tuple[str, str]:
    parts = split(text)
    if len(parts) == 1:
        return default_schema, parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise NameError_(f"table name {text!r} has more than two parts")


def split_column_ref(text: str, default_schema: str) -> tuple[str, str, str]:
    """`table.column` (in `default_schema`) or `schema.table.column`."""
    parts = split(text)
    if len(parts) == 2:
        return default_schema, parts[0], parts[1]
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    raise NameError_(f"reference {text!r} must be table.column or schema.table.column")


def lock_name(*parts: str) -> str:
    """The lock's spelling of a dotted name: parts quoted only when they hold a dot or a quote."""
    return ".".join(
        f'"{p.replace(chr(34), chr(34) * 2)}"' if ("." in p or '"' in p) else p for p in parts
    )


@cache
def _keywords() -> frozenset[str]:
    keywords = _pglast_keywords()
    return frozenset(
        keywords.RESERVED_KEYWORDS | keywords.TYPE_FUNC_NAME_KEYWORDS | keywords.COL_NAME_KEYWORDS
    )


def _pglast_keywords() -> Any:
    """pglast's keyword lists (extracted from PostgreSQL's kwlist.h), without importing the
    package: its parser costs ~50 ms to load, and quoting a name in a message needs only these
    sets.  `find_spec` of a top-level package locates it without running it."""
    import importlib.util
    import sys

    if "pglast" in sys.modules:
        from pglast import keywords

        return keywords
    package = importlib.util.find_spec("pglast")
    assert package is not None
    assert package.submodule_search_locations
    path = os.path.join(next(iter(package.submodule_search_locations)), "keywords.py")
    spec = importlib.util.spec_from_file_location("schemalock._pglast_keywords", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def quote(name: str) -> str:
    """PostgreSQL's quote_ident: quotes only where the name needs it."""
    if _PLAIN.match(name) and name not in _keywords():
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(*parts: str | None) -> str:
    return ".".join(quote(p) for p in parts if p is not None)


def split_signature(text: str) -> tuple[str, list[str]] | None:
    """`name(type, ...)` -> (the name, the argument types), each as written; None when the text
    has no argument list.  A comma inside parentheses (`numeric(10,2)`) or quotes belongs to
    its type."""
    opening = _outside_quotes(text, "(")
    if opening < 0 or not text.rstrip().endswith(")"):
        return None
    inside = text[opening + 1 : text.rstrip().rindex(")")]
    parts, current, depth, quoted = [], "", 0, False
    for char in inside:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
        elif char == "," and depth == 0 and not quoted:
            parts.append(current.strip())
            current = ""
            continue
        current += char
    parts.append(current.strip())
    return text[:opening].strip(), [] if parts == [""] else parts


def _outside_quotes(text: str, wanted: str) -> int:
    """The index of the first `wanted` outside double quotes, or -1."""
    quoted = False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == wanted and not quoted:
            return index
    return -1
