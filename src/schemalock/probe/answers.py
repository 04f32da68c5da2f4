"""What the probe answers with: counts and samples, never rows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OrphanCount:
    orphans: int
    invalid: int  # child values that cannot even be read as the parent's type
    samples: tuple[str, ...] = ()
    compared_as: str = ""  # how child and parent values were compared, for the message
    invalid_samples: tuple[str, ...] = ()  # a few of the values that do not convert


@dataclass(frozen=True)
class CheckCount:
    violations: int  # rows the check's expression is false for
    samples: tuple[str, ...] = ()  # the primary keys of a few of them


@dataclass(frozen=True)
class ColumnStats:
    non_null: int
    uuid: int = 0
    undashed: int = 0  # 32 hex digits
    undashed_uuid: int = 0  # of those, with a uuid's version and variant digits
    pattern_violations: int = 0
    value_violations: int = 0
    mock: int = 0  # rows any mock-data detector matches
