"""Type names as PostgreSQL's `format_type()` prints them, from whatever alias a lock file uses.

The live side reads `format_type(atttypid, atttypmod)` with `search_path = pg_catalog, public`,
so built-in types come back unqualified in their SQL-standard spelling and user types in `public`
come back unqualified.  `canonical_type` maps the lock's spelling onto exactly that form.
"""

from __future__ import annotations

import re
from functools import cache

# alias -> canonical spelling, for types without a modifier.
_SIMPLE: dict[str, str] = {
    "int": "integer",
    "int4": "integer",
    "integer": "integer",
    "serial": "integer",
    "serial4": "integer",
    "int8": "bigint",
    "bigint": "bigint",
    "bigserial": "bigint",
    "serial8": "bigint",
    "int2": "smallint",
    "smallint": "smallint",
    "smallserial": "smallint",
    "serial2": "smallint",
    "bool": "boolean",
    "boolean": "boolean",
    "float8": "double precision",
    "double precision": "double precision",
    "float": "double precision",
    "float4": "real",
    "real": "real",
    "text": "text",
    "uuid": "uuid",
    "json": "json",
    "jsonb": "jsonb",
    "bytea": "bytea",
    "date": "date",
    "inet": "inet",
    "cidr": "cidr",
    "macaddr": "macaddr",
    "macaddr8": "macaddr8",
    "money": "money",
    "xml": "xml",
    "tsvector": "tsvector",
    "tsquery": "tsquery",
    "oid": "oid",
    "regclass": "regclass",
    "name": "name",
    '"char"': '"char"',
    "jsonpath": "jsonpath",
    "point": "point",
    "line": "line",
    "lseg": "lseg",
    "box": "box",
    "path": "path",
    "polygon": "polygon",
    "circle": "circle",
    "pg_lsn": "pg_lsn",
    "txid_snapshot": "txid_snapshot",
    "int4range": "int4range",
    "int8range": "int8range",
    "numrange": "numrange",
    "tsrange": "tsrange",
    "tstzrange": "tstzrange",
    "daterange": "daterange",
    "int4multirange": "int4multirange",
    "int8multirange": "int8multirange",
    "nummultirange": "nummultirange",
    "tsmultirange": "tsmultirange",
    "tstzmultirange": "tstzmultirange",
    "datemultirange": "datemultirange",
    "interval": "interval",
    "numeric": "numeric",
    "decimal": "numeric",
    "varchar": "character varying",
    "character varying": "character varying",
    "char": "character(1)",
    "character": "character(1)",
    "bpchar": "bpchar",
    "bit": "bit(1)",
    "varbit": "bit varying",
    "bit varying": "bit varying",
    "timestamp": "timestamp without time zone",
    "timestamp without time zone": "timestamp without time zone",
    "timestamptz": "timestamp with time zone",
    "timestamp with time zone": "timestamp with time zone",
    "time": "time without time zone",
    "time without time zone": "time without time zone",
    "timetz": "time with time zone",
    "time with time zone": "time with time zone",
}

# Types of common extensions: accepted without a declaration in the lock.
EXTENSION_TYPES = frozenset({"citext", "hstore", "ltree", "vector", "geometry", "geography"})

# Serial pseudo-types: integer types with an owned sequence as default.
SERIAL_TYPES = {
    "serial": "integer",
    "serial4": "integer",
    "bigserial": "bigint",
    "serial8": "bigint",
    "smallserial": "smallint",
    "serial2": "smallint",
}
SERIAL_FOR = {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}

_MODIFIED = re.compile(
    r"^(?P<base>character varying|varchar|character|char|bpchar|numeric|decimal|bit varying|varbit"
    r"|bit|float|interval)\s*\(\s*(?P<args>[0-9 ,-]+)\)$"
)
_INTERVAL_FIELDS = re.compile(
    r"^interval\s+(?P<fields>(?:year|month|day|hour|minute|second)"
    r"(?:\s+to\s+(?:month|hour|minute|second))?)\s*(?:\(\s*(?P<p>\d+)\s*\))?$"
)
# A user or extension type with modifiers, as format_type prints them: vector(1536),
# geometry(Point,4326).
_USER_MODIFIED = re.compile(r"^(?P<base>[^()]+?)\s*\((?P<args>[^()]*)\)$")
_TIME = re.compile(
    r"^(?P<base>timestamp|time)\s*(?:\(\s*(?P<p>\d+)\s*\))?\s*"
    r"(?P<tz>with time zone|without time zone)?$"
)
_TIME_TZ = re.compile(r"^(?P<base>timestamptz|timetz)\s*(?:\(\s*(?P<p>\d+)\s*\))?$")
_ARRAY = re.compile(r"^(?P<elem>.+?)\s*((\[\d*\])+)$")


class UnknownType(ValueError):
    pass


@cache
def canonical_type(spelling: str, known_user_types: frozenset[str] = frozenset()) -> str:
    """The `format_type()` spelling of a lock type, or UnknownType."""
    text = " ".join(spelling.strip().split())
    user = _user_type(text)
    if user in known_user_types:  # declared types first: an enum may be called `_priority`
        return user
    array = _ARRAY.match(text)
    if array:
        return canonical_type(array.group("elem"), known_user_types) + "[]"
    if text.startswith("_") and len(text) > 1 and '"' not in text:
        return canonical_type(text[1:], known_user_types) + "[]"
    lowered = text.lower()
    simple = _SIMPLE.get(lowered)
    if simple is not None:
        return simple
    for match in (_MODIFIED.match(lowered), _TIME.match(lowered), _TIME_TZ.match(lowered)):
        if match:
            return _with_modifier(match)
    interval = _INTERVAL_FIELDS.match(lowered)
    if interval:
        fields = " ".join(interval.group("fields").split())
        return f"interval {fields}" + (f"({interval.group('p')})" if interval.group("p") else "")
    if _is_extension_type(user):
        return user.lower() if "." not in user else user
    modified = _USER_MODIFIED.match(user)
    if modified and (
        modified.group("base") in known_user_types or _is_extension_type(modified.group("base"))
    ):
        arguments = ",".join(a.strip() for a in modified.group("args").split(","))
        return f"{canonical_type(modified.group('base'), known_user_types)}({arguments})"
    raise UnknownType(spelling)


def _is_extension_type(name: str) -> bool:
    """A common extension's type, in any schema the extension was installed into."""
    return name.rsplit(".", 1)[-1].lower() in EXTENSION_TYPES


def _with_modifier(match: re.Match[str]) -> str:
    parts = match.groupdict()
    base = parts["base"]
    if base in ("timestamp", "time", "timestamptz", "timetz"):
        zone = "with time zone" if base.endswith("tz") else (parts.get("tz") or "without time zone")
        name = "timestamp" if base.startswith("timestamp") else "time"
        precision = f"({parts['p']})" if parts.get("p") else ""
        return f"{name}{precision} {zone}"
    args = [a.strip() for a in parts["args"].split(",")]
    if base == "float":
        return "real" if int(args[0]) <= 24 else "double precision"
    canonical = {
        "varchar": "character varying",
        "char": "character",
        "decimal": "numeric",
        "varbit": "bit varying",
        "bpchar": "character",
    }.get(base, base)
    if canonical == "numeric" and len(args) == 1:
        args.append("0")  # numeric(p) is numeric(p,0)
    return f"{canonical}({','.join(args)})"


def live_type(formatted: str) -> str:
    """A `format_type()` result in canonical form.  format_type qualifies a type whose schema
    the role cannot see on its search path, so `public.` depends on privileges: drop it."""
    return _user_type(formatted)


def _user_type(text: str) -> str:
    """User types are compared as format_type prints them: `public.` dropped, others qualified."""
    return text[len("public.") :] if text.startswith("public.") else text


# Spellings from other languages and ORMs, mapped to what PostgreSQL calls them.
_FOREIGN_SPELLINGS = {
    "string": "text",
    "str": "text",
    "datetime": "timestamptz",
    "dict": "jsonb",
    "object": "jsonb",
    "int64": "bigint",
    "long": "bigint",
    "int32": "integer",
    "double": "double precision",
    "float64": "double precision",
    "guid": "uuid",
    "blob": "bytea",
    "binary": "bytea",
    "bytes": "bytea",
    "decimal": "numeric",
}


def suggest(spelling: str) -> str | None:
    """The closest known type name, for "did you mean" messages."""
    import difflib

    candidates = {**{name: name for name in (*_SIMPLE, *EXTENSION_TYPES)}, **_FOREIGN_SPELLINGS}
    found = difflib.get_close_matches(spelling.lower(), sorted(candidates), n=1, cutoff=0.6)
    return candidates[found[0]] if found else None


def type_spelling(schema: str, name: str) -> str:
    """How format_type prints a user type: quoted where needed, `public.` omitted."""
    from schemalock.model import names

    quoted = names.quote(name)
    return quoted if schema == "public" else f"{names.quote(schema)}.{quoted}"


TEXT_TYPES = ("text", "character varying", "character", "bpchar", "citext")


def is_texty(type_name: str) -> bool:
    """A column type that holds text: the built-in string types and the citext extension's
    type, in whatever schema it was installed (`extensions.citext` on some hosts)."""
    base = type_name.split("(")[0]
    return base in TEXT_TYPES or base.rpartition(".")[2] == "citext"
