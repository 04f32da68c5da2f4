"""Detectors of mock and test data, as PostgreSQL regular expressions (ARE, matched with `~*`).

Precision matters as much as recall.  A marker word must be a whole word (`\\m...\\M`), so
"Hammock", "Testament", "Protest", "Fakenham" and "attestation" are real data; and mock, fake
and dummy are also surnames and words of real phrases ("Tom Mock", "Mock Trial Coach", "Crash
Test Dummy Engineer", "Fake Fur Designer"), so they count only as the whole value or right
before a data noun ("mock data", "fake user", "Acme Mock Org", "test customer"), always
separated by spaces, which keeps them out of email addresses (`tom.mock@outlook.com`).  A
"test team" after a kind of testing is the team that tests ("QA Test Team").  An
email must be at a reserved domain (or a subdomain of one), not merely contain its name; a UUID
in a text column counts only as the whole value; inside JSON only keys that say "mock" or
"test" count, so UUIDs and hashes in documents never do.  Each detector applies to one kind of
column.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemalock.model.types import is_texty

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
    # The octet length every match has, for a detector of whole values without a literal in
    # common (fixture UUIDs): a length test is the cheaper gate then.
    length: int | None = None
    # A simpler regex every match also matches, run between the clues and the pattern: a
    # long alternation costs PostgreSQL's regex engine several times a short one per value,
    # and most values the clues let through ("Hammock", "Fakenham") fail the short one.
    gate: str | None = None
    # The lower-cased first eight characters every match starts with, tested after the
    # length: every value of a column of uuids is 36 long, and most start otherwise.
    prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Part:
    """One term of "any detector of a kind matches": the regex, and what must hold first: the
    clues (`caseless`: they have no letters, so a plain `strpos` decides) or the length, then
    the gate regex if any."""

    pattern: str
    clues: tuple[str, ...]
    caseless: bool
    length: int | None = None
    gate: str | None = None
    prefixes: tuple[str, ...] = ()


_THROWAWAY_DOMAINS = (
    r"example\.(com|org|net)|test\.com|mailinator\.com|guerrillamail\.(com|net|org)"
    r"|yopmail\.(com|fr)|10minutemail\.com|tempmail\.(com|net)|trashmail\.(com|net)"
    r"|sharklasers\.com|fakeinbox\.com"
)
# A throwaway domain or any subdomain of one, or a name under a top-level domain RFC 2606
# reserves for tests and examples.
_RESERVED_DOMAIN = (
    rf"(([[:alnum:]-]+\.)*({_THROWAWAY_DOMAINS})"
    r"|([[:alnum:]-]+\.)+(test|example|invalid|localhost))"
)


def _repeated(width: int) -> str:
    return "(" + "|".join(digit * width for digit in _HEX) + ")"


# Fixture UUIDs, as (first groups, the rest after the first hyphen): every one starts with one
# of a few literal first groups, so a uuid column is tested against those first (as uuid
# ranges, FIXTURE_FIRST_GROUPS) before the regex reads any value as text.
_FIXTURE_FORMS: tuple[tuple[tuple[str, ...], str], ...] = (
    # Every group one repeated digit: nil, all-ones, 11111111-2222-3333-4444-555555555555.
    (tuple(digit * 8 for digit in _HEX), "-".join(_repeated(width) for width in (4, 4, 4, 12))),
    # The nil UUID with a small counter at its end: ...-000000000001, ...-000000000002.
    (("00000000",), "0000-0000-0000-00000000[0-9a-f]{4}"),
    # The documentation example, and obvious sequences.
    (("123e4567",), "e89b-12d3-a456-426614174000"),
    (("12345678",), "1234-(1234|5678)-[0-9a-f-]{17}"),
)
_FIXTURE_UUIDS = "|".join(f"({'|'.join(firsts)})-{rest}" for firsts, rest in _FIXTURE_FORMS)
FIXTURE_FIRST_GROUPS = tuple(sorted({first for firsts, _ in _FIXTURE_FORMS for first in firsts}))


def fixture_uuid_ranges() -> tuple[str, ...]:
    """The bounds of the uuid ranges holding every fixture UUID, sorted, as `width_bucket`
    takes them: a value lies in one exactly when its bucket number is odd.  Each range is a
    first group's: from `xxxxxxxx-0000-...` to before the next first group."""
    bounds: list[int] = []
    for first in (int(group, 16) for group in FIXTURE_FIRST_GROUPS):
        if bounds and bounds[-1] == first:  # adjacent ranges merge
            bounds[-1] = first + 1
        else:
            bounds += [first, first + 1]
    top = 16**8
    return tuple(f"{b:08x}-0000-0000-0000-000000000000" for b in bounds if b < top)


# What mock, fake, dummy and test describe when they mark test data: records, not things.
_DATA_NOUNS = (
    "data|user|account|customer|client|org|organi[sz]ation|company|companies|tenant"
    "|workspace|member|person|people|profile|employee|contact|patient|student|record|entry"
    "|entries|row|value|name|email|address|phone|order|payment|invoice|subscription"
    "|transaction|product|item|project|store|shop|merchant|vendor|supplier"
)
# Kinds of testing: after one, "test team" names the people who test ("QA Test Team", "Load
# Test Team"), not a test record; "QA Test User" is still a test user.
_TESTING_KINDS = (
    "qa|quality|load|unit|integration|performance|security|penetration|pen|stress|acceptance"
    "|regression|smoke|usability|automation|manual|software|hardware|crash|field|beta"
)

DETECTORS = (
    Detector(
        "reserved-email",
        "text",
        rf"@{_RESERVED_DOMAIN}([^[:alnum:].-]|\.?$)",
        clues=("@",),
    ),
    Detector(
        "mock-word",
        "text",
        # Spaces only between the words (`test +`): an email's local part never holds one, and
        # the clue `test ` stays exact, so "Testament" and "Protest" never reach the regex.
        r"^[[:space:]]*(mock|fake|dummy)([[:space:]]*[0-9]+)?[[:space:]]*$"
        rf"|\m(mock|fake|dummy|test) +({_DATA_NOUNS})s?\M"
        rf"|\m(mock|fake|dummy) +teams?\M|(?<!\m({_TESTING_KINDS}) +)\mtest +teams?\M"
        r"|\mlorem ipsum\M",
        clues=("mock", "fake", "dummy", "test ", "lorem ipsum"),
        gate=r"\m(mock|fake|dummy|test)([^[:alpha:]]|$)|\mlorem ipsum",
    ),
    Detector("placeholder-person", "text", r"\m(john|jane) doe\M", clues=("john doe", "jane doe")),
    Detector(
        "fixture-uuid",
        "text",
        rf"^({_FIXTURE_UUIDS})$",
        length=36,
        prefixes=FIXTURE_FIRST_GROUPS,
    ),
    Detector(
        "json-marker",
        "json",
        r'"(source|env|environment)"[[:space:]]*:[[:space:]]*"(mock|fake|test)"'
        r'|"(mock|is_mock|is_test|fake|test)"[[:space:]]*:[[:space:]]*true',
        clues=("mock", "fake", "test"),
    ),
    Detector(
        "json-email",
        "json",
        rf"@{_RESERVED_DOMAIN}[^[:alnum:].-]",
        clues=("@",),
    ),
    # Placeholder text inside a document (a json or jsonb value), where a text column's
    # mock-word detector never looks.
    Detector("json-lorem", "json", r"\mlorem ipsum\M", clues=("lorem ipsum",)),
    Detector(
        "fixture-uuid",
        "uuid",
        rf"^({_FIXTURE_UUIDS})$",
    ),
)


def kind_of(type_name: str) -> str | None:
    """Which detectors read a column of this type."""
    if type_name.endswith("[]"):
        return None
    if is_texty(type_name):
        return "text"
    if type_name in ("json", "jsonb"):
        return "json"
    if type_name == "uuid":
        return "uuid"
    return None


def detectors_for(kind: str) -> tuple[Detector, ...]:
    return tuple(d for d in DETECTORS if d.kind == kind)


def condition_parts(kind: str) -> list[Part]:
    """The terms of "any detector of `kind` matches", to OR together: detectors whose clues
    have letters merged into one regex behind one case-folded substring test (one pass per
    value), the others each behind its own clues or length."""
    detectors = detectors_for(kind)
    folded = [d for d in detectors if d.clues and not _caseless(d.clues)]
    parts = [
        Part(d.pattern, d.clues, _caseless(d.clues), d.length, d.gate, d.prefixes)
        for d in detectors
        if d not in folded
    ]
    if folded:
        merged = "|".join(f"(?:{d.pattern})" for d in folded)
        clues = tuple(dict.fromkeys(c for d in folded for c in d.clues))
        gate = None
        if any(d.gate for d in folded):  # a detector without one is its own gate
            gate = "|".join(f"(?:{d.gate or d.pattern})" for d in folded)
        parts.insert(0, Part(merged, clues, caseless=False, gate=gate))
    return parts


def _caseless(clues: tuple[str, ...]) -> bool:
    return not any(c.isalpha() for clue in clues for c in clue)
