"""SQL the user writes in the lock (flow invariants, custom checks), parsed by PostgreSQL's own
parser (pglast) and allowed only in a narrow shape before anything runs it.

- An invariant expression is one boolean expression over the tables it names: no statements,
  no parameters, subqueries only where its form needs them (`EXISTS (SELECT ...)` in an
  `implies`), and only functions from an allow-list: nothing with side effects, file or network
  access, sleeping, locking or configuration.  Column references are checked against the lock.
- A custom check is one SELECT (CTEs, joins, grouping and set operations allowed) over the
  lock's tables, under the same function allow-list; no INTO, no FOR UPDATE, no data-modifying
  CTE.
What runs is the parser's own rendering of the accepted tree (`pglast.stream.RawStream`), never
the text as written, so a comment or a stray semicolon cannot change the statement around it.
Everything still runs inside the READ ONLY transaction, under the run's timeouts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from schemalock.model import DEFAULT_SCHEMA, Database, Table

# Functions an expression may call: pure computations on values.  Anything else (pg_sleep,
# pg_read_file, dblink, lo_import, set_config, nextval, advisory locks, ...) is refused.
FUNCTIONS = frozenset(
    {
        # aggregates (in subqueries and custom checks)
        "count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "array_agg",
        "string_agg",
        # time
        "now", "statement_timestamp", "transaction_timestamp", "clock_timestamp",
        "date_trunc", "date_part", "extract", "age", "make_interval", "make_date",
        "make_timestamp", "make_timestamptz", "to_timestamp", "to_date", "to_char", "isfinite",
        "justify_days", "justify_hours", "justify_interval", "date_bin", "timezone",
        # text
        "lower", "upper", "initcap", "length", "char_length", "character_length",
        "octet_length", "btrim", "ltrim", "rtrim", "substr", "substring", "strpos", "position",
        "replace", "translate", "left", "right", "lpad", "rpad", "reverse", "starts_with",
        "concat", "concat_ws", "split_part", "regexp_replace", "regexp_match", "regexp_like",
        "md5",
        # numbers
        "abs", "round", "floor", "ceil", "ceiling", "trunc", "mod", "div", "power", "sqrt",
        "sign",
        # json and arrays
        "jsonb_typeof", "json_typeof", "jsonb_array_length", "json_array_length",
        "jsonb_extract_path", "jsonb_extract_path_text", "json_extract_path",
        "json_extract_path_text", "jsonb_path_exists", "jsonb_path_match", "to_jsonb",
        "to_json", "array_length", "cardinality", "array_position", "array_to_string",
        # nulls and validity
        "num_nulls", "num_nonnulls", "pg_input_is_valid",
    }
)  # fmt: skip

OPERATORS = frozenset(
    {
        "=", "<>", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%", "^", "||",
        "~~", "!~~", "~~*", "!~~*", "~", "~*", "!~", "!~*",
        "->", "->>", "#>", "#>>", "@>", "<@", "?", "?|", "?&", "&&",
    }
)  # fmt: skip

# Parse-tree nodes any expression may contain (values, operators, conditionals, casts).
_EXPRESSION_NODES = frozenset(
    {
        "A_Const", "String", "Integer", "Float", "Boolean", "BitString", "ColumnRef", "A_Expr",
        "BoolExpr", "NullTest", "BooleanTest", "TypeCast", "TypeName", "CaseExpr", "CaseWhen",
        "CoalesceExpr", "MinMaxExpr", "SQLValueFunction", "FuncCall", "A_ArrayExpr",
        "A_Indirection", "A_Indices", "RowExpr", "CollateClause",
    }
)  # fmt: skip
# What a subquery or a custom check adds.
_QUERY_NODES = frozenset({"SubLink", "SelectStmt", "ResTarget", "RangeVar", "Alias"})
_CUSTOM_NODES = frozenset(
    {"JoinExpr", "RangeSubselect", "WithClause", "CommonTableExpr", "SortBy", "A_Star",
     "WindowDef", "GroupingSet"}
)  # fmt: skip
_SELECT_KEYS = frozenset(
    {"targetList", "fromClause", "whereClause", "groupDistinct", "limitOption", "op", "all"}
)
_CUSTOM_SELECT_KEYS = _SELECT_KEYS | {
    "groupClause", "havingClause", "sortClause", "limitCount", "limitOffset", "distinctClause",
    "withClause", "larg", "rarg", "windowClause", "valuesLists",
}  # fmt: skip
_NOISE = frozenset({"location", "stmt_location", "stmt_len", "rexpr_list_start", "rexpr_list_end"})


class Rejected(ValueError):
    """The text is not SQL of the allowed shape; the message says what and where."""


@dataclass
class _Walk:
    """Visits a parse tree (as pglast's dicts), refusing what is not allowed; `_<Node>`
    methods handle the node kinds that need more than their children visited."""

    database: Database
    custom: bool = False  # a whole custom SELECT: more node kinds, columns not checked
    subqueries: bool = False
    scopes: list[dict[str, Table | None]] = field(default_factory=list)
    ctes: set[str] = field(default_factory=set)

    def node(self, node: Any) -> None:
        if isinstance(node, list | tuple):
            for item in node:
                self.node(item)
            return
        if not isinstance(node, dict) or "#" in node:
            return
        kind = node.get("@")
        allowed = _EXPRESSION_NODES | (_QUERY_NODES if self.subqueries or self.custom else set())
        if kind not in allowed | (_CUSTOM_NODES if self.custom else set()):
            raise Rejected(_refusal(kind))
        visit = getattr(self, f"_{kind}", None)
        if visit is not None:
            visit(node)
            return
        for key, value in node.items():
            if key not in _NOISE:
                self.node(value)

    def _FuncCall(self, node: dict[str, Any]) -> None:
        parts = [n["sval"] for n in node["funcname"]]
        name = parts[-1].lower()
        if name not in FUNCTIONS or (len(parts) > 1 and parts[0] != "pg_catalog"):
            raise Rejected(f"function {'.'.join(parts)}() is not allowed in a lock expression")
        for key in ("args", "agg_order", "agg_filter", "over"):
            self.node(node.get(key))

    def _A_Expr(self, node: dict[str, Any]) -> None:
        operator = ".".join(n["sval"] for n in node.get("name", ()))
        if node["kind"]["name"] in ("AEXPR_OP", "AEXPR_OP_ANY", "AEXPR_OP_ALL") and (
            operator not in OPERATORS
        ):
            raise Rejected(f"operator {operator} is not allowed in a lock expression")
        self.node(node.get("lexpr"))
        self.node(node.get("rexpr"))

    def _SubLink(self, node: dict[str, Any]) -> None:
        kind = node["subLinkType"]["name"]
        if kind not in ("EXISTS_SUBLINK", "EXPR_SUBLINK", "ANY_SUBLINK"):
            raise Rejected(f"this kind of subquery ({kind}) is not allowed")
        self.node(node.get("testexpr"))
        self.node(node["subselect"])

    def _SelectStmt(self, node: dict[str, Any]) -> None:
        keys = _CUSTOM_SELECT_KEYS if self.custom else _SELECT_KEYS
        extra = sorted(k for k, v in node.items() if k not in keys | _NOISE | {"@"} and v)
        if extra:
            raise Rejected(f"a lock query may not use {', '.join(extra)}")
        with_clause = node.get("withClause")
        if with_clause:
            self._with(with_clause)
        scope: dict[str, Table | None] = {}
        for item in node.get("fromClause", ()):
            self._from(item, scope)
        self.scopes.append(scope)
        try:
            for key in keys - {"fromClause", "withClause"}:
                self.node(node.get(key))
        finally:
            self.scopes.pop()

    def _with(self, clause: dict[str, Any]) -> None:
        for cte in clause.get("ctes", ()):
            query = cte["ctequery"]
            if query.get("@") != "SelectStmt":
                raise Rejected("a WITH query must be a SELECT")
            self.node(query)
            self.ctes.add(cte["ctename"])

    def _from(self, item: dict[str, Any], scope: dict[str, Table | None]) -> None:
        kind = item.get("@")
        if kind == "RangeVar":
            table = self._table(item)
            alias = item.get("alias", {}).get("aliasname") or item["relname"]
            scope[alias] = table
        elif kind == "JoinExpr" and self.custom:
            self._from(item["larg"], scope)
            self._from(item["rarg"], scope)
            self.scopes.append(scope)
            try:
                self.node(item.get("quals"))
            finally:
                self.scopes.pop()
        elif kind == "RangeSubselect" and self.custom:
            self.node(item["subquery"])
            scope[item["alias"]["aliasname"]] = None
        else:
            raise Rejected(_refusal(kind))

    def _table(self, node: dict[str, Any]) -> Table | None:
        schema, name = node.get("schemaname"), node["relname"]
        if schema is None and name in self.ctes:
            return None
        table = self.database.tables.get((schema or DEFAULT_SCHEMA, name))
        if table is None:
            shown = f"{schema}.{name}" if schema else name
            raise Rejected(f"table {shown} is not in the lock")
        return table

    def _RangeVar(self, node: dict[str, Any]) -> None:
        raise Rejected("a table may only appear in a FROM clause")

    def _ColumnRef(self, node: dict[str, Any]) -> None:
        fields = node["fields"]
        if any(f.get("@") == "A_Star" for f in fields):
            if self.custom:
                return
            raise Rejected("`*` is not allowed in a lock expression")
        if self.custom:
            return
        parts = [f["sval"] for f in fields]
        column, qualifier = parts[-1], parts[-2] if len(parts) > 1 else None
        if not self._known(column, qualifier):
            shown = ".".join(parts)
            raise Rejected(f"column {shown} is not in the lock (tables here: {self._names()})")

    def _known(self, column: str, qualifier: str | None) -> bool:
        for scope in reversed(self.scopes):
            for name, table in scope.items():
                if qualifier is not None and name != qualifier:
                    continue
                if table is None or table.column(column) is not None:
                    return True
        return False

    def _names(self) -> str:
        return ", ".join(sorted({name for scope in self.scopes for name in scope})) or "none"


def _refusal(kind: Any) -> str:
    what = {
        "ParamRef": "parameters ($1)",
        "SubLink": "subqueries (allowed only in an implies' `then` and a reconcile's `where`)",
        "RangeFunction": "functions in FROM",
        "A_Star": "`*`",
    }.get(kind, f"{kind} nodes")
    return f"{what} are not allowed in a lock expression"


def expression(
    text: str,
    database: Database,
    tables: Mapping[str, Table | None],
    subqueries: bool = False,
) -> str:
    """The SQL to run for a boolean expression over `tables` (by the names the expression uses),
    or Rejected."""
    from pglast import parse_sql
    from pglast.parser import ParseError
    from pglast.stream import RawStream

    try:
        statements = parse_sql(f"SELECT {text}")
    except ParseError as error:
        raise Rejected(f"not valid SQL: {error}") from None
    stmt: Any = statements[0].stmt if len(statements) == 1 else None
    if stmt is None or len(stmt.targetList or ()) != 1 or stmt.fromClause or stmt.whereClause:
        raise Rejected("expected one expression")
    value = stmt.targetList[0].val
    walk = _Walk(database, subqueries=subqueries, scopes=[dict(tables)])
    walk.node(value(skip_none=True))
    return str(RawStream()(value))


def select(text: str, database: Database) -> str:
    """The SQL to run for a custom check (one SELECT over the lock's tables), or Rejected."""
    from pglast import parse_sql
    from pglast.parser import ParseError
    from pglast.stream import RawStream

    try:
        statements = parse_sql(text)
    except ParseError as error:
        raise Rejected(f"not valid SQL: {error}") from None
    if len(statements) != 1 or type(statements[0].stmt).__name__ != "SelectStmt":
        raise Rejected("a check holds exactly one SELECT statement")
    stmt: Any = statements[0].stmt
    _Walk(database, custom=True).node(stmt(skip_none=True))
    return str(RawStream()(stmt))
