"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

`::error file=schema_lock.yaml,line=13,title=SL105 column-type-mismatch (public.jobs.org_id)::
column public.jobs.org_id is text; the lock says uuid`, most severe first (GitHub shows the first
ten of each level per step), warnings as `::warning`, info as `::notice`.  Values are escaped as
`@actions/core` escapes them, so a name holding a newline, a comma or a colon can neither end
the command nor start another.  Waived findings are not annotated (the summary lists them).

The job summary (`GITHUB_STEP_SUMMARY`) is the PR comment's Markdown, bounded (`summary`).
"""

from __future__ import annotations

from schemalock.check.findings import Finding, Report, Severity
from schemalock.render import comment
from schemalock.render.locations import (
    annotated_at,
    by_severity,
    inconclusive_text,
    lock_file,
    object_name,
    removed_from,
    uncovered_text,
)

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
# GitHub accepts up to 1 MiB per step summary; a report is far smaller unless it lists
# thousands of findings, which nobody reads there: the full report is another format's job.
SUMMARY_LIMIT = 64 * 1024


def escape_data(text: str) -> str:
    """A command's message, as `@actions/core` `escapeData` writes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value, as `@actions/core` `escapeProperty` writes it."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int | None) -> str:
    """One workflow command line: `::name key=value,...::message`."""
    given = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in properties.items()
        if value is not None
    )
    return f"::{name}{' ' + given if given else ''}::{escape_data(message)}"


def render(report: Report, root: str | None = None) -> str:
    """The annotations, then the summary line (plain text in the log)."""
    lines = [_annotation(report, finding, root) for finding in by_severity(report.counted)]
    lines += [
        command(
            "error",
            inconclusive_text(item),
            file=lock_file(report, root),
            title=f"inconclusive: {item.rule}",
        )
        for item in report.inconclusive
    ]
    uncovered = uncovered_text(report)
    if uncovered is not None:
        lines.append(command("notice", uncovered, title="not covered by schemalock"))
    lines.append(comment.headline(report))
    return "\n".join(lines) + "\n"


def _annotation(report: Report, finding: Finding, root: str | None) -> str:
    name = object_name(finding)
    file, line = annotated_at(report, finding, root)
    message = finding.message + removed_from(report, finding)
    if finding.samples:  # already redacted by the rule that found them
        message += f"\ne.g. {', '.join(finding.samples)}"
    return command(
        COMMAND[finding.severity],
        message,
        file=file,
        line=line,
        title=f"{finding.code} {finding.rule}" + (f" ({name})" if name else ""),
    )


def summary(report: Report, limit: int = SUMMARY_LIMIT, root: str | None = None) -> str:
    """The job summary: the PR comment's Markdown, at most `limit` bytes."""
    return comment.render(report, limit=limit, marker=False, root=root)
