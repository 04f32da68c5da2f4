"""The lock's `sequences:` and `extensions:` sections, and a column's `identity:` with its
sequence's options -> the model."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from schemalock.lock.format_sequences import IdentitySpec
from schemalock.lock.paths import ConversionError, Path
from schemalock.model import DEFAULT_SCHEMA, names
from schemalock.model.extensions import ALWAYS_THERE, Extension
from schemalock.model.sequences import (
    IdentityOptions,
    Sequence,
    defaults,
    identity_options,
    identity_sequence,
)

if TYPE_CHECKING:
    from schemalock.lock.format import LockHead

Line = Callable[[Path], "int | None"]


def sequences(spec: LockHead, line: Line) -> dict[tuple[str, str], Sequence]:
    """Every sequence, its options made concrete (PostgreSQL's defaults where left out)."""
    result = {}
    for key, sequence in spec.sequences.items():
        path: Path = ("sequences", key)
        try:
            schema, name = names.split_table(key, DEFAULT_SCHEMA)
            owned_by = (
                names.split_column_ref(sequence.owned_by, schema)
                if sequence.owned_by is not None
                else None
            )
        except names.NameError_ as error:
            raise ConversionError(str(error), path) from None
        if sequence.increment == 0:
            raise ConversionError("a sequence's `increment` cannot be 0", (*path, "increment"))
        least, greatest = defaults(sequence.type, sequence.increment)
        minimum = least if sequence.min is None else sequence.min
        maximum = greatest if sequence.max is None else sequence.max
        start = sequence.start
        if start is None:
            start = minimum if sequence.increment > 0 else maximum
        if not minimum <= start <= maximum:
            raise ConversionError(
                f"`start` {start} is outside `min` {minimum} .. `max` {maximum}", path
            )
        result[(schema, name)] = Sequence(
            schema=schema,
            name=name,
            type=sequence.type,
            start=start,
            increment=sequence.increment,
            minimum=minimum,
            maximum=maximum,
            cache=sequence.cache,
            cycle=sequence.cycle,
            owned_by=owned_by,
            comment=sequence.comment,
            line=line(path),
        )
    return result


def identity(
    spec: str | IdentitySpec | None, column_type: str, path: Path
) -> tuple[str | None, IdentityOptions]:
    """A column's `identity:` as its kind and the options that differ from the defaults (a
    `start` written at `min` is the default, not an option)."""
    if not isinstance(spec, IdentitySpec):
        return spec, ()
    if spec.increment == 0:
        raise ConversionError("an identity's `increment` cannot be 0", (*path, "increment"))
    given = spec.model_dump(exclude={"generated"}, exclude_none=True)
    sequence = identity_sequence(column_type, given.items())
    least, _ = defaults(sequence.type, -1)
    _, greatest = defaults(sequence.type, 1)
    if not least <= sequence.minimum <= sequence.start <= sequence.maximum <= greatest:
        raise ConversionError(
            f"`start` {sequence.start} is outside `min` {sequence.minimum} .. `max` "
            f"{sequence.maximum}, or those outside {sequence.type}'s {least} .. {greatest}",
            path,
        )
    return spec.generated, identity_options(column_type, sequence)


def extensions(spec: LockHead, line: Line) -> dict[tuple[str, str], Extension]:
    """Every extension but plpgsql (in every database: nothing to promise)."""
    return {
        (extension.schema_, name): Extension(
            schema=extension.schema_,
            name=name,
            version=extension.version,
            line=line(("extensions", name)),
        )
        for name, extension in spec.extensions.items()
        if name != ALWAYS_THERE
    }
