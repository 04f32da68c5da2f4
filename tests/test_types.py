"""Lock type aliases agree with PostgreSQL: each alias, used in a real column, comes back from
format_type() exactly as canonical_type() spells it."""

from __future__ import annotations

import pytest

from conftest import execute, query
from schemalock.model.types import UnknownType, canonical_type

ALIASES = [
    "int",
    "int4",
    "integer",
    "int8",
    "bigint",
    "int2",
    "smallint",
    "bool",
    "boolean",
    "float8",
    "double precision",
    "float",
    "float4",
    "real",
    "float(10)",
    "float(30)",
    "text",
    "uuid",
    "json",
    "jsonb",
    "bytea",
    "date",
    "inet",
    "cidr",
    "macaddr",
    "money",
    "interval",
    "numeric",
    "decimal",
    "numeric(10, 2)",
    "numeric(10,2)",
    "decimal(5)",
    "varchar",
    "varchar(255)",
    "character varying(20)",
    "char",
    "char(3)",
    "character(3)",
    "bit",
    "bit(4)",
    "varbit",
    "bit varying(8)",
    "timestamp",
    "timestamp(3)",
    "timestamp without time zone",
    "timestamptz",
    "timestamptz(6)",
    "timestamp with time zone",
    "timestamp(2) with time zone",
    "time",
    "time(3)",
    "timetz",
    "time with time zone",
    "text[]",
    "_text",
    "int[]",
    "integer[][]",
    "varchar(10)[]",
    "_int4",
    "uuid[]",
    "tsvector",
    "int4range",
    "tstzrange",
    "oid",
    '"char"',
    "xml",
    "jsonpath",
    "point",
]


@pytest.mark.db
def test_aliases_agree_with_format_type(database: str) -> None:
    columns = ", ".join(f"c{i} {alias}" for i, alias in enumerate(ALIASES))
    execute(database, f"CREATE TABLE t ({columns})")
    rows = query(
        database,
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = 't'::regclass AND attnum > 0 ORDER BY attnum",
    )
    for (name, formatted), alias in zip(rows, ALIASES, strict=True):
        assert canonical_type(alias) == formatted, f"{alias} ({name})"


@pytest.mark.parametrize("spelling", ["strng", "varchar(", "int4 int4", "public", "serial[]x"])
def test_unknown_types(spelling: str) -> None:
    with pytest.raises(UnknownType):
        canonical_type(spelling)


def test_user_and_extension_types() -> None:
    assert canonical_type("citext") == "citext"
    assert canonical_type("public.mood", frozenset({"mood"})) == "mood"
    assert canonical_type("billing.status[]", frozenset({"billing.status"})) == "billing.status[]"
    assert canonical_type("serial") == "integer"
    assert canonical_type("bigserial") == "bigint"
