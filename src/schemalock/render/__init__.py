"""Renderers: functions from a Report to text.  They only read findings."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from schemalock.check.findings import Report

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")


def safe_text(text: str) -> str:
    """Control characters from object names shown escaped, so they cannot drive a terminal or CI
    log (`\\x1b[2J`, `\\r`, workflow commands at line start)."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text.replace("\n", "\\n")


def summary_line(report: Report) -> tuple[str, str]:
    """The text report's last line, and its style: all is well, or how many of each."""
    from schemalock.check.findings import Severity

    if not report.findings and not report.inconclusive:
        agree = (
            f"the lock and {report.target_url} agree"
            if report.target_url
            else f"{report.lock_path} is consistent"
        )
        return f"No findings: {agree} ({report.duration_ms} ms).", "green"
    counts = report.counts()
    target = f" against {report.target_url}" if report.target_url else ""
    parts = [
        f"{counts[s.value]} {s.value}{'s' if counts[s.value] != 1 and s.value != 'info' else ''}"
        for s in Severity
    ]
    waived = len(report.findings) - len(report.counted)
    if waived:
        parts.append(f"{waived} waived")
    if report.inconclusive:
        parts.append(f"{len(report.inconclusive)} inconclusive")
    return f"{', '.join(parts)}{target} ({report.duration_ms} ms).", "bold"
