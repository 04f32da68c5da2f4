"""Read YAML into plain data, remembering where every value came from.

PyYAML's composer (the C one when available) parses; this module turns the node tree into dicts,
lists and scalars itself, so that:
- every path (`("tables", "users", "columns", "id")`) maps to its line and column;
- a key that appears twice is an error naming both lines (PyYAML would keep the last silently);
- mapping keys are always the text written (`on`, `no`, `null` stay strings) and plain scalars
  follow YAML 1.2 (`yes`/`no`/`on`/`off` are strings, not booleans);
- only the standard tags are accepted, so no Python object can be built;
- aliases are followed under a node budget, so an alias bomb fails fast instead of exhausting
  memory.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

Path = tuple[str | int, ...]
Positions = dict[Path, tuple[int, int]]

MAX_NODES = 1_000_000

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
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


def load(text: str) -> tuple[Any, Positions]:
    """Parse one YAML document into plain data and a path -> (line, column) map (1-based)."""
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node = yaml.compose(text, Loader=loader_class)
    except yaml.MarkedYAMLError as error:
        raise _explain(error, text) from None
    except yaml.YAMLError as error:
        raise YamlError(str(error).splitlines()[0]) from None
    if node is None:
        return None, {}
    builder = _Builder()
    return builder.build(node, ()), builder.positions


def _explain(error: yaml.MarkedYAMLError, text: str) -> YamlError:
    """PyYAML's error, pointed where a person should look."""
    problem = error.problem or error.context or "invalid YAML"
    mark = error.problem_mark or error.context_mark
    if "end of stream" in problem and error.context_mark is not None:
        mark = error.context_mark  # where the unclosed quote or bracket opened
        problem = f"{error.context}: {problem}"
    if mark is None:
        return YamlError(problem)
    lines = text.splitlines()
    line_text = lines[mark.line] if mark.line < len(lines) else ""
    if "\t" in line_text[: mark.column + 1]:
        problem = "a tab character; YAML is indented with spaces"
    return YamlError(problem, mark.line + 1, mark.column + 1)


class _Builder:
    def __init__(self) -> None:
        self.positions: Positions = {}
        self.nodes = 0

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise YamlError(
                f"document expands to more than {MAX_NODES:,} nodes (alias bomb?)",
                node.start_mark.line + 1,
                node.start_mark.column + 1,
            )
        self.positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if node.tag not in _STANDARD_TAGS:
            raise YamlError(f"unsupported tag {node.tag}", *_where(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        return _scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlError("merge keys (<<) are not supported", *_where(key_node))
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError("mapping keys must be plain names", *_where(key_node))
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in first_line:
                raise YamlError(
                    f"duplicate key {key!r} "
                    f"(first at line {first_line[key]}, again at line {line})",
                    line,
                    key_node.start_mark.column + 1,
                )
            first_line[key] = line
            self.positions[(*path, key)] = (line, key_node.start_mark.column + 1)
            result[key] = self.build(value_node, (*path, key))
            self.positions[(*path, key)] = (line, key_node.start_mark.column + 1)
        return result


def _where(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _scalar(node: yaml.ScalarNode) -> Any:
    value = str(node.value)
    if node.style:  # quoted or block scalar: always a string (plain is None or "")
        return value
    if node.tag == "tag:yaml.org,2002:str" and node.value != "" and not _looks_typed(value):
        return value
    if _NULL.match(value):
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT.match(value):
        return _integer(value)
    if _FLOAT.match(value):
        return float(value)
    return value


def _looks_typed(value: str) -> bool:
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
