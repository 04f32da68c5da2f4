"""Human output: findings grouped by table, most severe first, then a one-line summary."""

from __future__ import annotations

from itertools import groupby

from rich.console import Console
from rich.text import Text

from schemalock.check.findings import Finding, Report, Severity
from schemalock.model.names import qualified
from schemalock.render import safe_text, summary_line

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _group(finding: Finding) -> str:
    if finding.table:
        return qualified(finding.schema, finding.table)
    if finding.schema:
        return f"schema {qualified(finding.schema)}"
    return "lock file"


def render(report: Report, console: Console, summary: bool = True, coverage: bool = False) -> None:
    """The findings by table, then the waived ones and what could not be checked; then, with
    `summary`, what the database holds that schemalock does not model (when it holds any;
    with `coverage` (`-v`), the count of every kind too) and one line counting the findings
    (or saying all is well). Without it (`-q`) a clean run writes nothing."""
    if report.command == "diff":  # changes to the lock, in sections: regressions first
        from schemalock.render import history

        history.render(report, console, summary)
        return
    for group, items in groupby(report.counted, key=_group):
        # No wrapping: a name could otherwise begin a line of a CI log with `::error`.
        console.print(Text(safe_text(group), style="bold"), soft_wrap=True)
        for finding in sorted(items, key=lambda f: (-f.severity.rank, f.code, f.message)):
            console.print(_line(report, finding), soft_wrap=True)
            if finding.samples:  # already redacted by the rule that found them
                shown = ", ".join(safe_text(sample) for sample in finding.samples)
                console.print(Text(f"          e.g. {shown}", style="dim"), soft_wrap=True)
    _render_waived(report, console)
    for item in report.inconclusive:
        target = f" on {qualified(item.schema, item.table)}" if item.table else ""
        console.print(
            Text(f"inconclusive: {item.rule}{target}: {safe_text(item.reason)}", style="magenta"),
            soft_wrap=True,
        )
    if summary:
        coverage_section(report, console, every_kind=coverage)
        console.print(_summary(report), soft_wrap=True)


def coverage_section(report: Report, console: Console, every_kind: bool = False) -> None:
    """What the run saw but does not model, by kind (nothing when it saw none); with
    `every_kind`, first how many of each kind the database holds, the lock declares and
    were compared."""
    covered = report.coverage
    if covered is None:
        return
    if every_kind:
        console.print(Text("coverage (database / lock / compared):", style="dim bold"))
        for kind in covered.kinds:
            line = f"  {kind.kind:<10} {kind.database:>5} {kind.lock:>5} {kind.compared:>5}"
            console.print(Text(line, style="dim"), soft_wrap=True)
    if not covered.uncovered:
        return
    console.print(
        Text(
            f"not covered ({len(covered.uncovered)}): held by the database, not modelled by "
            "schemalock, so not compared (`--fail-on uncovered` fails on them):",
            style="bold",
        ),
        soft_wrap=True,
    )
    for kind, items in groupby(covered.uncovered, key=lambda item: item[0]):
        shown = ", ".join(safe_text(name) for _, name in items)
        console.print(Text(f"  {kind}: {shown}"), soft_wrap=True)


def _line(report: Report, finding: Finding, lead: str = "  ") -> Text:
    line = Text(lead)
    line.append(f"{finding.severity.value:<7}", style=_STYLE[finding.severity])
    line.append(f" {finding.code} ", style="dim")
    line.append(safe_text(finding.message))
    where = (
        f"{safe_text(report.lock_path or '')}:{finding.lock_line}" if finding.lock_line else None
    )
    line.append(f"  [{finding.rule}{f' {where}' if where else ''}]", style="dim")
    return line


def _render_waived(report: Report, console: Console) -> None:
    """Accepted findings after the rest, dimmed, each with the reason that accepts it."""
    waived = [f for f in report.findings if f.waived is not None]
    if not waived:
        return
    console.print(Text(f"waived ({len(waived)}):", style="dim bold"), soft_wrap=True)
    for finding in waived:
        group = _group(finding)
        line = _line(report, finding, f"  {safe_text(group)}: " if group != "lock file" else "  ")
        line.append(f"  waived: {safe_text(finding.waived or '')}")
        line.stylize("dim")
        console.print(line, soft_wrap=True)


def _summary(report: Report) -> Text:
    line, style = summary_line(report)
    return Text(line, style=style)
