"""The registry and its generated artefacts: codes, names and docs cannot drift."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from schemalock.lock.format import json_schema_text
from schemalock.render import rules_doc
from schemalock.rules import RULES, find_rule
from schemalock.rules.base import DOC_SECTIONS, Rule

ROOT = Path(__file__).resolve().parent.parent

# DESIGN.md's contract: these names exist, in these categories.  Later issues add the rest.
CONTRACT = {
    "structure": [
        "missing-table",
        "extra-table",
        "missing-column",
        "extra-column",
        "column-type-mismatch",
        "nullability-mismatch",
        "default-mismatch",
        "primary-key-mismatch",
        "missing-foreign-key",
        "foreign-key-mismatch",
        "missing-unique",
        "missing-index",
        "check-mismatch",
        "enum-mismatch",
        "invalid-index",
    ],
    "integrity": ["fk-type-mismatch"],
}


def test_codes_and_names_are_unique_and_well_formed() -> None:
    codes = [rule.code for rule in RULES]
    names = [rule.name for rule in RULES]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    for rule in RULES:
        assert re.fullmatch(r"SL\d{3}", rule.code), rule.code
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name), rule.name


def test_codes_group_by_category() -> None:
    prefixes: dict[str, str | tuple[str, ...]] = {
        "lock": "SL0",
        "structure": ("SL1", "SL7"),  # SL7: objects beyond tables (views, functions, ...)
        "integrity": "SL2",
        "identifiers": "SL3",
        "data": "SL4",
        "contracts": "SL5",
        "advice": "SL2",  # fk-missing-index kept its integrity code when it became advice
        "regression": "SL6",  # schemalock diff: the lock against its base version
        "history": "SL6",
    }
    for rule in RULES:
        assert rule.code.startswith(prefixes[rule.category.value]), rule.code


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_docstring_has_every_section(rule: type[Rule]) -> None:
    doc = rule.documentation()
    assert doc.splitlines()[0].endswith("."), "first line is a one-sentence summary"
    for section in DOC_SECTIONS:
        assert f"## {section}" in doc, f"{rule.code} lacks '## {section}'"


def test_contract_rule_names_exist_in_their_category() -> None:
    for category, names in CONTRACT.items():
        for name in names:
            rule = find_rule(name)
            assert rule is not None, name
            assert rule.category.value == category


def test_find_rule_by_code_or_name() -> None:
    assert find_rule("sl105") is find_rule("column-type-mismatch") is not None
    assert find_rule("nope") is None


def test_docs_rules_md_is_fresh() -> None:
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == rules_doc.markdown(), "run `make docs` and commit docs/rules.md"


def test_json_schema_is_fresh_and_draft07() -> None:
    committed = (ROOT / "schema_lock.schema.json").read_text(encoding="utf-8")
    assert committed == json_schema_text(), "run `make docs` and commit schema_lock.schema.json"
    schema = json.loads(committed)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    assert "$defs" not in committed
    assert "prefixItems" not in committed
