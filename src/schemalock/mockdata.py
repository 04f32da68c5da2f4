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
    # Literals one of which every match contains (ASCII case aside): a substring test rules
    # most values out before the regex runs, and PostgreSQL's regex engine costs several times
    # a substring search per value (bench/RESULTS.md).
    clues: tuple[str, ...] = ()


@dataclass(frozen=True)
class Part:
    """One term of "any detector of a kind matches": the regex, and the clues that must be
    present first (`caseless`: they have no letters, so a plain `strpos` decides)."""

    pattern: str
    clues: tuple[str, ...]
    caseless: bool


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
        clues=("@",),
    ),
    Detector(
        "mock-word",
        "text",
        r"\m(mock|fake|dummy|lorem ipsum|test user)\M",
        clues=("mock", "fake", "dummy", "lorem ipsum", "test user"),
    ),
    Detector("placeholder-person", "text", r"\m(john|jane) doe\M", clues=("john doe", "jane doe")),
    Detector(
        "json-marker",
        "json",
        r'"(source|env|environment)": *"(mock|fake|test)"'
        r'|"(mock|is_mock|is_test|fake|test)": *true',
        clues=("mock", "fake", "test"),
    ),
    Detector(
        "json-email",
        "json",
        rf"@({_THROWAWAY_DOMAINS})[^[:alnum:].-]",
        clues=("@",),
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


def condition_parts(kind: str) -> list[Part]:
    """The terms of "any detector of `kind` matches", to OR together: detectors whose clues
    have letters merged into one regex behind one case-folded substring test (one pass per
    value), the others each behind its own."""
    detectors = detectors_for(kind)
    folded = [d for d in detectors if d.clues and not _caseless(d.clues)]
    parts = [Part(d.pattern, d.clues, _caseless(d.clues)) for d in detectors if d not in folded]
    if folded:
        merged = "|".join(f"(?:{d.pattern})" for d in folded)
        clues = tuple(dict.fromkeys(c for d in folded for c in d.clues))
        parts.insert(0, Part(merged, clues, caseless=False))
    return parts


def _caseless(clues: tuple[str, ...]) -> bool:
    return not any(c.isalpha() for clue in clues for c in clue)
