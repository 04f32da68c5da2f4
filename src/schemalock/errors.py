"""Exit codes (a public contract) and the exceptions that map onto them."""

from __future__ import annotations

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_CONNECTION = 3
EXIT_INCONCLUSIVE = 4
EXIT_REFUSED = 5


class SchemalockError(Exception):
    """An expected failure: the CLI prints its one-line message (then `details`, a line each)
    and exits with `exit_code`."""

    exit_code = EXIT_USAGE
    details: tuple[str, ...] = ()


class UsageError(SchemalockError):
    """Bad options or arguments."""


class LockFileError(SchemalockError):
    """The lock file cannot be read or is invalid; the message starts with file:line:col."""

    def __init__(self, path: str, line: int | None, column: int | None, message: str) -> None:
        self.path, self.line, self.column, self.detail = path, line, column, message
        where = path if line is None else f"{path}:{line}:{column or 1}"
        super().__init__(f"{where}: {message}")


class ConnectionFailed(SchemalockError):
    """The database could not be reached or refused the credentials."""

    exit_code = EXIT_CONNECTION


class Inconclusive(SchemalockError):
    """A check could not finish (timeout, privileges, lost connection): never a pass."""

    exit_code = EXIT_INCONCLUSIVE

    def __init__(self, check: str, reason: str) -> None:
        self.check, self.reason = check, reason
        super().__init__(f"{check}: {reason}")


class Refused(SchemalockError):
    """Refused for safety; `details` lists what, one item a line."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str, details: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.details = details


class Incomplete(SchemalockError):
    """A migration stopped part-way for a reason of the database's (a lock not granted, a lost
    connection, a permission): the message says what was applied and how to resume."""

    exit_code = EXIT_INCONCLUSIVE
