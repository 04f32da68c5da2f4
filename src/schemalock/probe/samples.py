"""Data samples as findings show them: a few distinct values, redacted."""

from __future__ import annotations

import re
from collections.abc import Iterable

SAMPLE_LIMIT = 5


def distinct(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))[:SAMPLE_LIMIT]


_EMAIL = re.compile(r"([^\s@<>\"',;:()]+)@([^\s@]+)")


def redact(value: str, limit: int = 40) -> str:
    """A data sample as reports show it: every email's local part masked (`t***@example.com`),
    text longer than `limit` cut."""
    value = _EMAIL.sub(lambda m: f"{m.group(1)[0]}***@{m.group(2)}", value)
    return value if len(value) <= limit else value[: limit - 3] + "..."
