"""The lock format's keys and checks of a table (`tables.<name>.foreign_keys`, `unique`,
`checks`), which a partition's own ones (`partitions.<name>.foreign_keys`, ...) share;
`schemalock.lock.convert` turns them into the model."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemalock.lock.format_aspects import NO_INHERIT_DESCRIPTION
from schemalock.lock.format_base import SqlText, Strict

FkAction = Literal["no action", "restrict", "cascade", "set null", "set default"]
_Strict = Strict

OWN_DESCRIPTION = (
    "The partition's own {what}, in the shape of a table's: made on this partition alone, "
    "not attached to or inherited from its parent's (those are its parent's)."
)


class ReferenceSpec(_Strict):
    table: str = Field(description="Referenced table: `name` (same schema) or `schema.name`.")
    columns: list[str] = Field(min_length=1, description="Referenced columns, in key order.")
    partition: str | None = Field(
        default=None,
        description="The partition of the partitioned `table` the key references, when it "
        "references one partition rather than the whole table: `name` (the table's schema) "
        "or `schema.name`.",
    )


class ForeignKeySpec(_Strict):
    columns: list[str] = Field(min_length=1)
    references: ReferenceSpec
    on_delete: FkAction = "no action"
    on_update: FkAction = "no action"
    match: Literal["simple", "full"] = "simple"
    deferrable: bool = False
    initially_deferred: bool = False
    validated: bool = Field(
        default=True,
        description="false: the key is knowingly left NOT VALID (rows written before it were "
        "never checked); `fk-not-validated` then stays silent and `fix` does not validate it.",
    )


class CheckSpec(_Strict):
    """A check written in full, to say it is knowingly NOT VALID, or NO INHERIT."""

    expression: SqlText = Field(description="A boolean SQL expression.")
    validated: bool = Field(
        default=True,
        description="false: the check is knowingly left NOT VALID (rows written before it were "
        "never checked); `check-not-validated` then stays silent and `fix` does not validate it.",
    )
    no_inherit: bool = Field(default=False, description=NO_INHERIT_DESCRIPTION)


class UniqueSpec(_Strict):
    columns: list[str] = Field(min_length=1)
    nulls_not_distinct: bool = False
