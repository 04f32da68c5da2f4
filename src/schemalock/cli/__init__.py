"""The command line: parse options, call the library, map outcomes to exit codes.

Heavy libraries (psycopg, pydantic, pglast, SQLAlchemy, Alembic) are imported inside the
commands that need them, so `--help` and `--version` start fast.

The application, its global options and error handling are here; each command is a plain
function in its group's module (verify, fix, lock, rules, demo), registered below in the
order `--help` lists them.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup, TyperOption

from schemalock import __version__
from schemalock.cli import demo, fix, lock, rules, verify
from schemalock.errors import EXIT_CLEAN, EXIT_USAGE, SchemalockError

__all__ = ["app", "main", "run"]

_state = {"debug": False}
DEBUG_HELP = "Show tracebacks on errors (passwords still redacted)."


def _debug_on(_context: object, _parameter: object, value: bool) -> None:
    if value:
        _state["debug"] = True


class _Commands(TyperGroup):
    """The command group; every command also takes `--debug` after its name (`schemalock
    verify --debug`), as it is taken before it."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for command in self.commands.values():
            command.params.append(
                TyperOption(
                    param_decls=["--debug"],
                    is_flag=True,
                    default=False,
                    expose_value=False,  # kept in _state, which run() reads
                    callback=_debug_on,
                    help=DEBUG_HELP,
                )
            )


app = typer.Typer(
    name="schemalock",
    cls=_Commands,
    help="Keep a PostgreSQL database honest: verify it against schema_lock.yaml.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"schemalock {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help=DEBUG_HELP)] = False,
) -> None:
    _state["debug"] = debug


# The commands, in the order `schemalock --help` lists them.
for _command in (
    verify.verify,
    fix.fix,
    lock.lint,
    lock.snapshot,
    rules.rules,
    rules.explain,
    lock.schema,
    demo.demo,
    lock.docs,
):
    app.command()(_command)


def run() -> int:
    """The command line as a function: runs `sys.argv`, returns the exit code."""
    _state["debug"] = False  # set by --debug's callbacks, before or after the command
    try:
        app()  # standalone: usage errors exit 2, typer.Exit exits with its code
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    except SchemalockError as error:
        return _fail(str(error), error.exit_code, _state["debug"], error.details)
    except Exception as error:  # a bug: one redacted line, the traceback only with --debug
        return _fail(
            f"internal error: {type(error).__name__}: {error} (run with --debug for details)",
            EXIT_USAGE,
            _state["debug"],
        )
    return EXIT_CLEAN


def main() -> NoReturn:
    # A short-lived process building large acyclic structures (a 5,000-table lock is a million
    # objects): the cyclic collector would rescan them over and over and free nothing.
    gc.disable()
    from schemalock.db import interrupts

    with interrupts.handled():  # SIGINT, SIGTERM: cancel on the server, exit 130, 143
        code = run()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is written and every connection closed: skip the interpreter's teardown, which
    # spends 50-150 ms freeing object graphs (seconds on a 5,000-table schema).
    os._exit(code)


def _fail(message: str, code: int, debug: bool, details: tuple[str, ...] = ()) -> int:
    from schemalock.db import URL_ENV_VARS, redact
    from schemalock.render import safe_text

    urls = [os.environ.get(name, "") for name in URL_ENV_VARS]
    urls += [
        arg.removeprefix("--database-url=").removeprefix("-d=")
        for arg in sys.argv
        if "://" in arg or "password=" in arg
    ]
    # Messages quote names from the lock and the database: escaped, one line each.
    message = "\n  ".join(safe_text(line) for line in (message, *details))
    if debug:
        import traceback

        trace = "\n".join(safe_text(line) for line in traceback.format_exc().splitlines())
        message = f"{trace}\n{message}"
    for url in urls:
        message = redact(message, url)
    print(f"schemalock: error: {message}" if not debug else message, file=sys.stderr)
    return code
