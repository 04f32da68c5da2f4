"""Table-level aspects that used to drift silently (issue 12): column collations, storage
parameters (`WITH (fillfactor=...)`), exclusion constraints and a check's NO INHERIT, on a real
PostgreSQL.  Each is written by `snapshot` and verifies silent; each drift is reported by its
rule with its message; collations and storage parameters are repaired by `fix` (verify silent,
rows unchanged, fix again writes nothing, the downgrade brings the drift back), exclusion
constraints and NO INHERIT are left for a person with a statement that does repair them."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import Server, execute, fix_notes, query, run_cli, scratch_database
from test_fix import _fix, _revisions
from test_fix import _verify as findings
from test_fix_convergence import checksums, downgrade, drift_of, function_of
from test_roundtrip import snapshot

pytestmark = pytest.mark.db

SCHEMA = """
CREATE TABLE rooms (
    id int PRIMARY KEY,
    name text COLLATE "C" NOT NULL,
    code text,
    floor text COLLATE "POSIX"
) WITH (fillfactor = 70, autovacuum_enabled = off);
CREATE INDEX rooms_name ON rooms (name);
CREATE VIEW room_names AS SELECT id, name FROM rooms;
CREATE TABLE bookings (
    id int PRIMARY KEY,
    room_id int NOT NULL REFERENCES rooms,
    during tstzrange NOT NULL,
    cancelled boolean NOT NULL DEFAULT false,
    CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&) WHERE (NOT cancelled),
    CONSTRAINT one_per_room EXCLUDE (room_id WITH =, id WITH =) DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE measurements (id bigint NOT NULL, value numeric,
                           CONSTRAINT no_rows_here CHECK (false) NO INHERIT);
CREATE TABLE measurements_2026 () INHERITS (measurements);
CREATE TABLE slots (
    id int,
    label text COLLATE "POSIX",
    CONSTRAINT slots_apart EXCLUDE (label WITH =) WHERE (id > 10),
    CONSTRAINT slots_positive CHECK (id > 0) NO INHERIT
) WITH (fillfactor = 80);
INSERT INTO rooms SELECT g, 'Room ' || g, 'R' || g FROM generate_series(1, 20) AS g;
INSERT INTO bookings
SELECT g, 1 + g % 20, tstzrange(timestamptz '2026-01-01 00:00+00' + g * interval '1 hour',
                                timestamptz '2026-01-01 00:30+00' + g * interval '1 hour')
FROM generate_series(1, 60) AS g;
INSERT INTO measurements_2026 SELECT g, g * 1.5 FROM generate_series(1, 10) AS g;
"""


@pytest.fixture(scope="module")
def template(pg_server: Server) -> Iterator[str]:
    with scratch_database(pg_server, "sl_aspects") as name:
        execute(pg_server.url_for(name), SCHEMA)
        yield name


@pytest.fixture
def aspects(pg_server: Server, template: str) -> Iterator[str]:
    with scratch_database(pg_server, template=template) as name:
        yield pg_server.url_for(name)


def test_snapshot_writes_every_aspect_and_verifies_silent(aspects: str, tmp_path: Path) -> None:
    lock = tmp_path / "schema_lock.yaml"
    tables = yaml.safe_load(snapshot(aspects, lock))["tables"]
    assert tables["rooms"]["columns"]["name"] == {
        "type": "text",
        "nullable": False,
        "collation": "C",
    }
    assert "collation" not in tables["rooms"]["columns"]["code"]
    assert tables["rooms"]["options"] == {"autovacuum_enabled": "off", "fillfactor": "70"}
    assert tables["bookings"]["exclusions"] == {
        "no_overlap": "EXCLUDE USING gist (during WITH &&) WHERE ((NOT cancelled))",
        "one_per_room": {
            "definition": "EXCLUDE USING btree (room_id WITH =, id WITH =)",
            "deferrable": True,
            "initially_deferred": True,
        },
    }
    assert tables["measurements"]["checks"] == {
        "no_rows_here": {"expression": "false", "no_inherit": True}
    }
    # At their defaults the aspects are not written: locks of such tables read as before.
    assert {"options", "exclusions"}.isdisjoint(tables["measurements_2026"])
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", aspects, "--format", "json",
        "--fail-on", "info",
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout
    assert '"findings": []' in result.stdout


DRIFT = {
    "collation changed": (
        'ALTER TABLE rooms ALTER COLUMN code TYPE text COLLATE "POSIX"',
        (
            "collation-mismatch",
            "column public.rooms.code has collation POSIX; the lock says its type's default",
        ),
    ),
    "collation reset under a view": (
        "DROP VIEW room_names; ALTER TABLE rooms ALTER COLUMN name TYPE text;"
        " CREATE VIEW room_names AS SELECT id, name FROM rooms",
        (
            "collation-mismatch",
            "column public.rooms.name has collation its type's default; the lock says C",
        ),
    ),
    "storage parameters changed": (
        "ALTER TABLE rooms SET (fillfactor = 50), RESET (autovacuum_enabled)",
        (
            "table-options-mismatch",
            "table public.rooms has options (fillfactor=50); the lock "
            "says (autovacuum_enabled=false, fillfactor=70)",
        ),
    ),
    "storage parameter added": (
        "ALTER TABLE bookings SET (autovacuum_vacuum_scale_factor = 0.05)",
        (
            "table-options-mismatch",
            "table public.bookings has options "
            "(autovacuum_vacuum_scale_factor=0.05); the lock says none",
        ),
    ),
    "exclusion dropped": (
        "ALTER TABLE bookings DROP CONSTRAINT no_overlap",
        (
            "exclusion-mismatch",
            "table public.bookings has no exclusion constraint no_overlap "
            "(EXCLUDE USING gist (during WITH &&) WHERE ((NOT cancelled)))",
        ),
    ),
    "exclusion redefined": (
        "ALTER TABLE bookings DROP CONSTRAINT no_overlap,"
        " ADD CONSTRAINT no_overlap EXCLUDE USING gist (during WITH &&)",
        (
            "exclusion-mismatch",
            "exclusion constraint no_overlap on public.bookings is "
            "(EXCLUDE USING gist (during WITH &&)); the lock says (EXCLUDE USING gist (during "
            "WITH &&) WHERE ((NOT cancelled)))",
        ),
    ),
    "exclusion no longer deferrable": (
        "ALTER TABLE bookings DROP CONSTRAINT one_per_room,"
        " ADD CONSTRAINT one_per_room EXCLUDE (room_id WITH =, id WITH =)",
        (
            "exclusion-mismatch",
            "exclusion constraint one_per_room on public.bookings is "
            "(EXCLUDE USING btree (room_id WITH =, id WITH =)); the lock says (EXCLUDE USING "
            "btree (room_id WITH =, id WITH =) DEFERRABLE INITIALLY DEFERRED)",
        ),
    ),
    "exclusion added by hand": (
        "ALTER TABLE rooms ADD CONSTRAINT rooms_code_excl EXCLUDE (code WITH =)",
        (
            "extra-constraint",
            "exclusion constraint rooms_code_excl on public.rooms (EXCLUDE "
            "USING btree (code WITH =)) is not in the lock",
        ),
    ),
    "check no longer NO INHERIT": (
        "ALTER TABLE measurements DROP CONSTRAINT no_rows_here;"
        " DELETE FROM measurements_2026;"
        " ALTER TABLE measurements ADD CONSTRAINT no_rows_here CHECK (false)",
        (
            "check-mismatch",
            "check no_rows_here on public.measurements is inherited (not NO "
            "INHERIT); the lock says NO INHERIT",
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(DRIFT), ids=lambda n: n.replace(" ", "-"))
def test_drift_is_reported(aspects: str, tmp_path: Path, name: str) -> None:
    drift, expected = DRIFT[name]
    lock = tmp_path / "schema_lock.yaml"
    snapshot(aspects, lock)
    execute(aspects, drift)
    assert expected in drift_of(findings(aspects, lock))


REPAIRED = {
    "collation changed": "set the collation of public.rooms.code to its type default",
    "collation reset under a view": "drop view public.room_names, created again after",
    "storage parameters changed": "set the storage parameters of public.rooms",
    "storage parameter added": "set the storage parameters of public.bookings",
    "table with every aspect dropped": "collations, options and exclusions of public.slots",
}
DRIFT["table with every aspect dropped"] = ("DROP TABLE slots", ("missing-table", ""))
REPAIRED["column with a collation dropped"] = "collation of public.rooms.floor"
DRIFT["column with a collation dropped"] = (
    "ALTER TABLE rooms DROP COLUMN floor",
    ("missing-column", "column public.rooms.floor is missing"),
)


EMPTY = "d41d8cd98f00b204e9800998ecf8427e"  # md5 of '': a column of no rows


@pytest.mark.parametrize("name", sorted(REPAIRED), ids=lambda n: n.replace(" ", "-"))
def test_fix_repairs_and_downgrades(aspects: str, tmp_path: Path, name: str) -> None:
    lock = tmp_path / "schema_lock.yaml"
    snapshot(aspects, lock)
    execute(aspects, DRIFT[name][0])
    drift = drift_of(findings(aspects, lock))
    assert drift
    rows = checksums(aspects)
    migrations = tmp_path / "migrations"
    result = _fix(aspects, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert REPAIRED[name] in result.stdout, result.stdout
    assert findings(aspects, lock) == [], result.stdout
    created = {k: v for k, v in checksums(aspects).items() if k not in rows}
    assert {k: v for k, v in checksums(aspects).items() if k in rows} == rows
    if "column" in name:  # added back empty, with the lock's collation
        assert set(created) == {("public", "rooms", "floor")}
        assert query(aspects, "SELECT count(floor) FROM rooms") == [(0,)]
        assert query(
            aspects,
            "SELECT c.collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation"
            " WHERE a.attrelid = 'rooms'::regclass AND a.attname = 'floor'",
        ) == [("POSIX",)]
        created = {}
    assert created == (
        {}
        if "table" not in name
        else {("public", "slots", None): 0}
        | {("public", "slots", column): EMPTY for column in ("id", "label")}
    )
    [revision] = _revisions(migrations)
    upgrade = ast.unparse(function_of(revision, "upgrade"))
    assert not re.search(r"DROP (TABLE|COLUMN)|CASCADE", upgrade, re.IGNORECASE)
    again = _fix(aspects, lock, migrations)
    assert again.exit_code == 0, again.stderr
    assert again.stdout.startswith("nothing to repair"), again.stdout
    downgrade(migrations, aspects)
    assert drift_of(findings(aspects, lock)) == drift
    assert checksums(aspects) == rows


def test_collation_repair_rebuilds_the_index_and_sorts_as_the_lock_says(
    aspects: str, tmp_path: Path
) -> None:
    lock = tmp_path / "schema_lock.yaml"
    snapshot(aspects, lock)
    execute(aspects, DRIFT["collation changed"][0])
    result = _fix(aspects, lock, tmp_path / "migrations", "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "indexes on code are rebuilt" in result.stdout, result.stdout
    assert query(
        aspects,
        "SELECT collname FROM pg_attribute JOIN pg_collation c ON c.oid = attcollation"
        " WHERE attrelid = 'rooms'::regclass AND attname = 'code'",
    ) == [("default",)]


@dataclass(frozen=True)
class Noted:
    drift: str
    said: str  # what the note says, before the statement it gives


NOTED = {
    "exclusion dropped": Noted(DRIFT["exclusion dropped"][0], "is missing"),
    "exclusion redefined": Noted(DRIFT["exclusion redefined"][0], "differs from the lock"),
    "exclusion no longer deferrable": Noted(
        DRIFT["exclusion no longer deferrable"][0], "differs from the lock"
    ),
    "check no longer NO INHERIT": Noted(
        DRIFT["check no longer NO INHERIT"][0], "is not NO INHERIT, unlike the lock"
    ),
}


@pytest.mark.parametrize("name", sorted(NOTED), ids=lambda n: n.replace(" ", "-"))
def test_left_for_a_person_with_a_statement_that_repairs(
    aspects: str, tmp_path: Path, name: str
) -> None:
    """fix writes no revision for these; the statements its note gives do repair them."""
    case = NOTED[name]
    lock = tmp_path / "schema_lock.yaml"
    snapshot(aspects, lock)
    execute(aspects, case.drift)
    said = fix_notes(aspects, lock, tmp_path / "migrations")
    assert case.said in said, said
    statements = re.findall(r"`(ALTER TABLE [^`]+)`", said.replace("\n", " "))
    assert statements, said
    for statement in statements:
        execute(aspects, statement)
    assert findings(aspects, lock) == []


def test_extra_exclusion_is_left_alone(aspects: str, tmp_path: Path) -> None:
    lock = tmp_path / "schema_lock.yaml"
    snapshot(aspects, lock)
    execute(aspects, DRIFT["exclusion added by hand"][0])
    said = fix_notes(aspects, lock, tmp_path / "migrations")
    assert "rooms_code_excl on public.rooms: extra constraints are reported and left alone" in said


def test_a_lock_exclusion_that_is_not_one_constraint_is_refused(
    aspects: str, tmp_path: Path
) -> None:
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(aspects, lock)
    written = "EXCLUDE USING gist (during WITH &&) WHERE ((NOT cancelled))"
    assert written in text
    lock.write_text(
        text.replace(written, "EXCLUDE (id WITH =), DROP COLUMN during", 1), encoding="utf-8"
    )
    result = run_cli("verify", "--lock", str(lock), "--database-url", aspects)
    assert result.exit_code != 0
    assert "not one exclusion constraint" in result.stdout + result.stderr
