"""The lock format's sections for views, functions and triggers (`views:`, `functions:`,
`triggers:`); `schemalock.lock.convert_objects` turns them into the model."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemalock.lock.format_base import IndexSpec, SqlText, Strict


class ViewSpec(Strict):
    """A view, or a materialized view (`materialized: true`)."""

    query: SqlText = Field(
        description="The SELECT it stores. Compared on PostgreSQL's parse tree: formatting, "
        "the catalog's qualifiers and casts are no difference."
    )
    materialized: bool = False
    options: dict[str, str] = Field(
        default_factory=dict,
        description="View options (`security_invoker: 'true'`, `security_barrier: 'true'`, "
        "`check_option: local`), as `WITH (...)` sets them.",
    )
    indexes: dict[str, IndexSpec] = Field(
        default_factory=dict, description="A materialized view's indexes, by name."
    )
    comment: str | None = None


class FunctionSpec(Strict):
    """A function or procedure, keyed by its signature: `name(type, ...)` in public, or
    `schema.name(type, ...)`, the input argument types in order (`add_usage(uuid, integer)`,
    `touch()`)."""

    procedure: bool = Field(default=False, description="A procedure (CALL), not a function.")
    arguments: str | None = Field(
        default=None,
        description="The full argument list when names, modes or defaults matter, as "
        "`pg_get_function_arguments` prints it (`org uuid, amount integer DEFAULT 1`); "
        "compared on the parse tree. Left out: only the types of the key are compared.",
    )
    returns: str | None = Field(
        default=None,
        description="The return type (`integer`, `SETOF jobs`, `TABLE(id uuid, n bigint)`, "
        "`trigger`); none for a procedure.",
    )
    language: str = "sql"
    body: str = Field(
        description="The body: `sql` bodies are compared on their parse tree (a SQL-standard "
        "`BEGIN ATOMIC ... END` or `RETURN ...` too), `plpgsql` on PL/pgSQL's parse tree, "
        "other languages as text, comments and whitespace aside."
    )
    volatility: Literal["immutable", "stable", "volatile"] = "volatile"
    strict: bool = Field(default=False, description="RETURNS NULL ON NULL INPUT.")
    security_definer: bool = Field(
        default=False,
        description="Runs with its owner's privileges; pin `search_path` in `settings`.",
    )
    settings: dict[str, str] = Field(
        default_factory=dict,
        description="`SET` clauses, e.g. `{search_path: 'public, pg_temp'}`.",
    )
    comment: str | None = None


class TriggerSpec(Strict):
    timing: Literal["before", "after", "instead of"]
    events: list[Literal["insert", "update", "delete", "truncate"]] = Field(min_length=1)
    columns: list[str] = Field(
        default_factory=list, description="`UPDATE OF` these columns (with `update` in events)."
    )
    level: Literal["row", "statement"] = "row"
    function: str = Field(
        description="The trigger function: `name` (public) or `schema.name`, no parentheses."
    )
    arguments: list[str] = Field(
        default_factory=list, description="The arguments passed to the function, as text."
    )
    when: SqlText | None = Field(
        default=None, description="The WHEN condition, compared on PostgreSQL's parse tree."
    )
    enabled: Literal["origin", "disabled", "replica", "always"] = Field(
        default="origin",
        description="`ALTER TABLE ... ENABLE/DISABLE TRIGGER`: origin (the default: enabled), "
        "disabled, replica (fires only under replication), always.",
    )
    constraint: bool = Field(default=False, description="A CONSTRAINT TRIGGER.")
    deferrable: bool = False
    initially_deferred: bool = False
    old_table: str | None = Field(default=None, description="REFERENCING OLD TABLE AS name.")
    new_table: str | None = Field(default=None, description="REFERENCING NEW TABLE AS name.")
