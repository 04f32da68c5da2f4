"""`schemalock diff`: the changes between two versions of the lock, judged, as a report.

The schema is compared by the comparison stage (`schema`, `keys`, `schema_types`), everything
else key by key (`declarations`, `judging`).  Each change becomes a finding of `lock-regression`
(error), `lock-progress` or `lock-change` (info).  A regression is acknowledged by a waiver the
new lock adds (`rule: regression` or the rule's code or name, `object` a glob on its name, and
a reason): it is then reported as waived and does not count.  A waiver the base lock already
had acknowledges nothing here: the acknowledgement must be part of the change under review.
A regression on a table or column marked `critical: true` needs a waiver naming it exactly.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from schemalock.check import validity, waivers
from schemalock.check.findings import Finding, Report
from schemalock.guard import declarations, judging, keys, schema
from schemalock.guard.changes import Change, Kind
from schemalock.lock import inputs, load_lock, yamlsafe
from schemalock.model import Lock, Waiver
from schemalock.rules.base import Rule
from schemalock.rules.history import LockChange, LockProgress, LockRegression
from schemalock.rules.waivers import ExpiredWaiver, UnusedWaiver

RULE_OF: dict[Kind, type[Rule]] = {
    Kind.REGRESSION: LockRegression,
    Kind.PROGRESS: LockProgress,
    Kind.NEUTRAL: LockChange,
}
# The rules a diff runs: its own three, and what the waivers it reads say of themselves.
RAN: tuple[type[Rule], ...] = (
    LockRegression,
    LockProgress,
    LockChange,
    ExpiredWaiver,
    UnusedWaiver,
)


@dataclass(frozen=True)
class Version:
    """A version of the lock and its text (the model places everything but `database:`'s
    keys; the text places those)."""

    lock: Lock
    text: str = ""


def read(path: str) -> Version:
    """The lock file at `path` (LockFileError, exit 2, when it cannot be read or loaded)."""
    lock = load_lock(path)
    try:
        text = inputs.read_limited(path).decode("utf-8-sig")
    except (OSError, ValueError):
        text = ""  # gone since it was loaded: only the `database:` lines are missed
    return Version(lock, text)


def diff(new: Version, base: Version | None, base_name: str, today: date) -> Report:
    """The report of what changed from `base` (None: there was no lock) to `new`, as of
    `today` (waivers that expired by then acknowledge nothing)."""
    started = time.monotonic()
    if base is None:
        changes = [_new_lock(new.lock, base_name)]
        old_waivers: tuple[Waiver, ...] = ()
    else:
        changes = _repairs(_changes(new, base), base.lock, new.lock)
        old_waivers = base.lock.waivers
    findings = [_finding(change, base_name) for change in changes]
    closed = [f for f, change in zip(findings, changes, strict=True) if not change.acknowledgeable]
    fresh = _fresh(new.lock.waivers, old_waivers)
    critical = waivers.critical_names(new.lock) | (
        waivers.critical_names(base.lock) if base else frozenset()
    )
    exact = waivers.exact_on_critical(critical)

    def accept(waiver: Waiver, finding: Finding) -> bool:
        return exact(waiver, finding) and not any(finding is f for f in closed)

    findings = waivers.apply(findings, fresh, today, RAN, accept=accept)
    findings = [_refused(f, fresh, critical) for f in findings]
    return Report(
        findings=findings,
        command="diff",
        lock_path=new.lock.path,
        lock_sha256=new.lock.sha256,
        rules=tuple(rule.code for rule in RAN),
        base_path=base_name,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def _changes(new: Version, base: Version) -> list[Change]:
    comparison, renamed = schema.compared(new.lock, base.lock)
    pairs, rest = keys.paired(list(comparison))
    found = renamed + pairs + schema.changes(new.lock, base.lock, rest) + keys.marks(comparison)
    lines = (_database_lines(new.text), _database_lines(base.text))
    new_form, old_form = declarations.forms(new.lock, base.lock, comparison, lines)
    return found + judging.changes(new_form, old_form)


def _repairs(changes: list[Change], old: Lock, new: Lock) -> list[Change]:
    """A base lock may be invalid (the base only has to load): a change that repairs what
    made it invalid (a foreign key to a table it did not list, an unreadable pattern or
    check) is progress, not a regression.  Only a change of the same object and kind as a
    base error the new lock no longer has counts as a repair."""
    broken = validity.errors(old)
    if not broken:
        return changes
    still = {(e.code, e.schema, e.table, e.column, e.message) for e in validity.errors(new)}
    fixed = [e for e in broken if (e.code, e.schema, e.table, e.column, e.message) not in still]
    return [_repaired(change, fixed) for change in changes]


def _repaired(change: Change, fixed: list[Finding]) -> Change:
    if change.kind is not Kind.REGRESSION:
        return change
    for error in fixed:
        if (error.schema, error.table) == (change.schema, change.table) and _same_kind(
            error, change
        ):
            return replace(
                change,
                kind=Kind.PROGRESS,
                message=f"{change.message} (repairs the base lock: {error.message})",
            )
    return change


def _same_kind(error: Finding, change: Change) -> bool:
    """Whether `change` is about what `error` (a lock-validity error of the base) is about."""
    kind = change.subject.kind if change.subject else None
    if error.rule == "dangling-reference" and " is a duplicate of " in error.message:
        return ".duplicate_of" in change.message
    if error.rule == "dangling-reference":  # a foreign key's target
        return kind == "foreign key" and error.constraint in (None, change.constraint)
    if error.rule == "invalid-pattern":
        return change.column == error.column and ".pattern" in change.message
    if error.rule == "invalid-expression":
        return kind in ("check", "index") or ".check." in change.message
    return False


def _database_lines(text: str) -> dict[tuple[str, ...], int]:
    """The lines of `database:` and its keys, which the model does not keep: its block alone
    is read again (not the whole file)."""
    block = _DATABASE.search(text)
    if block is None:
        return {}
    try:
        positions = yamlsafe.load(block.group(), position_depth=2)[1]
    except yamlsafe.YamlError:
        return {}
    before = text.count("\n", 0, block.start())
    return {
        tuple(str(part) for part in path): before + line
        for path, (line, _) in positions.items()
        if path[:1] == ("database",)
    }


# The top-level `database:` key and the lines below it that belong to it (indented, blank or
# comments).
_DATABASE = re.compile(r"^database:.*(?:\n(?:[ \t#].*)?)*", re.MULTILINE)


def _new_lock(lock: Lock, base_name: str) -> Change:
    tables, flows = len(lock.database.tables), len(lock.flows)
    return Change(
        kind=Kind.PROGRESS,
        message=f"no lock at {base_name}: the whole lock is new ({tables} tables, {flows} flows, "
        f"{len(lock.queries)} query contracts)",
        line=1,
    )


def _finding(change: Change, base_name: str) -> Finding:
    rule = RULE_OF[change.kind]()
    message = change.message
    if change.critical and change.kind is Kind.REGRESSION:
        message = (
            f"critical {message}"
            if message.startswith(("table ", "column "))
            else (f"critical: {message}")
        )
    return rule.finding(
        message,
        schema=change.schema,
        table=(change.schema or "", change.table) if change.table else None,
        column=change.column,
        constraint=change.constraint,
        line=change.line,
        subject=change.subject,
        expected=change.before,
        actual=change.after,
        path=base_name if change.in_base else None,
        waived=change.acknowledged,
    )


def _fresh(new: Iterable[Waiver], old: Iterable[Waiver]) -> list[Waiver]:
    """The acknowledgements the pull request adds: waivers of regressions whose rule and
    object the base lock did not have.  One the base had stays inherited whatever else is
    edited on it (its reason, owner or end): only a new one acknowledges anything."""
    inherited = {declarations.identity(w) for w in old}
    return [
        w for w in new if declarations.acknowledges(w) and declarations.identity(w) not in inherited
    ]


def _refused(finding: Finding, fresh: list[Waiver], critical: frozenset[str]) -> Finding:
    """A critical regression a glob would have acknowledged says why it did not."""
    if finding.waived is not None or finding.category.value != "regression":
        return finding
    exact = waivers.exact_on_critical(critical)
    globs = [w for w in fresh if waivers.matches(w, finding) and not exact(w, finding)]
    if not globs:
        return finding
    names_it = waivers.object_names(finding)[0]
    hint = f" (a glob acknowledges no critical regression: name {names_it} in the waiver)"
    return replace(finding, message=finding.message + hint)
