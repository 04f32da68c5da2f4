"""The compiled-lock cache: a lock's model kept from one run to the next, by the lock's bytes.

Reading a 5,000-table lock (4 MB of YAML: parse, validation, conversion) was half of
`verify --no-data`.  An unchanged lock's model is read back from a file instead, found by a key
that covers everything the model is made from: the lock's sha256, schemalock's version, the
Python version, and a fingerprint of the code that reads a lock (the files of the stages the
loader may import, `schemalock/*.py`, `model/`, `lock/`: a development copy changes them without
changing the version), with pydantic's and PyYAML's versions.  A lock with an error is never
cached: its errors, with their lines, come from a real parse every time; nor is a lock whose
flows name `sql:` check files, which are read with it (their text is in the model, and the
lock's bytes do not say it).  The loader produces nothing but the model (no warnings), so a
cached model gives exactly what a parse gives.

The folder is `$SCHEMALOCK_CACHE_DIR`, else `$XDG_CACHE_HOME/schemalock`, else
`~/.cache/schemalock`; `SCHEMALOCK_NO_CACHE=1` turns the cache off.  Entries are pickles, and
reading a pickle someone else could write would run their code: the folder is created 0700 and
used only while it is a real folder (no symbolic link) owned by this user that no one else may
read or write (mode 0700 or stricter), and an entry only when it is a regular file owned by
this user that no one else may write.  Anything wrong (missing, corrupt, from another version,
unreadable, a folder that cannot be made) is silently a miss: the lock is parsed, as without a
cache.  Entries are written to a temporary file and renamed into place, so a reader sees a whole
entry or none; the folder is safe to delete at any time.  The least recently used entries beyond
`KEEP` are removed after a write.
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
KEEP: Final = 16  # entries: a few locks, each in a few versions
_FORMAT: Final = b"schemalock-lock-cache 1"
_SUFFIX: Final = ".pickle"
_STALE_SECONDS: Final = 3600
# The packages the loader's code is in: lock/ may import only these stages (tests/
# test_architecture.py), so together they are all the code a model is made by.
_SOURCES: Final = ("model", "lock")
_LIBRARIES: Final = (("pydantic", "version.py"), ("yaml", "__init__.py"))


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
    where = _usable_folder(create=False)
    if where is None:
        return None
    key = _key(digest)
    if key is None:
        return None
    entry = where / f"{key}{_SUFFIX}"
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
            stored_key, lock = pickle.load(handle)
        os.utime(entry)  # most recently used: the last to be removed
    except Exception:  # a corrupt or truncated entry is a miss, whatever unpickling raised
        return None
    if stored_key != key or not isinstance(lock, Lock):
        return None
    return _at(lock, path)


def put(digest: str, lock: Lock) -> None:
    """Keep `lock` (parsed without error from bytes with sha256 `digest`); never fails."""
    if _reads_other_files(lock):
        return
    where = _usable_folder(create=True)
    if where is None:
        return
    key = _key(digest)
    if key is None:
        return
    try:
        descriptor, temporary = tempfile.mkstemp(dir=where, prefix=".tmp-", suffix=_SUFFIX)
    except OSError:
        return
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(_FORMAT + b"\n")
            _Pickler(handle, protocol=pickle.HIGHEST_PROTOCOL).dump((key, _at(lock, "")))
        os.replace(temporary, where / f"{key}{_SUFFIX}")
    except BaseException as error:  # a full disk, a model that cannot be pickled, a SIGINT
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
    of a 5,000-table lock, and took 3 times as long to read back."""

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        values = _FIELD_VALUES.get(kind)
        if values is None:
            values = _FIELD_VALUES[kind] = _field_values(kind)
        if values is False:
            return NotImplemented
        return kind, values(obj)


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
    """A digest of the loader's code: every .py file of the top-level package, model/ and
    lock/, by name and content, and the files that say the version of the libraries it reads
    with (an upgraded pydantic could validate a value otherwise)."""
    root = Path(__file__).resolve().parents[1]
    files = sorted(root.glob("*.py"))
    for package in _SOURCES:
        files += sorted((root / package).rglob("*.py"))
    for library, version_file in _LIBRARIES:
        # find_spec of a top-level name finds its folder without importing it.
        spec = importlib.util.find_spec(library)
        if spec is None or not spec.submodule_search_locations:
            raise OSError(f"{library} is not a package in files")
        files.append(Path(spec.submodule_search_locations[0]) / version_file)
    digest = hashlib.sha256()
    for file in files:
        name = file.relative_to(root) if file.is_relative_to(root) else file.name
        digest.update(str(name).encode() + b"\0")
        digest.update(file.read_bytes())
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
