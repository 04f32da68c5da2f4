"""The lock format's `sequences:` and `extensions:` sections; `schemalock.lock.convert_sequences`
turns them into the model."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemalock.lock.format_base import Strict


class SequenceSpec(Strict):
    """A sequence no column uses as its serial or identity sequence (those are the column's),
    keyed `name` (public) or `schema.name`. Options left out are PostgreSQL's defaults for the
    type and direction."""

    type: Literal["smallint", "integer", "bigint"] = Field(
        default="bigint", description="`AS smallint|integer|bigint`."
    )
    start: int | None = Field(
        default=None, description="START WITH; the default is `min` (ascending) or `max`."
    )
    increment: int = Field(default=1, description="INCREMENT BY (not 0).")
    min: int | None = Field(
        default=None, description="MINVALUE; the default is 1, or the type's least (descending)."
    )
    max: int | None = Field(
        default=None, description="MAXVALUE; the default is the type's greatest, or -1."
    )
    cache: int = Field(default=1, ge=1, description="CACHE.")
    cycle: bool = Field(default=False, description="CYCLE: wraps around at the end.")
    owned_by: str | None = Field(
        default=None,
        description="OWNED BY `table.column` or `schema.table.column`: dropped with the "
        "column (without being its default).",
    )
    comment: str | None = None


class ExtensionSpec(Strict):
    """An extension (`CREATE EXTENSION`), keyed by its name. `plpgsql` is in every database:
    not listed."""

    # `schema` is a BaseModel attribute: the field is `schema_`, spelled `schema` in the lock.
    schema_: str = Field(
        default="public", alias="schema", description="The schema its objects are in."
    )
    version: str | None = Field(
        default=None,
        description="The installed version (`extversion`); a difference is a warning (an "
        "upgrade is usually meant). Left out: not compared.",
    )
