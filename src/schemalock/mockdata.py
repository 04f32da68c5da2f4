"""Detectors of mock and test data, as PostgreSQL regular expressions (ARE, matched with `~*`).

Precision matters as much as recall: a marker must be a whole word (`\\m...\\M`), so "Hammock",
"Testament", "Protest", "Fakenham" and "attestation" are real data; an email must be at the
domain, not merely contain its name; inside JSON only keys that say "mock" or "test" count, so
UUIDs and hashes in documents never do.  Each detector applies to one kind of column.
"""

from __future__ import annotations

from dataclasses import dataclass

_HEX = "0123456789abcdef"


@dataclass(frozen=True)
class Detector:
    name: str
    kind: str  # "text", "json" or "uuid": the columns it reads
    pattern: str
    # A literal no match can lack: `strpos` rules most values out before the regex runs
    # (an alternation after `@` costs PostgreSQL's regex engine 4x a word search).
    requires: str | None = None


_THROWAWAY_DOMAINS = (
    r"example\.(com|org|net)|test\.com|mailinator\.com|guerrillamail\.(com|net|org)"
    r"|yopmail\.(com|fr)|10minutemail\.com|tempmail\.(com|net)|trashmail\.(com|net)"
    r"|sharklasers\.com|fakeinbox\.com"
)

_FIXTURE_UUIDS = "|".join(
    [f"{d * 8}-{d * 4}-{d * 4}-{d * 4}-{d * 12}" for d in _HEX]
    + ["123e4567-e89b-12d3-a456-426614174000", "12345678-1234-(1234|5678)-[0-9a-f-]{17}"]
)

DETECTORS = (
    Detector(
        "reserved-email",
        "text",
        rf"@({_THROWAWAY_DOMAINS})([^[:alnum:].-]|\.?$)",
        requires="@",
    ),
    Detector(
        "mock-word",
        "text",
        r"\m(mock|fake|dummy|lorem ipsum|test user)\M",
    ),
    Detector("placeholder-person", "text", r"\m(john|jane) doe\M"),
    Detector(
        "json-marker",
        "json",
        r'"(source|env|environment)": *"(mock|fake|test)"'
        r'|"(mock|is_mock|is_test|fake|test)": *true',
    ),
    Detector(
        "json-email",
        "json",
        rf"@({_THROWAWAY_DOMAINS})[^[:alnum:].-]",
        requires="@",
    ),
    Detector(
        "fixture-uuid",
        "uuid",
        rf"^({_FIXTURE_UUIDS})$",
    ),
)


def kind_of(type_name: str) -> str | None:
    """Which detectors read a column of this type."""
    base = type_name.split("(")[0].removesuffix("[]")
    if type_name.endswith("[]"):
        return None
    if base in ("text", "character varying", "character", "bpchar", "citext"):
        return "text"
    if base in ("json", "jsonb"):
        return "json"
    if base == "uuid":
        return "uuid"
    return None


def detectors_for(kind: str) -> tuple[Detector, ...]:
    return tuple(d for d in DETECTORS if d.kind == kind)


def condition_parts(kind: str) -> list[tuple[str | None, str]]:
    """What "any detector of `kind` matches" takes: (required literal or None, pattern) pairs
    to OR together, the unconditional patterns merged into one regex (one pass per value)."""
    detectors = detectors_for(kind)
    merged = "|".join(f"(?:{d.pattern})" for d in detectors if d.requires is None)
    parts: list[tuple[str | None, str]] = [(None, merged)] if merged else []
    return parts + [(d.requires, d.pattern) for d in detectors if d.requires is not None]
