"""Table-level aspects read with the tables, columns and constraints (tables.sql, columns.sql,
constraints.sql): storage parameters, exclusion constraints, a column's collation and its
identity's sequence options."""

from __future__ import annotations

import re

from schemalock.model import names
from schemalock.model.exclusions import ExclusionConstraint
from schemalock.model.sequences import IdentityOptions, Sequence, identity_options

# What pg_get_constraintdef() appends for a deferrable constraint: a field of its own.
_DEFERRAL = re.compile(r"(\s+DEFERRABLE)?(\s+INITIALLY DEFERRED)?\s*\Z")


def options(reloptions: list[str] | None) -> tuple[tuple[str, str], ...]:
    """A table's storage parameters (`fillfactor=70` texts) as sorted pairs."""
    if not reloptions:
        return ()
    pairs = (option.partition("=") for option in reloptions)
    return tuple(sorted((name, value) for name, _, value in pairs))


def exclusion(
    name: str, definition: str, deferrable: bool, initially_deferred: bool
) -> ExclusionConstraint:
    return ExclusionConstraint(
        definition=_DEFERRAL.sub("", definition),
        deferrable=deferrable,
        initially_deferred=initially_deferred,
        name=name,
    )


def collation(schema: str | None, name: str | None) -> str | None:
    """A column's own collation as the lock spells it: `C`, `"en_US.utf8"` (pg_catalog's, by
    name), `public.german` (another schema's)."""
    if name is None:
        return None
    if schema in (None, "pg_catalog"):
        return names.lock_name(name)
    return names.lock_name(schema, name)


def identity(column_type: str, type_: str | None, values: list[int] | None) -> IdentityOptions:
    """An identity column's sequence options that differ from the defaults for its type, from
    columns.sql's (start, increment, min, max, cache, cycle); () for another column."""
    if type_ is None or values is None:
        return ()
    start, increment, minimum, maximum, cache, cycle = (int(value) for value in values)
    sequence = Sequence("", "", type_, start, increment, minimum, maximum, cache, bool(cycle))
    return identity_options(column_type, sequence)
