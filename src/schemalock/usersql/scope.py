"""What names resolve to: the columns a FROM item or a CTE offers, and the lock column each
one is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemalock.model import Table
from schemalock.usersql.trees import Rejected

Origin = tuple[str, str, str]  # a lock column: schema, table, column


@dataclass
class Relation:
    """The columns a FROM item or a CTE offers, in order (None: a name the sandbox does not
    work out, which can then not be referenced), with the lock column each one is, if any.
    `exact`: the list is the server's own, not a `*` over a table whose live columns may differ."""

    columns: list[tuple[str | None, Origin | None]]
    exact: bool = True

    def find(self, name: str) -> tuple[bool, Origin | None]:
        for column, origin in self.columns:
            if column == name:
                return True, origin
        return False, None


@dataclass
class Source:
    """A FROM item: the name it is referenced by (None: an unaliased subquery) and its
    relation (None: a CTE of a WITH RECURSIVE not worked out yet)."""

    name: str | None
    relation: Relation | None


def column_name(value: dict[str, Any]) -> tuple[str | None, int]:
    """The name PostgreSQL gives an unnamed output column (FigureColname), with its strength,
    for the forms where that is certain; (None, -1) otherwise, so the column cannot be named."""
    kind = value.get("@")
    if kind == "ColumnRef" and value["fields"][-1].get("@") == "String":
        return str(value["fields"][-1]["sval"]), 2
    if kind == "FuncCall":
        return str(value["funcname"][-1]["sval"]), 2
    if kind == "A_Const":
        return None, 0
    if kind == "TypeCast":
        name, strength = column_name(value["arg"])
        if strength in (0, 1):
            return str(value["typeName"]["names"][-1]["sval"]), 1
        return name, strength
    return None, -1


def table_relation(table: Table) -> Relation:
    origins = [(c.name, (table.schema, table.name, c.name)) for c in table.columns]
    return Relation(list(origins), exact=False)  # the live table may have other columns


def renamed(relation: Relation, aliases: list[str], name: str) -> Relation:
    """A relation whose first columns are renamed (`AS x(a, b)`)."""
    if not aliases:
        return relation
    if not relation.exact:
        raise Rejected(f"column aliases on {name} over `*` are not allowed: name the columns")
    if len(aliases) > len(relation.columns):
        raise Rejected(f"{name} has {len(relation.columns)} columns but {len(aliases)} aliases")
    aliased = [(alias, None) for alias in aliases]
    return Relation(aliased + relation.columns[len(aliases) :])
