"""Markdown the document is written in: code spans and blocks that survive any text, the
author's prose kept, generated text escaped, table rows, and names as the lock spells them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from schemalock.model import DEFAULT_SCHEMA, ForeignKey, Table, names
from schemalock.render import safe_text


def code_span(text: str) -> str:
    """An inline code span that survives backticks and line breaks in `text`."""
    # A line break reads as one space in a code span: fold it and the indentation around it.
    text = safe_text(re.sub(r"[ \t]*\n\s*", " ", text))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if longest or text.startswith(" ") or text.endswith(" ") else text
    return f"{fence}{padded}{fence}"


def code_block(text: str, language: str = "") -> str:
    """A fenced code block longer than any backtick run inside it."""
    body = safe_text_lines(text.strip("\n"))
    longest = max((len(run) for run in re.findall(r"`{3,}", body)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{language}\n{body}\n{fence}"


def safe_text_lines(text: str) -> str:
    """Control characters escaped, line breaks kept (for code blocks)."""
    return "\n".join(safe_text(line) for line in text.splitlines())


def prose(text: str) -> str:
    """The author's free text on one line: Markdown kept, raw HTML neutralized."""
    return " ".join(safe_text(text.replace("\n", " ")).split()).replace("<", "&lt;")


def escaped(text: str) -> str:
    """Generated text (messages, server errors) shown literally."""
    text = " ".join(safe_text(text.replace("\n", " ")).split())
    return re.sub(r"([\\`*\[\]<|])", r"\\\1", text)


def _cell(text: str) -> str:
    # GFM splits cells on `|` even inside code spans; a backslash keeps it in the cell.
    return text.replace("|", "\\|")


def table_row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def table_name(key: tuple[str, str]) -> str:
    """The lock's spelling: bare in the default schema, else `schema.table`."""
    schema, name = key
    return names.lock_name(name) if schema == DEFAULT_SCHEMA else names.lock_name(schema, name)


def column_name(key: tuple[str, str], column: str) -> str:
    schema, name = key
    if schema == DEFAULT_SCHEMA:
        return names.lock_name(name, column)
    return names.lock_name(schema, name, column)


def code_list(columns: Iterable[str]) -> str:
    return ", ".join(code_span(column) for column in columns)


def arrows(text: str) -> str:
    return prose(text).replace(" -> ", " → ")


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def named(name: str | None) -> str:
    return f" {code_span(name)}" if name else ""


def describe_relation(table: Table, fk: ForeignKey) -> str:
    """`jobs.org_id` → `organizations.id` (composite keys as `t (a, b)`)."""
    parent = (fk.ref_schema, fk.ref_table)
    if len(fk.columns) == 1:
        return (
            f"{code_span(column_name(table.key, fk.columns[0]))} → "
            f"{code_span(column_name(parent, fk.ref_columns[0]))}"
        )
    return (
        f"{code_span(table_name(table.key))} ({code_list(fk.columns)}) → "
        f"{code_span(table_name(parent))} ({code_list(fk.ref_columns)})"
    )
