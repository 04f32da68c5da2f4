"""The lock format's partitions of a partitioned table (`tables.<name>.partitions`) and the
parents of a table that inherits (`tables.<name>.inherits`); `schemalock.lock.convert_partitions`
turns them into the model."""

from __future__ import annotations

from pydantic import Field

from schemalock.lock.format_aspects import ExclusionSpec
from schemalock.lock.format_base import IndexSpec, SqlText, Strict
from schemalock.lock.format_constraints import (
    OWN_DESCRIPTION,
    CheckSpec,
    ForeignKeySpec,
    UniqueSpec,
)

PARTITIONS_DESCRIPTION = (
    "The partitions of a partitioned table, by name (`name`: the table's schema; "
    "`schema.name` for one in another schema): its bound as PostgreSQL prints it "
    "(`FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')`, `FOR VALUES IN ('eu')`, "
    "`FOR VALUES WITH (modulus 4, remainder 0)`, `DEFAULT`), or `{bound, partition_by, "
    "partitions}` for a partition that is itself partitioned, and `{bound, indexes, checks, "
    "...}` for one with indexes or constraints of its own. Left out, the partitions are "
    "not declared and not compared (a lock written before partitions were locked); "
    "`partitions: {}` declares that there are none."
)


class PartitionSpec(Strict):
    """A partition written in full: its bound in its parent and, when it is itself
    partitioned, its own key and its partitions; the indexes and constraints it has of its
    own."""

    bound: str = Field(description="Its bound in its parent: `FOR VALUES ...` or `DEFAULT`.")
    partition_by: str | None = Field(
        default=None, description="Its own partition key, e.g. `LIST (region)`."
    )
    partitions: dict[str, str | PartitionSpec] | None = Field(
        default=None, description=PARTITIONS_DESCRIPTION
    )
    primary_key: list[str] | None = Field(
        default=None, description=OWN_DESCRIPTION.format(what="primary key")
    )
    foreign_keys: dict[str, ForeignKeySpec] = Field(
        default_factory=dict, description=OWN_DESCRIPTION.format(what="foreign keys, by name")
    )
    unique: dict[str, UniqueSpec] = Field(
        default_factory=dict,
        description=OWN_DESCRIPTION.format(what="unique constraints, by name"),
    )
    checks: dict[str, SqlText | CheckSpec] = Field(
        default_factory=dict, description=OWN_DESCRIPTION.format(what="checks, by name")
    )
    indexes: dict[str, IndexSpec] = Field(
        default_factory=dict, description=OWN_DESCRIPTION.format(what="indexes, by name")
    )
    exclusions: dict[str, str | ExclusionSpec] = Field(
        default_factory=dict,
        description=OWN_DESCRIPTION.format(what="exclusion constraints, by name"),
    )


INHERITS_DESCRIPTION = (
    "The tables this one inherits from (`CREATE TABLE ... INHERITS`, not partitioning), in "
    "order: `name` (the table's schema) or `schema.name`. Left out: it inherits from none."
)
