"""How `snapshot` writes YAML: the dumper, and the values written in a style of their own
(a mapping or list on one line, a multi-line text as a literal block)."""

from __future__ import annotations

from typing import Any

import yaml

from schemalock.lock.yamlsafe import reads_as_non_string


class Flow(dict[str, Any]):
    """A mapping written on one line: `{type: uuid, primary_key: true}`."""


class FlowList(list[Any]):
    """A list written on one line: `[a, b]`."""


class Block(str):
    """A text written as a literal block (`|`) when it spans lines: a view's query, a body."""

    __slots__ = ()


class PureDumper(yaml.SafeDumper):
    """PyYAML's own emitter: what a lock is written as (`writer.dumped`)."""


# libyaml's emitter where PyYAML has it: ten times faster, and the same bytes but for two
# spellings `writer.dumped` hands back to PureDumper (a character beyond the Basic Multilingual
# Plane escaped, an explicit `? key`).
class Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    pass


def _string(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # PyYAML decides quoting by YAML 1.1; the loader reads YAML 1.2 (where `1e5` is a number
    # and `no` a string): quote whatever the loader would not read back as this string.
    style = "'" if reads_as_non_string(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _block(dumper: yaml.SafeDumper, value: Block) -> yaml.ScalarNode:
    if "\n" not in value:
        return _string(dumper, str(value))
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


for _dumper in (Dumper, PureDumper):
    _dumper.add_representer(str, _string)
    _dumper.add_representer(Block, _block)
    _dumper.add_representer(
        Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(), flow_style=True)
    )
    _dumper.add_representer(
        FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True)
    )
