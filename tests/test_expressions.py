"""Expression equivalence: the catalog's spelling equals the lock's, and different meanings stay
different (a false "same" would hide drift)."""

from __future__ import annotations

import pytest

from schemalock.model.expressions import parse_error, same

SAME = [
    ("now()", "CURRENT_TIMESTAMP"),
    ("now()", "transaction_timestamp()"),
    ("'0'::integer", "0"),
    ("(qty * (2)::numeric)", "qty * 2"),
    ("qty > 0::numeric", "(qty > 0)"),
    ("plan = ANY (ARRAY['free'::text, 'pro'::text])", "plan IN ('free','pro')"),
    (
        "((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
        "status IN ('a','b')",
    ),
    ("date_trunc('day'::text, ts)", "date_trunc('day', ts)"),
    ("'ok'::mood", "'ok'"),
    ("'{}'::jsonb", "'{}'"),
    ("x BETWEEN 1 AND 10", "((x >= 1) AND (x <= 10))"),
    ("name ~~ 'a%'::text", "name LIKE 'a%'"),
    ("VALUE ~ '@'::text", "VALUE ~ '@'"),
    ("a > 0 AND b > 0", "((a > 0) AND (b > 0))"),
    ("gen_random_uuid()", "pg_catalog.gen_random_uuid()"),
]

DIFFERENT = [
    ("CURRENT_TIMESTAMP(0)", "now()"),
    ("x::numeric(10,2)", "x::numeric(5,0)"),
    ("now()::timestamp(0)", "now()::timestamp(6)"),
    ("'10'::numeric / 4", "'10'::integer / 4"),
    ("2::numeric / 4", "2 / 4"),
    ("(name)::varchar(3) = 'abc'", "name = 'abc'"),
    ("X'1F'", "'x1F'"),
    ("plan IN ('free','pro')", "plan IN ('free','enterprise')"),
    ("x BETWEEN 1 AND 10", "((x >= 1) AND (x <= 11))"),
    ("true", "false"),
    ("'A' || x", "'a' || x"),
]


@pytest.mark.parametrize(("left", "right"), SAME)
def test_same_meaning(left: str, right: str) -> None:
    assert same(left, right)
    assert same(right, left)


@pytest.mark.parametrize(("left", "right"), DIFFERENT)
def test_different_meaning(left: str, right: str) -> None:
    assert not same(left, right)


def test_index_elements_and_partition_keys() -> None:
    assert same('lower(("order")::text) DESC', 'lower("order") DESC', "index_elem")
    assert not same("email", "email DESC", "index_elem")
    assert same("RANGE (at)", "range(at)", "partition")


def test_unparsable_text_compares_exactly() -> None:
    assert not same("lower(A", "lower(a")
    assert parse_error("a > 0; DROP TABLE t") is not None
    assert parse_error("lower(email") is not None
    assert parse_error("a > 0") is None


def test_quote_reads_pglast_keywords_without_importing_pglast() -> None:
    """names.quote loads pglast's keyword lists on their own (the parser costs ~50 ms to
    import); they must be exactly the package's."""
    import subprocess
    import sys

    code = (
        "import sys; from schemalock.model import names; "
        "print(names.quote('user'), names.quote('select'), names.quote('ok'), "
        "'pglast' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ['"user"', '"select"', "ok", "False"]

    from pglast import keywords

    from schemalock.model import names

    every = keywords.RESERVED_KEYWORDS | keywords.TYPE_FUNC_NAME_KEYWORDS
    assert names._keywords() == frozenset(every | keywords.COL_NAME_KEYWORDS)


def test_columns_named_lists_what_an_expression_reads() -> None:
    from schemalock.model.expressions import columns_named

    read = columns_named('length((c)::text) < 100 AND t."B" > 0 OR lower(x) = ANY (ARRAY[y])')
    assert read == frozenset({"c", "B", "x", "y"})
    assert columns_named("note", "index_elem") == frozenset({"note"})
    assert columns_named("lower(email) text_pattern_ops DESC", "index_elem") == frozenset({"email"})
    assert columns_named("now() > '2020-01-01'") == frozenset()
    assert columns_named("((a") is None
