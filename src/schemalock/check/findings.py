"""Findings are plain data; renderers only read them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from schemalock.compare.differences import Subject


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Category(StrEnum):
    LOCK = "lock"
    STRUCTURE = "structure"
    INTEGRITY = "integrity"
    IDENTIFIERS = "identifiers"
    DATA = "data"
    CONTRACTS = "contracts"
    # Design advice, not drift: `verify` runs these rules only when asked for by name, code or
    # category (`--select advice`), so a database that agrees with its lock verifies silent.
    ADVICE = "advice"
    # `schemalock diff` only: what a change to the lock removes or weakens (a waiver with
    # `rule: regression` acknowledges these), and the rest of its changes.
    REGRESSION = "regression"
    HISTORY = "history"


@dataclass(frozen=True)
class Finding:
    code: str
    rule: str
    severity: Severity
    category: Category
    message: str
    schema: str | None = None
    table: str | None = None
    column: str | None = None
    constraint: str | None = None
    expected: Any = None
    actual: Any = None
    count: int | None = None
    samples: tuple[str, ...] = ()
    lock_line: int | None = None
    fixable: bool = False
    estimated: bool = False  # `count` is an estimate from a sample of the table (--sample)
    # The object the finding is about, as the comparison named it (None for findings about the
    # data, the lock file or the run).
    subject: Subject | None = field(default=None, compare=False)
    # The file `lock_line` is a line of, when it is not the report's lock (`diff`: a removal
    # points at the old lock).
    path: str | None = None
    # The reason of the waiver (or acknowledged regression) that accepts it: reported, never
    # counted toward the exit code.
    waived: str | None = None

    @property
    def sort_key(self) -> tuple[Any, ...]:
        return (
            self.schema or "",
            self.table or "",
            -self.severity.rank,
            self.code,
            self.column or "",
            self.constraint or "",
            self.message,
        )


@dataclass(frozen=True)
class InconclusiveCheck:
    rule: str
    reason: str
    schema: str | None = None
    table: str | None = None


@dataclass(frozen=True)
class KindCoverage:
    kind: str
    database: int  # how many the database holds
    lock: int  # how many the lock declares
    compared: int  # how many both have: compared aspect by aspect


@dataclass(frozen=True)
class Coverage:
    """What a verify run looked at (`check.coverage` measures it)."""

    kinds: tuple[KindCoverage, ...] = ()
    # What the database holds that schemalock does not model: (kind, qualified name).
    uncovered: tuple[tuple[str, str], ...] = ()


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    command: str = "verify"  # verify, lint or diff: what made it (titles, tool names)
    inconclusive: list[InconclusiveCheck] = field(default_factory=list)
    lock_path: str | None = None
    lock_sha256: str | None = None
    target_url: str | None = None
    server_version: str | None = None
    duration_ms: int = 0
    # The codes of the rules that ran (JUnit lists those without findings as passed); empty
    # when a run stopped before its rules could run, or its maker does not say.
    rules: tuple[str, ...] = ()
    # `diff`: the lock the report's lock is compared with (`REF:path` or a file's path).
    base_path: str | None = None
    # verify: what the run looked at, kind by kind, and what it saw but does not model
    # (`check.coverage`); None when nothing was compared (lint, diff, no connection).
    coverage: Coverage | None = None

    def counts(self) -> dict[str, int]:
        counts = {severity.value: 0 for severity in Severity}
        for finding in self.counted:
            counts[finding.severity.value] += 1
        return counts

    @property
    def counted(self) -> list[Finding]:
        """The findings that count: every one but the waived."""
        return [f for f in self.findings if f.waived is None]

    def failed(self, fail_on: Severity) -> bool:
        return any(f.severity.rank >= fail_on.rank for f in self.counted)

    @property
    def uncovered(self) -> tuple[tuple[str, str], ...]:
        """What the database holds that schemalock does not model (`--fail-on uncovered`)."""
        return self.coverage.uncovered if self.coverage is not None else ()
