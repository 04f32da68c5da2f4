"""Where a value sits in the lock file, and the error that names that place."""

from __future__ import annotations

# A value's place in the lock: keys and list indexes from the top, e.g.
# ("tables", "jobs", "columns", "org_id", "type").
Path = tuple[str | int, ...]


class ConversionError(ValueError):
    """A lock value that cannot become part of the model; `path` says where it sits."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path
