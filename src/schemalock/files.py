"""Every file schemalock writes: whole or not at all, and never over what the run reads.

A file is written to a hidden temporary file beside it, flushed to disk, and renamed over the
target in one step (`os.replace`), so a reader, a crash or Ctrl-C sees the old file or the new
one, never half of one.  The new file keeps the old one's permission bits (and owner, where we
may set it); a symbolic link stays a link and its target is replaced; another hard link to the
old file keeps the old content.  A file its owner made read-only is not replaced.  Devices and
descriptors (`/dev/stdout`, `/dev/fd/3`, a named pipe) are written as they are: there is
nothing to rename.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any, Final

from schemalock.errors import UsageError

# Names of descriptors (/dev/stdout, /dev/fd/3, /proc/self/fd/1): written through, never
# renamed, whatever they lead to (a shell's redirection to a file included).
_DESCRIPTOR = re.compile(r"^/(dev/(stdout|stderr|fd/\d+)|proc/[^/]+/fd/\d+)$")
_NAME_MAX: Final = 200  # of the target's name in the temporary file's name (limit 255 bytes)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Replace `path` with `text` (UTF-8), at once; UsageError naming it if it cannot be."""
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace `path` with `data`, at once; UsageError naming it if it cannot be."""
    with _replace(path, binary=True) as handle:
        handle.write(data)


@contextmanager
def replacing(path: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """A text handle (UTF-8) whose content replaces `path` when the block ends.  An exception
    in the block (or Ctrl-C) leaves `path` as it was and no temporary file behind."""
    with _replace(path, binary=False) as handle:
        yield handle


@contextmanager
def _replace(path: str | os.PathLike[str], binary: bool) -> Iterator[IO[Any]]:
    name = os.fspath(path)
    mode, encoding = ("wb", None) if binary else ("w", "utf-8")
    try:
        if _is_stream(name):  # appended: `{ echo x; schemalock ... -o /dev/stdout; } >f` keeps x
            with open(name, mode.replace("w", "a"), encoding=encoding) as handle:
                yield handle
            return
        target = os.path.realpath(name)  # through a link: the link stays, its file changes
        _refuse_read_only(name, target)
        descriptor, temporary = _temporary(target)
        try:
            with os.fdopen(descriptor, mode, encoding=encoding) as handle:
                yield handle
                handle.flush()
                _like_the_old_one(handle.fileno(), target)
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        _sync_folder(os.path.dirname(target))
    except OSError as error:
        raise UsageError(f"{name}: cannot write: {error.strerror or error}") from None


def check_writable(path: str | os.PathLike[str]) -> None:
    """UsageError naming `path` unless a file can be written there now: checked before a run
    that takes minutes, by creating (and removing) the temporary file the write would use."""
    name = os.fspath(path)
    if _is_stream(name):
        return
    target = os.path.realpath(name)
    try:
        _refuse_read_only(name, target)
        descriptor, temporary = _temporary(target)
        os.close(descriptor)
        os.unlink(temporary)
    except OSError as error:
        raise UsageError(f"{name}: cannot write: {error.strerror or error}") from None


def refuse_inputs(
    output: str | os.PathLike[str],
    inputs: Iterable[tuple[str, str]],
    named: str | None = None,
) -> None:
    """UsageError if `output` is one of the run's `inputs` ((what, path) pairs): the same file
    however it is named (relative or absolute, through a symbolic link or a hard link).
    `named` is the option as the user gave it (default `--output NAME`)."""
    name = os.fspath(output)
    if _exists_as_other_than_a_file(name):
        return  # a terminal or a pipe is not a file anyone could lose
    for what, path in inputs:
        if _same_file(name, path):
            raise UsageError(
                f"{named or f'--output {name}'} is {what} this run reads ({path}): name another"
                " file; nothing was written"
            )


def _same_file(first: str, second: str) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:  # one of them does not exist (yet): not the same file
        return False


def _is_stream(name: str) -> bool:
    """Whether `name` is a descriptor (`/dev/stdout`), a device or a pipe: written through.  A
    regular file is never one, wherever it lies (`/dev/shm/report.json` is replaced whole)."""
    return bool(_DESCRIPTOR.match(os.path.abspath(name))) or _exists_as_other_than_a_file(name)


def _exists_as_other_than_a_file(name: str) -> bool:
    """A device, a pipe, a socket: not a regular file, not a folder (missing: False)."""
    try:
        mode = os.stat(name).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _refuse_read_only(name: str, target: str) -> None:
    """A file its owner made read-only is not replaced behind their back (root may, as it may
    open it for writing); a folder is not a file."""
    if os.path.isdir(target):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
    if os.path.exists(target) and not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), name)


def _temporary(target: str) -> tuple[int, str]:
    """A new hidden file beside `target` (same folder, so the rename is atomic), readable by
    its owner only until it is complete (`_like_the_old_one` gives it its final mode): a
    report replacing a private one is never readable by others, even for a moment."""
    folder, base = os.path.split(target)
    for _ in range(100):
        temporary = os.path.join(folder, f".{base[:_NAME_MAX]}.{secrets.token_hex(4)}.tmp")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
            return os.open(temporary, flags, 0o600), temporary
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", folder)


def temporary_folder(beside: str | os.PathLike[str]) -> str:
    """A new hidden folder beside `beside` (same parent, so it can be renamed into place),
    with the permissions a new folder gets (0777 less the umask)."""
    folder, base = os.path.split(os.path.abspath(beside))
    for _ in range(100):
        temporary = os.path.join(folder, f".{base[:_NAME_MAX]}.{secrets.token_hex(4)}.tmp")
        try:
            os.mkdir(temporary, 0o777)
            return temporary
        except FileExistsError:
            continue
        except OSError as error:
            raise UsageError(f"{beside}: cannot write: {error.strerror or error}") from None
    raise UsageError(f"{beside}: cannot write: no free temporary folder name")


def _like_the_old_one(descriptor: int, target: str) -> None:
    """The permission bits (and owner, where allowed) of the file being replaced; a new file
    gets what a new file gets (0666 less the umask)."""
    try:
        old = os.stat(target)
    except FileNotFoundError:
        os.fchmod(descriptor, 0o666 & ~_umask())
        return
    os.fchmod(descriptor, stat.S_IMODE(old.st_mode))
    if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(PermissionError):  # only root may give a file away
            os.fchown(descriptor, old.st_uid, old.st_gid)


def _umask() -> int:
    current = os.umask(0o022)  # the only way to read it is to set it, at once set back
    os.umask(current)
    return current


def _sync_folder(folder: str) -> None:
    """The rename itself reaches the disk (where the file system lets a folder be synced)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder or ".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
