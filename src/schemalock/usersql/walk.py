"""The walk over a parse tree: every node checked against the allow-lists, every name
resolved scope by scope and rewritten to its qualified form."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from schemalock.model import DEFAULT_SCHEMA, Database
from schemalock.usersql.catalog import (
    CLAUSES,
    CUSTOM_NODES,
    CUSTOM_SELECT_KEYS,
    EXPRESSION_NODES,
    FUNCTIONS,
    NOISE,
    OPERATORS,
    QUERY_NODES,
    SELECT_KEYS,
    TYPES,
)
from schemalock.usersql.expand import BETWEEN, EXPANSIONS
from schemalock.usersql.scope import (
    Origin,
    Relation,
    Source,
    column_name,
    renamed,
    table_relation,
)
from schemalock.usersql.trees import (
    Rejected,
    catalog_name,
    name_nodes,
    one_expression,
    operation,
    string_constant,
    strings,
)


@dataclass
class Walk:
    """Visits a parse tree (as pglast's dicts), refusing what is not allowed and rewriting names
    to their qualified form; `_<Node>` methods handle the node kinds that need more than their
    children visited, and return the node to keep in the tree."""

    database: Database
    custom: bool = False  # a whole custom SELECT: more node kinds
    subqueries: bool = False
    levels: list[list[Source]] = field(default_factory=list)  # FROM items, per query level
    ctes: list[dict[str, Relation | None]] = field(default_factory=list)  # per WITH in scope
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
        allowed = EXPRESSION_NODES
        if self.subqueries or self.custom:
            allowed |= QUERY_NODES
        return allowed | CUSTOM_NODES if self.custom else allowed

    def _children(self, node: dict[str, Any], keys: tuple[str, ...] | None = None) -> None:
        for key in keys if keys is not None else tuple(node):
            if key in node and key not in NOISE and key != "@":
                node[key] = self.node(node[key])

    # -- functions, operators, types ---------------------------------------------------------

    def _FuncCall(self, node: dict[str, Any]) -> dict[str, Any]:
        parts = strings(node["funcname"])
        if not catalog_name(parts) or parts[-1] not in FUNCTIONS:
            raise Rejected(f"function {'.'.join(parts)}() is not allowed in a lock expression")
        node["funcname"] = name_nodes("pg_catalog", parts[-1])
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
        spelled = string_constant(args[1]) if len(args) == 2 else None
        if spelled is None:
            raise Rejected("pg_input_is_valid() takes its type as a string literal")
        try:
            cast = one_expression(f"CAST(NULL AS {spelled})")
        except Rejected:
            cast = None
        if cast is None or cast.get("@") != "TypeCast":
            raise Rejected(f"pg_input_is_valid(): {spelled!r} is not a type name")
        type_name = self._TypeName(cast["typeName"])
        args[1]["val"]["sval"] = str(RawStream()(ast.TypeName(type_name)))

    def _operator(self, names: Any) -> tuple[dict[str, Any], ...]:
        parts = strings(names)
        if not catalog_name(parts) or parts[-1] not in OPERATORS:
            raise Rejected(f"operator {'.'.join(parts)} is not allowed in a lock expression")
        return name_nodes("pg_catalog", parts[-1])

    def _A_Expr(self, node: dict[str, Any]) -> dict[str, Any]:
        self._children(node, ("lexpr", "rexpr"))
        kind = node["kind"]["name"]
        expand = EXPANSIONS.get(kind)
        if expand is None:
            raise Rejected(f"{kind} expressions are not allowed in a lock expression")
        if kind not in BETWEEN:  # BETWEEN's operators are fixed: >=, <=, <, >
            node["name"] = self._operator(node["name"])
        return expand(node)

    def _CaseExpr(self, node: dict[str, Any]) -> dict[str, Any]:
        self._children(node, ("arg", "args", "defresult"))
        subject = node.pop("arg", None)
        if subject is not None:  # CASE x WHEN v: PostgreSQL compares x = v
            for when in node["args"]:
                when["expr"] = operation("=", subject, when["expr"])
        return node

    def _TypeName(self, node: dict[str, Any]) -> dict[str, Any]:
        if node.get("setof") or node.get("pct_type"):
            raise Rejected("SETOF and %TYPE are not allowed in a lock expression")
        if any(m.get("@") != "A_Const" for m in node.get("typmods", ())):
            raise Rejected("a type modifier must be a constant")
        parts = strings(node["names"])
        if catalog_name(parts) and parts[-1] in TYPES:
            node["names"] = name_nodes("pg_catalog", parts[-1])
            return node
        key = (parts[0], parts[1]) if len(parts) == 2 else (DEFAULT_SCHEMA, parts[0])
        if len(parts) > 2 or key not in self.database.enums:
            raise Rejected(
                f"type {'.'.join(parts)} is not allowed in a lock expression "
                "(pg_catalog's value types and the lock's enums only)"
            )
        self.enums.add(key)
        node["names"] = name_nodes(*key)
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
        names = strings(f for f in fields if f.get("@") == "String")
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

    def _source(self, name: str) -> Source:
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
            node["operName"] = self._operator(node.get("operName") or name_nodes("="))
        self._children(node, ("testexpr",))
        self._select(node["subselect"])
        return node

    def _SelectStmt(self, node: dict[str, Any]) -> dict[str, Any]:
        self._select(node)
        return node

    def _select(
        self, node: dict[str, Any], on_left: Callable[[Relation], None] | None = None
    ) -> Relation:
        """Check a SELECT and return its output columns; `on_left` receives those of a set
        operation's first query before the others are checked (a recursive CTE's own columns)."""
        keys = CUSTOM_SELECT_KEYS if self.custom else SELECT_KEYS
        allowed = keys | NOISE | {"@"}
        extra = sorted(CLAUSES.get(k, k) for k, v in node.items() if v and k not in allowed)
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
        frame: dict[str, Relation | None] = {}
        if recursive:
            frame.update((cte["ctename"], None) for cte in ctes)
        self.ctes.append(frame)
        for cte in ctes:
            frame[cte["ctename"]] = self._cte(cte, frame if recursive else None)
        return True

    def _cte(self, cte: dict[str, Any], frame: dict[str, Relation | None] | None) -> Relation:
        if cte.get("search_clause") or cte.get("cycle_clause"):
            raise Rejected("SEARCH and CYCLE clauses are not allowed")
        query, name = cte["ctequery"], cte["ctename"]
        if query.get("@") != "SelectStmt":
            raise Rejected("a WITH query must be a SELECT")
        aliases = strings(cte.get("aliascolnames", ()))
        if frame is not None and aliases:
            frame[name] = Relation([(alias, None) for alias in aliases])

        def register(left: Relation) -> None:
            if frame is not None and not aliases:
                frame[name] = left

        return renamed(self._select(query, register), aliases, name)

    def _set_operation(
        self, node: dict[str, Any], on_left: Callable[[Relation], None] | None
    ) -> Relation:
        left = self._select(node["larg"])
        if on_left is not None:
            on_left(left)
        self._select(node["rarg"])
        # The ORDER BY and LIMIT of a UNION see its output columns only.
        self.levels.append([Source(None, left)])
        try:
            self._children(node, ("sortClause", "limitCount", "limitOffset"))
        finally:
            self.levels.pop()
        return left

    def _values(self, node: dict[str, Any]) -> Relation:
        self.levels.append([])
        try:
            self._children(node, ("valuesLists",))
        finally:
            self.levels.pop()
        width = len(node["valuesLists"][0])
        return Relation([(f"column{n}", None) for n in range(1, width + 1)])

    def _simple(self, node: dict[str, Any]) -> Relation:
        sources: list[Source] = []
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
            sources.append(Source(None, outputs))
            self._children(node, ("groupClause", "sortClause", "distinctClause"))
        finally:
            self.levels.pop()
        return outputs

    def _outputs(self, targets: tuple[dict[str, Any], ...]) -> Relation:
        outputs = Relation([])
        for target in targets:
            value = target["val"]
            if value.get("@") == "ColumnRef" and value["fields"][-1].get("@") == "A_Star":
                for relation in self._star(value["fields"]):
                    outputs.columns += relation.columns
                    outputs.exact = outputs.exact and relation.exact
            else:
                outputs.columns.append((target.get("name") or column_name(value)[0], None))
        return outputs

    def _star(self, fields: tuple[dict[str, Any], ...]) -> Iterator[Relation]:
        """The relations a `*` or `alias.*` expands."""
        sources = [self._source(fields[0]["sval"])] if len(fields) == 2 else self.levels[-1]
        for source in sources:
            yield source.relation if source.relation is not None else Relation([], exact=False)

    def _from(self, item: dict[str, Any], before: list[Source]) -> list[Source]:
        """The FROM items `item` adds; `before` are those a LATERAL subquery in it may name."""
        kind = item.get("@")
        if kind == "RangeVar":
            return [self._range_var(item)]
        if kind == "RangeSubselect" and self.custom:
            return [self._subquery(item, before)]
        if kind == "JoinExpr" and self.custom:
            return self._join(item, before)
        raise Rejected(_refusal(kind))

    def _range_var(self, node: dict[str, Any]) -> Source:
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
                    return Source(referenced_as, frame[name])
        table = self.database.tables.get((schema or DEFAULT_SCHEMA, name))
        if table is None:
            shown = f"{schema}.{name}" if schema else name
            raise Rejected(f"table {shown} is not in the lock")
        node["schemaname"] = table.schema  # what runs reads the table the lock describes
        return Source(referenced_as, table_relation(table))

    def _subquery(self, node: dict[str, Any], before: list[Source]) -> Source:
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
            return Source(None, relation)
        name = alias["aliasname"]
        return Source(name, renamed(relation, strings(alias.get("colnames", ())), name))

    def _join(self, node: dict[str, Any], before: list[Source]) -> list[Source]:
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
