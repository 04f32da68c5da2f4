"""Do two SQL expressions mean the same thing?  Decided on PostgreSQL's own parse tree (pglast).

The catalog prints expressions its own way: `now()` for `CURRENT_TIMESTAMP`, `'0'::integer` or
`0` for `0`, `(status)::text = ANY (ARRAY['a'::text])` for `status IN ('a')`, parentheses
everywhere.  Comparing text would report drift where there is none, so both sides are parsed and
the trees normalized:
- casts of literals are dropped (a literal takes the column's type anyway), as are the `::text`
  casts the catalog adds to varchar columns;
- `IN (...)` becomes `= ANY (ARRAY[...])`, `BETWEEN` becomes two comparisons, `LIKE` becomes `~~`;
- `CURRENT_TIMESTAMP`, `transaction_timestamp()` and `now()` are one function;
- literals compare by their text (`0` equals `'0'`), `pg_catalog.` qualifiers are dropped.
Anything pglast cannot parse is compared as whitespace-normalized text.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

_NOISE = frozenset(
    {
        "location",
        "list_start",
        "list_end",
        "rexpr_list_start",
        "rexpr_list_end",
        "typemod",
        "setof",
        "pct_type",
        "stmt_location",
        "stmt_len",
        "funcformat",  # `TRIM(BOTH FROM x)` is `btrim(x)` written the SQL-standard way
    }
)
_COMPARISONS = {
    "=",
    "<>",
    "!=",
    "<",
    ">",
    "<=",
    ">=",
    "~~",
    "!~~",
    "~~*",
    "!~~*",
    "~",
    "~*",
    "!~",
    "!~*",
}
_NOW_FUNCTIONS = {"now", "transaction_timestamp", "current_timestamp"}
_TEXTUAL = {"text", "varchar", "bpchar", "character varying"}
_LIKE = {"AEXPR_LIKE", "AEXPR_ILIKE"}


def same(left: str | None, right: str | None, kind: str = "expr") -> bool:
    if left == right:
        return True
    if left is None or right is None:
        return False
    return canonical(left, kind) == canonical(right, kind)


@cache
def canonical(text: str, kind: str = "expr") -> str:
    """A string equal for equivalent expressions.  `kind`: expr, index_elem or partition."""
    try:
        tree = _parse(text, kind)
    except Exception:  # pglast raises its own ParseError; anything unparsable compares as text
        return " ".join(text.split())
    normal = _bound(tree) if kind == "bound" else _normalize(tree, loose=kind == "expr")
    return json.dumps(normal, sort_keys=True)


# What the statement around a fragment may hold besides the fragment itself: anything else
# (a FROM, a WHERE, INCLUDE, a second statement) means the text escaped its slot.
_SELECT_DEFAULTS = {"@", "targetList", "groupDistinct", "limitOption", "op", "all"}
_INDEX_KEYS = {"@", "idxname", "relation", "accessMethod", "indexParams"}
_TABLE_KEYS = {"@", "relation", "partspec", "oncommit", "if_not_exists"}
_BOUND_KEYS = {"@", "relation", "inhRelations", "partbound", "oncommit", "if_not_exists"}


def is_constant(default: str) -> bool:
    """Whether a default is the same for every row of one statement (a literal, a cast of one,
    `now()`): PostgreSQL 11+ then adds a column with it without rewriting the table."""
    tree = canonical(default)
    return '"FuncCall"' not in tree or tree.count('"FuncCall"') == tree.count('"funcname": ["now"]')


def is_literal(default: str) -> bool:
    """Whether a default is a literal (or a cast of one): the same value now and later, unlike
    `now()`, which `is_constant` accepts for one statement only."""
    return '"FuncCall"' not in canonical(default)


def _parse(text: str, kind: str) -> Any:
    """The parse tree of `text` as exactly one fragment of its kind: an expression (`expr`), an
    index key (`index_elem`) or a partition key (`partition`).  The text is parsed inside the
    statement that would hold it, and refused unless that statement is the only one and holds
    nothing but the fragment, so `0; DROP TABLE t` or `a) WHERE (true` never pass as one."""
    from pglast import parse_sql

    statements: Any = parse_sql(_TEMPLATES[kind].format(text))
    if len(statements) != 1:
        raise ValueError(f"not a single {_KINDS[kind]}: it holds {len(statements)} statements")
    statement = statements[0].stmt
    tree = statement(skip_none=True)
    if kind == "index_elem":
        _only(tree, _INDEX_KEYS, kind, lambda: len(statement.indexParams) == 1)
        return statement.indexParams[0](skip_none=True)
    if kind == "partition":
        _only(tree, _TABLE_KEYS, kind, lambda: "tableElts" not in tree)
        return statement.partspec(skip_none=True)
    if kind == "bound":
        _only(tree, _BOUND_KEYS, kind, lambda: len(statement.inhRelations) == 1)
        return statement.partbound(skip_none=True)
    _only(
        tree,
        _SELECT_DEFAULTS,
        kind,
        lambda: len(statement.targetList) == 1 and statement.targetList[0].name is None,
    )
    return statement.targetList[0].val(skip_none=True)


_TEMPLATES = {
    "expr": "SELECT {}",
    "index_elem": "CREATE INDEX x ON t ({})",
    "partition": "CREATE TABLE t () PARTITION BY {}",
    "bound": "CREATE TABLE t PARTITION OF p {}",
}
_KINDS = {
    "expr": "expression",
    "index_elem": "index key",
    "partition": "partition key",
    "bound": "partition bound",
}


def _only(tree: dict[str, Any], allowed: set[str], kind: str, shape: Any) -> None:
    extra = sorted(
        key for key, value in tree.items() if key not in allowed and value not in (False, 0)
    )
    if tree.get("@") not in ("SelectStmt", "IndexStmt", "CreateStmt") or extra or not shape():
        raise ValueError(f"not a single {_KINDS[kind]}")


def as_sql(text: str, kind: str = "expr") -> str:
    """`text` as PostgreSQL's parser read it, printed back: what a migration may safely splice
    into a statement (no comment, no second statement, nothing outside the fragment's slot).
    Raises ValueError (or pglast's ParseError) for text that is not one fragment of `kind`."""
    from pglast import parse_sql
    from pglast.stream import RawStream

    _parse(text, kind)  # the strict checks
    statement: Any = parse_sql(_TEMPLATES[kind].format(text))[0].stmt
    if kind == "index_elem":
        node = statement.indexParams[0]
    elif kind == "partition":
        node = statement.partspec
    elif kind == "bound":
        node = statement.partbound
    else:
        node = statement.targetList[0].val
    return str(RawStream()(node))


def normalized(tree: Any) -> Any:
    """The comparable form of a parse tree (pglast's dict form): what `canonical` compares,
    for the comparison of whole statements (`schemalock.model.definitions`)."""
    return _normalize(tree)


def _normalize(node: Any, loose: bool = False) -> Any:
    """The comparable form of a parse-tree node.  `loose`: this position coerces a literal to
    the surrounding type anyway (a default, a comparison operand), so the literal's cast adds
    nothing and is dropped."""
    if isinstance(node, list | tuple):
        return [_normalize(item, loose) for item in node]
    if not isinstance(node, dict):
        return node
    if "#" in node:  # an enum value such as {"#": "BoolExprType", "name": "AND_EXPR"}
        return node["name"]
    kind = node.get("@")
    if kind == "TypeCast":
        return _cast(node, loose)
    if kind == "A_Const":
        return _constant(node)
    if kind == "SQLValueFunction" and node["op"]["name"] == "SVFOP_CURRENT_TIMESTAMP":
        return _NOW_CALL
    if kind == "FuncCall":
        return _function(node)
    if kind == "A_Expr":
        return _operator(node)
    if kind == "A_ArrayExpr":
        return {"@": "A_ArrayExpr", "elements": _normalize(node.get("elements", ()), loose)}
    if kind == "BoolExpr":
        return {
            "@": "BoolExpr",
            "boolop": node["boolop"]["name"],
            "args": _normalize(node.get("args", ()), True),
        }
    if kind == "TypeName":
        return {
            "@": "TypeName",
            "names": [n for n in _names(node.get("names", ())) if n != "pg_catalog"],
            "typmods": _normalize(node.get("typmods", ())),
            "arrayBounds": bool(node.get("arrayBounds")),
        }
    if kind == "String":
        return node["sval"]
    return {key: _normalize(value) for key, value in node.items() if key not in _NOISE}


_NOW_CALL = {"@": "FuncCall", "funcname": ["now"]}


def _names(nodes: Any) -> list[str]:
    return [n["sval"] if isinstance(n, dict) else str(n) for n in nodes]


def _is_literal(node: Any) -> bool:
    return isinstance(node, dict) and (
        node.get("@") == "A_Const" or (node.get("@") == "TypeCast" and _is_literal(node.get("arg")))
    )


def _cast(node: dict[str, Any], loose: bool) -> Any:
    argument = node["arg"]
    type_name = node["typeName"]
    target = [n for n in _names(type_name.get("names", ())) if n != "pg_catalog"]
    bare_text = bool(target) and target[-1] in _TEXTUAL and not type_name.get("typmods")
    if _is_literal(argument) and (loose or (bare_text and argument.get("@") == "A_Const")):
        return _normalize(argument, loose)  # '0'::integer as a default, 'day'::text anywhere
    if bare_text and _is_column_or_literals(argument):
        return _normalize(argument)  # the catalog's `(varchar_col)::text`, `(ARRAY[...])::text[]`
    return {"@": "TypeCast", "arg": _normalize(argument), "type": _normalize(type_name)}


def _is_column_or_literals(node: dict[str, Any]) -> bool:
    if node.get("@") == "ColumnRef":
        return True
    elements = node.get("elements", ()) if node.get("@") == "A_ArrayExpr" else None
    return elements is not None and all(_is_literal(e) for e in elements)


def _constant(node: dict[str, Any]) -> Any:
    if node.get("isnull"):
        return {"const": None}
    value = node.get("val", {})
    for key in ("ival", "fval", "sval", "boolval", "bsval"):
        if key in value:
            raw = value[key]
            text = ("true" if raw else "false") if key == "boolval" else str(raw)
            return {"const": text, "kind": "bits" if key == "bsval" else "value"}
    return {"const": "0", "kind": "value"}  # pglast omits ival when it is 0


def _function(node: dict[str, Any]) -> Any:
    name = [n for n in _names(node["funcname"]) if n != "pg_catalog"]
    if len(name) == 1 and name[0] in _NOW_FUNCTIONS and not node.get("args"):
        return _NOW_CALL
    normalized = {k: _normalize(v) for k, v in node.items() if k not in _NOISE}
    normalized["funcname"] = name
    return normalized


def _operator(node: dict[str, Any]) -> Any:
    kind = node["kind"]["name"]
    name = _names(node.get("name", ()))
    left, right = node.get("lexpr"), node.get("rexpr")
    if kind == "AEXPR_IN":
        kind = "AEXPR_OP_ANY" if name == ["="] else "AEXPR_OP_ALL"
        right = {"@": "A_ArrayExpr", "elements": list(right or ())}
    elif kind in _LIKE:
        kind = "AEXPR_OP"
    elif kind in ("AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN"):
        low, high = right or (None, None)
        negate = kind == "AEXPR_NOT_BETWEEN"
        first = {
            "kind": {"name": "AEXPR_OP"},
            "name": [{"sval": "<" if negate else ">="}],
            "lexpr": left,
            "rexpr": low,
        }
        second = {
            "kind": {"name": "AEXPR_OP"},
            "name": [{"sval": ">" if negate else "<="}],
            "lexpr": left,
            "rexpr": high,
        }
        return {
            "@": "BoolExpr",
            "boolop": "OR_EXPR" if negate else "AND_EXPR",
            "args": [_operator(first), _operator(second)],
        }
    operator = [n for n in name if n != "pg_catalog"]
    # A literal takes its partner's type in a comparison, and in arithmetic beside a
    # non-literal: `qty * 2` is the catalog's `qty * (2)::numeric`.  Two literals keep their
    # casts: `'10'::numeric / 4` is not `'10'::integer / 4`.
    comparison = kind != "AEXPR_OP" or (len(operator) == 1 and operator[0] in _COMPARISONS)
    return {
        "@": "A_Expr",
        "kind": kind,
        "name": operator,
        "lexpr": _normalize(left, comparison or not _is_literal(right)),
        "rexpr": _normalize(right, comparison or not _is_literal(left)),
    }


@cache
def parse_error(text: str, kind: str = "expr") -> str | None:
    """Why PostgreSQL's parser rejects `text` as an expression of this kind, or None.

    Every command judges every expression of the lock before it connects, so this is cheap
    where a lock is repetitive: each text is parsed once, and a plain column name (most index
    keys) not at all."""
    if kind not in ("partition", "bound") and _PLAIN_NAME.match(text) and text not in _keywords():
        return None
    try:
        _parse(text, kind)
    except RecursionError:
        return "nested too deeply to check (split the expression, or chain fewer operators)"
    except Exception as error:  # pglast.parser.ParseError, or not a single expression
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    return None


# A name PostgreSQL reads as a column wherever an expression or an index key may stand, unless
# it is a keyword (`select`, `int`, `between`), which the parser is asked about.
_PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def _keywords() -> frozenset[str]:
    from schemalock.model.names import _keywords as keywords

    return keywords()


def key_value(key: str) -> str:
    """SQL of the value an index key indexes, ordering, NULLS placement, collation and opclass
    aside (`lower(email) DESC` is `lower(email)`): what a unique index compares."""
    from pglast import parse_sql
    from pglast.stream import RawStream

    _parse(key, "index_elem")  # the strict checks
    statement: Any = parse_sql(_TEMPLATES["index_elem"].format(key))[0].stmt
    element = statement.indexParams[0]
    if element.name is not None:
        from schemalock.model.names import quote

        return quote(element.name)
    return f"({RawStream()(element.expr)})"


def columns_named(text: str, kind: str = "expr") -> frozenset[str] | None:
    """The column names an expression (or index key) reads, the last part of each reference
    (`t."B"` is B); None when the text does not parse."""
    try:
        tree = _parse(text, kind)
    except Exception:  # pglast's ParseError, or not one fragment of its kind
        return None
    found: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("@") == "ColumnRef":
                last = node["fields"][-1]
                if last.get("@") == "String":
                    found.add(last["sval"])
            elif node.get("@") == "IndexElem" and isinstance(node.get("name"), str):
                found.add(node["name"])  # an index key that is a plain column
            for value in node.values():
                visit(value)
        elif isinstance(node, tuple | list):
            for item in node:
                visit(item)

    visit(tree)
    return frozenset(found)


def indexed_column(key: str) -> str | None:
    """The column an index key names, ordering, NULLS placement, collation and opclass aside
    (`created_at DESC` is created_at); None for an expression."""
    try:
        element = _parse(key, "index_elem")
    except Exception:  # pglast's ParseError: not a key at all
        return None
    name = element.get("name")
    return name if isinstance(name, str) else None


def _bound(tree: dict[str, Any]) -> dict[str, Any]:
    """A partition bound's comparable form.  Its values take the partition key's types, so a
    literal's cast adds nothing (`'2026-01-01'::date` is `'2026-01-01'`); a list partition's
    `IN (...)` values are a set, in one order whichever order they are written in (FROM and
    TO stay positional: each is a tuple of the key's columns)."""
    normal: dict[str, Any] = {}
    for key, value in tree.items():
        if key in _NOISE:
            continue
        loose = key in ("lowerdatums", "upperdatums", "listdatums")
        normal[key] = _normalize(value, loose)
    if "listdatums" in normal:
        normal["listdatums"] = sorted(
            normal["listdatums"], key=lambda v: json.dumps(v, sort_keys=True)
        )
    return normal
