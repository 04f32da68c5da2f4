"""`fix` repairing sequences and extensions (issue 12), on a real PostgreSQL: a missing
sequence is created with the lock's options and owner, a changed one altered in exactly the
options that differ, its owner set; a missing extension installed (before the columns of its
type), an extension moved back to its schema or updated to the lock's version.  Each case
converges (verify silent, `fix` again writes nothing) and its downgrade brings back exactly
the drift.  What the data forbids is refused before anything is written; extra sequences and
extensions are reported and left alone.

Before: every sequence and extension difference was only noted ("not repaired by fix yet")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import execute, fix_notes, query, run_cli
from test_fix import _fix, _revisions
from test_fix_convergence import downgrade
from test_roundtrip import snapshot

pytestmark = pytest.mark.db

# Sequences of their own: one owned by a column (not its default: that would make it the
# column's serial sequence), one counting down and cycling, one in a schema of its own.
SEQUENCES = """
CREATE TABLE tickets (id int PRIMARY KEY, number bigint, spare bigint);
CREATE SEQUENCE ticket_numbers AS integer START 100 INCREMENT 5 MAXVALUE 100000 CACHE 3
    OWNED BY tickets.number;
COMMENT ON SEQUENCE ticket_numbers IS 'printed on the ticket';
CREATE SEQUENCE countdown AS integer INCREMENT -1 MINVALUE -100 MAXVALUE 0 CYCLE;
CREATE SCHEMA "Billing Dept";
CREATE SEQUENCE "Billing Dept".receipts;
SELECT nextval('ticket_numbers'), nextval('countdown');
"""

Findings = list[tuple[str, str]]


def _verify(url: str, lock: Path) -> tuple[int, Findings]:
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", url, "--format", "json",
        "--fail-on", "info", "--no-data",
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.stderr
    found = json.loads(result.stdout)["findings"]
    return result.exit_code, sorted((f["rule"], f["message"]) for f in found)


def _converges(url: str, lock: Path, migrations: Path) -> str:
    """fix --apply repairs the drift: verify is then silent and fix again writes nothing.
    Returns what the applying run said."""
    _, drift = _verify(url, lock)
    assert drift, "the case injects no drift"
    result = _fix(url, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert _verify(url, lock) == (0, []), result.stdout
    written = _revisions(migrations)
    again = _fix(url, lock, migrations)
    assert again.exit_code == 0, again.stderr
    assert again.stdout.startswith("nothing to repair"), again.stdout
    assert _revisions(migrations) == written
    return str(result.stdout)


def _sequence_locked(url: str, tmp_path: Path) -> Path:
    execute(url, SEQUENCES)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(url, lock)
    return lock


SEQUENCE_DRIFT = {
    "missing, owned by a column": "DROP SEQUENCE ticket_numbers",
    "missing with its schema": 'DROP SCHEMA "Billing Dept" CASCADE',
    "increment, min, cache, cycle": (
        "ALTER SEQUENCE countdown INCREMENT -2 MINVALUE -50 CACHE 4 NO CYCLE"
    ),
    "max": "ALTER SEQUENCE ticket_numbers MAXVALUE 2000000",
    # The bounds were the old type's own: PostgreSQL moves them with the type.
    "type narrowed": 'ALTER SEQUENCE "Billing Dept".receipts AS integer',
    "type widened, bounds kept": "ALTER SEQUENCE ticket_numbers AS bigint",
    "owner dropped": "ALTER SEQUENCE ticket_numbers OWNED BY NONE",
    "owner changed": "ALTER SEQUENCE ticket_numbers OWNED BY tickets.spare",
    "owner added": "ALTER SEQUENCE countdown OWNED BY tickets.spare",
}


@pytest.mark.parametrize("drift", SEQUENCE_DRIFT.values(), ids=SEQUENCE_DRIFT.keys())
def test_fix_repairs_a_sequence_and_its_downgrade_brings_the_drift_back(
    database: str, tmp_path: Path, drift: str
) -> None:
    lock = _sequence_locked(database, tmp_path)
    execute(database, drift)
    _, before = _verify(database, lock)
    migrations = tmp_path / "migrations"
    _converges(database, lock, migrations)
    downgrade(migrations, database)
    assert _verify(database, lock) == (1, before)


def test_a_created_sequence_has_the_locks_options_owner_and_comment(
    database: str, tmp_path: Path
) -> None:
    lock = _sequence_locked(database, tmp_path)
    execute(database, "DROP SEQUENCE ticket_numbers")
    said = _converges(database, lock, tmp_path / "migrations")
    assert "create sequence public.ticket_numbers" in said, said
    [(start, increment, maximum, cache, owner, comment)] = query(
        database,
        "SELECT s.seqstart, s.seqincrement, s.seqmax, s.seqcache,"
        " pg_get_serial_sequence('tickets', 'number'),"
        " obj_description('ticket_numbers'::regclass, 'pg_class')"
        " FROM pg_sequence AS s WHERE s.seqrelid = 'ticket_numbers'::regclass",
    )
    assert (start, increment, maximum, cache) == (100, 5, 100000, 3)
    assert owner == "public.ticket_numbers"
    assert comment == "printed on the ticket"
    assert query(database, "SELECT nextval('ticket_numbers')") == [(100,)]


def test_an_altered_sequence_keeps_its_value(database: str, tmp_path: Path) -> None:
    lock = _sequence_locked(database, tmp_path)
    execute(
        database, "ALTER SEQUENCE ticket_numbers INCREMENT 1; SELECT setval('ticket_numbers', 700)"
    )
    said = _converges(database, lock, tmp_path / "migrations")
    assert "SHARE ROW EXCLUSIVE lock on sequence public.ticket_numbers" in said, said
    assert query(database, "SELECT nextval('ticket_numbers')") == [(705,)]


def test_bounds_the_current_value_lies_outside_are_refused(database: str, tmp_path: Path) -> None:
    """The lock's MAXVALUE 100000, the sequence widened and drawn past it: ALTER SEQUENCE
    would fail, so fix refuses (exit 5) before writing anything, saying why."""
    lock = _sequence_locked(database, tmp_path)
    execute(
        database,
        "ALTER SEQUENCE ticket_numbers MAXVALUE 1000000; SELECT setval('ticket_numbers', 500000)",
    )
    _, before = _verify(database, lock)
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert (
        "sequence public.ticket_numbers: its current value 500000 lies outside the lock's "
        "integer bounds 1 .. 100000"
    ) in result.stderr, result.stderr
    assert "internal error" not in result.stderr
    assert not migrations.exists() or _revisions(migrations) == []
    assert _verify(database, lock) == (1, before)
    assert query(database, "SELECT last_value FROM ticket_numbers") == [(500000,)]


def test_an_extra_sequence_is_left_alone(database: str, tmp_path: Path) -> None:
    lock = _sequence_locked(database, tmp_path)
    execute(database, "CREATE SEQUENCE legacy_ids; SELECT setval('legacy_ids', 42)")
    said = fix_notes(database, lock, tmp_path / "migrations")
    assert "sequence public.legacy_ids: extra sequences are reported and left alone" in said
    assert query(database, "SELECT last_value FROM legacy_ids") == [(42,)]


# --- extensions --------------------------------------------------------------------------


def _extension(url: str) -> tuple[str, str]:
    """An extension with a type of its own, and a column type of it: citext where the server
    has contrib (Debian's PostgreSQL), else pgvector's vector (the embedded server's build has
    no contrib)."""
    available = {str(row[0]) for row in query(url, "SELECT name FROM pg_available_extensions")}
    for extension, column in (("citext", "ext.citext"), ("vector", "ext.vector")):
        if extension in available:
            return extension, column
    pytest.skip("this server has neither citext nor vector")


def _extension_locked(url: str, tmp_path: Path) -> tuple[Path, str]:
    """The extension in schema `ext`, a table with a column of its type; the lock of both."""
    extension, column = _extension(url)
    execute(
        url,
        f"CREATE SCHEMA ext; CREATE EXTENSION {extension} SCHEMA ext;"
        f" CREATE TABLE notes (id int PRIMARY KEY, tag {column})",
    )
    lock = tmp_path / "schema_lock.yaml"
    snapshot(url, lock)
    return lock, extension


EXTENSION_DRIFT = {
    # The column of its type goes with it: installed first, the column added after.
    "missing": "DROP EXTENSION {name} CASCADE",
    "missing with its schema": "DROP SCHEMA ext CASCADE",
}


@pytest.mark.parametrize("drift", EXTENSION_DRIFT.values(), ids=EXTENSION_DRIFT.keys())
def test_fix_installs_an_extension_before_its_types_columns_and_downgrades(
    database: str, tmp_path: Path, drift: str
) -> None:
    lock, extension = _extension_locked(database, tmp_path)
    execute(database, "INSERT INTO notes (id) VALUES (1), (2)")
    execute(database, drift.format(name=extension))
    _, before = _verify(database, lock)
    migrations = tmp_path / "migrations"
    said = _converges(database, lock, migrations)
    assert "runs the extension's script as the migration's role" in said, said
    assert query(database, "SELECT id FROM notes ORDER BY id") == [(1,), (2,)]
    downgrade(migrations, database)
    assert _verify(database, lock) == (1, before)


def test_fix_moves_an_extension_back_to_its_schema(database: str, tmp_path: Path) -> None:
    """Without a column of its type: that column would move along, and be of another type
    than the lock's (a conversion fix refuses to plan to a type only the move provides)."""
    lock, extension = _extension_locked(database, tmp_path)
    execute(database, "DROP TABLE notes")
    snapshot(database, lock)
    execute(database, f"ALTER EXTENSION {extension} SET SCHEMA public")
    _, before = _verify(database, lock)
    migrations = tmp_path / "migrations"
    said = _converges(database, lock, migrations)
    assert f"the objects of extension {extension} move from schema public" in said, said
    downgrade(migrations, database)
    assert _verify(database, lock) == (1, before)


def test_an_extension_the_server_does_not_offer_is_refused(database: str, tmp_path: Path) -> None:
    lock, extension = _extension_locked(database, tmp_path)
    document = yaml.safe_load(lock.read_text(encoding="utf-8"))
    document["extensions"]["schemalock_no_such_extension"] = {"schema": "ext"}
    lock.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    [line] = [line for line in result.stderr.splitlines() if "schemalock_no_such_extension" in line]
    assert "this server does not have it available (pg_available_extensions)" in line, line
    assert not migrations.exists() or _revisions(migrations) == []
    assert query(database, "SELECT extname FROM pg_extension WHERE extname = %s", (extension,))


def _older_version(url: str, extension: str) -> tuple[str, str]:
    """(an older version the server installs, the default one it updates to); skipped when
    the server has none (pgvector ships one installation script only)."""
    [(default,)] = query(
        url, "SELECT default_version FROM pg_available_extensions WHERE name = %s", (extension,)
    )
    older = query(
        url,
        "SELECT p.source FROM pg_extension_update_paths(%s) AS p"
        " WHERE p.target = %s AND p.path IS NOT NULL",
        (extension, default),
    )
    for (version,) in sorted(older, key=lambda row: str(row[0]), reverse=True):
        try:
            execute(url, f"CREATE EXTENSION {extension} SCHEMA ext VERSION '{version}'")
        except Exception:  # no installation script reaches that version
            continue
        execute(url, f"DROP EXTENSION {extension}")
        return str(version), str(default)
    pytest.skip(f"this server installs no older version of {extension}")


def test_fix_updates_an_extension_to_the_locks_version(database: str, tmp_path: Path) -> None:
    extension, _ = _extension(database)
    execute(database, "CREATE SCHEMA ext")
    older, default = _older_version(database, extension)
    execute(database, f"CREATE EXTENSION {extension} SCHEMA ext")
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, f"DROP EXTENSION {extension}")
    execute(database, f"CREATE EXTENSION {extension} SCHEMA ext VERSION '{older}'")
    _, before = _verify(database, lock)
    migrations = tmp_path / "migrations"
    said = _converges(database, lock, migrations)
    assert f"update extension {extension} to {default}" in said, said
    back = query(
        database,
        "SELECT 1 FROM pg_extension_update_paths(%s) AS p"
        " WHERE p.source = %s AND p.target = %s AND p.path IS NOT NULL",
        (extension, default, older),
    )
    if back:
        downgrade(migrations, database)
        assert _verify(database, lock) == (1, before)
        return
    # No way down: the downgrade says so and changes nothing.
    with pytest.raises(NotImplementedError, match="no update path down"):
        downgrade(migrations, database)
    assert _verify(database, lock) == (0, [])


def test_an_extra_extension_is_left_alone(database: str, tmp_path: Path) -> None:
    extension, _ = _extension(database)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, f"CREATE EXTENSION {extension}")
    said = fix_notes(database, lock, tmp_path / "migrations")
    assert f"extension {extension}: extra extensions are reported and left alone" in said, said
    assert query(database, "SELECT 1 FROM pg_extension WHERE extname = %s", (extension,))


def test_a_column_converted_to_the_type_of_an_extension_not_there_yet(
    database: str, tmp_path: Path
) -> None:
    """Nothing can prove values convert to a type that does not exist yet: the conversion is
    refused, naming the type; the extension alone is the partial repair, and once it is in,
    fix converts the column."""
    lock, extension = _extension_locked(database, tmp_path)
    execute(database, f"DROP EXTENSION {extension} CASCADE; ALTER TABLE notes ADD tag text")
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert f"column public.notes.tag: type ext.{extension} does not exist" in result.stderr
    assert "internal error" not in result.stderr
    assert "database error" not in result.stderr
    partial = _fix(database, lock, migrations, "--apply", "--partial", "--replace")
    assert partial.exit_code == 5, partial.stdout + partial.stderr
    assert query(database, "SELECT 1 FROM pg_extension WHERE extname = %s", (extension,))
    _converges(database, lock, migrations)
