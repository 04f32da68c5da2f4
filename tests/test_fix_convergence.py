"""Convergence of `schemalock fix` with rows in every table, the pg-schema-diff way, for every
drift kind of test_drift.DRIFT and the kinds fix must also handle (renames, an invalid index,
enum labels, redefined and violated checks, new NOT NULL columns, a missing table with keys,
identities and generated columns, a foreign key left NOT VALID, dropped composite keys):

build tests/data/rich_schema.sql with realistic rows, snapshot the lock, inject the drift,
`fix --apply`; then verify leaves nothing structural but what fix reports and leaves alone,
the rows present before fix are unchanged (row counts and per-column checksums), the revision
compiles and calls only the expected `op.*` functions, `fix` again has nothing to repair and
writes nothing; and `alembic downgrade -1` restores the drift and the rows, or refuses as a
whole (NotImplementedError) without changing anything.

Tests that fail on the current code are strict xfails naming the gap: each flips to XPASS,
and so to a failure, once the gap is closed."""

from __future__ import annotations

import ast
import py_compile
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from conftest import Server, execute, query, scratch_database
from test_drift import DRIFT
from test_fix import LEFT_ALONE, _fix, _op_calls, _revisions, _verify
from test_roundtrip import RICH_SCHEMA, snapshot

pytestmark = pytest.mark.db

# Realistic rows for every table of rich_schema.sql (partitions and the inheritance child
# included; the parent `measurements` takes none by its own check).  Values respect every
# constraint, and what the drift cases need: keywords fit varchar(50), contacts hold no space,
# no event falls in 2027 (a case attaches that partition), one NULL price id in plans.
DATA = '''
INSERT INTO organizations (id, clerk_org_id, name, quota_used, quota_limit, plan, contact,
                           settings, tags, created_at, updated_at) VALUES
    ('6f1c1e9a-8d3b-4c55-9a57-1b2f3c4d5e01', 'org_2aXk9PqRtL', 'Acme Analytics', 12, 100, 'Pro',
     'ops@acme.io', '{"region": "eu-west-1", "sso": false}', ARRAY['b2b', 'eu'],
     '2025-11-03 09:15:00+00', '2025-12-01 10:00:00.123+00'),
    ('6f1c1e9a-8d3b-4c55-9a57-1b2f3c4d5e02', 'org_2bYl0QsSuM', 'Bluebird Logistics', 0, 50,
     'free', NULL, '{}', '{}', '2025-12-14 16:40:00+00', NULL),
    ('6f1c1e9a-8d3b-4c55-9a57-1b2f3c4d5e03', 'org_2cZm1RtTvN', 'Café Ñandú GmbH', 990, 1000,
     'enterprise', 'billing@cafe-nandu.de', '{"sso": true, "seats": 250}', ARRAY['sso'],
     '2026-01-20 08:05:30+00', '2026-02-02 12:00:00.5+00');
INSERT INTO organizations (clerk_org_id, name, quota_used, quota_limit, plan, contact, tags,
                           created_at)
SELECT 'org_3' || md5(g::text), 'Team ' || g, g % 40, 40 + g, 'free',
       'admin' || g || '@team' || g || '.example.org', ARRAY['trial'],
       timestamptz '2026-02-01 00:00:00+00' + g * interval '5 hours'
FROM generate_series(1, 37) AS g;

INSERT INTO "user" ("select", "Mixed Case", "it's ""quoted""", "naïve", org_id) VALUES
    ('owner', 42, 1, true, '6f1c1e9a-8d3b-4c55-9a57-1b2f3c4d5e01'),
    ('member', 43, NULL, false, '6f1c1e9a-8d3b-4c55-9a57-1b2f3c4d5e01'),
    (NULL, 7, -3, NULL, NULL);
INSERT INTO "user" ("select", org_id)
SELECT 'viewer ' || g, '6f1c1e9a-8d3b-4c55-9a57-1b2f3c4d5e03' FROM generate_series(1, 5) AS g;

INSERT INTO jobs (org_id, status, keyword, results_count, price, quantity, metadata, created_at,
                  completed_at)
SELECT o.id, (ARRAY['pending', 'running', 'completed', 'failed']::job_status[])[1 + g % 4],
       CASE WHEN g % 10 = 0 THEN NULL ELSE 'plumber berlin ' || g END, g * 3 % 500,
       (g % 50) + 0.99, 1 + g % 5,
       CASE WHEN g % 3 = 0 THEN NULL ELSE jsonb_build_object('actor', 'apify', 'run', g) END,
       timestamptz '2026-01-01 00:00:00+00' + g * interval '37 minutes',
       CASE WHEN g % 4 = 2 THEN timestamptz '2026-01-01 00:00:00+00' + g * interval '41 minutes'
       END
FROM generate_series(1, 240) AS g
JOIN (SELECT id, row_number() OVER (ORDER BY clerk_org_id) AS n FROM organizations) AS o
  ON o.n = 1 + g % 7;

INSERT INTO quota_usage (org_id, job_id, usage_amount, "timestamp")
SELECT org_id, id, 1 + id % 3, created_at + interval '1 second' FROM jobs WHERE id % 2 = 0;

INSERT INTO billing.invoices (org_id, period_start, amount, currency, tier)
SELECT o.id, p::date, 49.00 + o.quota_used, 'EUR', o.plan
FROM organizations AS o,
     generate_series(date '2025-10-01', date '2026-03-01', interval '1 month') AS p
WHERE o.clerk_org_id LIKE 'org_2%';
INSERT INTO billing.invoices (org_id, period_start, tier)
VALUES ('6f1c1e9a-8d3b-4c55-9a57-1b2f3c4d5e02', '2026-04-01', NULL);
INSERT INTO billing.invoice_lines (org_id, period_start, line_no, description)
SELECT org_id, period_start, n, 'Seats x' || (n * 5) FROM billing.invoices,
       generate_series(1, 2) AS n;
INSERT INTO billing.invoice_lines (org_id, period_start, line_no, description)
VALUES (NULL, NULL, 1, 'manual credit note');

INSERT INTO "Audit Log"."Order Items" ("Item ID", "a.b", "weird ""name""", "100%", ref)
SELECT g, 'a.b #' || g, CASE WHEN g % 5 = 0 THEN NULL ELSE 'w' || g END, g % 101,
       (SELECT min(id) FROM billing.invoices) + g % 3
FROM generate_series(1, 30) AS g;
INSERT INTO "Audit Log"."Order Items" VALUES (31, NULL, NULL, 99.5, NULL);

INSERT INTO events (id, occurred_at, kind, payload)
SELECT g, timestamptz '2024-06-01 00:00:00+00' + g * interval '3 days',
       (ARRAY['job.started', 'job.finished', 'quota.exceeded'])[1 + g % 3],
       CASE WHEN g % 2 = 0 THEN jsonb_build_object('n', g) END
FROM generate_series(1, 300) AS g;
INSERT INTO event_notes (event_id, occurred_at, note)
SELECT id, occurred_at, 'checked by ops' FROM events WHERE id % 25 = 0;

INSERT INTO webhook_events (source, processed)
SELECT (ARRAY['stripe', 'clerk', 'inngest'])[1 + g % 3], g % 4 = 0
FROM generate_series(1, 60) AS g;

INSERT INTO scratch_cache (k, v)
SELECT 'quota:' || g, decode(md5(g::text), 'hex') FROM generate_series(1, 25) AS g;
INSERT INTO scratch_cache VALUES ('empty', NULL);

INSERT INTO plans (id, name, dodo_price_id) VALUES
    (1, 'Free', NULL), (2, 'Pro', 'pdt_pro_monthly'), (3, 'Enterprise', 'pdt_ent_yearly');

INSERT INTO measurements_2026 (id, value) VALUES (1, 20.5), (2, NULL), (3, -0.25);
'''

# Per-column checksums of every table (partitions and inheritance children on their own):
# the values of a column, as text, sorted (row order does not matter), and the row count.
# Tables schemalock creates itself (the quarantine) and Alembic's are not user data.
TABLES_SQL = """
SELECT n.nspname, c.relname, a.attname
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_%' AND c.relname NOT IN ('alembic_version', 'schemalock_quarantine')
ORDER BY 1, 2, a.attnum
"""

Key = tuple[str, str, str | None]  # (schema, table, column); column None: the row count
Checksums = dict[Key, object]


def checksums(url: str) -> Checksums:
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in query(url, TABLES_SQL):
        columns.setdefault((str(schema), str(table)), []).append(str(column))
    result: Checksums = {}
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


findings = _verify  # verify's structural findings, fk-missing-index aside


def drift_of(found: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """What verify says, comparable across runs: each finding's rule and message."""
    return sorted((f["rule"], f["message"]) for f in found)


def function_of(path: Path, name: str) -> ast.FunctionDef:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)


def raises_not_implemented(path: Path, name: str = "downgrade") -> bool:
    return any(
        isinstance(node, ast.Raise)
        and node.exc is not None
        and "NotImplementedError" in ast.unparse(node.exc)
        for node in ast.walk(function_of(path, name))
    )


def downgrade(migrations: Path, url: str) -> None:
    from alembic import command

    from schemalock.fix import environment

    command.downgrade(environment.config(migrations, url), "-1")


def edit(text: str, *replacements: tuple[str, str]) -> str:
    for old, new in replacements:
        assert old in text, f"the snapshot no longer holds {old!r}"
        text = text.replace(old, new, 1)
    return text


# --- rich_schema.sql with rows, once per module: each test gets a copy (CREATE DATABASE
# ... TEMPLATE), so the schema and its rows are not built again for every case.


@pytest.fixture(scope="module")
def rich_template(pg_server: Server) -> Iterator[str]:
    with scratch_database(pg_server, "sl_rich") as name:
        url = pg_server.url_for(name)
        execute(url, RICH_SCHEMA)
        execute(url, DATA)
        yield name


@pytest.fixture
def rich(pg_server: Server, rich_template: str) -> Iterator[str]:
    """A database of its own holding rich_schema.sql and DATA."""
    with scratch_database(pg_server, template=rich_template) as name:
        yield pg_server.url_for(name)


# --- the cases ------------------------------------------------------------------------------

BASE_OPS = frozenset({"execute", "get_context"})  # SQL steps and autocommit blocks


@dataclass(frozen=True)
class Case:
    drift: str | Callable[[str], None] = ""  # run after the snapshot (SQL, or given the URL)
    setup: str = ""  # run before the snapshot
    lock: tuple[tuple[str, str], ...] = ()  # edits of the snapshot: the lock's side of the drift
    left: frozenset[str] = frozenset()  # rules verify still reports after the fix
    ops: frozenset[str] = frozenset()  # op.* functions upgrade() may call beside BASE_OPS
    renamed: dict[Key, Key] = field(default_factory=dict)  # checksum keys before -> after fix
    after: str = ""  # a query that must answer [(True,)] once fixed
    # Rules verify may report after the downgrade, where the fix cannot be undone (None: the
    # downgrade must bring back exactly the drift fix found).
    undone: frozenset[str] | None = None
    repairs: bool = True  # False: fix writes nothing (no drift, or only what it leaves alone)
    # The downgrade refuses before its first step (it would drop values the database made,
    # which rows may refer to by now): its message says so, and nothing changes.
    downgrade_refused: str = ""


def _ops(*names: str) -> frozenset[str]:
    return frozenset(names)


# What each DRIFT case's revision may call: nothing drops a table or column.
DRIFT_OPS: dict[str, frozenset[str]] = {
    "table dropped": _ops("create_table"),
    "column dropped": _ops("add_column"),
    "column type changed": _ops("alter_column"),
    "NOT NULL dropped": _ops("create_check_constraint", "alter_column", "drop_constraint"),
    "default changed": _ops("alter_column"),
    "default dropped on a hostile name": _ops("alter_column"),
    "primary key dropped": _ops("create_index"),
    "foreign key dropped": _ops("create_foreign_key"),
    "foreign key action changed": _ops("create_foreign_key"),
    "composite cross-schema foreign key dropped": _ops("create_foreign_key"),
    "unique dropped": _ops("create_index"),
    "unique dropped on a quoted name": _ops("create_index"),
    "index dropped": _ops("create_index"),
    "index changed": _ops("create_index"),
    "index on a partitioned table dropped": _ops("create_index"),
    "check dropped": _ops("create_check_constraint"),
    "child column retyped and its FK dropped": _ops("alter_column", "create_foreign_key"),
}

# Where a DRIFT case's downgrade cannot bring back exactly the drift: the rules it may leave.
DRIFT_UNDONE: dict[str, frozenset[str]] = {
    # The former definition comes back NOT VALID: its rows were checked once, new ones are.
    "foreign key action changed": frozenset({"fk-not-validated"}),
    # VALIDATE cannot be taken back short of dropping the check: it stays validated.
    "check made NOT VALID": frozenset(),
}

CASES: dict[str, Case] = {
    name: Case(
        drift=statements,
        left=frozenset(LEFT_ALONE.get(name, ())),
        ops=DRIFT_OPS.get(name, _ops()),
        repairs=bool({rule for rule, _, _ in expected} - LEFT_ALONE.get(name, set())),
        undone=DRIFT_UNDONE.get(name),
    )
    for name, (statements, expected) in DRIFT.items()
}


def _invalid_index(url: str) -> None:
    """A failed `CREATE UNIQUE INDEX CONCURRENTLY` (duplicates at build time) leaves an
    INVALID index; the duplicate is removed afterwards."""
    execute(
        url, "DROP INDEX plans_trim_name; INSERT INTO plans VALUES (4, ' Pro', 'pdt_pro_legacy')"
    )
    with (
        psycopg.connect(url, autocommit=True) as connection,
        pytest.raises(psycopg.errors.UniqueViolation),
    ):
        connection.execute("CREATE UNIQUE INDEX CONCURRENTLY plans_trim_name ON plans (trim(name))")
    execute(url, "DELETE FROM plans WHERE id = 4")


GADGETS = """
CREATE TABLE gadgets (
    id integer PRIMARY KEY,
    serial_no serial,
    always_id bigint GENERATED ALWAYS AS IDENTITY,
    default_id integer GENERATED BY DEFAULT AS IDENTITY (START WITH 100),
    price numeric(8, 2),
    quantity integer,
    total numeric GENERATED ALWAYS AS (price * quantity) STORED
);
INSERT INTO gadgets (id, price, quantity) VALUES (1, 9.99, 3), (2, 120.00, 1), (3, NULL, 4);
"""

CASES |= {
    "table renamed": Case(
        lock=(("  scratch_cache:\n", "  cache:\n    renamed_from: scratch_cache\n"),),
        ops=_ops("rename_table"),
        renamed={("public", "scratch_cache", c): ("public", "cache", c) for c in (None, "k", "v")},
    ),
    "column renamed": Case(
        lock=(
            (
                "      processed: {type: boolean,",
                "      handled: {renamed_from: processed, type: boolean,",
            ),
        ),
        ops=_ops("alter_column"),
        renamed={
            ("public", "webhook_events", "processed"): ("public", "webhook_events", "handled")
        },
    ),
    "invalid index left by a failed concurrent build": Case(
        setup="CREATE UNIQUE INDEX plans_trim_name ON plans (trim(name))",
        drift=_invalid_index,
        ops=_ops("create_index", "drop_index"),
        after="SELECT bool_and(i.indisvalid) FROM pg_index AS i "
        "WHERE i.indexrelid = 'plans_trim_name'::regclass",
        # An invalid index cannot be brought back: the downgrade may drop the rebuilt one.
        undone=frozenset({"missing-index"}),
    ),
    "enum label missing from the live type": Case(
        lock=(
            (
                "  job_status: [pending, running, completed, failed]",
                "  job_status: [pending, running, completed, failed, cancelled]",
            ),
        ),
        after="SELECT 'cancelled' = ANY (enum_range(NULL::job_status)::text[])",
        undone=frozenset(),  # PostgreSQL cannot remove a label: the downgrade leaves it
    ),
    "check redefined under the same name": Case(
        drift="ALTER TABLE organizations DROP CONSTRAINT quota_within_limit,"
        " ADD CONSTRAINT quota_within_limit CHECK (quota_used >= 0)",
        ops=_ops("create_check_constraint", "drop_constraint"),
    ),
    "NOT NULL dropped in the lock": Case(
        lock=(
            (
                "      name: {type: character varying(200), nullable: false}",
                "      name: {type: character varying(200)}",
            ),
        ),
        ops=_ops("alter_column"),
    ),
    "NOT NULL column without default added to an empty table": Case(
        setup="TRUNCATE scratch_cache",
        lock=(
            (
                "      v: {type: bytea}\n",
                "      v: {type: bytea}\n      region: {type: text, nullable: false}\n",
            ),
        ),
        ops=_ops("add_column"),
    ),
    "NOT NULL column with now() as its default added to a table with rows": Case(
        lock=(
            (
                "      processed: {type: boolean, nullable: false, default: 'false'}\n",
                "      processed: {type: boolean, nullable: false, default: 'false'}\n"
                "      seen_at: {type: timestamptz, nullable: false, default: now()}\n",
            ),
        ),
        ops=_ops("add_column"),
        after="SELECT count(DISTINCT seen_at) = 1 FROM webhook_events",  # one value: no rewrite
        # now() is not a literal: the downgrade cannot tell the upgrade's value from rows
        # written since, so it refuses while the table has rows.
        downgrade_refused="it would drop public.webhook_events.seen_at, which holds data",
    ),
    "NOT NULL column with a volatile default added to a table with rows": Case(
        lock=(
            (
                "      processed: {type: boolean, nullable: false, default: 'false'}\n",
                "      processed: {type: boolean, nullable: false, default: 'false'}\n"
                "      delivery_id: {type: uuid, nullable: false, default: gen_random_uuid()}\n",
            ),
        ),
        ops=_ops("add_column", "alter_column", "create_check_constraint", "drop_constraint"),
        after="SELECT count(*) = 60 AND count(DISTINCT delivery_id) = 60 FROM webhook_events",
        downgrade_refused="it would drop public.webhook_events.delivery_id, which holds data",
    ),
    "table with an integer key, serial, identities and a generated column dropped": Case(
        setup=GADGETS,
        drift="DROP TABLE gadgets",
        ops=_ops("create_table"),
        # An integer primary key without a default must not become serial.
        after="SELECT column_default IS NULL FROM information_schema.columns "
        "WHERE table_name = 'gadgets' AND column_name = 'id'",
    ),
    "foreign key not validated": Case(
        drift="ALTER TABLE jobs DROP CONSTRAINT jobs_org_id_fkey,"
        " ADD CONSTRAINT jobs_org_id_fkey FOREIGN KEY (org_id) REFERENCES organizations (id)"
        " ON DELETE CASCADE NOT VALID",
        # VALIDATE cannot be taken back short of dropping the key: either is a fair downgrade.
        undone=frozenset({"fk-not-validated"}),
    ),
    "table in a schema the database lacks": Case(
        lock=(
            ("enums:\n", "enums:\n  audit.level: [low, high]\n"),
            (
                "tables:\n",
                "tables:\n  audit.trail:\n    columns:\n"
                "      id: {type: integer, primary_key: true}\n"
                "      org_id: {type: uuid, references: public.organizations.id}\n"
                "      tier: {type: audit.level}\n",
            ),
        ),
        ops=_ops("create_table", "create_foreign_key"),
        after="SELECT to_regclass('audit.trail') IS NOT NULL",
    ),
    "composite unique dropped with the foreign key it carried": Case(
        drift="ALTER TABLE billing.invoices"
        " DROP CONSTRAINT invoices_org_id_period_start_key CASCADE",
        ops=_ops("create_index", "create_foreign_key"),
    ),
    "composite primary key dropped": Case(
        drift="ALTER TABLE quota_usage DROP CONSTRAINT quota_usage_pkey",
        ops=_ops("create_index"),
    ),
    "primary key and NOT NULL dropped": Case(
        drift="ALTER TABLE scratch_cache DROP CONSTRAINT scratch_cache_pkey,"
        " ALTER COLUMN k DROP NOT NULL",
        ops=_ops("create_index", "create_check_constraint", "alter_column", "drop_constraint"),
    ),
}

# Gaps of the current code, by case: the convergence run, and the downgrade.
CONVERGE_GAPS: dict[str, str] = {}
DOWNGRADE_GAPS: dict[str, str] = {}


def _params(gaps: dict[str, str], repairing: bool = False) -> list[Any]:
    return [
        pytest.param(
            name,
            id=name.replace(" ", "-"),
            marks=[pytest.mark.xfail(strict=True, reason=gaps[name])] if name in gaps else [],
        )
        for name in sorted(CASES)
        if CASES[name].repairs or not repairing
    ]


@dataclass
class Fixed:
    lock: Path
    migrations: Path
    drift: list[dict[str, Any]]  # verify's findings before the fix
    rows: Checksums  # before the fix
    revision: Path | None  # None: nothing to repair
    output: str


def build(url: str, tmp_path: Path, case: Case) -> tuple[Path, list[dict[str, Any]], Checksums]:
    """The database with its rows, the lock, the drift: (lock, findings, checksums)."""
    if case.setup:
        execute(url, case.setup)
    lock = tmp_path / "schema_lock.yaml"
    text = snapshot(url, lock)
    if case.lock:
        lock.write_text(edit(text, *case.lock), encoding="utf-8")
    if callable(case.drift):
        case.drift(url)
    elif case.drift:
        execute(url, case.drift)
    drift = findings(url, lock)
    assert drift or not case.repairs, "the case injects no drift verify sees"
    return lock, drift, checksums(url)


def converge(url: str, tmp_path: Path, case: Case) -> Fixed:
    lock, drift, rows = build(url, tmp_path, case)
    migrations = tmp_path / "migrations"
    result = _fix(url, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    written = _revisions(migrations)
    assert len(written) == case.repairs, result.stdout
    if not case.repairs:
        assert nothing_written(result.stdout), result.stdout
    return Fixed(lock, migrations, drift, rows, written[0] if written else None, result.stdout)


def nothing_written(stdout: str) -> bool:
    """What fix says when it writes no revision: nothing differs, or only what it leaves for
    a person (extra objects and the like), listed after the first line."""
    return stdout.startswith(("nothing to repair", "no revision written"))


def _moved(rows: Checksums, renamed: dict[Key, Key]) -> Checksums:
    return {renamed.get(key, key): value for key, value in rows.items()}


@pytest.mark.parametrize("name", _params(CONVERGE_GAPS))
def test_fix_converges_with_rows(rich: str, tmp_path: Path, name: str) -> None:
    case = CASES[name]
    fixed = converge(rich, tmp_path, case)
    left = {f["rule"] for f in findings(rich, fixed.lock)}
    assert left == set(case.left), fixed.output
    # Every row present before the fix is still there, every value unchanged.
    before = _moved(fixed.rows, case.renamed)
    after = checksums(rich)
    assert {key: after.get(key) for key in before} == before
    if case.after:
        assert query(rich, case.after) == [(True,)]
    if fixed.revision is not None:
        py_compile.compile(str(fixed.revision), doraise=True)
        calls = set(_op_calls(fixed.revision))
        assert calls - BASE_OPS <= case.ops, sorted(calls)
        upgrade = ast.unparse(function_of(fixed.revision, "upgrade"))
        assert not re.search(r"DROP (TABLE|COLUMN)|drop_(table|column)", upgrade, re.IGNORECASE)
    written = _revisions(fixed.migrations)
    again = _fix(rich, fixed.lock, fixed.migrations)
    assert again.exit_code == 0, again.stderr
    assert nothing_written(again.stdout), again.stdout
    assert _revisions(fixed.migrations) == written


@pytest.mark.parametrize("name", _params(DOWNGRADE_GAPS, repairing=True))
def test_fix_downgrade_restores_the_drift_and_the_rows(
    rich: str, tmp_path: Path, name: str
) -> None:
    case = CASES[name]
    fixed = converge(rich, tmp_path, case)
    assert fixed.revision is not None
    if case.downgrade_refused:
        fixed_state = (drift_of(findings(rich, fixed.lock)), checksums(rich))
        with pytest.raises(Exception, match=re.escape(case.downgrade_refused)):
            downgrade(fixed.migrations, rich)
        assert (drift_of(findings(rich, fixed.lock)), checksums(rich)) == fixed_state
        return
    if raises_not_implemented(fixed.revision):
        # Irreversible as a whole: it says why and refuses before changing anything.
        fixed_state = (drift_of(findings(rich, fixed.lock)), checksums(rich))
        with pytest.raises(NotImplementedError, match=r"\w"):
            downgrade(fixed.migrations, rich)
        assert (drift_of(findings(rich, fixed.lock)), checksums(rich)) == fixed_state
        return
    downgrade(fixed.migrations, rich)
    now = findings(rich, fixed.lock)
    if case.undone is None:
        assert drift_of(now) == drift_of(fixed.drift)
    else:
        assert {f["rule"] for f in now} <= case.undone | {f["rule"] for f in fixed.drift}
    assert query(rich, "SELECT count(*) FROM pg_index WHERE NOT indisvalid") == [(0,)]
    after = checksums(rich)
    assert {key: after.get(key) for key in fixed.rows} == fixed.rows


# --- kinds that do not simply converge ------------------------------------------------------


def test_enum_label_added_downgrade_keeps_it_and_says_why(rich: str, tmp_path: Path) -> None:
    fixed = converge(rich, tmp_path, CASES["enum label missing from the live type"])
    assert fixed.revision is not None
    assert not raises_not_implemented(fixed.revision)
    text = fixed.revision.read_text(encoding="utf-8")
    # Comments after a function's last statement are outside its AST span: read to the end.
    body = text[text.index("def downgrade") :].splitlines()
    comments = [line for line in body if line.strip().startswith("#")]
    assert any(re.search(r"cannot|can't|not possible", c, re.IGNORECASE) for c in comments), (
        comments
    )
    assert any("label" in c or "cancelled" in c for c in comments), comments
    downgrade(fixed.migrations, rich)
    assert query(rich, "SELECT 'cancelled' = ANY (enum_range(NULL::job_status)::text[])") == [
        (True,)
    ]


def test_enum_labels_in_another_order_are_left_for_a_person(rich: str, tmp_path: Path) -> None:
    case = Case(
        lock=(
            (
                "  job_status: [pending, running, completed, failed]",
                "  job_status: [pending, completed, running, failed]",
            ),
        )
    )
    lock, drift, _ = build(rich, tmp_path, case)
    assert {f["rule"] for f in drift} == {"enum-mismatch"}
    migrations = tmp_path / "migrations"
    result = _fix(rich, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stderr
    assert _revisions(migrations) == []
    assert "nothing to repair" not in result.stdout
    assert re.search(r"left for a person: .*job_status", result.stdout), result.stdout


def test_a_check_the_rows_violate_is_added_not_valid(rich: str, tmp_path: Path) -> None:
    case = Case(
        drift="ALTER TABLE jobs DROP CONSTRAINT jobs_results_count_check;"
        " UPDATE jobs SET results_count = -1 WHERE id IN (3, 5, 8)"
    )
    lock, _, rows = build(rich, tmp_path, case)
    migrations = tmp_path / "migrations"
    result = _fix(rich, lock, migrations, "--apply")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert any(
        "jobs_results_count_check" in line and re.search(r"\b3\b", line)
        for line in result.stdout.splitlines()
    ), result.stdout  # the note counts the rows that violate it
    assert query(
        rich, "SELECT convalidated FROM pg_constraint WHERE conname = 'jobs_results_count_check'"
    ) == [(False,)]
    with pytest.raises(psycopg.errors.CheckViolation):  # new rows are checked
        execute(
            rich,
            "INSERT INTO jobs (org_id, keyword, results_count) SELECT id, 'new', -2 "
            "FROM organizations WHERE clerk_org_id = 'org_2aXk9PqRtL'",
        )
    assert checksums(rich) == rows  # VALIDATE is left for after the cleanup; no row changed


def test_a_not_null_column_without_default_is_refused_on_a_table_with_rows(
    rich: str, tmp_path: Path
) -> None:
    case = Case(
        lock=(
            (
                "      v: {type: bytea}\n",
                "      v: {type: bytea}\n      region: {type: text, nullable: false}\n",
            ),
        ),
    )
    lock, _, rows = build(rich, tmp_path, case)
    migrations = tmp_path / "migrations"
    result = _fix(rich, lock, migrations, "--apply")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert re.search(r"\b26\b", result.stderr), result.stderr  # the rows that would be NULL
    assert "region" in result.stderr
    assert _revisions(migrations) == []
    assert checksums(rich) == rows
