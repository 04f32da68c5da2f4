"""The Mermaid ER diagram: an entity per table with its key columns, a line per relation."""

from __future__ import annotations

import re

from schemalock.model import DEFAULT_SCHEMA, Column, ForeignKey, Lock, Table
from schemalock.render.markdown.markup import code_block

# Words Mermaid's erDiagram lexer reads as keywords (case-insensitively) where a name stands.
_MERMAID_WORDS = frozenset(
    {"erdiagram", "one", "many", "only", "zero", "to", "optionally", "end", "class", "classdef"}
    | {"style", "subgraph", "direction", "title", "acctitle", "accdescr", "pk", "fk", "uk"}
)
_SHORT_TYPES = {
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "time with time zone": "timetz",
    "time without time zone": "time",
    "character varying": "varchar",
    "character": "char",
    "double precision": "float8",
    "bit varying": "varbit",
}


def mermaid_token(text: str) -> str:
    """A bare Mermaid word: ASCII letters, digits and `_`, not starting with a digit, never a
    keyword of the erDiagram grammar."""
    token = re.sub(r"[^A-Za-z0-9_]", "_", text) or "_"
    if token[0].isdigit():
        token = f"_{token}"
    return f"{token}_" if token.lower() in _MERMAID_WORDS else token


def mermaid_type(type_name: str) -> str:
    """`numeric(12,2)` -> `numeric_12_2`, `timestamp with time zone` -> `timestamptz`,
    `text[]` -> `text_array`."""
    text = type_name
    for long, short in _SHORT_TYPES.items():
        if text.startswith(long):
            text = short + text[len(long) :]
    text = text.replace("[]", "_array")
    return mermaid_token(re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_"))


def _entities(lock: Lock) -> dict[tuple[str, str], str]:
    """A distinct token per table of the lock and per table its relations point to."""
    keys = list(lock.database.tables)
    for table in lock.database.tables.values():
        keys += [(fk.ref_schema, fk.ref_table) for fk in table.foreign_keys]
    tokens: dict[tuple[str, str], str] = {}
    for key in dict.fromkeys(keys):
        schema, name = key
        base = mermaid_token(name if schema == DEFAULT_SCHEMA else f"{schema}.{name}")
        token, suffix = base, 2
        while token in tokens.values():
            token, suffix = f"{base}_{suffix}", suffix + 1
        tokens[key] = token
    return tokens


def diagram(lock: Lock) -> str:
    tables = lock.database.tables
    if not tables:
        return ""
    tokens = _entities(lock)
    lines = ["erDiagram"]
    for key, token in tokens.items():
        table = tables.get(key)
        lines += _entity(token, table) if table is not None else [f"    {token}"]
    for table in tables.values():
        lines += [_relation(table, fk, tokens) for fk in table.foreign_keys]
    intro = (
        "## Diagram\n\nTables with their key columns (PK primary key, FK foreign key, UK unique). "
        "A solid line is a relation through the child's primary key, a dashed one any other."
    )
    return f"{intro}\n\n" + code_block("\n".join(lines), "mermaid")


def _key_marks(table: Table, column: Column) -> list[str]:
    marks = []
    if table.primary_key and column.name in table.primary_key.columns:
        marks.append("PK")
    if any(column.name in fk.columns for fk in table.foreign_keys):
        marks.append("FK")
    if column.name in unique_columns(table):
        marks.append("UK")
    return marks


def unique_columns(table: Table) -> set[str]:
    """Columns unique on their own: by a constraint or a plain unique index. (Mermaid has no
    notation for a composite key but PK, so parts of a composite unique are not marked.)"""
    keys = [unique.columns for unique in table.uniques]
    keys += [index.keys for index in table.indexes if index.unique and index.where is None]
    return {key[0] for key in keys if len(key) == 1}


def _entity(token: str, table: Table) -> list[str]:
    attributes = []
    used: set[str] = set()
    for column in table.columns:
        marks = _key_marks(table, column)
        if not marks:
            continue
        name = mermaid_token(column.name)
        while name in used:  # "a b" and "a.b" both read a_b
            name += "_"
        used.add(name)
        attributes.append(f"        {mermaid_type(column.type)} {name} {', '.join(marks)}")
    if not attributes:
        return [f"    {token}"]
    return [f"    {token} {{", *attributes, "    }"]


def _unique_in(table: Table, columns: tuple[str, ...]) -> bool:
    wanted = set(columns)
    keys = [unique.columns for unique in table.uniques]
    keys += [table.primary_key.columns] if table.primary_key else []
    keys += [index.keys for index in table.indexes if index.unique and index.where is None]
    return any(set(key) == wanted for key in keys)


def _relation(table: Table, fk: ForeignKey, tokens: dict[tuple[str, str], str]) -> str:
    """`parent ||--o{ child : "label"`: the parent's side says how many parents a child row has
    (one when the key is NOT NULL), the child's side how many children a parent row has."""
    columns = [table.column(name) for name in fk.columns]
    required = all(column is not None and not column.nullable for column in columns)
    parent_side = "||" if required else "|o"
    child_side = "o|" if _unique_in(table, fk.columns) else "o{"
    pk = set(table.primary_key.columns) if table.primary_key else set()
    line = "--" if set(fk.columns) <= pk else ".."
    label = re.sub(r'["%\\]', "'", ", ".join(fk.columns))
    parent = tokens[(fk.ref_schema, fk.ref_table)]
    return f'    {parent} {parent_side}{line}{child_side} {tokens[table.key]} : "{label}"'
