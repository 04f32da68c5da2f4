"""`schemalock docs`: the lock as Markdown, and with --live a verification checklist.

Golden files: tests/golden/docs_seed.md (the seed lock) and tests/golden/docs_live.md (a small
database built here); regenerate with SCHEMALOCK_UPDATE_GOLDEN=1 and review the diff. The one
line of a live document that differs between runs (URL, server version, time, duration) is
normalized before comparing.
"""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import pytest

from conftest import ROOT, execute, run_cli, write
from schemalock.check.findings import InconclusiveCheck, Report
from schemalock.lock import parse_lock
from schemalock.render import markdown

GOLDEN = ROOT / "tests" / "golden"
SEED_LOCK = str(ROOT / "schema_lock.yaml")

# Mermaid erDiagram, as this renderer writes it: bare tokens, one statement per line.
TOKEN = r"[A-Za-z_][A-Za-z0-9_]*"
RELATION = re.compile(
    rf"^    (?P<a>{TOKEN}) (\|\||\|o|\}}o|\}}\|)(--|\.\.)(\|\||o\||o\{{|\|\{{) (?P<b>{TOKEN})"
    r' : "[^"%\\\n]*"$'
)
ENTITY = re.compile(rf"^    (?P<name>{TOKEN})( \{{)?$")
ATTRIBUTE = re.compile(rf"^        {TOKEN} {TOKEN} (PK|FK|UK)(, (PK|FK|UK))*$")
KEYWORDS = {"one", "many", "to", "end", "class", "style", "subgraph", "direction", "erdiagram"}

SCHEMA = """
CREATE TABLE customers (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email text NOT NULL UNIQUE,
    balance integer NOT NULL DEFAULT 0
);
CREATE TABLE orders (
    id integer PRIMARY KEY,
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    total integer NOT NULL,
    status text NOT NULL DEFAULT 'new'
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE TABLE "Order Items" (
    id integer PRIMARY KEY,
    order_id integer NOT NULL,
    qty integer NOT NULL
);
CREATE INDEX order_items_order_id_idx ON "Order Items" (order_id);
INSERT INTO customers VALUES
    ('6f1d2c3e-8a4b-4c5d-9e0f-1a2b3c4d5e6f', 'ann@northwind.io', 30),
    ('b7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e9f0a', 'bob@northwind.io', 99);
INSERT INTO orders VALUES
    (1, '6f1d2c3e-8a4b-4c5d-9e0f-1a2b3c4d5e6f', 10, 'paid'),
    (2, '6f1d2c3e-8a4b-4c5d-9e0f-1a2b3c4d5e6f', 20, 'paid'),
    (3, 'b7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e9f0a', 5, 'new');
INSERT INTO "Order Items" VALUES (1, 1, 2), (2, 3, 1), (3, 999, 4);
"""

LOCK = """version: 1
database: {name: shop}
environments:
  ci: {require_host: ["*"]}
tables:
  customers:
    purpose: People who buy
    critical: true
    endpoints: [/api/customers]
    columns:
      id: {type: uuid, primary_key: true, default: gen_random_uuid()}
      email: {type: text, nullable: false, unique: true, comment: "Login | contact"}
      balance: {type: integer, nullable: false, default: 0, comment: Sum of their orders}
  orders:
    purpose: What they bought
    wiring: Checkout -> Payment -> Fulfilment
    columns:
      id: {type: integer, primary_key: true}
      customer_id: {type: uuid, nullable: false, references: customers.id, on_delete: cascade}
      total: {type: "numeric(12,2)", nullable: false}
      status: {type: text, nullable: false, default: "'new'", values: [new, paid]}
    indexes:
      orders_customer_id_idx: {columns: [customer_id]}
  Order Items:
    columns:
      id: {type: integer, primary_key: true}
      order_id: {type: integer, nullable: false, references: orders.id}
      qty: {type: integer, nullable: false}
    indexes:
      order_items_order_id_idx: {columns: [order_id]}
flows:
  checkout:
    path: Checkout -> orders.status -> orders.total
    invariants:
      - name: paid_orders_have_a_total
        implies: {table: orders, when: "status = 'paid'", then: total > 0}
  accounting:
    path: orders.total -> customers.balance
    invariants:
      - name: balance_is_the_sum_of_orders
        description: A customer's balance is what their orders add up to.
        reconcile: {total: customers.balance, sum_of: orders.total, by: customer_id}
queries:
  customer_by_id:
    endpoint: /api/customers
    sql: SELECT email, balance FROM customers WHERE id = $1
    params: [uuid]
  order_by_public_id:
    description: The API sends the order's public uuid; orders.id is an integer.
    endpoint: /api/orders
    sql: SELECT total FROM orders WHERE id = $1
    params: [uuid]
"""

ODD_LOCK = """version: 1
tables:
  Order Items:
    columns:
      id: {type: integer, primary_key: true}
      "unit price": {type: "numeric(12,2)", nullable: false, unique: true}
      placed at: {type: timestamptz}
      tags: {type: "text[]"}
      code: {type: varchar(20), pattern: '^(a|b)$'}
  '"odd.name"':
    columns:
      id: {type: integer, primary_key: true}
      item: {type: integer, references: '"Order Items".id'}
  'say "hi"':
    columns:
      pk: {type: integer, primary_key: true}
      item: {type: integer, nullable: false, unique: true, references: '"Order Items".id'}
  end:
    columns:
      id: {type: integer, primary_key: true, references: '"odd.name".id'}
  1st:
    columns: {id: {type: integer}}
  Order_Items:
    columns: {id: {type: integer}}
"""


# Each docs_* golden file, with the test that compares against it: checked as a table
# (test_no_orphaned_goldens), so whatever runs, in any order or under -k, none is orphaned.
GOLDENS = {"docs_seed.md": "test_docs_of_the_seed_lock", "docs_live.md": "test_docs_live"}


def _check_golden(name: str, actual: str) -> None:
    assert name in GOLDENS, f"golden {name} is not in GOLDENS"
    path = GOLDEN / name
    if os.environ.get("SCHEMALOCK_UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing golden {name}: run with SCHEMALOCK_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


def _mermaid(document: str) -> list[str]:
    blocks = re.findall(r"^```mermaid\n(.*?)\n```$", document, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1
    return str(blocks[0]).splitlines()


def _check_mermaid(document: str) -> tuple[set[str], list[re.Match[str]]]:
    """Every line of the diagram is a statement of Mermaid's erDiagram grammar; returns the
    entities and the relations."""
    lines = _mermaid(document)
    assert lines[0] == "erDiagram"
    entities: list[str] = []
    relations: list[re.Match[str]] = []
    in_block = False
    for line in lines[1:]:
        if in_block:
            if line == "    }":
                in_block = False
            else:
                assert ATTRIBUTE.match(line), line
        elif relation := RELATION.match(line):
            relations.append(relation)
        else:
            entity = ENTITY.match(line)
            assert entity, line
            entities.append(entity["name"])
            in_block = line.endswith("{")
    assert not in_block
    assert len(entities) == len(set(entities)), "an entity is declared twice"
    assert not {e.lower() for e in entities} & KEYWORDS
    for relation in relations:
        assert {relation["a"], relation["b"]} <= set(entities)
    return set(entities), relations


def test_docs_of_the_seed_lock(tmp_path: Path) -> None:
    result = run_cli("docs", "--lock", SEED_LOCK)
    assert result.exit_code == 0, result.stderr
    _check_golden("docs_seed.md", result.stdout)
    document = result.stdout
    assert document.startswith("# neondb\n")
    assert "11 described, 1 fewer than the 12 `expected_tables` claims" in document
    assert "`production` requires a host matching `*.neon.tech`" in document
    assert "Verification" not in document  # offline: no checklist, no timestamp
    entities, relations = _check_mermaid(document)
    assert len(entities) == 11
    assert '    organizations ||..o{ jobs : "org_id"' in [r.group(0) for r in relations]
    # A nullable reference: a quota_usage row has zero or one job.
    assert '    jobs |o..o{ quota_usage : "job_id"' in [r.group(0) for r in relations]
    assert "- referenced by: `quota_usage.job_id` → `jobs.id`, on delete set null" in document
    assert "```sql\nSELECT type, COUNT(*) as count FROM jobs WHERE org_id = $1" in document
    assert "| `amount` | `numeric(12,2)` | no |" in document
    assert "        numeric_12_2 price" not in document  # not a key column: not drawn
    assert "        timestamptz period_start" not in document  # part of a composite unique
    # -o writes the same bytes and says so on stderr.
    out = tmp_path / "schema.md"
    to_file = run_cli("docs", "--lock", SEED_LOCK, "-o", str(out))
    assert to_file.exit_code == 0
    assert to_file.stdout == ""
    assert to_file.stderr == f"wrote {out}\n"
    assert out.read_text(encoding="utf-8") == document


def test_names_and_types_are_sanitized_for_mermaid() -> None:
    document = markdown.render(parse_lock(ODD_LOCK, "odd.yaml"))
    entities, relations = _check_mermaid(document)
    assert entities == {"Order_Items", "odd_name", "say__hi_", "end_", "_1st", "Order_Items_2"}
    diagram = _mermaid(document)
    assert "        numeric_12_2 unit_price UK" in diagram
    assert '    Order_Items ||..o| say__hi_ : "item"' in diagram  # unique: one or none
    assert '    Order_Items |o..o{ odd_name : "item"' in diagram
    assert '    odd_name ||--o| end_ : "id"' in diagram  # through the primary key
    assert "        integer pk_ PK" in diagram  # PK is a keyword inside an entity
    assert len(relations) == 3
    assert mermaid_types() == [
        "timestamptz",
        "text_array",
        "varchar_20",
        "numeric_12_2",
        "float8",
        "timestamp",
    ]
    # Outside the diagram names are the lock's own, in code spans; a `|` stays in its cell.
    assert '### 2. `"odd.name"`' in document
    assert "| `code` | `character varying(20)` | yes |  |  |  | pattern `^(a\\|b)$` |  |" in (
        document
    )
    assert '- references: `"odd.name".item` → `Order Items.id`, on delete no action' in document


def mermaid_types() -> list[str]:
    return [
        markdown.mermaid_type(t)
        for t in (
            "timestamp with time zone",
            "text[]",
            "character varying(20)",
            "numeric(12,2)",
            "double precision",
            "timestamp without time zone",
        )
    ]


def _stable(text: str) -> str:
    """The verification line is the one that differs between runs."""
    return re.sub(
        r"^Verified against `[^`]+` \(PostgreSQL .*\) on [0-9-]+ [0-9:]+ UTC in \d+ ms\.$",
        "Verified against `postgresql://app:***@host/shop` (PostgreSQL X) on"
        " 2025-01-01 00:00:00 UTC in 0 ms.",
        text,
        flags=re.MULTILINE,
    )


@pytest.mark.db
def test_docs_live(database: str, tmp_path: Path) -> None:
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", LOCK)
    result = run_cli("docs", "--live", "--lock", lock, "--database-url", database, "--env", "ci")
    assert result.exit_code == 1, result.stderr  # errors at the default --fail-on: CI fails
    document = result.stdout
    assert len(re.findall(r"^Verified against ", document, re.MULTILINE)) == 1
    _check_golden("docs_live.md", _stable(document))
    checklist = document.split("## Verification checklist\n", 1)[1]
    lines = checklist.splitlines()
    assert "- ✅ `customers`: matches the lock" in lines
    assert "- ✅ `Order Items`: matches the lock" in lines
    assert "- ❌ `orders`: fails" in lines
    assert any(line.startswith("  - error `SL105` column-type-mismatch: ") for line in lines)
    assert (
        "- ✅ `orders.customer_id` → `customers.id`: foreign key present, validated, no orphans"
        in lines
    )
    relation = checklist.split("- ❌ `Order Items.order_id` → `orders.id`: fails\n", 1)[1]
    relation = relation.split("\n- ", 1)[0]  # its findings, one sub-item each
    assert '  - error `SL109` missing-foreign-key: table public."Order Items" has no' in relation
    assert '  - error `SL201` fk-orphans: 1 row of public."Order Items"(order_id)' in relation
    assert "- ✅ `checkout`: `paid_orders_have_a_total` (implies): holds on every row" in lines
    assert "- ❌ `accounting`: `balance_is_the_sum_of_orders` (reconcile): fails" in lines
    assert "- ✅ `customer_by_id` (`/api/customers`): prepares on the live schema" in lines
    assert "- ❌ `order_by_public_id` (`/api/orders`): fails" in lines
    assert "operator does not exist: integer = uuid" in checklist
    assert "- ✅ `ci`: the database's host is one the environment allows" in lines
    assert "### Other findings" not in checklist
    _check_mermaid(document)


@pytest.mark.db
def test_docs_live_to_a_file_and_without_rows(database: str, tmp_path: Path) -> None:
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", LOCK)
    out = tmp_path / "schema.md"
    result = run_cli("docs", "--live", "--no-data", "-l", lock, "-d", database, "-o", str(out))
    assert result.exit_code == 1
    assert "SL105" in result.stdout  # the terminal gets verify's text report
    assert result.stderr.endswith(f"wrote {out}\n")
    document = out.read_text(encoding="utf-8")
    assert "No rule that reads rows ran (`--no-data`, `--select` or `--ignore`)" in document
    assert "- ⬜ `checkout`: `paid_orders_have_a_total` (implies): not checked" in document
    # Without row checks the relation is proven as far as structure goes, and says so.
    assert "- ✅ `orders.customer_id` → `customers.id`: foreign key present, validated\n" in (
        document
    )
    assert "SL201" not in document
    assert "### Environment" not in document  # no --env, no policy item
    # A clean run exits 0: only the structure rule that passes.
    clean = run_cli(
        "docs", "--live", "-l", lock, "-d", database, "--select", "SL101", "-o", str(out)
    )
    assert clean.exit_code == 0, clean.stderr


def test_inconclusive_and_unchecked_items() -> None:
    lock = parse_lock(LOCK, "schema_lock.yaml")
    report = Report(
        inconclusive=[
            InconclusiveCheck(
                rule="flow-violation",
                reason="flow accounting: balance_is_the_sum_of_orders: canceling statement due to"
                " statement timeout",
                schema="public",
                table="customers",
            ),
            InconclusiveCheck(
                rule="fk-orphans",
                reason="cannot compare text with integer",
                schema="public",
                table="Order Items",
            ),
        ],
        target_url="postgresql://app:***@host/shop",
        server_version="18.1",
    )
    document = markdown.render(
        lock, markdown.Verification(report, rules=frozenset({"SL201", "SL502", "SL105"}))
    )
    lines = document.splitlines()
    assert (
        "- ⚠️ `accounting`: `balance_is_the_sum_of_orders` (reconcile): could not be checked"
        in lines
    )
    assert "- ⚠️ `Order Items.order_id` → `orders.id`: could not be checked" in lines
    assert "  - inconclusive: cannot compare text with integer" in lines
    assert "- ✅ `customers`: matches the lock" in lines  # the flow's check is the flow's
    assert "- ⬜ `customer_by_id` (`/api/customers`): not checked" in lines
    assert "- ✅ `orders.customer_id` → `customers.id`: no orphans" in lines
    assert "**Result**: ⚠️ 0 errors, 0 warnings, 0 info, 2 inconclusive" in document
    assert "Verified against `postgresql://app:***@host/shop` (PostgreSQL 18.1) in 0 ms." in lines


def test_verify_options_need_live() -> None:
    result = run_cli("docs", "--lock", SEED_LOCK, "--env", "production")
    assert result.exit_code == 2
    assert "--env needs --live" in result.stderr
    result = run_cli("docs", "--lock", SEED_LOCK, "--database-url", "postgresql://h/db")
    assert result.exit_code == 2
    assert "--database-url needs --live" in result.stderr


def test_no_orphaned_goldens() -> None:
    """Every docs_* golden file is in GOLDENS, and the test GOLDENS names for it exists here
    and compares against it: decided from the files and the tests' text, not from which tests
    ran before."""
    assert {p.name for p in GOLDEN.glob("docs_*")} == set(GOLDENS)
    for name, owner in GOLDENS.items():
        test = globals().get(owner)
        assert callable(test), f"{name}: no test {owner}"
        assert f'_check_golden("{name}"' in inspect.getsource(test), f"{owner} never checks {name}"


@pytest.mark.db
def test_docs_list_the_objects_beyond_tables(database: str, tmp_path: Path) -> None:
    """Views, functions, triggers, partitions, sequences, row-level security, policies and
    privileges each have their lines in the document, from a lock snapshot writes."""
    from test_objects import OBJECTS
    from test_roundtrip import snapshot

    execute(
        database,
        OBJECTS + "CREATE SEQUENCE ticket_numbers START 100;"
        " ALTER TABLE jobs ENABLE ROW LEVEL SECURITY;"
        " CREATE POLICY own_jobs ON jobs USING (org_id = 1);"
        " GRANT SELECT ON active_jobs TO pg_monitor;",
    )
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    result = run_cli("docs", "--lock", str(lock))
    assert result.exit_code == 0, result.stderr
    document = result.stdout
    for line in (
        "- `events_2026`: partition of `events` `FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')`",
        "#### `status_counts`\n\nmaterialized view, index `status_counts_status` on `status`",
        "- `reset_quota(integer, integer)`: function, sql, returns `void`, volatile, security "
        "definer, search_path = `public, pg_temp`",
        "- `jobs_disabled` on `jobs`: before insert, for each row, executes `touch` (disabled)",
        "- `ticket_numbers`: bigint, from 100 by 1",
        "- `jobs`: row-level security enabled",
        "- policy `own_jobs` on `jobs`: for all, permissive, to `public`, using `(org_id = 1)`",
        "- `select` on table `active_jobs` to `pg_monitor`",
    ):
        assert line in document, line


def test_the_live_checklist_ticks_the_objects_beyond_tables(database: str, tmp_path: Path) -> None:
    """Each kind the lock declares has its line: passed while the database holds it as
    declared, failed with the finding under it once one drifts."""
    from test_objects import OBJECTS
    from test_roundtrip import snapshot

    execute(database, OBJECTS + "GRANT SELECT ON active_jobs TO pg_monitor;")
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    result = run_cli("docs", "--live", "--lock", str(lock), "--database-url", database)
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.split("## Verification checklist\n", 1)[1].splitlines()
    for kind in ("views and materialized views", "functions and procedures", "triggers"):
        assert any(re.match(rf"- ✅ {kind}: \d+ declared: as the lock says", x) for x in lines)
    assert "- ✅ privileges: 1 declared: as the lock says, none other" in lines
    assert "- ✅ schemas: `public`: as the lock says, none other" in lines

    execute(database, "CREATE OR REPLACE VIEW active_jobs AS SELECT * FROM jobs WHERE false")
    result = run_cli("docs", "--live", "--lock", str(lock), "--database-url", database)
    checklist = result.stdout.split("## Verification checklist\n", 1)[1]
    views = checklist.split("- ❌ views and materialized views: ", 1)[1].split("\n- ", 1)[0]
    assert "  - error `SL703` view-changed: " in views, checklist
