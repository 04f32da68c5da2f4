"""What user SQL may contain: the functions, operators and types it may name, and the
parse-tree nodes and SELECT clauses the sandbox lets through."""

from __future__ import annotations

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
EXPRESSION_NODES = frozenset(
    {
        "A_Const", "String", "Integer", "Float", "Boolean", "BitString", "ColumnRef", "A_Expr",
        "BoolExpr", "NullTest", "BooleanTest", "TypeCast", "TypeName", "CaseExpr", "CaseWhen",
        "CoalesceExpr", "MinMaxExpr", "SQLValueFunction", "FuncCall", "A_ArrayExpr",
        "A_Indirection", "A_Indices", "RowExpr", "CollateClause",
    }
)  # fmt: skip
# What a subquery or a custom check adds.
QUERY_NODES = frozenset({"SubLink", "SelectStmt"})
CUSTOM_NODES = frozenset({"SortBy", "WindowDef", "GroupingSet"})
SELECT_KEYS = frozenset(
    {"targetList", "fromClause", "whereClause", "groupDistinct", "limitOption", "op", "all"}
)
CUSTOM_SELECT_KEYS = SELECT_KEYS | {
    "groupClause", "havingClause", "sortClause", "limitCount", "limitOffset", "distinctClause",
    "withClause", "larg", "rarg", "windowClause", "valuesLists",
}  # fmt: skip
CLAUSES = {
    "intoClause": "INTO", "lockingClause": "FOR UPDATE/SHARE", "limitCount": "LIMIT",
    "limitOffset": "OFFSET", "sortClause": "ORDER BY", "groupClause": "GROUP BY",
    "havingClause": "HAVING", "windowClause": "WINDOW", "distinctClause": "DISTINCT",
    "withClause": "WITH", "valuesLists": "VALUES", "larg": "UNION/INTERSECT/EXCEPT",
    "fromClause": "FROM", "whereClause": "WHERE",
}  # fmt: skip
# Positions and display hints: not part of what a tree means.
NOISE = frozenset(
    {
        "location", "stmt_location", "stmt_len", "rexpr_list_start", "rexpr_list_end",
        "list_start", "list_end", "funcformat",
    }
)  # fmt: skip
