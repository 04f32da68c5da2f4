"""snapshot writes most lock entries' YAML directly (`lock.yaml_text`), PyYAML the rest: the
direct text must be PyYAML's byte for byte, or not be written at all."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from schemalock.lock import yaml_text
from schemalock.lock.writer import dumped, sections
from schemalock.lock.yaml_style import Block, Flow, FlowList, PureDumper

TRICKY_TEXTS = [
    "plain", "Mixed Case", "snake_case_42", "with: colon", "colon:", ":leading", "a:b",
    "# hash", "a #b", "a#b", "- dash", "-", "-x", "--", "---", "...", "..x", ".5", "?", "? x",
    "?x", "why? because", "quote's", "'quoted'", 'double "q"', "tab\there", "trailing space ",
    " leading", "  ", " ", "", "yes", "no", "Yes", "NO", "on", "off", "y", "n", "true", "False",
    "null", "Null", "~", "1e5", "1.5", "0x10", "0o17", "017", "+1", "-1", "1_000", ".inf",
    "-.INF", ".nan", "2024-01-01", "2024-01-01 10:00:00", "12:30", "1:30:00", "<<", "=",
    "ünïcødé", "naïve café", "emoji 🚀", "🚀", "\U00010000 first", "line\u2028separator",
    "para\u2029graph", "nel\x85here", "nbsp\xa0here", "\xa0", "bom\ufeffhere", "bell\x07",
    "CR\rhere", "multi\nline", "ends\n", "a" * 99, "a" * 100, "a" * 122, "a" * 123,
    "a" * 130, "word " * 900, "{braces}", "[brackets]", "a,b", "a[0]", "*star", "&amp",
    "!bang", "%percent", "@at", "`tick`", "|pipe", ">gt", "back\\slash", "back\\Uslash",
    "now()", "'{}'::jsonb", "nextval('s'::regclass)", "timestamp with time zone", "text[]",
    "numeric(12,2)", "x >= 0", "a = ANY (ARRAY['x'::text, 'y'::text])", "(a + b) * 2",
]  # fmt: skip


def pyyaml(document: dict[str, Any]) -> str:
    """The document as PyYAML's own emitter writes it: what a lock's bytes are."""
    return yaml.dump(
        document, Dumper=PureDumper, sort_keys=False, width=4096, allow_unicode=True,
        default_flow_style=False,
    )  # fmt: skip


def direct(name: str, entry: Any) -> str | None:
    """What `yaml_text` writes for `{section: {name: entry}}` after `section:`, if anything."""
    return yaml_text.entry(name, entry, "  ")


def assert_spelled_as_pyyaml(name: str, entry: Any) -> bool:
    """The direct text, where there is one, is PyYAML's and what snapshot writes today."""
    document = {"tables": {name: entry, "other": "x"}}
    text = direct(name, entry)
    if text is None:
        return False
    expected = pyyaml(document)
    assert "tables:\n" + text + "  other: x\n" == expected, (name, entry)
    assert "".join(sections(document)) == expected == dumped(document)
    return True


def test_every_tricky_text_is_pyyaml_s_spelling_or_left_to_pyyaml() -> None:
    written = 0
    for text in TRICKY_TEXTS:
        shapes: list[tuple[str, Any]] = [
            (text or "empty", Flow(type="text", comment=text)),
            ("column", {"columns": {text or "empty": Flow(type=text, unique=True)}}),
            ("t", {"comment": text, "checks": {"c": text}}),
            ("t", {"tags": FlowList([text, text]), "n": FlowList([Flow(x=text)])}),
            ("t", {"bodies": [Block(text), text]}),
            ("t", {"nested": Flow(a=Flow(b=FlowList([text])), c=text)}),
            (text or "empty", text),
        ]
        for name, entry in shapes:
            written += assert_spelled_as_pyyaml(name, entry)
    assert written > len(TRICKY_TEXTS) * 4  # most are written directly: the test tests that


def test_what_is_written_directly() -> None:
    """The texts that are not PyYAML's on one line in plain or single quotes go to PyYAML,
    and so does a collection met twice (PyYAML writes an anchor), or a float."""
    for left_to_pyyaml in (
        "", "multi\nline", "bell\x07", "line\u2028separator", "tab\there", "word " * 900,
    ):  # fmt: skip
        assert direct("t", Flow(comment=left_to_pyyaml)) is None, left_to_pyyaml
    assert direct("a" * 123, "x") is None  # PyYAML: `? aaa...`
    assert direct("t", Flow({"a" * 123: "x"})) is None
    assert direct("t", Flow({"a" * 99: "a" * 130})) is not None  # a long value is no long key
    shared = FlowList(["a"])
    assert direct("t", {"x": shared, "y": shared}) is None
    assert_spelled_as_pyyaml("t", {"x": FlowList(["a"]), "y": FlowList(["a"])})
    assert direct("t", Flow(ratio=0.5)) is None
    assert direct("t", {}) is None
    assert (
        direct("t", {"k": 1, "b": False, "n": None})
        == "  t:\n    k: 1\n    b: false\n    n: null\n"
    )
    assert direct("t", Flow(a="yes", b="it's", c="x: y")) == "  t: {a: 'yes', b: it's, c: 'x: y'}\n"


ALPHABET = st.sampled_from(
    [
        *"abcAZ019_ .,:;-?#'\"!&*|>%@`{}[]()=<>+/\\~\n\t\r",
        *("\x85", "\xa0", "\u2028", "\ufeff", "é", "🚀", "\x00", "\x07"),
    ]
)
TEXTS = st.one_of(
    st.text(st.sampled_from("abXY09_ ().=<>*/+'-:,#"), min_size=1, max_size=12),
    st.text(ALPHABET, max_size=12),
    st.sampled_from(TRICKY_TEXTS),
    st.builds(lambda a, b: a + b, st.sampled_from(TRICKY_TEXTS), st.text(ALPHABET, max_size=4)),
)
SCALARS = st.one_of(
    TEXTS, TEXTS, TEXTS.map(Block), st.booleans(), st.integers(-10**6, 10**6), st.none(),
)  # fmt: skip
FLOW_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(FlowList),
        st.dictionaries(TEXTS, inner, max_size=3).map(Flow),
    ),
    max_leaves=6,
)
BLOCK_VALUES = st.recursive(
    FLOW_VALUES,
    lambda inner: st.one_of(
        st.dictionaries(TEXTS, inner, max_size=4), st.lists(FLOW_VALUES, max_size=3)
    ),
    max_leaves=12,
)


@settings(derandomize=True, max_examples=1000, deadline=None)
@given(TEXTS, BLOCK_VALUES)
def test_any_entry_written_directly_is_pyyaml_s(name: str, entry: Any) -> None:
    assert_spelled_as_pyyaml(name, entry)


@settings(derandomize=True, max_examples=1000, deadline=None)
@given(st.text(st.sampled_from("aZ09_ ().=<>*/+'-:#,?[]{}!&|>%@`\"~\\"), min_size=1, max_size=8))
def test_the_texts_taken_as_plain_unasked_are_those_pyyaml_allows_plain(text: str) -> None:
    """`yaml_text` skips PyYAML's analysis for the texts of a pattern: PyYAML's analysis of
    each allows it plain in either context."""
    analysis = yaml_text._EMITTER.analyze_scalar(text)
    if yaml_text._PLAIN_EVERYWHERE.fullmatch(text):
        allowed = (analysis.allow_block_plain, analysis.allow_flow_plain)
        assert allowed == (True, True), text
        assert (analysis.allow_single_quoted, analysis.multiline) == (True, False), text


def test_a_long_key_is_spelled_as_pyyaml_spells_it_with_or_without_libyaml() -> None:
    """PyYAML writes a key of 123 characters or more as `? key`, libyaml a plain `key:` up
    to 128: the lock's bytes must not depend on which one is installed."""
    for length in (99, 100, 122, 123, 125, 128, 129, 140):
        key = "k" * length
        for document in ({"functions": {key: {"returns": "void"}}}, {"tables": [{key: 1}]}):
            assert dumped(document) == pyyaml(document), length
    assert dumped({"t": {"k" * 125: 1}}).startswith("t:\n  ? ")
