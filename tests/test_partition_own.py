"""A partition's own indexes and constraints on a real PostgreSQL: those made on the partition
alone (not attached to, inherited or cloned from its parent's).  Snapshot writes them on the
partition in the shape of a table's and verify is silent; each way they drift is reported
once, with the partition as the table; fix creates the missing ones, drops and adds again a
check of another meaning, leaves an extra one alone, and its downgrade brings the drift back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import execute, query, run_cli
from test_fix_classes import MakePair, _drift, pair
from test_fix_partitions import _downgrade
from test_roundtrip import snapshot

pytestmark = pytest.mark.db

__all__ = ["pair"]  # the fixture, imported to be used here

TABLES = """
CREATE SCHEMA archive;
CREATE TABLE accounts (id bigint PRIMARY KEY);
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, kind text NOT NULL, account bigint)
    PARTITION BY RANGE (at);
CREATE INDEX events_at_idx ON events (at);
ALTER TABLE events ADD CONSTRAINT events_id_check CHECK (id >= 0);
CREATE TABLE archive.events_old PARTITION OF events FOR VALUES FROM (MINVALUE) TO ('2025-01-01');
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')
    PARTITION BY LIST (kind);
CREATE TABLE events_2026_a PARTITION OF events_2026 FOR VALUES IN ('a');
CREATE TABLE events_2026_b PARTITION OF events_2026 DEFAULT;
"""
ROWS = """
INSERT INTO accounts VALUES (1);
INSERT INTO events VALUES (1, '2024-01-01', 'a', 1), (2, '2025-02-01', 'b', 1),
    (3, '2026-02-01', 'a', NULL), (4, '2026-03-01', 'c', 1);
"""
# Of every kind, on a leaf, in another schema and on a sub-partitioned partition (whose index
# is a partitioned one: its partitions' indexes are attached to it, and its check inherited).
OWN = """
CREATE INDEX events_2025_kind ON events_2025 (kind);
CREATE INDEX old_recent ON archive.events_old (at DESC) WHERE kind <> 'x';
ALTER TABLE events_2025 ADD CONSTRAINT events_2025_id_positive CHECK (id > 0);
ALTER TABLE events_2025 ADD CONSTRAINT events_2025_id_key UNIQUE (id);
ALTER TABLE events_2025 ADD CONSTRAINT events_2025_account_fkey
    FOREIGN KEY (account) REFERENCES accounts (id);
ALTER TABLE events_2025 ADD CONSTRAINT events_2025_kind_excl
    EXCLUDE USING btree (kind WITH =) DEFERRABLE;
ALTER TABLE archive.events_old ADD PRIMARY KEY (id);
CREATE INDEX events_2026_id ON events_2026 (id);
ALTER TABLE events_2026 ADD CONSTRAINT events_2026_kind_check CHECK (kind <> '');
"""


def _verify(url: str, lock: Path) -> tuple[int, dict[str, Any]]:
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", url, "--format", "json",
        "--fail-on", "info",
    )  # fmt: skip
    return result.exit_code, json.loads(result.stdout)


def _findings(url: str, lock: Path) -> list[tuple[str, str, str]]:
    return sorted((f["rule"], f["table"], f["message"]) for f in _verify(url, lock)[1]["findings"])


def test_round_trip_writes_them_on_the_partition_and_is_silent(
    database: str, tmp_path: Path
) -> None:
    execute(database, TABLES + ROWS + OWN)
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(database, lock)
    assert snapshot(database, tmp_path / "again.yaml") == text  # deterministic
    events = yaml.safe_load(text)["tables"]["events"]
    assert events["indexes"] == {"events_at_idx": {"columns": ["at"]}}  # the parent's only
    assert events["checks"] == {"events_id_check": "id >= 0"}
    partitions = events["partitions"]
    assert partitions["events_2025"] == {
        "bound": "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "foreign_keys": {
            "events_2025_account_fkey": {
                "columns": ["account"],
                "references": {"table": "accounts", "columns": ["id"]},
            }
        },
        "unique": {"events_2025_id_key": {"columns": ["id"]}},
        "checks": {"events_2025_id_positive": "id > 0"},
        "indexes": {"events_2025_kind": {"columns": ["kind"]}},
        "exclusions": {
            "events_2025_kind_excl": {
                "definition": "EXCLUDE USING btree (kind WITH =)",
                "deferrable": True,
            }
        },
    }
    assert partitions["archive.events_old"] == {
        "bound": "FOR VALUES FROM (MINVALUE) TO ('2025-01-01')",
        "primary_key": ["id"],
        "indexes": {"old_recent": {"columns": ["at DESC"], "where": "kind <> 'x'::text"}},
    }
    # The sub-partitioned one's: its partitions' attached indexes and inherited checks are its.
    assert partitions["events_2026"]["checks"] == {"events_2026_kind_check": "kind <> ''::text"}
    assert partitions["events_2026"]["indexes"] == {"events_2026_id": {"columns": ["id"]}}
    assert partitions["events_2026"]["partitions"] == {
        "events_2026_a": "FOR VALUES IN ('a')",
        "events_2026_b": "DEFAULT",
    }
    code, report = _verify(database, lock)
    assert (code, report["findings"]) == (0, [])
    assert "partition index" not in json.dumps(report)
    assert "partition constraint" not in json.dumps(report)
    document = run_cli("docs", "--lock", str(lock)).stdout
    assert (
        "- `archive.events_old`: partition of `events` `FOR VALUES FROM (MINVALUE) TO "
        "('2025-01-01')`; primary key (`id`); index `old_recent` on `at DESC`"
    ) in document, document
    assert (
        "; foreign key (`account`) to `accounts` (`id`); check `id > 0`; index "
        "`events_2025_kind` on `kind`; exclusion `events_2025_kind_excl`"
    ) in document, document


DRIFTS = {
    "missing": (
        "DROP INDEX events_2025_kind; DROP INDEX events_2026_id;"
        " ALTER TABLE events_2025 DROP CONSTRAINT events_2025_account_fkey;"
        " ALTER TABLE archive.events_old DROP CONSTRAINT events_old_pkey",
        [
            ("missing-foreign-key", "events_2025",
             "table public.events_2025 has no foreign key (account) -> public.accounts(id)"),
            ("missing-index", "events_2025",
             "table public.events_2025 has no index btree (kind) (lock: events_2025_kind)"),
            ("missing-index", "events_2026",
             "table public.events_2026 has no index btree (id) (lock: events_2026_id)"),
            ("primary-key-mismatch", "events_old",
             "table archive.events_old has no primary key; the lock says (id)"),
        ],
    ),
    "extra": (
        "CREATE INDEX events_2025_extra ON events_2025 (at, kind);"
        " ALTER TABLE events_2026_a ADD CONSTRAINT a_check CHECK (kind = 'a')",
        [
            ("extra-constraint", "events_2026_a",
             "check a_check on public.events_2026_a (kind = 'a'::text) is not in the lock"),
            ("extra-index", "events_2025",
             "index public.events_2025_extra btree (at, kind) is not in the lock"),
        ],
    ),
    "changed": (
        "ALTER TABLE events_2025 DROP CONSTRAINT events_2025_id_positive;"
        " ALTER TABLE events_2025 ADD CONSTRAINT events_2025_id_positive CHECK (id > 1);"
        " DROP INDEX archive.old_recent; CREATE INDEX old_recent ON archive.events_old (at)",
        [
            ("check-mismatch", "events_2025",
             "check events_2025_id_positive on public.events_2025 is (id > 1); the lock says "
             "(id > 0)"),
            ("extra-index", "events_old",
             "index archive.old_recent btree (at) is not in the lock"),
            ("missing-index", "events_old",
             "table archive.events_old has no index btree (at DESC) WHERE kind <> 'x'::text "
             "(lock: old_recent)"),
        ],
    ),
}  # fmt: skip


@pytest.mark.parametrize("drift", DRIFTS, ids=list(DRIFTS))
def test_each_drift_is_reported_once_on_the_partition(
    database: str, tmp_path: Path, drift: str
) -> None:
    execute(database, TABLES + OWN)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    statements, expected = DRIFTS[drift]
    execute(database, statements)
    assert _findings(database, lock) == expected


def test_an_attached_index_and_an_inherited_check_stay_the_parents(
    database: str, tmp_path: Path
) -> None:
    """A partition's index attached to its parent's, and a check it inherits, are not its own:
    dropping the parent's drops them, one finding on the parent."""
    execute(database, TABLES)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, "DROP INDEX events_at_idx")
    assert [(rule, table) for rule, table, _ in _findings(database, lock)] == [
        ("missing-index", "events")
    ]


def test_fix_creates_them_and_its_downgrade_brings_the_drift_back(pair: MakePair) -> None:
    """Missing ones created (the sub-partitioned partition's index built on each of its
    partitions and attached), a check of another meaning redefined; rows untouched."""
    old = (
        TABLES
        + ROWS
        + "ALTER TABLE events_2025 ADD CONSTRAINT events_2025_id_positive CHECK (id > 1);"
    )
    new = TABLES + OWN.replace(
        "ALTER TABLE events_2025 ADD CONSTRAINT events_2025_kind_excl\n"
        "    EXCLUDE USING btree (kind WITH =) DEFERRABLE;\n",
        "",
    )  # a missing exclusion is left for a person, as a table's
    p = pair(old, new)
    assert {rule for rule, _ in p.drift} == {
        "check-mismatch", "missing-foreign-key", "missing-index", "missing-unique",
        "primary-key-mismatch",
    }  # fmt: skip
    p.converged(p.fix())
    invalid = "SELECT count(*) FROM pg_index WHERE NOT indisvalid"
    assert query(p.url, invalid) == [(0,)]
    attached = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'events_2026_id'::regclass"
    assert query(p.url, attached) == [(2,)]
    p.rows_kept()
    _downgrade(p)
    assert _drift(p.url, p.lock) == p.drift
    p.rows_kept()


def test_a_partition_fix_creates_has_its_own_objects_in_the_same_run(pair: MakePair) -> None:
    """Created with the partition, not left for the next run: fix converges at once, and its
    downgrade drops the partition with them."""
    created = (
        "CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO "
        "('2026-01-01');\n"
    )
    assert created in TABLES
    old = TABLES.replace(created, "") + ROWS.replace("(2, '2025-02-01', 'b', 1),\n    ", "")
    new = TABLES + OWN
    p = pair(old, new)
    assert "missing-partition" in {rule for rule, _ in p.drift}
    p.converged(p.fix())
    own = (
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'events_2025'::regclass"
        " AND conislocal AND coninhcount = 0"
    )
    assert query(p.url, own) == [(4,)]  # the check, the unique key, the foreign key, the exclusion
    p.rows_kept()
    _downgrade(p)
    assert _drift(p.url, p.lock) == p.drift
