"""The Alembic environment generated revisions land in.

A missing or empty folder gets a fresh environment from `templates/` (alembic.ini, env.py with
the guards, script.py.mako, versions/); an existing Alembic environment is used as it is;
anything else is refused rather than written into.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from schemalock import __version__, files
from schemalock.db import normalize_url
from schemalock.errors import UsageError
from schemalock.fix import guards

if TYPE_CHECKING:
    import psycopg
    from alembic.config import Config

SCRIPT_FILES = ("env.py", "script.py.mako")  # what makes a folder an Alembic script location
_SKIPPED = {"__pycache__"}


def locate(directory: Path) -> Path:
    """Where revisions for `directory` go, without writing anything: `directory` itself if it
    is missing or empty (a fresh environment is made there with the first revision), else the
    existing environment there (a script location, or a folder whose alembic.ini points at
    one).  UsageError for a file or a folder that is neither."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is a file; name a folder for the migrations environment")
    if is_fresh(directory):
        return directory
    location = script_location(directory)
    if location is None:
        raise UsageError(
            f"{directory} is neither empty nor an Alembic environment (no env.py and "
            "script.py.mako, no alembic.ini): name an empty folder or an existing environment"
        )
    return location


def is_fresh(directory: Path) -> bool:
    """Whether `directory` is missing or an empty folder: the place for a fresh environment."""
    return not directory.exists() or (directory.is_dir() and not any(directory.iterdir()))


def ensure(directory: Path) -> Path:
    """The script location revisions go to (`locate`), made from the templates first if
    `directory` is missing or empty."""
    location = locate(directory)
    if is_fresh(directory):
        with creating(directory):
            pass
    return location


@contextmanager
def creating(directory: Path) -> Iterator[Path]:
    """A fresh environment for the missing or empty `directory`: built from the templates in a
    hidden folder (yielded, for the first revision to go into) and moved into place when the
    block ends.  On an exception nothing stays: not the environment, not the folders made
    for it."""
    target = directory.absolute()
    made = _make_folders(target.parent)
    into_existing = target.is_dir()  # an empty folder the user made: filled, not replaced
    staging = Path(files.temporary_folder(target / "environment" if into_existing else target))
    try:
        _copy(resources.files("schemalock.fix").joinpath("templates"), staging)
        yield staging
        if into_existing:
            _move_entries(staging, target)
            staging.rmdir()
        else:
            os.rename(staging, target)  # fails if the folder was filled meanwhile
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _make_folders(folder: Path) -> list[Path]:
    """Make `folder` and any missing parents; the ones made, outermost first."""
    missing = [f for f in (folder, *folder.parents) if not f.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{folder}: cannot create: {error.strerror or error}") from None
    return list(reversed(missing))


def _move_entries(staging: Path, target: Path) -> None:
    """Move what `staging` holds into `target`, versions/ (with the revision) last; what moved
    goes back if one fails."""
    moved: list[str] = []
    try:
        for name in sorted(os.listdir(staging), key=lambda n: (n == "versions", n)):
            if os.path.lexists(target / name):
                raise FileExistsError(errno.EEXIST, "appeared while writing", str(target / name))
            os.rename(staging / name, target / name)
            moved.append(name)
    except BaseException:
        for name in moved:
            with contextlib.suppress(OSError):
                os.rename(target / name, staging / name)
        raise


def _copy(source: Traversable, target: Path) -> None:
    """Copy the templates (package data: possibly inside a zip, so no shutil)."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name in _SKIPPED or entry.name.endswith(".pyc"):
            continue
        if entry.is_dir():
            _copy(entry, target / entry.name)
        else:
            files.write_bytes(target / entry.name, entry.read_bytes())
    if target.name != "versions":
        (target / "versions").mkdir(exist_ok=True)  # in case packaging dropped .gitkeep


def script_location(directory: Path) -> Path | None:
    """`directory` if it is a script location; the one its alembic.ini names (relative paths
    read from the ini's folder); None if neither.  UsageError for an ini naming no script
    location."""
    if _is_script_location(directory):
        return directory
    ini = directory / "alembic.ini"
    if not ini.is_file():
        return None
    named = _from_ini(ini)
    if named is None or not _is_script_location(named):
        raise UsageError(
            f"{ini} names script_location {named or '(none)'}, which is not an Alembic "
            "environment (no env.py and script.py.mako)"
        )
    return named


def _is_script_location(directory: Path) -> bool:
    return all((directory / name).is_file() for name in SCRIPT_FILES)


def _from_ini(ini: Path) -> Path | None:
    from alembic.config import Config

    try:
        value = Config(str(ini)).get_main_option("script_location")
    except Exception as error:  # configparser: duplicate keys, bad interpolation, ...
        raise UsageError(f"{ini}: cannot be read ({str(error).splitlines()[0]})") from None
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else ini.parent / path


def _ini_for(directory: Path, location: Path) -> Path | None:
    """The alembic.ini configuring `location`: in `directory`, beside the scripts (ours), or
    in the folder above them (where `alembic init` puts it)."""
    for ini in (
        directory / "alembic.ini",
        location / "alembic.ini",
        location.parent / "alembic.ini",
    ):
        named = _from_ini(ini) if ini.is_file() else None
        if named is not None and named.resolve() == location.resolve():
            return ini
    return None


def config(directory: Path, url: str | None = None, log: bool = True) -> Config:
    """An Alembic Config for the environment at `directory` (a script location, or a folder
    whose alembic.ini names one), for `alembic.command.upgrade(config, "head")` and
    `upgrade(..., sql=True)`.  The URL reaches our env.py as `attributes["database_url"]` and
    environments of your own as `sqlalchemy.url` (in memory only: no file is written).  Made
    inside `guards.advisory_lock()`, it names the session holding the lock, so our env.py
    proceeds instead of refusing.  `log` False keeps the ini file's logging off (our env.py
    reads `attributes["configure_logger"]`, Alembic's cookbook name)."""
    from alembic.config import Config

    location = script_location(directory) or directory
    ini = _ini_for(directory, location)
    result = Config(str(ini)) if ini else Config()
    result.set_main_option("script_location", str(location.resolve()))
    if url is not None:
        url = normalize_url(url)
        result.attributes["database_url"] = url
        # configparser interpolates %: a percent-encoded password must be doubled.
        result.set_main_option("sqlalchemy.url", _sqlalchemy_url(url).replace("%", "%%"))
    result.attributes["lock_holder_pid"] = guards.lock_holder()
    result.attributes["application_name"] = f"schemalock/{__version__}/fix"
    result.attributes["configure_logger"] = log
    return result


def _sqlalchemy_url(url: str) -> str:
    """A libpq connection string (URL or key=value) as a postgresql+psycopg:// URL: every
    parameter but user, password and database goes to psycopg as it is (host may be a socket
    folder or a list)."""
    from psycopg.conninfo import conninfo_to_dict
    from sqlalchemy.engine import URL

    params = {key: str(value) for key, value in conninfo_to_dict(url).items()}
    return URL.create(
        "postgresql+psycopg",
        username=params.pop("user", None),
        password=params.pop("password", None),
        database=params.pop("dbname", None),
        query=params,
    ).render_as_string(hide_password=False)


def head(directory: Path) -> str | None:
    """The head revision of the environment's script directory; None without revisions;
    UsageError naming them if there are several."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    if is_fresh(directory):
        return None  # made with the first revision
    try:
        heads = ScriptDirectory.from_config(config(directory)).get_heads()
    except CommandError as error:
        raise UsageError(f"{directory}: {error}") from None
    if len(heads) > 1:
        raise UsageError(
            f"{directory} has {len(heads)} heads ({', '.join(sorted(heads))}): merge them "
            "first (alembic merge heads)"
        )
    return heads[0] if heads else None


def revision_path(directory: Path, revision: str) -> Path | None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(config(directory)).get_revision(revision)
    return Path(script.path) if script is not None else None


# The first words of every revision `fix` writes (its docstring): what `--replace` may remove.
SCHEMALOCK_MARK: Final = "schemalock fix: repair "


def written_by_schemalock(path: Path) -> bool:
    """Whether `path` is a revision `fix` wrote: its docstring opens with our summary and
    lists the hazards."""
    text = path.read_text(encoding="utf-8")
    return f'"""{SCHEMALOCK_MARK}' in text and "\nHazards:\n" in text


def applied(connection: psycopg.Connection[Any]) -> str | None:
    """The revision the database is at (revisions joined by ", " if it has several heads);
    None if no version table exists or it is empty.  Any version table counts: Alembic's
    `alembic_version`, or an environment's own `version_table` (found by its shape, one
    column `version_num`).  Read-only; the transaction is left as found."""
    from psycopg import sql

    with guards.as_found(connection):
        tables = connection.execute(_VERSION_TABLES_SQL).fetchall()
        found: set[str] = set()
        for schema, name in tables:
            table = sql.Identifier(str(schema), str(name))
            rows = connection.execute(
                sql.SQL("SELECT version_num::text FROM {}").format(table)
            ).fetchall()
            found.update(str(row[0]) for row in rows)
    return ", ".join(sorted(found)) or None


# The EXISTS only narrows the search to tables with a column of that name (found through
# pg_attribute's index on names: 20 ms at 5,000 tables, where the ARRAY of every table's
# columns alone took 100-300 ms); the ARRAY decides.
_VERSION_TABLES_SQL: Final = """
SELECT n.nspname, c.relname FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND EXISTS (SELECT FROM pg_catalog.pg_attribute AS v WHERE v.attrelid = c.oid
              AND v.attname = 'version_num' AND v.attnum > 0 AND NOT v.attisdropped)
  AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
  AND ARRAY(SELECT a.attname FROM pg_catalog.pg_attribute AS a WHERE a.attrelid = c.oid
              AND a.attnum > 0 AND NOT a.attisdropped) = ARRAY['version_num']::pg_catalog.name[]
ORDER BY 1, 2"""
