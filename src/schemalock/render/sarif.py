"""`--format sarif`: the report as SARIF 2.1.0, for GitHub code scanning and other viewers.

One run.  The driver carries the whole rule catalogue, with each rule's documentation as its
help; every result points at the line of the lock it contradicts (`physicalLocation`), names
the database object (`logicalLocations`), and has a fingerprint that does not depend on the
line, so an alert survives edits above it.  Waived findings are results with an external
suppression holding the waiver's reason; checks that could not run are tool notifications.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from schemalock import __version__
from schemalock.check.findings import Finding, Report, Severity
from schemalock.render.locations import (
    annotated_at,
    database_object,
    fingerprints,
    inconclusive_text,
    removed_from,
    uncovered_text,
)
from schemalock.rules import RULES, Rule

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://pypi.org/project/schemalock/"
FINGERPRINT = "schemalock/v1"
LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(report: Report, root: str | None = None) -> str:
    """The SARIF log; paths relative to `root` (default: the working directory)."""
    catalogue = _catalogue(report.findings)
    index = {descriptor["id"]: position for position, descriptor in enumerate(catalogue)}
    prints = fingerprints(report, report.findings, root)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "schemalock",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": catalogue,
            }
        },
        # Code scanning keeps the alerts of each category apart: verify's from diff's.
        "automationDetails": {"id": f"schemalock/{report.command}/"},
        "invocations": [_invocation(report)],
        "results": [
            _result(report, finding, index[finding.code], fingerprint, root)
            for finding, fingerprint in zip(report.findings, prints, strict=True)
        ],
    }
    if report.target_url:
        run["properties"] = {
            "target": {"url": report.target_url, "serverVersion": report.server_version}
        }
    document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _catalogue(findings: list[Finding]) -> list[dict[str, Any]]:
    """Every registered rule, then any rule a finding names that the registry does not know
    (each result's `ruleIndex` must point into this list)."""
    known = [_descriptor(rule) for rule in RULES]
    codes = {rule.code for rule in RULES}
    for finding in findings:
        if finding.code not in codes:
            codes.add(finding.code)
            known.append(
                {
                    "id": finding.code,
                    "name": finding.rule,
                    "shortDescription": {"text": finding.rule},
                    "defaultConfiguration": {"level": LEVEL[finding.severity]},
                    "properties": {"category": finding.category.value},
                }
            )
    return known


def _descriptor(rule: type[Rule]) -> dict[str, Any]:
    documentation = rule.documentation()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary()},
        "fullDescription": {"text": section(documentation, "What it checks") or rule.summary()},
        "help": {"text": documentation, "markdown": documentation},
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": {"category": rule.category.value, "tags": [rule.category.value]},
    }


def section(documentation: str, title: str) -> str:
    """The text of one `## title` section of a rule's documentation (see rules/base.py)."""
    found = re.search(
        rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", documentation, re.MULTILINE | re.DOTALL
    )
    return " ".join(found.group(1).split()) if found else ""


def _result(
    report: Report, finding: Finding, rule_index: int, fingerprint: str, root: str | None
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": LEVEL[finding.severity],
        "message": {"text": _message(finding) + removed_from(report, finding)},
        "locations": [_location(report, finding, root)],
        "partialFingerprints": {FINGERPRINT: fingerprint},
        "properties": _properties(finding),
    }
    if finding.waived is not None:
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": finding.waived}
        ]
    return result


def _message(finding: Finding) -> str:
    if finding.samples:  # already redacted by the rule that found them
        return f"{finding.message} (e.g. {', '.join(finding.samples)})"
    return finding.message


def _location(report: Report, finding: Finding, root: str | None) -> dict[str, Any]:
    path, line = annotated_at(report, finding, root)
    artifact: dict[str, Any] = {"uri": _uri(path)}
    if not path.startswith("/"):
        artifact["uriBaseId"] = "%SRCROOT%"
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if line:
        physical["region"] = {"startLine": line}
    location: dict[str, Any] = {"physicalLocation": physical}
    found = database_object(finding)
    if found is not None:
        location["logicalLocations"] = [
            {
                "name": found.short_name,
                "fullyQualifiedName": found.name,
                "kind": _camel(found.kind),
            }
        ]
    return location


def _uri(path: str) -> str:
    if path.startswith("/"):
        return PurePosixPath(path).as_uri()
    return quote(path)


def _camel(kind: str) -> str:
    """`foreign key` as SARIF spells its kinds: `foreignKey`."""
    first, *rest = kind.split()
    return first + "".join(word.capitalize() for word in rest)


def _properties(finding: Finding) -> dict[str, Any]:
    properties: dict[str, Any] = {"rule": finding.rule, "category": finding.category.value}
    for name in ("expected", "actual", "count"):
        value = getattr(finding, name)
        if value is not None:
            properties[name] = value
    if finding.samples:
        properties["samples"] = list(finding.samples)
    if finding.estimated:
        properties["estimated"] = True
    properties["fixable"] = finding.fixable
    return properties


def _invocation(report: Report) -> dict[str, Any]:
    """Checks that could not run make the run unsuccessful (exit 4), never a pass."""
    invocation: dict[str, Any] = {"executionSuccessful": not report.inconclusive}
    notifications = [
        {"level": "error", "message": {"text": f"inconclusive: {inconclusive_text(item)}"}}
        for item in report.inconclusive
    ]
    uncovered = uncovered_text(report)
    if uncovered is not None:  # said, not failed: `--fail-on uncovered` decides the exit
        notifications.append({"level": "note", "message": {"text": uncovered}})
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation
