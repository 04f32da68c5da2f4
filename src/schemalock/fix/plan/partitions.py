"""Indexes and keys of partitioned tables, built online the way pg_dump restores them.

PostgreSQL builds no index CONCURRENTLY on a partitioned table, and a plain `CREATE INDEX` on
one holds a SHARE lock on every partition for the whole build.  So, as pg_dump does:

1. each leaf partition's index is built `CONCURRENTLY`, in autocommit;
2. in one transaction, catalog only: the parent's index `ON ONLY` the parent (for a primary key
   or unique constraint, `ALTER TABLE ONLY parent ADD CONSTRAINT`), which starts INVALID; a
   partition's index joins a constraint as the partition's own constraint (`ADD CONSTRAINT ...
   USING INDEX`); each is attached (`ALTER INDEX parent_index ATTACH PARTITION`).  A partition
   that is itself partitioned gets its index `ON ONLY` too, and its partitions' are attached to
   it.  The parent's index turns valid with the last attachment, at commit.

An INVALID partitioned index (such a build left half-way) is finished the same way: only the
partitions lacking an attached index get one.  When a partition's attached index is itself
invalid (attached indexes cannot be detached), the parent's index is dropped (not
concurrently: PostgreSQL cannot) and built again.

The tree is read from the database at planning time.  A sub-partitioned partition's own index
(`compare.partitions.own_pairs`) is built the same way, its tree starting at it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from alembic.operations import MigrateOperation

from schemalock import db
from schemalock.fix import operations as fo
from schemalock.fix.plan.core import Phase, Planner
from schemalock.fix.plan.sql import canonical_sql, short_name
from schemalock.model import Index, Table
from schemalock.model.names import qualified, quote


@dataclass(frozen=True)
class Key:
    """The constraint an index is built for: PRIMARY KEY or UNIQUE, over these columns."""

    kind: str
    columns: tuple[str, ...]


PRIMARY_KEY = "PRIMARY KEY"
UNIQUE = "UNIQUE"


@dataclass(frozen=True)
class Node:
    """A table of a partition tree (the partitioned table itself has no parent)."""

    schema: str
    name: str
    parent: tuple[str, str] | None
    kind: str  # relkind: r (a table), p (partitioned), f (a foreign table)
    key: tuple[str, ...] | None  # partitioned: its partition key's columns; None: an expression
    key_text: str | None  # the partition key as PostgreSQL prints it
    attached: tuple[str, bool] | None  # its index in the index's tree asked about, and validity
    taken: frozenset[str]  # relation names of its schema that a name made from its own may hit
    leftovers: frozenset[str]  # its own indexes that are INVALID and attached to nothing

    @property
    def table_key(self) -> tuple[str, str]:
        return (self.schema, self.name)


_TREE_SQL = """
WITH tree AS (
    SELECT relid, parentrelid, level
    FROM pg_catalog.pg_partition_tree(pg_catalog.to_regclass(%(table)s))
), attached AS (
    SELECT x.indrelid, i.relname::pg_catalog.text AS name, x.indisvalid
    FROM pg_catalog.pg_partition_tree(pg_catalog.to_regclass(%(index)s)) AS p
    JOIN pg_catalog.pg_index AS x ON x.indexrelid = p.relid
    JOIN pg_catalog.pg_class AS i ON i.oid = p.relid
)
SELECT n.nspname::pg_catalog.text, c.relname::pg_catalog.text,
       pn.nspname::pg_catalog.text, pc.relname::pg_catalog.text, c.relkind::pg_catalog.text,
       (SELECT CASE WHEN 0 = ANY (k.partattrs::pg_catalog.int2[]) THEN NULL ELSE
                 ARRAY(SELECT a.attname::pg_catalog.text
                       FROM pg_catalog.unnest(k.partattrs::pg_catalog.int2[]) AS u(num)
                       JOIN pg_catalog.pg_attribute AS a
                         ON a.attrelid = c.oid AND a.attnum = u.num) END
        FROM pg_catalog.pg_partitioned_table AS k WHERE k.partrelid = c.oid),
       pg_catalog.pg_get_partkeydef(c.oid),
       a.name, a.indisvalid,
       ARRAY(SELECT r.relname::pg_catalog.text FROM pg_catalog.pg_class AS r
             WHERE r.relnamespace = c.relnamespace
               AND pg_catalog.starts_with(r.relname::pg_catalog.text,
                                          pg_catalog.left(c.relname::pg_catalog.text, 50))),
       ARRAY(SELECT i.relname::pg_catalog.text
             FROM pg_catalog.pg_index AS x JOIN pg_catalog.pg_class AS i ON i.oid = x.indexrelid
             WHERE x.indrelid = c.oid AND NOT x.indisvalid
               AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits AS h
                               WHERE h.inhrelid = x.indexrelid))
FROM tree AS t
JOIN pg_catalog.pg_class AS c ON c.oid = t.relid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class AS pc ON pc.oid = t.parentrelid
LEFT JOIN pg_catalog.pg_namespace AS pn ON pn.oid = pc.relnamespace
LEFT JOIN attached AS a ON a.indrelid = t.relid
ORDER BY t.level, 1, 2
"""


def tree(planner: Planner, table: Table, index: str | None = None) -> list[Node]:
    """`table` and its partitions at every level, parents before their partitions, read-only
    as the prover reads; `index`: a partitioned index of `table`, whose attached indexes each
    node reports."""
    target = qualified(table.schema, table.name)
    named = qualified(table.schema, index) if index is not None else None
    prover = planner.prover
    with db.read_only(prover.connection, prover.timeouts, "fix") as conn:
        rows = conn.execute(_TREE_SQL, {"table": target, "index": named}).fetchall()
    # The tree of a partition (for an index of its own) starts at it: its parent is not in it.
    nodes = [_node(row) for row in rows]
    return [replace(n, parent=None) if n.table_key == table.key else n for n in nodes]


def _node(row: Any) -> Node:
    schema, name, parent_schema, parent, kind, key, key_text, index, valid, taken, left = row
    return Node(
        schema=str(schema),
        name=str(name),
        parent=None if parent is None else (str(parent_schema), str(parent)),
        kind=str(kind),
        key=None if key is None else tuple(str(column) for column in key),
        key_text=None if key_text is None else str(key_text),
        attached=None if index is None else (str(index), bool(valid)),
        taken=frozenset(str(n) for n in taken),
        leftovers=frozenset(str(n) for n in left),
    )


_RELATION_SQL = """
SELECT c.relkind::pg_catalog.text, pn.nspname::pg_catalog.text, pc.relname::pg_catalog.text
FROM pg_catalog.pg_class AS c
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_inherits AS h ON h.inhrelid = c.oid AND c.relispartition
LEFT JOIN pg_catalog.pg_class AS pc ON pc.oid = h.inhparent
LEFT JOIN pg_catalog.pg_namespace AS pn ON pn.oid = pc.relnamespace
WHERE n.nspname = %s AND c.relname = %s
"""
_KINDS = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "S": "sequence",
    "f": "foreign table",
    "i": "index",
    "I": "partitioned index",
    "c": "composite type",
    "t": "TOAST table",
}


# What holds each of several names, asked at once (`relations_ahead`).
_RELATIONS_SQL = """
SELECT q.position,
       c.relkind::pg_catalog.text, pn.nspname::pg_catalog.text, pc.relname::pg_catalog.text
FROM ROWS FROM (pg_catalog.unnest(%s::pg_catalog.name[]), pg_catalog.unnest(%s::pg_catalog.name[]))
     WITH ORDINALITY AS q (schema, name, position)
JOIN pg_catalog.pg_namespace AS n ON n.nspname = q.schema
JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relname = q.name
LEFT JOIN pg_catalog.pg_inherits AS h ON h.inhrelid = c.oid AND c.relispartition
LEFT JOIN pg_catalog.pg_class AS pc ON pc.oid = h.inhparent
LEFT JOIN pg_catalog.pg_namespace AS pn ON pn.oid = pc.relnamespace
"""
_KNOWN_RELATIONS = "relations"  # Planner.shared: what relations_ahead found, by name
Holder = tuple[str, str | None]  # a relation's kind, and the table it is a partition of


def relation(planner: Planner, schema: str, name: str) -> Holder | None:
    """What holds the name `schema.name` among relations (tables, partitions, views, indexes,
    sequences share one namespace): its kind, and the table it is a partition of, if it is
    one; None when the name is free.  A name `relations_ahead` asked is answered from that."""
    known: dict[tuple[str, str], Holder | None] = planner.shared.get(_KNOWN_RELATIONS, {})
    if (schema, name) in known:
        return known[(schema, name)]
    prover = planner.prover
    with db.read_only(prover.connection, prover.timeouts, "fix") as conn:
        row = conn.execute(_RELATION_SQL, [schema, name]).fetchone()
    return None if row is None else _holder(*row)


def relations_ahead(planner: Planner, names: list[tuple[str, str]]) -> None:
    """Ask what holds each of `names` in one read, for `relation` to answer from: a plan of
    many new indexes asks about each index's name, and one read each cost a millisecond or
    two (four round trips), 0.1 s for 70 indexes."""
    if not names:
        return
    prover = planner.prover
    schemas, relnames = [schema for schema, _ in names], [name for _, name in names]
    with db.read_only(prover.connection, prover.timeouts, "fix") as conn:
        rows = conn.execute(_RELATIONS_SQL, [schemas, relnames]).fetchall()
    known: dict[tuple[str, str], Holder | None] = dict.fromkeys(names)
    known.update({names[_position(row[0])]: _holder(*row[1:]) for row in rows})
    planner.shared.setdefault(_KNOWN_RELATIONS, {}).update(known)


def _position(ordinality: object) -> int:
    assert isinstance(ordinality, int)
    return ordinality - 1


def _holder(kind: object, parent_schema: object, parent: object) -> Holder:
    of = None if parent is None else qualified(str(parent_schema), str(parent))
    return _KINDS.get(str(kind), "relation"), of


def index_sql(
    table: Table,
    index: Index,
    *,
    only: bool = False,
    concurrently: bool = False,
    from_lock: bool = True,
) -> str:
    """CREATE INDEX for `index` on `table`; `from_lock` False: its SQL is the catalog's own,
    spliced as PostgreSQL printed it (an index of the database finished as it was)."""

    def sql(text: str, kind: str = "expr") -> str:
        return canonical_sql(text, kind) if from_lock else text

    text = "CREATE UNIQUE INDEX" if index.unique else "CREATE INDEX"
    if concurrently:  # a revision run again skips what it built before
        text += " CONCURRENTLY IF NOT EXISTS"
    only_ = "ONLY " if only else ""
    text += f" {quote(index.name)} ON {only_}{qualified(table.schema, table.name)}"
    keys = ", ".join(sql(key, "index_elem") for key in index.keys)
    text += f" USING {quote(index.method)} ({keys})"
    if index.include:
        text += f" INCLUDE ({', '.join(quote(column) for column in index.include)})"
    if index.nulls_not_distinct:
        text += " NULLS NOT DISTINCT"
    if index.where:
        text += f" WHERE {sql(index.where)}"
    return text


def build(
    planner: Planner,
    table: Table,
    index: Index,
    phase: Phase,
    constraint: Key | None = None,
) -> bool:
    """Plan `index` (its name chosen) on partitioned `table` online; with `constraint`, as the
    index of that constraint (of the same name).  False when the tree holds a foreign table
    (which takes no index): nothing is planned then."""
    nodes = tree(planner, table)
    if any(node.kind == "f" for node in nodes):
        if constraint is not None:
            foreign = next(n for n in nodes if n.kind == "f")
            planner.plan.refusals.append(
                f"{constraint.kind.lower()} {index.name} on {qualified(*table.key)}: partition "
                f"{qualified(foreign.schema, foreign.name)} is a foreign table, which takes no "
                "index: PostgreSQL cannot enforce the key over it"
            )
        return False
    if constraint is not None and not _holds_partition_keys(planner, index, constraint, nodes):
        return True
    fresh = [replace(node, attached=None) for node in nodes]
    _plan(planner, table, index, phase, constraint, fresh, create=True)
    return True


def finish(planner: Planner, table: Table, index: Index) -> None:
    """An INVALID index of partitioned `table`: each partition lacking an attached index gets
    one, and the parent's turns valid; dropped and built again where that cannot be done."""
    nodes = tree(planner, table, index.name)
    stuck = [n for n in nodes if n.kind != "p" and n.attached is not None and not n.attached[1]]
    missing = [n for n in nodes if n.parent is not None and n.attached is None]
    if stuck or not missing or any(node.kind == "f" for node in nodes):
        _rebuild(planner, table, index, nodes)
        return
    _plan(planner, table, index, Phase.CONSTRAINTS, None, nodes, create=False)


def _rebuild(planner: Planner, table: Table, index: Index, nodes: list[Node]) -> None:
    """Drop the parent's index (with every index attached to it) and build it again.  Not
    CONCURRENTLY: PostgreSQL cannot drop a partitioned index so; the drop is catalog work."""
    target = qualified(table.schema, table.name)
    drop = fo.Sql(f"DROP INDEX IF EXISTS {qualified(table.schema, index.name)}")
    planner.add(
        Phase.STRUCTURE,
        f"drop invalid partitioned index {index.name} on {table.name}, to build it again",
        drop,
        hazards=[f"brief ACCESS EXCLUSIVE lock on {target} and each of its partitions (drop)"],
    )
    if any(node.kind == "f" for node in nodes):  # PostgreSQL's own build skips those
        planner.add(
            Phase.STRUCTURE,
            f"index {index.name} on partitioned {table.name}",
            fo.Sql(index_sql(table, index, from_lock=False)),
            hazards=[f"SHARE lock on every partition of {target} for the build"],
            long=True,
        )
        return
    # The indexes attached to it go with it: their names are free again.
    gone = {node.attached[0] for node in nodes if node.attached is not None}
    fresh = [replace(node, attached=None, taken=node.taken - gone) for node in nodes]
    _plan(planner, table, index, Phase.CONSTRAINTS, None, fresh, create=True, from_lock=False)


def _holds_partition_keys(planner: Planner, index: Index, key: Key, nodes: list[Node]) -> bool:
    """PostgreSQL's rule: a unique key of a partitioned table holds every column of its
    partition key, at every level; a key that does not is refused."""
    for node in nodes:
        if node.kind == "p" and (node.key is None or not set(node.key) <= set(key.columns)):
            planner.plan.refusals.append(
                f"{key.kind.lower()} {index.name} ({', '.join(map(quote, key.columns))}) on "
                f"{qualified(node.schema, node.name)}: it is partitioned {node.key_text}, and "
                "PostgreSQL requires a unique key of a partitioned table to hold every column "
                "of its partition key"
            )
            return False
    return True


@dataclass
class _Steps:
    builds: list[MigrateOperation]  # autocommit: leaves' indexes, CONCURRENTLY
    catalog: list[MigrateOperation]  # one transaction: parents' indexes, constraints, attaching
    partitions: list[str]
    from_lock: bool  # keys and predicate: the lock's (canonical) or the catalog's own text


def _plan(
    planner: Planner,
    table: Table,
    index: Index,
    phase: Phase,
    constraint: Key | None,
    nodes: list[Node],
    create: bool,
    from_lock: bool = True,
) -> None:
    steps = _Steps([], [], [], from_lock)
    if create:
        steps.catalog.append(_parent_index(table, index, constraint, from_lock, top=True))
    names: dict[tuple[str, str], str | None] = {table.key: index.name}
    for node in nodes:  # parents before their partitions
        if node.parent is None:
            continue
        above = names.get(node.parent)
        if above is None:  # its parent's index is complete, so is its own
            names[node.table_key] = None
        elif node.attached is not None:  # valid: complete; else its partitions are finished
            name, valid = node.attached
            names[node.table_key] = None if valid else name
        else:
            parent_index = (node.parent[0], above)
            names[node.table_key] = _partition_index(
                planner, steps, node, index, constraint, parent_index
            )
    _add(planner, table, index, phase, constraint, steps, create)


def _partition_index(
    planner: Planner,
    steps: _Steps,
    node: Node,
    index: Index,
    constraint: Key | None,
    parent_index: tuple[str, str],
) -> str:
    """The statements giving partition `node` its index, attached to `parent_index`."""
    name = _partition_index_name(planner, node, parent_index)
    own = replace(index, name=name)
    target = Table(node.schema, node.name)
    where = qualified(node.schema, node.name)
    if node.kind == "p":
        steps.catalog.append(_parent_index(target, own, constraint, steps.from_lock, top=False))
    else:
        if name in node.leftovers:  # a concurrent build that failed before: built again
            steps.builds.append(
                fo.Sql(f"DROP INDEX CONCURRENTLY IF EXISTS {qualified(node.schema, name)}")
            )
        build = index_sql(target, own, concurrently=True, from_lock=steps.from_lock)
        steps.builds.append(fo.Sql(build))
        steps.partitions.append(where)
        if constraint is not None:
            steps.catalog.append(
                fo.Sql(
                    f"ALTER TABLE ONLY {where} ADD CONSTRAINT {quote(name)} {constraint.kind} "
                    f"USING INDEX {quote(name)}"
                )
            )
    steps.catalog.append(
        fo.Sql(
            f"ALTER INDEX {qualified(*parent_index)} "
            f"ATTACH PARTITION {qualified(node.schema, name)}"
        )
    )
    return name


def _partition_index_name(planner: Planner, node: Node, parent_index: tuple[str, str]) -> str:
    """The parent's index name with the parent's table name replaced by the partition's (as
    PostgreSQL names them: events_kind_idx, events_2025_kind_idx), or a free variant of it;
    the name of an invalid index a failed build left on this partition is taken again."""
    assert node.parent is not None
    parent_table, parent_name = node.parent[1], parent_index[1]
    suffix = parent_name.removeprefix(f"{parent_table}_")
    name = short_name(f"{node.name}_{suffix}")
    if name in node.leftovers:
        return name
    known = tuple(Index(name=taken, keys=()) for taken in node.taken)
    return planner.free_index_name(Table(node.schema, node.name, indexes=known), name)


def _parent_index(
    table: Table, index: Index, constraint: Key | None, from_lock: bool, top: bool
) -> MigrateOperation:
    """The index (or constraint) of a partitioned table, catalog only: INVALID until every
    partition's index is attached.  Only the top one's is undone: dropping it drops every
    index and constraint attached below it (which PostgreSQL refuses to drop on their own)."""
    target = qualified(table.schema, table.name)
    if constraint is None:
        drop = f"DROP INDEX IF EXISTS {qualified(table.schema, index.name)}"
        return fo.Sql(
            index_sql(table, index, only=True, from_lock=from_lock), drop if top else None
        )
    nulls = " NULLS NOT DISTINCT" if index.nulls_not_distinct else ""
    drop = f"ALTER TABLE {target} DROP CONSTRAINT IF EXISTS {quote(index.name)}"
    return fo.Sql(
        f"ALTER TABLE ONLY {target} ADD CONSTRAINT {quote(index.name)} {constraint.kind}{nulls} "
        f"({', '.join(quote(column) for column in constraint.columns)})",
        drop if top else None,
    )


def _add(
    planner: Planner,
    table: Table,
    index: Index,
    phase: Phase,
    constraint: Key | None,
    steps: _Steps,
    create: bool,
) -> None:
    target = qualified(table.schema, table.name)
    what = f"{constraint.kind.lower()} {index.name}" if constraint else f"index {index.name}"
    if steps.builds:
        count = len(steps.partitions)
        planner.add(
            Phase.CONCURRENT,
            f"{what}: each partition's index of {table.name}, concurrently",
            fo.AutocommitBlock(steps.builds),
            hazards=[
                f"index build on {count} partition{'s' if count > 1 else ''} of {target} "
                "(concurrent)"
            ],
            long=True,
        )
    if constraint is not None:
        locked = f"brief ACCESS EXCLUSIVE lock on {target} and its partitions (catalog only)"
    elif create:
        locked = f"brief SHARE lock on {target} (catalog only)"
    else:
        locked = f"brief SHARE UPDATE EXCLUSIVE lock on {qualified(table.schema, index.name)}"
    verb = "finish" if not create else "add"
    planner.add(
        phase,
        f"{verb} {what} on partitioned {table.name}: partitions' indexes attached",
        *steps.catalog,
        hazards=[locked],
    )
