"""Files the user gives schemalock (the lock, the check files its flows name), read in bounded
memory.

A lock of 5,000 tables is about 4.4 MB.  Anything over `MAX_INPUT_BYTES` is refused (exit 2)
once that many bytes have been read, never more: `--lock /dev/zero`, a FIFO that never ends or
a /proc file reads at most the limit plus one chunk, whatever size the file claims.
"""

from __future__ import annotations

import os
import stat
from typing import Final

# 32 MiB: seven times a 5,000-table lock, and more than the YAML loader's node budget
# (`yamlsafe.MAX_NODES`) lets a lock of ordinary tables reach anyway.
MAX_INPUT_BYTES: Final = 32 * 1024 * 1024
_CHUNK: Final = 1024 * 1024


class InputTooLarge(ValueError):
    """The file holds more than the limit; the message names the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"larger than {describe(limit)}, the most schemalock reads from an input file"
        )
        self.limit = limit


def describe(limit: int) -> str:
    """`32 MiB (33,554,432 bytes)`: the limit as a person reads it, and exactly."""
    if limit < 1024 * 1024:
        return f"{limit:,} bytes"
    return f"{limit / (1024 * 1024):g} MiB ({limit:,} bytes)"


def read_limited(path: str, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of `path`, or InputTooLarge once more than `limit` have been read.  OSError
    (no such file, a directory, no permission) is left to the caller to word."""
    with open(path, "rb") as handle:
        info = os.fstat(handle.fileno())
        if stat.S_ISREG(info.st_mode) and info.st_size > limit:
            raise InputTooLarge(limit)  # a regular file says its size: nothing to read
        content = bytearray()
        while len(content) <= limit:
            chunk = handle.read(min(_CHUNK, limit + 1 - len(content)))
            if not chunk:
                return bytes(content)
            content += chunk
    raise InputTooLarge(limit)
