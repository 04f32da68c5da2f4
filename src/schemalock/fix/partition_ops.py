"""The operation that creates a partition (`CREATE TABLE ... PARTITION OF`): one SQL statement
as `operations.Sql` is, rendered as it is, named apart so that the downgrade drops the
partition only while it is empty (`revision`'s guard, as for a created table)."""

from __future__ import annotations

from dataclasses import dataclass

from schemalock.fix import operations as fo
from schemalock.model.names import qualified


@dataclass
class CreatePartition(fo.Sql):
    target: str = ""  # the partition, quoted and qualified


def create_partition(
    partition: tuple[str, str], parent: tuple[str, str], bound: str, partition_by: str | None
) -> CreatePartition:
    """The statement for a partition; `bound` and `partition_by` are the lock's, already read
    back through PostgreSQL's parser (`canonical_sql`): nothing else reaches the statement.
    Its undo drops it, which detaches it first (and takes its own partitions along)."""
    target = qualified(*partition)
    sub = f" PARTITION BY {partition_by}" if partition_by else ""
    text = f"CREATE TABLE {target} PARTITION OF {qualified(*parent)} {bound}{sub}"
    return CreatePartition(text, undo=f"DROP TABLE {target}", target=target)
