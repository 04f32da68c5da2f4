"""Live database -> normalized model, from pg_catalog in a constant number of bulk queries.

pg_catalog rather than information_schema: the latter hides objects the role has no privilege
on, which would make them look missing.  The queries live in `sql/*.sql`; every function is
schema-qualified and the transaction pins `search_path`, so a hostile schema cannot shadow them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from schemalock.model import (
    OWNED_SEQUENCE,
    CheckConstraint,
    Column,
    Database,
    Domain,
    Enum,
    ForeignKey,
    Index,
    PrimaryKey,
    Table,
    UniqueConstraint,
)
from schemalock.types import live_type

if TYPE_CHECKING:
    import psycopg

_FK_ACTIONS = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}
_FK_MATCH = {"s": "simple", "f": "full", "p": "partial"}
_IDENTITY = {"a": "always", "d": "by default"}
_GENERATED = {"s": "stored", "v": "virtual"}


@cache
def _query(name: str) -> str:
    return resources.files(__package__).joinpath("sql", f"{name}.sql").read_text("utf-8")


def _rows(
    connection: psycopg.Connection[Any], name: str, params: dict[str, Any], **fragments: str
) -> list[tuple[Any, ...]]:
    from psycopg import sql

    text = _query(name)
    query = (
        sql.SQL(text).format(**{k: sql.SQL(v) for k, v in fragments.items()}) if fragments else text
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def user_schemas(connection: psycopg.Connection[Any]) -> list[str]:
    return [row[0] for row in _rows(connection, "schemas", {})]


def introspect(connection: psycopg.Connection[Any], schemas: list[str]) -> Database:
    """Read tables, enums and domains of `schemas`; call inside `db.read_only()`."""
    nnd = "i.indnullsnotdistinct" if connection.info.server_version >= 150000 else "false"
    by_schema = {"schemas": schemas}
    table_rows = _rows(connection, "tables", by_schema)
    oids = [row[0] for row in table_rows]
    by_oid = {"oids": oids}
    column_rows = _rows(connection, "columns", by_oid)
    constraint_rows = _rows(connection, "constraints", by_oid, nulls_not_distinct=nnd)
    names = _attribute_names(connection, column_rows, constraint_rows)
    columns, constraints = _group(column_rows), _group(constraint_rows)
    indexes = _group(_rows(connection, "indexes", by_oid, nulls_not_distinct=nnd))
    tables = {}
    for oid, schema, name, partition_by, comment in table_rows:
        table = _table(
            schema,
            name,
            partition_by,
            comment,
            columns[oid],
            constraints[oid],
            indexes[oid],
            names,
        )
        tables[table.key] = table
    return Database(
        tables=tables,
        enums={
            (s, n): Enum(schema=s, name=n, labels=tuple(labels))
            for s, n, labels in _rows(connection, "enums", by_schema)
        },
        domains={
            (row[0], row[1]): _domain(*row) for row in _rows(connection, "domains", by_schema)
        },
        schemas=tuple(schemas),
        user_casts=frozenset(live_type(row[0]) for row in _rows(connection, "user_casts", {})),
    )


def _attribute_names(
    connection: psycopg.Connection[Any],
    column_rows: list[tuple[Any, ...]],
    constraint_rows: list[tuple[Any, ...]],
) -> dict[int, dict[int, str]]:
    """(table oid -> attnum -> name) for the covered tables and every table their keys
    reference, which may sit in a schema the lock does not cover."""
    names: dict[int, dict[int, str]] = defaultdict(dict)
    for row in column_rows:
        names[row[0]][row[1]] = row[2]
    outside = sorted({row[6] for row in constraint_rows if row[2] == "f"} - names.keys())
    if outside:
        for oid, number, name in _rows(connection, "attribute_names", {"oids": outside}):
            names[oid][number] = name
    return names


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
) -> Table:
    primary_key = None
    foreign_keys, uniques, checks = [], [], []
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
    ) in constraint_rows:
        # Checks may use no column (CHECK (false) NO INHERIT) or a system column (tableoid).
        cols = tuple(names[oid][n] for n in numbers) if kind != "c" else ()
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
                    ref_schema=ref_schema,
                    ref_table=ref_table,
                    ref_columns=tuple(names[ref_oid][number] for number in ref_numbers),
                    on_delete=_FK_ACTIONS[on_delete],
                    on_update=_FK_ACTIONS[on_update],
                    match=_FK_MATCH[match],
                    deferrable=deferrable,
                    initially_deferred=deferred,
                    validated=validated,
                    name=con_name,
                )
            )
        else:
            checks.append(CheckConstraint(expression=expression, name=con_name))
    return Table(
        schema=schema,
        name=name,
        columns=tuple(_column(*row) for row in column_rows),
        primary_key=primary_key,
        foreign_keys=tuple(foreign_keys),
        uniques=tuple(uniques),
        checks=tuple(checks),
        indexes=tuple(_index(*row) for row in index_rows),
        partition_by=partition_by,
        comment=comment,
    )


def _column(
    _oid: int,
    _number: int,
    name: str,
    type_: str,
    not_null: bool,
    default: str | None,
    identity: str,
    generated: str,
    comment: str | None,
    owned_sequence: bool,
) -> Column:
    is_generated = generated in _GENERATED
    if owned_sequence and default is not None and default.startswith("nextval("):
        default = OWNED_SEQUENCE
    return Column(
        name=name,
        type=live_type(type_),
        nullable=not not_null,
        default=None if is_generated else default,
        identity=_IDENTITY.get(identity),
        generated=default if is_generated else None,
        generated_storage=_GENERATED.get(generated),
        comment=comment,
    )


def _index(
    _oid: int,
    name: str,
    definition: str,
    unique: bool,
    valid: bool,
    method: str,
    predicate: str | None,
    nulls_not_distinct: bool,
) -> Index:
    keys, include = index_elements(definition)
    return Index(
        name=name,
        keys=tuple(keys),
        unique=unique,
        method=method,
        where=predicate,
        include=tuple(include),
        nulls_not_distinct=bool(nulls_not_distinct),
        valid=valid,
    )


def _domain(
    schema: str,
    name: str,
    type_: str,
    not_null: bool,
    default: str | None,
    check_names: list[str],
    check_exprs: list[str],
) -> Domain:
    return Domain(
        schema=schema,
        name=name,
        type=live_type(type_),
        nullable=not not_null,
        default=default,
        checks=tuple(
            CheckConstraint(expression=e, name=n)
            for n, e in zip(check_names, check_exprs, strict=True)
        ),
    )


# The characters that matter when splitting pg_get_indexdef() output, quoted names and string
# literals taken whole, so a scan never steps through the text one character at a time.
_INDEXDEF_TOKEN = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'|[(),]')


def index_elements(definition: str) -> tuple[list[str], list[str]]:
    """Key elements and INCLUDE columns from pg_get_indexdef() output.

    The first parenthesis outside quotes opens the key list (index and table names that contain
    one are quoted), so the scan needs no SQL parser.
    """
    keys, end = _parenthesized_list(definition, 0)
    rest = definition[end + 1 :]
    include: list[str] = []
    if rest.startswith(" INCLUDE ("):
        include, _ = _parenthesized_list(rest, 0)
    return keys, include


def _parenthesized_list(text: str, start: int) -> tuple[list[str], int]:
    """The comma-separated items of the first parenthesized list at or after `start`."""
    items: list[str] = []
    depth, begin = 0, -1
    for token in _INDEXDEF_TOKEN.finditer(text, start):
        char = token.group()
        if char == "(":
            depth += 1
            if depth == 1:
                begin = token.end()
        elif char == ")":
            depth -= 1
            if depth == 0:
                items.append(text[begin : token.start()].strip())
                return items, token.start()
        elif char == "," and depth == 1:
            items.append(text[begin : token.start()].strip())
            begin = token.end()
    raise ValueError(f"unbalanced parentheses in index definition {text!r}")
