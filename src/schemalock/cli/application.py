"""The command line's application: parse options, call the library, map outcomes to exit codes.

Heavy libraries (psycopg, pydantic, pglast, SQLAlchemy, Alembic) are imported inside the
commands that need them, so `--help` starts fast (`--version` does not come here at all: see
`schemalock.cli.main`).

The application and error handling are here; each command is a plain function in its group's
module (verify, fix, lock, rules, demo, config, ...), registered below in the order `--help`
lists them. The global options are `cli.flags`, the configuration file `cli.config`, `-v`'s
timings `cli.verbose`. Shell completion is Typer's (`--install-completion`): completing runs
no command, and nothing heavy is imported for it.
"""

from __future__ import annotations

import inspect
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from schemalock.cli import (
    BROKEN_PIPE,
    baseline,
    config,
    demo,
    diff,
    fix,
    flags,
    lock,
    rules,
    verbose,
    verify,
    version_line,
)
from schemalock.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, SchemalockError

if TYPE_CHECKING:
    from typer import _click as click  # Typer's own copy of click

__all__ = ["app", "run"]

_ARGS = "schemalock.args"  # the command's arguments, in the group's context


class _Commands(TyperGroup):
    """The command group. The global options (`cli.flags`) are taken before the command's
    name and after it (`schemalock verify --debug`); every option of every command can be set
    by its SCHEMALOCK_ variable and by a configuration file (`cli.config`)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.params += flags.typer_options()
        for command in self.commands.values():
            command.params += flags.typer_options()
        config.add_environment_variables(self.commands)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        config.check_environment(self, args)  # the global options' variables, in one line
        rest = super().parse_args(ctx, args)
        ctx.meta[_ARGS] = list(rest)  # where the lock, and so the configuration file, is
        return rest

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command with its whole first paragraph, wrapped: click's own listing cuts it
        at about 45 characters ("report every...")."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                first = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
                rows.append((name, " ".join(first.split())))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


app = typer.Typer(
    name="schemalock",
    cls=_Commands,
    help="Keep a PostgreSQL database honest: verify it against schema_lock.yaml.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # click's plain help, not Rich's panels: Rich's help renderer imports Markdown, Pygments
    # and tracebacks, which made `--help` take 14 times as long as starting Python.
    rich_markup_mode=None,
    context_settings={"max_content_width": 120},  # the terminal's width, up to 120 (click: 80)
)


def _version(value: bool) -> None:
    if value:
        print(version_line())
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Before the command parses its options: the configuration file becomes their defaults."""
    commands = ctx.command.commands if isinstance(ctx.command, TyperGroup) else {}
    invoked = ctx.invoked_subcommand
    if invoked is not None and invoked in commands:
        config.check_environment(commands[invoked], ctx.meta.get(_ARGS, ()))
    start = config.start_folder(ctx.meta.get(_ARGS, ()))
    found = config.find(start)
    ctx.meta[config.META_START], ctx.meta[config.META_FILE] = start, found
    if found is not None and isinstance(ctx.command, TyperGroup):
        ctx.default_map = config.defaults(found, ctx.command.commands)


# The commands, in the order `schemalock --help` lists them.
for _command in (
    verify.verify,
    baseline.baseline,
    diff.diff,
    fix.fix,
    lock.lint,
    lock.snapshot,
    rules.rules,
    rules.explain,
    lock.schema,
    demo.demo,
    lock.docs,
    config.config,
):
    app.command()(_command)


def run() -> int:
    """The command line as a function: runs `sys.argv`, returns the exit code."""
    flags.reset()  # set by the global options' callbacks, before or after the command
    verbose.begin()
    try:
        code = _run()
    finally:
        verbose.finish()  # -v's last stage and total; it stops watching connections
    if code == EXIT_FINDINGS and flags.FLAGS.exit_zero:
        return EXIT_CLEAN  # --exit-zero: findings do not fail; errors (2-5) still do
    return code


def _run() -> int:
    try:
        app()  # standalone: usage errors exit 2, typer.Exit exits with its code
    except SystemExit as done:
        if type(sys.stdout).__name__ == "PacifyFlushWrapper":
            # Click's answer to EPIPE (`schemalock ... | head`): it wraps stdout so nothing
            # more fails, and exits 1, which here says "findings".  The shell's code instead.
            return BROKEN_PIPE
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    except SchemalockError as error:
        return _fail(str(error), error.exit_code, flags.FLAGS.debug, error.details)
    except Exception as error:  # a bug: one redacted line, the traceback only with --debug
        return _fail(
            f"internal error: {type(error).__name__}: {error} (run with --debug for details)",
            EXIT_USAGE,
            flags.FLAGS.debug,
        )
    return EXIT_CLEAN


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
