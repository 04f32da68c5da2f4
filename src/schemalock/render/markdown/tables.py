"""Each table's section: its facts, columns, constraints, relations and indexes."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.model import OWNED_SEQUENCE, Column, ForeignKey, Index, Lock, Table
from schemalock.render.markdown.markup import (
    arrows,
    code_list,
    code_span,
    column_name,
    describe_relation,
    named,
    prose,
    table_name,
    table_row,
)
from schemalock.render.markdown.mermaid import unique_columns


def table_marks(table: Table) -> list[str]:
    marks = []
    if table.critical:
        marks.append("🔒 critical")
    if table.legacy:
        marks.append("🕰️ legacy")
    if table.duplicate_of:
        marks.append(f"duplicate of {code_span(table.duplicate_of)}")
    if table.renamed_from:
        marks.append(f"renamed from {code_span(table.renamed_from)}")
    return marks


def table_sections(lock: Lock) -> str:
    sections = []
    referenced_by = _referenced_by(lock)
    for number, table in enumerate(lock.database.tables.values(), 1):
        sections.append(_table(number, table, referenced_by.get(table.key, [])))
    return "\n\n".join(sections)


def _referenced_by(lock: Lock) -> dict[tuple[str, str], list[tuple[Table, ForeignKey]]]:
    found: dict[tuple[str, str], list[tuple[Table, ForeignKey]]] = {}
    for table in lock.database.tables.values():
        for fk in table.foreign_keys:
            found.setdefault((fk.ref_schema, fk.ref_table), []).append((table, fk))
    return found


def _table(number: int, table: Table, incoming: list[tuple[Table, ForeignKey]]) -> str:
    parts = [f"### {number}. {code_span(table_name(table.key))}"]
    facts = list(_table_facts(table))
    if facts:
        parts.append("\n".join(facts))
    if table.columns:
        parts.append(_column_table(table))
    else:
        parts.append("The lock describes no columns of this table.")
    for section in (_constraints(table), _relations(table, incoming), _indexes(table)):
        if section:
            parts.append(section)
    return "\n\n".join(parts)


def _table_facts(table: Table) -> Iterator[str]:
    marks = table_marks(table)
    if marks:
        yield f"- **Marks**: {', '.join(marks)}"
    if table.purpose:
        yield f"- **Purpose**: {prose(table.purpose)}"
    if table.wiring:
        yield f"- **Wiring**: {arrows(table.wiring)}"
    if table.endpoints:
        yield f"- **API endpoints**: {code_list(table.endpoints)}"
    if table.comment:
        yield f"- **Comment**: {prose(table.comment)}"
    if table.partition_by:
        yield f"- **Partitioned by**: {code_span(table.partition_by)}"
    if not table.mock_data:
        yield "- **Mock data**: allowed here (the `mock-data` check is off)"


def _column_table(table: Table) -> str:
    header = ["column", "type", "nullable", "default", "keys", "references", "accepts", "comment"]
    lines = ["#### Columns", "", table_row(header), "|" + "---|" * len(header)]
    for column in table.columns:
        lines.append(
            table_row(
                [
                    code_span(column.name),
                    code_span(column.type),
                    "yes" if column.nullable else "no",
                    _default(column),
                    ", ".join(_column_keys(table, column)),
                    ", ".join(_references(table, column)),
                    _accepts(column),
                    _column_comment(column),
                ]
            )
        )
    return "\n".join(lines)


def _default(column: Column) -> str:
    if column.identity:
        return f"identity ({column.identity})"
    if column.generated:
        return f"generated: {code_span(column.generated)} ({column.generated_storage or 'stored'})"
    if column.default == OWNED_SEQUENCE:
        return "serial (owned sequence)"
    return code_span(column.default) if column.default is not None else ""


def _column_keys(table: Table, column: Column) -> list[str]:
    keys = []
    if table.primary_key and column.name in table.primary_key.columns:
        keys.append("PK" if len(table.primary_key.columns) == 1 else "PK (composite)")
    if column.name in unique_columns(table):
        keys.append("unique")
    if any(len(u.columns) > 1 and column.name in u.columns for u in table.uniques):
        keys.append("unique (composite)")
    return keys


def _references(table: Table, column: Column) -> Iterator[str]:
    for fk in table.foreign_keys:
        if column.name in fk.columns:
            target = fk.ref_columns[fk.columns.index(column.name)]
            yield code_span(column_name((fk.ref_schema, fk.ref_table), target))


def _accepts(column: Column) -> str:
    parts = []
    if column.values is not None:
        parts.append(", ".join(code_span(value) for value in column.values) or "no value")
    if column.pattern is not None:
        parts.append(f"pattern {code_span(column.pattern)}")
    return "; ".join(parts)


def _column_comment(column: Column) -> str:
    parts = ["🔒 **critical**"] if column.critical else []
    if column.comment:
        parts.append(prose(column.comment))
    if column.renamed_from:
        parts.append(f"renamed from {code_span(column.renamed_from)}")
    if not column.mock_data:
        parts.append("mock data allowed")
    return "; ".join(parts)


def _constraints(table: Table) -> str:
    lines = []
    if table.primary_key and len(table.primary_key.columns) > 1:
        lines.append(f"- primary key ({code_list(table.primary_key.columns)})")
    for unique in table.uniques:
        if len(unique.columns) > 1:
            nulls = ", NULLs not distinct" if unique.nulls_not_distinct else ""
            lines.append(f"- unique{named(unique.name)} ({code_list(unique.columns)}){nulls}")
    for check in table.checks:
        lines.append(f"- check{named(check.name)}: {code_span(check.expression)}")
    return "\n".join(["#### Constraints", "", *lines]) if lines else ""


def _actions(fk: ForeignKey) -> str:
    actions = [f"on delete {fk.on_delete}"]
    if fk.on_update != "no action":
        actions.append(f"on update {fk.on_update}")
    if fk.match != "simple":
        actions.append(f"match {fk.match}")
    if fk.deferrable:
        actions.append("deferrable" + (", initially deferred" if fk.initially_deferred else ""))
    return ", ".join(actions)


def _relations(table: Table, incoming: list[tuple[Table, ForeignKey]]) -> str:
    lines = [
        f"- references: {describe_relation(table, fk)}{named(fk.name)}, {_actions(fk)}"
        for fk in table.foreign_keys
    ]
    lines += [
        f"- referenced by: {describe_relation(child, fk)}{named(fk.name)}, {_actions(fk)}"
        for child, fk in incoming
    ]
    return "\n".join(["#### Relations", "", *lines]) if lines else ""


def _index(index: Index) -> str:
    kind = f"{'unique ' if index.unique else ''}{index.method}"
    text = f"- {code_span(index.name)}: {kind} ({code_list(index.keys)})"
    if index.include:
        text += f" include ({code_list(index.include)})"
    if index.nulls_not_distinct:
        text += ", NULLs not distinct"
    if index.where:
        text += f" where {code_span(index.where)}"
    return text


def _indexes(table: Table) -> str:
    if not table.indexes:
        return ""
    return "\n".join(["#### Indexes", "", *map(_index, table.indexes)])
