"""One refused step does not sink the rest: `fix` writes the repairs the data allows, leaves out
the refused ones and those that depend on them, says which and why, and exits 5; `--apply`
applies such a partial plan only with `--partial`; `--all-or-nothing` refuses it whole.  And
`fix --apply` applies a revision fix wrote and the user reviewed, as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import execute, query
from test_fix import _fix, _revisions
from test_roundtrip import snapshot

pytestmark = pytest.mark.db

# `price` holds a NULL (so NOT NULL is refused), `code` text that is not all numbers (so the
# conversion to integer is refused, and the check over it must wait); `note` only needs an
# index: that repair depends on nothing refused.
OLD = """
CREATE TABLE items (id int PRIMARY KEY, price numeric, code text, note text);
INSERT INTO items VALUES (1, 9.5, '17', 'a'), (2, NULL, '18', 'b'), (3, 2, 'x19', 'c');
"""
NEW = """
CREATE TABLE items (id int PRIMARY KEY, price numeric NOT NULL, code integer
    CONSTRAINT items_code_positive CHECK (code > 0), note text);
CREATE INDEX items_note_idx ON items (note);
"""


@pytest.fixture
def lock(database: str, tmp_path: Path) -> Path:
    """The lock of NEW, with OLD (and its rows) in `database`."""
    execute(database, NEW)
    path = tmp_path / "schema_lock.yaml"
    snapshot(database, path)
    execute(database, "DROP TABLE items")
    execute(database, OLD)
    return path


def _indexes(url: str) -> list[str]:
    rows = query(url, "SELECT indexname FROM pg_indexes WHERE tablename = 'items' ORDER BY 1")
    return [str(name) for (name,) in rows]


def test_the_refused_steps_and_their_dependents_are_left_out(
    database: str, tmp_path: Path, lock: Path
) -> None:
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations)
    assert result.exit_code == 5, result.stdout + result.stderr
    said = result.stdout + result.stderr
    assert "a partial repair" in said
    assert "NOT NULL on public.items.price: NULL values: 1 row (keys: 2)" in said
    assert "public.items.code to integer" in said
    # The check over `code` waits for its conversion; the index on `note` does not.
    assert "left out: check public.items.items_code_positive: it depends on column" in said
    [revision] = _revisions(migrations)
    text = revision.read_text(encoding="utf-8")
    assert "items_note_idx" in text
    assert "items_code_positive" not in text.partition('"""\n')[2].partition("def downgrade")[0]
    assert "Left out: the data or the database forbids these steps:" in text


def test_all_or_nothing_writes_nothing(database: str, tmp_path: Path, lock: Path) -> None:
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--all-or-nothing")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert "fix refuses" in result.stderr
    assert _revisions(migrations) == []


def test_apply_without_partial_writes_the_partial_plan_and_applies_nothing(
    database: str, tmp_path: Path, lock: Path
) -> None:
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert "`fix --apply --partial` applies it" in result.stderr
    assert len(_revisions(migrations)) == 1
    assert _indexes(database) == ["items_pkey"]


def test_apply_partial_applies_what_is_safe_and_still_exits_5(
    database: str, tmp_path: Path, lock: Path
) -> None:
    migrations = tmp_path / "migrations"
    result = _fix(database, lock, migrations, "--apply", "--partial")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert "applied" in result.stderr
    assert _indexes(database) == ["items_note_idx", "items_pkey"]
    assert query(database, "SELECT count(*) FROM items") == [(3,)]
    # Nothing is left that the data allows: the next run refuses and writes nothing more.
    again = _fix(database, lock, migrations)
    assert again.exit_code == 5, again.stdout + again.stderr
    assert "fix refuses" in again.stderr
    assert len(_revisions(migrations)) == 1


def test_a_reviewed_revision_is_applied_as_written(database: str, tmp_path: Path) -> None:
    execute(database, "CREATE TABLE notes (id int PRIMARY KEY, body text)")
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, "ALTER TABLE notes DROP COLUMN body")
    migrations = tmp_path / "migrations"
    written = _fix(database, lock, migrations)
    assert written.exit_code == 0, written.stdout + written.stderr
    [revision] = _revisions(migrations)
    reviewed = revision.read_text(encoding="utf-8")
    applied = _fix(database, lock, migrations, "--apply")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert f"applying {revision}" in applied.stdout
    assert _revisions(migrations) == [revision]
    assert revision.read_text(encoding="utf-8") == reviewed
    columns = query(database, "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = 'notes' ORDER BY ordinal_position")  # fmt: skip
    assert columns == [("id",), ("body",)]


def test_a_revision_planned_from_another_lock_is_not_applied(database: str, tmp_path: Path) -> None:
    execute(database, "CREATE TABLE notes (id int PRIMARY KEY, body text, title text)")
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    execute(database, "ALTER TABLE notes DROP COLUMN body, DROP COLUMN title")
    migrations = tmp_path / "migrations"
    assert _fix(database, lock, migrations).exit_code == 0
    text = lock.read_text(encoding="utf-8")
    lock.write_text(text.replace("      title: {type: text}\n", ""), encoding="utf-8")
    refused = _fix(database, lock, migrations, "--apply")
    assert refused.exit_code == 5, refused.stdout + refused.stderr
    assert "planned from another version of the lock" in refused.stderr
    assert "fix --replace" in refused.stderr
    assert query(database, "SELECT count(*) FROM information_schema.columns "
                 "WHERE table_name = 'notes'") == [(1,)]  # fmt: skip


def test_what_a_refused_repair_takes_with_it() -> None:
    """Pure: a foreign key needs the key it references; a check or a plain index provides
    nothing another repair needs; a column's repairs need the column."""
    from schemalock.compare import differences as d
    from schemalock.fix.plan.partial import depends
    from schemalock.model import (
        CheckConstraint,
        Column,
        ForeignKey,
        Index,
        PrimaryKey,
        Table,
        UniqueConstraint,
    )

    parent = Table("public", "orgs", (Column("id", "uuid"),), primary_key=PrimaryKey(("id",)))
    child = Table("public", "jobs", (Column("org_id", "uuid"), Column("note", "text")))
    fk = ForeignKey(("org_id",), "public", "orgs", ("id",))

    def on(table: Table, kind: str, name: str | None = None) -> d.Subject:
        return d.Subject(kind, "public", table.name, name)

    key = d.PrimaryKeyChanged(
        subject=on(parent, "primary key"), line=None, lock=parent, live=parent
    )
    link = d.MissingForeignKey(
        subject=on(child, "foreign key"), line=None, lock=child, live=child, foreign_key=fk
    )
    check = d.CheckChanged(
        subject=on(child, "check", "c"),
        line=None,
        lock=child,
        live=child,
        lock_check=CheckConstraint("note <> ''"),
        live_check=None,
    )
    index = d.MissingIndex(
        subject=on(child, "index", "i"),
        line=None,
        lock=child,
        live=child,
        index=Index("i", ("note",)),
    )
    unique = d.MissingUnique(
        subject=on(child, "unique", "u"),
        line=None,
        lock=child,
        live=child,
        unique=UniqueConstraint(("note",)),
    )
    column = d.ColumnChanged(
        subject=on(child, "column", "note"),
        line=None,
        lock=child,
        live=child,
        lock_column=Column("note", "integer"),
        live_column=Column("note", "text"),
        aspects=frozenset({"type"}),
    )
    assert depends(link, key)
    assert not depends(index, key)
    for provides_nothing in (check, index):
        assert not depends(link, provides_nothing)
    assert not depends(check, index)
    for on_the_column in (check, index, unique):
        assert depends(on_the_column, column)
    assert not depends(link, column)
    other = d.ColumnChanged(
        subject=on(child, "column", "org_id"),
        line=None,
        lock=child,
        live=child,
        lock_column=Column("org_id", "uuid", nullable=False),
        live_column=Column("org_id", "uuid"),
        aspects=frozenset({"nullable"}),
    )
    for elsewhere in (check, index, unique):  # they read `note` only
        assert not depends(elsewhere, other)
