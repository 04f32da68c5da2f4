"""Live database -> normalized model, from pg_catalog in a constant number of bulk queries.

pg_catalog rather than information_schema: the latter hides objects the role has no privilege
on, which would make them look missing.  The queries live in `sql/*.sql`; every function is
schema-qualified and the transaction pins `search_path`, so a hostile schema cannot shadow them.

Another session's DDL may run meanwhile.  The catalog tables are read through the transaction's
snapshot, but the functions that print an object (pg_get_indexdef, pg_get_expr, format_type,
pg_get_partkeydef) read the latest catalog: for an object dropped since the snapshot they give
NULL (format_type `???`).  A table found dropped is left out, as a read a moment later would
find it; a table still there with a part gone raises `CatalogChanged`, and `read_database()`
reads again on a fresh snapshot.  No half-read table is ever compared.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import cache
from importlib import resources
from itertools import starmap
from typing import TYPE_CHECKING, Any, TypeVar

from schemalock import db
from schemalock.errors import Inconclusive
from schemalock.introspect import aspects, grants, objects, partitions, security, sequences
from schemalock.introspect.columns import column_row, shared
from schemalock.introspect.indexdef import index_elements as index_elements
from schemalock.introspect.indexdef import index_row
from schemalock.model import (
    CheckConstraint,
    Database,
    Enum,
    ForeignKey,
    PrimaryKey,
    Table,
    UniqueConstraint,
)
from schemalock.model.partitions import Partition
from schemalock.model.types import live_type

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

_FK_ACTIONS = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}
_FK_MATCH = {"s": "simple", "f": "full", "p": "partial"}
# What format_type() prints for a type that no longer exists.
VANISHED_TYPE = "???"
# Reads of a schema under churning DDL before the run is called inconclusive.
READ_ATTEMPTS = 3
# Positions in the rows of constraints.sql and indexes.sql that tell a vanished object.
_CONSTRAINT_NAME, _CONSTRAINT_KIND, _REF_OID, _CHECK_EXPRESSION = 1, 2, 6, 14
_INDEX_NAME, _INDEX_DEFINITION, _INDEX_PREDICATE, _INDEX_PARTIAL = 1, 2, 6, 8

T = TypeVar("T")


class CatalogChanged(Inconclusive):
    """A table changed while it was read: one of its parts was dropped or replaced by
    another session after the transaction's snapshot, and the table is still there."""


@cache
def _query(name: str) -> str:
    return resources.files(__package__).joinpath("sql", f"{name}.sql").read_text("utf-8")


def statement(name: str, **fragments: str) -> str | sql.Composed:
    """The catalog query `name` with its server-version fragments filled in."""
    from psycopg import sql

    text = _query(name)
    if not fragments:
        return text
    return sql.SQL(text).format(**{k: sql.SQL(v) for k, v in fragments.items()})


def _rows(
    connection: psycopg.Connection[Any], name: str, params: dict[str, Any], **fragments: str
) -> list[tuple[Any, ...]]:
    query = statement(name, **fragments)
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def user_schemas(connection: psycopg.Connection[Any]) -> list[str]:
    return [row[0] for row in _rows(connection, "schemas", {})]


def read_database(
    connection: psycopg.Connection[Any],
    timeouts: db.Timeouts,
    schemas: list[str],
    what: str = "introspection",
) -> Database:
    """`introspect()` in a read-only transaction of its own, read again if the schema changed
    under it (see `consistent_read`)."""
    return consistent_read(connection, timeouts, lambda conn: introspect(conn, schemas), what)


def read_everything(
    connection: psycopg.Connection[Any],
    timeouts: db.Timeouts,
    covered: tuple[str, ...],
    skip: Callable[[str], bool],
) -> Database:
    """`everything`, on one consistent snapshot."""
    return consistent_read(connection, timeouts, lambda conn: everything(conn, covered, skip))


def everything(
    connection: psycopg.Connection[Any], covered: tuple[str, ...], skip: Callable[[str], bool]
) -> Database:
    """The covered schemas' objects, as `read_database`, with `elsewhere` all the database
    holds in every other user schema but those `skip` says (the lock's ignored schemas), and
    `uncovered` what no kind of the model holds: coverage from the database, not only from
    the lock.  The same queries read both, so this costs one query more than the covered
    schemas alone."""
    present = user_schemas(connection)
    looked_at = [s for s in present if s in covered or not skip(s)]
    uncovered = tuple((k, n) for k, n in _rows(connection, "uncovered", {"schemas": looked_at}))
    found = replace(introspect(connection, looked_at), uncovered=uncovered)
    return found.covering(covered, skip)


def consistent_read(
    connection: psycopg.Connection[Any],
    timeouts: db.Timeouts,
    read: Callable[[psycopg.Connection[Any]], T],
    what: str = "introspection",
) -> T:
    """`read(connection)` inside `db.read_only()`; when another session's DDL changed a table
    while it was read, again on a fresh snapshot, up to READ_ATTEMPTS times: a schema that
    keeps changing makes the run inconclusive (exit 4), never a half-read table."""
    for attempt in range(1, READ_ATTEMPTS + 1):
        try:
            reading = db.read_only(connection, timeouts, what, catalog=True)
            with reading as conn, _catalog_races(what):
                return read(conn)
        except CatalogChanged as changed:
            if attempt == READ_ATTEMPTS:
                raise CatalogChanged(
                    what,
                    f"{READ_ATTEMPTS} reads in a row met another session's DDL; the last: "
                    f"{changed.reason}",
                ) from None
    raise AssertionError("unreachable: the last attempt returns or raises")


@contextmanager
def _catalog_races(what: str) -> Iterator[None]:
    """An internal error (XX000) of a catalog read is a catalog function meeting an object
    dropped half-way through its work: pg_get_partkeydef() finds the partition key, then no
    table (`could not open relation with OID ...`); pg_get_expr() finds the table, then no
    column (`cache lookup failed ...`).  The read is worth doing again."""
    import psycopg

    try:
        yield
    except psycopg.Error as error:
        if error.sqlstate != "XX000":
            raise
        message = error.diag.message_primary or "internal error"
        raise CatalogChanged(
            what,
            f"the schema changed while it was read ({message}); run again once that DDL is done",
        ) from None


def introspect(connection: psycopg.Connection[Any], schemas: list[str]) -> Database:
    """Read tables, enums, domains, views, routines and triggers of `schemas`; call inside
    `db.read_only()`.  Tables
    dropped meanwhile are left out; CatalogChanged if a table changed while it was read."""
    version = connection.info.server_version
    nnd = "i.indnullsnotdistinct" if version >= 150000 else "false"
    by_schema = {"schemas": schemas}
    table_rows = _rows(connection, "tables", by_schema)
    oids = [row[0] for row in table_rows]
    # The partitions' own indexes and constraints are read with the tables'.
    parts = {oid for row in table_rows for oid in partitions.oids(row[7])}
    column_rows = _rows(connection, "columns", {"oids": oids})
    all_constraints = _rows(
        connection, "constraints", {"oids": [*oids, *parts]}, nulls_not_distinct=nnd
    )
    names = _attribute_names(connection, column_rows, all_constraints)
    constraint_rows = [row for row in all_constraints if row[0] not in parts]
    columns, constraints = _group(column_rows), _group(constraint_rows)
    view_rows = _rows(connection, "views", by_schema)
    view_oids = {row[0] for row in view_rows}
    # One read of the indexes of the tables, the partitions and the materialized views.
    all_index_rows = _rows(
        connection, "indexes", {"oids": [*oids, *view_oids, *parts]}, nulls_not_distinct=nnd
    )
    index_rows = [row for row in all_index_rows if row[0] not in view_oids | parts]
    view_indexes = {
        oid: [index_row(*row) for row in rows]
        for oid, rows in _group([r for r in all_index_rows if r[0] in view_oids]).items()
    }
    dropped = _dropped_tables(connection, table_rows, column_rows, constraint_rows, index_rows)
    row_security, policies = security.row_security(_rows(connection, "policies", by_schema))
    granted, roles = grants.grants(
        _rows(connection, "grants", by_schema), grants.public_schema_default(version)
    )
    indexes, own = _group(index_rows), _own(all_constraints, all_index_rows, parts, names)
    tables = {}
    for oid, schema, name, _partitioned, partition_by, comment, inherits, found, opts in table_rows:
        if oid in dropped:
            continue
        key = (schema, name)
        tables[key] = _table(
            schema,
            name,
            partition_by,
            comment,
            columns[oid],
            constraints[oid],
            indexes[oid],
            names,
            options=aspects.options(opts),
            inherits=tuple((s, n) for s, n in inherits) if inherits else (),
            partitions=partitions.partitions_of(key, partition_by, found, own),
        )
    return Database(
        tables=tables,
        enums={
            (s, n): Enum(schema=s, name=n, labels=tuple(labels))
            for s, n, labels in _rows(connection, "enums", by_schema)
        },
        domains={
            (row[0], row[1]): objects.domain(*row)
            for row in _rows(connection, "domains", by_schema)
            if row[2] != VANISHED_TYPE  # dropped with its base type since the snapshot
        },
        schemas=tuple(schemas),
        user_casts=frozenset(
            live_type(row[0])
            for row in _rows(connection, "user_casts", {})
            if row[0] != VANISHED_TYPE
        ),
        views=objects.views(view_rows, view_indexes),
        routines=objects.routines(
            _rows(connection, "functions", by_schema, body=objects.body_fragment(version))
        ),
        triggers=objects.triggers(
            _rows(connection, "triggers", by_schema, cloned=objects.cloned_fragment(version))
        ),
        row_security=row_security,
        policies=policies,
        sequences=sequences.sequences(_rows(connection, "sequences", by_schema)),
        extensions=sequences.extensions(_rows(connection, "extensions", by_schema)),
        grants=granted,
        roles=roles,
    )


def _dropped_tables(
    connection: psycopg.Connection[Any],
    table_rows: list[tuple[Any, ...]],
    column_rows: list[tuple[Any, ...]],
    constraint_rows: list[tuple[Any, ...]],
    index_rows: list[tuple[Any, ...]],
) -> set[int]:
    """The tables with a part gone since the snapshot that are gone themselves, to be left
    out.  CatalogChanged for one that is still there, or that has a foreign key to a dropped
    one (the drop took the key with it)."""
    vanished = _vanished_parts(table_rows, column_rows, constraint_rows, index_rows)
    if not vanished:
        return set()
    dropped = {row[0] for row in _rows(connection, "dropped_tables", {"oids": sorted(vanished)})}
    for row in constraint_rows:
        oid, ref_oid = row[0], row[_REF_OID]
        if row[_CONSTRAINT_KIND] == "f" and ref_oid in dropped and oid not in dropped:
            vanished.setdefault(oid, f"foreign key {row[_CONSTRAINT_NAME]}")
    changed = [(oid, part) for oid, part in vanished.items() if oid not in dropped]
    if changed:
        oid, part = changed[0]
        schema, name = next((row[1], row[2]) for row in table_rows if row[0] == oid)
        raise CatalogChanged(
            "introspection",
            f"table {schema}.{name} changed while it was read (its {part} was dropped or "
            "replaced by another session); run again once that DDL is done",
        )
    return dropped


def _vanished_parts(
    table_rows: list[tuple[Any, ...]],
    column_rows: list[tuple[Any, ...]],
    constraint_rows: list[tuple[Any, ...]],
    index_rows: list[tuple[Any, ...]],
) -> dict[int, str]:
    """Table oid -> a part the catalog functions no longer print (dropped since the snapshot),
    for the tables that have one."""
    parts: dict[int, str] = {}
    for oid, _schema, _name, partitioned, partition_by, _comment, *_ in table_rows:
        if partitioned and partition_by is None:
            parts.setdefault(oid, "partition key")
    for row in column_rows:
        oid, name, type_, default, has_default = row[0], row[2], row[3], row[5], row[10]
        if type_ is None or type_ == VANISHED_TYPE:
            parts.setdefault(oid, f"column {name}'s type")
        elif has_default and default is None:
            parts.setdefault(oid, f"column {name}'s default")
    for row in constraint_rows:
        if row[_CONSTRAINT_KIND] == "c" and row[_CHECK_EXPRESSION] is None:
            parts.setdefault(row[0], f"check {row[_CONSTRAINT_NAME]}")
    for row in index_rows:
        gone = row[_INDEX_DEFINITION] is None
        if gone or (row[_INDEX_PARTIAL] and row[_INDEX_PREDICATE] is None):
            parts.setdefault(row[0], f"index {row[_INDEX_NAME]}")
    return parts


def _attribute_names(
    connection: psycopg.Connection[Any],
    column_rows: list[tuple[Any, ...]],
    constraint_rows: list[tuple[Any, ...]],
) -> dict[int, dict[int, str]]:
    """(table oid -> attnum -> name) for the covered tables, every table their keys reference
    (which may sit in a schema the lock does not cover) and every partition whose own
    constraints were read (its attnums may not be its parent's)."""
    names: dict[int, dict[int, str]] = defaultdict(dict)
    for row in column_rows:
        names[row[0]][row[1]] = row[2]
    referenced = {row[6] for row in constraint_rows if row[2] == "f"}
    outside = sorted((referenced | {row[0] for row in constraint_rows}) - names.keys())
    if outside:
        for oid, number, name in _rows(connection, "attribute_names", {"oids": outside}):
            names[oid][number] = name
    return names


def _own(
    constraint_rows: list[tuple[Any, ...]],
    index_rows: list[tuple[Any, ...]],
    partition_oids: set[int],
    names: dict[int, dict[int, str]],
) -> dict[int, Table]:
    """Each partition's own indexes and constraints, as a table holds them, by its oid; a
    partition that has none is left out."""
    rows = [row for row in constraint_rows if row[0] in partition_oids]
    indexes = [row for row in index_rows if row[0] in partition_oids]
    if vanished := _vanished_parts([], [], rows, indexes):
        raise CatalogChanged(
            "introspection",
            f"a partition's {next(iter(vanished.values()))} was dropped or replaced by another "
            "session while it was read; run again once that DDL is done",
        )
    by_constraint, by_index = _group(rows), _group(indexes)
    return {
        oid: _table("", "", None, None, [], by_constraint[oid], by_index[oid], names)
        for oid in by_constraint.keys() | by_index.keys()
    }


def _group(rows: list[tuple[Any, ...]]) -> defaultdict[int, list[tuple[Any, ...]]]:
    grouped: defaultdict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row)
    return grouped


def _table(
    schema: str,
    name: str,
    partition_by: str | None,
    comment: str | None,
    column_rows: list[tuple[Any, ...]],
    constraint_rows: list[tuple[Any, ...]],
    index_rows: list[tuple[Any, ...]],
    names: dict[int, dict[int, str]],
    options: tuple[tuple[str, str], ...] = (),
    inherits: tuple[tuple[str, str], ...] = (),
    partitions: tuple[Partition, ...] | None = None,
) -> Table:
    primary_key = None
    foreign_keys, uniques, checks, exclusions = [], [], [], []
    for (
        oid,
        con_name,
        kind,
        numbers,
        ref_schema,
        ref_table,
        ref_oid,
        ref_numbers,
        on_delete,
        on_update,
        match,
        deferrable,
        deferred,
        validated,
        expression,
        nulls_not_distinct,
        partition_schema,
        partition_table,
        no_inherit,
        definition,
    ) in constraint_rows:
        # Checks may use no column (CHECK (false) NO INHERIT) or a system column (tableoid);
        # an exclusion's expression elements are column 0.
        cols = tuple(names[oid][n] for n in numbers) if kind not in ("c", "x") else ()
        if kind == "p":
            primary_key = PrimaryKey(columns=cols, name=con_name)
        elif kind == "u":
            uniques.append(
                UniqueConstraint(
                    columns=cols, name=con_name, nulls_not_distinct=bool(nulls_not_distinct)
                )
            )
        elif kind == "f":
            foreign_keys.append(
                ForeignKey(
                    columns=cols,
                    ref_schema=shared(ref_schema),
                    ref_table=shared(ref_table),
                    ref_columns=tuple(names[ref_oid][number] for number in ref_numbers),
                    on_delete=_FK_ACTIONS[on_delete],
                    on_update=_FK_ACTIONS[on_update],
                    match=_FK_MATCH[match],
                    deferrable=deferrable,
                    initially_deferred=deferred,
                    validated=validated,
                    name=con_name,
                    ref_partition=(partition_schema, partition_table) if partition_table else None,
                )
            )
        elif kind == "x":
            exclusions.append(aspects.exclusion(con_name, definition, deferrable, deferred))
        else:
            check = CheckConstraint(shared(expression), con_name, validated, no_inherit=no_inherit)
            checks.append(check)
    return Table(
        schema=shared(schema),
        name=name,
        columns=tuple(starmap(column_row, column_rows)),
        primary_key=primary_key,
        foreign_keys=tuple(foreign_keys),
        uniques=tuple(uniques),
        checks=tuple(checks),
        indexes=tuple(starmap(index_row, index_rows)),
        partition_by=partition_by,
        partitions=partitions,
        inherits=inherits,
        options=options,
        exclusions=tuple(exclusions),
        comment=comment,
    )
