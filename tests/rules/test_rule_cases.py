"""Per-rule fixture cases: a lock fragment, a live fragment (the same format, standing in for
introspection) and the findings expected.  No database needed; `pytest -k SL105` runs one rule.
The waiver rules' cases also give `today`, the day the waivers are judged on; a case whose
findings are not at the rule's severity says which (`severity: warning`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from schemalock.check import engine, waivers
from schemalock.lock import parse_lock
from schemalock.model import Database, Lock
from schemalock.rules import Rule, find_rule
from schemalock.rules.waivers import ExpiredWaiver, UnusedWaiver

CASES = Path(__file__).parent / "cases"


def _cases() -> list[Any]:
    params = []
    for path in sorted(CASES.glob("SL*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name, case in document["cases"].items():
            params.append(pytest.param(document["rule"], case, id=f"{document['rule']}-{name}"))
    return params


def _lock_text(fragment: str) -> str:
    """The fragment as a whole lock: `version: 1` is line 1, so fragment lines start at 2."""
    return fragment if fragment.lstrip().startswith("version:") else f"version: 1\n{fragment}"


@pytest.mark.parametrize(("code", "case"), _cases())
def test_rule_case(code: str, case: dict[str, Any]) -> None:
    rule = find_rule(code)
    assert rule is not None, f"no rule {code}"
    lock = parse_lock(_lock_text(case["lock"]), "schema_lock.yaml")
    live = None if case.get("live") is None else parse_lock(_lock_text(case["live"])).database
    findings = engine.run(lock, live, [rule])
    if rule in (ExpiredWaiver, UnusedWaiver):
        findings = _waiver_findings(lock, live, rule, case)
    got = [
        {
            k: v
            for k, v in (
                ("code", f.code),
                ("table", f.table),
                ("column", f.column),
                ("line", f.lock_line),
            )
            if v is not None
        }
        for f in findings
    ]
    expected = [dict(item, code=code) for item in case["expect"]]
    for item, finding in zip(expected, got, strict=False):
        if "line" not in item:
            finding.pop("line", None)
    assert got == expected, "\n".join(f.message for f in findings)
    for reported in findings:
        assert reported.rule == rule.name
        # A rule reports at its severity, unless the case says otherwise (`severity:`).
        assert reported.severity.value == case.get("severity", rule.severity.value)
        for needle in case.get("message_contains", []):
            assert needle in reported.message


def _waiver_findings(lock: Lock, live: Database | None, rule: type[Rule], case: Any) -> Any:
    """What the waivers say of a run of every rule that can run here (without rows), as of
    the case's `today`: these rules report after the others."""
    ran = engine.select_rules(offline=live is None, data=False)
    today = date.fromisoformat(str(case["today"]))
    applied = waivers.apply(engine.run(lock, live, ran), lock.waivers, today, ran)
    return [f for f in applied if f.code == rule.code]


def test_every_rule_has_cases() -> None:
    """Rules that read rows, or what verify connected to, are tested on a real server in
    tests/test_data_checks.py; every other rule has its cases here."""
    from schemalock.rules import RULES

    covered = {path.stem for path in CASES.glob("SL*.yml")}
    # the connection's host, a statement the server prepares
    needs_server = {"SL501", "SL503"}
    # `schemalock diff`'s rules judge two locks, not a Context: tests/test_diff.py
    assert covered == {r.code for r in RULES if not r.needs_data and not r.diff_only} - needs_server
