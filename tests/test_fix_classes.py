"""The failure classes of `fix --apply` listed in issue 10 ("The repair"), one test each, on a
real PostgreSQL, the way the acceptance corpus runs them: the OLD schema with a few rows in one
database, the NEW schema in a scratch database, `schemalock snapshot` of NEW as the lock, then
`fix --apply` on OLD.

A repair converges: exit 0; `verify --no-data` has no structure finding but `extra-*`; every
row present before is still there, every value unchanged (row counts and per-column checksums),
unless the test says which values the repair maps; `fix` again writes nothing.  A step that
cannot run is refused at plan time: exit 5, the message names the column and the rows, and
nothing is written or applied.

Only the CLI is used (no schemalock internals).  Tests that fail on the current code are strict
xfails whose reason is the class and today's error: each flips to a failure once fixed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from conftest import CliResult, Server, execute, query, run_cli, scratch_database

pytestmark = pytest.mark.db

STRUCTURAL = ("structure", "integrity")
NOTHING_WRITTEN = ("nothing to repair", "no revision written")


# --- the harness ----------------------------------------------------------------------------


def _snapshot(pg_server: Server, ddl: str, lock: Path) -> None:
    """The lock: a snapshot of a scratch database built with `ddl`."""
    with scratch_database(pg_server, "sl_new") as name:
        url = pg_server.url_for(name)
        execute(url, ddl)
        result = run_cli("snapshot", "--database-url", url, "--output", str(lock))
        assert result.exit_code == 0, result.stderr
        # The lock round-trips: NEW itself is what a converged OLD must look like.
        assert [f["message"] for f in _structure(url, lock)] == []


def _fix(url: str, lock: Path, migrations: Path, *options: str) -> CliResult:
    return run_cli(
        "fix", "--lock", str(lock), "--database-url", url, "--migrations", str(migrations),
        *options,
    )  # fmt: skip


def _structure(url: str, lock: Path) -> list[dict[str, Any]]:
    """verify's structural findings; fk-missing-index is advice about the design, not drift."""
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", url, "--format", "json", "--no-data",
        "--fail-on", "info",
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return [f for f in findings if f["category"] in STRUCTURAL and f["rule"] != "fk-missing-index"]


def _drift(url: str, lock: Path) -> list[tuple[str, str]]:
    return sorted((f["rule"], f["message"]) for f in _structure(url, lock))


def _revisions(migrations: Path) -> list[Path]:
    return sorted((migrations / "versions").glob("*.py"))


Key = tuple[str, str, str | None]  # (schema, table, column); column None: the row count

# Every ordinary table and partition, but what schemalock and Alembic create themselves.
TABLES_SQL = """
SELECT n.nspname, c.relname, a.attname
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_%' AND c.relname NOT IN ('alembic_version', 'schemalock_quarantine')
ORDER BY 1, 2, a.attnum
"""


def _checksums(url: str) -> dict[Key, object]:
    """Per table its row count, per column the md5 of its values as text, sorted (row order
    does not matter)."""
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in query(url, TABLES_SQL):
        columns.setdefault((str(schema), str(table)), []).append(str(column))
    result: dict[Key, object] = {}
    with psycopg.connect(url, autocommit=True) as connection:
        for (schema, table), names in columns.items():
            parts: list[sql.Composable] = [sql.SQL("count(*)")]
            for name in names:
                value = sql.SQL("coalesce({}::text, '<NULL>')").format(sql.Identifier(name))
                parts.append(
                    sql.SQL(
                        "md5(coalesce(string_agg({0}, ',' ORDER BY {0} COLLATE \"C\"), ''))"
                    ).format(value)
                )
            statement = sql.SQL("SELECT {} FROM ONLY {}").format(
                sql.SQL(", ").join(parts), sql.Identifier(schema, table)
            )
            row = connection.execute(statement).fetchone()
            assert row is not None
            result[(schema, table, None)] = row[0]
            for name, digest in zip(names, row[1:], strict=True):
                result[(schema, table, name)] = digest
    return result


class Pair:
    """OLD built in `url` with its rows, the lock snapshotted from NEW, and what fix did."""

    def __init__(self, pg_server: Server, url: str, tmp_path: Path, old: str, new: str) -> None:
        self.url = url
        self.lock = tmp_path / "schema_lock.yaml"
        self.migrations = tmp_path / "migrations"
        execute(url, old)
        _snapshot(pg_server, new, self.lock)
        self.drift = _drift(url, self.lock)
        assert self.drift, "OLD and NEW do not differ as verify sees them"
        self.rows = _checksums(url)

    def fix(self, *options: str) -> CliResult:
        return _fix(self.url, self.lock, self.migrations, "--apply", *options)

    def rows_kept(self, changed: frozenset[Key] = frozenset()) -> None:
        """Every row and value present before the fix is still there, but the values of the
        `changed` columns (which the test checks itself)."""
        after = _checksums(self.url)
        before = {k: v for k, v in self.rows.items() if k not in changed}
        assert {k: after.get(k) for k in before} == before

    def converged(self, result: CliResult, changed: frozenset[Key] = frozenset()) -> None:
        output = result.stdout + result.stderr
        assert result.exit_code == 0, output
        left = [f for f in _structure(self.url, self.lock) if not f["rule"].startswith("extra-")]
        assert [f["message"] for f in left] == [], output
        self.rows_kept(changed)
        self.writes_nothing_again()

    def converged_or_left(self, result: CliResult, may_leave: set[str], naming: str) -> None:
        """Converged, or what PostgreSQL cannot do safely is left for a person with the reason
        (naming `naming`) together with every step that depends on it; never a failed apply."""
        output = result.stdout + result.stderr
        assert "internal error" not in output, output
        assert "could not complete" not in output, output
        left = {f["rule"] for f in _structure(self.url, self.lock)}
        left = {rule for rule in left if not rule.startswith("extra-")}
        if left:
            assert result.exit_code in (0, 5), output
            assert left <= may_leave, output
            assert re.search(rf"left (for a person|out)\b.*{re.escape(naming)}", output), output
        else:
            assert result.exit_code == 0, output
        self.rows_kept()
        self.writes_nothing_again((0, 5) if left else (0,))

    def writes_nothing_again(self, exit_codes: tuple[int, ...] = (0,)) -> None:
        """`fix` again: nothing to repair, or only what it leaves alone; no file written.  A
        plan that left steps out may say so with exit 5."""
        written = _revisions(self.migrations)
        again = _fix(self.url, self.lock, self.migrations)
        assert again.exit_code in exit_codes, again.stdout + again.stderr
        assert again.stdout.startswith(NOTHING_WRITTEN), again.stdout + again.stderr
        assert _revisions(self.migrations) == written

    def refused(self, result: CliResult, *names: str) -> None:
        """Refused at plan time (exit 5), naming `names`; nothing applied.  What is safe may be
        written as a partial revision (the refused step and what depends on it left out), which
        `--apply` does not apply without `--partial`; else nothing is written."""
        output = result.stdout + result.stderr
        assert result.exit_code == 5, output
        assert "internal error" not in output, output
        for name in names:
            assert name in result.stderr, output
        written = _revisions(self.migrations) if self.migrations.exists() else []
        assert not written or "a partial repair, and did not apply it" in output, output
        assert query(self.url, "SELECT to_regclass('alembic_version') IS NULL") == [(True,)]
        assert _drift(self.url, self.lock) == self.drift
        assert _checksums(self.url) == self.rows


MakePair = Callable[[str, str], Pair]


@pytest.fixture
def pair(pg_server: Server, database: str, tmp_path: Path) -> MakePair:
    """pair(OLD, NEW): OLD with its rows in this test's database, the lock from NEW."""
    return lambda old, new: Pair(pg_server, database, tmp_path, old, new)


# --- objects in a schema the database lacks -------------------------------------------------


def test_schema_the_database_lacks(pair: MakePair) -> None:
    """Regression guard: fixed before issue 10's work (the schema, then its enum, then the
    table, its index and its foreign key to public)."""
    p = pair(
        """
        CREATE TABLE orgs (id int PRIMARY KEY, name text NOT NULL);
        INSERT INTO orgs VALUES (1, 'Acme'), (2, 'Bluebird');
        """,
        """
        CREATE TABLE orgs (id int PRIMARY KEY, name text NOT NULL);
        CREATE SCHEMA audit;
        CREATE TYPE audit.level AS ENUM ('low', 'high');
        CREATE TABLE audit.trail (
            id bigint PRIMARY KEY,
            org_id int NOT NULL REFERENCES orgs (id),
            level audit.level NOT NULL DEFAULT 'low'
        );
        CREATE INDEX trail_org_id_idx ON audit.trail (org_id);
        """,
    )
    p.converged(p.fix())
    execute(
        p.url, "INSERT INTO audit.trail (id, org_id) VALUES (1, 2)"
    )  # the default is the enum's


# --- primary-key columns --------------------------------------------------------------------


def test_primary_key_column_keeps_not_null_while_in_the_key(pair: MakePair) -> None:
    """A composite natural key replaced by a surrogate `id serial`: user_id becomes nullable
    in NEW.  Either the primary key is swapped first (unique index on id built concurrently,
    then DROP CONSTRAINT and ADD PRIMARY KEY USING INDEX in one transaction, then DROP NOT
    NULL), or the key change is left for a person and so is the DROP NOT NULL that needs it."""
    p = pair(
        """
        CREATE TABLE memberships (org_id int NOT NULL, user_id int NOT NULL, role text,
                                  PRIMARY KEY (org_id, user_id));
        INSERT INTO memberships VALUES (1, 1, 'owner'), (1, 2, 'member'), (2, 1, NULL);
        """,
        """
        CREATE TABLE memberships (id serial PRIMARY KEY, org_id int NOT NULL, user_id int,
                                  role text);
        """,
    )
    p.converged_or_left(
        p.fix(), {"primary-key-mismatch", "nullability-mismatch"}, "public.memberships"
    )


# --- partitioned tables ---------------------------------------------------------------------

EVENTS = """
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, kind text NOT NULL)
    PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
"""
EVENT_ROWS = """
INSERT INTO events SELECT g, date '2025-06-01' + g * 7, 'kind ' || g % 3
FROM generate_series(1, 60) AS g;
"""


def test_partitioned_table_missing_its_keys(pair: MakePair) -> None:
    """pg_dump's way, online: each partition's unique index CONCURRENTLY and its constraint
    USING INDEX; `ALTER TABLE ONLY events ADD PRIMARY KEY` (catalog only); `ALTER INDEX
    events_pkey ATTACH PARTITION` each partition's."""
    p = pair(
        EVENTS + EVENT_ROWS,
        EVENTS + "ALTER TABLE events ADD PRIMARY KEY (id, at),"
        " ADD CONSTRAINT events_kind_at_key UNIQUE (kind, at);",
    )
    p.converged(p.fix())


def test_missing_partitioned_table_is_created_partitioned(pair: MakePair) -> None:
    p = pair(
        "CREATE TABLE orgs (id int PRIMARY KEY); INSERT INTO orgs VALUES (1), (2);",
        """
        CREATE TABLE orgs (id int PRIMARY KEY);
        CREATE TABLE events (id bigint NOT NULL, org_id int REFERENCES orgs (id),
                             at date NOT NULL, kind text NOT NULL,
                             PRIMARY KEY (id, at), UNIQUE (kind, at)) PARTITION BY RANGE (at);
        CREATE TABLE events_2026 PARTITION OF events
            FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE INDEX events_org_id_idx ON events (org_id);
        """,
    )
    p.converged(p.fix())
    assert query(p.url, "SELECT relkind::text FROM pg_class WHERE oid = 'events'::regclass") == [
        ("p",)
    ]


def test_invalid_partitioned_index_is_rebuilt(pair: MakePair) -> None:
    """An online build of a partitioned index left half-way: `CREATE INDEX ... ON ONLY
    events` ran, the partitions' indexes were never attached, so the parent's is INVALID.
    Finish it (each partition's index CONCURRENTLY, `ALTER INDEX ... ATTACH PARTITION`), or
    drop it without CONCURRENTLY and build it again."""
    p = pair(
        EVENTS + EVENT_ROWS + "CREATE INDEX events_kind_idx ON ONLY events (kind);",
        EVENTS + "CREATE INDEX events_kind_idx ON events (kind);",
    )
    assert [rule for rule, _ in p.drift] == ["invalid-index"]
    p.converged(p.fix())


def test_partition_detached_in_the_lock(pair: MakePair) -> None:
    """NEW archived 2025 by detaching its partition: the lock has `events_2025` as a table of
    its own, with its index.  OLD has it as a partition, holding rows.  `ALTER TABLE events
    DETACH PARTITION events_2025` is the repair; leaving it for a person, named, is fair."""
    old = EVENTS + "CREATE INDEX events_kind_idx ON events (kind);"
    p = pair(old + EVENT_ROWS, old + "ALTER TABLE events DETACH PARTITION events_2025;")
    assert [rule for rule, _ in p.drift] == ["missing-table"]
    p.converged_or_left(p.fix(), {"missing-table"}, "events_2025")


# --- ordering -------------------------------------------------------------------------------


def test_check_over_a_new_column(pair: MakePair) -> None:
    p = pair(
        """
        CREATE TABLE products (id int PRIMARY KEY, price numeric(10, 2) NOT NULL);
        INSERT INTO products VALUES (1, 9.99), (2, 120), (3, 0.5);
        """,
        """
        CREATE TABLE products (id int PRIMARY KEY, price numeric(10, 2) NOT NULL,
                               sale_price numeric(10, 2),
                               CONSTRAINT sale_below_price CHECK (sale_price < price));
        """,
    )
    p.converged(p.fix())


def test_enum_created_before_the_column_uses_it(pair: MakePair) -> None:
    p = pair(
        """
        CREATE TABLE posts (id int PRIMARY KEY, status text NOT NULL DEFAULT 'draft');
        INSERT INTO posts VALUES (1, 'draft'), (2, 'published'), (3, 'draft');
        """,
        """
        CREATE TYPE post_status AS ENUM ('draft', 'published', 'archived');
        CREATE TABLE posts (id int PRIMARY KEY, status post_status NOT NULL DEFAULT 'draft');
        """,
    )
    p.converged(p.fix())


def test_constraint_name_taken_by_its_old_definition(pair: MakePair) -> None:
    """Redefined under its name, as a check is: dropped and added again NOT VALID in one
    transaction, then validated (or added under a free name, the old one left as extra)."""
    p = pair(
        """
        CREATE TABLE orgs (id int PRIMARY KEY);
        CREATE TABLE users (id int PRIMARY KEY, org_id int, home_org_id int,
            CONSTRAINT users_org_fkey FOREIGN KEY (org_id) REFERENCES orgs (id));
        CREATE INDEX ON users (org_id); CREATE INDEX ON users (home_org_id);
        INSERT INTO orgs VALUES (1), (2);
        INSERT INTO users VALUES (1, 1, 2), (2, 2, 2), (3, NULL, 1);
        """,
        """
        CREATE TABLE orgs (id int PRIMARY KEY);
        CREATE TABLE users (id int PRIMARY KEY, org_id int, home_org_id int,
            CONSTRAINT users_org_fkey FOREIGN KEY (home_org_id) REFERENCES orgs (id));
        CREATE INDEX ON users (org_id); CREATE INDEX ON users (home_org_id);
        """,
    )
    p.converged(p.fix())


# --- identity -------------------------------------------------------------------------------


def test_identity_dropped_in_the_lock(pair: MakePair) -> None:
    """DROP IDENTITY first (the values stay), then DROP NOT NULL."""
    p = pair(
        """
        CREATE TABLE orders (id int PRIMARY KEY, ref bigint GENERATED BY DEFAULT AS IDENTITY,
                             note text);
        INSERT INTO orders (id, note) VALUES (1, 'a'), (2, 'b'), (3, NULL);
        """,
        "CREATE TABLE orders (id int PRIMARY KEY, ref bigint, note text);",
    )
    p.converged(p.fix())


def test_identity_added_to_a_nullable_column(pair: MakePair) -> None:
    p = pair(
        """
        CREATE TABLE orders (id int PRIMARY KEY, ref bigint, note text);
        INSERT INTO orders VALUES (1, 101, 'a'), (2, 102, 'b'), (3, 103, NULL);
        """,
        """
        CREATE TABLE orders (id int PRIMARY KEY, ref bigint GENERATED BY DEFAULT AS IDENTITY,
                             note text);
        """,
    )
    p.converged(p.fix())
    # The identity's sequence starts past the values in use.
    assert query(p.url, "INSERT INTO orders (id) VALUES (4) RETURNING ref") == [(104,)]


# --- type changes ---------------------------------------------------------------------------


def test_conversion_without_a_cast_is_refused(pair: MakePair) -> None:
    p = pair(
        """
        CREATE TABLE devices (id int PRIMARY KEY, token integer);
        INSERT INTO devices VALUES (1, 1001), (2, 1002), (3, NULL);
        """,
        "CREATE TABLE devices (id int PRIMARY KEY, token uuid);",
    )
    result = p.fix()
    p.refused(result, "public.devices.token")
    [line] = [line for line in result.stderr.splitlines() if "devices.token" in line]
    assert "integer" in line, line
    assert "uuid" in line, line
    assert "database error" not in result.stderr


def test_value_that_is_not_an_enum_label_is_refused(pair: MakePair) -> None:
    p = pair(
        """
        CREATE TABLE reviews (id int PRIMARY KEY, stars text);
        INSERT INTO reviews VALUES (1, '1'), (2, '1.5'), (3, '3'), (4, NULL), (5, '1.5');
        """,
        """
        CREATE TYPE rating AS ENUM ('1', '2', '3');
        CREATE TABLE reviews (id int PRIMARY KEY, stars rating);
        """,
    )
    result = p.fix()
    p.refused(result, "public.reviews.stars")
    [line] = [line for line in result.stderr.splitlines() if "reviews.stars" in line]
    assert "2 rows (keys: 2, 5)" in line, line
    assert query(p.url, "SELECT to_regtype('rating') IS NULL") == [(True,)]


def test_check_over_a_converted_column(pair: MakePair) -> None:
    p = pair(
        """
        CREATE TABLE order_lines (id int PRIMARY KEY, quantity text NOT NULL);
        INSERT INTO order_lines VALUES (1, '1'), (2, '12'), (3, '3');
        """,
        """
        CREATE TABLE order_lines (id int PRIMARY KEY,
                                  quantity integer NOT NULL CHECK (quantity > 0));
        """,
    )
    p.converged(p.fix())


# --- rendering ------------------------------------------------------------------------------


def test_table_with_no_columns(pair: MakePair) -> None:
    p = pair(
        "CREATE TABLE orgs (id int PRIMARY KEY); INSERT INTO orgs VALUES (1);",
        "CREATE TABLE orgs (id int PRIMARY KEY); CREATE TABLE foobar ();",
    )
    p.converged(p.fix())
    assert query(p.url, "SELECT to_regclass('foobar') IS NOT NULL") == [(True,)]


# --- foreign keys ---------------------------------------------------------------------------

RETARGETED = {
    "target-table": (
        "REFERENCES orgs (id)",
        "REFERENCES accounts (id)",
    ),
    "target-column": (
        "REFERENCES orgs (id)",
        "REFERENCES orgs (legacy_id)",
    ),
}


@pytest.mark.parametrize("change", sorted(RETARGETED))
def test_foreign_key_pointing_elsewhere(pair: MakePair, change: str) -> None:
    """SL110, same columns, another target: dropped and added again NOT VALID in one
    transaction, then validated.  Failed at 9694f9e (fix said "nothing to repair", exit 0,
    while verify kept reporting foreign-key-mismatch); fixed by the planner's split into
    fix/plan/ (issue 10), kept as a regression guard."""
    before, after = RETARGETED[change]
    schema = """
        CREATE TABLE orgs (id int PRIMARY KEY, legacy_id int NOT NULL UNIQUE);
        CREATE TABLE accounts (id int PRIMARY KEY);
        CREATE TABLE users (id int PRIMARY KEY, org_id int {});
        CREATE INDEX ON users (org_id);
    """
    p = pair(
        schema.format(before)
        + """
        INSERT INTO orgs VALUES (1, 1), (2, 2); INSERT INTO accounts VALUES (1), (2), (3);
        INSERT INTO users VALUES (1, 1), (2, 2), (3, NULL);
        """,
        schema.format(after),
    )
    assert [rule for rule, _ in p.drift] == ["foreign-key-mismatch"]
    p.converged(p.fix())


def test_second_foreign_key_on_the_same_column(pair: MakePair) -> None:
    """Two keys on users.org_id (a hand-made one and the column's own, ON DELETE CASCADE):
    the lock names the first and leaves the second, PostgreSQL's default name, unnamed.
    Paired by name first, only users_org_id_fkey is missing."""
    users = """
        CREATE TABLE orgs (id int PRIMARY KEY);
        CREATE TABLE users (id int PRIMARY KEY, org_id int,
            CONSTRAINT users_org_fk FOREIGN KEY (org_id) REFERENCES orgs (id){});
        CREATE INDEX ON users (org_id);
    """
    second = (
        ", CONSTRAINT users_org_id_fkey FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE"
    )
    p = pair(
        users.format("")
        + "INSERT INTO orgs VALUES (1), (2); INSERT INTO users VALUES (1, 1), (2, 2), (3, NULL);",
        users.format(second),
    )
    p.converged(p.fix())
    assert query(
        p.url,
        "SELECT conname::text, confdeltype::text FROM pg_constraint"
        " WHERE conrelid = 'users'::regclass AND contype = 'f' ORDER BY 1",
    ) == [("users_org_fk", "a"), ("users_org_id_fkey", "c")]


def test_quarantine_of_a_converted_reference(pair: MakePair) -> None:
    """jobs.org_id, a uuid reference in NEW, holds text in OLD: the parents' Clerk ids (mapped
    through organizations.clerk_org_id) and one uuid no parent has, an orphan no row of
    quota_usage (which references jobs) points at: it moves to the quarantine."""
    new = """
        CREATE TABLE organizations (id uuid PRIMARY KEY, clerk_org_id text NOT NULL UNIQUE);
        CREATE TABLE jobs (id int PRIMARY KEY, org_id uuid REFERENCES organizations (id));
        CREATE INDEX ON jobs (org_id);
        CREATE TABLE quota_usage (id int PRIMARY KEY, job_id int NOT NULL REFERENCES jobs (id),
                                  amount int NOT NULL);
        CREATE INDEX ON quota_usage (job_id);
    """
    p = pair(
        new.replace("org_id uuid REFERENCES organizations (id)", "org_id text")
        + """
        INSERT INTO organizations VALUES ('11111111-1111-4111-8111-111111111111', 'org_2abc'),
                                         ('22222222-2222-4222-8222-222222222222', 'org_2def');
        INSERT INTO jobs VALUES (1, 'org_2abc'), (2, 'org_2def'), (3, 'org_2abc'), (4, NULL),
                                (5, '33333333-3333-4333-8333-333333333333');
        INSERT INTO quota_usage VALUES (1, 1, 5), (2, 2, 3), (3, 3, 1);
        """,
        new,
    )
    result = p.fix("--orphans", "quarantine")
    moved = {("public", "jobs", c) for c in (None, "id", "org_id")}
    p.converged(result, changed=frozenset(moved))
    assert query(p.url, "SELECT id, org_id::text FROM jobs ORDER BY id") == [
        (1, "11111111-1111-4111-8111-111111111111"),
        (2, "22222222-2222-4222-8222-222222222222"),
        (3, "11111111-1111-4111-8111-111111111111"),
        (4, None),
    ]
    assert query(p.url, "SELECT row->>'id', source_table FROM schemalock_quarantine") == [
        ("5", "public.jobs")
    ]


def test_miswired_text_reference_is_mapped_through_the_parent(pair: MakePair) -> None:
    """projects.org_id should hold organizations.id; two rows hold the parent's slug (its
    other unique column).  Mapped through the parent, as a text-to-uuid conversion is
    (`UPDATE projects SET org_id = o.id FROM organizations o WHERE projects.org_id = o.slug`
    for the rows no id matches), then the key is added and validated."""
    new = """
        CREATE TABLE organizations (id text PRIMARY KEY, slug text NOT NULL UNIQUE);
        CREATE TABLE projects (id int PRIMARY KEY, org_id text REFERENCES organizations (id),
                               name text NOT NULL);
        CREATE INDEX ON projects (org_id);
    """
    p = pair(
        new.replace(" REFERENCES organizations (id)", "")
        + """
        INSERT INTO organizations VALUES ('org_01HZX3', 'acme'), ('org_01HZX4', 'bluebird');
        INSERT INTO projects VALUES (1, 'acme', 'website'), (2, 'bluebird', 'app'),
                                    (3, 'org_01HZX3', 'api'), (4, NULL, 'sandbox');
        """,
        new,
    )
    p.converged(p.fix(), changed=frozenset({("public", "projects", "org_id")}))
    assert query(p.url, "SELECT id, org_id FROM projects ORDER BY id") == [
        (1, "org_01HZX3"),
        (2, "org_01HZX4"),
        (3, "org_01HZX3"),
        (4, None),
    ]
