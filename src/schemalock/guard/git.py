"""The lock as a git commit holds it: `git show REF:PATH`, nothing checked out.

git runs as a subprocess with a list of arguments (never a shell) in the lock's folder, so the
ref means what it means in the lock's repository and the path git is given is the lock's path
inside it (`git rev-parse --show-prefix`), wherever the command was started.  The check files
the base lock's flows name (`sql:`) are read from the same commit into a temporary folder with
the lock, so the base lock loads exactly as it was.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import subprocess
import tempfile
from dataclasses import dataclass, replace

from schemalock.errors import LockFileError, UsageError
from schemalock.lock import inputs, parse_lock, yamlsafe
from schemalock.model import Lock

_TIMEOUT = 120  # seconds: git reads one commit's files; anything longer is stuck


@dataclass(frozen=True)
class Committed:
    """The lock at a commit: None when the commit has no file at its path (the commit before
    the lock was added), with its text and its name in messages (`main:db/schema_lock.yaml`)."""

    lock: Lock | None
    text: str
    name: str


def lock_at(ref: str, lock_path: str, base_lock: str | None = None) -> Committed:
    """The lock `lock_path` names, as commit `ref` of its repository holds it.

    A lock the commit does not hold at its path may have moved: git's rename detection
    (`git diff -M REF`) names its path at `ref`.  Found nowhere, the lock is new (None) unless
    the commit holds another lock, which refuses (exit 2) and names it for `--base-lock`.
    `base_lock`: the lock's path at `ref` from the repository's top folder, given by the user
    (`""`: the lock is new, whatever else the commit holds)."""
    if ref.startswith("-"):
        raise UsageError(f"--base {ref}: a git ref cannot start with '-'")
    # The file a symbolic link leads to: what the commit holds is its content, not the link.
    real = os.path.realpath(lock_path)
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        raise UsageError(f"{lock_path}: no such folder")
    prefix = _git(folder, lock_path, "rev-parse", "--show-prefix").decode().strip()
    commit = _commit(folder, lock_path, ref)
    path = posixpath.join(prefix, os.path.basename(real))
    if base_lock == "":
        return Committed(None, "", f"{ref}:{path}")  # new, as the user says
    if base_lock is not None:
        path = posixpath.normpath(base_lock.replace(os.sep, "/")).lstrip("/")
        if _run(folder, "cat-file", "-t", f"{commit}:{path}").returncode != 0:
            raise UsageError(f"--base-lock {base_lock}: {ref} holds no file {path}")
    elif _run(folder, "cat-file", "-t", f"{commit}:{path}").returncode != 0:
        path = _moved_from(folder, commit, path) or path
    name = f"{ref}:{path}"
    kind = _run(folder, "cat-file", "-t", f"{commit}:{path}")
    if kind.returncode != 0:
        other = _other_lock(folder, commit, path)
        if other is not None:
            raise UsageError(
                f"no lock at {name}, but {ref} holds a lock at {other}: pass --base-lock "
                f"'{other}' to compare with it (or --base-lock '' if this lock is new)"
            )
        return Committed(None, "", name)  # not in that commit: the lock is new
    if kind.stdout.strip() != b"blob":
        raise UsageError(f"{name}: not a file at {ref}")
    size = int(_git(folder, name, "cat-file", "-s", f"{commit}:{path}"))
    if size > inputs.MAX_INPUT_BYTES:
        raise LockFileError(name, None, None, str(inputs.InputTooLarge(inputs.MAX_INPUT_BYTES)))
    raw = _git(folder, name, "show", "--no-textconv", f"{commit}:{path}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LockFileError(name, None, None, f"invalid UTF-8 at byte {error.start}") from None
    return Committed(_load(text, raw, name, folder, commit, path), text, name)


def _moved_from(folder: str, commit: str, path: str) -> str | None:
    """The path at `commit` of the file now at `path` (repository-relative), when git's
    rename detection pairs them (committed since, staged or in the working tree)."""
    found = _run(folder, "diff", "-M", "--name-status", "-z", "--no-ext-diff", commit, "--")
    if found.returncode != 0:
        return None
    fields = found.stdout.decode("utf-8", errors="replace").split("\0")
    index = 0
    while index < len(fields) and fields[index]:
        status = fields[index]
        if status.startswith(("R", "C")):
            old, new = fields[index + 1], fields[index + 2]
            if new == path and status.startswith("R"):
                return old
            index += 3
        else:
            index += 2
    return None


# At most this many YAML files of the base commit are read looking for a lock elsewhere.
_MAX_CANDIDATES = 400


def _other_lock(folder: str, commit: str, path: str) -> str | None:
    """A file of `commit` besides `path` that reads as a schemalock lock (a mapping with
    `version` and `tables` or `database`), those named like the lock first.  One git process
    reads them all (`cat-file --batch`)."""
    listed = _run(folder, "ls-tree", "-r", "-z", "--full-tree", "--name-only", commit)
    if listed.returncode != 0:
        return None
    names = listed.stdout.decode("utf-8", errors="replace").split("\0")
    same = posixpath.basename(path)
    yaml = sorted(
        (n for n in names if n.endswith((".yaml", ".yml")) and n != path and "\n" not in n),
        key=lambda n: (posixpath.basename(n) != same, n),
    )[:_MAX_CANDIDATES]
    if not yaml:
        return None
    asked = "".join(f"{commit}:{name}\n" for name in yaml).encode()
    read = _run(folder, "cat-file", "--batch", stdin=asked)
    if read.returncode != 0:
        return None
    out, at = read.stdout, 0
    for name in yaml:
        header_end = out.index(b"\n", at)
        header = out[at:header_end].split()
        at = header_end + 1
        if len(header) != 3 or header[1] != b"blob":
            continue
        size = int(header[2])
        content, at = out[at : at + size], at + size + 1
        if size <= inputs.MAX_INPUT_BYTES and _reads_as_lock(content):
            return name
    return None


def _reads_as_lock(content: bytes) -> bool:
    try:
        data, _ = yamlsafe.load(content.decode("utf-8-sig"), position_depth=0)
    except (yamlsafe.YamlError, UnicodeDecodeError):
        return False
    return (
        isinstance(data, dict) and "version" in data and bool({"tables", "database"} & data.keys())
    )


def _commit(folder: str, lock_path: str, ref: str) -> str:
    found = _run(folder, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode != 0:
        top = _git(folder, lock_path, "rev-parse", "--show-toplevel").decode().strip()
        raise UsageError(f"--base {ref}: no such commit in the git repository {top}")
    return found.stdout.decode().strip()


def _load(text: str, raw: bytes, name: str, folder: str, commit: str, path: str) -> Lock:
    """The lock from `text`, with the check files it names read from the same commit."""
    with tempfile.TemporaryDirectory(prefix="schemalock-base-") as scratch:
        copy = os.path.join(scratch, os.path.basename(path))
        with open(copy, "w", encoding="utf-8") as handle:
            handle.write(text)
        for relative in _check_files(text):
            _copy_check_file(folder, commit, path, relative, scratch)
        try:
            lock = parse_lock(text, copy, hashlib.sha256(raw).hexdigest())
        except LockFileError as error:
            raise LockFileError(name, error.line, error.column, error.detail) from None
    return replace(lock, path=name)


def _check_files(text: str) -> list[str]:
    """The `sql:` files of the lock's flow invariants (nothing when the lock cannot be read:
    loading it then says why)."""
    try:
        data, _ = yamlsafe.load(text, position_depth=0)
    except yamlsafe.YamlError:
        return []
    flows = data.get("flows") if isinstance(data, dict) else None
    found = []
    for flow in flows.values() if isinstance(flows, dict) else ():
        invariants = flow.get("invariants") if isinstance(flow, dict) else None
        for invariant in invariants if isinstance(invariants, list) else ():
            sql = invariant.get("sql") if isinstance(invariant, dict) else None
            if isinstance(sql, str):
                found.append(sql)
    return found


def _copy_check_file(folder: str, commit: str, lock: str, relative: str, scratch: str) -> None:
    """`relative` (to the lock) from the commit into `scratch`; nothing when it is outside the
    repository or the folder, or not in the commit (loading the lock then says it is missing)."""
    in_repo = posixpath.normpath(posixpath.join(posixpath.dirname(lock), relative))
    target = os.path.normpath(os.path.join(scratch, relative))
    outside = not target.startswith(os.path.join(scratch, ""))
    if in_repo.startswith("../") or os.path.isabs(relative) or outside:
        return
    found = _run(folder, "show", "--no-textconv", f"{commit}:{in_repo}")
    if found.returncode == 0 and len(found.stdout) <= inputs.MAX_INPUT_BYTES:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(found.stdout)


def _git(folder: str, about: str, *arguments: str) -> bytes:
    """git's output, or the one line of its error as a usage error about `about`."""
    done = _run(folder, *arguments)
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        reason = said[0].removeprefix("fatal: ") if said else f"git {arguments[0]} failed"
        if "not a git repository" in reason:
            reason = (
                "not in a git repository: `diff --base` reads the base lock from git "
                "(or compare two files: `schemalock diff OLD NEW`)"
            )
        raise UsageError(f"{about}: {reason}")
    return done.stdout


def _run(
    folder: str, *arguments: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *arguments],
            cwd=folder,
            capture_output=True,
            input=stdin if stdin is not None else b"",
            timeout=_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise UsageError(
            "`diff --base` needs git, which is not installed (or not on PATH)"
        ) from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"git {arguments[0]} did not answer within {_TIMEOUT} s") from None
