"""What a query contract's SQL says about itself (its parameters, the first lock table it
reads or writes), or why PostgreSQL's parser does not read it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from schemalock.model import DEFAULT_SCHEMA, Database, Table
from schemalock.usersql.trees import Rejected, bounded_depth


@dataclass(frozen=True)
class Contract:
    """What a query contract's SQL says about itself, from the parse tree."""

    parameters: int  # its highest $n: the parameters the server counts beyond those declared
    table: Table | None  # the first lock table it reads or writes


def contract(text: str, database: Database) -> Contract | None:
    """The parameters and first lock table of a query contract's SQL; None when it does not
    parse (the server says why when it is prepared)."""
    facts = _query_facts(text)
    if isinstance(facts, str):
        return None
    for schema, name in facts.relations:
        table = database.tables.get((schema or DEFAULT_SCHEMA, name))
        if table is not None:
            return Contract(facts.parameters, table)
    return Contract(facts.parameters, None)


def query_error(text: str) -> str | None:
    """Why a query contract's SQL is not one statement PostgreSQL's parser reads, or None."""
    facts = _query_facts(text)
    if isinstance(facts, str):
        return facts
    if facts.statements != 1:
        return f"{facts.statements} statements; a contract holds one"
    return None


@dataclass(frozen=True)
class _QueryFacts:
    statements: int
    parameters: int  # the highest $n
    relations: tuple[tuple[str | None, str], ...]  # named in reading order, CTEs left out


@cache
def _query_facts(text: str) -> _QueryFacts | str:
    """What a query contract's parse tree says (or why it does not parse), worked out once:
    before `verify` connects, and again for free while it checks the contract."""
    try:
        with bounded_depth():
            trees = [s.stmt(skip_none=True) for s in _parse_sql(text)]
            numbers = [
                n["number"] for n in _nodes(trees) if n.get("@") == "ParamRef" and "number" in n
            ]
            ctes = {n["ctename"] for n in _nodes(trees) if n.get("@") == "CommonTableExpr"}
            relations = tuple(
                (node.get("schemaname"), node["relname"])
                for node in _nodes(trees, first=("relation", "fromClause", "larg"))
                if node.get("@") == "RangeVar"
                and not (node.get("schemaname") is None and node["relname"] in ctes)
            )
    except Rejected as refusal:
        return str(refusal)
    return _QueryFacts(len(trees), max(numbers, default=0), relations)


def _parse_sql(text: str) -> list[Any]:
    """PostgreSQL's parse of `text`, its own error message as the refusal."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        return list(parse_sql(text))
    except ParseError as error:
        raise Rejected(str(error)) from None


def _nodes(tree: Any, first: tuple[str, ...] = ()) -> Iterator[dict[str, Any]]:
    """Every node of `tree`, depth first, the children under `first` keys before the others."""
    if isinstance(tree, list | tuple):
        for item in tree:
            yield from _nodes(item, first)
    elif isinstance(tree, dict) and "#" not in tree:
        yield tree
        keys = [k for k in first if k in tree] + [k for k in tree if k not in first]
        for key in keys:
            yield from _nodes(tree[key], first)
