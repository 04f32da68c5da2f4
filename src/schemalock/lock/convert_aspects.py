"""A table's `options:` and `exclusions:`, a column's `collation:` -> the model."""

from __future__ import annotations

import re
from collections.abc import Callable

from schemalock.lock.format_aspects import ExclusionSpec
from schemalock.lock.paths import ConversionError, Path
from schemalock.model import exclusions as model_exclusions
from schemalock.model import names
from schemalock.model.exclusions import ExclusionConstraint

Line = Callable[[Path], "int | None"]

# What a storage parameter's name may be: it reaches `ALTER TABLE ... SET (...)` as written.
_OPTION_NAME = re.compile(r"[a-z_][a-z0-9_.]*\Z")


def options(written: dict[str, str], path: Path) -> tuple[tuple[str, str], ...]:
    """Storage parameters as sorted (name, value) pairs."""
    for name in written:
        if not _OPTION_NAME.match(name):
            raise ConversionError(
                f"{name!r} is not a storage parameter name (lower case, e.g. fillfactor)",
                (*path, name),
            )
    return tuple(sorted(written.items()))


def exclusions(
    written: dict[str, str | ExclusionSpec], path: Path, line: Line
) -> tuple[ExclusionConstraint, ...]:
    """Exclusion constraints in the lock's order, each parsed as exactly one EXCLUDE
    constraint; deferral said in the definition's text counts as said in the fields."""
    found = []
    for name, spec in written.items():
        where: Path = (*path, name)
        definition = spec if isinstance(spec, str) else spec.definition
        error = model_exclusions.parse_error(definition)
        if error is not None:
            raise ConversionError(f"not one exclusion constraint: {error}", where)
        deferrable, deferred = model_exclusions.deferral(definition)
        if isinstance(spec, ExclusionSpec):
            deferrable, deferred = (
                deferrable or spec.deferrable,
                deferred or spec.initially_deferred,
            )
        if deferred and not deferrable:
            raise ConversionError("`initially_deferred` needs `deferrable: true`", where)
        found.append(
            ExclusionConstraint(
                definition=definition,
                deferrable=deferrable,
                initially_deferred=deferred,
                name=name,
                line=line(where),
            )
        )
    return tuple(found)


def collation(written: str | None, path: Path) -> str | None:
    """A collation as the lock spells dotted names (`C`, `"en_US.utf8"`, `public.german`)."""
    if written is None:
        return None
    try:
        parts = names.split(written)
    except names.NameError_ as error:
        raise ConversionError(str(error), path) from None
    if not 1 <= len(parts) <= 2 or not all(parts):
        raise ConversionError(f"collation {written!r}: `name` or `schema.name`", path)
    return names.lock_name(*parts)
