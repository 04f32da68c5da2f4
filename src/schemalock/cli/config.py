"""Configuration files: `[tool.schemalock]` of a pyproject.toml, or a schemalock.toml.

The file is found by walking up from the lock file's folder (the working directory when no
lock is named) to the repository's root (a folder holding `.git`) or the filesystem's root; the
first found wins, a schemalock.toml before a pyproject.toml in the same folder, and a
pyproject.toml without `[tool.schemalock]` does not count. Its keys are the commands' long
options, underscored (`fail_on = "warning"`), at the top level (every command taking that
option) or in a command's table (`[tool.schemalock.verify]`). They become click's
`default_map`, so every option of every command is configurable, and its `SCHEMALOCK_<OPTION>`
variable beats the file: command line > environment > file > built-in default.

Two options mean different things in different commands (`--format`, `--output`): at the top
level and from the environment they apply to the report commands only. Options that act
(`fix --apply`, ...) come from the command line only, and the database URL never comes from
a file with its password in it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup, TyperOption

from schemalock.cli import flags
from schemalock.cli.options import LockOption
from schemalock.errors import UsageError

if TYPE_CHECKING:
    from typer._click import Command

CONFIG_NAME = "schemalock.toml"
PYPROJECT = "pyproject.toml"
SECTION = "tool.schemalock"
URL_KEY = "database_url"
# What a run does to the database or to the user's files is said on the command line each time.
COMMAND_LINE_ONLY = frozenset({"apply", "partial", "replace", "update_baseline"})
_NOT_SETTINGS = frozenset({"help", "version", "install_completion", "show_completion"})
# Meant per command; at the top level and from the environment, for the reports only.
REPORT_COMMANDS = ("verify", "lint", "diff")
PER_REPORT = frozenset({"format", "output"})
# Relative paths in a file are relative to the file's folder, wherever the command runs.
PATH_KEYS = frozenset({"lock", "migrations", "baseline"})
_LOCK_ARGS = ("--lock", "-l")


@dataclass(frozen=True)
class ConfigFile:
    """A configuration file that counts, and its settings (the section's keys)."""

    path: Path  # absolute
    section: str  # "tool.schemalock" in a pyproject.toml, "" in a schemalock.toml
    values: Mapping[str, Any]

    @property
    def shown(self) -> str:
        """The path as messages name it: relative to the working directory when under it."""
        relative = os.path.relpath(self.path)
        return relative if not relative.startswith("..") else str(self.path)

    def table(self, command: str | None = None) -> str:
        """`[tool.schemalock.verify]`; empty for a schemalock.toml's top level."""
        name = ".".join(part for part in (self.section, command) if part)
        return f"[{name}]" if name else ""

    def fail(self, command: str | None, message: str) -> UsageError:
        where = " ".join(part for part in (f"{self.shown}:", self.table(command)) if part)
        return UsageError(f"{where.removesuffix(':')}: {message}")


def find(start: Path) -> ConfigFile | None:
    """The configuration file for a run started from `start` (a folder), if any."""
    folder = start.resolve()
    for candidate in (folder, *folder.parents):
        for name in (CONFIG_NAME, PYPROJECT):
            if (candidate / name).is_file():
                found = read(candidate / name)
                if found is not None:
                    return found
        if (candidate / ".git").exists():  # the repository's root: no further
            return None
    return None


def read(path: Path) -> ConfigFile | None:
    """The file's settings; None for a pyproject.toml without `[tool.schemalock]`."""
    import tomllib

    shown = ConfigFile(path, "", {}).shown
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"{shown}: cannot read: {error.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{shown}: cannot read: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{shown}: invalid TOML: {error}") from None
    if path.name != PYPROJECT:
        return ConfigFile(path, "", data)
    tool = data.get("tool")
    section = tool.get("schemalock") if isinstance(tool, dict) else None
    if section is None:
        return None
    if not isinstance(section, dict):
        raise UsageError(f"{shown}: [tool.schemalock] must be a table")
    return ConfigFile(path, SECTION, section)


def start_folder(args: Iterable[str]) -> Path:
    """Where to look for the file: the folder of the lock the command line (else
    SCHEMALOCK_LOCK) names, else the working directory."""
    lock = _lock_argument(list(args)) or os.environ.get(flags.env_var("lock"))
    return Path(lock).parent if lock else Path()


def _lock_argument(args: list[str]) -> str | None:
    for index, arg in enumerate(args):
        if arg == "--":
            break
        if arg in _LOCK_ARGS and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--lock="):
            return arg.removeprefix("--lock=")
        if arg.startswith("-l") and not arg.startswith("--") and len(arg) > 2:
            return arg[2:]
    return None


# -- the commands' options -----------------------------------------------------------------


def key_of(param: TyperOption) -> str:
    """An option's key in files and variables: its long name, underscored (`fail_on`)."""
    long = next((opt for opt in param.opts if opt.startswith("--")), param.opts[0])
    return long.lstrip("-").replace("-", "_")


def options(command: Command) -> dict[str, TyperOption]:
    """The options of `command` a file or a variable may set, by key."""
    found = {}
    for param in command.params:
        if isinstance(param, TyperOption) and key_of(param) not in _NOT_SETTINGS:
            found[key_of(param)] = param
    return found


def shared(command_name: str, key: str) -> bool:
    """Whether a top-level key or a variable applies to this command's option."""
    return key not in PER_REPORT or command_name in REPORT_COMMANDS


def add_environment_variables(commands: Mapping[str, Command]) -> None:
    """`SCHEMALOCK_<OPTION>` for every option a variable may set (the database URL keeps its
    own two variables, read where the URL is resolved)."""
    for name, command in commands.items():
        for key, param in options(command).items():
            if key in COMMAND_LINE_ONLY or key == URL_KEY or not shared(name, key):
                continue
            if param.envvar is None:
                param.envvar = flags.env_var(key)
                param.show_envvar = False


# -- the file's settings as click's default_map ---------------------------------------------


def defaults(config: ConfigFile, commands: Mapping[str, Command]) -> dict[str, dict[str, Any]]:
    """The file's settings, as each command's defaults by parameter name; a key no command
    takes, a value an option refuses, or an option the file may not set is a UsageError
    naming the file and the key."""
    everything = {key for command in commands.values() for key in options(command)}
    top: dict[str, Any] = {}
    tables: dict[str, Mapping[str, Any]] = {}
    for key, value in config.values.items():
        if key in commands:
            if not isinstance(value, dict):
                raise config.fail(None, f"{key} must be a table of {key}'s options")
            tables[key] = value
        elif key in everything:
            top[key] = value
        else:
            raise config.fail(None, _unknown(key, everything | set(commands)))
    result: dict[str, dict[str, Any]] = {}
    for name, command in commands.items():
        known = options(command)
        for key in tables.get(name, {}):
            if key not in known:
                raise config.fail(name, _unknown(key, set(known)))
        chosen: dict[str, tuple[Any, str | None]] = {
            k: (v, None) for k, v in top.items() if k in known and shared(name, k)
        }
        chosen.update({k: (v, name) for k, v in tables.get(name, {}).items()})
        checked = {
            key: _checked(config, table, command, known[key], key, value)
            for key, (value, table) in chosen.items()
        }  # every value, the URL too: a password in the file is refused even when unused
        result[name] = {
            known[key].name or key: value
            for key, value in checked.items()
            if not (key == URL_KEY and url_from_environment())
        }
    return result


def _unknown(key: str, known: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {key!r}{hint}"


def _checked(
    config: ConfigFile,
    table: str | None,
    command: Command,
    param: TyperOption,
    key: str,
    value: Any,
) -> Any:
    """The value as the option takes it; refused with the file, its table and the key named."""
    if key in COMMAND_LINE_ONLY:
        raise config.fail(table, f"{key}: given on the command line only (--{_dashed(key)})")
    if key == URL_KEY and isinstance(value, str):
        from schemalock import db

        if db.secrets_of(value):
            raise config.fail(
                table,
                f"{key} holds a password: keep it out of files (use SCHEMALOCK_DATABASE_URL, "
                "DATABASE_URL, PGPASSWORD or ~/.pgpass)",
            )
    if param.multiple and not isinstance(value, list):
        value = [value]
    if key in PATH_KEYS and isinstance(value, str) and value:
        value = os.path.relpath(config.path.parent / value)
    try:
        param.type_cast_value(typer.Context(command), value)
    except (typer.BadParameter, TypeError, ValueError) as error:
        message = error.message if isinstance(error, typer.BadParameter) else str(error)
        raise config.fail(table, f"{key}: {message}") from None
    return value


def _dashed(key: str) -> str:
    return key.replace("_", "-")


def check_environment(command: Command, args: Iterable[str] = ()) -> None:
    """The SCHEMALOCK_ variables `command`'s options read, checked before click reads them: a
    bad value is a UsageError naming the variable (click's own error names the option, which
    the user never typed).  An option the command line gives (in `args`) is left to it."""
    given = list(args)
    context = typer.Context(command)
    for param in command.params:
        variable = param.envvar if isinstance(param, TyperOption) else None
        if not isinstance(variable, str) or os.environ.get(variable) is None:
            continue
        assert isinstance(param, TyperOption)
        if _on_command_line(param, given):
            continue
        try:
            value = param.type_cast_value(context, param.value_from_envvar(context))
            if param.name in flags.KEYS:
                flags.check(param.name, value)
        except (typer.BadParameter, TypeError, ValueError) as error:
            message = error.message if isinstance(error, typer.BadParameter) else str(error)
            raise UsageError(f"{variable}: {message}") from None


def _on_command_line(param: TyperOption, args: list[str]) -> bool:
    names = [*param.opts, *param.secondary_opts]
    for arg in args:
        if arg == "--":
            return False
        for name in names:
            if arg == name or arg.startswith(f"{name}="):
                return True
            if not name.startswith("--") and arg.startswith(name) and not arg.startswith("--"):
                return True
    return False


def url_from_environment() -> str | None:
    """The variable the database URL comes from, when one is set."""
    from schemalock.db import URL_ENV_VARS

    return next((name for name in URL_ENV_VARS if os.environ.get(name)), None)


# -- `schemalock config` ---------------------------------------------------------------------

META_FILE = "schemalock.config"
META_START = "schemalock.config.start"


class ConfigFormat(StrEnum):
    text = "text"
    json = "json"


def config(
    ctx: typer.Context,
    command: Annotated[
        str | None,
        typer.Argument(help="Show this command's settings only.", show_default=False),
    ] = None,
    lock: LockOption = "schema_lock.yaml",
    output_format: Annotated[
        ConfigFormat, typer.Option("--format", "-f", help="text, or json.")
    ] = ConfigFormat.text,
) -> None:
    """Show the settings each command would use and where each comes from: the command line,
    a SCHEMALOCK_ variable, the configuration file, or the built-in default."""
    import json

    group = ctx.parent
    assert group is not None
    assert isinstance(group.command, TyperGroup)
    commands = group.command.commands
    if command is not None and command not in commands:
        raise UsageError(f"unknown command {command!r} (see `schemalock --help`)")
    found: ConfigFile | None = group.meta.get(META_FILE)
    start: Path = group.meta.get(META_START, Path())
    for name in [command] if command else commands:
        check_environment(commands[name])
    given = {"lock": lock} if _source(ctx, "lock") == "COMMANDLINE" else {}
    file_defaults = defaults(found, commands) if found else {}
    shown = {
        name: _command_settings(found, name, commands[name], file_defaults.get(name, {}), given)
        for name in ([command] if command else [n for n in commands if n != "config"])
    }
    document = {
        "file": None if found is None else {"path": found.shown, "table": found.table()},
        "searched_from": str(start.resolve()),
        "global": {key: _flag_setting(found, key) for key in sorted(flags.KEYS)},
        "commands": shown,
    }
    if output_format is ConfigFormat.json:
        print(json.dumps(document, indent=2))
        return
    print(_text(document), end="")


def _source(ctx: typer.Context, name: str) -> str:
    source = ctx.get_parameter_source(name)
    return source.name if source is not None else "DEFAULT"


def _command_settings(
    found: ConfigFile | None,
    name: str,
    command: Command,
    file_defaults: Mapping[str, Any],
    given: Mapping[str, Any],
) -> dict[str, dict[str, Any]]:
    settings = {}
    table = found.values.get(name, {}) if found else {}
    for key, param in options(command).items():
        if key in COMMAND_LINE_ONLY or (key in flags.KEYS and key not in table):
            continue  # the global options are shown once, unless this command's table sets one
        settings[key] = _setting(found, name, command, param, key, file_defaults, given)
    return settings


def _setting(
    found: ConfigFile | None,
    name: str,
    command: Command,
    param: TyperOption,
    key: str,
    file_defaults: Mapping[str, Any],
    given: Mapping[str, Any],
) -> dict[str, Any]:
    from schemalock import db

    if key in given:
        return {"value": _plain(given[key]), "source": "cli"}
    variable = url_from_environment() if key == URL_KEY else param.envvar
    if isinstance(variable, str) and os.environ.get(variable) is not None:
        raw = os.environ[variable]
        value: Any = db.display_url(raw) if key == URL_KEY else _from_environment(command, param)
        return {"value": value, "source": "env", "variable": variable}
    if found is not None and (param.name or key) in file_defaults:
        value = file_defaults[param.name or key]
        table = found.table(name if key in found.values.get(name, {}) else None)
        value = db.display_url(value) if key == URL_KEY else _plain(value)
        return {"value": value, "source": "file", "file": found.shown, "table": table}
    return {"value": _plain(param.default), "source": "default"}


def _from_environment(command: Command, param: TyperOption) -> Any:
    context = typer.Context(command)
    raw = param.value_from_envvar(context)
    try:
        return _plain(param.type_cast_value(context, raw))
    except (typer.BadParameter, TypeError, ValueError):
        return _plain(raw)  # the command itself will say what is wrong with it


def _flag_setting(found: ConfigFile | None, key: str) -> dict[str, Any]:
    value = getattr(flags.FLAGS, key)
    source = flags.FLAGS.sources.get(key, "DEFAULT")
    if source == "COMMANDLINE":
        return {"value": value, "source": "cli"}
    if source == "ENVIRONMENT":
        return {"value": value, "source": "env", "variable": flags.env_var(key)}
    if source == "DEFAULT_MAP" and found is not None:
        table = found.table("config" if key in found.values.get("config", {}) else None)
        return {"value": value, "source": "file", "file": found.shown, "table": table}
    return {"value": value, "source": "default"}


def _plain(value: Any) -> Any:
    """A value as JSON holds it: enums by their value, sequences as lists."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _text(document: Mapping[str, Any]) -> str:
    from schemalock.render import safe_text

    file = document["file"]
    lines = [
        f"configuration: {file['path']} {file['table']}".rstrip()
        if file
        else f"configuration: no file (searched up from {document['searched_from']})"
    ]
    sections = [("global options", document["global"]), *document["commands"].items()]
    width = max((len(key) for _, rows in sections for key in rows), default=0)
    for title, rows in sections:
        lines += ["", title]
        for key, setting in rows.items():
            value = safe_text(_shown(setting["value"]))
            lines.append(f"  {key:<{width}}  {value:<24}  {_origin(setting)}")
    return "\n".join(lines) + "\n"


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "-"
    return str(value)


def _origin(setting: Mapping[str, Any]) -> str:
    if setting["source"] == "env":
        return f"env {setting['variable']}"
    if setting["source"] == "file":
        return f"file {setting['file']} {setting['table']}".rstrip()
    return str(setting["source"])
