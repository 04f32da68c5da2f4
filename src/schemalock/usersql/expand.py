"""Syntax that names an operator implicitly (IN, BETWEEN, LIKE, IS DISTINCT FROM, NULLIF),
written out with explicit pg_catalog operators as PostgreSQL expands it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemalock.usersql.trees import Rejected, bool_test, boolean, enum_value, name_nodes, operation


def _expand_in(node: dict[str, Any]) -> dict[str, Any]:
    """`x IN (a, b)`: x = a OR x = b; NOT IN: x <> a AND x <> b (what PostgreSQL computes)."""
    operator = node["name"][-1]["sval"]
    tests = [operation(operator, node["lexpr"], item) for item in node["rexpr"]]
    return boolean("OR_EXPR" if operator == "=" else "AND_EXPR", tests)


def _expand_between(node: dict[str, Any]) -> dict[str, Any]:
    """BETWEEN and its variants as PostgreSQL's own analysis writes them."""
    value, (low, high) = node["lexpr"], node["rexpr"]
    kind = node["kind"]["name"]

    def within(a: Any, b: Any) -> dict[str, Any]:
        return boolean("AND_EXPR", [operation(">=", value, a), operation("<=", value, b)])

    def outside(a: Any, b: Any) -> dict[str, Any]:
        return boolean("OR_EXPR", [operation("<", value, a), operation(">", value, b)])

    if kind == "AEXPR_BETWEEN":
        return within(low, high)
    if kind == "AEXPR_NOT_BETWEEN":
        return outside(low, high)
    if kind == "AEXPR_BETWEEN_SYM":
        return boolean("OR_EXPR", [within(low, high), within(high, low)])
    return boolean("AND_EXPR", [outside(low, high), outside(high, low)])


def _expand_distinct(node: dict[str, Any]) -> dict[str, Any]:
    """`a IS [NOT] DISTINCT FROM b` through `=`: (a = b) IS NOT TRUE AND not both NULL, or
    (a = b) IS TRUE OR both NULL.  num_nulls() counts NULL values as the construct does (a row
    of NULL fields is not NULL); row constructors compare field by field there, so are refused."""
    left, right = node["lexpr"], node["rexpr"]
    if "RowExpr" in (left.get("@"), right.get("@")):
        raise Rejected("IS DISTINCT FROM between ROW(...) values is not allowed")
    equal = operation("=", left, right)
    nulls = {
        "@": "FuncCall",
        "funcname": name_nodes("pg_catalog", "num_nulls"),
        "args": (left, right),
        "funcformat": enum_value("CoercionForm", "COERCE_EXPLICIT_CALL"),
    }
    two = {"@": "A_Const", "val": {"@": "Integer", "ival": 2}}
    if node["kind"]["name"] == "AEXPR_DISTINCT":
        return boolean("AND_EXPR", [bool_test(equal, "IS_NOT_TRUE"), operation("<>", nulls, two)])
    return boolean("OR_EXPR", [bool_test(equal, "IS_TRUE"), operation("=", nulls, two)])


def _expand_nullif(node: dict[str, Any]) -> dict[str, Any]:
    """NULLIF(a, b): CASE WHEN a = b THEN NULL ELSE a END, as documented."""
    when = {
        "@": "CaseWhen",
        "expr": operation("=", node["lexpr"], node["rexpr"]),
        "result": {"@": "A_Const", "isnull": True},
    }
    return {"@": "CaseExpr", "args": (when,), "defresult": node["lexpr"]}


def _as_operator(node: dict[str, Any]) -> dict[str, Any]:
    """LIKE, ILIKE and SIMILAR TO are their operators (~~, ~~*, ~): written as such."""
    node["kind"] = enum_value("A_Expr_Kind", "AEXPR_OP")
    return node


# BETWEEN and its variants compare with fixed operators (>=, <=, <, >): no name to check.
BETWEEN = frozenset(
    {"AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN", "AEXPR_BETWEEN_SYM", "AEXPR_NOT_BETWEEN_SYM"}
)
# The A_Expr kinds a lock expression may use, each with how it is written out.
EXPANSIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "AEXPR_OP": lambda node: node,
    "AEXPR_OP_ANY": lambda node: node,
    "AEXPR_OP_ALL": lambda node: node,
    "AEXPR_LIKE": _as_operator,
    "AEXPR_ILIKE": _as_operator,
    "AEXPR_SIMILAR": _as_operator,
    "AEXPR_IN": _expand_in,
    "AEXPR_BETWEEN": _expand_between,
    "AEXPR_NOT_BETWEEN": _expand_between,
    "AEXPR_BETWEEN_SYM": _expand_between,
    "AEXPR_NOT_BETWEEN_SYM": _expand_between,
    "AEXPR_DISTINCT": _expand_distinct,
    "AEXPR_NOT_DISTINCT": _expand_distinct,
    "AEXPR_NULLIF": _expand_nullif,
}
