"""pglast's parse trees as the sandbox reads and builds them (dicts, `@` naming the node kind,
`#` an enum value), and the refusal every check raises."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from schemalock.usersql.catalog import CLAUSES, NOISE


class Rejected(ValueError):
    """The text is not SQL of the allowed shape; the message says what and where."""


def enum_value(kind: str, name: str) -> dict[str, Any]:
    from pglast import enums

    return {"#": kind, "name": name, "value": getattr(enums, kind)[name].value}


def name_nodes(*parts: str) -> tuple[dict[str, Any], ...]:
    return tuple({"@": "String", "sval": part} for part in parts)


def strings(nodes: Any) -> list[str]:
    return [str(n["sval"]) for n in nodes]


def catalog_name(parts: list[str]) -> bool:
    """Unqualified, or qualified by exactly pg_catalog."""
    return len(parts) == 1 or (len(parts) == 2 and parts[0] == "pg_catalog")


def operation(operator: str, left: Any, right: Any) -> dict[str, Any]:
    return {
        "@": "A_Expr",
        "kind": enum_value("A_Expr_Kind", "AEXPR_OP"),
        "name": name_nodes("pg_catalog", operator),
        "lexpr": left,
        "rexpr": right,
    }


def boolean(operator: str, args: list[dict[str, Any]]) -> dict[str, Any]:
    if len(args) == 1:
        return args[0]
    return {"@": "BoolExpr", "boolop": enum_value("BoolExprType", operator), "args": tuple(args)}


def bool_test(value: Any, test: str) -> dict[str, Any]:
    return {"@": "BooleanTest", "arg": value, "booltesttype": enum_value("BoolTestType", test)}


def string_constant(node: Any) -> str | None:
    if isinstance(node, dict) and node.get("@") == "A_Const":
        value = node.get("val") or {}
        if value.get("@") == "String":
            return str(value["sval"])
    return None


def parse(text: str) -> list[Any]:
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        return list(parse_sql(text))
    except ParseError as error:
        raise Rejected(f"not valid SQL: {error}") from None


def one_expression(text: str) -> dict[str, Any]:
    """The tree of `text` when it is exactly one expression: no second statement, no clause
    after it (LIMIT, INTO, FOR UPDATE, ...), no alias."""
    statements = parse(f"SELECT {text}")
    if len(statements) != 1:
        raise Rejected("expected one expression, found more than one statement")
    tree: dict[str, Any] = statements[0].stmt(skip_none=True)
    if tree.get("@") != "SelectStmt":
        raise Rejected("expected one expression")
    plain = {"@", "targetList", "limitOption", "op"} | NOISE
    extra = sorted(CLAUSES.get(k, k) for k, v in tree.items() if v and k not in plain)
    if tree["limitOption"]["name"] != "LIMIT_OPTION_DEFAULT":
        extra.append("LIMIT")
    if extra:
        raise Rejected(f"expected one expression, found {', '.join(sorted(set(extra)))}")
    targets = tree.get("targetList", ())
    if len(targets) != 1 or set(targets[0]) - {"@", "val"} - NOISE:
        raise Rejected("expected one expression")
    value: dict[str, Any] = targets[0]["val"]
    return value


def one_select(text: str) -> dict[str, Any]:
    statements = parse(text)
    if len(statements) != 1:
        raise Rejected("more than one statement")
    tree: dict[str, Any] = statements[0].stmt(skip_none=True)
    return tree


@contextmanager
def bounded_depth() -> Iterator[None]:
    """Python's recursion limit, met by an expression nested thousands of levels deep (`a + a +
    ... + a`), is a refusal like any other, not a crash."""
    try:
        yield
    except RecursionError:
        raise Rejected(
            "nested too deeply to check (split the expression, or use fewer chained operators)"
        ) from None
