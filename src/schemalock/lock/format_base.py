"""What every part of the lock format shares: the strict base model and the specs more than
one section uses (an index: of a table, of a materialized view)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

SqlText = str  # an SQL expression, kept as written


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndexSpec(Strict):
    columns: list[str] = Field(
        min_length=1,
        description="Key columns or expressions, each optionally with opclass, DESC, NULLS FIRST.",
    )
    unique: bool = False
    method: str = "btree"
    where: SqlText | None = Field(default=None, description="Predicate of a partial index.")
    include: list[str] = Field(default_factory=list)
    nulls_not_distinct: bool = False
