"""`--format json`: the `schemalock-report/1` contract (fields are added, never renamed)."""

from __future__ import annotations

import json
from typing import Any

from schemalock import __version__
from schemalock.check.findings import Finding, Report

REPORT_FORMAT = "schemalock-report/1"


def finding_record(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "rule": finding.rule,
        "severity": finding.severity.value,
        "category": finding.category.value,
        "schema": finding.schema,
        "table": finding.table,
        "column": finding.column,
        "constraint": finding.constraint,
        "message": finding.message,
        "expected": finding.expected,
        "actual": finding.actual,
        "count": finding.count,
        "samples": list(finding.samples),
        "lock_line": finding.lock_line,
        "fixable": finding.fixable,
        "estimated": finding.estimated,
        "waived": finding.waived,  # the reason that accepts it (not counted), or null
        # The file `lock_line` is a line of when it is not the report's lock (`diff`: the
        # base lock, `REF:path`, for something removed), else null.
        "path": finding.path,
    }


def coverage_record(report: Report) -> dict[str, Any] | None:
    """verify's coverage: per kind, how many the database holds, the lock declares and were
    compared; and what the database holds that is not modelled (null when nothing was
    compared: lint, diff, a run that could not connect)."""
    if report.coverage is None:
        return None
    return {
        "kinds": [
            {"kind": k.kind, "database": k.database, "lock": k.lock, "compared": k.compared}
            for k in report.coverage.kinds
        ],
        "not_covered": [{"kind": kind, "name": name} for kind, name in report.uncovered],
    }


def render(report: Report) -> str:
    document: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "tool": {"name": "schemalock", "version": __version__},
        "lock": {"path": report.lock_path, "sha256": report.lock_sha256},
        "target": {"url": report.target_url, "server_version": report.server_version}
        if report.target_url
        else None,
        "base": {"path": report.base_path} if report.base_path else None,  # diff's other lock
        "summary": {
            **report.counts(),
            "waived": len(report.findings) - len(report.counted),
            "inconclusive": len(report.inconclusive),
            "duration_ms": report.duration_ms,
        },
        "findings": [finding_record(f) for f in report.findings],
        "inconclusive": [
            {"rule": i.rule, "schema": i.schema, "table": i.table, "reason": i.reason}
            for i in report.inconclusive
        ],
    }
    if report.coverage is not None:  # verify's, when it compared (an additive field)
        document["coverage"] = coverage_record(report)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
