"""`--format junit`: the report as JUnit XML, for CI test views (GitLab, Jenkins, Azure, ...).

A test suite per category (structure, integrity, ...).  A test case per rule and object with a
finding (`SL105 public.jobs.org_id`, class `schemalock.structure.column-type-mismatch`): failed
with the finding (the failure's `type` is its severity) when the finding fails the run (its
severity at or above `--fail-on`, errors by default), else a passing case whose
`<system-out>` holds the finding, so the test view is red exactly when the exit code is 1 (a
progress or neutral change of `diff`, an info finding, is no failure); a waived finding is a
skipped case whose message is the waiver's reason; a check that could not run is a case in
error.  Every
rule that ran with nothing to say is one passing case: it checked every object of its kind,
and listing each table of the lock for each rule would bury the failures.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass

from schemalock.check.findings import Category, Finding, InconclusiveCheck, Report, Severity
from schemalock.render.locations import inconclusive_text, object_name, source_file
from schemalock.rules import RULES

# Characters XML 1.0 cannot hold, even escaped: shown as `\xNN` instead.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_RULES_BY_NAME = {rule.name: rule for rule in RULES}
_RULES_BY_CODE = {rule.code: rule for rule in RULES}


@dataclass
class _Case:
    category: str
    code: str
    rule: str
    element: ET.Element


def render(report: Report, root: str | None = None, fails: Severity | None = None) -> str:
    """`fails`: the least severity that fails the run (None: errors, the default `--fail-on`)."""
    least = fails or Severity.ERROR
    cases = [_finding_case(report, finding, root, least) for finding in report.findings]
    cases += [_inconclusive_case(item) for item in report.inconclusive]
    cases += _passing_cases(report)
    _unique_names(cases)
    top = ET.Element("testsuites", name=f"schemalock {report.command}")
    _totals(top, [case.element for case in cases])
    top.set("time", f"{report.duration_ms / 1000:.3f}")
    order = {category.value: position for position, category in enumerate(Category)}
    for category in sorted({case.category for case in cases}, key=lambda c: (order.get(c, 99), c)):
        members = sorted(
            (case for case in cases if case.category == category), key=lambda case: case.code
        )
        suite = ET.SubElement(top, "testsuite", name=category)
        _totals(suite, [case.element for case in members])
        suite.extend(case.element for case in members)
    ET.indent(top)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(top, encoding="unicode") + "\n"


def _finding_case(report: Report, finding: Finding, root: str | None, fails: Severity) -> _Case:
    where = source_file(report, finding, root)
    case = _element(
        finding.category.value,
        finding.rule,
        f"{finding.code} {object_name(finding) or where}",
    )
    case.set("file", _xml(where))
    if finding.lock_line:
        case.set("line", str(finding.lock_line))
    if finding.waived is not None:
        ET.SubElement(case, "skipped", message=_xml(f"waived: {finding.waived}"))
    elif finding.severity.rank < fails.rank:
        ET.SubElement(case, "system-out").text = _xml(_details(finding, where))
    else:
        failure = ET.SubElement(
            case, "failure", message=_xml(finding.message), type=finding.severity.value
        )
        failure.text = _xml(_details(finding, where))
    return _Case(finding.category.value, finding.code, finding.rule, case)


def _details(finding: Finding, where: str) -> str:
    lines = [f"{finding.severity.value} {finding.code} {finding.rule}: {finding.message}"]
    for name in ("expected", "actual", "count"):
        value = getattr(finding, name)
        if value is not None:
            lines.append(f"{name}: {value}")
    if finding.samples:  # already redacted by the rule that found them
        lines.append(f"e.g. {', '.join(finding.samples)}")
    lines.append(f"at {where}:{finding.lock_line}" if finding.lock_line else f"in {where}")
    return "\n".join(lines)


def _inconclusive_case(item: InconclusiveCheck) -> _Case:
    rule = _RULES_BY_NAME.get(item.rule)
    category = rule.category.value if rule is not None else "run"
    code = rule.code if rule is not None else item.rule
    target = ".".join(part for part in (item.schema, item.table) if part) or "(run)"
    case = _element(category, item.rule, f"{code} {target}")
    error = ET.SubElement(case, "error", message=_xml(item.reason), type="inconclusive")
    error.text = _xml(f"inconclusive: {inconclusive_text(item)}")
    return _Case(category, code, item.rule, case)


def _passing_cases(report: Report) -> list[_Case]:
    """One case per rule that ran and reported nothing, nor failed to check anything."""
    spoken = {finding.code for finding in report.findings}
    spoken |= {item.rule for item in report.inconclusive}
    cases = []
    for code in report.rules:
        rule = _RULES_BY_CODE.get(code)
        if rule is None or code in spoken or rule.name in spoken:
            continue
        category = rule.category.value
        element = _element(category, rule.name, f"{rule.code} {rule.name}")
        cases.append(_Case(category, code, rule.name, element))
    return cases


def _element(category: str, rule: str, name: str) -> ET.Element:
    return ET.Element("testcase", name=_xml(name), classname=_xml(f"schemalock.{category}.{rule}"))


def _unique_names(cases: list[_Case]) -> None:
    """Two findings of one rule about one object (rare) get `#2`, `#3`: viewers merge cases
    of the same class and name."""
    keys = [(case.element.get("classname"), case.element.get("name")) for case in cases]
    total, seen = Counter(keys), Counter[tuple[str | None, str | None]]()
    for case, key in zip(cases, keys, strict=True):
        seen[key] += 1
        if total[key] > 1 and seen[key] > 1:
            case.element.set("name", f"{key[1]} #{seen[key]}")


def _totals(parent: ET.Element, cases: list[ET.Element]) -> None:
    parent.set("tests", str(len(cases)))
    outcomes = (("failure", "failures"), ("error", "errors"), ("skipped", "skipped"))
    for outcome, attribute in outcomes:
        parent.set(attribute, str(sum(case.find(outcome) is not None for case in cases)))


def _xml(text: str) -> str:
    return _NOT_XML.sub(lambda found: f"\\x{ord(found.group()):02x}", text)
