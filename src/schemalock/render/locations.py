"""Where a finding points, for the CI formats (SARIF, GitHub, GitLab, JUnit, the PR comment):
the file and line of the lock it contradicts, the database object it is about, and a
fingerprint that stays the same when lines are added above it."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from schemalock.check.findings import Finding, InconclusiveCheck, Report
from schemalock.model.names import qualified

# What a fingerprint leaves out of a message: numbers (row counts, line numbers, lengths)
# and the "about" of an estimate, which change from run to run while the problem stays.
_VOLATILE = re.compile(r"\babout (?=\d)|\d+")


@dataclass(frozen=True)
class DatabaseObject:
    """The object a finding is about: its kind (`table`, `column`, `foreign key`, ...) and its
    qualified name as PostgreSQL would read it (`public."Legacy Orgs"`)."""

    kind: str
    name: str
    short_name: str


def database_object(finding: Finding) -> DatabaseObject | None:
    """From the finding's subject when the comparison named one, else from its schema, table,
    column and constraint fields; None for findings about the lock file or the run."""
    subject = finding.subject
    if subject is not None:
        path = subject.path
        if subject.name is None and subject.table is not None and subject.kind != "table":
            # A key or relation the lock leaves unnamed: its column tells it from the others.
            named_by = finding.column or finding.constraint
            path = (*path, named_by) if named_by else path
        return DatabaseObject(subject.kind, qualified(*path), path[-1])
    parts: tuple[str | None, ...]
    if finding.column:
        kind, parts = "column", (finding.schema, finding.table, finding.column)
    elif finding.constraint:
        kind, parts = "constraint", (finding.schema, finding.table, finding.constraint)
    elif finding.table:
        kind, parts = "table", (finding.schema, finding.table)
    elif finding.schema:
        kind, parts = "schema", (finding.schema,)
    else:
        return None
    named = [part for part in parts if part is not None]
    return DatabaseObject(kind, qualified(*named), named[-1])


def object_name(finding: Finding) -> str | None:
    found = database_object(finding)
    return found.name if found is not None else None


def source_file(report: Report, finding: Finding, root: str | None = None) -> str:
    """The file the finding's line is in (the old lock of a `diff` removal, else the report's
    lock), relative to `root` (default: the working directory) when it lies inside it, in
    `/`-separated form, as CI tools resolve paths against the repository."""
    return relative_path(finding.path or report.lock_path or "schema_lock.yaml", root)


def annotated_at(
    report: Report, finding: Finding, root: str | None = None
) -> tuple[str, int | None]:
    """Where a code host shows the finding: its file and line, but for what a `diff` found
    removed, whose line is in the base lock (`origin/main:schema_lock.yaml`, no file of the
    pull request): the pull request's lock itself, no line (`removed_from` says where it was)."""
    if finding.path is not None and finding.path != report.lock_path:
        return lock_file(report, root), None
    return source_file(report, finding, root), finding.lock_line


def removed_from(report: Report, finding: Finding) -> str:
    """For a finding `annotated_at` moved to the new lock: ` (removed from REF:PATH:LINE)`."""
    if finding.path is None or finding.path == report.lock_path:
        return ""
    line = f":{finding.lock_line}" if finding.lock_line else ""
    return f" (removed from {finding.path}{line})"


def lock_file(report: Report, root: str | None = None) -> str:
    """The report's lock, as `source_file` names it."""
    return relative_path(report.lock_path or "schema_lock.yaml", root)


def relative_path(path: str, root: str | None = None) -> str:
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute, os.path.abspath(root or os.getcwd()))
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return PurePath(absolute).as_posix()  # outside the root: only the whole path is honest
    return PurePath(relative).as_posix()


def by_severity(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first; the report's order (by table) within a severity."""
    return sorted(findings, key=lambda finding: -finding.severity.rank)


def fingerprints(report: Report, findings: Sequence[Finding], root: str | None = None) -> list[str]:
    """One fingerprint per finding, equal across runs for the same problem: the rule, the
    file, the object and the message without its numbers, never the line.  Two findings that
    would share one (the same message about the same object) are told apart by their order."""
    seen: dict[str, int] = {}
    prints = []
    for finding in findings:
        base = "\0".join(
            (
                finding.code,
                source_file(report, finding, root),
                object_name(finding) or "",
                _VOLATILE.sub("#", finding.message),
            )
        )
        seen[base] = seen.get(base, 0) + 1
        if seen[base] > 1:
            base += f"\0{seen[base]}"
        prints.append(hashlib.sha256(base.encode("utf-8")).hexdigest()[:32])
    return prints


def uncovered_text(report: Report) -> str | None:
    """What the database holds that schemalock does not model, as one line (None when it
    holds nothing of the kind): `not covered (2): extension citext; sequence public.s`."""
    if not report.uncovered:
        return None
    named = "; ".join(f"{kind} {name}" for kind, name in report.uncovered)
    return f"not covered ({len(report.uncovered)}), held by the database but not compared: {named}"


def inconclusive_text(item: InconclusiveCheck) -> str:
    """A check that could not run, as one line: `fk-orphans on public.jobs: statement_timeout`."""
    target = f" on {qualified(item.schema, item.table)}" if item.table else ""
    return f"{item.rule}{target}: {item.reason}"
