"""The command line's entry point (the `schemalock` console script is `schemalock.cli:main`).

This package's own module imports nothing heavy: `schemalock --version` is answered here,
without Typer (Typer and its click take longer to import than the interpreter takes to start).
Everything else goes to the application, `cli.application`, which `app` and `run` name here.
"""

from __future__ import annotations

import gc
import os
import sys

from schemalock import __version__

# `typing` alone takes a third as long to import as Python takes to start; mypy reads any
# constant of this name as typing's.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from schemalock.cli.application import app, run

__all__ = ["app", "main", "run", "version_line"]

# The global options' variables (`cli.flags`): the application checks them before anything
# else, a bad value being a usage error even beside --version, so the fast path steps aside
# when one is set.  tests/test_cli.py holds this list to the application's.
GLOBAL_VARIABLES = (
    "SCHEMALOCK_DEBUG",
    "SCHEMALOCK_QUIET",
    "SCHEMALOCK_VERBOSE",
    "SCHEMALOCK_COLOR",
    "SCHEMALOCK_NO_PROGRESS",
    "SCHEMALOCK_EXIT_ZERO",
)


def version_line() -> str:
    """What `--version` prints, from both paths."""
    return f"schemalock {__version__}"


def main() -> NoReturn:
    if sys.argv[1:] == ["--version"] and not any(name in os.environ for name in GLOBAL_VARIABLES):
        try:
            print(version_line())
        except BrokenPipeError:
            _exit(BROKEN_PIPE)
        _exit(0)
    # A short-lived process building large acyclic structures (a 5,000-table lock is a million
    # objects): the cyclic collector would rescan them over and over and free nothing.
    gc.disable()
    from schemalock.cli.application import run
    from schemalock.db import interrupts

    with interrupts.handled():  # SIGINT, SIGTERM: cancel on the server, exit 130, 143
        code = run()
    _exit(code)


# The shell's code for a process whose reader went away (128 + SIGPIPE), `schemalock ... | head`.
BROKEN_PIPE = 141


def _exit(code: int) -> NoReturn:
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: the caller closed it (`>&-`); nothing was written
                stream.flush()
        except BrokenPipeError:
            code = code or BROKEN_PIPE
    # Everything is written and every connection closed: skip the interpreter's teardown, which
    # spends 50-150 ms freeing object graphs (seconds on a 5,000-table schema).
    os._exit(code)


def __getattr__(name: str) -> Any:
    if name in ("app", "run"):
        from schemalock.cli import application

        return getattr(application, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
