"""The global options: `--debug`, `-q`, `-v`, `--color`, `--no-progress`, `--exit-zero`.

Each is taken before the command's name and after it (`schemalock -q verify`, `schemalock
verify -q`), from `SCHEMALOCK_<OPTION>` and from a configuration file: the group and every
command carry a copy of each option, whose callback records its value in `FLAGS` with where
it came from. A value from a stronger source (command line, environment, file, default)
replaces a weaker one; `-v` given both before and after the command adds up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import typer
from typer.core import TyperOption

COLORS = ("auto", "always", "never")
# click's ParameterSource names, weakest first ("DEFAULT_MAP" is a configuration file).
_RANK = {"DEFAULT": 0, "DEFAULT_MAP": 1, "ENVIRONMENT": 2, "COMMANDLINE": 3}


@dataclass
class Flags:
    """The global options of this run, and the click source each value came from."""

    debug: bool = False
    quiet: bool = False
    verbose: int = 0
    color: str = "auto"
    no_progress: bool = False
    exit_zero: bool = False
    sources: dict[str, str] = field(default_factory=dict)


FLAGS = Flags()


@dataclass(frozen=True)
class GlobalOption:
    decls: tuple[str, ...]
    help: str
    count: bool = False
    choice: bool = False

    @property
    def key(self) -> str:
        return self.decls[-1].removeprefix("--").replace("-", "_")


OPTIONS = (
    GlobalOption(("--debug",), "Show tracebacks on errors (passwords still redacted)."),
    GlobalOption(("-q", "--quiet"), "Findings only: no summary line, no 'wrote' notes."),
    GlobalOption(
        ("-v", "--verbose"),
        "Timings per stage and per rule on stderr; -vv also every query's.",
        count=True,
    ),
    GlobalOption(
        ("--color",),
        "Colour: auto (a terminal; NO_COLOR, FORCE_COLOR), always, never.",
        choice=True,
    ),
    GlobalOption(("--no-progress",), "No progress bar (never shown in CI or off a terminal)."),
    GlobalOption(("--exit-zero",), "Exit 0 even with findings (errors still exit 2-5)."),
)
KEYS = frozenset(option.key for option in OPTIONS)


def reset() -> None:
    """Forget the last run's flags (the CLI runs in-process in the tests)."""
    FLAGS.__dict__.update(Flags().__dict__)


def typer_options() -> list[TyperOption]:
    """A fresh copy of every global option, for the group or one command."""
    return [_typer_option(option) for option in OPTIONS]


def _typer_option(option: GlobalOption) -> TyperOption:
    extra: dict[str, Any] = {"is_flag": True, "default": False}
    if option.count:
        extra = {"count": True, "default": 0, "metavar": ""}
    elif option.choice:
        extra = {"default": None, "metavar": "[" + "|".join(COLORS) + "]"}
    return TyperOption(
        param_decls=list(option.decls),
        expose_value=False,  # kept in FLAGS, which the commands' output reads
        callback=_record,
        envvar=env_var(option.key),
        help=option.help,
        **extra,
    )


def env_var(key: str) -> str:
    return f"SCHEMALOCK_{key.upper()}"


def check(name: str, value: Any) -> None:
    """typer.BadParameter when the global option `name` refuses `value`."""
    if name == "color" and value is not None and value not in COLORS:
        raise typer.BadParameter(f"use {', '.join(COLORS)}, not {value!r}")


def _record(ctx: typer.Context, param: typer.CallbackParam, value: Any) -> None:
    name = param.name or ""
    source = ctx.get_parameter_source(name)
    rank = _RANK.get(source.name if source else "DEFAULT", 0)
    check(name, value)
    if rank == 0:
        return  # a default: FLAGS holds the defaults already
    held = _RANK.get(FLAGS.sources.get(name, "DEFAULT"), 0)
    if rank < held:
        return
    if name == "verbose" and rank == held == _RANK["COMMANDLINE"]:
        value = FLAGS.verbose + value  # `schemalock -v verify -v`
    setattr(FLAGS, name, value)
    FLAGS.sources[name] = source.name if source else "DEFAULT"
    if name == "verbose" and FLAGS.verbose:
        from schemalock.cli import verbose

        verbose.enable(FLAGS.verbose)


def progress_allowed() -> bool:
    """A progress bar only for a person watching: not under -q, -v or --no-progress, nor in CI
    (`CI` set, as every CI service sets it) or a pre-commit hook."""
    if FLAGS.quiet or FLAGS.verbose or FLAGS.no_progress:
        return False
    return not any(_set(name) for name in ("CI", "PRE_COMMIT"))


def _set(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def color() -> bool | None:
    """True: colour whatever the output; False: none (no escape codes at all); None: rich's
    own choice (colour on a terminal). `--color` (or its variable, or the file) first, then
    the conventions: NO_COLOR set turns colour off, FORCE_COLOR set turns it on."""
    if FLAGS.color != "auto":
        return FLAGS.color == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if _set("FORCE_COLOR"):
        return True
    return None
