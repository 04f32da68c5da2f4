"""The lock format's partitions of a partitioned table (`tables.<name>.partitions`) and the
parents of a table that inherits (`tables.<name>.inherits`); `schemalock.lock.convert_partitions`
turns them into the model."""

from __future__ import annotations

from pydantic import Field

from schemalock.lock.format_base import Strict

PARTITIONS_DESCRIPTION = (
    "The partitions of a partitioned table, by name (`name`: the table's schema; "
    "`schema.name` for one in another schema): its bound as PostgreSQL prints it "
    "(`FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')`, `FOR VALUES IN ('eu')`, "
    "`FOR VALUES WITH (modulus 4, remainder 0)`, `DEFAULT`), or `{bound, partition_by, "
    "partitions}` for a partition that is itself partitioned. Left out, the partitions are "
    "not declared and not compared (a lock written before partitions were locked); "
    "`partitions: {}` declares that there are none."
)


class PartitionSpec(Strict):
    """A partition that is itself partitioned: its bound in its parent, its own key and its
    partitions."""

    bound: str = Field(description="Its bound in its parent: `FOR VALUES ...` or `DEFAULT`.")
    partition_by: str | None = Field(
        default=None, description="Its own partition key, e.g. `LIST (region)`."
    )
    partitions: dict[str, str | PartitionSpec] | None = Field(
        default=None, description=PARTITIONS_DESCRIPTION
    )


INHERITS_DESCRIPTION = (
    "The tables this one inherits from (`CREATE TABLE ... INHERITS`, not partitioning), in "
    "order: `name` (the table's schema) or `schema.name`. Left out: it inherits from none."
)
