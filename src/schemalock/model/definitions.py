"""Do two definitions of a view, a function body or a trigger mean the same thing?  Decided on
PostgreSQL's own parse trees (pglast), as `expressions` decides for defaults and checks.

The catalog prints a view back its own way (`pg_get_viewdef`): columns qualified by their table
(`jobs.id`), aliases made explicit (`count(*) AS count`), positional `GROUP BY 1` spelled out,
casts added to literals, parentheses everywhere.  Both sides are parsed and normalized:
- an output column's alias is dropped when it is the name PostgreSQL would give anyway;
- `GROUP BY`/`ORDER BY` positions become the expressions they point at;
- casts and operators as in `expressions` (the same normalization, applied to every node);
- a column, table or function named without its qualifier matches the qualified one of the
  same name (an unqualified reference PostgreSQL accepted can only be that object).
Function bodies: a `sql` body is parsed as its statements (a SQL-standard body, `BEGIN ATOMIC`
or `RETURN`, as PostgreSQL stores it); a `plpgsql` body with pglast's PL/pgSQL parser, line
numbers dropped and each embedded SQL statement normalized; any other language, or a body
either parser rejects, compares as text with comments and whitespace normalized.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from schemalock.model import expressions

if TYPE_CHECKING:
    from schemalock.model import Table


def same_query(left: str, right: str) -> bool:
    """Whether two view queries (SELECT statements) mean the same."""
    if left == right:
        return True
    return _equal(_query_tree(left), _query_tree(right))


def same_body(language: str, left: str, right: str, arguments: str = "") -> bool:
    """Whether two function bodies of `language` mean the same; `arguments` (as
    pg_get_function_arguments prints them) name the variables a PL/pgSQL body may assign."""
    if left == right:
        return True
    return _equal(_body_tree(language, left, arguments), _body_tree(language, right, arguments))


@cache
def _query_tree(text: str) -> Any:
    try:
        from pglast import parse_sql

        statements: Any = parse_sql(text)
        if len(statements) != 1:
            raise ValueError("not one statement")
        return _statement(statements[0].stmt(skip_none=True))
    except Exception:  # pglast's ParseError, or deeper trouble: compare as text
        return plain_text(text)


@cache
def _body_tree(language: str, body: str, arguments: str) -> Any:
    try:
        if language == "sql":
            return _sql_body(body)
        if language == "plpgsql":
            return _plpgsql_body(body, arguments)
    except Exception:  # pglast's ParseError: the body compares as text
        pass
    return plain_text(body)


def _sql_body(body: str) -> Any:
    from pglast import parse_sql

    stripped = body.strip()
    if re.match(r"(?i)(begin\s+atomic|return)\b", stripped):
        # A SQL-standard body: only the statement around it can hold it.
        wrapper: Any = parse_sql(f"CREATE FUNCTION f() RETURNS void LANGUAGE sql {stripped}")
        statement: Any = wrapper[0].stmt
        return _statement(statement.sql_body(skip_none=True))
    statements: Any = parse_sql(body)
    return [_statement(raw.stmt(skip_none=True)) for raw in statements]


def _plpgsql_body(body: str, arguments: str) -> Any:
    from pglast import parse_plpgsql

    tag = "$sl_body$"
    if tag in body:
        raise ValueError("the body holds the quoting tag")
    # The parser checks RETURN against the return type, which is not the body's to say: the
    # first of these that accepts it (the same for both sides of a comparison) will do.
    for signature, returns in (
        ("", "trigger"),
        (arguments, "integer"),
        (arguments, "void"),
        (arguments, "SETOF integer"),
        (arguments, "record"),
    ):
        source = (
            f"CREATE FUNCTION f({signature}) RETURNS {returns} LANGUAGE plpgsql AS {tag}{body}{tag}"
        )
        try:
            return _plpgsql_node(parse_plpgsql(source))
        except Exception:  # pglast's ParseError: try the next return type
            continue
    raise ValueError("not a PL/pgSQL body")


def _plpgsql_node(node: Any) -> Any:
    if isinstance(node, list | tuple):
        return [_plpgsql_node(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {}
    for key, value in node.items():
        if key == "lineno":
            continue
        if key == "query" and isinstance(value, str):
            result[key] = _embedded_sql(value, assignment=node.get("parseMode") in (3, 4, 5))
        else:
            result[key] = _plpgsql_node(value)
    return result


def _embedded_sql(text: str, assignment: bool = False) -> Any:
    """A statement or expression inside PL/pgSQL (`assignment`: `n := n + 1`, the parser's
    modes 3 to 5), normalized when it parses."""
    from pglast import parse_sql

    parts = re.fullmatch(r"\s*([^:=']+?)\s*:?=\s*(.*)", text, flags=re.S)
    if assignment and parts:
        target = plain_text(parts.group(1))
        return [target if '"' in target else target.lower(), _embedded_sql(parts.group(2))]
    for candidate in (text, f"SELECT {text}"):
        try:
            statements: Any = parse_sql(candidate)
            return [_statement(raw.stmt(skip_none=True)) for raw in statements]
        except Exception:  # not SQL on its own (an assignment target, a cursor): try the next
            continue
    return plain_text(text)


def plain_text(text: str) -> str:
    """Text with SQL comments dropped and whitespace runs made one space."""
    without = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    without = re.sub(r"--[^\n]*", " ", without)
    return " ".join(without.split())


def _statement(tree: dict[str, Any]) -> Any:
    return expressions.normalized(_spelled_out(tree))


def _spelled_out(node: Any) -> Any:
    """Implicit aliases dropped and positional GROUP BY / ORDER BY resolved, at every level."""
    if isinstance(node, list | tuple):
        return [_spelled_out(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("@") == "SelectStmt" and node.get("targetList"):
        node = _positions_resolved(node)
    result = {key: _spelled_out(value) for key, value in node.items()}
    named = result.get("@") == "ResTarget" and "name" in result and "val" in result
    if named and result["name"] == _implicit_name(result["val"]):
        del result["name"]
    return result


def _positions_resolved(select: dict[str, Any]) -> dict[str, Any]:
    targets = select["targetList"]

    def resolved(item: Any) -> Any:
        position = _integer(item)
        if position is not None and 0 < position <= len(targets):
            return targets[position - 1].get("val", item)
        return item

    result = dict(select)
    if "groupClause" in select:
        result["groupClause"] = [resolved(item) for item in select["groupClause"]]
    if "sortClause" in select:
        result["sortClause"] = [
            {**sort, "node": resolved(sort.get("node"))} if isinstance(sort, dict) else sort
            for sort in select["sortClause"]
        ]
    return result


def _integer(node: Any) -> int | None:
    if isinstance(node, dict) and node.get("@") == "A_Const":
        value = node.get("val", {})
        if value.get("@") == "Integer":
            return int(value.get("ival", 0))
    return None


_NAMED_FOR = {
    "CaseExpr": "case",
    "A_ArrayExpr": "array",
    "CoalesceExpr": "coalesce",
    "RowExpr": "row",
    "GroupingFunc": "grouping",
    "NullIfExpr": "nullif",
}


def _implicit_name(node: Any) -> str:
    """The name PostgreSQL gives an output column written without `AS` (FigureColname)."""
    if not isinstance(node, dict):
        return "?column?"
    kind = node.get("@")
    if kind == "ColumnRef":
        last = node["fields"][-1]
        return str(last["sval"]) if last.get("@") == "String" else "?column?"
    if kind == "FuncCall":
        return str(node["funcname"][-1]["sval"])
    if kind == "TypeCast":
        inner = _implicit_name(node.get("arg"))
        return inner if inner != "?column?" else str(node["typeName"]["names"][-1]["sval"])
    if kind == "MinMaxExpr":
        return "greatest" if node["op"]["name"] == "IS_GREATEST" else "least"
    if kind == "SubLink":
        link = node["subLinkType"]["name"]
        if link == "EXISTS_SUBLINK":
            return "exists"
        if link == "ARRAY_SUBLINK":
            return "array"
        if link == "EXPR_SUBLINK":
            targets = node["subselect"].get("targetList") or [{}]
            return str(targets[0].get("name") or _implicit_name(targets[0].get("val")))
    if kind == "SQLValueFunction":
        return str(node["op"]["name"]).removeprefix("SVFOP_").lower()
    return _NAMED_FOR.get(str(kind), "?column?")


def _equal(left: Any, right: Any) -> bool:
    """Normalized trees equal, a name written without its qualifier matching the qualified
    one of the same name."""
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_equal, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        kind = left.get("@")
        if kind != right.get("@"):
            return False
        if kind == "ColumnRef":
            return _same_reference(left.get("fields", []), right.get("fields", []))
        if kind == "RangeVar":
            rest = ("schemaname", "location")
            if not _same_reference(
                _parts(left, "schemaname", "relname"), _parts(right, "schemaname", "relname")
            ):
                return False
            left, right = _without(left, rest), _without(right, rest)
        elif kind == "TypeName":
            if not _same_reference(left.get("names", []), right.get("names", [])):
                return False
            left, right = _without(left, ("names",)), _without(right, ("names",))
        elif kind == "FuncCall":
            if not _same_reference(left.get("funcname", []), right.get("funcname", [])):
                return False
            left, right = _without(left, ("funcname",)), _without(right, ("funcname",))
        keys = (left.keys() | right.keys()) - {"relname"}
        return all(_equal(left.get(key), right.get(key)) for key in keys)
    return bool(left == right)


def _parts(node: dict[str, Any], *keys: str) -> list[Any]:
    return [node[key] for key in keys if node.get(key) is not None]


def _without(node: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in node.items() if key not in keys}


def _same_reference(left: list[Any], right: list[Any]) -> bool:
    """`id` is `j.id`, `f()` is `app.f()`, `jobs` is `public.jobs`: the shorter name is the
    longer one's tail."""
    shorter, longer = sorted((list(left), list(right)), key=len)
    return bool(shorter) and longer[len(longer) - len(shorter) :] == shorter


def trigger_clauses(definition: str) -> tuple[tuple[str, ...], str | None]:
    """The arguments and WHEN condition of a trigger, from CREATE TRIGGER as
    pg_get_triggerdef() prints it."""
    from pglast import parse_sql
    from pglast.stream import RawStream

    statement: Any = parse_sql(definition)[0].stmt
    arguments = tuple(str(argument.sval) for argument in statement.args or ())
    if statement.whenClause is None:
        return arguments, None
    return arguments, _when_text(definition) or str(RawStream()(statement.whenClause))


def _when_text(definition: str) -> str | None:
    """The WHEN condition as the catalog printed it (`new.status = 'done'::job_status`), its
    outer parentheses dropped."""
    found = re.search(r" FOR EACH (?:ROW|STATEMENT) WHEN \(", definition)
    if found is None:
        return None
    condition = _parenthesized(definition, found.end() - 1)
    while (
        condition is not None
        and condition.startswith("(")
        and _parenthesized(condition, 0) == condition[1:-1]
    ):
        condition = condition[1:-1]
    return condition


def _parenthesized(text: str, opening: int) -> str | None:
    """The text inside the parenthesis at `opening` and its match, quotes taken whole."""
    depth, index, quote = 0, opening, ""
    while index < len(text):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return text[opening + 1 : index]
        index += 1
    return None


def same_arguments(left: str, right: str) -> bool:
    """Whether two argument lists (`a integer, b text DEFAULT 'x'::text`) are the same names,
    modes, types and defaults."""
    return left == right or _equal(
        _signature_tree(left, "arguments"), _signature_tree(right, "arguments")
    )


def same_returns(left: str, right: str) -> bool:
    """Whether two return types (`SETOF jobs`, `TABLE(id uuid, n bigint)`) are the same."""
    if left == right:
        return True
    if _returns_set(left) != _returns_set(right):  # a flag the normalized tree leaves out
        return False
    return _equal(_signature_tree(right, "returns"), _signature_tree(left, "returns"))


def _returns_set(text: str) -> bool:
    return bool(re.match(r"(?i)\s*(setof|table)\b", text))


@cache
def _signature_tree(text: str, part: str) -> Any:
    from pglast import parse_sql

    source = (
        f"CREATE FUNCTION f({text}) RETURNS void LANGUAGE sql AS ''"
        if part == "arguments"
        else f"CREATE FUNCTION f() RETURNS {text} LANGUAGE sql AS ''"
    )
    try:
        statements: Any = parse_sql(source)
        tree = statements[0].stmt(skip_none=True)
    except Exception:  # pglast's ParseError: compare as text
        return plain_text(text)
    return expressions.normalized(
        {key: tree.get(key) for key in ("parameters", "returnType") if key in tree}
    )


def relations_read(query: str, default_schema: str = "public") -> set[tuple[str, str]] | None:
    """The (schema, name) of every relation a query names (unqualified: in `default_schema`),
    from its parse tree; None when it does not parse."""
    from pglast import ast, parse_sql
    from pglast.visitors import Visitor

    found: set[tuple[str, str]] = set()

    class _Relations(Visitor):
        def visit_RangeVar(self, ancestors: Any, node: ast.RangeVar) -> None:
            found.add((node.schemaname or default_schema, str(node.relname)))

    try:
        _Relations()(parse_sql(query))
    except Exception:  # pglast's ParseError
        return None
    return found


def converted(table: Table, column: str, new_type: str) -> str:
    """The query standing for `table` once `column` has `new_type`: its columns, that one a
    NULL of the new type, so PostgreSQL can type what reads it without reading a row."""
    from schemalock.model.names import quote

    listed = ", ".join(
        f"CAST(NULL AS {new_type}) AS {quote(c.name)}" if c.name == column else quote(c.name)
        for c in table.columns
    )
    return f"SELECT {listed} FROM {quote(table.schema)}.{quote(table.name)}"


def over_shadows(
    query: str, shadows: Mapping[tuple[str, str], str], default_schema: str = "public"
) -> str | None:
    """`query` with each relation of `shadows` it names replaced by a subquery of the query
    standing for it (see `converted`; a view over it stands for itself as it will read).  None
    when the query does not parse or names none of them."""
    from pglast import ast, parse_sql
    from pglast.stream import RawStream
    from pglast.visitors import Visitor

    replaced = []

    class _Shadowed(Visitor):
        def visit_RangeVar(self, ancestors: Any, node: ast.RangeVar) -> Any:
            key = (node.schemaname or default_schema, str(node.relname))
            if key not in shadows:
                return None
            replaced.append(node)
            alias = node.alias or ast.Alias(aliasname=key[1])
            subquery = parse_sql(shadows[key])[0].stmt
            return ast.RangeSubselect(lateral=False, subquery=subquery, alias=alias)

    try:
        tree = parse_sql(query)
        _Shadowed()(tree)
        return str(RawStream()(tree)) if replaced else None
    except Exception:  # pglast's ParseError: no answer from this query
        return None
