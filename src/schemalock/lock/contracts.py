"""The lock's `flows:` and `queries:` sections, from their specs to the model.

Expressions stay text here; `schemalock.usersql.sandbox` parses and allow-lists them before anything
runs them.  A custom check's `.sql` file is read now, relative to the lock file (symlinks
resolved), so a missing file is a load error with the line that names it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from schemalock.lock import inputs
from schemalock.lock.paths import ConversionError, Path
from schemalock.model import (
    DEFAULT_SCHEMA,
    Check,
    CustomCheck,
    Flow,
    Freshness,
    Implies,
    Invariant,
    QueryContract,
    Reconcile,
    names,
)
from schemalock.model.types import UnknownType, canonical_type

if TYPE_CHECKING:
    from schemalock.lock.format import (
        FlowSpec,
        InvariantSpec,
        LockHead,
        QuerySpec,
        ReconcileSpec,
    )
    from schemalock.lock.yamlsafe import Positions


def to_contracts(
    head: LockHead, positions: Positions, lock_path: str
) -> tuple[tuple[Flow, ...], tuple[QueryContract, ...]]:
    base = os.path.dirname(os.path.realpath(lock_path)) if os.path.exists(lock_path) else "."
    flows = tuple(_flow(name, spec, positions, base) for name, spec in head.flows.items())
    queries = tuple(
        _query(name, spec, _line(positions, ("queries", name)))
        for name, spec in head.queries.items()
    )
    return flows, queries


def _line(positions: Positions, path: Path) -> int | None:
    found = positions.get(path)
    return found[0] if found else None


def _flow(name: str, spec: FlowSpec, positions: Positions, base: str) -> Flow:
    invariants = []
    for index, invariant in enumerate(spec.invariants):
        path: Path = ("flows", name, "invariants", index)
        check = _check(invariant, path, base)
        kind = next(
            k for k in ("reconcile", "implies", "freshness", "sql") if getattr(invariant, k)
        )
        invariants.append(
            Invariant(
                flow=name,
                name=invariant.name or f"{kind}_{index + 1}",
                check=check,
                description=invariant.description,
                line=_line(positions, path),
            )
        )
    return Flow(
        name=name,
        path=spec.path,
        description=spec.description,
        invariants=tuple(invariants),
        line=_line(positions, ("flows", name)),
    )


def _check(spec: InvariantSpec, path: Path, base: str) -> Check:
    if spec.reconcile is not None:
        return _reconcile(spec.reconcile, (*path, "reconcile"))
    if spec.implies is not None:
        table = _table(spec.implies.table, (*path, "implies", "table"))
        return Implies(table=table, when=spec.implies.when, then=spec.implies.then)
    if spec.freshness is not None:
        fresh = spec.freshness
        table = _table(fresh.table, (*path, "freshness", "table"))
        return Freshness(table=table, column=fresh.column, within=fresh.within, where=fresh.where)
    assert spec.sql is not None
    about = _table(spec.table, (*path, "table")) if spec.table else None
    sql = _read_sql(spec.sql, base, (*path, "sql"))
    return CustomCheck(path=spec.sql, sql=sql, table=about, file_read=os.path.join(base, spec.sql))


def _reconcile(spec: ReconcileSpec, path: Path) -> Reconcile:
    schema, table, column = _column(spec.total, (*path, "total"))
    if (spec.sum_of is None) == (spec.count_of is None):
        raise ConversionError("reconcile: give exactly one of `sum_of` and `count_of`", path)
    if spec.sum_of is not None:
        *source, measure = _column(spec.sum_of, (*path, "sum_of"))
        source_key = (source[0], source[1])
    else:
        assert spec.count_of is not None
        source_key, measure = _table(spec.count_of, (*path, "count_of")), None
    if source_key == (schema, table):
        raise ConversionError("reconcile: the total and the rows it adds up are one table", path)
    by = tuple(spec.by.items()) if isinstance(spec.by, dict) else ((spec.by, ""),)
    return Reconcile(
        table=(schema, table),
        column=column,
        source=source_key,
        measure=measure,
        by=by,  # "" : the total table's primary key, resolved against the lock's tables
        where=spec.where,
    )


def _table(text: str, path: Path) -> tuple[str, str]:
    try:
        return names.split_table(text, DEFAULT_SCHEMA)
    except names.NameError_ as error:
        raise ConversionError(str(error), path) from None


def _column(text: str, path: Path) -> tuple[str, str, str]:
    try:
        return names.split_column_ref(text, DEFAULT_SCHEMA)
    except names.NameError_ as error:
        raise ConversionError(str(error), path) from None


def _read_sql(relative: str, base: str, path: Path) -> str:
    if os.path.isabs(relative) or not relative.endswith(".sql"):
        raise ConversionError(
            f"sql: {relative!r}: name a .sql file relative to the lock file", path
        )
    try:
        return inputs.read_limited(os.path.join(base, relative)).decode("utf-8")
    except inputs.InputTooLarge as error:
        raise ConversionError(f"sql: {relative!r} is {error}", path) from None
    except UnicodeDecodeError as error:
        raise ConversionError(
            f"sql: {relative!r} is not UTF-8 text (at byte {error.start})", path
        ) from None
    except OSError as error:
        raise ConversionError(f"sql: cannot read {relative!r}: {error.strerror}", path) from None


def _query(name: str, spec: QuerySpec, line: int | None) -> QueryContract:
    return QueryContract(
        name=name,
        sql=spec.sql,
        params=tuple(_param_type(spelling) for spelling in spec.params),
        endpoint=spec.endpoint,
        description=spec.description,
        line=line,
    )


def _param_type(spelling: str) -> str:
    try:
        return canonical_type(spelling)
    except UnknownType:
        return spelling  # a user type: the server resolves it, or the contract fails
