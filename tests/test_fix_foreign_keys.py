"""`fix --apply` on foreign keys beyond the classes of test_fix_classes (issue 10): a name
another constraint holds, references holding another unique column of the parent (mapped when
that is unambiguous, refused when not), orphans counted over values both sides of the key
convert.  The OLD/NEW harness is test_fix_classes' own."""

from __future__ import annotations

import pytest

from conftest import query
from test_fix_classes import MakePair, pair

pytestmark = pytest.mark.db

__all__ = ["pair"]  # the fixture, used by name


def test_a_name_another_constraint_holds_is_not_taken(pair: MakePair) -> None:
    """The lock's key users_org_fkey, where OLD has a check of that name (the check itself is
    in the lock under another name): the key is added as users_org_fkey_1, the check left as
    it is.  Failed before: apply exit 4, 'constraint "users_org_fkey" for relation "users"
    already exists'."""
    p = pair(
        """
        CREATE TABLE orgs (id int PRIMARY KEY);
        CREATE TABLE users (id int PRIMARY KEY, org_id int,
            CONSTRAINT users_org_fkey CHECK (id > 0));
        CREATE INDEX ON users (org_id);
        INSERT INTO orgs VALUES (1), (2); INSERT INTO users VALUES (1, 1), (2, NULL);
        """,
        """
        CREATE TABLE orgs (id int PRIMARY KEY);
        CREATE TABLE users (id int PRIMARY KEY, org_id int,
            CONSTRAINT users_id_check CHECK (id > 0),
            CONSTRAINT users_org_fkey FOREIGN KEY (org_id) REFERENCES orgs (id));
        CREATE INDEX ON users (org_id);
        """,
    )
    p.converged(p.fix())
    assert query(
        p.url,
        "SELECT conname::text, contype::text, convalidated FROM pg_constraint"
        " WHERE conrelid = 'users'::regclass AND contype IN ('c', 'f') ORDER BY 1",
    ) == [("users_org_fkey", "c", True), ("users_org_fkey_1", "f", True)]


def test_legacy_numbers_are_mapped_and_true_orphans_quarantined(pair: MakePair) -> None:
    """users.org_id (integer) holds the parent's legacy_no for two rows (another unique integer
    column), a parent's id for one, and 999, which nothing holds.  `--orphans quarantine`: the
    legacy numbers are mapped to ids, only user 4 moves aside.  Failed before: refused, exit 5,
    'orphans that hold public.orgs.legacy_no ... map them through the parent'."""
    new = """
        CREATE TABLE orgs (id int PRIMARY KEY, legacy_no int NOT NULL UNIQUE);
        CREATE TABLE users (id int PRIMARY KEY, org_id int REFERENCES orgs (id));
        CREATE INDEX ON users (org_id);
    """
    p = pair(
        new.replace(" REFERENCES orgs (id)", "")
        + """
        INSERT INTO orgs VALUES (1, 101), (2, 102);
        INSERT INTO users VALUES (1, 101), (2, 2), (3, 102), (4, 999), (5, NULL);
        """,
        new,
    )
    result = p.fix("--orphans", "quarantine")
    assert "hold public.orgs.legacy_no where id belongs" in result.stdout, result.stdout
    moved = frozenset(("public", "users", c) for c in (None, "id", "org_id"))
    p.converged(result, changed=moved)
    assert query(p.url, "SELECT id, org_id FROM users ORDER BY id") == [
        (1, 1),
        (2, 2),
        (3, 2),
        (5, None),
    ]
    assert query(p.url, "SELECT row->>'id', row->>'org_id' FROM schemalock_quarantine") == [
        ("4", "999")
    ]


def test_a_reference_naming_two_parents_is_refused(pair: MakePair) -> None:
    """'acme' is one organization's id and another's slug: whether projects.org_id = 'acme'
    means the first or is a miswired slug of the second cannot be told, so no mapping is
    planned: refused at plan time naming the column and the row, nothing applied.  Failed
    before: exit 0, the key added NOT VALID with '1 orphan rows' (bluebird, a slug) left."""
    new = """
        CREATE TABLE organizations (id text PRIMARY KEY, slug text NOT NULL UNIQUE);
        CREATE TABLE projects (id int PRIMARY KEY, org_id text REFERENCES organizations (id));
        CREATE INDEX ON projects (org_id);
    """
    p = pair(
        new.replace(" REFERENCES organizations (id)", "")
        + """
        INSERT INTO organizations VALUES ('org_1', 'acme'), ('acme', 'bluebird');
        INSERT INTO projects VALUES (1, 'acme'), (2, 'bluebird'), (3, NULL);
        """,
        new,
    )
    result = p.fix()
    p.refused(result, "public.projects.org_id", "more than one row", "(keys: 1)")


def test_orphans_of_a_key_whose_both_sides_convert(pair: MakePair) -> None:
    """organizations.id and jobs.org_id are text in OLD, uuid in the lock: orphans are counted
    with both sides converted, and the one orphan moves aside.  Failed before: plan-time
    exit 4, 'operator does not exist: text = uuid'."""
    new = """
        CREATE TABLE organizations (id uuid PRIMARY KEY);
        CREATE TABLE jobs (id int PRIMARY KEY, org_id uuid REFERENCES organizations (id));
        CREATE INDEX ON jobs (org_id);
    """
    old = new.replace("uuid", "text").replace(" REFERENCES organizations (id)", "")
    p = pair(
        old
        + """
        INSERT INTO organizations VALUES ('11111111-1111-4111-8111-111111111111');
        INSERT INTO jobs VALUES (1, '11111111-1111-4111-8111-111111111111'),
                                (2, '33333333-3333-4333-8333-333333333333'), (3, NULL);
        """,
        new,
    )
    result = p.fix("--orphans", "quarantine")
    moved = frozenset(("public", "jobs", c) for c in (None, "id", "org_id"))
    p.converged(result, changed=moved)
    assert query(p.url, "SELECT id, org_id::text FROM jobs ORDER BY id") == [
        (1, "11111111-1111-4111-8111-111111111111"),
        (3, None),
    ]
    assert query(p.url, "SELECT row->>'id' FROM schemalock_quarantine") == [("2",)]


@pytest.mark.parametrize("policy", ["fail", "quarantine", "delete", "set-null"])
def test_miswired_rows_are_mapped_never_moved(pair: MakePair, policy: str) -> None:
    """Whatever `--orphans` says, rows holding the parent's other unique key (a legacy number
    where the id belongs) are not orphans: they are mapped, and no row is moved, deleted or
    nulled.  Failed before: refused, exit 5, 'map them through the parent' (quarantine, delete,
    set-null), or the key left NOT VALID over '1 orphan rows' (fail)."""
    new = """
        CREATE TABLE customers (id int PRIMARY KEY, legacy_no int UNIQUE NOT NULL);
        CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers (id));
        CREATE INDEX ON orders (customer_id);
    """
    p = pair(
        new.replace(" REFERENCES customers (id)", "")
        + """
        INSERT INTO customers VALUES (1, 9001), (2, 9002);
        INSERT INTO orders VALUES (1, 1), (2, 9002), (3, NULL);
        """,
        new,
    )
    p.converged(
        p.fix("--orphans", policy), changed=frozenset({("public", "orders", "customer_id")})
    )
    assert query(p.url, "SELECT id, customer_id FROM orders ORDER BY id") == [
        (1, 1),
        (2, 2),
        (3, None),
    ]
    assert query(p.url, "SELECT to_regclass('schemalock_quarantine') IS NULL") == [(True,)]


def test_orphans_of_a_key_to_a_table_the_plan_creates(pair: MakePair) -> None:
    """users.org_id holds 5; the lock has it reference orgs, a table the plan creates (empty):
    every value set is an orphan, and `--orphans quarantine` moves user 1 aside before the key
    is validated.  Failed before: the orphans were counted as none, and VALIDATE failed at
    apply, exit 4, 'violates foreign key constraint "users_org_id_fkey"'."""
    new = """
        CREATE TABLE orgs (id int PRIMARY KEY);
        CREATE TABLE users (id int PRIMARY KEY, org_id int REFERENCES orgs (id));
        CREATE INDEX ON users (org_id);
    """
    p = pair(
        """
        CREATE TABLE users (id int PRIMARY KEY, org_id int);
        CREATE INDEX ON users (org_id);
        INSERT INTO users VALUES (1, 5), (2, NULL);
        """,
        new,
    )
    result = p.fix("--orphans", "quarantine")
    p.converged(result, changed=frozenset(("public", "users", c) for c in (None, "id", "org_id")))
    assert query(p.url, "SELECT id, org_id FROM users") == [(2, None)]
    assert query(p.url, "SELECT row->>'id' FROM schemalock_quarantine") == [("1",)]
