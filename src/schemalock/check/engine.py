"""Run the registered rules over a lock and (optionally) a live database."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from schemalock.check.findings import Finding
from schemalock.errors import UsageError
from schemalock.model import Database, Lock
from schemalock.probe import Probe
from schemalock.rules import RULES, Context, Rule
from schemalock.rules.base import Target


def select_rules(
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    offline: bool = False,
    data: bool = True,
) -> list[type[Rule]]:
    """Rules chosen by codes, code prefixes (`SL1`) or names; unknown selectors are errors.

    `offline` (lint) runs the rules that need no database; otherwise (verify) all rules except
    the lint-only ones."""
    if offline:
        chosen = [rule for rule in RULES if not rule.needs_database]
    else:
        chosen = [rule for rule in RULES if not rule.lint_only and (data or not rule.needs_data)]
    selected, ignored = _expand(select), _expand(ignore)
    if selected:
        chosen = [rule for rule in chosen if rule in selected]
    return [rule for rule in chosen if rule not in ignored]


def _expand(selectors: Iterable[str]) -> set[type[Rule]]:
    rules: set[type[Rule]] = set()
    for raw in selectors:
        for selector in filter(None, (part.strip() for part in raw.split(","))):
            matched = {
                r
                for r in RULES
                if r.name == selector.lower() or r.code.startswith(selector.upper())
            }
            if not matched:
                raise UsageError(f"unknown rule {selector!r} (see `schemalock rules`)")
            rules |= matched
    return rules


def run(
    lock: Lock,
    live: Database | None,
    rules: Iterable[type[Rule]],
    probe: Probe | None = None,
    target: Target | None = None,
    on_rule: Callable[[int, int], None] | None = None,
) -> list[Finding]:
    """Every rule's findings, sorted; `on_rule(done, total)` hears before each rule runs."""
    context = Context(lock=lock, live=live, probe=probe, target=target)
    chosen = list(rules)
    findings: list[Finding] = []
    for done, rule in enumerate(chosen):
        if on_rule is not None:
            on_rule(done, len(chosen))
        findings += rule().check(context)
    return sorted(findings, key=lambda f: f.sort_key)
