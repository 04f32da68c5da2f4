"""The server-side limits every schemalock transaction runs under."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Timeouts:
    """Server-side limits for every transaction; lock_timeout stays below statement_timeout."""

    statement_ms: int = 30_000

    @property
    def lock_ms(self) -> int:
        return max(50, min(5_000, self.statement_ms // 3))

    @property
    def idle_ms(self) -> int:
        return self.statement_ms + 30_000
