"""The lock file format, version 1: what `schema_lock.yaml` may contain.

These pydantic models describe the file as written (syntax); `schemalock.lock.convert` turns them
into the normalized `schemalock.model` (semantics).  The committed `schema_lock.schema.json` is
generated from them (`schemalock schema`), so editors and the CLI validate the same way.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from schemalock.lock.format_aspects import (
    COLLATION_DESCRIPTION,
    EXCLUSIONS_DESCRIPTION,
    OPTIONS_DESCRIPTION,
    ExclusionSpec,
    OptionValue,
)

# Sections of the kinds outside tables, one module each.
from schemalock.lock.format_base import IndexSpec as IndexSpec
from schemalock.lock.format_base import Strict
from schemalock.lock.format_constraints import (
    CheckSpec,
    FkAction,
    ForeignKeySpec,
    UniqueSpec,
)
from schemalock.lock.format_grants import GrantsSpec
from schemalock.lock.format_objects import FunctionSpec, TriggerSpec, ViewSpec
from schemalock.lock.format_partitions import (
    INHERITS_DESCRIPTION,
    PARTITIONS_DESCRIPTION,
    PartitionSpec,
)
from schemalock.lock.format_security import RowSecuritySpec
from schemalock.lock.format_sequences import (
    IDENTITY_DESCRIPTION,
    ExtensionSpec,
    IdentitySpec,
    SequenceSpec,
)

FORMAT_VERSION = 1
SCHEMA_ID = "https://schemalock.dev/schema_lock.schema.json"

SqlText = str  # an SQL expression, kept as written (as in format_base)
# A default or generation expression: SQL text, or a plain number or boolean that stands for
# itself (`default: 0`), which the loader turns into that text.
SqlValue = Annotated[
    str,
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}),
]


def _sql_scalar(value: Any) -> Any:
    """`default: 0` and `default: false` are SQL expressions too; keep them as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


_Strict = Strict


class ColumnSpec(_Strict):
    type: str = Field(
        description="Column type; aliases accepted (`int4`, `varchar(255)`, "
        "`timestamptz`, `text[]`); `serial` means integer with an owned sequence."
    )
    nullable: bool | None = Field(
        default=None, description="Whether NULL is allowed (default true; false for primary keys)."
    )
    default: SqlValue | None = Field(
        default=None, description="Default value, as an SQL expression."
    )
    identity: Literal["always", "by default"] | IdentitySpec | None = Field(
        default=None, description=IDENTITY_DESCRIPTION
    )
    generated: SqlValue | None = Field(
        default=None, description="Expression of a generated column (GENERATED ALWAYS AS ...)."
    )
    generated_storage: Literal["stored", "virtual"] | None = Field(
        default=None, description="Storage of a generated column (default stored)."
    )
    collation: str | None = Field(default=None, description=COLLATION_DESCRIPTION)
    primary_key: bool = Field(default=False, description="This column alone is the primary key.")
    unique: bool = Field(default=False, description="A unique constraint on this column alone.")
    references: str | None = Field(
        default=None,
        description="Foreign key target: `table.column` (same schema) or `schema.table.column`.",
    )
    on_delete: FkAction | None = None
    on_update: FkAction | None = None
    pattern: str | None = Field(
        default=None, description="Regular expression every non-null value must match."
    )
    values: list[str | int | float | bool] | None = Field(
        default=None, description="Accepted values."
    )
    comment: str | None = None
    critical: bool = Field(
        default=False,
        description="A column the product cannot run without (documentation, as in `docs`).",
    )
    renamed_from: str | None = Field(
        default=None, description="Former name: a rename is reported as one finding."
    )
    mock_data: bool = Field(
        default=True,
        description="Scan this column for mock data (false: it holds test data "
        "on purpose, e.g. a sandbox flag).",
    )

    _normalize_default = field_validator("default", "generated", mode="before")(_sql_scalar)


class TableSpec(_Strict):
    purpose: str | None = None
    wiring: str | None = None
    endpoints: list[str] = Field(default_factory=list)
    critical: bool = False
    legacy: bool = False
    duplicate_of: str | None = Field(
        default=None, description="The canonical table this legacy table duplicates."
    )
    comment: str | None = None
    renamed_from: str | None = Field(default=None, description="Former table name.")
    partition_by: str | None = Field(
        default=None, description="Partition key of a partitioned table, e.g. `RANGE (created_at)`."
    )
    partitions: dict[str, str | PartitionSpec] | None = Field(
        default=None, description=PARTITIONS_DESCRIPTION
    )
    inherits: list[str] = Field(default_factory=list, description=INHERITS_DESCRIPTION)
    mock_data: bool = Field(default=True, description="Scan this table for mock data.")
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    primary_key: list[str] | None = Field(default=None, description="Composite primary key.")
    foreign_keys: dict[str, ForeignKeySpec] = Field(
        default_factory=dict, description="Foreign keys by constraint name."
    )
    unique: dict[str, UniqueSpec] = Field(
        default_factory=dict, description="Unique constraints by name."
    )
    checks: dict[str, SqlText | CheckSpec] = Field(
        default_factory=dict,
        description="Check constraints by name: a boolean SQL expression, or "
        "`{expression: ..., validated: false}` for one knowingly left NOT VALID "
        "(`no_inherit: true` for a NO INHERIT one).",
    )
    indexes: dict[str, IndexSpec] = Field(default_factory=dict, description="Indexes by name.")
    exclusions: dict[str, str | ExclusionSpec] = Field(
        default_factory=dict, description=EXCLUSIONS_DESCRIPTION
    )
    options: dict[str, OptionValue] = Field(default_factory=dict, description=OPTIONS_DESCRIPTION)


class DomainSpec(_Strict):
    type: str
    nullable: bool = True
    default: SqlValue | None = None
    checks: dict[str, SqlText] = Field(default_factory=dict)

    _normalize_default = field_validator("default", mode="before")(_sql_scalar)


class DatabaseSpec(_Strict):
    name: str | None = None
    expected_tables: int | None = Field(
        default=None, ge=0, description="How many tables the database should hold."
    )
    schemas: list[str] = Field(
        default_factory=lambda: ["public"],
        description="Schemas the lock covers; verify reports every other schema of the "
        "database (`extra-schema`) unless `ignore` has `schema.*` for it.",
    )
    ignore: list[str] = Field(
        default_factory=list,
        description="Tables, views and functions to leave out entirely (`name`, `schema.name`, "
        "shell-style globs; a trigger goes with its table); `schema.*` leaves a whole schema "
        "out (verify then neither reads nor reports it).",
    )
    comments: Literal["exact", "documentation"] = Field(
        default="documentation",
        description="What the lock's `comment:` fields are: `documentation` (the default, for "
        "a lock written by hand) notes for people, never compared; `exact` (what `snapshot` "
        "writes, with every comment the database has) the database's COMMENT ON texts, "
        "compared both ways (`comment-changed`): a comment the lock does not give is none.",
    )


class EnvironmentSpec(_Strict):
    require_host: list[str] = Field(
        default_factory=list,
        description="Host patterns (shell-style, e.g. `*.neon.tech`) a connection must match.",
    )


class ReconcileSpec(_Strict):
    total: str = Field(description="The stored total: `table.column`.")
    sum_of: str | None = Field(
        default=None, description="The column summed: `table.column` of the referencing table."
    )
    count_of: str | None = Field(
        default=None, description="Instead of `sum_of`: the referencing table whose rows count."
    )
    by: str | dict[str, str] = Field(
        description="How rows reference the total's row: a column of the summed table that "
        "holds the total table's primary key, or `{summed column: total-table column}`."
    )
    where: SqlText | None = Field(
        default=None,
        description="Which rows count: a boolean expression that may name both tables.",
    )


class ImpliesSpec(_Strict):
    table: str
    when: SqlText = Field(description="Boolean expression over the table's row.")
    then: SqlText = Field(
        description="What must then hold; may use EXISTS (SELECT ... FROM other tables ...)."
    )


class FreshnessSpec(_Strict):
    table: str
    column: str = Field(description="The timestamp that must be recent.")
    within: str = Field(description="A PostgreSQL interval, e.g. `15 minutes`, `2 hours`.")
    where: SqlText | None = Field(default=None, description="Which rows must be fresh.")


class InvariantSpec(_Strict):
    """Exactly one of `reconcile`, `implies`, `freshness` or `sql`."""

    name: str | None = Field(default=None, description="Named in findings; default `<kind>_<n>`.")
    description: str | None = None
    reconcile: ReconcileSpec | None = None
    implies: ImpliesSpec | None = None
    freshness: FreshnessSpec | None = None
    sql: str | None = Field(
        default=None,
        description="A `.sql` file (relative to the lock file) holding one SELECT that returns "
        "the violating rows.",
    )
    table: str | None = Field(default=None, description="With `sql`: the table its rows are about.")

    @model_validator(mode="after")
    def _one_kind(self) -> InvariantSpec:
        kinds = [k for k in INVARIANT_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"an invariant has exactly one of {', '.join(INVARIANT_KINDS)}"
                + (f" (this one has {' and '.join(kinds)})" if kinds else "")
            )
        return self


INVARIANT_KINDS = ("reconcile", "implies", "freshness", "sql")


class FlowSpec(_Strict):
    path: str = Field(description="The data path, e.g. `Job Completion -> quota_usage -> ...`.")
    description: str | None = None
    invariants: list[InvariantSpec] = Field(default_factory=list)


class QuerySpec(_Strict):
    sql: str = Field(description="The query as the application sends it, `$1`, `$2` for params.")
    params: list[str] = Field(
        default_factory=list, description="Parameter types the application sends, in order."
    )
    endpoint: str | None = Field(default=None, description="The API endpoint that runs it.")
    description: str | None = None


class WaiverSpec(_Strict):
    """An accepted exception, with its reason, reviewed like any other change to the lock."""

    rule: str = Field(
        min_length=1,
        description="The rule waived: a code (`SL102`), a name (`extra-table`), or a "
        "category (`data`; `regression`: any regression `schemalock diff` reports). Not a "
        "code prefix (`SL4`): that is for `--select`.",
    )
    object: str = Field(
        min_length=1,
        description="The objects waived: a shell-style glob on the finding's qualified name as "
        "the lock spells it, `schema.table`, `schema.table.column` or "
        "`schema.table.constraint` (`public.orgs`, `public.jobs.*`, `*` for every object).",
    )
    reason: str = Field(
        description="Why the finding is accepted (required, not empty).",
        json_schema_extra={"pattern": r"\S"},
    )
    expires: date | None = Field(
        default=None,
        description="ISO date (`2027-03-01`) from which the waiver waives nothing and is "
        "reported as expired.",
    )
    owner: str | None = Field(default=None, description="Who answers for it.")

    @field_validator("rule")
    @classmethod
    def _one_rule(cls, rule: str) -> str:
        """A code prefix (`SL`, `SL4`) would waive whole families of rules, today's and those
        added later."""
        if re.fullmatch(r"\s*[Ss][Ll]\d{0,2}\s*", rule):
            raise ValueError(
                f"{rule.strip()!r} is a code prefix: a waiver names one rule (a full code "
                "like SL102, or a name like extra-table) or a category (structure, data, ...)"
            )
        return rule

    @field_validator("reason")
    @classmethod
    def _reason_said(cls, reason: str) -> str:
        if not reason.strip():
            raise ValueError("a waiver needs a reason")
        return reason.strip()

    @field_validator("expires", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        """Only `YYYY-MM-DD`: pydantic would also read a number as a Unix time."""
        if value is None or isinstance(value, date):
            return value
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(f"an ISO date (YYYY-MM-DD) is expected, not {value!r}")
        try:
            return date.fromisoformat(value)
        except ValueError as error:
            raise ValueError(f"{value!r} is not a date: {error}") from None


class LockHead(_Strict):
    """Everything but `tables`, which the loader validates one table at a time against
    `TableSpec`, so a large lock never holds every table's model at once."""

    version: Literal[1] = Field(description="Lock format version.")
    database: DatabaseSpec = Field(default_factory=DatabaseSpec)
    enums: dict[str, list[str]] = Field(
        default_factory=dict, description="Enum types by name, labels in order."
    )
    domains: dict[str, DomainSpec] = Field(default_factory=dict)
    types: list[str] = Field(
        default_factory=list,
        description="Other types the database defines (composite, range, extension types).",
    )
    views: dict[str, ViewSpec] = Field(
        default_factory=dict, description="Views and materialized views by name."
    )
    functions: dict[str, FunctionSpec] = Field(
        default_factory=dict,
        description="Functions and procedures by signature: `name(type, ...)` or "
        "`schema.name(type, ...)`.",
    )
    triggers: dict[str, dict[str, TriggerSpec]] = Field(
        default_factory=dict,
        description="Triggers by table (or view), then by name.",
    )
    row_security: dict[str, RowSecuritySpec] = Field(
        default_factory=dict,
        description="Row-level security by table: enabled, forced, and the table's policies. "
        "A table not listed has row-level security disabled.",
    )
    sequences: dict[str, SequenceSpec] = Field(
        default_factory=dict,
        description="Sequences by name (`name` or `schema.name`), those no column uses as its "
        "serial or identity sequence.",
    )
    extensions: dict[str, ExtensionSpec] = Field(
        default_factory=dict,
        description="Extensions by name: the schema their objects are in, and their version. "
        "What an extension owns belongs to it and is listed nowhere else.",
    )
    grants: GrantsSpec = Field(
        default_factory=GrantsSpec,
        description="Privileges granted to roles, by kind of object, object and role.",
    )
    environments: dict[str, EnvironmentSpec] = Field(
        default_factory=dict,
        description="Policies per environment, applied with `verify --env NAME`.",
    )
    flows: dict[str, FlowSpec] = Field(
        default_factory=dict, description="Data flows and the invariants that prove them."
    )
    queries: dict[str, QuerySpec] = Field(
        default_factory=dict,
        description="Query contracts: prepared (never executed) against the live schema.",
    )
    waivers: list[WaiverSpec] = Field(
        default_factory=list,
        description="Findings accepted for a reason (and until a date): reported as waived, "
        "not counted toward the exit code.",
    )


# The whole file as editors see it: the JSON Schema is generated from this class.
class LockSpec(LockHead):
    """A schemalock lock file: the declared state of a PostgreSQL database."""

    tables: dict[str, TableSpec] = Field(
        default_factory=dict, description="Tables by name (`name` in public, or `schema.name`)."
    )


def json_schema() -> dict[str, Any]:
    """The draft-07 JSON Schema of the lock format (what yaml-language-server supports)."""
    schema = LockSpec.model_json_schema(ref_template="#/definitions/{model}")
    schema["definitions"] = schema.pop("$defs", {})
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "schemalock lock file",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
