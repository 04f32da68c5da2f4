"""The renames a new lock declares (`renamed_from`), applied to the base lock before comparing.

A rename changes no promise, but everything that names the renamed object would otherwise
read as changed: a foreign key into a renamed table as one with another target, a key or index
on a renamed column as one removed and one added.  So the base lock's tables and columns take
their new names first, in every place a name is written as a name (keys, foreign keys and their
targets, uniques, plain index keys), and the renames are reported on their own, as neutral.
Expressions (checks, partial indexes) are SQL text and keep the names they were written with.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from schemalock.compare import differences as d
from schemalock.compare.matching import column_name
from schemalock.guard.changes import Change, Kind
from schemalock.model import Database, ForeignKey, Index, names
from schemalock.rules.base import q

Key = tuple[str, str]


def declared(new: Database, old: Database) -> tuple[dict[Key, Key], dict[Key, dict[str, str]]]:
    """The table renames (old key -> new key) and, per table (by its new key), the column
    renames (old name -> new name) that the new lock declares and the base lock shows."""
    tables: dict[Key, Key] = {}
    for key, table in new.tables.items():
        was = (table.schema, table.renamed_from) if table.renamed_from else None
        if was and key not in old.tables and was in old.tables and was not in new.tables:
            tables[was] = key
    columns: dict[Key, dict[str, str]] = {}
    base = {tables.get(key, key): table for key, table in old.tables.items()}
    for key, table in new.tables.items():
        before = base.get(key)
        if before is None:
            continue
        kept = {c.name for c in table.columns}
        old_names = {c.name for c in before.columns}
        found = {
            c.renamed_from: c.name
            for c in table.columns
            if c.renamed_from
            and c.renamed_from in old_names
            and c.name not in old_names
            and c.renamed_from not in kept
        }
        if found:
            columns[key] = found
    return tables, columns


def applied(old: Database, tables: dict[Key, Key], columns: dict[Key, dict[str, str]]) -> Database:
    """The base lock's database with those renames made."""
    if not tables and not columns:
        return old
    renamed = {}
    for key, table in old.tables.items():
        new_key = tables.get(key, key)
        own = columns.get(new_key, {})
        renamed[new_key] = replace(
            table,
            name=new_key[1],
            columns=tuple(replace(c, name=own.get(c.name, c.name)) for c in table.columns),
            primary_key=replace(table.primary_key, columns=_names(table.primary_key.columns, own))
            if table.primary_key
            else None,
            foreign_keys=tuple(_key(fk, own, tables, columns) for fk in table.foreign_keys),
            uniques=tuple(replace(u, columns=_names(u.columns, own)) for u in table.uniques),
            indexes=tuple(_index(index, own) for index in table.indexes),
        )
    return replace(old, tables=renamed)


def _names(columns: tuple[str, ...], renames: dict[str, str]) -> tuple[str, ...]:
    return tuple(renames.get(column, column) for column in columns)


def _key(
    fk: ForeignKey, own: dict[str, str], tables: dict[Key, Key], columns: dict[Key, dict[str, str]]
) -> ForeignKey:
    target = tables.get((fk.ref_schema, fk.ref_table), (fk.ref_schema, fk.ref_table))
    return replace(
        fk,
        columns=_names(fk.columns, own),
        ref_table=target[1],
        ref_columns=_names(fk.ref_columns, columns.get(target, {})),
    )


def _index(index: Index, renames: dict[str, str]) -> Index:
    """Plain column keys and INCLUDE columns renamed; expressions left as written."""

    def renamed(sql: str) -> str:
        name = column_name(sql)
        return names.quote(renames[name]) if name in renames else sql

    return replace(
        index,
        keys=tuple(renamed(key) for key in index.keys),
        include=tuple(renamed(column) for column in index.include),
    )


def changes(
    new: Database, tables: dict[Key, Key], columns: dict[Key, dict[str, str]]
) -> Iterator[Change]:
    """Each rename, as a neutral change at its line in the new lock."""
    for was, key in tables.items():
        table = new.tables[key]
        yield Change(
            kind=Kind.NEUTRAL,
            message=f"table {q(*key)} renamed from {q(was[1])}",
            line=table.line,
            schema=key[0],
            table=key[1],
            subject=d.Subject("table", *key),
            before=was[1],
            after=key[1],
        )
    for key, renames in columns.items():
        table = new.tables[key]
        for old_name, name in renames.items():
            column = table.column(name)
            yield Change(
                kind=Kind.NEUTRAL,
                message=f"column {q(*key, name)} renamed from {q(old_name)}",
                line=column.line if column else table.line,
                schema=key[0],
                table=key[1],
                column=name,
                subject=d.Subject("column", key[0], key[1], name),
                before=old_name,
                after=name,
            )
