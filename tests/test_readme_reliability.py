"""The README's reliability table stays true: every case of the catalogue (A01-A22, B01-B10,
C01-C17, D01-D20, E01-E21, F01-F15, G01-G04: 109) is listed once, in order, each with the
tests that prove it or the reason it does not apply, and every test it names exists."""

from __future__ import annotations

import ast
import re
from functools import cache

from conftest import ROOT

SERIES = {"A": 22, "B": 10, "C": 17, "D": 20, "E": 21, "F": 15, "G": 4}
HEADING = "## Reliability: what is promised, and where it is proved"
CITED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _rows() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if re.match(r"^\| [A-G]\d\d \|", line)]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]


@cache
def _functions(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return frozenset(node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef))


def test_every_case_is_listed_once_in_order() -> None:
    expected = [f"{s}{n:02d}" for s, count in SERIES.items() for n in range(1, count + 1)]
    assert [row[0] for row in _rows()] == expected
    assert len(expected) == 109


def test_each_case_is_proved_by_tests_or_says_why_not() -> None:
    for case, _, promise, proved in _rows():
        if proved == "does not apply":
            assert promise.startswith("Does not apply: "), case
        else:
            assert CITED.search(proved), case
            assert not promise.startswith("Does not apply"), case


def test_every_test_named_exists() -> None:
    missing = [
        f"{case}: {path}::{name}"
        for case, _, _, proved in _rows()
        for path, name in CITED.findall(proved)
        if not (ROOT / path).is_file() or name not in _functions(path)
    ]
    assert missing == []
