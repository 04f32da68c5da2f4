"""Whether a column's new type promises more, less or the same as its old one.

Types are the canonical spellings both locks were loaded into (`character varying(40)`,
`numeric(12,2)`, `timestamp with time zone`).  The question is what the type guarantees about
the values: a `uuid`, an `integer`, an enum label, a domain's checks, at most 40 characters,
two decimals.  A change that keeps every such guarantee and adds one is progress; one that
drops any is a regression; the rest (a wider integer or numeric range, a time zone, `json` and
`jsonb`) is neutral: the values keep their kind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from schemalock.guard.changes import Kind

_INTEGERS = {"smallint": 1, "integer": 2, "bigint": 3}
_FLOATS = {"real": 1, "double precision": 2}
_STRINGS = {"text", "character varying", "character", "bpchar", "citext", "name"}
_SAME_KIND = (
    {"json", "jsonb"},
    {"timestamp without time zone", "timestamp with time zone"},
    {"time without time zone", "time with time zone"},
)
_SHAPE = re.compile(r"^(?P<base>[^()\[\]]+)\s*(?:\((?P<args>[^()]*)\))?(?P<rest>.*)$")


@dataclass(frozen=True)
class _Type:
    base: str  # without modifiers: `character varying`, `numeric`, `timestamp with time zone`
    args: tuple[int, ...]  # the modifiers: a length, a precision and scale
    dimensions: int  # of an array type


def _parse(spelling: str) -> _Type:
    match = _SHAPE.match(spelling)
    if match is None:
        return _Type(spelling, (), 0)
    args = tuple(int(a) for a in (match["args"] or "").split(",") if a.strip().isdigit())
    rest = match["rest"]
    base = " ".join(f"{match['base']} {rest.replace('[]', '')}".split())
    return _Type(base, args, rest.count("[]"))


def judge(old: str, new: str, domains: Mapping[str, str]) -> tuple[Kind, str]:
    """How changing a column from `old` to `new` changes what it promises, and why in words.
    `domains`: each domain's type (as columns spell it) and its base type."""
    if domains.get(old) == new:
        return Kind.REGRESSION, f"the checks of domain {old} no longer apply"
    if domains.get(new) == old:
        return Kind.PROGRESS, f"values must now pass the checks of domain {new}"
    before, after = _parse(old), _parse(new)
    if before.dimensions != after.dimensions:  # an array and a scalar: other values altogether
        return _unrelated(old, new)
    if after.base in _STRINGS:
        if before.base not in _STRINGS:
            return Kind.REGRESSION, f"any text is accepted, no longer only {old} values"
        return _lengths(before, after)
    if before.base in _STRINGS:
        return Kind.PROGRESS, f"values must now be {new}"
    for ranks in (_INTEGERS, _FLOATS):
        if before.base in ranks and after.base in ranks:
            if ranks[after.base] > ranks[before.base]:
                return Kind.NEUTRAL, "a wider range of the same kind of values"
            return Kind.PROGRESS, "a narrower range of values"
    if before.base == after.base == "numeric":
        return _numerics(before, after)
    if before.base in _INTEGERS and after.base == "numeric":
        return Kind.REGRESSION, "fractions are accepted, no longer only integers"
    if before.base == "numeric" and after.base in _INTEGERS:
        return Kind.PROGRESS, "values must now be integers"
    if before.base == after.base or any({before.base, after.base} <= k for k in _SAME_KIND):
        return Kind.NEUTRAL, "the same kind of values"
    return _unrelated(old, new)


def _unrelated(old: str, new: str) -> tuple[Kind, str]:
    return Kind.REGRESSION, f"values no longer have to be {old}"


def _lengths(before: _Type, after: _Type) -> tuple[Kind, str]:
    """Between two string types: what matters is the length limit (if any)."""
    was = before.args[0] if before.args else None
    now = after.args[0] if after.args else None
    if was == now:
        return Kind.NEUTRAL, "the same text"
    if now is None:
        return Kind.REGRESSION, f"values may be longer than {was} characters"
    if was is None or now < was:
        return Kind.PROGRESS, f"values must now be at most {now} characters"
    return Kind.REGRESSION, f"values may be up to {now} characters, no longer at most {was}"


def _numerics(before: _Type, after: _Type) -> tuple[Kind, str]:
    """`numeric(p,s)`: the scale (decimals) is a promise, the range a capacity."""
    if not after.args:
        return Kind.REGRESSION, "any number of decimals is accepted"
    if not before.args:
        return Kind.PROGRESS, f"values must now fit numeric({after.args[0]},{after.args[1]})"
    (precision, scale), (new_precision, new_scale) = before.args[:2], after.args[:2]
    if new_scale > scale:
        return Kind.REGRESSION, f"{new_scale} decimals are accepted, no longer at most {scale}"
    if new_scale < scale or new_precision - new_scale < precision - scale:
        return Kind.PROGRESS, "fewer digits are accepted"
    return Kind.NEUTRAL, "a wider range of the same kind of values"
