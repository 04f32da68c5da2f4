"""`snapshot`'s `sequences:` and `extensions:` sections, deterministically: sorted by key,
PostgreSQL's defaults left out; and a column's `identity:` with its sequence's options."""

from __future__ import annotations

from typing import Any

from schemalock.lock.yaml_style import Flow
from schemalock.model import DEFAULT_SCHEMA, Column, Database, names
from schemalock.model.extensions import Extension
from schemalock.model.sequences import Sequence, defaults


def sections(database: Database) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if database.sequences:
        found["sequences"] = {_key(*k): _sequence(s) for k, s in sorted(database.sequences.items())}
    if database.extensions:
        by_name = sorted(database.extensions.values(), key=lambda e: e.name)
        found["extensions"] = {e.name: _extension(e) for e in by_name}
    return found


def _key(*parts: str) -> str:
    return names.lock_name(*parts[1:]) if parts[0] == DEFAULT_SCHEMA else names.lock_name(*parts)


def _sequence(sequence: Sequence) -> Flow:
    least, greatest = defaults(sequence.type, sequence.increment)
    first = sequence.minimum if sequence.increment > 0 else sequence.maximum
    values = {
        "type": sequence.type if sequence.type != "bigint" else None,
        "start": sequence.start if sequence.start != first else None,
        "increment": sequence.increment if sequence.increment != 1 else None,
        "min": sequence.minimum if sequence.minimum != least else None,
        "max": sequence.maximum if sequence.maximum != greatest else None,
        "cache": sequence.cache if sequence.cache != 1 else None,
        "cycle": sequence.cycle or None,
        "owned_by": _owner(sequence),
        "comment": sequence.comment,
    }
    return Flow({k: v for k, v in values.items() if v is not None})


def identity(column: Column) -> str | Flow | None:
    """A column's `identity:`: its kind alone, or with the sequence's options that differ
    from the defaults (`{generated: always, start: 1000}`)."""
    if column.identity is None or not column.identity_options:
        return column.identity
    return Flow({"generated": column.identity, **dict(column.identity_options)})


def _owner(sequence: Sequence) -> str | None:
    if sequence.owned_by is None:
        return None
    schema, table, column = sequence.owned_by
    # The owner's schema is written only when it is not the sequence's own.
    return (
        names.lock_name(table, column)
        if schema == sequence.schema
        else names.lock_name(schema, table, column)
    )


def _extension(extension: Extension) -> Flow:
    values = {
        "schema": extension.schema if extension.schema != DEFAULT_SCHEMA else None,
        "version": extension.version,
    }
    return Flow({k: v for k, v in values.items() if v is not None})
