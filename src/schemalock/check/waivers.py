"""Waivers: the lock's accepted exceptions, applied to a run's findings.

A waiver names a rule and an object.  Its `rule` is a full code (`SL102`), a rule name
(`extra-table`) or a category (`data`, `regression`: every regression `diff` reports), in any
case; the lock format refuses a code prefix (`SL4`: `code_prefix`), which would waive whole
families of rules.  Its `object` is a
shell-style glob (`*`, `?`, `[...]`, case-sensitive) on the finding's qualified name as the lock
spells it (`names.lock_name`: parts quoted only when they hold a dot or a double quote):
`schema.table` for a finding about a table, `schema.table.column` about a column,
`schema.table.constraint` about a key, check, index or invariant (a finding naming both a
column and a constraint matches by either), `schema.name` for a finding about a schema's
object with no table (an enum), and the bare name of a flow invariant or query contract (in
`verify` and `diff` alike; `verify` also matches it with its table).  A finding about the
lock as a whole has the empty name, which only `*` matches.  `*` crosses dots:
`public.jobs.*` is every column and constraint of `jobs`, and `public.*` everything in
`public`.

What matching means:
- a matched finding is kept, with `waived` set to the first matching waiver's reason: reported,
  never counted toward the exit code;
- a waiver whose `expires` date is today or earlier waives nothing, and is reported as
  `expired-waiver` (SL007) at its line;
- a waiver that matched no finding is reported as `unused-waiver` (SL008), but only when one
  of the rules it names ran (`ran`): a data rule under `--no-data`, a rule left out by
  `--select`/`--ignore`, or a regression outside `diff` leaves it unjudged; a waiver naming
  no rule at all is always reported;
- the findings that make a lock invalid (errors of the lock's own rules) are never waived:
  every command refuses such a lock;
- a finding on a `critical: true` table or column is waived only by a waiver naming it
  exactly, no glob (`exact_on_critical`, the acceptance `verify`, `lint` and `diff` use);
- a `blanket` waiver (a category on every object) is allowed here; `diff` refuses to let a
  pull request add one quietly.

Pure: the day is a parameter (`today`), never read from the clock here.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date

from schemalock.check.findings import Category, Finding, Severity
from schemalock.model import Lock, Waiver, names
from schemalock.rules import RULES, Rule
from schemalock.rules.waivers import ExpiredWaiver, UnusedWaiver

# Whether `waiver` may accept `finding` beyond matching it (`diff`: a regression on a
# critical object needs a waiver naming it exactly).
Acceptance = Callable[[Waiver, Finding], bool]


# The categories of findings about a flow invariant or a query contract (verify's, and the
# changes `diff` finds in them): their bare name matches too, the one spelling both commands
# share.
_NAMED_ALONE = frozenset({Category.CONTRACTS, Category.REGRESSION, Category.HISTORY})
_FULL_CODE = re.compile(r"SL\d{3}", re.IGNORECASE)


def object_names(finding: Finding) -> tuple[str, ...]:
    """The qualified names a waiver's `object` glob is matched against (see the module doc)."""
    base = [part for part in (finding.schema, finding.table) if part is not None]
    leaves = [leaf for leaf in (finding.column, finding.constraint) if leaf is not None]
    if not leaves:
        return (names.lock_name(*base),)
    found = tuple(names.lock_name(*base, leaf) for leaf in leaves)
    alone = finding.constraint
    if (
        alone is not None
        and base
        and finding.column is None
        and finding.subject is None
        and finding.category in _NAMED_ALONE
    ):
        return (*found, names.lock_name(alone))
    return found


def code_prefix(selector: str) -> bool:
    """Whether a waiver's `rule` is a code prefix (`SL`, `SL4`), not one rule's full code:
    fine for `--select`, refused in a waiver (it would waive whole families of rules)."""
    wanted = selector.strip()
    return wanted[:2].upper() == "SL" and not _FULL_CODE.fullmatch(wanted)


def blanket(waiver: Waiver) -> bool:
    """A waiver of a whole category (or code family) on every object (`*`): it switches off
    what it names everywhere.  Allowed in a lock, but no pull request may add one silently
    (`diff` counts it as a regression nothing acknowledges)."""
    rule = waiver.rule.strip().lower()
    wide_rule = rule in {category.value for category in Category} or code_prefix(rule)
    return wide_rule and set(waiver.object.strip()) <= {"*", "."}


def critical_names(lock: Lock) -> frozenset[str]:
    """The qualified names of the tables and columns `lock` marks `critical: true`."""
    found: set[str] = set()
    for table in lock.database.tables.values():
        if table.critical:
            found.add(names.lock_name(*table.key))
        found |= {names.lock_name(*table.key, c.name) for c in table.columns if c.critical}
    return frozenset(found)


def exact_on_critical(critical: frozenset[str]) -> Acceptance:
    """The acceptance of `verify` and `diff`: a finding on a critical table or column (one
    of `critical`) is accepted only by a waiver naming its object exactly, never by a glob
    (`*`, `?`, `[`) that happens to cover it."""

    def accept(waiver: Waiver, finding: Finding) -> bool:
        if not (finding.schema and finding.table) or _GLOB.isdisjoint(waiver.object):
            return True
        return on_critical(finding, critical) is None

    return accept


def on_critical(finding: Finding, critical: frozenset[str]) -> str | None:
    """The critical table or column `finding` is about (None: it is about none)."""
    if not (finding.schema and finding.table):
        return None
    table = (finding.schema, finding.table)
    named = [names.lock_name(*table)]
    if finding.column:
        named.insert(0, names.lock_name(*table, finding.column))
    return next((name for name in named if name in critical), None)


_GLOB = frozenset("*?[")


def names_rule(selector: str, code: str, name: str, category: str) -> bool:
    """Whether a waiver's `rule` selects the rule with this code, name and category."""
    wanted = selector.strip()
    return wanted.lower() in (name, category) or (
        wanted[:2].upper() == "SL" and code.startswith(wanted.upper())
    )


def matches(waiver: Waiver, finding: Finding) -> bool:
    """Whether `waiver` names `finding`'s rule and object (its date aside)."""
    if not names_rule(waiver.rule, finding.code, finding.rule, finding.category.value):
        return False
    return any(fnmatch.fnmatchcase(name, waiver.object) for name in object_names(finding))


def expired(waiver: Waiver, today: date) -> bool:
    """From its `expires` day on, a waiver waives nothing."""
    return waiver.expires is not None and waiver.expires <= today


def waivable(finding: Finding) -> bool:
    """Everything but what makes the lock invalid (every command refuses such a lock)."""
    return not (finding.category is Category.LOCK and finding.severity is Severity.ERROR)


def matching(
    finding: Finding, waivers: Iterable[Waiver], today: date, accept: Acceptance | None = None
) -> list[Waiver]:
    """The waivers in force `today` that accept `finding`, in the lock's order."""
    if finding.waived is not None or not waivable(finding):
        return []
    return [
        waiver
        for waiver in waivers
        if not expired(waiver, today)
        and matches(waiver, finding)
        and (accept is None or accept(waiver, finding))
    ]


def apply(
    findings: Iterable[Finding],
    waivers: Sequence[Waiver],
    today: date,
    ran: Iterable[type[Rule]],
    accept: Acceptance | None = None,
) -> list[Finding]:
    """`findings` with `waived` set on those a waiver accepts, and the `expired-waiver` and
    `unused-waiver` warnings (when those rules are among `ran`, the rules that ran), sorted.

    A finding already waived (an acknowledged regression, say) is left as it is.  `accept`
    may refuse a match (the waiver then does not count as used by that finding)."""
    used: set[int] = set()  # waivers by position: two may be written alike
    result: list[Finding] = []
    for finding in findings:
        accepting = matching(finding, waivers, today, accept)
        used |= {i for i, waiver in enumerate(waivers) if any(w is waiver for w in accepting)}
        result.append(replace(finding, waived=accepting[0].reason) if accepting else finding)
    found = result + _about_waivers(waivers, today, tuple(ran), used)
    return sorted(found, key=lambda f: f.sort_key)


def _about_waivers(
    waivers: Sequence[Waiver], today: date, ran: tuple[type[Rule], ...], used: set[int]
) -> list[Finding]:
    reported: list[Finding] = []
    for index, waiver in enumerate(waivers):
        if expired(waiver, today):
            if ExpiredWaiver in ran:
                reported.append(ExpiredWaiver().about(waiver, today))
        elif index not in used and UnusedWaiver in ran:
            known = known_rule(waiver.rule)
            if not known or any(_selects(waiver.rule, rule) for rule in ran):
                reported.append(UnusedWaiver().about(waiver, known))
    return reported


def known_rule(selector: str) -> bool:
    """Whether a waiver's `rule` names a registered rule or a category."""
    categories = {category.value for category in Category}
    return selector.strip().lower() in categories or any(_selects(selector, r) for r in RULES)


def _selects(selector: str, rule: type[Rule]) -> bool:
    return names_rule(selector, rule.code, rule.name, rule.category.value)
