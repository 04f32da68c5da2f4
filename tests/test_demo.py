"""`schemalock demo` runs the whole story on its own embedded PostgreSQL."""

from __future__ import annotations

import pytest

from conftest import run_cli


@pytest.mark.db
def test_demo_tells_the_story() -> None:
    result = run_cli("demo")
    assert result.exit_code == 0, result.stdout + result.stderr
    out = result.stdout
    assert "No findings: the lock and" in out
    for rule in (
        "column-type-mismatch",
        "missing-foreign-key",
        "fk-type-mismatch",
        "nullability-mismatch",
        "missing-index",
        "enum-mismatch",
        "extra-table",
    ):
        assert rule in out, rule
    assert out.index("No findings") < out.index("fk-type-mismatch")
