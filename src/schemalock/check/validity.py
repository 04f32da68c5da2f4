"""Whether a lock is valid, judged the same way by every command.

A lock is invalid when a rule about the lock file itself (category `lock`) finds an error in
it: `dangling-reference` SL001, `duplicate-name` SL002, `identifier-too-long` SL003,
`invalid-pattern` SL005, `invalid-expression` SL006.  Warnings (`table-count-mismatch` SL004)
never make it invalid, nor does `fk-type-mismatch` SL203 between two columns of the lock: the
lock may describe a relation no foreign key can hold (text to uuid), which verify still checks
row by row.  `--select` and `--ignore` choose which findings a report shows, never whether the
lock is valid.

`verify`, `fix` and `docs` (with and without `--live`) refuse an invalid lock with exit 2 and
`file:line:column` of its first error, before they connect; `lint` lists every finding, then
exits 2.  `fix` also refuses (exit 2) a lock in which SL203 finds such a relation: no migration
can create its foreign key.  Judging the lock parses every expression and plans every flow
invariant and query contract, so nothing of the lock is parsed later inside a transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from schemalock.errors import LockFileError

if TYPE_CHECKING:
    from schemalock.check.findings import Finding
    from schemalock.model import Lock


@dataclass
class _Judged:
    """The offline findings of the last lock judged: `lint` and the refusal share one run."""

    lock: Lock | None = None
    findings: list[Finding] = field(default_factory=list)


_last = _Judged()


def offline_findings(lock: Lock) -> list[Finding]:
    """Every finding of the rules that need no database (what `lint` runs), sorted; those
    of a lock read from its file are kept with its compiled model (`lock.cache`), and what
    was found in the same bytes by the same code is not looked for again."""
    if _last.lock is not lock:
        _last.findings = _judged(lock)
        _last.lock = lock
    return list(_last.findings)


def _judged(lock: Lock) -> list[Finding]:
    from schemalock.lock import cache

    kept = cache.findings(lock)
    if kept is not None:
        _plan_user_sql(lock)
        return kept
    from schemalock.check import engine

    found = engine.run(lock, None, engine.select_rules(offline=True))
    cache.keep_findings(lock, found)
    return found


def _plan_user_sql(lock: Lock) -> None:
    """Plan every flow invariant and parse every query contract, as judging the lock does:
    the rules that run them find the work done (`usersql` keeps it), and parse nothing while
    a transaction is open."""
    if not lock.flows and not lock.queries:
        return  # and the SQL sandbox (pglast) is never imported
    from schemalock.usersql import flows
    from schemalock.usersql import sandbox as userexpr

    for flow in lock.flows:
        for invariant in flow.invariants:
            with contextlib.suppress(userexpr.Rejected):
                flows.plan(invariant, lock.database)
    for query in lock.queries:
        userexpr.query_error(query.sql)


def errors(lock: Lock, migration: bool = False) -> list[Finding]:
    """The findings that make `lock` invalid (none: it is valid), first in the file first;
    `migration`: also those that make it unfit to plan a migration from."""
    from schemalock.check.findings import Category, Severity

    found = [
        f
        for f in offline_findings(lock)
        if f.severity is Severity.ERROR and (migration or f.category is Category.LOCK)
    ]
    return sorted(found, key=lambda f: (f.lock_line is None, f.lock_line or 0))


def refuse_invalid(lock: Lock, migration: bool = False) -> None:
    """LockFileError (exit 2) at the first error of an invalid lock; nothing for a valid one.
    `migration` (fix): any error the offline rules find refuses it."""
    found = errors(lock, migration)
    if not found:
        return
    first = found[0]
    line = first.lock_line or lock.settings.tables_line or 1
    more = ""
    if len(found) > 1:
        more = f" (and {len(found) - 1} more: `schemalock lint` lists every finding)"
    raise LockFileError(
        lock.path,
        line,
        _entry_column(lock, line),
        f"{first.message} [{first.code} {first.rule}]{more}",
    )


def _entry_column(lock: Lock, line: int) -> int | None:
    """Where the entry on `line` starts (its key, after any `- `), read again from the lock
    file; None when the file is not the one loaded any more (or never was a file)."""
    from schemalock.lock import inputs

    if not os.path.isfile(lock.path):  # a pipe read once, say: opening it again could block
        return None
    try:
        raw = inputs.read_limited(lock.path)
    except (OSError, ValueError):
        return None
    if hashlib.sha256(raw).hexdigest() != lock.sha256:
        return None
    lines = raw.decode("utf-8-sig", errors="replace").split("\n")
    if not 0 < line <= len(lines):
        return None
    indent = re.match(r"[ \t]*(?:-[ \t]+)*", lines[line - 1])
    return (indent.end() if indent else 0) + 1
