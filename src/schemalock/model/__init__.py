"""The one schema model, produced by both the lock loader and the live introspector.

Both sides canonicalize before building it (type names through `schemalock.model.types`, serial
defaults as `OWNED_SEQUENCE`), so comparing a lock with a database compares like with like.
Fields marked `compare=False` are provenance (lock-file lines, constraint names) or documentation,
never drift by themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from fnmatch import fnmatchcase
from typing import Any

from schemalock.model.exclusions import ExclusionConstraint
from schemalock.model.extensions import Extension
from schemalock.model.grants import GLOBAL, Grant
from schemalock.model.partitions import Partition
from schemalock.model.policies import Policy, RowSecurity

# Kinds outside tables, one module each (they import nothing from here at run time).
from schemalock.model.routines import Routine
from schemalock.model.sequences import IdentityOptions, Sequence
from schemalock.model.triggers import Trigger
from schemalock.model.views import View

# The default of a serial column: nextval() of a sequence the column owns.  The sequence name is
# an implementation detail (and is truncated for long table names), so it is not compared.
OWNED_SEQUENCE = "nextval(<owned sequence>)"

DEFAULT_SCHEMA = "public"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    identity: str | None = None  # "always" | "by default"
    # The identity's sequence options that differ from PostgreSQL's defaults for the column's
    # type (`sequences.identity_options`); () for none, or for a column without identity.
    identity_options: IdentityOptions = ()
    generated: str | None = None  # expression of a generated column
    generated_storage: str | None = None  # "stored" | "virtual"
    # COLLATE: None is the type's own (the live column's attcollation is its type's).
    collation: str | None = None
    comment: str | None = field(default=None, compare=False)
    # Data rules and documentation carried by the lock only.
    pattern: str | None = field(default=None, compare=False)
    values: tuple[str, ...] | None = field(default=None, compare=False)
    renamed_from: str | None = field(default=None, compare=False)
    mock_data: bool = field(default=True, compare=False)
    critical: bool = field(default=False, compare=False)
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class PrimaryKey:
    columns: tuple[str, ...]
    name: str | None = field(default=None, compare=False)
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ForeignKey:
    columns: tuple[str, ...]
    ref_schema: str
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "no action"
    on_update: str = "no action"
    match: str = "simple"
    deferrable: bool = False
    initially_deferred: bool = False
    # Live: whether PostgreSQL has checked every row (NOT VALID checks new rows only).  Lock:
    # False says the key is knowingly left NOT VALID, so it is not reported as a gap.
    validated: bool = field(default=True, compare=False)
    name: str | None = field(default=None, compare=False)
    line: int | None = field(default=None, compare=False)
    # A key into one partition of the partitioned table `ref_table` (schema, name): the
    # partition is what REFERENCES names; the lock lists its table, never its partitions.
    ref_partition: tuple[str, str] | None = None

    @property
    def target(self) -> tuple[str, str, tuple[str, ...], tuple[str, str] | None]:
        return (self.ref_schema, self.ref_table, self.ref_columns, self.ref_partition)

    @property
    def referenced(self) -> tuple[str, str]:
        """(schema, name) of the table REFERENCES names: the partition, if the key is into
        one, else `ref_table`."""
        return self.ref_partition or (self.ref_schema, self.ref_table)


@dataclass(frozen=True, slots=True)
class UniqueConstraint:
    columns: tuple[str, ...]
    nulls_not_distinct: bool = False
    name: str | None = field(default=None, compare=False)
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class CheckConstraint:
    expression: str
    name: str | None = field(default=None, compare=False)
    # As for ForeignKey: live, whether every row was checked; lock, False for a check knowingly
    # left NOT VALID.
    validated: bool = field(default=True, compare=False)
    line: int | None = field(default=None, compare=False)
    # NO INHERIT: the check holds for the table's own rows only, not its children's.  Compared
    # apart from the expression (`compare.aspects`).
    no_inherit: bool = field(default=False, compare=False)


@dataclass(frozen=True, slots=True)
class Index:
    """A stand-alone index (indexes backing a primary key or unique constraint are not listed)."""

    name: str = field(compare=False)
    keys: tuple[str, ...]  # column names or expressions, with any opclass / DESC / NULLS
    unique: bool = False
    method: str = "btree"
    where: str | None = None
    include: tuple[str, ...] = ()
    nulls_not_distinct: bool = False
    valid: bool = field(default=True, compare=False)
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Table:
    schema: str
    name: str
    columns: tuple[Column, ...] = ()
    primary_key: PrimaryKey | None = None
    foreign_keys: tuple[ForeignKey, ...] = ()
    uniques: tuple[UniqueConstraint, ...] = ()
    checks: tuple[CheckConstraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    partition_by: str | None = None
    # A partitioned table's partitions (`model.partitions`); None: not partitioned, or a lock
    # that does not list them (its partitions are then not compared).
    partitions: tuple[Partition, ...] | None = None
    # The tables this one inherits from (legacy inheritance, not partitioning), in order.
    inherits: tuple[tuple[str, str], ...] = ()
    # Storage parameters (reloptions: fillfactor, autovacuum_*, ...) as sorted (name, value)
    # pairs, and exclusion constraints (`model.exclusions`).
    options: tuple[tuple[str, str], ...] = ()
    exclusions: tuple[ExclusionConstraint, ...] = ()
    comment: str | None = field(default=None, compare=False)
    # Documentation carried by the lock only.
    purpose: str | None = field(default=None, compare=False)
    wiring: str | None = field(default=None, compare=False)
    endpoints: tuple[str, ...] = field(default=(), compare=False)
    critical: bool = field(default=False, compare=False)
    legacy: bool = field(default=False, compare=False)
    duplicate_of: str | None = field(default=None, compare=False)
    renamed_from: str | None = field(default=None, compare=False)
    mock_data: bool = field(default=True, compare=False)
    line: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)

    def column(self, name: str) -> Column | None:
        for column in self.columns:
            if column.name == name:
                return column
        return None


@dataclass(frozen=True, slots=True)
class Enum:
    schema: str
    name: str
    labels: tuple[str, ...]
    line: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)


@dataclass(frozen=True, slots=True)
class Domain:
    schema: str
    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    checks: tuple[CheckConstraint, ...] = ()
    line: int | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema, self.name)


@dataclass(frozen=True, slots=True)
class Database:
    """A database as far as the lock covers it: tables, enums, domains and views by (schema,
    name), routines by (schema, name, argument types), triggers by (schema, table, name)."""

    tables: dict[tuple[str, str], Table] = field(default_factory=dict)
    enums: dict[tuple[str, str], Enum] = field(default_factory=dict)
    domains: dict[tuple[str, str], Domain] = field(default_factory=dict)
    schemas: tuple[str, ...] = (DEFAULT_SCHEMA,)
    # Live only: types a cast function outside pg_catalog converts (user code would run).
    user_casts: frozenset[str] = field(default=frozenset(), compare=False)
    views: dict[tuple[str, str], View] = field(default_factory=dict)
    routines: dict[tuple[str, str, tuple[str, ...]], Routine] = field(default_factory=dict)
    triggers: dict[tuple[str, str, str], Trigger] = field(default_factory=dict)
    # Tables whose row-level security is enabled or forced, by (schema, table); policies by
    # (schema, table, name).
    row_security: dict[tuple[str, str], RowSecurity] = field(default_factory=dict)
    policies: dict[tuple[str, str, str], Policy] = field(default_factory=dict)
    # Sequences no column uses as its serial or identity sequence, by (schema, name).
    sequences: dict[tuple[str, str], Sequence] = field(default_factory=dict)
    # Extensions by (schema, name): the schema their objects are in.
    extensions: dict[tuple[str, str], Extension] = field(default_factory=dict)
    # Privileges by (schema, on, object, column, role): see `model.grants`.
    grants: dict[tuple[str, str, str, str, str], Grant] = field(default_factory=dict)
    # Live only: the roles of the cluster (None: not read, as in a lock).
    roles: frozenset[str] | None = field(default=None, compare=False)
    # Lock only: the roles `grants:` names; only their privileges are compared.
    grant_roles: frozenset[str] = field(default=frozenset(), compare=False)
    # Live only: what the database holds that no kind above models, as (kind, qualified
    # name) pairs, e.g. ("event trigger", "audit_ddl"): the report's "not covered".
    uncovered: tuple[tuple[str, str], ...] = field(default=(), compare=False)
    # Live only, when every schema was looked at (verify): the database's schemas the lock
    # does not cover and does not ignore, with all they hold; `schemas` then holds only the
    # covered schemas that exist.  None: only the covered schemas were read.
    elsewhere: Database | None = field(default=None, compare=False)

    def kinds(self) -> dict[str, dict[Any, Any]]:
        """The objects of each kind (KINDS), by key, the schema first in every key."""
        return {kind: getattr(self, attribute) for kind, attribute in KINDS.items()}

    def covering(self, covered: tuple[str, ...], skip: Callable[[str], bool]) -> Database:
        """A database read whole (every schema in `schemas`) as a lock covering `covered`
        sees it: the covered schemas it has, and `elsewhere` the others but those `skip`s."""
        others = tuple(s for s in self.schemas if s not in covered and not skip(s))
        live = self.within(tuple(s for s in covered if s in self.schemas))
        return replace(live, elsewhere=self.within(others, database_wide=False))

    def within(self, schemas: tuple[str, ...], database_wide: bool = True) -> Database:
        """The objects of these schemas only, and (`database_wide`) those of no schema:
        global default privileges (schema GLOBAL)."""
        kept: dict[str, Any] = {
            attribute: {
                k: v
                for k, v in getattr(self, attribute).items()
                if k[0] in schemas or (database_wide and k[0] == GLOBAL)
            }
            for attribute in KINDS.values()
        }
        return replace(self, schemas=schemas, **kept)


# Each kind of object a Database holds, and the attribute that holds it (by key).
KINDS = {
    "table": "tables",
    "enum": "enums",
    "domain": "domains",
    "view": "views",
    "function": "routines",
    "trigger": "triggers",
    "row-level security": "row_security",
    "policy": "policies",
    "sequence": "sequences",
    "extension": "extensions",
    "grant": "grants",
}


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    require_host: tuple[str, ...] = ()
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class LockSettings:
    """The lock file's `database:` and `environments:` sections and where things sit."""

    name: str | None = None
    expected_tables: int | None = None
    ignore: tuple[str, ...] = ()
    # `exact`: the lock's comments are the database's, compared (snapshot's); `documentation`:
    # notes for people, never compared.
    comments: str = "documentation"
    environments: dict[str, Environment] = field(default_factory=dict)
    tables_line: int | None = None
    enums_line: int | None = None
    domains_line: int | None = None
    expected_tables_line: int | None = None
    # The line of every top-level section the lock has (`views`, `functions`, `database`,
    # ...): where an extra object of that kind would belong.
    section_lines: dict[str, int] = field(default_factory=dict)

    def ignores_schema(self, schema: str) -> bool:
        """Whether `ignore` leaves a schema out whole: a pattern `schema.*` (or a glob of
        schemas, `tenant_*.*`) matches it."""
        return any(p.endswith(".*") and fnmatchcase(schema, p[:-2]) for p in self.ignore)

    def section_line(self, section: str) -> int | None:
        """The line of a section, else of `tables:`: where an extra object is reported."""
        return self.section_lines.get(section, self.tables_line)


@dataclass(frozen=True, slots=True)
class Reconcile:
    """A stored total equals an aggregate over the rows that reference its row."""

    table: tuple[str, str]  # the table holding the total
    column: str  # the total
    source: tuple[str, str]  # the table aggregated
    measure: str | None  # the column summed; None counts rows
    by: tuple[tuple[str, str], ...]  # (source column, total-table column) pairs, AND-ed
    where: str | None = None  # which source rows count; may name both tables


@dataclass(frozen=True, slots=True)
class Implies:
    """Per row: `when` holds, so `then` must too."""

    table: tuple[str, str]
    when: str
    then: str


@dataclass(frozen=True, slots=True)
class Freshness:
    """No row matching `where` has a `column` timestamp older than `within`."""

    table: tuple[str, str]
    column: str
    within: str  # a PostgreSQL interval, e.g. "2 hours"
    where: str | None = None


@dataclass(frozen=True, slots=True)
class CustomCheck:
    """A SELECT, kept in a `.sql` file, that returns the violating rows."""

    path: str  # as the lock names it
    sql: str
    table: tuple[str, str] | None = None  # what its rows are about, for the report
    file_read: str = field(default="", compare=False)  # `path` under the lock's folder


Check = Reconcile | Implies | Freshness | CustomCheck


@dataclass(frozen=True, slots=True)
class Invariant:
    flow: str
    name: str
    check: Check
    description: str | None = None
    line: int | None = field(default=None, compare=False)

    @property
    def kind(self) -> str:
        return {
            Reconcile: "reconcile",
            Implies: "implies",
            Freshness: "freshness",
            CustomCheck: "sql",
        }[type(self.check)]

    @property
    def table(self) -> tuple[str, str] | None:
        return self.check.table


@dataclass(frozen=True, slots=True)
class Flow:
    name: str
    path: str  # the data path as the team writes it, e.g. "Job Completion -> quota_usage ..."
    description: str | None = None
    invariants: tuple[Invariant, ...] = ()
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class QueryContract:
    """A query the application runs, with the parameter types it sends."""

    name: str
    sql: str
    params: tuple[str, ...] = ()
    endpoint: str | None = None
    description: str | None = None
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Waiver:
    """An accepted exception: the findings of `rule` (a code, a code prefix, a name, or
    `regression` for any regression `diff` reports) on the objects `object` matches (a
    shell-style glob on the qualified name, `public.jobs.*`) are reported as waived for
    `reason`, until `expires` (from that day on it waives nothing)."""

    rule: str
    object: str
    reason: str
    expires: date | None = None
    owner: str | None = None
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Lock:
    path: str
    sha256: str
    database: Database
    settings: LockSettings
    flows: tuple[Flow, ...] = ()
    queries: tuple[QueryContract, ...] = ()
    waivers: tuple[Waiver, ...] = ()
