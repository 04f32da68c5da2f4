"""Planning for partitions and inheritance: a missing partition is created; a detached one, an
extra one, one with another bound or parent, and another inheritance are left for a person,
with the statements.

A partition is created `CREATE TABLE ... PARTITION OF parent FOR VALUES ...` (its columns,
keys and indexes are its parent's), in the structure phase.  PostgreSQL refuses that while the
parent's DEFAULT partition holds rows the new bound covers (they would belong to the new
partition), so those rows are counted first and the step refused with them: moving rows
between partitions is for a person.  The downgrade drops the partition only while it is empty.
"""

from __future__ import annotations

from typing import Any

from alembic.operations import ops
from pglast import parse_sql
from pglast.stream import RawStream

from schemalock.compare import differences as d
from schemalock.compare.partitions import own_table
from schemalock.fix import operations as fo
from schemalock.fix.partition_ops import create_partition
from schemalock.fix.plan import partitions as trees
from schemalock.fix.plan.aspects import exclusion_sql
from schemalock.fix.plan.core import Phase, Planner
from schemalock.fix.plan.sql import canonical_sql, check_op, fk_op, index_op, unique_op
from schemalock.model import Table
from schemalock.model.names import qualified, quote
from schemalock.model.partitions import Partition, walk

Key = tuple[str, str]


def missing_partition(planner: Planner, missing: d.MissingPartition) -> None:
    partition, parent = missing.partition, missing.parent
    where = qualified(*partition.key)
    bound = canonical_sql(partition.bound, "bound")
    if missing.detached:
        planner.note(
            f"{where} is a table of its own, and the lock has it as a partition of "
            f"{qualified(*parent)}: attaching it checks every row against its bound (rows "
            "outside it make the attach fail) and adds its rows to every query of the parent; "
            f"if that is meant, run `ALTER TABLE {qualified(*parent)} ATTACH PARTITION {where} "
            f"{bound}` and fix again"
        )
        return
    found = trees.relation(planner, *partition.key)
    if found is not None:
        kind, of = found
        holder = f"a partition of {of}" if of else f"a {kind}"
        planner.note(f"{where}: the name is taken by {holder}, so the partition cannot be made")
        return
    default = _default_partition(planner.live, missing.lock.key, missing.live.key, parent)
    if default is not None and not _default_allows(planner, missing, default, bound):
        return
    planner.create_schema(partition.schema)
    planner.add(
        Phase.PARTITIONS,
        f"create partition {where} of {qualified(*parent)}",
        _create(partition, parent),
        hazards=[
            f"brief ACCESS EXCLUSIVE lock on {qualified(*parent)}"
            + (f" while its DEFAULT partition {qualified(*default)} is scanned" if default else "")
        ],
    )
    _own_objects(planner, missing.lock, partition, Phase.PARTITIONS)


def _create(partition: Partition, parent: Key) -> Any:
    bound = canonical_sql(partition.bound, "bound")
    key = canonical_sql(partition.partition_by, "partition") if partition.partition_by else None
    return create_partition(partition.key, parent, bound, key)


def create_all(planner: Planner, table: Table) -> None:
    """The partitions the lock lists for a table the plan creates, parents first."""
    for parent, partition in walk(table.partitions, table.key):
        planner.create_schema(partition.schema)
        title = f"create partition {qualified(*partition.key)} of {qualified(*parent)}"
        planner.add(Phase.STRUCTURE, title, _create(partition, parent))
        _own_objects(planner, table, partition, Phase.STRUCTURE)


def _own_objects(planner: Planner, table: Table, partition: Partition, phase: Phase) -> None:
    """What the lock gives a partition the plan creates of its own, right after it (its
    foreign keys with the others'): on no rows, each costs nothing added validated.  Dropped
    with the partition, nothing to undo of their own."""
    own = own_table(table, partition)
    where = qualified(*partition.key)
    operations: list[Any] = []
    if own.primary_key is not None:
        name = own.primary_key.name or f"{partition.name}_pkey"
        columns = list(own.primary_key.columns)
        operations.append(
            ops.CreatePrimaryKeyOp(name, partition.name, columns, schema=partition.schema)
        )
    operations += [unique_op(own, unique) for unique in own.uniques]
    operations += [check_op(own, check, False) for check in own.checks]
    operations += [index_op(own, index, False) for index in own.indexes]
    operations += [
        fo.Sql(f"ALTER TABLE {where} ADD CONSTRAINT {quote(x.name)} {exclusion_sql(x)}")
        for x in own.exclusions
        if x.name
    ]
    if operations:
        planner.add(phase, f"keys, checks and indexes of the new partition {where}", *operations)
    for fk in own.foreign_keys:
        title = f"foreign key of the new partition {where}"
        planner.add(Phase.FOREIGN_KEYS, title, fk_op(own, fk, False))


def _default_partition(live: Any, lock_key: Key, live_key: Key, parent: Key) -> Key | None:
    """The DEFAULT partition the database's `parent` has, if any."""
    table = live.tables.get(live_key)
    if table is None:
        return None
    within = live_key if parent == lock_key else parent
    for above, partition in walk(table.partitions, table.key):
        if above == within and partition.bound.strip().upper() == "DEFAULT":
            return partition.key
    return None


def _default_allows(
    planner: Planner, missing: d.MissingPartition, default: Key, bound: str
) -> bool:
    """Whether the parent's DEFAULT partition holds no row of the new bound; refused (or, if
    the bound cannot be read as a condition, noted) when it may."""
    where = qualified(*missing.partition.key)
    key = _parent_key(missing)
    condition = bound_condition(key, bound) if key else None
    if condition is None:
        planner.note(
            f"{where}: could not tell whether the DEFAULT partition {qualified(*default)} holds "
            f"rows of {bound}; creating it fails if it does (move them out first)"
        )
        return True
    blocker = planner.prover.default_rows_in(missing.live, default, condition)
    if not blocker:
        return True
    planner.refuse(
        f"create partition {where} ({bound})",
        blocker,
        f"the DEFAULT partition {qualified(*default)} holds rows of its range, which PostgreSQL "
        "would have to move into it: move them out of the DEFAULT partition first (or create "
        "the partition by hand, detaching the DEFAULT partition meanwhile)",
    )
    return False


def _parent_key(missing: d.MissingPartition) -> str | None:
    """The partition key of the partition's parent, as the lock says it."""
    if missing.parent == missing.lock.key:
        return missing.lock.partition_by
    for _, partition in walk(missing.lock.partitions, missing.lock.key):
        if partition.key == missing.parent:
            return partition.partition_by
    return None


def bound_condition(partition_by: str, bound: str) -> str | None:
    """SQL true for a row (of a relation aliased `c`, or none) that `bound` covers under the
    key `partition_by`; None for what this does not read (a hash bound, DEFAULT)."""
    try:
        table: Any = parse_sql(f"CREATE TABLE t () PARTITION BY {partition_by}")[0].stmt
        partition: Any = parse_sql(f"CREATE TABLE t PARTITION OF p {bound}")[0].stmt
        spec, spec_bound = table.partspec, partition.partbound
    except Exception:  # pglast's ParseError: the lock's linting says why
        return None
    keys = [quote(p.name) if p.name else f"({RawStream()(p.expr)})" for p in spec.partParams or ()]
    if spec_bound.is_default or not keys:
        return None
    if spec_bound.strategy == "l" and len(keys) == 1:
        return _in_list(keys[0], [RawStream()(v) for v in spec_bound.listdatums or ()])
    if spec_bound.strategy == "r":
        lower = [RawStream()(v) for v in spec_bound.lowerdatums or ()]
        upper = [RawStream()(v) for v in spec_bound.upperdatums or ()]
        # A row with a NULL in its key belongs to no range (only to a DEFAULT partition).
        sides = [f"{key} IS NOT NULL" for key in keys]
        sides += [_side(keys, lower, lower=True) or "", _side(keys, upper, lower=False) or ""]
        return " AND ".join(side for side in sides if side)
    return None


def _in_list(key: str, values: list[str]) -> str:
    plain = [v for v in values if v.upper() != "NULL"]
    tests = [f"{key} IN ({', '.join(plain)})"] if plain else []
    if len(plain) < len(values):
        tests.append(f"{key} IS NULL")
    return "(" + " OR ".join(tests) + ")" if tests else "false"


def _side(keys: list[str], values: list[str], lower: bool) -> str | None:
    """One end of a range (`lower`: FROM, else TO): the key's columns compared with the
    bound's values as one row.  MINVALUE or MAXVALUE at a position frees the columns from
    there on, so only those before it are compared: inclusively where the end is open that
    way (MINVALUE in FROM, MAXVALUE in TO), strictly where it closes (MAXVALUE in FROM: past
    every value of that prefix); at the first position, no condition or no row."""
    for position, value in enumerate(values):
        word = value.upper()
        if word not in ("MINVALUE", "MAXVALUE"):
            continue
        unbounded = (word == "MINVALUE") == lower
        if position == 0:
            return None if unbounded else "false"
        operator = (">=" if unbounded else ">") if lower else ("<=" if unbounded else "<")
        return _compare(keys[:position], values[:position], operator)
    return _compare(keys, values, ">=" if lower else "<")


def _compare(keys: list[str], values: list[str], operator: str) -> str:
    if len(keys) == 1:
        return f"{keys[0]} {operator} {values[0]}"
    return f"ROW({', '.join(keys)}) {operator} ROW({', '.join(values)})"


def extra_partition(planner: Planner, extra: d.ExtraPartition) -> None:
    planner.note(
        f"{qualified(*extra.partition.key)}: a partition of {qualified(*extra.parent)} the lock "
        "does not list: left alone (detaching or dropping it would take its rows out of the "
        "table); add it to the lock"
    )


def partition_changed(planner: Planner, changed: d.PartitionChanged) -> None:
    want = changed.lock_partition
    where, parent = qualified(*want.key), qualified(*changed.lock_parent)
    bound = canonical_sql(want.bound, "bound")
    if changed.aspects == {"partitioning"}:
        planner.note(
            f"{where}: partitioned {changed.live_partition.partition_by or 'not at all'}; the "
            f"lock says {want.partition_by or 'not partitioned'}: a partition's partitioning "
            "cannot change in place (it is recreated and its rows moved): left for a person"
        )
        return
    planner.note(
        f"{where}: {', '.join(sorted(changed.aspects))} differ from the lock "
        f"({changed.live_partition.bound} in {qualified(*changed.live_parent)}; the lock says "
        f"{want.bound} in {parent}): moving it moves rows, left for a person: "
        f"`ALTER TABLE {qualified(*changed.live_parent)} DETACH PARTITION {where}; "
        f"ALTER TABLE {parent} ATTACH PARTITION {where} {bound}` (the attach fails on rows "
        "outside the new bound, and scans them under lock)"
    )


def inheritance_changed(planner: Planner, changed: d.InheritanceChanged) -> None:
    table = qualified(*changed.live.key)
    want, have = changed.lock.inherits, changed.live.inherits
    steps = [f"ALTER TABLE {table} NO INHERIT {qualified(*p)}" for p in have if p not in want]
    steps += [f"ALTER TABLE {table} INHERIT {qualified(*p)}" for p in want if p not in have]
    if not steps:  # the same parents in another order: only recreating the table reorders them
        steps = ["recreate the table (the order of parents cannot be changed in place)"]
    planner.note(
        f"{table}: inherits from {', '.join(qualified(*p) for p in have) or 'no table'}; the "
        f"lock says {', '.join(qualified(*p) for p in want) or 'none'}. Left for a person: "
        "it changes which rows every query of the parent returns: "
        + "; ".join(f"`{step}`" if step.startswith("ALTER") else step for step in steps)
    )


NOTES_ONLY: frozenset[Any] = frozenset({extra_partition, partition_changed, inheritance_changed})

HANDLERS: dict[type[Any], Any] = {
    d.MissingPartition: missing_partition,
    d.ExtraPartition: extra_partition,
    d.PartitionChanged: partition_changed,
    d.InheritanceChanged: inheritance_changed,
}
