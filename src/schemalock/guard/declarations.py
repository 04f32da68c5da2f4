"""Everything a lock holds besides its schema, compared key by key (deepdiff) and judged.

Each lock becomes a plain form: nested dicts keyed by name (flows, their invariants, query
contracts, environments, the data rules and documentation of the tables and columns both
locks have, the waivers), with unordered lists as sets, so reordering is no change.  deepdiff
says what was added, removed or changed at which path; `_judge` reads the path and says what
that change does to the lock's promises.  Each entry's line comes from the model (tables,
columns, flows, invariants, queries, environments, waivers) or the file (`database:`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from schemalock.compare import Comparison
from schemalock.guard import renames, sqltrees
from schemalock.model import Column, Invariant, Lock, Table, Waiver, names
from schemalock.rules.history import LockRegression

Path = tuple[str, ...]


@dataclass
class Form:
    """One lock's plain form, the line of each entry, and the objects findings name."""

    data: dict[str, Any] = field(default_factory=dict)
    lines: dict[Path, int] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)  # by their key in `data`: the new name
    invariants: dict[tuple[str, str], Invariant] = field(default_factory=dict)
    waivers: dict[str, Waiver] = field(default_factory=dict)
    # SQL as written, by path, where `data` holds its parse tree: what messages show
    texts: dict[Path, str] = field(default_factory=dict)


def acknowledges(waiver: Waiver) -> bool:
    """A waiver of regressions: `diff` reads it as an acknowledgement, not as a change.  Its
    `rule` names exactly the regressions (`regression`, `SL601`, `lock-regression`): a code
    prefix or another category that happens to cover them does not acknowledge anything."""
    rule = LockRegression
    return waiver.rule.strip().lower() in {rule.code.lower(), rule.name, rule.category.value}


def identity(waiver: Waiver) -> str:
    """What a waiver waives, `rule on object`: the same waiver whatever its reason, owner or
    end (those are its other fields)."""
    rule = waiver.rule.strip()
    return f"{rule.upper() if rule[:2].upper() == 'SL' else rule.lower()} on {waiver.object}"


def forms(
    new: Lock,
    old: Lock,
    comparison: Comparison,
    file_lines: tuple[Mapping[Path, int], Mapping[Path, int]],
) -> tuple[Form, Form]:
    """The plain forms of both locks.  Tables and columns are those both locks have, keyed by
    their names in the new lock (a renamed one under its new name): a table or column added
    or removed is the schema's change, judged there."""
    renamed = sqltrees.Renames(*renames.declared(new.database, old.database))
    new_form = _form(new, file_lines[0])
    old_form = _form(old, file_lines[1], renamed)
    new_form.data["tables"], old_form.data["tables"] = {}, {}
    for pair in comparison.tables:
        if pair.lock is None or pair.live is None:
            continue
        key = names.lock_name(*pair.lock.key)
        columns = [(c.lock, c.live) for c in pair.columns if c.lock and c.live]
        for form, table, side in ((new_form, pair.lock, 0), (old_form, pair.live, 1)):
            form.tables[key] = table
            _place(form, ("tables", key), table.line)
            named = {pair[0].name: pair[side] for pair in columns}
            form.data["tables"][key] = _table(table, named)
            for name, column in named.items():
                _place(form, ("tables", key, "columns", name), column.line)
    return new_form, old_form


def _form(
    lock: Lock, file_lines: Mapping[Path, int], renamed: sqltrees.Renames = sqltrees.NO_RENAMES
) -> Form:
    """The plain form of `lock`; `renamed`: the renames the new lock declares, for the base
    lock's SQL to name what the new lock names."""
    form = Form()
    settings = lock.settings
    form.data["database"] = _present(
        name=settings.name,
        expected_tables=settings.expected_tables,
        schemas=frozenset(lock.database.schemas),
        ignore=frozenset(settings.ignore),
    )
    form.lines.update(
        {path: line for path, line in file_lines.items() if path[:1] == ("database",)}
    )
    form.data["environments"] = {
        name: {"require_host": frozenset(env.require_host)}
        for name, env in settings.environments.items()
    }
    for name, env in settings.environments.items():
        _place(form, ("environments", name), env.line)
    form.data["flows"] = {}
    for flow in lock.flows:
        _place(form, ("flows", flow.name), flow.line)
        invariants = {}
        for invariant in flow.invariants:
            form.invariants[(flow.name, invariant.name)] = invariant
            _place(form, ("flows", flow.name, "invariants", invariant.name), invariant.line)
            path = ("flows", flow.name, "invariants", invariant.name, "check")
            invariants[invariant.name] = _present(
                description=invariant.description,
                kind=invariant.kind,
                check=_check(invariant, renamed, form, path),
            )
        form.data["flows"][flow.name] = _present(
            path=flow.path, description=flow.description, invariants=invariants
        )
    form.data["queries"] = {}
    for query in lock.queries:
        _place(form, ("queries", query.name), query.line)
        form.texts[("queries", query.name, "sql")] = sqltrees.written(query.sql, (), renamed)
        form.data["queries"][query.name] = _present(
            sql=sqltrees.statement(query.sql, renamed),
            params=", ".join(query.params),
            endpoint=query.endpoint,
            description=query.description,
        )
    form.data["waivers"] = {}
    for waiver in lock.waivers:
        if acknowledges(waiver):
            continue
        key = identity(waiver)
        form.waivers[key] = waiver
        _place(form, ("waivers", key), waiver.line)
        form.data["waivers"][key] = _present(
            reason=waiver.reason,
            expires=waiver.expires.isoformat() if waiver.expires else None,
            owner=waiver.owner,
        )
    return form


def _place(form: Form, path: Path, line: int | None) -> None:
    if line:
        form.lines[path] = line


def _present(**values: Any) -> dict[str, Any]:
    """The values that are set: a key absent on one side reads as added or removed."""
    return {key: value for key, value in values.items() if value is not None}


def _table(table: Table, columns: dict[str, Column]) -> dict[str, Any]:
    duplicate_of = None
    if table.duplicate_of:
        duplicate_of = names.lock_name(*names.split_table(table.duplicate_of, table.schema))
    return _present(
        purpose=table.purpose,
        wiring=table.wiring,
        comment=table.comment,
        endpoints=frozenset(table.endpoints),
        critical=table.critical,
        legacy=table.legacy,
        duplicate_of=duplicate_of,
        mock_data=table.mock_data,
        columns={name: _column(column) for name, column in columns.items()},
    )


def _column(column: Column) -> dict[str, Any]:
    return _present(
        comment=column.comment,
        pattern=column.pattern,
        values=frozenset(column.values) if column.values is not None else None,
        critical=column.critical,
        mock_data=column.mock_data,
    )


def _check(
    invariant: Invariant, renamed: sqltrees.Renames, form: Form, path: Path
) -> dict[str, Any]:
    """An invariant's check field by field (`file_read` is where, not what): tables and
    columns by the names the new lock gives them, SQL as its parse tree."""
    fields = dataclasses.asdict(invariant.check)
    fields.pop("file_read", None)
    tables = [key for key in (fields.get("table"), fields.get("source")) if key]
    table, source = (
        tuple(key) if key else None for key in (fields.get("table"), fields.get("source"))
    )
    if table and fields.get("column"):
        fields["column"] = renamed.column(table, fields["column"])
    if source and fields.get("measure"):
        fields["measure"] = renamed.column(source, fields["measure"])
    if table and source and fields.get("by"):
        fields["by"] = [
            (renamed.column(source, mine), renamed.column(table, theirs))
            for mine, theirs in fields["by"]
        ]
    for key in ("table", "source"):  # (schema, name): as the lock spells it
        if isinstance(fields.get(key), tuple | list):
            fields[key] = names.lock_name(*renamed.table(tuple(fields[key])))
    for key in ("when", "then", "where", "sql"):
        text = fields.get(key)
        if isinstance(text, str):
            reach = [tuple(k) for k in tables] if key != "sql" else []
            form.texts[(*path, key)] = sqltrees.written(text, reach, renamed, key != "sql")
            fields[key] = (
                sqltrees.statement(text, renamed)
                if key == "sql"
                else sqltrees.expression(text, [tuple(k) for k in tables], renamed)
            )
    return _present(**{key: _text(value) for key, value in fields.items()})


def _text(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return ", ".join(
            "=".join(part for part in item if part) if isinstance(item, tuple | list) else item
            for item in value
        )
    return value


# -- the interval of a freshness invariant ----------------------------------------------

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*$")
_SECONDS = {
    "second": 1,
    "sec": 1,
    "minute": 60,
    "min": 60,
    "hour": 3600,
    "day": 86400,
    "week": 604800,
}


def seconds(interval: str) -> float | None:
    """`15 minutes`, `2 hours`, `1 day` in seconds; None for what this does not read."""
    found = _INTERVAL.match(interval.lower())
    if found is None or found[2] not in _SECONDS:
        return None
    return float(found[1]) * _SECONDS[found[2]]
