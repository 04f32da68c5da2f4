"""The planner's core: steps, phases, the plan, and the state and building blocks every object
kind's planning shares (schemas to create, types to check, NOT NULL proofs, concurrent builds).

Phases order the plan; within a phase, steps keep the order the differences came in:

1. missing schemas; labels missing from enums (autocommit: committed before they are used);
   enums and domains, then renames, new tables, new columns, data mapping and type changes
   (one transaction);
2. indexes, unique and primary-key indexes: `CREATE INDEX CONCURRENTLY` in an autocommit block;
3. orphan rows moved aside (or deleted or nulled) when `--orphans` says so;
   constraints: unique/primary key adopting those indexes, foreign keys and checks `NOT VALID`;
4. `VALIDATE CONSTRAINT` in autocommit (SHARE UPDATE EXCLUSIVE: reads and writes go on, and
   the lock `ADD CONSTRAINT` took was released by the commit before it);
5. `SET NOT NULL` proven by a validated `CHECK (col IS NOT NULL)`, which is then dropped.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from alembic.operations import MigrateOperation, ops

from schemalock.fix import extensions
from schemalock.fix import operations as fo
from schemalock.fix.options import Orphans as Orphans
from schemalock.fix.plan.sql import (
    canonical_sql,
    free_name,
    lock_hazard,
    rows_text,
    short_name,
)
from schemalock.fix.proofs import Blocker, Prover, Provider
from schemalock.model import (
    OWNED_SEQUENCE,
    Column,
    Database,
    ForeignKey,
    Index,
    Lock,
    Table,
    expressions,
)
from schemalock.model.names import qualified, quote
from schemalock.model.types import type_spelling


class Phase(enum.IntEnum):
    SCHEMAS = enum.auto()  # before anything in them; the downgrade drops them last, if empty
    # Extensions provide types and functions the tables, routines and indexes may use.
    EXTENSIONS = enum.auto()
    # Labels added to an existing enum, in an autocommit block: a label added in a transaction
    # cannot be used in it (and before PostgreSQL 12 not even added in one), and a domain's
    # check or a conversion the plan makes next may need it.
    LABELS = enum.auto()
    TYPES = enum.auto()  # enums, then domains (which may be over an enum): before the tables
    SEQUENCES = enum.auto()  # before the columns whose defaults call nextval() on them
    # Views over a column being converted, or over a view or function being dropped and
    # created again: dropped first (PostgreSQL refuses otherwise), created again in VIEWS.
    DETACH = enum.auto()
    STRUCTURE = enum.auto()
    # Functions once the tables and columns their bodies read exist; views after the
    # functions they call; a sequence OWNED BY a column once the column exists.
    ROUTINES = enum.auto()
    VIEWS = enum.auto()
    SEQUENCE_OWNERS = enum.auto()
    CONCURRENT = enum.auto()
    DATA = enum.auto()  # before the constraints, so a downgrade drops them before putting rows back
    CONSTRAINTS = enum.auto()
    VALIDATE = enum.auto()
    NOT_NULL = enum.auto()
    KEYS = enum.auto()  # a primary key adopting its index, once its columns are NOT NULL
    # What PostgreSQL allows only once a column is NOT NULL or out of the old primary key:
    # ADD GENERATED AS IDENTITY; DROP NOT NULL of a column the replaced key held.
    AFTER_KEYS = enum.auto()
    # A partition added to an existing partitioned table, once the table's indexes and keys
    # the plan builds are complete: PostgreSQL gives it each of them as it creates it (built
    # before, the partition would hold none and leave the parent's index INVALID).
    PARTITIONS = enum.auto()
    # Foreign keys last: they may lean on a unique or primary key this plan adds, so their
    # downgrade drops them before it.
    FOREIGN_KEYS = enum.auto()
    VALIDATE_FOREIGN_KEYS = enum.auto()
    # Triggers once the rows are where the plan puts them: the plan's own UPDATEs (a mapped
    # reference, a filled column) never fire a trigger it creates.
    TRIGGERS = enum.auto()
    # Policies before row-level security is turned on (enabled without a policy, a table
    # shows no rows to anyone but its owner); privileges last, on objects that exist.
    POLICIES = enum.auto()
    ROW_SECURITY = enum.auto()
    GRANTS = enum.auto()
    COMMENTS = enum.auto()  # on what exists by then, the plan's own objects included


@dataclass
class Step:
    phase: Phase
    title: str
    ops: list[MigrateOperation]
    hazards: list[str] = field(default_factory=list)
    long: bool = False  # a scan or a build: a long statement_timeout, the same short lock_timeout
    # Within a phase: steps of a lower order first (views by their dependencies), then in the
    # order the differences came in.
    order: int = 0


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # reported, left alone or left for later
    refusals: list[str] = field(default_factory=list)  # the data forbids these steps
    # Steps left out because they were refused or depend on a refused one (a partial plan).
    left_out: list[str] = field(default_factory=list)

    @property
    def hazards(self) -> list[str]:
        seen = dict.fromkeys(f"{h} ({s.title})" for s in self.ordered() for h in s.hazards)
        return list(seen)

    def ordered(self) -> list[Step]:
        return sorted(self.steps, key=lambda step: (step.phase, step.order))

    def summary(self) -> list[str]:
        """The steps and their hazards as fix prints them: before `--apply` runs them (the
        flag is the consent; there is no hazard gate)."""
        lines = [f"  - {step.title}" for step in self.ordered()]
        lines.append("hazards:" if self.hazards else "hazards: none")
        lines.extend(f"  - {hazard}" for hazard in self.hazards)
        return lines


@dataclass
class Planner:
    """What every handler reads and writes: both databases, the prover that asks the data, and
    the plan being built."""

    lock: Lock
    live: Database
    prover: Prover
    orphans: Orphans = Orphans.FAIL
    orphan_counts: Callable[[Table, ForeignKey], int] | None = None
    plan: Plan = field(default_factory=Plan)
    _not_null: set[tuple[str, str, str]] = field(default_factory=set)  # proofs planned once
    _schemas: set[str] | None = None  # schemas the database lacks, asked once
    _kinds: set[str] = field(default_factory=set)  # domains: planned in one pass
    _absent_types: dict[str, Provider] | None = None  # types the database lacks, asked once
    _names: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # index names taken
    refused_schemas: set[str] = field(default_factory=set)  # nothing can be created in them
    # What a kind's handlers share across differences (views dropped and created again, the
    # dependency graph read once), by the kind's own key.
    shared: dict[str, Any] = field(default_factory=dict)

    def note(self, text: str) -> None:
        if text not in self.plan.notes:
            self.plan.notes.append(text)

    def add(self, phase: Phase, title: str, *operations: MigrateOperation, **kw: Any) -> None:
        if "hazards" not in kw:
            kw["hazards"] = list(dict.fromkeys(filter(None, map(lock_hazard, operations))))
        self.plan.steps.append(Step(phase, title, list(operations), **kw))

    def refuse(self, what: str, blocker: Blocker, why: str | None = None) -> None:
        """The data forbids a step: what, why, how many rows and the keys of a few."""
        found = f"{what}: {why or blocker.why}"
        if blocker.count is not None:
            found += f": {rows_text(blocker.count)}"
        if blocker.keys:
            found += f" (keys: {', '.join(blocker.keys)})"
        self.plan.refusals.append(found)

    def once(self, kind: str) -> bool:
        """True the first time `kind` is asked for: handlers that plan every object of a kind
        in one pass, whichever finding asked."""
        if kind in self._kinds:
            return False
        self._kinds.add(kind)
        return True

    def types_exist(self, where: str, spelling: str) -> bool:
        """Whether the type exists, or is an enum or domain of the lock, or the type of an
        extension the lock declares (which the plan creates or installs before anything uses
        it).  One that is none of these is refused, naming what could provide it: fix creates
        no other kind of type, and a revision using it could only fail."""
        absent = self.absent()
        element = _element_type(spelling)
        if element not in absent:
            return True
        self.plan.refusals.append(f"{where}: {_missing_type(element, absent[element])}")
        return False

    def absent(self) -> dict[str, Provider]:
        """The types the lock uses (columns, domains' base types) that the database lacks and
        the plan would not create (nor install with their extension), asked in one read."""
        if self._absent_types is None:
            database = self.lock.database
            created = {type_spelling(*key) for key in (*database.enums, *database.domains)}
            used = {_element_type(c.type) for t in database.tables.values() for c in t.columns}
            used |= {_element_type(domain.type) for domain in database.domains.values()}
            missing = self.prover.missing_types(sorted(used - created))
            self._absent_types = {
                spelling: provider
                for spelling, provider in missing.items()
                if not extensions.installs_type(
                    self.prover, database, self.live, spelling, provider
                )
            }
        return self._absent_types

    def create_schema(self, schema: str) -> None:
        """CREATE SCHEMA, once, before anything the plan creates in a schema the database
        lacks; refused (before anything is written) when this role may not create schemas."""
        if self._schemas is None:
            named = {k[0] for kind in self.lock.database.kinds().values() for k in kind}
            named |= set(self.lock.database.schemas)
            self._schemas = self.prover.missing_schemas(sorted(named))
        if schema not in self._schemas:
            return
        self._schemas.discard(schema)  # planned now
        refused = self.prover.schema_creator()
        if refused is not None:
            role, database = refused
            self.refused_schemas.add(schema)
            self.plan.refusals.append(
                f"schema {quote(schema)} does not exist, and role {quote(role)} may not create "
                f"it (no CREATE privilege on database {quote(database)}): ask its owner to run "
                f"CREATE SCHEMA {quote(schema)} AUTHORIZATION {quote(role)}, then run fix again"
            )
            return
        self.add(Phase.SCHEMAS, f"create schema {quote(schema)}", fo.CreateSchema(schema))

    def checked_domain(self, type_name: str) -> bool:
        """Whether `type_name` is a live domain with CHECK constraints."""
        return any(
            domain.checks and type_name in (domain.name, qualified(*key))
            for key, domain in self.live.domains.items()
        )

    def set_not_null(self, table: Table, column: str) -> None:
        where = qualified(table.schema, table.name, column)
        nulls = self.prover.rows(table, f"c.{quote(column)} IS NULL")
        if nulls.count:
            self.refuse(f"NOT NULL on {where}", nulls, "NULL values")
            return
        self.not_null_steps(table, column)

    def not_null_steps(self, table: Table, column: str) -> None:
        """SET NOT NULL without its scan under ACCESS EXCLUSIVE: a CHECK (col IS NOT NULL) added
        NOT VALID, validated in its own transaction, proves it; then it is dropped."""
        if (table.schema, table.name, column) in self._not_null:
            return  # a primary key and the nullability finding both ask for it
        self._not_null.add((table.schema, table.name, column))
        where = qualified(table.schema, table.name, column)
        # Not `<table>_<column>_not_null`: PostgreSQL 18 names its own NOT NULL constraints so.
        check = short_name(f"{table.name}_{column}_not_null_proof")
        condition = f"{quote(column)} IS NOT NULL"
        self.add(
            Phase.CONSTRAINTS,
            f"CHECK ({condition}) NOT VALID on {table.name}",
            ops.CreateCheckConstraintOp(
                check, table.name, condition, schema=table.schema, postgresql_not_valid=True
            ),
        )
        self.validate(table, check, f"{check}, proving {column} has no NULL")
        self.add(
            Phase.NOT_NULL,
            f"SET NOT NULL on {where}, proven by {check}",
            ops.AlterColumnOp(
                table.name,
                column,
                schema=table.schema,
                modify_nullable=False,
                existing_nullable=True,
            ),
            ops.DropConstraintOp(check, table.name, type_="check", schema=table.schema),
        )

    def validate(self, table: Table, name: str, title: str, phase: Phase = Phase.VALIDATE) -> None:
        # Its own transaction: validated in the one that added it NOT VALID, the constraint's
        # stronger lock would be held for the whole scan.
        self.add(
            phase,
            f"validate {title}",
            fo.AutocommitBlock([fo.ValidateConstraint(table.schema, table.name, name)]),
            hazards=[f"scan of {qualified(table.schema, table.name)} (SHARE UPDATE EXCLUSIVE)"],
            long=True,
        )

    def build_concurrently(self, table: Table, title: str, *operations: MigrateOperation) -> None:
        """Index builds CONCURRENTLY: outside a transaction, so in an autocommit block."""
        self.add(
            Phase.CONCURRENT,
            title,
            fo.AutocommitBlock(list(operations)),
            hazards=[f"index build on {qualified(table.schema, table.name)} (concurrent)"],
            long=True,
        )

    def duplicates(self, table: Table, index: Index) -> Blocker | None:
        """Keys a unique index would find twice (columns or expressions, within a partial
        index's rows), over the values the plan leaves: a concurrent build would fail on them
        and leave an INVALID index.  A key holding a column the plan adds and numbers (serial,
        identity) is unique by construction."""
        if any(self.numbered(table, expressions.indexed_column(key)) for key in index.keys):
            return None
        keys = tuple(expressions.key_value(key) for key in index.keys)
        where = canonical_sql(index.where) if index.where else None
        blocker = self.prover.duplicates(
            table, keys, not index.nulls_not_distinct, where, self.planned(table)
        )
        if blocker.count is None:
            self.refuse(
                f"unique {index.name} on {table.name}",
                blocker,
                "its keys cannot be proven unique before the plan has run "
                f"({blocker.why}): run fix again once it has",
            )
            return blocker
        if blocker.count:
            self.refuse(
                f"unique {index.name} on {table.name}",
                Blocker(None, blocker.keys),
                f"{blocker.count} keys held by more than one row",
            )
            return blocker
        return None

    def planned(self, table: Table) -> str | None:
        """The table's rows as the plan's structure steps leave them, for the proofs of what
        comes after (a check, a unique key): a relation, to alias `c`, whose columns hold the
        planned values: a column the plan adds its constant default (or NULL), a converted
        one its USING expression, a renamed one its values under the new name.  A column only
        the plan can fill (serial, identity, a volatile default, a type the plan creates) is
        left out, so a proof reading it cannot run.  None: the plan changes no column here."""
        wanted = self.lock.database.tables.get(table.key)
        if wanted is None:
            return None
        values = {column.name: f"c.{quote(column.name)}" for column in table.columns}
        changed = False
        for column in wanted.columns:
            found = table.column(column.name)
            if found is None and column.renamed_from:
                found = table.column(column.renamed_from)
            if found is not None and found.name == column.name and found.type == column.type:
                continue
            changed = True
            value = self._filled(column) if found is None else self._converted(found, column)
            if value is None:
                values.pop(column.name, None)
            else:
                values[column.name] = value
        if not changed:
            return None
        source = table.name
        if table.name not in {key[1] for key in self.live.tables if key[0] == table.schema}:
            source = wanted.renamed_from or table.name  # the rename comes first, in the plan
        listed = ", ".join(f"{value} AS {quote(name)}" for name, value in values.items())
        return f"(SELECT {listed}, c.ctid FROM {qualified(table.schema, source)} AS c)"

    def numbered(self, table: Table, column: str | None) -> bool:
        """Whether `column` is one the plan adds to `table` with a number for every row (a
        serial or identity column): unique, and never NULL."""
        wanted = self.lock.database.tables.get(table.key)
        added = wanted.column(column) if wanted and column else None
        if added is None or table.column(added.name) is not None:
            return False
        return added.default == OWNED_SEQUENCE or added.identity is not None

    def created_type(self, spelling: str) -> bool:
        """Whether `spelling` (or its element type) is an enum or domain only the plan creates."""
        element = _element_type(spelling)
        database, live = self.lock.database, self.live
        return any(
            type_spelling(*key) == element and key not in known
            for declared, known in ((database.enums, live.enums), (database.domains, live.domains))
            for key in declared
        )

    def _filled(self, column: Column) -> str | None:
        """What an added column holds in existing rows, if the plan tells without running."""
        if column.default == OWNED_SEQUENCE or column.identity or column.generated:
            return None
        spelling = self.proven_as(column.type)
        if spelling is None:
            return None
        if column.default is None:
            return f"CAST(NULL AS {spelling})"
        if not expressions.is_constant(column.default):
            return None  # filled by an UPDATE: now(), gen_random_uuid() differ per run or row
        return f"CAST({canonical_sql(column.default)} AS {spelling})"

    def _converted(self, found: Column, column: Column) -> str | None:
        """A converted (or renamed) column's values: the conversion's `USING col::type`; NULL
        for a value that does not convert (that conversion is refused, with its rows)."""
        value = f"c.{quote(found.name)}"
        if found.type == column.type:
            return value
        spelling = self.proven_as(column.type)
        if spelling is None:
            return None
        cast = f"CAST({value} AS {spelling})"
        valid = self.prover.valid(value, spelling, found.type)
        return cast if valid is None else f"CASE WHEN {valid} THEN {cast} END"

    def proven_as(self, spelling: str) -> str | None:
        """The type a proof reads values of `spelling` as before the plan has run: a domain
        only the plan creates as its base type (arrays keep their brackets; its checks are the
        conversion's to prove), an enum only the plan creates not at all (None), any other
        type as itself."""
        element, suffix = spelling, ""
        while element.endswith("[]"):
            element, suffix = element[:-2], suffix + "[]"
        for key, domain in self.lock.database.domains.items():
            if type_spelling(*key) == element and key not in self.live.domains:
                base = self.proven_as(domain.type)
                return None if base is None else base + suffix
        return None if self.created_type(element) else spelling

    def created_checks(self, spelling: str) -> list[tuple[str, str]]:
        """What the domains only the plan creates that `spelling` is (down to its base type)
        demand of a value, as (what, SQL over a column `value`): their checks (`VALUE` reads
        as that column) and NOT NULL.  Not for arrays."""
        found: list[tuple[str, str]] = []
        for key, domain in self.lock.database.domains.items():
            if type_spelling(*key) != spelling or key in self.live.domains:
                continue
            named = qualified(*key)
            found += [(f"check {c.name} of {named}", c.expression) for c in domain.checks]
            if not domain.nullable:
                found.append((f"NOT NULL of {named}", "value IS NOT NULL"))
            found += self.created_checks(domain.type)
        return found

    def free_index_name(self, table: Table, name: str) -> str:
        """`name`, or a variant no index of the table (live or planned) holds: a live index of
        another definition keeps its name (an extra index is reported, never dropped)."""
        # A primary key's or unique constraint's index holds its name as well.
        constraints = (table.primary_key, *table.uniques)
        named = {key.name for key in constraints if key is not None and key.name}
        taken = self._names.setdefault(table.key, {i.name for i in table.indexes} | named)
        free = free_name(name, taken)
        taken.add(free)
        return free


def _element_type(spelling: str) -> str:
    """The type an array type holds (`ext.citext[]`: `ext.citext`), or the type itself."""
    while spelling.endswith("[]"):
        spelling = spelling[:-2]
    return spelling


def _missing_type(spelling: str, provider: Provider) -> str:
    """Why a type the lock uses stops the plan, and what would provide it."""
    extension, installed_in = provider
    schema = spelling.rpartition(".")[0]
    text = f"type {spelling} does not exist in the database"
    if extension is not None and installed_in is not None:
        text += f" (extension {quote(extension)} is installed, in schema {quote(installed_in)})"
    elif extension is not None:
        where = f" SCHEMA {schema}" if schema else ""
        text += f" (CREATE EXTENSION {quote(extension)}{where} provides it)"
    return (
        f"{text}, and fix creates only the enums and domains the lock declares (and the "
        "types of the extensions it declares): create the type or install its extension, "
        "then run fix again"
    )
