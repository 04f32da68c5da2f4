"""`--format gitlab`: a GitLab Code Quality report (`artifacts: reports: codequality:`).

A JSON array, one issue per finding that counts: `description`, `check_name` (code and rule),
`fingerprint` (the same line-independent one as SARIF's, so GitLab tells new issues from old
ones across pushes), `severity` and `location` (the lock file and the line).  Errors are
`major`, warnings `minor`, info `info`; waived findings are left out, as are checks that could
not run (Code Quality has no place for them: the job's exit code 4 says it).
"""

from __future__ import annotations

import json
from typing import Any

from schemalock.check.findings import Finding, Report, Severity
from schemalock.render.locations import annotated_at, fingerprints, removed_from

SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def render(report: Report, root: str | None = None) -> str:
    # Fingerprinted over the whole report, as SARIF does, so both formats agree.
    printed = zip(report.findings, fingerprints(report, report.findings, root), strict=True)
    counted = [(finding, fingerprint) for finding, fingerprint in printed if finding.waived is None]
    issues = [
        _issue(report, finding, fingerprint, root)
        for finding, fingerprint in sorted(counted, key=lambda pair: -pair[0].severity.rank)
    ]
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _issue(report: Report, finding: Finding, fingerprint: str, root: str | None) -> dict[str, Any]:
    path, line = annotated_at(report, finding, root)
    description = finding.message + removed_from(report, finding)
    if finding.samples:  # already redacted by the rule that found them
        description += f" (e.g. {', '.join(finding.samples)})"
    return {
        "description": description,
        "check_name": f"{finding.code} {finding.rule}",
        "fingerprint": fingerprint,
        "severity": SEVERITY[finding.severity],
        "location": {
            "path": path,
            # Code Quality needs a line: a finding about the whole lock points at its first.
            "lines": {"begin": line or 1},
        },
    }
