"""A catalog row of a column as the model's Column, and the one string of a value that every
table's copy of it shares."""

from __future__ import annotations

from sys import intern
from typing import overload

from schemalock.introspect import aspects
from schemalock.model import OWNED_SEQUENCE, Column
from schemalock.model.types import live_type

_IDENTITY = {"a": "always", "d": "by default"}
_GENERATED = {"s": "stored", "v": "virtual"}


@overload
def shared(text: str) -> str: ...
@overload
def shared(text: str | None) -> str | None: ...
def shared(text: str | None) -> str | None:
    """The one string of this value (`sys.intern`) that every table's copy of it uses."""
    return None if text is None else intern(text)


def column_row(
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
    _has_default: bool,
    collation_schema: str | None,
    collation: str | None,
    identity_type: str | None,
    identity_sequence: list[int] | None,
) -> Column:
    # One call per column of the database: the common column (no identity, not generated, the
    # type's collation) takes no helper.  Names, types and defaults repeat from table to table
    # (`id`, `bigint`, `now()`): one string of each value, not one per column.
    name, type_ = intern(name), intern(live_type(type_))
    default = shared(default)
    if owned_sequence and default is not None and default.startswith("nextval("):
        default = OWNED_SEQUENCE
    if generated:
        generation, default, storage = default, None, _GENERATED.get(generated)
        if storage is None:  # not a generated column after all: keep its default
            generation, default = None, generation
    else:
        generation = storage = None
    return Column(
        name=name,
        type=type_,
        nullable=not not_null,
        default=default,
        identity=_IDENTITY.get(identity) if identity else None,
        identity_options=(
            aspects.identity(type_, identity_type, identity_sequence) if identity_type else ()
        ),
        generated=generation,
        generated_storage=storage,
        collation=aspects.collation(collation_schema, collation) if collation else None,
        comment=comment,
    )
