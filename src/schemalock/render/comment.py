"""`--format markdown`: the report as a pull-request comment body (also GitHub's job summary).

The first line is always a marker naming the command (`<!-- schemalock:verify -->`,
`<!-- schemalock:diff -->`, `<!-- schemalock:lint -->`), so a bot can find its own comment and
edit it instead of adding another on every push, and the guard's report never replaces
verify's.  Then a headline with the counts, what was
checked, a table of the findings (most severe first), the waived ones with their reasons, and
what could not be checked.  The body stays under `limit` bytes (GitHub takes 65,536 characters
in a comment): rows past it are left out and a last line says how many.  It holds nothing that
changes between two runs over the same state (no duration), so an update that changes nothing
changes no text.  The database is named by its name and server version only: a comment on a
public repository is read by anyone, and the host and role of a production database are not
theirs to know (the password is redacted everywhere; the JSON and SARIF reports, which stay in
CI, keep the redacted URL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from schemalock.check.findings import Finding, Report, Severity
from schemalock.render import safe_text
from schemalock.render.locations import (
    by_severity,
    inconclusive_text,
    lock_file,
    object_name,
    source_file,
)


def marker_for(command: str) -> str:
    """The comment's first line, one per command."""
    return f"<!-- schemalock:{command} -->"


COMMENT_LIMIT = 60_000
_NOTE_ROOM = 400  # kept free for the closing note


def headline(report: Report) -> str:
    """`schemalock verify: 6 errors, 6 warnings, 0 info, 1 waived`."""
    counts = report.counts()
    if not report.findings and not report.inconclusive:
        return f"schemalock {report.command}: no findings"
    parts = [_count(counts[severity.value], severity) for severity in Severity]
    waived = len(report.findings) - len(report.counted)
    if waived:
        parts.append(f"{waived} waived")
    if report.inconclusive:
        parts.append(f"{len(report.inconclusive)} inconclusive")
    return f"schemalock {report.command}: {', '.join(parts)}"


def _count(count: int, severity: Severity) -> str:
    plural = "s" if count != 1 and severity is not Severity.INFO else ""
    return f"{count} {severity.value}{plural}"


def render(
    report: Report, limit: int = COMMENT_LIMIT, marker: bool = True, root: str | None = None
) -> str:
    head = [marker_for(report.command)] if marker else []
    head += [f"### {_text(headline(report))}", "", _checked(report, root), ""]
    body = _Bounded(limit - _size(head) - _NOTE_ROOM)
    body.section(
        ["| severity | rule | object | finding | line |", "|---|---|---|---|---|"],
        [_finding_row(report, f, root) for f in by_severity(report.counted)],
    )
    waived = [f for f in report.findings if f.waived is not None]
    body.section(
        [
            "Waived (reported, not counted):",
            "",
            "| rule | object | finding | reason |",
            "|---|---|---|---|",
        ],
        [_waived_row(f) for f in waived],
    )
    body.section(
        ["Inconclusive (could not be checked; never a pass):", ""],
        [f"- {_text(inconclusive_text(item))}" for item in report.inconclusive],
        counts_findings=False,
    )
    body.section(
        ["Not covered (held by the database, not modelled by schemalock, so not compared):", ""],
        [f"- {_text(kind)} `{_text(name)}`" for kind, name in report.uncovered],
        counts_findings=False,
    )
    lines = head + body.lines
    if body.left_out or body.left_out_checks:
        lines.append(f"_{_left_out(body, report)}_")
    return "\n".join(lines).rstrip("\n") + "\n"


def _checked(report: Report, root: str | None) -> str:
    what = f"Lock {_code(lock_file(report, root))}"
    if report.base_path:
        what += f" against its base version {_code(report.base_path)}"
    if report.target_url:
        name = database_name(report.target_url)
        what += " against database " + (_code(name) if name else "(named by the connection)")
        if report.server_version:  # "15.4 (Debian 15.4-1)": the version only
            what += f" (PostgreSQL {_text(report.server_version.split()[0])})"
    return what + "."


_KEYWORD_DBNAME = re.compile(r"(?:^|\s)dbname\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")


def database_name(url: str) -> str | None:
    """The database a connection string names (a URL's path or `dbname`, a keyword string's
    `dbname`); None when it names none (libpq then takes PGDATABASE or the user's name)."""
    if "://" in url:
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        named = parse_qs(parts.query).get("dbname", [unquote(parts.path.lstrip("/"))])[-1]
        return named or None
    found = _KEYWORD_DBNAME.search(url)
    if found is None:
        return None
    value = found.group(1)
    if value.startswith("'"):
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    return value or None


def _finding_row(report: Report, finding: Finding, root: str | None) -> str:
    message = finding.message
    if finding.samples:  # already redacted by the rule that found them
        message += f" (e.g. {', '.join(finding.samples)})"
    where = source_file(report, finding, root)
    if finding.lock_line:
        where += f":{finding.lock_line}"
    return _row(
        finding.severity.value,
        f"{finding.code} {_code(finding.rule)}",
        _object(finding),
        _text(message),
        _code(where),
    )


def _waived_row(finding: Finding) -> str:
    return _row(
        f"{finding.code} {_code(finding.rule)}",
        _object(finding),
        _text(finding.message),
        _text(finding.waived or ""),
    )


def _object(finding: Finding) -> str:
    name = object_name(finding)
    return _code(name) if name else ""


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _text(text: str) -> str:
    """Plain text in a table cell: one line, no HTML, no cell break.  Backticks stay: the
    rules' messages quote lock syntax in them."""
    text = safe_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    """`text` as a code span, fenced by more backticks than it holds in a row, in a cell."""
    text = safe_text(text).replace("|", "\\|")
    run, longest = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _size(lines: list[str]) -> int:
    return sum(len(line.encode("utf-8")) + 1 for line in lines)


@dataclass
class _Bounded:
    """Lines added while they fit in `room` bytes; what does not fit is counted."""

    room: int
    lines: list[str] = field(default_factory=list)
    used: int = 0
    left_out: int = 0  # findings (waived ones too)
    left_out_checks: int = 0  # inconclusive checks

    def section(self, head: list[str], rows: list[str], counts_findings: bool = True) -> None:
        shown = 0
        for row in rows:
            added = [row] if shown else [*head, row]
            if self.used + _size(added) + 1 > self.room:  # + 1: the blank line closing it
                break
            self.lines += added
            self.used += _size(added)
            shown += 1
        if shown:
            self.lines.append("")
            self.used += 1
        if counts_findings:
            self.left_out += len(rows) - shown
        else:
            self.left_out_checks += len(rows) - shown


def _left_out(body: _Bounded, report: Report) -> str:
    parts = []
    if body.left_out:
        parts.append(f"{body.left_out} finding{'s' if body.left_out != 1 else ''}")
    if body.left_out_checks:
        checks = body.left_out_checks
        parts.append(f"{checks} inconclusive check{'s' if checks != 1 else ''}")
    return (
        f"{' and '.join(parts)} not shown, to keep this under its size limit: "
        f"`schemalock {report.command} --format json` lists them all."
    )
