"""`fix --apply` over columns, keys and checks the plan changes, beyond the issue-10 classes of
test_fix_classes.py: proofs run over the values the plan leaves (a new column's default, a
converted column's values), a primary key swapped or left for a person with the NOT NULL it
holds, identity kinds, and the database's checks that would stop a conversion."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Server, execute, query
from test_fix_classes import MakePair, Pair

pytestmark = pytest.mark.db


@pytest.fixture
def pair(pg_server: Server, database: str, tmp_path: Path) -> MakePair:
    """pair(OLD, NEW), as in test_fix_classes: OLD in this test's database, the lock from NEW."""
    return lambda old, new: Pair(pg_server, database, tmp_path, old, new)


def test_primary_key_a_foreign_key_uses_is_left_with_its_not_null(pair: MakePair) -> None:
    """The key (org_id, user_id) is referenced by grants: swapping it is left for a person,
    and so is DROP NOT NULL of user_id, which the key holds (it used to fail on apply, exit
    4, 'column "user_id" is in a primary key')."""
    p = pair(
        """
        CREATE TABLE memberships (org_id int NOT NULL, user_id int NOT NULL,
                                  PRIMARY KEY (org_id, user_id));
        CREATE TABLE grants (id int PRIMARY KEY, org_id int NOT NULL, user_id int NOT NULL,
                             FOREIGN KEY (org_id, user_id) REFERENCES memberships);
        CREATE INDEX ON grants (org_id, user_id);
        INSERT INTO memberships VALUES (1, 1), (1, 2), (2, 1);
        INSERT INTO grants VALUES (1, 1, 2);
        """,
        """
        CREATE TABLE memberships (id serial PRIMARY KEY, org_id int NOT NULL, user_id int,
                                  UNIQUE (org_id, user_id));
        CREATE TABLE grants (id int PRIMARY KEY, org_id int NOT NULL, user_id int NOT NULL,
            FOREIGN KEY (org_id, user_id) REFERENCES memberships (org_id, user_id));
        CREATE INDEX ON grants (org_id, user_id);
        """,
    )
    result = p.fix()
    output = result.stdout + result.stderr
    assert "public.grants" in output, output  # named as what holds the key
    assert "left out: DROP NOT NULL of public.memberships.user_id" in output, output
    p.converged_or_left(
        result, {"primary-key-mismatch", "nullability-mismatch"}, "public.memberships"
    )


def test_unique_over_a_new_column(pair: MakePair) -> None:
    """Proven over the column as it is added (all NULL), not queried before it exists (it
    used to stop the plan, exit 4, 'column "email" does not exist')."""
    p = pair(
        """
        CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
        INSERT INTO users VALUES (1, 'a'), (2, 'b');
        """,
        """
        CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, email text UNIQUE,
                            CONSTRAINT email_has_at CHECK (email LIKE '%@%'));
        """,
    )
    p.converged(p.fix())


def test_unique_over_a_new_column_every_row_shares_is_refused(pair: MakePair) -> None:
    """Every existing row gets the constant default: a unique key over it is refused, naming
    the value held twice, and the rest of the plan (the column) is written."""
    p = pair(
        """
        CREATE TABLE users (id int PRIMARY KEY);
        INSERT INTO users VALUES (1), (2);
        """,
        """
        CREATE TABLE users (id int PRIMARY KEY,
                            plan text NOT NULL DEFAULT 'free' CONSTRAINT users_plan_key UNIQUE);
        """,
    )
    result = p.fix()
    assert result.exit_code == 5, result.stdout + result.stderr
    [line] = [line for line in result.stderr.splitlines() if "users_plan_key" in line]
    assert "1 keys held by more than one row (keys: free)" in line, line
    assert query(p.url, "SELECT to_regclass('alembic_version') IS NULL") == [(True,)]


def test_value_that_is_not_a_label_of_an_existing_enum_is_refused(pair: MakePair) -> None:
    """With the enum in the database too, the refusal counts the rows and names their keys
    (PostgreSQL 15 used to name only the first value PostgreSQL met)."""
    enum = "CREATE TYPE rating AS ENUM ('1', '2', '3');"
    p = pair(
        enum
        + """
        CREATE TABLE reviews (id int PRIMARY KEY, stars text);
        INSERT INTO reviews VALUES (1, '1'), (2, '1.5'), (3, '3'), (4, NULL), (5, '1.5');
        """,
        enum + "CREATE TABLE reviews (id int PRIMARY KEY, stars rating);",
    )
    result = p.fix()
    p.refused(result, "public.reviews.stars")
    [line] = [line for line in result.stderr.splitlines() if "reviews.stars" in line]
    assert "not labels of rating: 2 rows (keys: 2, 5)" in line, line


def test_integer_to_an_enum_the_plan_creates_is_refused(pair: MakePair) -> None:
    """Only a string type converts to an enum (read by its input function): integer has no
    cast, refused at plan time naming both types."""
    p = pair(
        """
        CREATE TABLE tickets (id int PRIMARY KEY, level int);
        INSERT INTO tickets VALUES (1, 1), (2, NULL);
        """,
        """
        CREATE TYPE severity AS ENUM ('1', '2');
        CREATE TABLE tickets (id int PRIMARY KEY, level severity);
        """,
    )
    result = p.fix()
    assert result.exit_code == 5, result.stdout + result.stderr
    [line] = [line for line in result.stderr.splitlines() if "tickets.level" in line]
    assert "no cast from integer to severity" in line, line
    assert query(
        p.url,
        "SELECT data_type FROM information_schema.columns"
        " WHERE table_name = 'tickets' AND column_name = 'level'",
    ) == [("integer",)]


def test_identity_of_the_other_kind(pair: MakePair) -> None:
    """ALWAYS to BY DEFAULT: SET GENERATED (it used to be left for a person)."""
    p = pair(
        """
        CREATE TABLE orders (id int PRIMARY KEY, ref bigint GENERATED ALWAYS AS IDENTITY);
        INSERT INTO orders (id) VALUES (1), (2);
        """,
        "CREATE TABLE orders (id int PRIMARY KEY, ref bigint GENERATED BY DEFAULT AS IDENTITY);",
    )
    p.converged(p.fix())
    assert query(p.url, "INSERT INTO orders VALUES (3, 50) RETURNING ref") == [(50,)]


def test_check_over_a_new_serial_column_is_validated_by_the_next_run(pair: MakePair) -> None:
    """The values of a serial column exist only once the plan has run: its check is added NOT
    VALID, saying so, and the next run proves and validates it (it used to stop the plan,
    exit 4, 'column "n" does not exist')."""
    p = pair(
        """
        CREATE TABLE items (id int PRIMARY KEY);
        INSERT INTO items VALUES (1), (2);
        """,
        "CREATE TABLE items (id int PRIMARY KEY, n serial CONSTRAINT n_positive CHECK (n > 0));",
    )
    first = p.fix()
    assert first.exit_code == 0, first.stdout + first.stderr
    assert "n_positive cannot be proven before the plan has run" in first.stdout, first.stdout
    p.converged(p.fix())


def test_check_redefined_over_a_converted_column(pair: MakePair) -> None:
    """The old check (text <> '') cannot run on integers: dropped before the conversion (which
    would add it again and fail), the lock's added after it."""
    p = pair(
        """
        CREATE TABLE order_lines (id int PRIMARY KEY,
            quantity text NOT NULL CONSTRAINT order_lines_quantity_check CHECK (quantity <> ''));
        INSERT INTO order_lines VALUES (1, '1'), (2, '12');
        """,
        """
        CREATE TABLE order_lines (id int PRIMARY KEY,
            quantity integer NOT NULL CONSTRAINT order_lines_quantity_check CHECK (quantity > 0));
        """,
    )
    p.converged(p.fix(), changed=frozenset({("public", "order_lines", "quantity")}))


def test_extra_check_that_would_stop_a_conversion_is_refused(pair: MakePair) -> None:
    """A check the lock lacks is left alone; over a converted column that cannot run on the
    new type it would fail the conversion on apply: refused at plan time, naming it."""
    p = pair(
        """
        CREATE TABLE order_lines (id int PRIMARY KEY,
            quantity text NOT NULL CONSTRAINT legacy_not_blank CHECK (quantity <> ''));
        INSERT INTO order_lines VALUES (1, '1'), (2, '12');
        """,
        "CREATE TABLE order_lines (id int PRIMARY KEY, quantity integer NOT NULL);",
    )
    result = p.fix()
    p.refused(result, "public.order_lines.quantity", "legacy_not_blank")


def _downgrade(p: Pair) -> None:
    from alembic import command

    from schemalock.fix import environment

    command.downgrade(environment.config(p.migrations, p.url), "-1")


PRIMARY_KEY = """
SELECT a.attname::text FROM pg_constraint AS k
JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey)
WHERE k.conrelid = 'accounts'::regclass AND k.contype = 'p' ORDER BY 1
"""
NOT_NULL = """
SELECT attname::text FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attnum > 0
AND attnotnull ORDER BY 1
"""


def test_primary_key_swapped_then_downgraded(pair: MakePair) -> None:
    """No foreign key points at the key: swapped (unique index built concurrently, then DROP
    CONSTRAINT and ADD PRIMARY KEY USING INDEX in one transaction), then DROP NOT NULL of the
    column the old key held; the downgrade puts the old key and its NOT NULL back."""
    p = pair(
        """
        CREATE TABLE accounts (legacy_id int PRIMARY KEY, id int NOT NULL, name text);
        INSERT INTO accounts VALUES (10, 1, 'a'), (20, 2, 'b'), (30, 3, NULL);
        """,
        "CREATE TABLE accounts (legacy_id int, id int PRIMARY KEY, name text);",
    )
    p.converged(p.fix())
    assert query(p.url, PRIMARY_KEY) == [("id",)]
    assert query(p.url, NOT_NULL) == [("id",)]
    _downgrade(p)
    assert query(p.url, PRIMARY_KEY) == [("legacy_id",)]
    assert query(p.url, NOT_NULL) == [("id",), ("legacy_id",)]
    p.rows_kept()


def test_identity_dropped_then_downgraded(pair: MakePair) -> None:
    """DROP IDENTITY keeps the values; the downgrade makes the column NOT NULL and an identity
    again, its sequence past the values in use."""
    p = pair(
        """
        CREATE TABLE orders (id int PRIMARY KEY, ref bigint GENERATED BY DEFAULT AS IDENTITY);
        INSERT INTO orders (id) VALUES (1), (2);
        """,
        "CREATE TABLE orders (id int PRIMARY KEY, ref bigint);",
    )
    p.converged(p.fix())
    execute(p.url, "INSERT INTO orders VALUES (3, 7)")
    _downgrade(p)
    assert query(p.url, "INSERT INTO orders (id) VALUES (4) RETURNING ref") == [(8,)]
