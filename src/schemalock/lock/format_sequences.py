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


class IdentitySpec(Strict):
    """An identity column's kind with its sequence's options; those left out are PostgreSQL's
    defaults for the column's type and the direction, as for `sequences:`."""

    generated: Literal["always", "by default"] = Field(
        description="GENERATED ALWAYS / BY DEFAULT AS IDENTITY."
    )
    type: Literal["smallint", "integer", "bigint"] | None = Field(
        default=None,
        description="The sequence's `AS` type; the default is the column's (set apart only "
        "by an ALTER SEQUENCE).",
    )
    start: int | None = Field(
        default=None, description="START WITH; the default is `min` (ascending) or `max`."
    )
    increment: int | None = Field(default=None, description="INCREMENT BY (not 0); default 1.")
    min: int | None = Field(
        default=None, description="MINVALUE; the default is 1, or the type's least (descending)."
    )
    max: int | None = Field(
        default=None, description="MAXVALUE; the default is the type's greatest, or -1."
    )
    cache: int | None = Field(default=None, ge=1, description="CACHE; default 1.")
    cycle: bool | None = Field(default=None, description="CYCLE: wraps around at the end.")


IDENTITY_DESCRIPTION = (
    "GENERATED ALWAYS / BY DEFAULT AS IDENTITY: `always` or `by default`; with its sequence's "
    "options, a mapping: `{generated: always, start: 1000, increment: 10}` (also `type`, "
    "`min`, `max`, `cache`, `cycle`; those left out are PostgreSQL's defaults for the column's "
    "type)."
)


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
