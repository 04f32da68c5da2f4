"""Durations as PostgreSQL reads a time setting (`500ms`, `5s`, `2min`, `1h`, a bare number in
milliseconds), for the timeouts a user gives `fix` and the ones a migration sets."""

from __future__ import annotations

import re
from typing import Final

_DURATION: Final = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(us|ms|s|min|h|d)?\s*")
_UNIT_MS: Final = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def milliseconds(text: str) -> float | None:
    """`text` in milliseconds (no unit: milliseconds, as for statement_timeout), or None if
    it is not a duration."""
    match = _DURATION.fullmatch(text)
    if match is None:
        return None
    return float(match[1]) * _UNIT_MS[match[2] or "ms"]
