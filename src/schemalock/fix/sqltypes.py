"""SQLAlchemy types for the model's type spellings (PostgreSQL's `format_type`), so stock Alembic
operations (`add_column`, `create_table`) can carry them and Alembic renders them itself."""

from __future__ import annotations

import re
from typing import Any

_PARAMS = re.compile(r"^(?P<base>[a-z ]+?)(?:\((?P<args>[0-9, ]+)\))?(?P<rest>(?: [a-z ]+)?)$")


def sqlalchemy_type(spelling: str, schema: str = "public") -> Any:
    """The type for a canonical spelling: built-in types map to their SQLAlchemy classes; any
    other name (an enum, a domain, an extension type such as citext) to a named type that
    DDL spells as written and never creates."""
    from sqlalchemy.dialects import postgresql

    if spelling.endswith("[]"):
        return postgresql.ARRAY(sqlalchemy_type(spelling[:-2], schema))
    match = _PARAMS.match(spelling)
    if match is not None:
        built = _builtin(match["base"], _numbers(match["args"]), match["rest"].strip())
        if built is not None:
            return built
    name, _, qualifier = spelling.rpartition(".") if "." in spelling else ("", "", spelling)
    # ENUM without labels and create_type=False compiles to the bare (quoted) name.
    return postgresql.ENUM(
        name=qualifier.strip('"'), schema=name.strip('"') or None, create_type=False
    )


def _numbers(args: str | None) -> list[int]:
    return [int(a) for a in args.split(",")] if args else []


def _builtin(base: str, args: list[int], rest: str) -> Any:
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    simple: dict[str, Any] = {
        "integer": sa.Integer, "bigint": sa.BigInteger, "smallint": sa.SmallInteger,
        "text": sa.Text, "boolean": sa.Boolean, "uuid": postgresql.UUID, "jsonb": postgresql.JSONB,
        "json": postgresql.JSON, "date": sa.Date, "real": postgresql.REAL,
        "double precision": postgresql.DOUBLE_PRECISION, "bytea": postgresql.BYTEA,
        "inet": postgresql.INET, "cidr": postgresql.CIDR, "macaddr": postgresql.MACADDR,
        "money": postgresql.MONEY, "tsvector": postgresql.TSVECTOR, "oid": postgresql.OID,
    }  # fmt: skip
    if base in simple and not args and not rest:
        return simple[base]()
    first = args[0] if args else None
    if base == "character varying":
        return postgresql.VARCHAR(first)
    if base == "character":
        return postgresql.CHAR(first)
    if base == "numeric":
        return postgresql.NUMERIC(first, args[1] if len(args) > 1 else None)
    if base in ("timestamp", "time"):
        kind = postgresql.TIMESTAMP if base == "timestamp" else postgresql.TIME
        return kind(timezone=rest == "with time zone", precision=first)
    if base.startswith("interval"):
        fields = base.removeprefix("interval").strip() or None
        return postgresql.INTERVAL(fields=fields, precision=first)
    if base in ("bit", "bit varying"):
        return postgresql.BIT(first, varying=base == "bit varying")
    return None
