"""Baselines: today's counts of the data findings, a ratchet that only turns one way.

`schemalock baseline` records, per rule and object, the count of every finding about rows
(categories integrity, identifiers, data and contracts, with a count: orphans per relation,
mock rows per column, pattern and accepted-values violations, rows breaking a flow
invariant, ...).  `verify --baseline FILE` then accepts a finding whose count is at or below
the recorded one (reported as waived: "baseline: 12 recorded"), and counts a finding that is
new or grew.  A finding without a count, and every structure finding, is never baselined: a
missing foreign key cannot hide in a file of numbers.  `--update-baseline` rewrites the file
with the counts that fell (and without the findings that went), never raising one.

The key of a finding is its rule's name and its object as a waiver names it
(`public.quota_usage.job_id`: the column when the finding has one, else its constraint or
invariant, else its table); the findings of one rule on one object (a relation's orphans and
its values of the wrong type) count together.  The file is JSON with sorted keys, so the same
counts always write the same bytes.

Only the rules that count rows are held.  A hand-edited file's entries for any other rule
(`column-type-mismatch`), or for a rule that does not exist, are ignored and said so (one
warning line); no count of theirs "falls", and `--update-baseline` drops them.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from schemalock.check.findings import Category, Finding, Report
from schemalock.check.waivers import object_names
from schemalock.errors import UsageError
from schemalock.lock import inputs
from schemalock.rules import RULES

FORMAT = "schemalock-baseline/1"
BASELINED = frozenset({Category.INTEGRITY, Category.IDENTIFIERS, Category.DATA, Category.CONTRACTS})
# The rules whose findings count rows: the only ones a baseline holds.
HELD_RULES = frozenset(r.name for r in RULES if r.needs_data and r.category in BASELINED)

Key = tuple[str, str]  # (rule name, object)


@dataclass(frozen=True)
class Baseline:
    counts: dict[Key, int] = field(default_factory=dict)
    # Rules of the file a baseline never holds, ignored: (name, the rule exists).
    ignored: tuple[tuple[str, bool], ...] = ()


@dataclass
class Ratchet:
    """A report's findings held against a baseline."""

    findings: list[Finding]
    fell: dict[Key, tuple[int, int]]  # recorded, now: counts that fell (to 0 when fixed)


def key(finding: Finding) -> Key | None:
    """The baseline's key of `finding`; None for a finding a baseline never holds."""
    if finding.rule not in HELD_RULES or finding.count is None:
        return None
    return finding.rule, object_names(finding)[0]


def totals(findings: Iterable[Finding]) -> dict[Key, int]:
    """The counts of the counted (not waived) findings a baseline holds, by key."""
    counted: dict[Key, int] = defaultdict(int)
    for finding in findings:
        found = key(finding)
        if found is not None and finding.waived is None:
            counted[found] += finding.count or 0
    return dict(counted)


def record(report: Report) -> Baseline:
    """Today's counts (waived findings are accepted already, and left out)."""
    return Baseline(totals(report.findings))


def apply(report: Report, baseline: Baseline) -> Ratchet:
    """The report's findings with those at or below their recorded count waived; counts that
    fell are listed, among the rules that ran and answered (a rule left out by --select, or
    inconclusive, says nothing of its counts)."""
    now = totals(report.findings)
    findings = []
    for finding in report.findings:
        found = key(finding)
        recorded = baseline.counts.get(found) if found is not None else None
        if found is None or recorded is None or finding.waived is not None:
            findings.append(finding)
        elif now[found] <= recorded:
            findings.append(replace(finding, waived=_reason(recorded, now[found])))
        else:
            findings.append(replace(finding, message=f"{finding.message} (baseline: {recorded})"))
    answered = answered_rules(report)
    # A finding the baseline cannot hold (no count) is still there: its count did not fall.
    unheld = {(f.rule, object_names(f)[0]) for f in report.findings if key(f) is None}
    fell = {
        k: (recorded, now.get(k, 0))
        for k, recorded in baseline.counts.items()
        if now.get(k, 0) < recorded and k[0] in answered and k not in unheld
    }
    return Ratchet(sorted(findings, key=lambda f: f.sort_key), fell)


def _reason(recorded: int, now: int) -> str:
    if now < recorded:
        return f"baseline: {recorded} recorded, {now} now (--update-baseline records it)"
    return f"baseline: {recorded} recorded"


def answered_rules(report: Report) -> set[str]:
    """The names of the rules that ran in `report` and gave an answer."""
    unanswered = {item.rule for item in report.inconclusive}
    return {r.name for r in RULES if r.code in report.rules and r.name not in unanswered}


def tightened(baseline: Baseline, ratchet: Ratchet) -> Baseline:
    """`baseline` with the counts that fell lowered (to nothing when they reached 0); no
    count is ever raised, nor a finding added."""
    counts = dict(baseline.counts)
    for found, (_, now) in ratchet.fell.items():
        if now:
            counts[found] = now
        else:
            del counts[found]
    return Baseline(counts)


def ignored_note(path: str, baseline: Baseline) -> str | None:
    """One line saying which of the file's rules are ignored, and why; None when none is."""
    unknown = [name for name, exists in baseline.ignored if not exists]
    other = [name for name, exists in baseline.ignored if exists]
    parts = (
        [f"unknown rule{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"] if unknown else []
    )
    if other:
        parts.append(f"{', '.join(other)} (not data findings: a baseline never holds them)")
    if not parts:
        return None
    return f"{path}: ignored {'; '.join(parts)}; --update-baseline drops them"


def render(baseline: Baseline) -> str:
    by_rule: dict[str, dict[str, int]] = defaultdict(dict)
    for (rule, about), count in baseline.counts.items():
        by_rule[rule][about] = count
    document = {"format": FORMAT, "counts": by_rule}
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load(path: str) -> Baseline:
    """The baseline in `path`; UsageError (exit 2), one line naming the file, when it is not
    one."""
    try:
        raw = inputs.read_limited(path)
    except inputs.InputTooLarge as error:
        raise UsageError(f"{path}: {error}") from None
    except FileNotFoundError:
        raise UsageError(
            f"{path}: no such baseline file (`schemalock baseline` writes one)"
        ) from None
    except OSError as error:
        raise UsageError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        return parse(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise UsageError(f"{path}: not a schemalock baseline: {error}") from None


def parse(text: str) -> Baseline:
    """A baseline from its text; ValueError saying what is wrong."""
    document = json.loads(text)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'"format" is not "{FORMAT}"')
    counts = document.get("counts")
    if not isinstance(counts, dict) or set(document) != {"format", "counts"}:
        raise ValueError('a baseline holds "format" and "counts" only')
    parsed: dict[Key, int] = {}
    known = {r.name for r in RULES}
    ignored = []
    for rule, objects in sorted(counts.items()):
        if not isinstance(objects, dict):
            raise ValueError(f"counts of {rule!r} are not an object")
        for about, count in objects.items():
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ValueError(f"count of {rule} {about} is not a positive integer: {count!r}")
            if rule in HELD_RULES:
                parsed[(rule, about)] = count
        if rule not in HELD_RULES:
            ignored.append((rule, rule in known))
    return Baseline(parsed, tuple(ignored))


def describe(changes: dict[Key, tuple[int, int]]) -> str:
    """`fk-orphans public.quota_usage.job_id 12 -> 8; ...`, in key order."""
    return "; ".join(f"{r} {o} {old} -> {new}" for (r, o), (old, new) in sorted(changes.items()))
