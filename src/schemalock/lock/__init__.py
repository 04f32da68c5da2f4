"""Load `schema_lock.yaml` into the normalized model; every error is `file:line:col: message`."""

from __future__ import annotations

import codecs
import hashlib
import os
import re
from typing import TYPE_CHECKING, Any

from schemalock.errors import LockFileError
from schemalock.lock import cache, inputs
from schemalock.lock.paths import ConversionError
from schemalock.model import Lock

if TYPE_CHECKING:
    from pydantic import BaseModel

    from schemalock.lock import yamlsafe


def load_lock(path: str) -> Lock:
    """The lock at `path`: from the compiled-lock cache (`lock.cache`) when these very bytes
    were read before without error, else parsed (and then cached)."""
    raw = _read_bytes(path)
    digest = hashlib.sha256(raw).hexdigest()
    cached = cache.get(digest, path)
    if cached is not None:
        return cache.read_from_file(cached)
    lock = parse_lock(_decode(raw, path), path, digest)
    cache.put(digest, lock)
    return cache.read_from_file(lock)


def parse_lock(text: str, path: str = "<lock>", digest: str | None = None) -> Lock:
    """A lock from its text; `path` is only used in messages."""
    # Here, not at the top: a lock read from the cache needs neither PyYAML nor pydantic (the
    # format's models), whose imports are a fifth of a warm 12-table `verify`.
    from schemalock.lock import yamlsafe
    from schemalock.lock.contracts import to_contracts
    from schemalock.lock.convert import to_model, to_waivers

    if digest is None:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    _refuse_control_characters(text, path)
    try:
        # Lines of tables, columns, constraints and indexes (depth 4) are all a successful load
        # needs; an error re-reads the file for its exact position (`_position`).
        data, shallow = yamlsafe.load(text, position_depth=4)
        positions = _Positions(shallow, text)
    except yamlsafe.YamlError as error:
        raise LockFileError(path, error.line, error.column, str(error)) from None
    if data is None:
        raise LockFileError(path, 1, 1, "lock file is empty")
    if not isinstance(data, dict):
        raise LockFileError(path, 1, 1, "a lock file is a mapping with `version:` and `tables:`")
    _check_version(path, data, positions)
    from schemalock.lock.format import LockHead, TableSpec

    raw_tables = data.pop("tables", None)
    raw_tables = {} if raw_tables is None else raw_tables
    if not isinstance(raw_tables, dict):
        line, column = _position(positions, ("tables",))
        raise LockFileError(path, line, column, "tables: a mapping of table names is expected")
    head = _validate(path, data, positions, LockHead)
    del data

    def table_spec(key: str, raw: Any) -> Any:
        return _validate(path, raw, positions, TableSpec, ("tables", key))

    try:
        database, settings = to_model(head, raw_tables, positions, table_spec)
        flows, queries = to_contracts(head, positions, path)
    except ConversionError as error:
        line, column = _position(positions, error.path)
        raise LockFileError(path, line, column, str(error)) from None
    return Lock(
        path=path,
        sha256=digest,
        database=database,
        settings=settings,
        flows=flows,
        queries=queries,
        waivers=to_waivers(head, positions),
    )


def _read_bytes(path: str) -> bytes:
    if os.path.isdir(path):
        raise LockFileError(path, None, None, "is a directory, not a lock file")
    try:
        raw = inputs.read_limited(path)
    except inputs.InputTooLarge as error:
        raise LockFileError(path, None, None, str(error)) from None
    except FileNotFoundError:
        if os.path.islink(path):
            target = os.readlink(path)
            raise LockFileError(
                path, None, None, f"no such file: a symbolic link to {target}, which is missing"
            ) from None
        raise LockFileError(
            path, None, None, "no such file (use --lock to name the lock file)"
        ) from None
    except OSError as error:
        raise LockFileError(path, None, None, f"cannot read: {error.strerror}") from None
    return raw


def _decode(raw: bytes, path: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        # utf-8-sig counts from after a byte order mark
        offset = error.start + (len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0)
        line, column = _byte_position(raw, offset)
        raise LockFileError(path, line, column, f"invalid UTF-8 at byte {offset}") from None


def _byte_position(raw: bytes, offset: int) -> tuple[int, int]:
    """Line and column (in characters) of the byte at `offset`, all of `raw` before it being
    valid UTF-8."""
    start = raw.rfind(b"\n", 0, offset) + 1
    before = raw[start:offset].decode("utf-8-sig" if start == 0 else "utf-8")
    return raw.count(b"\n", 0, offset) + 1, len(before) + 1


# What YAML forbids in a file (C0 and C1 controls but tab, line feed, carriage return and NEL;
# DEL, surrogates, U+FFFE and U+FFFF), found before the parser, which would say only "position".
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def _refuse_control_characters(text: str, path: str) -> None:
    found = _FORBIDDEN.search(text)
    if found is None:
        return
    offset = found.start()
    start = text.rfind("\n", 0, offset) + 1
    code = f"U+{ord(found.group()):04X}"
    what = f"a NUL character ({code})" if found.group() == "\x00" else f"control character {code}"
    raise LockFileError(
        path,
        text.count("\n", 0, offset) + 1,
        offset - start + 1,
        f"{what}: a lock file is text, and YAML allows no control characters but tab and "
        "line breaks",
    )


def _check_version(path: str, data: dict[str, Any], positions: _Positions) -> None:
    version = data.get("version")
    if version is None:
        raise LockFileError(path, 1, 1, "missing `version: 1`")
    if isinstance(version, int) and not isinstance(version, bool) and version > 1:
        line, column = _position(positions, ("version",))
        raise LockFileError(
            path,
            line,
            column,
            f"lock format version {version} was written by a newer schemalock; this one reads 1",
        )


def _validate(
    path: str,
    data: Any,
    positions: _Positions,
    model: type[BaseModel],
    prefix: tuple[str, ...] = (),
) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        location = prefix + tuple(first["loc"])
        line, column = _position(positions, location)
        where = ".".join(str(part) for part in location)
        more = error.error_count() - 1
        suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        message = first["msg"].removeprefix("Value error, ")  # pydantic's wording, not ours
        if first["type"] == "extra_forbidden":
            message = f"unknown key {location[-1]!r}"
        elif first["type"] in ("model_type", "dict_type"):
            message = f"a mapping of keys is expected, not {_shown(first.get('input'))}"
        elif first["type"] == "list_type":
            message = f"a list is expected, not {_shown(first.get('input'))}"
        raise LockFileError(path, line, column, f"{where}: {message}{suffix}") from None


def _shown(value: Any) -> str:
    """A YAML value as the user wrote it, for a message: `null` for nothing."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


class _Positions(dict[tuple[Any, ...], tuple[int, int]]):
    """Positions recorded to a limited depth, completed from the text when an error needs a
    deeper one."""

    def __init__(self, shallow: yamlsafe.Positions, text: str) -> None:
        super().__init__(shallow)
        self.text, self.complete = text, False

    def locate(self, path: tuple[Any, ...]) -> tuple[int, int] | None:
        if path not in self and not self.complete:
            from schemalock.lock import yamlsafe

            self.update(yamlsafe.load(self.text)[1])
            self.complete = True
        return self.get(path)


def _position(positions: _Positions, path: tuple[Any, ...]) -> tuple[int | None, int | None]:
    """The position of `path`, or of its nearest ancestor that has one."""
    for end in range(len(path), -1, -1):
        found = positions.locate(tuple(path[:end]))
        if found:
            return found
    return None, None
