"""Per-rule fixture cases: a lock fragment, a live fragment (the same format, standing in for
introspection) and the findings expected.  No database needed; `pytest -k SL105` runs one rule.
The waiver rules' cases also give `today`, the day the waivers are judged on; a case whose
findings are not at the rule's severity says which (`severity: warning`).

Rules that ask the database about rows (and the policy and query-contract rules, which ask
where the connection went and what the server prepares) get a fake probe answering from the
case's `probe:` section (tests/rules/fake_probe.py): every question the rule asks must be
answered there, every answer must be asked for, and refusals are expected by `inconclusive:`
(substrings, in order).  `target: {host: ..., env: ...}` is what verify connected to and the
`--env` it claims.  Real rows are tested on a real server in tests/test_data_checks.py.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_probe import FakeProbe

from schemalock.check import engine, waivers
from schemalock.lock import parse_lock
from schemalock.model import Database, Lock
from schemalock.probe import Questions
from schemalock.rules import RULES, Rule, find_rule
from schemalock.rules.base import Target
from schemalock.rules.waivers import ExpiredWaiver, UnusedWaiver

CASES = Path(__file__).parent / "cases"
# The rules that read `context.probe`: their every case answers it (`probe:`).
ASKS_THE_PROBE = {r.code for r in RULES if r.needs_data} | {"SL501", "SL503"}


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
    if live is not None and case.get("every_schema"):
        # As verify reads it: the live fragment's every schema, the lock's covered.
        live = live.covering(lock.database.schemas, lock.settings.ignores_schema)
    if live is not None and "roles" in case:
        # The cluster's roles, as verify reads them (a lock has none: `missing-role` is off).
        live = dataclasses.replace(live, roles=frozenset(case["roles"]))
    assert ("probe" in case) == (code in ASKS_THE_PROBE), "`probe:` is for rules that ask it"
    probe = FakeProbe(case["probe"]) if "probe" in case else None
    findings = engine.run(lock, live, [rule], probe=probe, target=_target(lock, case))
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
                ("constraint", f.constraint),
                ("count", f.count),
                ("samples", list(f.samples) if f.samples else None),
            )
            if v is not None
        }
        for f in findings
    ]
    expected = [dict(item, code=code) for item in case["expect"]]
    for item, finding in zip(expected, got, strict=False):
        for optional in ("line", "constraint", "count", "samples"):
            if optional not in item:
                finding.pop(optional, None)
    assert got == expected, "\n".join(f.message for f in findings)
    for reported in findings:
        assert reported.rule == rule.name
        # A rule reports at its severity, unless the case says otherwise (`severity:`).
        assert reported.severity.value == case.get("severity", rule.severity.value)
        for needle in case.get("message_contains", []):
            assert needle in reported.message
    if probe is not None:
        _asked_as_answered(probe, case)


def _asked_as_answered(probe: FakeProbe, case: dict[str, Any]) -> None:
    """The rule asked every question the case answers, and refused what it expects."""
    assert probe.unasked() == [], "answers no question asked for"
    expected = case.get("inconclusive", [])
    assert len(probe.refused) == len(expected), probe.refused
    for needle, refused in zip(expected, probe.refused, strict=True):
        assert needle in refused


def _target(lock: Lock, case: dict[str, Any]) -> Target | None:
    """What verify connected to (`target: {host, env}`), as the policy rule reads it."""
    given = case.get("target")
    if given is None:
        return None
    environment = lock.settings.environments[given["env"]] if "env" in given else None
    return Target(host=given["host"], environment=environment)


def test_the_fake_answers_every_question() -> None:
    """The fake stands in for the Probe wherever rules ask: mypy proves it has every question
    of the Protocol, with its types."""
    fake: Questions = FakeProbe({})
    assert fake.estimates is False


def _waiver_findings(lock: Lock, live: Database | None, rule: type[Rule], case: Any) -> Any:
    """What the waivers say of a run of every rule that can run here (without rows), as of
    the case's `today`: these rules report after the others."""
    ran = engine.select_rules(offline=live is None, data=False)
    today = date.fromisoformat(str(case["today"]))
    applied = waivers.apply(engine.run(lock, live, ran), lock.waivers, today, ran)
    return [f for f in applied if f.code == rule.code]


def test_every_rule_has_cases() -> None:
    """Every rule has its cases here, those reading rows included (with a fake probe), and
    the data rules' cases both fire and stay silent."""
    covered = {path.stem for path in CASES.glob("SL*.yml")}
    # `schemalock diff`'s rules judge two locks, not a Context: tests/test_diff.py
    assert covered == {r.code for r in RULES if not r.diff_only}
    for code in sorted(ASKS_THE_PROBE):
        document = yaml.safe_load((CASES / f"{code}.yml").read_text(encoding="utf-8"))
        fires = {bool(case["expect"]) for case in document["cases"].values()}
        assert fires == {True, False}, f"{code}: a firing and a silent case"
