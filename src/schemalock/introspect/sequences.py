"""Rows of sequences.sql and extensions.sql -> the model's sequences and extensions.  The
queries run in `introspect()`, with the other bulk reads."""

from __future__ import annotations

from typing import Any

from schemalock.model.extensions import Extension
from schemalock.model.sequences import Sequence


def sequences(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str], Sequence]:
    found = {}
    for (
        schema,
        name,
        type_,
        start,
        increment,
        minimum,
        maximum,
        cache,
        cycle,
        owner_schema,
        owner_table,
        owner_column,
        comment,
    ) in rows:
        found[(schema, name)] = Sequence(
            schema=schema,
            name=name,
            type=type_,
            start=start,
            increment=increment,
            minimum=minimum,
            maximum=maximum,
            cache=cache,
            cycle=cycle,
            owned_by=(owner_schema, owner_table, owner_column) if owner_column else None,
            comment=comment,
        )
    return found


def extensions(rows: list[tuple[Any, ...]]) -> dict[tuple[str, str], Extension]:
    return {
        (schema, name): Extension(schema=schema, name=name, version=version)
        for schema, name, version in rows
    }
