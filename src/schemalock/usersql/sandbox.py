"""SQL the user writes in the lock (flow invariants, custom checks), parsed by PostgreSQL's own
parser (pglast) and allowed only in a narrow shape before anything runs it.

- An invariant expression is one boolean expression over the tables it names: no statements,
  no clauses (LIMIT, INTO, FOR UPDATE, ...), no parameters, subqueries only where its form needs
  them (`EXISTS (SELECT ...)` in an `implies`), and only functions, operators and types from
  allow-lists: nothing with side effects, file or network access, sleeping, locking or
  configuration.
- A custom check is one SELECT (CTEs, joins, grouping and set operations allowed) over the
  lock's tables, under the same allow-lists; no INTO, no FOR UPDATE, no data-modifying CTE.

Names resolve as PostgreSQL resolves them, scope by scope: a CTE is visible only inside its
WITH's query, any other relation must be a lock table, and `alias.name` must be a column of
that alias (PostgreSQL would otherwise call a function `name` on the row, "functional
notation"; `(expression).name` is refused for the same reason).

What runs is pglast's rendering of the accepted tree with every name qualified as it was
checked: tables by their lock schema; functions, operators and types by pg_catalog (or a lock
enum's schema), so an object of the same name earlier on the search_path (`public.lower(varchar)`,
a `public.=` for varchar) is never picked instead.  Syntax that names an operator implicitly (IN,
BETWEEN, LIKE, IS DISTINCT FROM, NULLIF, `CASE x WHEN`) is rewritten into explicit pg_catalog
operators, as PostgreSQL expands it.  The rendering is parsed again and must give the same tree,
so a comment or a stray semicolon cannot change the statement around it.  Everything still runs
inside the READ ONLY transaction, under the run's timeouts.

This module holds the entry points (`expression`, `select`, and the query-contract reader of
`queries`); the pieces: `catalog` (the allow-lists), `trees` (parse-tree helpers, `Rejected`),
`scope` (what names resolve to), `walk` (the check over the tree), `expand` (implicit
operators written out), `render` (the rendering, parsed back).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemalock.model import Database, Table
from schemalock.usersql.queries import Contract, contract, query_error
from schemalock.usersql.render import render
from schemalock.usersql.scope import Origin, Source, table_relation
from schemalock.usersql.trees import Rejected, bounded_depth, one_expression, one_select, parse
from schemalock.usersql.walk import Walk

# The entry points, and what they raise and return (callers import them from here).
__all__ = [
    "EXPANSION_FLOOR",
    "MAX_EXPANSION",
    "Accepted",
    "Contract",
    "Origin",
    "Rejected",
    "contract",
    "expression",
    "query_error",
    "select",
]


@dataclass(frozen=True)
class Accepted:
    """SQL to run, and the lock objects it names: each must exist as such in the database, or
    the name could resolve to something else (a function called on the row, a domain)."""

    sql: str
    columns: frozenset[Origin] = frozenset()
    enums: frozenset[tuple[str, str]] = frozenset()


# IN, BETWEEN, NULLIF, IS DISTINCT FROM and `CASE x WHEN` are written out with explicit
# pg_catalog operators, which repeats their subject: once per IN item, and nested, the repeats
# multiply (NULLIF(NULLIF(NULLIF(a, b), c), d) holds `a` eight times).  What runs may hold at
# most MAX_EXPANSION times the nodes written (EXPANSION_FLOOR nodes, however small the text),
# so that checking and rendering an expression stay linear in its length.
MAX_EXPANSION = 16
EXPANSION_FLOOR = 10_000


def expression(
    text: str,
    database: Database,
    tables: Mapping[str, Table],
    subqueries: bool = False,
) -> Accepted:
    """The SQL to run for a boolean expression over `tables` (by the names the expression uses),
    or Rejected."""
    with bounded_depth():
        sources = [Source(name, table_relation(table)) for name, table in tables.items()]
        walk = Walk(database, subqueries=subqueries, levels=[sources])
        tree = one_expression(text)
        written = _size(tree, None)
        value = walk.node(tree)
        _within_expansion(value, written)
        sql = render(value, one_expression)
    return Accepted(sql, frozenset(walk.columns), frozenset(walk.enums))


def select(text: str, database: Database) -> Accepted:
    """The SQL to run for a custom check (one SELECT over the lock's tables), or Rejected."""
    with bounded_depth():
        statements = parse(text)
        if len(statements) != 1 or type(statements[0].stmt).__name__ != "SelectStmt":
            raise Rejected("a check holds exactly one SELECT statement")
        walk = Walk(database, custom=True)
        tree = statements[0].stmt(skip_none=True)
        written = _size(tree, None)
        tree = walk.node(tree)
        _within_expansion(tree, written)
        sql = render(tree, one_select)
    return Accepted(sql, frozenset(walk.columns), frozenset(walk.enums))


def _within_expansion(tree: Any, written: int) -> None:
    expanded = _size(tree, {})
    if expanded > max(EXPANSION_FLOOR, MAX_EXPANSION * written):
        raise Rejected(
            f"written out with explicit operators it would be {expanded:,} parse nodes for "
            f"{written:,} written: IN, BETWEEN, NULLIF, IS DISTINCT FROM and CASE x WHEN repeat "
            "their subject (use `x = ANY (ARRAY[...])` for a long list, and do not nest them)"
        )


def _size(node: Any, seen: dict[int, int] | None) -> int:
    """Parse nodes in `node` as rendered, a node shared by several parents counted under each;
    `seen` (None on a tree that shares nothing) computes each shared node once."""
    if isinstance(node, list | tuple):
        items: Any = node
    elif isinstance(node, dict) and "#" not in node:
        items = node.values()
    else:
        return 0
    if seen is not None and id(node) in seen:
        return seen[id(node)]
    total = (1 if isinstance(node, dict) else 0) + sum(_size(item, seen) for item in items)
    if seen is not None:
        seen[id(node)] = total
    return total
