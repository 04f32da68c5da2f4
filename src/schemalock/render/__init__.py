"""Renderers: functions from a Report to text.  They only read findings."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")


def safe_text(text: str) -> str:
    """Control characters from object names shown escaped, so they cannot drive a terminal or CI
    log (`\\x1b[2J`, `\\r`, workflow commands at line start)."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text.replace("\n", "\\n")
