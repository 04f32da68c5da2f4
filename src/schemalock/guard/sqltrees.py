"""Invariant expressions, check files and query contracts compared as PostgreSQL parses them.

Two texts that parse to the same tree (pglast, normalised as `model.expressions` normalises a
check: no locations, parentheses, keyword case or a trailing `;`) are the same promise.  The
base lock's text is first taken through the renames the new lock declares (`renamed_from`):
a table's old name in a `FROM`, and a column's old name where a table that renamed it is in
reach (the invariant's table, a table the query reads), become the new ones, so a rename alone
changes no invariant and no query.  Text pglast cannot parse compares as whitespace-normalised
text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from schemalock.model import expressions

Key = tuple[str, str]


@dataclass(frozen=True)
class Renames:
    """The renames the new lock declares: tables (old key -> new key) and, per table by its
    new key, columns (old name -> new name).  Empty for the new lock's own text."""

    tables: Mapping[Key, Key] = field(default_factory=dict)
    columns: Mapping[Key, Mapping[str, str]] = field(default_factory=dict)

    def table(self, key: Key) -> Key:
        return self.tables.get(key, key)

    def column(self, table: Key, name: str) -> str:
        """`name`, a column of `table` (its name in the base lock), as the new lock names it."""
        return self.columns.get(self.table(table), {}).get(name, name)


NO_RENAMES = Renames()


def expression(text: str, tables: Iterable[Key] = (), renames: Renames = NO_RENAMES) -> str:
    """The comparable form of an expression over the columns of `tables` (as the base lock
    names them)."""
    return _canonical(f"SELECT {text}", tables, renames, lambda tree: tree["targetList"])


def statement(text: str, renames: Renames = NO_RENAMES) -> str:
    """The comparable form of one statement (a query contract, a check file's SELECT)."""
    return _canonical(text, (), renames, lambda tree: tree)


def written(
    text: str, tables: Iterable[Key], renames: Renames, expression_only: bool = False
) -> str:
    """`text` (an expression over `tables` when `expression_only`, else a statement) as the
    renames make it, for messages: printed from its tree when a rename changed it, else as
    written."""
    if not (renames.tables or renames.columns):
        return text
    try:
        from pglast import ast, parse_sql
        from pglast.stream import RawStream

        source = f"SELECT {text}" if expression_only else text
        statements: Any = parse_sql(source)
        if len(statements) != 1:
            return text
        tree = statements[0].stmt(skip_none=True)
        renamed = _renamed(tree, [*tables, *_read_tables(tree)], renames)
        if renamed == _renamed(tree, [], NO_RENAMES):
            return text
        node: Any = ast.SelectStmt(renamed) if renamed.get("@") == "SelectStmt" else None
        if node is None:
            return text
        if expression_only:
            return str(RawStream()(node.targetList[0].val))
        return str(RawStream()(node))
    except Exception:  # pglast's errors: the text as written
        return text


def _canonical(text: str, tables: Iterable[Key], renames: Renames, part: Any) -> str:
    try:
        from pglast import parse_sql

        statements: Any = parse_sql(text)
        if len(statements) != 1:
            raise ValueError("not one statement")
        tree = statements[0].stmt(skip_none=True)
        if renames.tables or renames.columns:
            tree = _renamed(tree, [*tables, *_read_tables(tree)], renames)
        return json.dumps(expressions.normalized(part(tree)), sort_keys=True, default=str)
    except Exception:  # pglast's ParseError, or anything else: compared as text
        return " ".join(text.split())


def _read_tables(tree: Any) -> list[Key]:
    """The tables a statement names in its FROM clauses (the base lock's names; an
    unqualified one is taken to be in `public`)."""
    found: list[Key] = []

    def visit(node: Any) -> None:
        if isinstance(node, list | tuple):
            for item in node:
                visit(item)
        elif isinstance(node, dict):
            if node.get("@") == "RangeVar":
                found.append((node.get("schemaname") or "public", node["relname"]))
            for value in node.values():
                visit(value)

    visit(tree)
    return found


def _renamed(tree: Any, tables: list[Key], renames: Renames) -> Any:
    """`tree` with the renamed tables' and columns' old names replaced.  A column name is
    replaced only when the tables in reach agree on its new name."""
    columns: dict[str, set[str]] = {}
    by_table: dict[str, Mapping[str, str]] = {}  # a table in reach, by its old and new name
    for key in tables:
        renamed = renames.columns.get(renames.table(key), {})
        by_table[key[1]] = by_table[renames.table(key)[1]] = renamed
        for old, new in renamed.items():
            columns.setdefault(old, set()).add(new)
    by_old_table = {old[1]: new[1] for old, new in renames.tables.items()}

    def new_column(qualifier: str | None, name: str) -> str | None:
        """A column's new name: by its table when it is qualified by one in reach, else when
        the tables in reach agree (an alias, or no qualifier)."""
        if qualifier is not None and qualifier in by_table:
            return by_table[qualifier].get(name)
        found = columns.get(name, set())
        return next(iter(found)) if len(found) == 1 else None

    def rewrite(node: Any) -> Any:
        if isinstance(node, list | tuple):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        kind = node.get("@")
        if kind == "RangeVar":
            key = (node.get("schemaname") or "public", node["relname"])
            return {**node, "relname": renames.table(key)[1]}
        if kind == "ColumnRef":
            fields = list(node.get("fields", ()))
            names = [f.get("sval") if isinstance(f, dict) else None for f in fields]
            qualifier = names[-2] if len(names) >= 2 else None
            renamed_to = new_column(qualifier, names[-1]) if names and names[-1] else None
            if renamed_to is not None:
                fields[-1] = {"@": "String", "sval": renamed_to}
            if len(names) >= 2 and names[-2] in by_old_table:
                fields[-2] = {"@": "String", "sval": by_old_table[names[-2]]}
            return {**node, "fields": fields}
        return {name: rewrite(value) for name, value in node.items()}

    return rewrite(tree)
