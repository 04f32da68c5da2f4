"""The compiled-lock cache: a lock's model kept from one run to the next, by the lock's bytes,
with the findings of the rules about the lock alone.

Reading a 5,000-table lock (4 MB of YAML: parse, validation, conversion) was half of
`verify --no-data`, and judging it (the rules that need no database, which every command runs
first: `check.validity`) a tenth more.  An unchanged lock's model is read back from a file
instead, found by a key that covers everything the model is made from: the lock's sha256,
schemalock's version, the Python version, and a fingerprint of schemalock's code (every .py file
of the package, by name and content: a development copy changes them without changing the
version), with the versions of the libraries it reads and judges with (pydantic, PyYAML,
pglast).  A lock with an error is never cached: its errors, with their lines, come from a real
parse every time; nor is a lock whose flows name `sql:` check files, which are read with it
(their text is in the model, and the lock's bytes do not say it).  The loader produces nothing
but the model (no warnings), so a cached model gives exactly what a parse gives.

The findings of the lock's own rules are kept beside its model (`findings`, `keep_findings`),
only for a lock this process read from its file (`load_lock`): the same key says the same bytes
were judged by the same code, and those rules read nothing but the model (no date, no file, no
setting), so they would find exactly the same again.

The folder is `$SCHEMALOCK_CACHE_DIR`, else `$XDG_CACHE_HOME/schemalock`, else
`~/.cache/schemalock`; `SCHEMALOCK_NO_CACHE=1` turns the cache off.  Entries are pickles, and
reading a pickle someone else could write would run their code: the folder is created 0700 and
used only while it is a real folder (no symbolic link) owned by this user that no one else may
read or write (mode 0700 or stricter), and an entry only when it is a regular file owned by
this user that no one else may write.  Anything wrong (missing, corrupt, from another version,
unreadable, a folder that cannot be made) is silently a miss: the lock is parsed (or judged), as
without a cache.  Entries are written to a temporary file and renamed into place, so a reader
sees a whole entry or none; the folder is safe to delete at any time.  The least recently used
entries beyond `KEEP` are removed after a write.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import importlib.util
import operator
import os
import pickle
import stat
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from schemalock import __version__
from schemalock.model import CustomCheck, Lock

DIR_ENV: Final = "SCHEMALOCK_CACHE_DIR"
OFF_ENV: Final = "SCHEMALOCK_NO_CACHE"
KEEP: Final = 32  # entries: a few locks, each in a few versions, and their findings
_FORMAT: Final = b"schemalock-lock-cache 1"
_SUFFIX: Final = ".pickle"
_STALE_SECONDS: Final = 3600
# The files that say the versions of the libraries a lock is read (pydantic, PyYAML) and judged
# (pglast parses its expressions) with.
_LIBRARIES: Final = (
    ("pydantic", "version.py"),
    ("yaml", "__init__.py"),
    ("pglast", "__init__.py"),
)


def folder() -> Path | None:
    """Where entries live, or None when the cache is off."""
    if os.environ.get(OFF_ENV, "") not in ("", "0"):
        return None
    chosen = os.environ.get(DIR_ENV)
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "schemalock"


def get(digest: str, path: str) -> Lock | None:
    """The model of the lock whose bytes have sha256 `digest`, now at `path`; None when there
    is no usable entry."""
    key = _key(digest)
    lock = None if key is None else _read_entry(key)
    if not isinstance(lock, Lock):
        return None
    return _at(lock, path)


def put(digest: str, lock: Lock) -> None:
    """Keep `lock` (parsed without error from bytes with sha256 `digest`); never fails."""
    key = _key(digest)
    if key is not None and not _reads_other_files(lock):
        _write_entry(key, _at(lock, ""))


def read_from_file(lock: Lock) -> Lock:
    """`lock`, noted as the model of the file whose bytes have its `sha256`: what the lock's
    own rules find in it may be kept (`keep_findings`).  The last few are noted."""
    _FROM_FILES[:] = [lock, *(other for other in _FROM_FILES if other is not lock)][:_NOTED]
    return lock


def findings(lock: Lock) -> list[Any] | None:
    """The findings kept for `lock` by `keep_findings`; None when there are none to trust."""
    key = _findings_key(lock)
    found = None if key is None else _read_entry(key)
    return found if isinstance(found, list) else None


def keep_findings(lock: Lock, found: list[Any]) -> None:
    """Keep what the rules about the lock alone found in `lock`; never fails."""
    key = _findings_key(lock)
    if key is not None:
        _write_entry(key, found)


# Of the locks read from their files (load_lock), the last ones: a process reads one lock, or
# two (diff's old and new).  Identity, not equality: a model made otherwise is never trusted.
_FROM_FILES: list[Lock] = []
_NOTED: Final = 4


def _findings_key(lock: Lock) -> str | None:
    if not any(lock is other for other in _FROM_FILES) or _reads_other_files(lock):
        return None
    key = _key(lock.sha256)
    return None if key is None else f"{key}-findings"


def _read_entry(name: str) -> Any:
    """The value of entry `name`, or None when there is no usable one."""
    where = _usable_folder(create=False)
    if where is None:
        return None
    entry = where / f"{name}{_SUFFIX}"
    try:
        descriptor = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        with os.fdopen(descriptor, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not _private_file(info):
                return None
            if handle.read(len(_FORMAT) + 1) != _FORMAT + b"\n":
                return None
            stored_name, value = pickle.load(handle)
        os.utime(entry)  # most recently used: the last to be removed
    except Exception:  # a corrupt or truncated entry is a miss, whatever unpickling raised
        return None
    return value if stored_name == name else None


def _write_entry(name: str, value: Any) -> None:
    where = _usable_folder(create=True)
    if where is None:
        return
    try:
        descriptor, temporary = tempfile.mkstemp(dir=where, prefix=".tmp-", suffix=_SUFFIX)
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(_FORMAT + b"\n")
            _Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL).dump((name, value))
        os.replace(temporary, where / f"{name}{_SUFFIX}")
    except BaseException as error:  # a full disk, a value that cannot be pickled, a SIGINT
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if not isinstance(error, Exception):
            raise  # the run is being stopped: the entry does not matter, the stop does
        return  # no entry, and no error
    with contextlib.suppress(OSError):  # the folder went away: nothing to keep tidy
        _prune(where)


class _Pickler(pickle.Pickler):
    """The model's classes (frozen dataclasses with slots) pickled as a call of the class with
    its fields' values: the default way restores each object through dataclasses'
    `__setstate__`, which looks up the class's fields again for every one of the 90,000 objects
    of a 5,000-table lock, and took 3 times as long to read back.

    Equal strings of those values are written once (pickle writes an object it met before as a
    reference to it): a 5,000-table lock holds 140,000 strings of 29,000 values (`public`,
    `bigint`, `created_at`, ...), and reads back with the 29,000 alone, 6 MB less."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._strings: dict[str, str] = {}

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        values = _FIELD_VALUES.get(kind)
        if values is None:
            values = _FIELD_VALUES[kind] = _field_values(kind)
        if values is False:
            return NotImplemented
        return kind, tuple(map(self._shared, values(obj)))

    def _shared(self, value: Any) -> Any:
        """`value` with its strings (and those of a tuple or a dict's keys) the first of
        their value met."""
        kind = type(value)
        if kind is str:
            return self._strings.setdefault(value, value)
        if kind is tuple:
            return tuple(map(self._shared, value)) if value else value
        if kind is dict:
            return {self._shared(key): item for key, item in value.items()}
        return value


# Per class: its fields' values as the positional arguments of its __init__, or False when
# that would not rebuild it (not a dataclass, a field __init__ does not take, __post_init__).
_FIELD_VALUES: dict[type, Any] = {}


def _field_values(kind: type) -> Any:
    if not dataclasses.is_dataclass(kind) or hasattr(kind, "__post_init__"):
        return False
    fields = dataclasses.fields(kind)
    if not fields or any(not f.init or f.kw_only for f in fields):
        return False
    getter = operator.attrgetter(*(f.name for f in fields))
    return (lambda obj: (getter(obj),)) if len(fields) == 1 else getter


def _reads_other_files(lock: Lock) -> bool:
    """Whether the model holds what other files said: a flow's `sql:` check file is read
    when the lock is, from beside the lock, and the lock's bytes do not say what it holds."""
    return any(
        isinstance(invariant.check, CustomCheck)
        for flow in lock.flows
        for invariant in flow.invariants
    )


def _at(lock: Lock, path: str) -> Lock:
    """The same model, naming the lock by `path` (an entry serves the same bytes anywhere)."""
    return lock if lock.path == path else dataclasses.replace(lock, path=path)


def _usable_folder(create: bool) -> Path | None:
    where = folder()
    if where is None:
        return None
    try:
        if create:
            where.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(where)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & 0o077 or not _own(info):
        return None
    return where


def _private_file(info: os.stat_result) -> bool:
    return stat.S_ISREG(info.st_mode) and not info.st_mode & 0o022 and _own(info)


def _own(info: os.stat_result) -> bool:
    getuid = getattr(os, "getuid", None)
    return getuid is None or info.st_uid == getuid()


_CODE: list[str] = []


def _key(digest: str) -> str | None:
    if not _CODE:
        try:
            _CODE.append(_code_fingerprint())
        except OSError:  # the code is not in files this process can read: no cache
            return None
    parts = (digest, __version__, sys.version, _CODE[0])
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _code_fingerprint() -> str:
    """A digest of schemalock's code: every .py file of the package, by name and content (the
    loader's, and the rules' whose findings are kept), and the files that say the versions of
    the libraries (an upgraded pydantic could validate a value otherwise)."""
    root = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    files = []
    # os.walk, not Path.rglob: a third of the time, paid by every run that reads a lock.
    for folder_path, folders, names in os.walk(root):
        folders.sort()
        files += [os.path.join(folder_path, n) for n in sorted(names) if n.endswith(".py")]
    for library, version_file in _LIBRARIES:
        # find_spec of a top-level name finds its folder without importing it.
        spec = importlib.util.find_spec(library)
        if spec is None or not spec.submodule_search_locations:
            raise OSError(f"{library} is not a package in files")
        files.append(os.path.join(spec.submodule_search_locations[0], version_file))
    digest = hashlib.sha256()
    for file in files:
        name = os.path.relpath(file, root) if file.startswith(root + os.sep) else file
        digest.update(name.encode() + b"\0")
        with open(file, "rb") as handle:
            digest.update(handle.read())
        digest.update(b"\0")
    return digest.hexdigest()


def _prune(where: Path) -> None:
    """Remove all but the `KEEP` most recently used entries, and the temporary files a killed
    run left (an hour old: a running writer's is seconds old)."""
    entries, now = [], time.time()
    for entry in where.iterdir():
        with contextlib.suppress(OSError):  # another run removed it first
            changed = entry.stat().st_mtime_ns
            if entry.name.startswith(".tmp-") and now - changed / 1e9 > _STALE_SECONDS:
                entry.unlink()
            elif entry.name.endswith(_SUFFIX) and not entry.name.startswith("."):
                entries.append((changed, entry))
    for _, entry in sorted(entries, reverse=True)[KEEP:]:
        with contextlib.suppress(OSError):
            entry.unlink()
