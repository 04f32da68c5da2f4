"""`schemalock diff` as text: the regressions first, then those a waiver acknowledges, what the
waivers say of themselves, the progress and the other changes; each section grouped by table,
each change with the file and line it points at (the base lock's, for something removed)."""

from __future__ import annotations

from itertools import groupby

from rich.console import Console
from rich.text import Text

from schemalock.check.findings import Category, Finding, Report, Severity
from schemalock.model.names import qualified
from schemalock.render import safe_text

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def sections(report: Report) -> list[tuple[str, list[Finding]]]:
    """The report's findings in the order a reviewer reads them; empty sections left out."""
    regressions = [f for f in report.findings if f.category is Category.REGRESSION]
    history = [f for f in report.findings if f.category is Category.HISTORY]
    found = [
        ("Regressions", [f for f in regressions if f.waived is None]),
        ("Acknowledged regressions", [f for f in regressions if f.waived is not None]),
        ("Waivers", [f for f in report.findings if f.category is Category.LOCK]),
        ("Progress", [f for f in history if f.rule == "lock-progress"]),
        ("Other changes", [f for f in history if f.rule != "lock-progress"]),
    ]
    return [(title, items) for title, items in found if items]


def _group(finding: Finding) -> str:
    if finding.table:
        return qualified(finding.schema, finding.table)
    if finding.schema:
        return f"schema {qualified(finding.schema)}"
    return "the rest of the lock"


def render(report: Report, console: Console, summary: bool = True) -> None:
    for title, items in sections(report):
        console.print(Text(f"{title} ({len(items)})", style="bold underline"), soft_wrap=True)
        ordered = sorted(items, key=lambda f: (f.table is None, _group(f), f.lock_line or 0))
        for group, members in groupby(ordered, key=_group):
            console.print(Text(f"  {safe_text(group)}", style="bold"), soft_wrap=True)
            for finding in members:
                console.print(_line(report, finding), soft_wrap=True)
    if summary:
        console.print(_summary(report), soft_wrap=True)


def where(report: Report, finding: Finding) -> str | None:
    """`file:line` of a finding: the base lock's for something removed."""
    if not finding.lock_line:
        return None
    return f"{safe_text(finding.path or report.lock_path or '')}:{finding.lock_line}"


def _line(report: Report, finding: Finding) -> Text:
    line = Text("    ")
    line.append(f"{finding.severity.value:<7}", style=_STYLE[finding.severity])
    line.append(f" {finding.code} ", style="dim")
    line.append(safe_text(finding.message))
    place = where(report, finding)
    line.append(f"  [{finding.rule}{f' {place}' if place else ''}]", style="dim")
    if finding.waived is not None:
        line.append(f"  acknowledged: {safe_text(finding.waived)}", style="green")
    return line


def _summary(report: Report) -> Text:
    since = f" since {safe_text(report.base_path or 'the base lock')}"
    took = f" ({report.duration_ms} ms)."
    if not report.findings:
        return Text(f"No changes{since}{took}", style="green")
    regressions = [f for f in report.findings if f.category is Category.REGRESSION]
    open_ = sum(1 for f in regressions if f.waived is None)
    parts = [f"{open_} regression{'s' if open_ != 1 else ''}"]
    if len(regressions) > open_:
        parts.append(f"{len(regressions) - open_} acknowledged")
    progress = sum(1 for f in report.findings if f.rule == "lock-progress")
    other = sum(1 for f in report.findings if f.rule == "lock-change")
    parts.append(f"{progress} progress")
    parts.append(f"{other} other change{'s' if other != 1 else ''}")
    warnings = report.counts()["warning"]
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    style = "bold red" if open_ else "bold green"
    return Text(f"{', '.join(parts)}{since}{took}", style=style)
