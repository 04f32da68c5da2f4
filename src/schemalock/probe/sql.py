"""SQL fragments the probe composes its questions from: how PostgreSQL reads text as a uuid
or an integer (for servers before 16, which lack pg_input_is_valid), how two column types
compare, the mock-data condition, array literals and `%` escaping.  Pure: nothing runs here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from schemalock.model.types import is_texty
from schemalock.probe.mockdata import condition_parts, fixture_uuid_ranges

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

# PostgreSQL's uuid input, for servers without pg_input_is_valid (before 16): hex digits in any
# case, hyphens optional after any group of four, optionally in braces.
UUID_INPUT = r"^(\{[0-9A-Fa-f]{4}(-?[0-9A-Fa-f]{4}){7}\}|[0-9A-Fa-f]{4}(-?[0-9A-Fa-f]{4}){7})$"
# The form PostgreSQL prints (and nearly every stored uuid has): a simpler regex, tried first.
CANONICAL_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
UNDASHED_HEX = r"^[0-9A-Fa-f]{32}$"
# 32 hex digits with a uuid's version (1-8) and RFC 9562 variant (8, 9, a, b) digits where a
# uuid has them: one random hex string in eight has both, so a column of digests never does.
UNDASHED_UUID = r"^[0-9A-Fa-f]{12}[1-8][0-9A-Fa-f]{3}[89ABab][0-9A-Fa-f]{15}$"

# PostgreSQL's integer input before 16 (pg_strtoint16/32/64): C-locale white space around an
# optional sign and decimal digits; 16 added 0x/0o/0b prefixes and underscores, and has
# pg_input_is_valid.  The range is checked apart (integer_input_valid), on at most 19 digits.
_C_SPACE = r"[ \t\n\r\v\f]"
INTEGER_INPUT = rf"^{_C_SPACE}*[+-]?[0-9]+{_C_SPACE}*$"
INTEGER_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}


def mock_condition(
    kind: str, value: sql.Composable, uuid: sql.Composable | None = None
) -> tuple[sql.Composable, list[Any]]:
    """SQL true when any mock-data detector of `kind` matches `value` (patterns bound).  The
    clue test folds ASCII case only (`lower(... COLLATE "C")`), as `~*` does for the ASCII
    letters of our patterns in every collation but a Turkish one's dotted and dotless i.
    `uuid`: the value of a uuid column itself (`value` being its text), tested first against
    the fixture UUIDs' ranges, a binary search over uuids: most values never become text."""
    from psycopg import sql

    if kind == "uuid" and uuid is not None:
        condition, bound = mock_condition(kind, value)
        ranges = sql.SQL("pg_catalog.mod(pg_catalog.width_bucket({}, {}::pg_catalog.uuid[]), 2)")
        gate = ranges.format(uuid, sql.Literal(array_literal(fixture_uuid_ranges())))
        # CASE, not AND: a sample query's WHERE is split at a top-level AND and its parts
        # ordered by estimated cost, which puts the regex first, over every row.
        return sql.SQL("(CASE WHEN {} = 1 THEN {} ELSE false END)").format(gate, condition), bound

    pieces: list[sql.Composable] = []
    params: list[Any] = []
    for part in condition_parts(kind):
        regex = sql.SQL("{} ~* %s").format(value)
        if part.gate is not None:
            regex = sql.SQL("{} ~* %s AND {}").format(value, regex)
        if part.length is not None:
            if part.prefixes:
                regex = sql.SQL(
                    "pg_catalog.lower(pg_catalog.left({}, 8)) = ANY ({}) AND {}"
                ).format(value, sql.Literal(array_literal(part.prefixes)), regex)
            pieces.append(
                sql.SQL("(pg_catalog.octet_length({}) = {} AND {})").format(
                    value, sql.Literal(part.length), regex
                )
            )
        elif not part.clues:
            pieces.append(regex)
        elif part.caseless:
            found = sql.SQL(" OR ").join(
                sql.SQL("pg_catalog.strpos({}, %s) > 0").format(value) for _ in part.clues
            )
            pieces.append(sql.SQL("(({}) AND {})").format(found, regex))
            params += part.clues
        else:
            folded = sql.SQL('pg_catalog.lower(({}) COLLATE pg_catalog."C")').format(value)
            pieces.append(
                sql.SQL("({} LIKE ANY (%s::pg_catalog.text[]) AND {})").format(folded, regex)
            )
            params.append([f"%{_like_escaped(clue)}%" for clue in part.clues])
        params += [part.gate, part.pattern] if part.gate is not None else [part.pattern]
    return sql.SQL("({})").format(sql.SQL(" OR ").join(pieces)), params


def _like_escaped(literal: str) -> str:
    return literal.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def is_text(type_name: str) -> bool:
    return is_texty(type_name)


def comparison(child_type: str, parent_type: str) -> str | None:
    """How a child value can be compared with a parent column's: "same" (PostgreSQL's own
    equality), "uuid" or "integer" (text read as the parent's type where PostgreSQL reads it
    so, the rest counted apart), "text" (both as text), or None: not at all."""
    from schemalock.compare.matching import compatible

    if compatible(child_type, parent_type):
        return "same"
    if is_text(child_type) and (parent_type == "uuid" or parent_type in INTEGER_RANGES):
        return "uuid" if parent_type == "uuid" else "integer"
    if is_text(parent_type):
        return "text"
    return None


CAST_TO = {
    "uuid": "pg_catalog.uuid",
    "smallint": "pg_catalog.int2",
    "integer": "pg_catalog.int4",
    "bigint": "pg_catalog.int8",
}


def uuid_input_valid(text: sql.Composable) -> sql.Composable:
    """SQL true when PostgreSQL before 16 reads `text` as a uuid: the canonical form first (a
    third cheaper for the regex engine), then every form the uuid input accepts; behind a
    length test (32 hex digits, up to 7 hyphens and 2 braces), as the regex engine costs as
    much on a value whose first character fails.  NULL for NULL, as the regexes give."""
    from psycopg import sql

    return sql.SQL(
        "(CASE WHEN pg_catalog.octet_length({t}) NOT BETWEEN 32 AND 41 THEN false"
        " ELSE ({t} ~ {canonical} OR {t} ~ {full}) END)"
    ).format(t=text, canonical=sql.Literal(CANONICAL_UUID), full=sql.Literal(UUID_INPUT))


def integer_input_valid(text: sql.Composable, type_name: str) -> sql.Composable:
    """SQL true when PostgreSQL before 16 reads `text` as a `type_name` (smallint, integer or
    bigint): the shape of INTEGER_INPUT, then the range, compared as numeric on the digits
    without leading zeros (at most 19 of them, so no numeric grows large).  CASE, not AND:
    the numeric cast must only ever see what the shape test let through."""
    from psycopg import sql

    low, high = INTEGER_RANGES[type_name]
    digits = sql.SQL("pg_catalog.ltrim(pg_catalog.substring({}, '[0-9]+'), '0')").format(text)
    return sql.SQL(
        "(CASE WHEN NOT ({t} ~ {shape}) THEN false"
        " WHEN pg_catalog.length({d}) > 19 THEN false"
        " ELSE ((CASE WHEN {t} ~ '-' THEN '-' ELSE '' END)"
        " || COALESCE(NULLIF({d}, ''), '0'))::pg_catalog.numeric"
        " BETWEEN {low}::pg_catalog.numeric AND {high}::pg_catalog.numeric END)"
    ).format(
        t=text,
        shape=sql.Literal(INTEGER_INPUT),
        d=digits,
        low=sql.Literal(str(low)),
        high=sql.Literal(str(high)),
    )


def array_literal(values: Iterable[str]) -> str:
    """`values` as the text of a PostgreSQL array, every element quoted: bound as a parameter
    of unknown type, the server reads it as an array of whatever type it is compared with."""
    quoted = ('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values)
    return "{" + ",".join(quoted) + "}"


def percent_escaped(query: sql.Composed, context: psycopg.Connection[Any]) -> sql.Composed:
    """`query` with every `%` of its identifiers and literals doubled: with parameters, psycopg
    reads the whole text for placeholders, and a table named `Rates %b` holds no `%b`."""
    from psycopg import sql

    def escaped(part: sql.Composable) -> sql.Composable:
        if isinstance(part, sql.Composed):
            return percent_escaped(part, context)
        if isinstance(part, sql.Identifier | sql.Literal):
            return sql.SQL(part.as_string(context).replace("%", "%%"))
        return part

    return sql.Composed([escaped(part) for part in query])


# Types without a default equality operator: compared on their text.
_NO_EQUALITY = ("json", "xml", "point", "line", "lseg", "box", "path", "polygon", "circle")


def no_equality(type_name: str) -> bool:
    """Whether `type_name` has no default equality (json, xml, geometric types)."""
    return type_name.removesuffix("[]") in _NO_EQUALITY
