"""The lock format's table-level aspects besides keys and checks: storage parameters
(`tables.<name>.options`), exclusion constraints (`tables.<name>.exclusions`), and the
descriptions of the column's `collation` and the check's `no_inherit`;
`schemalock.lock.convert_aspects` turns them into the model."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from schemalock.lock.format_base import Strict


def _option_text(value: Any) -> Any:
    """`fillfactor: 70` and `autovacuum_enabled: false` are option values too; kept as the text
    PostgreSQL stores (`70`, `false`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


OptionValue = Annotated[
    str,
    BeforeValidator(_option_text),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}),
]

OPTIONS_DESCRIPTION = (
    'Storage parameters as `WITH (...)` sets them, by name: `{fillfactor: "70", '
    'autovacuum_enabled: "false"}`. Left out: none (PostgreSQL\'s defaults).'
)
EXCLUSIONS_DESCRIPTION = (
    "Exclusion constraints by name: the definition as PostgreSQL prints it (`EXCLUDE USING "
    "gist (room_id WITH =, during WITH &&) WHERE (active)`), or `{definition: ..., "
    "deferrable: true, initially_deferred: true}`. Compared on PostgreSQL's parse tree."
)
COLLATION_DESCRIPTION = (
    "The column's collation (`COLLATE`), e.g. `C`, `en-x-icu`, `schema.name` for one outside "
    "pg_catalog. Left out: its type's default collation."
)
NO_INHERIT_DESCRIPTION = (
    "true: the check is NO INHERIT, it holds for this table's own rows only, never for the "
    "tables that inherit from it."
)


class ExclusionSpec(Strict):
    """An exclusion constraint written in full, to say it is deferrable."""

    definition: str = Field(
        description="`EXCLUDE [USING method] (element WITH operator, ...) [WHERE (...)]`."
    )
    deferrable: bool = False
    initially_deferred: bool = False
