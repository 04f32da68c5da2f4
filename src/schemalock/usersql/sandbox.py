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
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
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
        "md5", "like_escape", "similar_to_escape",
        # numbers
        "abs", "round", "floor", "ceil", "ceiling", "trunc", "mod", "div", "power", "sqrt",
        "sign",
        # json and arrays
        "jsonb_typeof", "json_typeof", "jsonb_array_length", "json_array_length",
        "jsonb_extract_path", "jsonb_extract_path_text", "json_extract_path",
        "json_extract_path_text", "jsonb_path_exists", "jsonb_path_match", "to_jsonb",
        "to_json", "array_length", "cardinality", "array_position", "array_to_string",
        # nulls and validity (pg_input_is_valid only with a literal, allowed type)
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

# Types a value may be cast to (casting runs the type's input function, and a cast to a domain
# runs its CHECK constraints, which may call anything): pg_catalog's value types, by their
# internal names as the parser gives them, and the lock's enums.  Not reg* (catalog lookups an
# expression over the lock's tables never needs), not xml.
TYPES = frozenset(
    {
        "bool", "int2", "int4", "int8", "float4", "float8", "numeric", "money", "text",
        "varchar", "bpchar", "date", "time", "timetz", "timestamp", "timestamptz", "interval",
        "uuid", "json", "jsonb", "bytea", "inet", "cidr", "macaddr", "macaddr8", "bit", "varbit",
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
_QUERY_NODES = frozenset({"SubLink", "SelectStmt"})
_CUSTOM_NODES = frozenset({"SortBy", "WindowDef", "GroupingSet"})
_SELECT_KEYS = frozenset(
    {"targetList", "fromClause", "whereClause", "groupDistinct", "limitOption", "op", "all"}
)
_CUSTOM_SELECT_KEYS = _SELECT_KEYS | {
    "groupClause", "havingClause", "sortClause", "limitCount", "limitOffset", "distinctClause",
    "withClause", "larg", "rarg", "windowClause", "valuesLists",
}  # fmt: skip
_CLAUSES = {
    "intoClause": "INTO", "lockingClause": "FOR UPDATE/SHARE", "limitCount": "LIMIT",
    "limitOffset": "OFFSET", "sortClause": "ORDER BY", "groupClause": "GROUP BY",
    "havingClause": "HAVING", "windowClause": "WINDOW", "distinctClause": "DISTINCT",
    "withClause": "WITH", "valuesLists": "VALUES", "larg": "UNION/INTERSECT/EXCEPT",
    "fromClause": "FROM", "whereClause": "WHERE",
}  # fmt: skip
# Positions and display hints: not part of what a tree means.
_NOISE = frozenset(
    {
        "location", "stmt_location", "stmt_len", "rexpr_list_start", "rexpr_list_end",
        "list_start", "list_end", "funcformat",
    }
)  # fmt: skip

Origin = tuple[str, str, str]  # a lock column: schema, table, column


class Rejected(ValueError):
    """The text is not SQL of the allowed shape; the message says what and where."""


@dataclass(frozen=True)
class Accepted:
    """SQL to run, and the lock objects it names: each must exist as such in the database, or
    the name could resolve to something else (a function called on the row, a domain)."""

    sql: str
    columns: frozenset[Origin] = frozenset()
    enums: frozenset[tuple[str, str]] = frozenset()


@dataclass
class _Relation:
    """The columns a FROM item or a CTE offers, in order (None: a name this module does not
    work out, which can then not be referenced), with the lock column each one is, if any.
    `exact`: the list is the server's own, not a `*` over a table whose live columns may differ."""

    columns: list[tuple[str | None, Origin | None]]
    exact: bool = True

    def find(self, name: str) -> tuple[bool, Origin | None]:
        for column, origin in self.columns:
            if column == name:
                return True, origin
        return False, None


@dataclass
class _Source:
    """A FROM item: the name it is referenced by (None: an unaliased subquery) and its
    relation (None: a CTE of a WITH RECURSIVE not worked out yet)."""

    name: str | None
    relation: _Relation | None


@dataclass
class _Walk:
    """Visits a parse tree (as pglast's dicts), refusing what is not allowed and rewriting names
    to their qualified form; `_<Node>` methods handle the node kinds that need more than their
    children visited, and return the node to keep in the tree."""

    database: Database
    custom: bool = False  # a whole custom SELECT: more node kinds
    subqueries: bool = False
    levels: list[list[_Source]] = field(default_factory=list)  # FROM items, per query level
    ctes: list[dict[str, _Relation | None]] = field(default_factory=list)  # per WITH in scope
    columns: set[Origin] = field(default_factory=set)
    enums: set[tuple[str, str]] = field(default_factory=set)

    def node(self, node: Any) -> Any:
        if isinstance(node, list | tuple):
            return tuple(self.node(item) for item in node)
        if not isinstance(node, dict) or "#" in node:
            return node
        kind = node.get("@")
        if kind not in self._allowed():
            raise Rejected(_refusal(kind))
        visit: Callable[[dict[str, Any]], Any] | None = getattr(self, f"_{kind}", None)
        if visit is not None:
            return visit(node)
        self._children(node)
        return node

    def _allowed(self) -> frozenset[str]:
        allowed = _EXPRESSION_NODES
        if self.subqueries or self.custom:
            allowed |= _QUERY_NODES
        return allowed | _CUSTOM_NODES if self.custom else allowed

    def _children(self, node: dict[str, Any], keys: tuple[str, ...] | None = None) -> None:
        for key in keys if keys is not None else tuple(node):
            if key in node and key not in _NOISE and key != "@":
                node[key] = self.node(node[key])

    # -- functions, operators, types ---------------------------------------------------------

    def _FuncCall(self, node: dict[str, Any]) -> dict[str, Any]:
        parts = _strings(node["funcname"])
        if not _catalog_name(parts) or parts[-1] not in FUNCTIONS:
            raise Rejected(f"function {'.'.join(parts)}() is not allowed in a lock expression")
        node["funcname"] = _names("pg_catalog", parts[-1])
        self._children(node, ("args", "agg_order", "agg_filter", "over"))
        if parts[-1] == "pg_input_is_valid":
            self._input_type(node)
        return node

    def _input_type(self, node: dict[str, Any]) -> None:
        """pg_input_is_valid(text, type) runs the named type's input function: the type must be
        a literal the cast rules allow, and is passed qualified."""
        from pglast import ast
        from pglast.stream import RawStream

        args = node.get("args", ())
        spelled = _string_constant(args[1]) if len(args) == 2 else None
        if spelled is None:
            raise Rejected("pg_input_is_valid() takes its type as a string literal")
        try:
            cast = _one_expression(f"CAST(NULL AS {spelled})")
        except Rejected:
            cast = None
        if cast is None or cast.get("@") != "TypeCast":
            raise Rejected(f"pg_input_is_valid(): {spelled!r} is not a type name")
        type_name = self._TypeName(cast["typeName"])
        args[1]["val"]["sval"] = str(RawStream()(ast.TypeName(type_name)))

    def _operator(self, names: Any) -> tuple[dict[str, Any], ...]:
        parts = _strings(names)
        if not _catalog_name(parts) or parts[-1] not in OPERATORS:
            raise Rejected(f"operator {'.'.join(parts)} is not allowed in a lock expression")
        return _names("pg_catalog", parts[-1])

    def _A_Expr(self, node: dict[str, Any]) -> dict[str, Any]:
        self._children(node, ("lexpr", "rexpr"))
        kind = node["kind"]["name"]
        expand = _EXPANSIONS.get(kind)
        if expand is None:
            raise Rejected(f"{kind} expressions are not allowed in a lock expression")
        if kind not in _BETWEEN:  # BETWEEN's operators are fixed: >=, <=, <, >
            node["name"] = self._operator(node["name"])
        return expand(node)

    def _CaseExpr(self, node: dict[str, Any]) -> dict[str, Any]:
        self._children(node, ("arg", "args", "defresult"))
        subject = node.pop("arg", None)
        if subject is not None:  # CASE x WHEN v: PostgreSQL compares x = v
            for when in node["args"]:
                when["expr"] = _operation("=", subject, when["expr"])
        return node

    def _TypeName(self, node: dict[str, Any]) -> dict[str, Any]:
        if node.get("setof") or node.get("pct_type"):
            raise Rejected("SETOF and %TYPE are not allowed in a lock expression")
        if any(m.get("@") != "A_Const" for m in node.get("typmods", ())):
            raise Rejected("a type modifier must be a constant")
        parts = _strings(node["names"])
        if _catalog_name(parts) and parts[-1] in TYPES:
            node["names"] = _names("pg_catalog", parts[-1])
            return node
        key = (parts[0], parts[1]) if len(parts) == 2 else (DEFAULT_SCHEMA, parts[0])
        if len(parts) > 2 or key not in self.database.enums:
            raise Rejected(
                f"type {'.'.join(parts)} is not allowed in a lock expression "
                "(pg_catalog's value types and the lock's enums only)"
            )
        self.enums.add(key)
        node["names"] = _names(*key)
        return node

    def _A_Indirection(self, node: dict[str, Any]) -> dict[str, Any]:
        if any(step.get("@") != "A_Indices" for step in node["indirection"]):
            raise Rejected(
                "field selection `(expression).name` is not allowed in a lock expression "
                "(PostgreSQL may call a function of that name on the value)"
            )
        self._children(node)
        return node

    def _SortBy(self, node: dict[str, Any]) -> dict[str, Any]:
        if node.get("useOp"):
            raise Rejected("ORDER BY ... USING an operator is not allowed")
        self._children(node, ("node",))
        return node

    # -- column references -------------------------------------------------------------------

    def _ColumnRef(self, node: dict[str, Any]) -> dict[str, Any]:
        fields = node["fields"]
        names = _strings(f for f in fields if f.get("@") == "String")
        if fields[-1].get("@") == "A_Star":
            if not self.custom:
                raise Rejected("`*` is not allowed in a lock expression")
            if len(names) > 1:
                raise Rejected(f"{'.'.join(names)}.*: write alias.* or *")
            if names:
                self._source(names[0])
        elif len(names) == 2:
            self._qualified(*names)
        elif len(names) == 1:
            self._unqualified(names[0])
        else:
            raise Rejected(
                f"{'.'.join(names)}: name a column as alias.column "
                "(a longer name may select a field or call a function)"
            )
        return node

    def _source(self, name: str) -> _Source:
        """The FROM item `name` refers to: the nearest query level that has one wins."""
        for level in reversed(self.levels):
            for source in level:
                if source.name == name:
                    return source
        raise Rejected(f"{name} is not a table here (tables here: {self._names()})")

    def _qualified(self, qualifier: str, column: str) -> None:
        source = self._source(qualifier)
        if source.relation is None:
            raise Rejected(f"the columns of {qualifier} are not known where {column} is named")
        found, origin = source.relation.find(column)
        if not found:
            if source.relation.exact:
                raise Rejected(f"{qualifier} has no column {column}")
            raise Rejected(f"column {qualifier}.{column} is not in the lock")
        if origin is not None:
            self.columns.add(origin)

    def _unqualified(self, column: str) -> None:
        for level in reversed(self.levels):
            for source in level:
                found, origin = source.relation.find(column) if source.relation else (False, None)
                if found:
                    if origin is not None:
                        self.columns.add(origin)
                    return
        if any(source.name == column for level in self.levels for source in level):
            raise Rejected(
                f"{column} names a whole row, which reads every live column, the lock's or "
                "not: name the columns"
            )
        raise Rejected(f"column {column} is not in the lock (tables here: {self._names()})")

    def _names(self) -> str:
        named = {source.name for level in self.levels for source in level if source.name}
        return ", ".join(sorted(named)) or "none"

    # -- queries -------------------------------------------------------------------------------

    def _SubLink(self, node: dict[str, Any]) -> dict[str, Any]:
        kind = node["subLinkType"]["name"]
        if kind not in ("EXISTS_SUBLINK", "EXPR_SUBLINK", "ANY_SUBLINK"):
            raise Rejected(f"this kind of subquery ({kind}) is not allowed")
        if kind == "ANY_SUBLINK":  # `x IN (SELECT ...)` compares with `=`
            node["operName"] = self._operator(node.get("operName") or _names("="))
        self._children(node, ("testexpr",))
        self._select(node["subselect"])
        return node

    def _SelectStmt(self, node: dict[str, Any]) -> dict[str, Any]:
        self._select(node)
        return node

    def _select(
        self, node: dict[str, Any], on_left: Callable[[_Relation], None] | None = None
    ) -> _Relation:
        """Check a SELECT and return its output columns; `on_left` receives those of a set
        operation's first query before the others are checked (a recursive CTE's own columns)."""
        keys = _CUSTOM_SELECT_KEYS if self.custom else _SELECT_KEYS
        allowed = keys | _NOISE | {"@"}
        extra = sorted(_CLAUSES.get(k, k) for k, v in node.items() if v and k not in allowed)
        if extra:
            raise Rejected(f"a lock query may not use {', '.join(extra)}")
        scoped = self._with(node.get("withClause"))
        try:
            if node["op"]["name"] != "SETOP_NONE":
                return self._set_operation(node, on_left)
            if node.get("valuesLists"):
                return self._values(node)
            return self._simple(node)
        finally:
            if scoped:
                self.ctes.pop()

    def _with(self, clause: dict[str, Any] | None) -> bool:
        """Put a WITH's CTEs in scope, each visible to the later ones (with RECURSIVE, to all),
        for the rest of its query only."""
        if not clause:
            return False
        ctes = clause.get("ctes", ())
        recursive = bool(clause.get("recursive"))
        frame: dict[str, _Relation | None] = {}
        if recursive:
            frame.update((cte["ctename"], None) for cte in ctes)
        self.ctes.append(frame)
        for cte in ctes:
            frame[cte["ctename"]] = self._cte(cte, frame if recursive else None)
        return True

    def _cte(self, cte: dict[str, Any], frame: dict[str, _Relation | None] | None) -> _Relation:
        if cte.get("search_clause") or cte.get("cycle_clause"):
            raise Rejected("SEARCH and CYCLE clauses are not allowed")
        query, name = cte["ctequery"], cte["ctename"]
        if query.get("@") != "SelectStmt":
            raise Rejected("a WITH query must be a SELECT")
        aliases = _strings(cte.get("aliascolnames", ()))
        if frame is not None and aliases:
            frame[name] = _Relation([(alias, None) for alias in aliases])

        def register(left: _Relation) -> None:
            if frame is not None and not aliases:
                frame[name] = left

        return _renamed(self._select(query, register), aliases, name)

    def _set_operation(
        self, node: dict[str, Any], on_left: Callable[[_Relation], None] | None
    ) -> _Relation:
        left = self._select(node["larg"])
        if on_left is not None:
            on_left(left)
        self._select(node["rarg"])
        # The ORDER BY and LIMIT of a UNION see its output columns only.
        self.levels.append([_Source(None, left)])
        try:
            self._children(node, ("sortClause", "limitCount", "limitOffset"))
        finally:
            self.levels.pop()
        return left

    def _values(self, node: dict[str, Any]) -> _Relation:
        self.levels.append([])
        try:
            self._children(node, ("valuesLists",))
        finally:
            self.levels.pop()
        width = len(node["valuesLists"][0])
        return _Relation([(f"column{n}", None) for n in range(1, width + 1)])

    def _simple(self, node: dict[str, Any]) -> _Relation:
        sources: list[_Source] = []
        for item in node.get("fromClause", ()):
            sources += self._from(item, list(sources))
        self.levels.append(sources)
        try:
            for target in node.get("targetList", ()):
                if target.get("indirection"):
                    raise Rejected("a subscripted or field output column is not allowed")
                target["val"] = self.node(target["val"])
            outputs = self._outputs(node.get("targetList", ()))
            self._children(node, ("whereClause", "havingClause", "windowClause"))
            self._children(node, ("limitCount", "limitOffset"))
            # ORDER BY, GROUP BY and DISTINCT ON may also name output columns.
            sources.append(_Source(None, outputs))
            self._children(node, ("groupClause", "sortClause", "distinctClause"))
        finally:
            self.levels.pop()
        return outputs

    def _outputs(self, targets: tuple[dict[str, Any], ...]) -> _Relation:
        outputs = _Relation([])
        for target in targets:
            value = target["val"]
            if value.get("@") == "ColumnRef" and value["fields"][-1].get("@") == "A_Star":
                for relation in self._star(value["fields"]):
                    outputs.columns += relation.columns
                    outputs.exact = outputs.exact and relation.exact
            else:
                outputs.columns.append((target.get("name") or _column_name(value)[0], None))
        return outputs

    def _star(self, fields: tuple[dict[str, Any], ...]) -> Iterator[_Relation]:
        """The relations a `*` or `alias.*` expands."""
        sources = [self._source(fields[0]["sval"])] if len(fields) == 2 else self.levels[-1]
        for source in sources:
            yield source.relation if source.relation is not None else _Relation([], exact=False)

    def _from(self, item: dict[str, Any], before: list[_Source]) -> list[_Source]:
        """The FROM items `item` adds; `before` are those a LATERAL subquery in it may name."""
        kind = item.get("@")
        if kind == "RangeVar":
            return [self._range_var(item)]
        if kind == "RangeSubselect" and self.custom:
            return [self._subquery(item, before)]
        if kind == "JoinExpr" and self.custom:
            return self._join(item, before)
        raise Rejected(_refusal(kind))

    def _range_var(self, node: dict[str, Any]) -> _Source:
        schema, name = node.get("schemaname"), node["relname"]
        if node.get("catalogname"):
            raise Rejected(f"{node['catalogname']}.{schema}.{name}: name tables as schema.table")
        alias = node.get("alias")
        if alias and alias.get("colnames"):
            raise Rejected(f"column aliases on table {name} are not allowed")
        referenced_as = alias["aliasname"] if alias else name
        if schema is None:
            for frame in reversed(self.ctes):
                if name in frame:
                    return _Source(referenced_as, frame[name])
        table = self.database.tables.get((schema or DEFAULT_SCHEMA, name))
        if table is None:
            shown = f"{schema}.{name}" if schema else name
            raise Rejected(f"table {shown} is not in the lock")
        node["schemaname"] = table.schema  # what runs reads the table the lock describes
        return _Source(referenced_as, _table_relation(table))

    def _subquery(self, node: dict[str, Any], before: list[_Source]) -> _Source:
        lateral = bool(node.get("lateral"))
        if lateral:
            self.levels.append(before)
        try:
            relation = self._select(node["subquery"])
        finally:
            if lateral:
                self.levels.pop()
        alias = node.get("alias")
        if alias is None:  # PostgreSQL 16 and later: a subquery without a name
            return _Source(None, relation)
        name = alias["aliasname"]
        return _Source(name, _renamed(relation, _strings(alias.get("colnames", ())), name))

    def _join(self, node: dict[str, Any], before: list[_Source]) -> list[_Source]:
        if node.get("isNatural") or node.get("usingClause"):
            raise Rejected("NATURAL and USING joins are not allowed: write ON a.x = b.x")
        if node.get("alias") or node.get("join_using_alias"):
            raise Rejected("an alias on a join is not allowed: name its tables instead")
        left = self._from(node["larg"], before)
        right = self._from(node["rarg"], before + left)
        self.levels.append(left + right)  # ON sees the join's own sides
        try:
            self._children(node, ("quals",))
        finally:
            self.levels.pop()
        return left + right


def _expand_in(node: dict[str, Any]) -> dict[str, Any]:
    """`x IN (a, b)`: x = a OR x = b; NOT IN: x <> a AND x <> b (what PostgreSQL computes)."""
    operator = node["name"][-1]["sval"]
    tests = [_operation(operator, node["lexpr"], item) for item in node["rexpr"]]
    return _bool("OR_EXPR" if operator == "=" else "AND_EXPR", tests)


def _expand_between(node: dict[str, Any]) -> dict[str, Any]:
    """BETWEEN and its variants as PostgreSQL's own analysis writes them."""
    value, (low, high) = node["lexpr"], node["rexpr"]
    kind = node["kind"]["name"]

    def within(a: Any, b: Any) -> dict[str, Any]:
        return _bool("AND_EXPR", [_operation(">=", value, a), _operation("<=", value, b)])

    def outside(a: Any, b: Any) -> dict[str, Any]:
        return _bool("OR_EXPR", [_operation("<", value, a), _operation(">", value, b)])

    if kind == "AEXPR_BETWEEN":
        return within(low, high)
    if kind == "AEXPR_NOT_BETWEEN":
        return outside(low, high)
    if kind == "AEXPR_BETWEEN_SYM":
        return _bool("OR_EXPR", [within(low, high), within(high, low)])
    return _bool("AND_EXPR", [outside(low, high), outside(high, low)])


def _expand_distinct(node: dict[str, Any]) -> dict[str, Any]:
    """`a IS [NOT] DISTINCT FROM b` through `=`: (a = b) IS NOT TRUE AND not both NULL, or
    (a = b) IS TRUE OR both NULL.  num_nulls() counts NULL values as the construct does (a row
    of NULL fields is not NULL); row constructors compare field by field there, so are refused."""
    left, right = node["lexpr"], node["rexpr"]
    if "RowExpr" in (left.get("@"), right.get("@")):
        raise Rejected("IS DISTINCT FROM between ROW(...) values is not allowed")
    equal = _operation("=", left, right)
    nulls = {
        "@": "FuncCall",
        "funcname": _names("pg_catalog", "num_nulls"),
        "args": (left, right),
        "funcformat": _enum("CoercionForm", "COERCE_EXPLICIT_CALL"),
    }
    two = {"@": "A_Const", "val": {"@": "Integer", "ival": 2}}
    if node["kind"]["name"] == "AEXPR_DISTINCT":
        return _bool("AND_EXPR", [_test(equal, "IS_NOT_TRUE"), _operation("<>", nulls, two)])
    return _bool("OR_EXPR", [_test(equal, "IS_TRUE"), _operation("=", nulls, two)])


def _expand_nullif(node: dict[str, Any]) -> dict[str, Any]:
    """NULLIF(a, b): CASE WHEN a = b THEN NULL ELSE a END, as documented."""
    when = {
        "@": "CaseWhen",
        "expr": _operation("=", node["lexpr"], node["rexpr"]),
        "result": {"@": "A_Const", "isnull": True},
    }
    return {"@": "CaseExpr", "args": (when,), "defresult": node["lexpr"]}


def _as_operator(node: dict[str, Any]) -> dict[str, Any]:
    """LIKE, ILIKE and SIMILAR TO are their operators (~~, ~~*, ~): written as such."""
    node["kind"] = _enum("A_Expr_Kind", "AEXPR_OP")
    return node


_BETWEEN = frozenset(
    {"AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN", "AEXPR_BETWEEN_SYM", "AEXPR_NOT_BETWEEN_SYM"}
)
_EXPANSIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
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


def _enum(kind: str, name: str) -> dict[str, Any]:
    from pglast import enums

    return {"#": kind, "name": name, "value": getattr(enums, kind)[name].value}


def _names(*parts: str) -> tuple[dict[str, Any], ...]:
    return tuple({"@": "String", "sval": part} for part in parts)


def _strings(nodes: Any) -> list[str]:
    return [str(n["sval"]) for n in nodes]


def _catalog_name(parts: list[str]) -> bool:
    """Unqualified, or qualified by exactly pg_catalog."""
    return len(parts) == 1 or (len(parts) == 2 and parts[0] == "pg_catalog")


def _operation(operator: str, left: Any, right: Any) -> dict[str, Any]:
    return {
        "@": "A_Expr",
        "kind": _enum("A_Expr_Kind", "AEXPR_OP"),
        "name": _names("pg_catalog", operator),
        "lexpr": left,
        "rexpr": right,
    }


def _bool(operator: str, args: list[dict[str, Any]]) -> dict[str, Any]:
    if len(args) == 1:
        return args[0]
    return {"@": "BoolExpr", "boolop": _enum("BoolExprType", operator), "args": tuple(args)}


def _test(value: Any, test: str) -> dict[str, Any]:
    return {"@": "BooleanTest", "arg": value, "booltesttype": _enum("BoolTestType", test)}


def _string_constant(node: Any) -> str | None:
    if isinstance(node, dict) and node.get("@") == "A_Const":
        value = node.get("val") or {}
        if value.get("@") == "String":
            return str(value["sval"])
    return None


def _column_name(value: dict[str, Any]) -> tuple[str | None, int]:
    """The name PostgreSQL gives an unnamed output column (FigureColname), with its strength,
    for the forms where that is certain; (None, -1) otherwise, so the column cannot be named."""
    kind = value.get("@")
    if kind == "ColumnRef" and value["fields"][-1].get("@") == "String":
        return str(value["fields"][-1]["sval"]), 2
    if kind == "FuncCall":
        return str(value["funcname"][-1]["sval"]), 2
    if kind == "A_Const":
        return None, 0
    if kind == "TypeCast":
        name, strength = _column_name(value["arg"])
        if strength in (0, 1):
            return str(value["typeName"]["names"][-1]["sval"]), 1
        return name, strength
    return None, -1


def _table_relation(table: Table) -> _Relation:
    origins = [(c.name, (table.schema, table.name, c.name)) for c in table.columns]
    return _Relation(list(origins), exact=False)  # the live table may have other columns


def _renamed(relation: _Relation, aliases: list[str], name: str) -> _Relation:
    """A relation whose first columns are renamed (`AS x(a, b)`)."""
    if not aliases:
        return relation
    if not relation.exact:
        raise Rejected(f"column aliases on {name} over `*` are not allowed: name the columns")
    if len(aliases) > len(relation.columns):
        raise Rejected(f"{name} has {len(relation.columns)} columns but {len(aliases)} aliases")
    renamed = [(alias, None) for alias in aliases]
    return _Relation(renamed + relation.columns[len(aliases) :])


def _refusal(kind: Any) -> str:
    what = {
        "ParamRef": "parameters ($1)",
        "SubLink": "subqueries (allowed only in an implies' `then` and a reconcile's `where`)",
        "RangeFunction": "functions in FROM",
        "A_Star": "`*`",
        "JoinExpr": "joins",
        "RangeSubselect": "subqueries in FROM",
    }.get(kind, f"{kind} nodes")
    return f"{what} are not allowed in a lock expression"


def _same(left: Any, right: Any) -> bool:
    """Whether two trees mean the same, positions, display hints and default values aside;
    compared node by node, never copied (an expression may be hundreds of thousands of nodes)."""
    left, right = _enum_name(left), _enum_name(right)
    if isinstance(left, dict) or isinstance(right, dict):
        if not (isinstance(left, dict) and isinstance(right, dict)):
            return False
        mine, theirs = _meaningful(left), _meaningful(right)
        return mine.keys() == theirs.keys() and all(_same(mine[k], theirs[k]) for k in mine)
    if isinstance(left, list | tuple) or isinstance(right, list | tuple):
        if not (isinstance(left, list | tuple) and isinstance(right, list | tuple)):
            return False
        return len(left) == len(right) and all(map(_same, left, right))
    return bool(left == right)


def _enum_name(node: Any) -> Any:
    return node["name"] if isinstance(node, dict) and "#" in node else node


def _meaningful(node: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value
        for key, value in node.items()
        if key not in _NOISE and value not in (None, False, 0, "", ())
    }


def _render(tree: dict[str, Any], reparse: Callable[[str], dict[str, Any]]) -> str:
    """pglast's rendering of `tree`, parsed back to the same tree: what runs means exactly what
    was checked (no precedence lost to parentheses, nothing left outside the expression)."""
    from pglast import ast
    from pglast.stream import RawStream

    node = getattr(ast, tree["@"])(tree)
    text = str(RawStream()(node))
    _forget_ancestors(node)
    del node
    try:
        same = _same(reparse(text), tree)
    except Rejected:
        same = False
    if not same:
        raise Rejected(f"could not render the expression faithfully (got {text}); rewrite it")
    return text


def _forget_ancestors(root: Any) -> None:
    """Printing links every node to its parent (pglast's `ancestors`): cycles that only the
    garbage collector frees, which the command line switches off.  Unlinked, the printed tree
    is freed as soon as it is dropped."""
    from pglast import ast

    stack = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.Node):
            item.ancestors = None
            fields = getattr(type(item), "__slots__", ())
            stack.extend(getattr(item, name, None) for name in fields)
        elif isinstance(item, list | tuple):
            stack.extend(item)


def _parse(text: str) -> list[Any]:
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        return list(parse_sql(text))
    except ParseError as error:
        raise Rejected(f"not valid SQL: {error}") from None


def _one_expression(text: str) -> dict[str, Any]:
    """The tree of `text` when it is exactly one expression: no second statement, no clause
    after it (LIMIT, INTO, FOR UPDATE, ...), no alias."""
    statements = _parse(f"SELECT {text}")
    if len(statements) != 1:
        raise Rejected("expected one expression, found more than one statement")
    tree: dict[str, Any] = statements[0].stmt(skip_none=True)
    if tree.get("@") != "SelectStmt":
        raise Rejected("expected one expression")
    plain = {"@", "targetList", "limitOption", "op"} | _NOISE
    extra = sorted(_CLAUSES.get(k, k) for k, v in tree.items() if v and k not in plain)
    if tree["limitOption"]["name"] != "LIMIT_OPTION_DEFAULT":
        extra.append("LIMIT")
    if extra:
        raise Rejected(f"expected one expression, found {', '.join(sorted(set(extra)))}")
    targets = tree.get("targetList", ())
    if len(targets) != 1 or set(targets[0]) - {"@", "val"} - _NOISE:
        raise Rejected("expected one expression")
    value: dict[str, Any] = targets[0]["val"]
    return value


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
    with _bounded_depth():
        sources = [_Source(name, _table_relation(table)) for name, table in tables.items()]
        walk = _Walk(database, subqueries=subqueries, levels=[sources])
        tree = _one_expression(text)
        written = _size(tree, None)
        value = walk.node(tree)
        _within_expansion(value, written)
        sql = _render(value, _one_expression)
    return Accepted(sql, frozenset(walk.columns), frozenset(walk.enums))


def select(text: str, database: Database) -> Accepted:
    """The SQL to run for a custom check (one SELECT over the lock's tables), or Rejected."""
    with _bounded_depth():
        statements = _parse(text)
        if len(statements) != 1 or type(statements[0].stmt).__name__ != "SelectStmt":
            raise Rejected("a check holds exactly one SELECT statement")
        walk = _Walk(database, custom=True)
        tree = statements[0].stmt(skip_none=True)
        written = _size(tree, None)
        tree = walk.node(tree)
        _within_expansion(tree, written)
        sql = _render(tree, _one_select)
    return Accepted(sql, frozenset(walk.columns), frozenset(walk.enums))


@contextmanager
def _bounded_depth() -> Iterator[None]:
    """Python's recursion limit, met by an expression nested thousands of levels deep (`a + a +
    ... + a`), is a refusal like any other, not a crash."""
    try:
        yield
    except RecursionError:
        raise Rejected(
            "nested too deeply to check (split the expression, or use fewer chained operators)"
        ) from None


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


def _one_select(text: str) -> dict[str, Any]:
    statements = _parse(text)
    if len(statements) != 1:
        raise Rejected("more than one statement")
    tree: dict[str, Any] = statements[0].stmt(skip_none=True)
    return tree


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
        with _bounded_depth():
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
