"""Flow invariants as SQL: for each, a SELECT of one text column, `k`, with a row per violation
(the row's key and what is wrong with it), and a sentence saying what the invariant demands.

Tables are aliased by their own names, so expressions say `jobs.status` whatever the schema.
User expressions arrive through `schemalock.usersql.sandbox`, as the parser's rendering of an
accepted tree; they are embedded as arguments of `sql.SQL.format`, never as its template, so
braces in a JSON literal stay literal.  The SQL written here qualifies its functions and
operators by pg_catalog as the sandbox does: the columns it compares are the user's, of any
type, and an operator of the same name in `public` could fit that type better than pg_catalog's.

A plan names the lock columns and enums it relies on: `verify` refuses to run it when the
database lacks one, since `alias.column` on a missing column calls a function of that name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from schemalock.model import (
    CustomCheck,
    Database,
    Freshness,
    Implies,
    Invariant,
    Reconcile,
    Table,
    names,
)
from schemalock.usersql import sandbox as userexpr

if TYPE_CHECKING:
    from psycopg import sql

_INTERVAL = re.compile(
    r"^\s*(\d+(\.\d+)?\s*(microseconds?|milliseconds?|seconds?|secs?|minutes?|mins?|hours?"
    r"|days?|weeks?|months?|years?)\s*)+$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Plan:
    """How to find an invariant's violations, what it demands in words, and the lock columns
    and enums its SQL names."""

    query: sql.Composable
    demand: str
    columns: frozenset[userexpr.Origin] = frozenset()
    enums: frozenset[tuple[str, str]] = frozenset()


def plan(invariant: Invariant, database: Database) -> Plan:
    """The violation query of an invariant, or userexpr.Rejected saying why it cannot run.

    Each invariant of a lock is planned once: every command checks the whole lock before it
    connects, and the flow rule then finds its plans (or refusals) made, so nothing is parsed
    while a transaction is open.  Only the plans of the last lock asked about are kept."""
    if _memo.database is not database:
        _memo.database, _memo.outcomes = database, {}
    key = id(invariant)
    known = _memo.outcomes.get(key)
    if known is None or known[0] is not invariant:
        try:
            outcome: Plan | str = _plan(invariant, database)
        except userexpr.Rejected as refusal:
            outcome = str(refusal)
        known = _memo.outcomes[key] = (invariant, outcome)
    if isinstance(known[1], str):
        raise userexpr.Rejected(known[1])
    return known[1]


@dataclass
class _Memo:
    database: Database | None = None
    outcomes: dict[int, tuple[Invariant, Plan | str]] = field(default_factory=dict)


_memo = _Memo()


def _plan(invariant: Invariant, database: Database) -> Plan:
    check = invariant.check
    if isinstance(check, Reconcile):
        return _reconcile(check, database)
    if isinstance(check, Implies):
        return _implies(check, database)
    if isinstance(check, Freshness):
        return _freshness(check, database)
    assert isinstance(check, CustomCheck)
    return _custom(check, database)


def _table(database: Database, key: tuple[str, str]) -> Table:
    table = database.tables.get(key)
    if table is None:
        raise userexpr.Rejected(f"table {names.qualified(*key)} is not in the lock")
    return table


def _column(table: Table, name: str) -> str:
    if table.column(name) is None:
        raise userexpr.Rejected(f"column {names.qualified(*table.key, name)} is not in the lock")
    return name


def _named(table: Table, *columns: str) -> frozenset[userexpr.Origin]:
    return frozenset((table.schema, table.name, column) for column in columns)


def _source(table: Table) -> sql.Composable:
    from psycopg import sql

    return sql.SQL("{} AS {}").format(
        sql.Identifier(table.schema, table.name), sql.Identifier(table.name)
    )


def _ref(table: Table, column: str) -> sql.Composable:
    from psycopg import sql

    return sql.Identifier(table.name, column)


def _op(left: sql.Composable, operator: str, right: sql.Composable) -> sql.Composable:
    from psycopg import sql

    return sql.SQL("{} OPERATOR(pg_catalog.{}) {}").format(left, sql.SQL(operator), right)


def _key_columns(table: Table) -> tuple[str, ...]:
    return table.primary_key.columns if table.primary_key else ()


def _row_key(table: Table) -> sql.Composable:
    """The text that names a row in samples: its primary key, else its ctid."""
    from psycopg import sql

    columns = _key_columns(table)
    if not columns:
        return sql.SQL("{}::pg_catalog.text").format(sql.Identifier(table.name, "ctid"))
    return sql.SQL("pg_catalog.concat_ws(', ', {})").format(
        sql.SQL(", ").join(sql.SQL("{}::pg_catalog.text").format(_ref(table, c)) for c in columns)
    )


def _reconcile(check: Reconcile, database: Database) -> Plan:
    from psycopg import sql

    table, source = _table(database, check.table), _table(database, check.source)
    _column(table, check.column)
    pairs = [
        (_column(source, mine), _column(table, theirs or _single_key(table)))
        for mine, theirs in check.by
    ]
    joins = [_op(_ref(source, a), "=", _ref(table, b)) for a, b in pairs]
    scope = {table.name: table, source.name: source}
    where = userexpr.Accepted("")
    if check.where:
        where = userexpr.expression(check.where, database, scope, subqueries=True)
        joins.append(sql.SQL("({})").format(sql.SQL(where.sql)))
    if check.measure is None:
        aggregate: sql.Composable = sql.SQL("pg_catalog.count(*)")
        what = f"the number of {source.name} rows"
    else:
        measure = _ref(source, _column(source, check.measure))
        aggregate = sql.SQL("COALESCE(pg_catalog.sum({}), 0)").format(measure)
        what = f"sum({source.name}.{check.measure})"
    total, computed = _ref(table, check.column), sql.SQL("schemalock_sum.v")
    # `total IS DISTINCT FROM computed`, through pg_catalog's `=` (see the module docstring).
    differs = sql.SQL("({}) IS NOT TRUE AND pg_catalog.num_nulls({}, {}) <> 2").format(
        _op(total, "=", computed), total, computed
    )
    query = sql.SQL(
        "SELECT {key} || ': ' || COALESCE({total}::pg_catalog.text, 'NULL') || ' <> '"
        " || schemalock_sum.v::pg_catalog.text AS k"
        " FROM {table} CROSS JOIN LATERAL (SELECT {aggregate} AS v FROM {source} WHERE {joins})"
        " AS schemalock_sum WHERE {differs}"
    ).format(
        key=_row_key(table),
        total=total,
        table=_source(table),
        aggregate=aggregate,
        source=_source(source),
        joins=sql.SQL(" AND ").join(joins),
        differs=differs,
    )
    link = " AND ".join(f"{source.name}.{a} = {table.name}.{b}" for a, b in pairs)
    condition = f" AND {check.where}" if check.where else ""
    named = _named(table, check.column, *(b for _, b in pairs), *_key_columns(table))
    named |= _named(source, *(a for a, _ in pairs), *filter(None, [check.measure]))
    return Plan(
        query,
        f"{table.name}.{check.column} = {what} WHERE {link}{condition}",
        named | where.columns,
        where.enums,
    )


def _single_key(table: Table) -> str:
    columns = _key_columns(table)
    if len(columns) != 1:
        raise userexpr.Rejected(
            f"by: {names.qualified(*table.key)} has no single-column primary key; "
            "name the column (`by: {summed column: total-table column}`)"
        )
    return columns[0]


def _implies(check: Implies, database: Database) -> Plan:
    from psycopg import sql

    table = _table(database, check.table)
    scope = {table.name: table}
    when = userexpr.expression(check.when, database, scope)
    then = userexpr.expression(check.then, database, scope, subqueries=True)
    query = sql.SQL(
        "SELECT {key} AS k FROM {table} WHERE ({when}) AND NOT COALESCE(({then}), false)"
    ).format(
        key=_row_key(table),
        table=_source(table),
        when=sql.SQL(when.sql),
        then=sql.SQL(then.sql),
    )
    return Plan(
        query,
        f"rows of {table.name} where {check.when} satisfy {check.then}",
        _named(table, *_key_columns(table)) | when.columns | then.columns,
        when.enums | then.enums,
    )


def _freshness(check: Freshness, database: Database) -> Plan:
    from psycopg import sql

    table = _table(database, check.table)
    column = _ref(table, _column(table, check.column))
    if not _INTERVAL.match(check.within):
        raise userexpr.Rejected(f"within: {check.within!r} is not an interval like '2 hours'")
    where = userexpr.Accepted("true")
    if check.where:
        where = userexpr.expression(check.where, database, {table.name: table})
    deadline = _op(
        sql.SQL("pg_catalog.now()"),
        "-",
        sql.SQL("{}::pg_catalog.interval").format(sql.Literal(check.within)),
    )
    query = sql.SQL(
        "SELECT {key} || ': ' || {column}::pg_catalog.text AS k FROM {table}"
        " WHERE ({where}) AND {late}"
    ).format(
        key=_row_key(table),
        column=column,
        table=_source(table),
        where=sql.SQL(where.sql),
        late=_op(column, "<", sql.SQL("({})").format(deadline)),
    )
    scope = f" where {check.where}" if check.where else ""
    return Plan(
        query,
        f"rows of {table.name}{scope} have {check.column} within {check.within}",
        _named(table, check.column, *_key_columns(table)) | where.columns,
        where.enums,
    )


def _custom(check: CustomCheck, database: Database) -> Plan:
    from psycopg import sql

    accepted = userexpr.select(check.sql, database)
    query = sql.SQL(
        "SELECT schemalock_row::pg_catalog.text AS k FROM ({}) AS schemalock_row"
    ).format(sql.SQL(accepted.sql))
    return Plan(query, f"{check.path} returns no rows", accepted.columns, accepted.enums)
