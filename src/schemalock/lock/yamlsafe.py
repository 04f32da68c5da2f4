"""Read YAML into plain data, remembering where every value came from.

libyaml's event parser (PyYAML's C binding) reads the text; this module builds dicts, lists and
scalars from the events itself.  That is several times faster than PyYAML's node composer on a
large lock, and it is where the rules below are enforced:
- every path (`("tables", "users", "columns", "id")`) maps to its line and column;
- a key that appears twice is an error naming both lines (PyYAML would keep the last silently);
- a key or plain scalar is the text written, whatever it looks like: `1.10`, `0x1F`, `1e3`,
  `True`, `on` and `2024-01-01` stay exactly that text.  Most of a lock is SQL text or values
  compared as text, and a float read from `1.10` would come back as `1.1`, which nothing
  downstream could undo.  Only an empty value, `~` and `null` are null, and only the format's
  counts (`NUMBERS`: `version`, `database.expected_tables`) are read as numbers; a yes/no field
  reads its `true`/`false` from the text when the lock is validated;
- only the standard tags are accepted, so no Python object can be built;
- an alias counts as the whole value it stands for, against a node budget, so an alias bomb
  fails fast instead of exhausting memory.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

Path = tuple[str | int, ...]
Positions = dict[Path, tuple[int, int]]

MAX_NODES = 1_000_000

# The places where the lock format means a number.  Everywhere else a plain scalar stays text.
NUMBERS: frozenset[Path] = frozenset({("version",), ("database", "expected_tables")})

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = frozenset({"true", "True", "TRUE", "false", "False", "FALSE"})
_INT = re.compile(r"^[-+]?(?:[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


class YamlError(ValueError):
    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.line, self.column = line, column


def load(
    text: str, position_depth: int | None = None, numbers: frozenset[Path] = NUMBERS
) -> tuple[Any, Positions]:
    """Parse one YAML document into plain data and a path -> (line, column) map (1-based).

    With `position_depth`, only paths up to that length are mapped: a large lock's attribute
    keys are hundreds of thousands of entries that only an error message would ever read.
    Plain scalars at the paths in `numbers` are read as YAML 1.2 integers and floats; every
    other plain scalar but null is its text.
    """
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    builder = _Builder(position_depth, numbers)
    data = text.encode("utf-8")
    try:
        for event in yaml.parse(data, Loader=loader_class):
            builder.feed(event)
    except yaml.MarkedYAMLError as error:
        raise _explain(error, text) from None
    except yaml.reader.ReaderError as error:  # a character YAML forbids: at a byte offset
        raise YamlError(error.reason, *_offset_position(data, error.position)) from None
    except yaml.YAMLError as error:
        raise YamlError(str(error).splitlines()[0], 1, 1) from None
    return builder.result, builder.positions


def _offset_position(data: bytes, offset: int) -> tuple[int, int]:
    """Line and column (in characters) of the byte at `offset` of UTF-8 `data`."""
    start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def _explain(error: yaml.MarkedYAMLError, text: str) -> YamlError:
    """PyYAML's error, pointed where a person should look."""
    problem = error.problem or error.context or "invalid YAML"
    mark = error.problem_mark or error.context_mark
    lines = text.splitlines()
    ran_out = "end of stream" in problem or (mark is not None and _past_the_end(lines, mark))
    if ran_out and error.context_mark is not None:
        # Nothing to point at where the text ended: point where the unclosed quote or bracket
        # opened instead.
        mark = error.context_mark
        problem = f"{error.context}: {problem}"
    if mark is None:
        return YamlError(problem, 1, 1)
    line_text = lines[mark.line] if mark.line < len(lines) else ""
    if "\t" in line_text[: mark.column + 1]:
        problem = "a tab character; YAML is indented with spaces"
    return YamlError(problem, mark.line + 1, mark.column + 1)


def _past_the_end(lines: list[str], mark: yaml.Mark) -> bool:
    """Whether only blanks follow `mark`: the parser was still waiting when the text ended."""
    if mark.line >= len(lines):
        return True
    rest = [lines[mark.line][mark.column :], *lines[mark.line + 1 :]]
    return not any(part.strip() for part in rest)


class _Frame:
    """A mapping or sequence being filled."""

    __slots__ = ("anchor", "container", "first_line", "key", "nodes", "path")

    def __init__(self, container: dict[str, Any] | list[Any], path: Path, anchor: str | None):
        self.container, self.path, self.anchor = container, path, anchor
        self.key: str | None = None  # a mapping's key waiting for its value
        self.first_line: dict[str, int] = {}
        self.nodes = 1


class _Builder:
    def __init__(self, position_depth: int | None, numbers: frozenset[Path]) -> None:
        self.depth = position_depth if position_depth is not None else 1 << 30
        self.numbers = numbers
        self.number_keys = frozenset(path[-1] for path in numbers)  # a cheap first test
        self.positions: Positions = {}
        self.result: Any = None
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}  # value and its expanded node count
        self.nodes = 0
        self.documents = 0

    def feed(self, event: yaml.Event) -> None:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            self._scalar_event(event)  # type: ignore[arg-type]
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            self._start(event)  # type: ignore[arg-type]
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            frame = self.stack.pop()
            if frame.anchor is not None:
                self.anchors[frame.anchor] = (frame.container, frame.nodes)
            self._deliver(frame.container, frame.nodes, event, new_nodes=1)
        elif kind is yaml.AliasEvent:
            anchor = event.anchor  # type: ignore[attr-defined]
            if anchor not in self.anchors:
                raise YamlError(f"unknown alias *{anchor}", *_where(event))
            value, size = self.anchors[anchor]
            self._deliver(value, size, event, new_nodes=size)  # read again in full downstream
        elif kind is yaml.DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                raise YamlError("a lock file holds one YAML document", *_where(event))

    def _count(self, size: int, event: yaml.Event) -> None:
        self.nodes += size
        if self.nodes > MAX_NODES:
            raise YamlError(
                f"document expands to more than {MAX_NODES:,} nodes (alias bomb?)", *_where(event)
            )

    def _child_path(self, event: yaml.Event) -> Path:
        if not self.stack:
            return ()
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            return (*frame.path, len(frame.container))
        if frame.key is None:
            raise YamlError("mapping keys must be plain names", *_where(event))
        return (*frame.path, frame.key)

    def _start(self, event: yaml.CollectionStartEvent) -> None:
        _check_tag(event)
        path = self._child_path(event)
        if len(path) <= self.depth:
            self.positions.setdefault(path, _where(event))
        container: dict[str, Any] | list[Any] = {} if type(event) is yaml.MappingStartEvent else []
        self.stack.append(_Frame(container, path, event.anchor))

    def _scalar_event(self, event: yaml.ScalarEvent) -> None:
        _check_tag(event)
        if "\x00" in event.value:
            raise YamlError(
                "a NUL character (written as an escape): no PostgreSQL name, text or SQL can "
                "hold one",
                *_where(event),
            )
        frame = self.stack[-1] if self.stack else None
        if frame is not None and isinstance(frame.container, dict) and frame.key is None:
            self._key(frame, event)
            return
        value = _scalar(event, self._means_a_number(frame))
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, 1)
        if not self.stack:
            self.positions[()] = _where(event)
        # A mapping value sits at its key's position, recorded already; a list item is found
        # through its list.  Keeping no entry per scalar keeps a large lock's memory down.
        self._deliver(value, 1, event, new_nodes=1)

    def _means_a_number(self, frame: _Frame | None) -> bool:
        """Whether the scalar about to fill `frame` stands where the format means a number."""
        if frame is None or frame.key not in self.number_keys:
            return False
        return (*frame.path, frame.key) in self.numbers

    def _key(self, frame: _Frame, event: yaml.ScalarEvent) -> None:
        key = event.value
        line, column = _where(event)
        if key == "<<" and not event.style:
            raise YamlError("merge keys (<<) are not supported", line, column)
        if key in frame.first_line:
            raise YamlError(
                f"duplicate key {key!r} (first at line {frame.first_line[key]}, "
                f"again at line {line})",
                line,
                column,
            )
        frame.first_line[key] = line
        frame.key = key
        if len(frame.path) < self.depth:
            self.positions[(*frame.path, key)] = (line, column)

    def _deliver(self, value: Any, size: int, event: yaml.Event, new_nodes: int) -> None:
        """Hand a finished value (`size` nodes when expanded) to the enclosing container."""
        self._count(new_nodes, event)
        if not self.stack:
            self.result = value
            return
        frame = self.stack[-1]
        frame.nodes += size
        if isinstance(frame.container, list):
            frame.container.append(value)
        elif frame.key is None:
            raise YamlError("mapping keys must be plain names", *_where(event))
        else:
            frame.container[frame.key] = value
            frame.key = None


def _check_tag(event: yaml.NodeEvent) -> None:
    tag = getattr(event, "tag", None)
    if tag is not None and tag != "!" and tag not in _STANDARD_TAGS:
        raise YamlError(f"unsupported tag {tag}", *_where(event))


def _where(event: yaml.Event) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _scalar(event: yaml.ScalarEvent, number: bool) -> Any:
    """The value of a scalar: its text, null, or (where the format means one) a number."""
    value = str(event.value)
    if event.tag is not None and event.tag not in ("tag:yaml.org,2002:str", "!"):
        raise YamlError(
            f"explicit tag {event.tag} is not needed in a lock file; write the value plainly",
            *_where(event),
        )
    if event.style or event.tag is not None:
        return value  # quoted, block, `!!str` or the non-specific `!`: always a string
    if _NULL.match(value):
        return None
    if number and _INT.match(value):
        return _integer(value)
    if number and _FLOAT.match(value):
        return float(value)
    return value


def reads_as_non_string(value: str) -> bool:
    """Whether a YAML 1.2 reader (an editor, another tool) reads `value`, written plain, as
    anything but that string: the writer quotes such values so that every reader agrees."""
    return bool(_NULL.match(value) or value in _BOOL or _INT.match(value) or _FLOAT.match(value))


def _integer(value: str) -> int | str:
    digits = value.lstrip("+-").lower()
    if digits.startswith("0x"):
        return int(value.replace("0x", "").replace("0X", ""), 16)
    if digits.startswith("0o"):
        return int(value.replace("0o", ""), 8)
    if len(digits) > 1 and digits.startswith("0"):
        return value  # "0123": keep the text rather than guess an octal or decimal reading
    return int(value)
