"""A lock entry's YAML written directly, without PyYAML's representer and its node graph (a
second per 5,000 tables): the same bytes PyYAML writes, for the entries made of what this
module can prove it spells as PyYAML does.  Anything else (a multi-line text, a scalar PyYAML
would double-quote, a long line PyYAML would fold, a long key, an object written twice, a
float) makes `entry` answer None, and the caller hands the entry to PyYAML.

PyYAML decides a scalar's style in `Emitter.choose_scalar_style` from `analyze_scalar`; this
module asks that same analysis (once per distinct text) and writes only the two styles whose
spelling is fixed on one line: plain, and single-quoted with `'` doubled.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import yaml

from schemalock.lock.yaml_style import Block, Flow, FlowList, PureDumper
from schemalock.lock.yamlsafe import reads_as_non_string

# PyYAML folds a line at a space once it passes its width (4096 as the writer dumps); a line
# no longer than this never reached it.
_LONGEST_LINE = 4000
# PyYAML writes a key as `? key` unless `!!str` and the key are shorter than 128 characters
# (libyaml: the key alone), and a key that spans lines always so.
LONGEST_KEY = 100
_STR_TAG = "tag:yaml.org,2002:str"


class _Unprovable(Exception):
    """The entry holds something this module does not spell: PyYAML writes it."""


_EMITTER = PureDumper(io.StringIO(), allow_unicode=True)
# The tag PyYAML's resolver gives a text written plain (its stubs leave `resolve` untyped).
_RESOLVE: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = _EMITTER.resolve
# Texts `analyze_scalar` allows plain in block and in flow context, quoted too, on one line:
# no indicator first (`#,[]{}&*!|>'"%@` or `?`, `:`, `-`, `.` there), no `,?[]{}:#` at all,
# nothing beyond printable ASCII, no space at either end.  Asked of nearly every text, the
# analysis (a loop in Python) is then asked of the few others only.
_PLAIN_EVERYWHERE = re.compile(r"[A-Za-z0-9_(][A-Za-z0-9_ ().=<>*/+'-]*(?<! )")
# What a text is spelled as in block context and in flow context, as a key and as a value
# alike; a text not provably spelled here is in neither, nor one too long to be a key.
_BLOCK: dict[str, str] = {}
_MOST_KEPT = 200_000  # some 20 MB; a 5,000-table lock has 32,000 distinct texts
_FLOW: dict[str, str] = {}


def entry(name: str, value: Any, indent: str) -> str | None:
    """`name: value` as an item of a block mapping at `indent`, as PyYAML writes it; None
    when some part of it is not provably spelled the same here."""
    lines: list[str] = []
    try:
        _item(_key(name, _BLOCK), value, indent, lines, set())
    except _Unprovable:
        return None
    for line in lines:
        if len(line) > _LONGEST_LINE:
            return None
    return "".join(lines)


def _item(key: str, value: Any, indent: str, lines: list[str], seen: set[int]) -> None:
    kind = type(value)
    if kind is str:
        lines.append(f"{indent}{key}: {_BLOCK.get(value) or _text(value, _BLOCK)}\n")
    elif kind is Flow or kind is FlowList:
        lines.append(f"{indent}{key}: {_flow(value, seen)}\n")
    elif kind is dict:
        _once(value, seen)
        if not value:
            raise _Unprovable
        lines.append(f"{indent}{key}:\n")
        inner = indent + "  "
        for name, item in value.items():
            _item(_key(name, _BLOCK), item, inner, lines, seen)
    elif kind is list:
        _once(value, seen)
        if not value:
            raise _Unprovable
        lines.append(f"{indent}{key}:\n")
        for element in value:  # a sequence in a mapping is written at the key's indent
            _sequence_item(element, indent, lines, seen)
    else:
        lines.append(f"{indent}{key}: {_scalar(value, _BLOCK)}\n")


def _sequence_item(value: Any, indent: str, lines: list[str], seen: set[int]) -> None:
    kind = type(value)
    if kind is Flow or kind is FlowList:
        lines.append(f"{indent}- {_flow(value, seen)}\n")
    elif kind is dict or kind is list:
        raise _Unprovable  # a block collection in a sequence: not in a lock's common entries
    else:
        lines.append(f"{indent}- {_scalar(value, _BLOCK)}\n")


def _flow(value: Any, seen: set[int]) -> str:
    """A value in flow style (PyYAML writes every collection in one so)."""
    kind = type(value)
    if kind is str:
        return _FLOW.get(value) or _text(value, _FLOW)
    if kind is Flow or kind is dict:
        _once(value, seen)
        items = []
        for key, item in value.items():  # a column's spec: the loop run most, kept short
            spelled_key = _FLOW.get(key) if type(key) is str else None
            spelled = _FLOW.get(item) if type(item) is str else None
            items.append(f"{spelled_key or _key(key, _FLOW)}: {spelled or _flow(item, seen)}")
        return "{" + ", ".join(items) + "}"
    if kind is FlowList or kind is list:
        _once(value, seen)
        return "[" + ", ".join([_flow(v, seen) for v in value]) + "]"
    return _scalar(value, _FLOW)


def _once(collection: dict[Any, Any] | list[Any], seen: set[int]) -> None:
    """PyYAML writes a collection met twice in one document as an anchor and an alias."""
    if id(collection) in seen:
        raise _Unprovable
    seen.add(id(collection))


def _key(name: Any, spellings: dict[str, str]) -> str:
    if type(name) is not str:
        raise _Unprovable  # PyYAML's spelling of a number or null, or its refusal
    spelling = spellings.get(name)  # only texts shorter than a long key are kept
    if spelling is None:
        if not 0 < len(name) < LONGEST_KEY:
            raise _Unprovable
        spelling = _text(name, spellings)
    return spelling


def _scalar(value: Any, spellings: dict[str, str]) -> str:
    kind = type(value)
    if kind is str or kind is Block:  # a Block on one line is written as a text
        return spellings.get(value) or _text(value, spellings)
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    raise _Unprovable  # a float (PyYAML's own spelling), or a type PyYAML refuses


def _text(value: str, spellings: dict[str, str]) -> str:
    """`value`'s spelling in `spellings`' context, learnt for both contexts on first use."""
    text = str(value)
    in_block, in_flow = _spellings(text)
    if in_block is None or in_flow is None:
        raise _Unprovable
    if len(text) < LONGEST_KEY:  # a long text is rarely met twice, and is no key
        if len(_BLOCK) >= _MOST_KEPT:  # a long-lived process: start afresh
            _BLOCK.clear()
            _FLOW.clear()
        _BLOCK[text] = in_block
        _FLOW[text] = in_flow
    return in_block if spellings is _BLOCK else in_flow


def _spellings(text: str) -> tuple[str | None, str | None]:
    """`text` in block and in flow context, as `Emitter.choose_scalar_style` and the plain
    and single-quoted writers spell it on one line (`yaml_style._string`: quoted whenever a
    YAML 1.2 reader would not read it back as this text)."""
    if _PLAIN_EVERYWHERE.fullmatch(text):
        block_plain = flow_plain = True
    else:
        analysis = _EMITTER.analyze_scalar(text)
        if analysis.empty or analysis.multiline or not analysis.allow_single_quoted:
            return None, None  # `''` as a key is `? ''`; the rest PyYAML double-quotes
        block_plain, flow_plain = analysis.allow_block_plain, analysis.allow_flow_plain
    quoted = "'" + text.replace("'", "''") + "'"
    implicit = (
        not reads_as_non_string(text) and _RESOLVE(yaml.ScalarNode, text, (True, False)) == _STR_TAG
    )
    return (
        text if implicit and block_plain else quoted,
        text if implicit and flow_plain else quoted,
    )
