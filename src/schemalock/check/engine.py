"""Run the registered rules over a lock and (optionally) a live database."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from schemalock.check.findings import Category, Finding
from schemalock.compare import Comparison
from schemalock.errors import UsageError
from schemalock.model import Database, Lock
from schemalock.probe import Questions
from schemalock.rules import RULES, Context, Rule
from schemalock.rules.base import Target


def select_rules(
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    offline: bool = False,
    data: bool = True,
) -> list[type[Rule]]:
    """Rules chosen by codes, code prefixes (`SL1`), names or categories (`integrity`);
    unknown selectors are errors.

    `offline` (lint) runs the rules that need no database; otherwise (verify) all rules except
    the lint-only ones.  Advice (category `advice`: design advice, not drift) runs only when a
    selector names it: the rule's code, its name or `advice`; a code prefix (`SL2`) does not,
    so a database that agrees with its lock verifies silent."""
    runnable = [rule for rule in RULES if not rule.diff_only]  # diff's are reported by diff
    if offline:
        chosen = [rule for rule in runnable if not rule.needs_database]
    else:
        chosen = [rule for rule in runnable if not rule.lint_only and (data or not rule.needs_data)]
    selected, ignored = _expand(select), _expand(ignore)
    if selected and all(rule.diff_only for rule in selected):
        raise UsageError(
            "--select names only rules of `schemalock diff` (SL6xx), which judge changes to "
            "the lock: verify and lint never run them"
        )
    named = _named(select)
    chosen = [
        rule
        for rule in chosen
        if (rule in selected if selected else True)
        and (rule.category is not Category.ADVICE or rule in named)
    ]
    return [rule for rule in chosen if rule not in ignored]


def _selectors(raw_selectors: Iterable[str]) -> Iterator[str]:
    for raw in raw_selectors:
        yield from filter(None, (part.strip() for part in raw.split(",")))


def _expand(selectors: Iterable[str]) -> set[type[Rule]]:
    rules: set[type[Rule]] = set()
    for selector in _selectors(selectors):
        matched = {
            r
            for r in RULES
            if r.name == selector.lower()
            or r.category.value == selector.lower()
            or r.code.startswith(selector.upper())
        }
        if not matched:
            raise UsageError(f"unknown rule {selector!r} (see `schemalock rules`)")
        rules |= matched
    return rules


def _named(selectors: Iterable[str]) -> set[type[Rule]]:
    """The rules a selector names outright: by code, name or category, not by a prefix."""
    return {
        r
        for selector in _selectors(selectors)
        for r in RULES
        if selector.upper() == r.code or selector.lower() in (r.name, r.category.value)
    }


def run(
    lock: Lock,
    live: Database | None,
    rules: Iterable[type[Rule]],
    probe: Questions | None = None,
    target: Target | None = None,
    on_rule: Callable[[int, int, str], None] | None = None,
    before: Callable[[Context, list[type[Rule]]], None] | None = None,
    comparison: Comparison | None = None,
) -> list[Finding]:
    """Every rule's findings, sorted; `on_rule(done, total, "SL201 fk-orphans")` hears before
    each rule runs, `before(context, rules)` before the first (verify asks ahead there).
    `comparison`: of `lock` with `live`, made already (fix plans from it too)."""
    context = Context(lock=lock, live=live, probe=probe, target=target, _comparison=comparison)
    chosen = list(rules)
    if before is not None:
        before(context, chosen)
    findings: list[Finding] = []
    for done, rule in enumerate(chosen):
        if on_rule is not None:
            on_rule(done, len(chosen), f"{rule.code} {rule.name}")
        findings += rule().check(context)
    return sorted(findings, key=lambda f: f.sort_key)
