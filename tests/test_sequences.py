"""Sequences of their own (issue 12): snapshot then verify is silent, each option's drift is
reported (missing, extra, changed), serial and identity columns' sequences stay the
columns', `fix` plans the repair (applied, converging and undone, in test_fix_sequences.py),
and `schemalock diff` judges a narrowed sequence a regression."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import execute, query, run_cli
from test_diff import BASE, judge, seen
from test_roundtrip import snapshot

SEQUENCES = """
CREATE TABLE tickets (id serial PRIMARY KEY, code int GENERATED ALWAYS AS IDENTITY,
                      number bigint);
CREATE SEQUENCE invoice_numbers START 1000 INCREMENT 10 CACHE 5;
CREATE SEQUENCE countdown AS integer INCREMENT -1 MINVALUE -100 MAXVALUE 0 CYCLE;
CREATE SEQUENCE ticket_numbers AS smallint OWNED BY tickets.number;
CREATE SCHEMA billing;
CREATE SEQUENCE billing.receipts;
COMMENT ON SEQUENCE invoice_numbers IS 'shared by invoices and credit notes';
-- Owned by a serial column whose default uses another sequence: a sequence of its own.
CREATE SEQUENCE ticket_spares OWNED BY tickets.id;
"""


def _verify(lock: Path, url: str, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", url, "--format", "json", *extra
    )
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


def _found(report: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return sorted((f["rule"], f["constraint"], f["severity"]) for f in report["findings"])


@pytest.mark.db
def test_round_trip_is_silent_and_complete(database: str, tmp_path: Path) -> None:
    execute(database, SEQUENCES)
    lock = tmp_path / "schema_lock.yaml"
    document = yaml.safe_load(snapshot(database, lock))
    assert document["sequences"] == {
        "billing.receipts": {},
        "countdown": {"type": "integer", "increment": -1, "min": -100, "max": 0, "cycle": True},
        "invoice_numbers": {
            "start": 1000,
            "increment": 10,
            "cache": 5,
            "comment": "shared by invoices and credit notes",
        },
        "ticket_numbers": {"type": "smallint", "owned_by": "tickets.number"},
        "ticket_spares": {"owned_by": "tickets.id"},
    }, "serial and identity sequences are the columns'"
    exit_code, report = _verify(lock, database, "--fail-on", "info")
    assert report["findings"] == [], [f["message"] for f in report["findings"]]
    assert exit_code == 0
    kinds = {k["kind"]: k for k in report["coverage"]["kinds"]}
    assert kinds["sequence"] == {"kind": "sequence", "database": 5, "lock": 5, "compared": 5}
    assert not [i for i in report["coverage"]["not_covered"] if i["kind"] == "sequence"]
    assert snapshot(database, tmp_path / "again.yaml") == lock.read_text(), "deterministic"


DRIFT = {
    "dropped": (
        "DROP SEQUENCE invoice_numbers",
        [("missing-sequence", "invoice_numbers", "error")],
    ),
    "added": ("CREATE SEQUENCE legacy_ids", [("extra-sequence", "legacy_ids", "warning")]),
    "type narrowed": (
        "ALTER SEQUENCE invoice_numbers AS integer",
        [("sequence-changed", "invoice_numbers", "error")],
    ),
    "increment": (
        "ALTER SEQUENCE invoice_numbers INCREMENT 1",
        [("sequence-changed", "invoice_numbers", "error")],
    ),
    "start, min, max, cache, cycle": (
        "ALTER SEQUENCE countdown START -5 MINVALUE -50 MAXVALUE 10 CACHE 2 NO CYCLE",
        [("sequence-changed", "countdown", "error")],
    ),
    "owner": (
        "ALTER SEQUENCE ticket_numbers OWNED BY NONE",
        [("sequence-changed", "ticket_numbers", "error")],
    ),
    "a serial column's sequence is the column's": (
        "ALTER TABLE tickets ADD COLUMN seq2 bigserial",
        [("extra-column", None, "warning")],
    ),
}


@pytest.mark.db
@pytest.mark.parametrize("sql", DRIFT.values(), ids=DRIFT.keys())
def test_drift(
    database: str, tmp_path: Path, sql: tuple[str, list[tuple[str, str | None, str]]]
) -> None:
    statement, expected = sql
    execute(database, SEQUENCES)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, statement)
    _, report = _verify(lock, database, "--no-data")
    assert _found(report) == sorted(expected), [f["message"] for f in report["findings"]]


def _revision(url: str, lock: Path, migrations: Path) -> str:
    """`schemalock fix` without --apply: the one revision it writes, as text."""
    result = run_cli(
        "fix", "--lock", str(lock), "--database-url", url, "--migrations", str(migrations)
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    [revision] = (migrations / "versions").glob("*.py")
    return revision.read_text(encoding="utf-8")


@pytest.mark.db
def test_fix_plans_sequences(database: str, tmp_path: Path) -> None:
    execute(database, SEQUENCES)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, "DROP SEQUENCE invoice_numbers; ALTER SEQUENCE countdown NO CYCLE")
    upgrade, _, downgrade = _revision(database, lock, tmp_path / "migrations").partition(
        "def downgrade"
    )
    assert (
        "CREATE SEQUENCE public.invoice_numbers AS bigint START 1000 INCREMENT 10 MINVALUE 1 "
        "MAXVALUE 9223372036854775807 CACHE 5 NO CYCLE"
    ) in upgrade, upgrade
    assert "COMMENT ON SEQUENCE public.invoice_numbers IS 'shared by" in upgrade, upgrade
    assert "ALTER SEQUENCE public.countdown CYCLE" in upgrade, upgrade
    assert "DROP SEQUENCE public.invoice_numbers" in downgrade, downgrade
    assert "ALTER SEQUENCE public.countdown NO CYCLE" in downgrade, downgrade


GUARDED = BASE + "sequences:\n  invoice_numbers: {start: 1000}\n"


def test_diff_judges_a_narrowed_sequence_a_regression() -> None:
    def judged(old: str, new: str) -> list[tuple[str, str]]:
        return seen(judge(GUARDED.replace(old, new), GUARDED))

    assert judged("{start: 1000}", "{start: 1000, type: integer}") == [
        ("lock-regression", "sequence public.invoice_numbers: type, max changed")
    ]
    assert judged("{start: 1000}", "{start: 1000, cycle: true}") == [
        ("lock-regression", "sequence public.invoice_numbers: cycle changed")
    ]
    assert judged("{start: 1000}", "{start: 1000, cache: 20}") == [
        ("lock-change", "sequence public.invoice_numbers: cache changed")
    ]
    assert seen(judge(BASE, GUARDED)) == [
        ("lock-regression", "sequence public.invoice_numbers removed")
    ]
    assert ("lock-progress", "sequence public.invoice_numbers added") in seen(judge(GUARDED, BASE))


def _extension(url: str) -> str:
    """citext where the server has contrib (Debian's PostgreSQL), else pgvector's vector
    (the embedded server's build has no contrib)."""
    available = {str(row[0]) for row in query(url, "SELECT name FROM pg_available_extensions")}
    for extension in ("citext", "vector"):
        if extension in available:
            return extension
    pytest.skip("this server has neither citext nor vector")


@pytest.mark.db
def test_extensions_round_trip_and_drift(database: str, tmp_path: Path) -> None:
    """An extension is written with its schema and version and verifies silent; moved to
    another schema is an error, another version a warning, dropped an error, one added a
    warning; its own objects are never reported."""
    extension = _extension(database)
    execute(database, f"CREATE SCHEMA extensions; CREATE EXTENSION {extension}")
    lock = tmp_path / "schema_lock.yaml"
    document = yaml.safe_load(snapshot(database, lock))
    (version,) = query(
        database, "SELECT extversion FROM pg_extension WHERE extname = %s", (extension,)
    )[0]
    assert document["extensions"] == {extension: {"version": version}}
    exit_code, report = _verify(lock, database, "--fail-on", "info")
    assert report["findings"] == [], [f["message"] for f in report["findings"]]
    assert exit_code == 0

    execute(database, f"ALTER EXTENSION {extension} SET SCHEMA extensions")
    exit_code, report = _verify(lock, database, "--no-data")
    assert _found(report) == [("extension-changed", extension, "error")], report["findings"]
    assert exit_code == 1
    execute(database, f"ALTER EXTENSION {extension} SET SCHEMA public")

    pinned = lock.read_text(encoding="utf-8").replace(f"version: '{version}'", "version: '0.0'")
    pinned = pinned.replace(f"version: {version}", "version: '0.0'")
    assert pinned != lock.read_text(encoding="utf-8")
    (tmp_path / "pinned.yaml").write_text(pinned, encoding="utf-8")
    exit_code, report = _verify(tmp_path / "pinned.yaml", database, "--no-data")
    assert _found(report) == [("extension-changed", extension, "warning")]
    assert report["findings"][0]["message"].endswith(f"at version {version}; the lock says 0.0")
    assert exit_code == 0

    execute(database, f"DROP EXTENSION {extension}")
    _, report = _verify(lock, database, "--no-data")
    assert _found(report) == [("missing-extension", extension, "error")]
    execute(database, f"CREATE EXTENSION {extension} SCHEMA extensions")
    _, report = _verify(tmp_path / "pinned.yaml", database, "--no-data")
    assert _found(report) == [("extension-changed", extension, "error")], "found by name"

    lock.write_text(lock.read_text(encoding="utf-8").split("extensions:")[0], encoding="utf-8")
    _, report = _verify(lock, database, "--no-data")
    assert _found(report) == [("extra-extension", extension, "warning")]


@pytest.mark.db
def test_fix_plans_extensions(database: str, tmp_path: Path) -> None:
    extension = _extension(database)
    execute(database, f"CREATE EXTENSION {extension}")
    (version,) = query(
        database, "SELECT extversion FROM pg_extension WHERE extname = %s", (extension,)
    )[0]
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, f"DROP EXTENSION {extension}")
    upgrade, _, downgrade = _revision(database, lock, tmp_path / "migrations").partition(
        "def downgrade"
    )
    assert f"CREATE EXTENSION {extension} SCHEMA public VERSION '{version}'" in upgrade, upgrade
    assert f"DROP EXTENSION {extension}'" in downgrade, downgrade


def test_diff_judges_extensions() -> None:
    with_vector = BASE + "extensions:\n  vector: {version: '0.8.0'}\n"
    assert seen(judge(BASE, with_vector)) == [("lock-regression", "extension vector removed")]
    assert ("lock-progress", "extension vector added") in seen(judge(with_vector, BASE))
    upgraded = with_vector.replace("0.8.0", "0.8.1")
    assert seen(judge(upgraded, with_vector)) == [
        ("lock-change", "extension vector: version changed")
    ]
