"""Splitting pg_get_indexdef() output into key elements and INCLUDE columns."""

from __future__ import annotations

import pytest

from schemalock.introspect import index_elements


@pytest.mark.parametrize(
    ("definition", "keys", "include"),
    [
        ("CREATE INDEX x ON ONLY public.events USING btree (kind)", ["kind"], []),
        (
            'CREATE UNIQUE INDEX "a(b" ON public."t(x" USING btree '
            '(lower(("order")::text) DESC, qty) INCLUDE (org_id) WHERE (qty > (1)::numeric)',
            ['lower(("order")::text) DESC', "qty"],
            ["org_id"],
        ),
        (
            "CREATE INDEX y ON t USING btree (((a || ',)'::text)), b text_pattern_ops) "
            "WHERE (c = 'x,(')",
            ["((a || ',)'::text))", "b text_pattern_ops"],
            [],
        ),
        (
            'CREATE INDEX z ON "we""ird" USING gin (metadata jsonb_path_ops, "a,b")',
            ["metadata jsonb_path_ops", '"a,b"'],
            [],
        ),
    ],
)
def test_index_elements(definition: str, keys: list[str], include: list[str]) -> None:
    assert index_elements(definition) == (keys, include)
