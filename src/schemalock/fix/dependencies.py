"""What the live database's views depend on, from `pg_depend`, read once when a plan needs it:
a view over a column being converted, a view or function being dropped and created again,
must be dropped first and created again after, in the order the dependencies require."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from schemalock import db
from schemalock.model.types import live_type

if TYPE_CHECKING:
    from schemalock.fix.proofs import Prover

RelationKey = tuple[str, str]
RoutineKey = tuple[str, str, tuple[str, ...]]

# Each view's rewrite rule depends on the relations, columns and functions its query reads.
_VIEW_DEPENDENCIES = """
SELECT vn.nspname, v.relname, d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass,
       rn.nspname, r.relname, a.attname,
       pn.nspname, p.proname,
       ARRAY(SELECT pg_catalog.format_type(t, NULL)
             FROM pg_catalog.unnest(p.proargtypes) AS t)
FROM pg_catalog.pg_depend AS d
JOIN pg_catalog.pg_rewrite AS w ON w.oid = d.objid
JOIN pg_catalog.pg_class AS v ON v.oid = w.ev_class
JOIN pg_catalog.pg_namespace AS vn ON vn.oid = v.relnamespace
LEFT JOIN pg_catalog.pg_class AS r
  ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND r.oid = d.refobjid
LEFT JOIN pg_catalog.pg_namespace AS rn ON rn.oid = r.relnamespace
LEFT JOIN pg_catalog.pg_attribute AS a
  ON a.attrelid = r.oid AND a.attnum = d.refobjsubid AND d.refobjsubid > 0
LEFT JOIN pg_catalog.pg_proc AS p
  ON d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND p.oid = d.refobjid
LEFT JOIN pg_catalog.pg_namespace AS pn ON pn.oid = p.pronamespace
WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
  AND d.deptype = 'n' AND v.relkind IN ('v', 'm') AND d.refobjid <> v.oid
  AND vn.nspname NOT IN ('pg_catalog', 'information_schema')
  AND (r.oid IS NOT NULL OR p.oid IS NOT NULL)
"""

# What else uses a function, besides views and triggers (planned around): defaults, checks,
# indexes, policies, other routines' SQL-standard bodies.  Dropping it would fail on them.
_OTHER_USERS = """
SELECT pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid)
FROM pg_catalog.pg_depend AS d
WHERE d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass
  AND d.refobjid = pg_catalog.to_regprocedure(%s)
  AND d.deptype = 'n'
  AND d.classid NOT IN ('pg_catalog.pg_rewrite'::pg_catalog.regclass,
                        'pg_catalog.pg_trigger'::pg_catalog.regclass)
ORDER BY 1
"""


# Triggers, policies and SQL-standard function bodies using a column (UPDATE OF, WHEN, USING,
# WITH CHECK, BEGIN ATOMIC): PostgreSQL refuses to change its type while they exist.
_COLUMN_USERS = """
SELECT CASE d.classid WHEN 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN 'trigger'
                      WHEN 'pg_catalog.pg_policy'::pg_catalog.regclass THEN 'policy'
                      ELSE 'function' END,
       coalesce(t.tgname, p.polname, f.oid::pg_catalog.regprocedure::pg_catalog.text)
FROM pg_catalog.pg_depend AS d
JOIN pg_catalog.pg_attribute AS a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
LEFT JOIN pg_catalog.pg_trigger AS t
  ON d.classid = 'pg_catalog.pg_trigger'::pg_catalog.regclass AND t.oid = d.objid
LEFT JOIN pg_catalog.pg_policy AS p
  ON d.classid = 'pg_catalog.pg_policy'::pg_catalog.regclass AND p.oid = d.objid
LEFT JOIN pg_catalog.pg_proc AS f
  ON d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND f.oid = d.objid
WHERE d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
  AND d.refobjid = pg_catalog.to_regclass(%s) AND a.attname = %s
  AND coalesce(t.tgname, p.polname, f.proname) IS NOT NULL
ORDER BY 1, 2
"""


@dataclass
class Dependencies:
    """Views by what they read: relations, their columns, functions."""

    relations: dict[RelationKey, set[RelationKey]] = field(default_factory=dict)
    columns: dict[tuple[str, str, str], set[RelationKey]] = field(default_factory=dict)
    routines: dict[tuple[str, str], dict[tuple[str, ...], set[RelationKey]]] = field(
        default_factory=dict
    )
    reads: dict[RelationKey, set[RelationKey]] = field(default_factory=dict)  # view -> relations

    def readers_of_column(self, schema: str, table: str, column: str) -> set[RelationKey]:
        return self.closure(self.columns.get((schema, table, column), set()))

    def readers_of_relation(self, key: RelationKey) -> set[RelationKey]:
        return self.closure(self.relations.get(key, set()))

    def readers_of_routine(self, key: RoutineKey) -> set[RelationKey]:
        schema, name, types = key
        return self.closure(self.routines.get((schema, name), {}).get(types, set()))

    def closure(self, views: set[RelationKey]) -> set[RelationKey]:
        """`views` and every view reading one of them, however indirectly."""
        found, pending = set(), list(views)
        while pending:
            view = pending.pop()
            if view not in found:
                found.add(view)
                pending.extend(self.relations.get(view, ()))
        return found


def read(prover: Prover) -> Dependencies:
    with db.read_only(prover.connection, prover.timeouts, "fix") as conn:
        rows = conn.execute(_VIEW_DEPENDENCIES).fetchall()
    return _graph(rows)


def _graph(rows: list[tuple[Any, ...]]) -> Dependencies:
    graph = Dependencies()
    for view_schema, view, on_relation, schema, relation, column, fschema, fname, ftypes in rows:
        reader = (view_schema, view)
        if on_relation:
            graph.relations.setdefault((schema, relation), set()).add(reader)
            graph.reads.setdefault(reader, set()).add((schema, relation))
            if column is not None:
                graph.columns.setdefault((schema, relation, column), set()).add(reader)
        else:
            types = tuple(live_type(t) for t in ftypes)
            by_types = graph.routines.setdefault((fschema, fname), {})
            by_types.setdefault(types, set()).add(reader)
    return graph


def column_users(prover: Prover, relation: str, column: str) -> list[tuple[str, str]]:
    """The triggers, policies and functions using a column of `relation` (qualified), as
    (kind, name)."""
    with db.read_only(prover.connection, prover.timeouts, "fix") as conn:
        rows = conn.execute(_COLUMN_USERS, [relation, column]).fetchall()
    return [(str(kind), str(name)) for kind, name in rows]


def other_users(prover: Prover, identity: str) -> list[str]:
    """What uses the function `identity` (`schema.name(types)`) other than views and
    triggers, as PostgreSQL describes each."""
    with db.read_only(prover.connection, prover.timeouts, "fix") as conn:
        rows = conn.execute(_OTHER_USERS, [identity]).fetchall()
    return [str(row[0]) for row in rows]


def failure(prover: Prover, query: str) -> str | None:
    """What PostgreSQL says of a query it cannot plan, asked with LIMIT 0 in a read-only
    transaction (no row is read); None when it can."""
    import psycopg

    with db.read_only(prover.connection, prover.timeouts, "fix") as conn:
        try:
            conn.execute(f"SELECT * FROM ({query}) AS q LIMIT 0")
        except psycopg.Error as error:
            return (error.diag.message_primary or str(error)).strip()
    return None


def output_columns(prover: Prover, query: str) -> list[tuple[object, ...]] | None:
    """The columns a query returns: name, type and modifiers, as psycopg describes them; asked
    with LIMIT 0 in a read-only transaction, so no row is read.  None when PostgreSQL cannot
    run it on the database as it is (it reads what the plan creates)."""
    import psycopg

    with db.read_only(prover.connection, prover.timeouts, "fix") as conn:
        try:
            cursor = conn.execute(f"SELECT * FROM ({query}) AS q LIMIT 0")
        except psycopg.Error:
            return None
        return [
            (c.name, c.type_code, c.display_size, c.precision, c.scale)
            for c in cursor.description or ()
        ]
