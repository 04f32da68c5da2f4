"""`fix --apply` gaps generated pairs found (tests/pairgen.py): each converges, or is left for a
person with the reason; none fails on apply.

The harness is test_fix_classes.py's (OLD with its rows, the lock snapshotted from NEW)."""

from __future__ import annotations

import pytest

from conftest import query
from test_fix_classes import MakePair, Pair, pair

pytestmark = pytest.mark.db

__all__ = ["pair"]  # the fixture, imported to be used here


def _server_version(p: Pair) -> int:
    return int(str(query(p.url, "SHOW server_version_num")[0][0]))


PARTITIONED = """
CREATE TABLE q (id int PRIMARY KEY);
CREATE TABLE p (id int NOT NULL, day date NOT NULL, ref int) PARTITION BY RANGE (day);
CREATE TABLE p_2024 PARTITION OF p FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
"""
ROWS = "INSERT INTO q VALUES (1); INSERT INTO p VALUES (1, '2024-02-02', 1);"


def test_foreign_key_actions_changed_on_a_partitioned_table(pair: MakePair) -> None:
    """Before PostgreSQL 18 a partitioned table's foreign key cannot be added NOT VALID: the
    redefinition adds it validated (a declared scan).  PostgreSQL 18 takes it NOT VALID, then
    validates it."""
    p = pair(
        PARTITIONED + ROWS + "ALTER TABLE p ADD CONSTRAINT p_ref FOREIGN KEY (ref) REFERENCES q;",
        PARTITIONED + "ALTER TABLE p ADD CONSTRAINT p_ref FOREIGN KEY (ref) REFERENCES q"
        " ON DELETE CASCADE;",
    )
    result = p.fix()
    if _server_version(p) >= 180000:
        assert "redefine foreign key p_ref" in result.stdout, result.stdout + result.stderr
        assert "validate foreign key p_ref" in result.stdout, result.stdout + result.stderr
    else:
        assert "(validated: partitioned table)" in result.stdout, result.stdout + result.stderr
    p.converged(result)


def test_foreign_key_redefined_on_a_partitioned_table_with_orphans(pair: MakePair) -> None:
    """The key moves to another target its values are orphans of: before PostgreSQL 18 the
    old key stays, left for a person with the count (a partitioned table's key cannot be NOT
    VALID); PostgreSQL 18 redefines it NOT VALID and leaves VALIDATE waiting, said."""
    tables = PARTITIONED + "CREATE TABLE r (id int PRIMARY KEY);"
    p = pair(
        tables + ROWS + "ALTER TABLE p ADD CONSTRAINT p_ref FOREIGN KEY (ref) REFERENCES q;",
        tables + "ALTER TABLE p ADD CONSTRAINT p_ref FOREIGN KEY (ref) REFERENCES r;",
    )
    result = p.fix()
    output = result.stdout + result.stderr
    assert "could not complete" not in output, output
    assert "1 orphan rows" in result.stdout, output
    if _server_version(p) >= 180000:
        assert "foreign key p_ref is added NOT VALID" in result.stdout, output
    else:
        assert "cannot be added NOT VALID before PostgreSQL 18" in result.stdout, output
    p.converged_or_left(result, {"foreign-key-mismatch", "fk-not-validated"}, "public.p")


def test_enum_label_added_before_the_conversion_using_it(pair: MakePair) -> None:
    """The label is added (autocommit) before the conversion that needs it is planned: a new
    label cannot be used in the transaction that added it."""
    p = pair(
        """
        CREATE TYPE mood AS ENUM ('calm');
        CREATE TABLE t (id int PRIMARY KEY, m text);
        INSERT INTO t VALUES (1, 'calm'), (2, 'angry');
        """,
        """
        CREATE TYPE mood AS ENUM ('calm', 'angry');
        CREATE TABLE t (id int PRIMARY KEY, m mood);
        """,
    )
    p.converged(p.fix(), frozenset({("public", "t", "m")}))
    assert query(p.url, "SELECT m::text FROM t ORDER BY id") == [("calm",), ("angry",)]


def test_kept_check_over_a_converted_column_is_added_again(pair: MakePair) -> None:
    """F6b: PostgreSQL stores `length((c)::text) < 100` over a text column as `length(c) <
    100`, which cannot run on uuid: the check is dropped before the conversion and added as
    the lock says after it (NOT VALID, then validated)."""
    p = pair(
        """
        CREATE TABLE t (id int PRIMARY KEY, c text, CONSTRAINT k CHECK (length((c)::text) < 100));
        INSERT INTO t VALUES (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
        """,
        "CREATE TABLE t (id int PRIMARY KEY, c uuid,"
        " CONSTRAINT k CHECK (length((c)::text) < 100));",
    )
    p.converged(p.fix(), frozenset({("public", "t", "c")}))
    assert query(p.url, "SELECT convalidated FROM pg_constraint WHERE conname = 'k'") == [(True,)]


def test_conversion_to_a_created_domain_under_a_live_check(pair: MakePair) -> None:
    """F13: the check is proven over the domain's base type, before the domain exists."""
    p = pair(
        """
        CREATE TABLE t (id int PRIMARY KEY, c int, CONSTRAINT k CHECK (c < 100000));
        INSERT INTO t VALUES (1, 5);
        """,
        """
        CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
        CREATE TABLE t (id int PRIMARY KEY, c posint, CONSTRAINT k CHECK (c < 100000));
        """,
    )
    p.converged(p.fix(), frozenset({("public", "t", "c")}))


def test_unique_constraint_whose_name_an_index_holds(pair: MakePair) -> None:
    """An ordinary index of another definition holds the constraint's name: the constraint is
    built (and named) under a free variant, not skipped by `IF NOT EXISTS`."""
    p = pair(
        """
        CREATE TABLE t (id int PRIMARY KEY, a int, b int);
        CREATE INDEX t_a_key ON t (b);
        INSERT INTO t VALUES (1, 1, 1), (2, 2, 1);
        """,
        "CREATE TABLE t (id int PRIMARY KEY, a int UNIQUE, b int);",
    )
    p.converged(p.fix())


def test_foreign_key_to_a_table_whose_name_is_taken(pair: MakePair) -> None:
    """The missing table is left for a person (a view holds its name): the foreign key to it
    is left with it, said, rather than failing on apply."""
    p = pair(
        """
        CREATE VIEW foobar AS SELECT 1 AS id;
        CREATE TABLE a (id int PRIMARY KEY, f int);
        INSERT INTO a VALUES (1, NULL);
        """,
        """
        CREATE TABLE foobar (id int PRIMARY KEY);
        CREATE TABLE a (id int PRIMARY KEY, f int REFERENCES foobar);
        """,
    )
    result = p.fix()
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "depends on table public.foobar" in result.stdout, result.stdout + result.stderr
    p.converged_or_left(result, {"missing-table", "missing-foreign-key"}, "public.foobar")


def test_conversion_to_a_created_domain_its_check_rejects(pair: MakePair) -> None:
    """The created domain's own check is proven over the converted values: a value it rejects
    refuses the conversion at plan time, never on apply."""
    p = pair(
        "CREATE TABLE t (id int PRIMARY KEY, c int); INSERT INTO t VALUES (1, 5), (2, -5);",
        """
        CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
        CREATE TABLE t (id int PRIMARY KEY, c posint);
        """,
    )
    result = p.fix()
    assert "values check posint_check of public.posint rejects: 1 row (keys: 2)" in (
        result.stderr
    ), result.stdout + result.stderr
    assert result.exit_code == 5, result.stdout + result.stderr


def test_check_redefined_while_another_takes_its_old_meaning(pair: MakePair) -> None:
    """`k2` keeps its name before its meaning: the lock's `k1` holds k2's old definition and
    k2 a new one; one plan adds k1 and redefines k2 (pairing k1 with the live k2 by meaning
    left k1 to a second run)."""
    p = pair(
        """
        CREATE TABLE t (id int PRIMARY KEY, c text, CONSTRAINT k2 CHECK (c <> 'x'));
        INSERT INTO t VALUES (1, 'a');
        """,
        """
        CREATE TABLE t (id int PRIMARY KEY, c text, CONSTRAINT k1 CHECK (c <> 'x'),
                        CONSTRAINT k2 CHECK (c <> 'x' OR false));
        """,
    )
    result = p.fix()
    assert "add check k1" in result.stdout, result.stdout + result.stderr
    assert "redefine check k2" in result.stdout, result.stdout + result.stderr
    p.converged(result)


def test_foreign_key_of_a_new_domain_column_to_a_new_table_on_a_partitioned_table(
    pair: MakePair,
) -> None:
    """The column and its domain, the parent table: all created by the plan.  Its orphans are
    counted over the planned values (NULL, as the domain's base type), so a partitioned
    table's key (validated before PostgreSQL 18) is added in the same plan."""
    domain = "CREATE DOMAIN email AS text CHECK (VALUE LIKE '%@%');"
    p = pair(
        PARTITIONED + ROWS,
        domain
        + PARTITIONED.replace("ref int)", "ref int, mail email)")
        + "CREATE TABLE m (id int PRIMARY KEY, mail email UNIQUE);"
        + "ALTER TABLE p ADD CONSTRAINT p_mail FOREIGN KEY (mail) REFERENCES m (mail);",
    )
    result = p.fix()
    assert "foreign key p_mail" in result.stdout, result.stdout + result.stderr
    assert "uncounted" not in result.stdout, result.stdout
    p.converged(result)


def test_foreign_key_moved_to_another_unique_column_of_its_parent(pair: MakePair) -> None:
    """The key moves from the parent's `id` to its unique `code`: the values, written for
    `id`, are mapped to the same rows' `code` once the old key is dropped, then the new key
    is validated, in one run (the next run would map them otherwise)."""
    parent = "CREATE TABLE q (id text PRIMARY KEY, code text NOT NULL UNIQUE);"
    p = pair(
        parent
        + """
        CREATE TABLE c (id int PRIMARY KEY, ref text REFERENCES q (id));
        INSERT INTO q VALUES ('q1', 'one'), ('q2', 'two');
        INSERT INTO c VALUES (10, 'q1'), (11, 'q2'), (12, NULL);
        """,
        parent + "CREATE TABLE c (id int PRIMARY KEY, ref text REFERENCES q (code));",
    )
    result = p.fix()
    assert "map public.c.ref from public.q.id to code" in result.stdout, result.stdout
    p.converged(result, frozenset({("public", "c", "ref")}))
    assert query(p.url, "SELECT ref FROM c ORDER BY id") == [("one",), ("two",), (None,)]
