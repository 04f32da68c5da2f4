"""From verify's findings to a plan of Alembic operations that repairs the structure safely.

Each fixable finding names a table; the planner pairs that table's lock and live definitions
again and plans every difference of that kind, in phases that keep locks short:

1. missing schemas, enums and domains, then renames, new tables, new columns, data mapping and
   type changes (one transaction);
2. indexes, unique and primary-key indexes: `CREATE INDEX CONCURRENTLY` in an autocommit block;
3. orphan rows moved aside (or deleted or nulled) when `--orphans` says so;
   constraints: unique/primary key adopting those indexes, foreign keys and checks `NOT VALID`;
4. `VALIDATE CONSTRAINT` in autocommit (SHARE UPDATE EXCLUSIVE: reads and writes go on, and
   the lock `ADD CONSTRAINT` took was released by the commit before it);
5. `SET NOT NULL` proven by a validated `CHECK (col IS NOT NULL)`, which is then dropped.

Nothing is dropped but what the plan itself replaces (an invalid index, a constraint being
redefined); extra tables, columns, indexes and constraints are reported and left alone.  Rows
are never deleted or nulled unless `--orphans delete|set-null` asks for exactly that.  A step
the data forbids (values that would not convert, NULLs, duplicates) refuses the whole plan.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from alembic.operations import MigrateOperation, ops

from schemalock import expressions
from schemalock.diff import pair_columns
from schemalock.findings import Finding
from schemalock.fix import operations as fo
from schemalock.fix.proofs import Blocker, Prover, Provider, points_at
from schemalock.fix.sqltypes import sqlalchemy_type
from schemalock.model import (
    OWNED_SEQUENCE,
    CheckConstraint,
    Column,
    Database,
    Domain,
    Enum,
    ForeignKey,
    Index,
    Lock,
    Table,
    UniqueConstraint,
)
from schemalock.names import qualified, quote
from schemalock.types import type_spelling

# Binary-coercible changes rewrite nothing (sql-altertable): everything else does.


class Phase(enum.IntEnum):
    SCHEMAS = 1  # before anything in them; the downgrade drops them last, if empty
    TYPES = 2  # enums, then domains (which may be over an enum): before the tables using them
    STRUCTURE = 3
    CONCURRENT = 4
    DATA = 5  # before the constraints, so a downgrade drops them before putting rows back
    CONSTRAINTS = 6
    VALIDATE = 7
    NOT_NULL = 8
    KEYS = 9  # a primary key adopting its index, once its columns are NOT NULL
    # Foreign keys last: they may lean on a unique or primary key this plan adds, so their
    # downgrade drops them before it.
    FOREIGN_KEYS = 10
    VALIDATE_FOREIGN_KEYS = 11


class Orphans(enum.StrEnum):
    FAIL = "fail"
    QUARANTINE = "quarantine"
    DELETE = "delete"
    SET_NULL = "set-null"


@dataclass
class Step:
    phase: Phase
    title: str
    ops: list[MigrateOperation]
    hazards: list[str] = field(default_factory=list)
    long: bool = False  # a scan or a build: a long statement_timeout, the same short lock_timeout


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # reported, left alone or left for later
    refusals: list[str] = field(default_factory=list)  # the data forbids the plan

    @property
    def hazards(self) -> list[str]:
        seen = dict.fromkeys(f"{h} ({s.title})" for s in self.ordered() for h in s.hazards)
        return list(seen)

    def ordered(self) -> list[Step]:
        return sorted(self.steps, key=lambda step: step.phase)

    def summary(self) -> list[str]:
        """The steps and their hazards as fix prints them: before `--apply` runs them (the
        flag is the consent; there is no hazard gate)."""
        lines = [f"  - {step.title}" for step in self.ordered()]
        lines.append("hazards:" if self.hazards else "hazards: none")
        lines.extend(f"  - {hazard}" for hazard in self.hazards)
        return lines


LEFT_ALONE = {
    "extra-table": "extra tables are reported and left alone (drop them by hand if you must)",
    "extra-column": "extra columns are reported and left alone: dropping one loses data",
    "extra-index": "extra indexes are reported and left alone",
    "extra-constraint": "extra constraints are reported and left alone",
    "partition-mismatch": "a partitioning change means rebuilding the table: plan it by hand",
}
DOMAIN_CHANGES = "domain changes validate every column using them: plan them by hand"


@dataclass
class Planner:
    lock: Lock
    live: Database
    prover: Prover
    orphans: Orphans = Orphans.FAIL
    orphan_counts: Callable[[Table, ForeignKey], int] | None = None
    plan: Plan = field(default_factory=Plan)
    _done: set[tuple[object, tuple[str, str]]] = field(default_factory=set)
    _not_null: set[tuple[str, str, str]] = field(default_factory=set)  # proofs planned once
    _schemas: set[str] | None = None  # schemas the database lacks, asked once
    _kinds: set[str] = field(default_factory=set)  # enums, domains: planned in one pass
    _absent_types: dict[str, Provider] | None = None  # types the database lacks, asked once

    def build(self, findings: Iterable[Finding]) -> Plan:
        for finding in findings:
            self._finding(finding)
        return self.plan

    def _finding(self, finding: Finding) -> None:
        if finding.rule in LEFT_ALONE:
            where = qualified(finding.schema, finding.table) if finding.table else "the database"
            self._note(f"{where}: {LEFT_ALONE[finding.rule]}")
            return
        handler = _HANDLERS.get(finding.rule)
        if handler is None:
            return
        if finding.table is None:  # enums and domains: the handler knows what it planned
            handler(self, None, finding)
            return
        key = (finding.schema or "public", finding.table)
        if (handler, key) in self._done:  # one pass plans every difference of its kind
            return
        self._done.add((handler, key))
        handler(self, key, finding)

    def _once(self, kind: str) -> bool:
        """True the first time `kind` is asked for: handlers that plan every object of a kind
        in one pass, whichever finding asked."""
        if kind in self._kinds:
            return False
        self._kinds.add(kind)
        return True

    def _note(self, text: str) -> None:
        if text not in self.plan.notes:
            self.plan.notes.append(text)

    def _add(self, phase: Phase, title: str, *operations: MigrateOperation, **kw: Any) -> None:
        if "hazards" not in kw:
            kw["hazards"] = list(dict.fromkeys(filter(None, map(_lock_hazard, operations))))
        self.plan.steps.append(Step(phase, title, list(operations), **kw))

    def _refuse(self, what: str, blocker: Blocker, why: str | None = None) -> None:
        """The data forbids a step: what, why, how many rows and the keys of a few."""
        found = f"{what}: {why or blocker.why}"
        if blocker.count is not None:
            found += f": {_rows(blocker.count)}"
        if blocker.keys:
            found += f" (keys: {', '.join(blocker.keys)})"
        self.plan.refusals.append(found)

    def _pair(self, key: tuple[str, str] | None) -> tuple[Table, Table] | None:
        """The lock's and the live definition of a table a finding names, if both exist."""
        assert key is not None
        lock, live = self._tables(key)
        return (lock, live) if live is not None else None

    def _tables(self, key: tuple[str, str]) -> tuple[Table, Table | None]:
        lock = self.lock.database.tables[key]
        live = self.live.tables.get(key)
        if live is None and lock.renamed_from:
            live = self.live.tables.get((lock.schema, lock.renamed_from))
        return lock, live

    # -- tables and columns -------------------------------------------------------------

    def missing_table(self, key: tuple[str, str] | None, finding: Finding) -> None:
        assert key is not None
        table = self.lock.database.tables[key]
        if any(column.generated_storage == "virtual" for column in table.columns):
            # SQLAlchemy's DDL compiler knows only stored generated columns.
            self._note(f"{qualified(*key)}: a virtual generated column: create the table by hand")
            return
        known = [
            self._types_exist(f"column {qualified(*key, c.name)}", c.type) for c in table.columns
        ]
        if not all(known):
            return
        self._schema(table.schema)
        columns = [_sa_column(column, table) for column in table.columns]
        elements: list[Any] = []
        if table.primary_key:
            import sqlalchemy as sa

            name = table.primary_key.name or f"{table.name}_pkey"
            elements.append(sa.PrimaryKeyConstraint(*table.primary_key.columns, name=name))
        create = ops.CreateTableOp(table.name, columns + elements, schema=table.schema)
        serials = [
            self._owned_sequence(table, c) for c in table.columns if c.default == OWNED_SEQUENCE
        ]
        self._add(Phase.STRUCTURE, f"create {qualified(*key)}", create, *serials)
        # A new, empty table: its constraints and indexes cost nothing to add validated.
        for unique in table.uniques:
            self._add(Phase.STRUCTURE, "unique on a new table", _unique_op(table, unique))
        for check in table.checks:
            self._add(Phase.STRUCTURE, "check on a new table", _check_op(table, check, False))
        for index in table.indexes:
            self._add(Phase.STRUCTURE, "index on a new table", _index_op(table, index, False))
        for fk in table.foreign_keys:
            self._add(Phase.FOREIGN_KEYS, "foreign key of a new table", _fk_op(table, fk, False))

    def _types_exist(self, where: str, spelling: str) -> bool:
        """Whether the type exists, or is an enum or domain of the lock (which the plan creates
        before anything uses it).  One that is neither is refused, naming what could provide
        it: fix creates no extension and no other kind of type, and a revision using it could
        only fail."""
        absent = self._absent()
        element = _element_type(spelling)
        if element not in absent:
            return True
        self.plan.refusals.append(f"{where}: {_missing_type(element, absent[element])}")
        return False

    def _absent(self) -> dict[str, Provider]:
        """The types the lock uses (columns, domains' base types) that the database lacks and
        the plan would not create, asked in one read."""
        if self._absent_types is None:
            database = self.lock.database
            created = {type_spelling(*key) for key in (*database.enums, *database.domains)}
            used = {_element_type(c.type) for t in database.tables.values() for c in t.columns}
            used |= {_element_type(domain.type) for domain in database.domains.values()}
            self._absent_types = self.prover.missing_types(sorted(used - created))
        return self._absent_types

    def _schema(self, schema: str) -> None:
        """CREATE SCHEMA, once, before anything the plan creates in a schema the database
        lacks; refused (before anything is written) when this role may not create schemas."""
        if self._schemas is None:
            named = {k[0] for k in (*self.lock.database.tables, *self.lock.database.enums)}
            named |= {k[0] for k in self.lock.database.domains}
            self._schemas = self.prover.missing_schemas(sorted(named))
        if schema not in self._schemas:
            return
        self._schemas.discard(schema)  # planned now
        refused = self.prover.schema_creator()
        if refused is not None:
            role, database = refused
            self.plan.refusals.append(
                f"schema {quote(schema)} does not exist, and role {quote(role)} may not create "
                f"it (no CREATE privilege on database {quote(database)}): ask its owner to run "
                f"CREATE SCHEMA {quote(schema)} AUTHORIZATION {quote(role)}, then run fix again"
            )
            return
        self._add(Phase.SCHEMAS, f"create schema {quote(schema)}", fo.CreateSchema(schema))

    def _owned_sequence(self, table: Table, column: Column) -> MigrateOperation:
        """What `serial` does: a sequence the column owns, and its nextval() as the default
        (dropped with the table, so the downgrade has nothing of its own to undo)."""
        target = qualified(table.schema, table.name)
        sequence = qualified(table.schema, _short_name(f"{table.name}_{column.name}_seq"))
        name = quote(column.name)
        return fo.Sql(
            f"CREATE SEQUENCE {sequence} AS {column.type} OWNED BY {target}.{name}; "
            f"ALTER TABLE {target} ALTER COLUMN {name} SET DEFAULT "
            f"pg_catalog.nextval({fo.literal(sequence)}::pg_catalog.regclass)"
        )

    def renamed_table(self, key: tuple[str, str] | None, finding: Finding) -> None:
        assert key is not None
        table = self.lock.database.tables[key]
        assert table.renamed_from is not None
        rename = ops.RenameTableOp(table.renamed_from, table.name, schema=table.schema)
        self._add(Phase.STRUCTURE, f"rename {table.renamed_from} to {table.name}", rename)

    def renamed_column(self, key: tuple[str, str] | None, finding: Finding) -> None:
        if (tables := self._pair(key)) is None:
            return
        lock, live = tables
        for pair in pair_columns(lock, live):
            if pair.renamed and pair.lock and pair.live:
                rename = ops.AlterColumnOp(
                    live.name, pair.live.name, schema=live.schema, modify_name=pair.lock.name
                )
                self._add(Phase.STRUCTURE, f"rename column {pair.live.name}", rename)

    def missing_column(self, key: tuple[str, str] | None, finding: Finding) -> None:
        if (tables := self._pair(key)) is None:
            return
        lock, live = tables
        for column in lock.columns:
            if live.column(column.name) is None and column.renamed_from is None:
                self._add_column(lock, live, column)

    def _add_column(self, lock: Table, live: Table, column: Column) -> None:
        where = qualified(live.schema, live.name, column.name)
        if not self._types_exist(f"column {where}", column.type):
            return
        add = f"add column {where}"
        if column.default == OWNED_SEQUENCE or column.identity or column.generated:
            self._add_filled_column(live, column, add)
            return
        if column.default is None and not column.nullable and self.prover.has_rows(live):
            self._refuse(
                f"{where}: NOT NULL without a default",
                self.prover.rows(live, "true"),
                "rows it would leave NULL (give it a default in the lock, or make it nullable, "
                "fill it, then NOT NULL)",
            )
            return
        if column.default is None or expressions.is_constant(column.default):
            # A constant default is kept in the catalog (PG 11+): no rewrite, so NOT NULL can
            # come with it; unless the type is a domain with checks, which PostgreSQL checks
            # on every row by rewriting the table.
            added = ops.AddColumnOp(live.name, _sa_column(column, lock), schema=live.schema)
            if self._checked_domain(column.type) and self.prover.has_rows(live):
                where_table = qualified(live.schema, live.name)
                hazards = [
                    f"ACCESS EXCLUSIVE lock and a full rewrite of {where_table} (its type "
                    f"{column.type} is a domain with checks)"
                ]
                self._add(Phase.STRUCTURE, add, added, hazards=hazards, long=True)
                return
            self._add(Phase.STRUCTURE, add, added)
            return
        # A volatile default would rewrite the table under ACCESS EXCLUSIVE: the column comes
        # empty, the default fills new rows, one UPDATE fills the existing ones, and NOT NULL
        # follows the usual proof.
        empty = _sa_column(column, lock, default=False, not_null=False)
        self._add(Phase.STRUCTURE, add, ops.AddColumnOp(live.name, empty, schema=live.schema))
        self._set_default(live, column, f"default of {where} (new rows)")
        target, name = qualified(live.schema, live.name), quote(column.name)
        fill = f"UPDATE {target} SET {name} = {_sql(column.default)} WHERE {name} IS NULL"
        self._add(
            Phase.DATA,
            f"fill {where} in existing rows",
            fo.AutocommitBlock([fo.Sql(fill)]),  # not under the ADD COLUMN's ACCESS EXCLUSIVE
            hazards=[
                f"data-dependent step: writes every existing row of {target} (its new column "
                "only), in one transaction of its own: row locks while it runs"
            ],
            long=True,
        )
        if not column.nullable:
            self._not_null_steps(live, column.name)

    def _checked_domain(self, type_name: str) -> bool:
        """Whether `type_name` is a live domain with CHECK constraints."""
        return any(
            domain.checks and type_name in (domain.name, qualified(*key))
            for key, domain in self.live.domains.items()
        )

    def _add_filled_column(self, table: Table, column: Column, title: str) -> None:
        """Serial, identity and generated columns get a value in every existing row: the table
        is rewritten under ACCESS EXCLUSIVE, declared."""
        target = qualified(table.schema, table.name)
        if column.generated_storage == "virtual":  # SQLAlchemy's DDL knows stored ones only
            self._note(f"{target}.{quote(column.name)}: a virtual generated column: add it by hand")
            return
        hazards = [f"ACCESS EXCLUSIVE lock and a full rewrite of {target} (every row filled)"]
        if column.default == OWNED_SEQUENCE:
            serial = _SERIALS.get(column.type)
            if serial is None:
                self._note(f"{target}.{quote(column.name)}: a {column.type} serial: add it by hand")
                return
            added: MigrateOperation = fo.AddSerialColumn(
                table.schema, table.name, column.name, serial
            )
        else:
            added = ops.AddColumnOp(table.name, _sa_column(column, table), schema=table.schema)
        self._add(Phase.STRUCTURE, title, added, hazards=hazards, long=True)

    def column_type(self, key: tuple[str, str] | None, finding: Finding) -> None:
        if (tables := self._pair(key)) is None:
            return
        lock, live = tables
        for pair in pair_columns(lock, live):
            if pair.lock and pair.live and pair.lock.type != pair.live.type:
                self._convert(lock, live, pair.lock, pair.live)

    def _convert(self, lock: Table, live: Table, wanted: Column, found: Column) -> None:
        where = qualified(live.schema, live.name, found.name)
        if not self._types_exist(f"column {where}", wanted.type):
            return
        views = self.prover.dependent_views(live, found.name)
        if views:
            self.plan.refusals.append(
                f"{where} to {wanted.type}: read by {', '.join(views)}, and PostgreSQL cannot "
                "change the type of a column a view uses: drop the views, apply, re-create them"
            )
            return
        mapping = self._mapping(lock, live, wanted, found)
        mapped = None
        if mapping is not None:
            parent, stored = mapping
            mapped = (
                f"EXISTS (SELECT 1 FROM {qualified(parent.schema, parent.name)} AS p "
                f"WHERE p.{quote(stored)}::text = c.{quote(found.name)})"
            )
        blockers = self.prover.conversion(live, found.name, found.type, wanted.type, mapped)
        for blocker in blockers:
            self._refuse(f"{where} to {wanted.type}", blocker)
        if blockers:
            return
        operations: list[MigrateOperation] = []
        if mapping is not None:
            parent, stored = mapping
            fk = _reference(lock, wanted.name)
            assert fk is not None
            operations.append(
                fo.MapThroughParent(
                    live.schema,
                    live.name,
                    found.name,
                    parent.schema,
                    parent.name,
                    fk.ref_columns[0],
                    stored,
                )
            )
        if found.default is not None:
            operations.append(_alter_default(live, found.name, None, found.default))
        operations.append(
            fo.ConvertColumnType(live.schema, live.name, found.name, wanted.type, found.type)
        )
        if wanted.default is not None and wanted.default != OWNED_SEQUENCE:
            operations.append(_alter_default(live, found.name, wanted.default, None))
        rewrite = not _binary_coercible(found.type, wanted.type)
        hazards = [
            "ACCESS EXCLUSIVE lock and a full rewrite of the table"
            if rewrite
            else f"brief ACCESS EXCLUSIVE lock on {live.name} (no rewrite: binary-coercible)"
        ]
        if mapping is not None:
            hazards.append("data-dependent step: values mapped through the parent table")
        self._add(
            Phase.STRUCTURE,
            f"convert {where} to {wanted.type}",
            *operations,
            hazards=hazards,
            long=rewrite,
        )

    def _mapping(
        self, lock: Table, live: Table, wanted: Column, found: Column
    ) -> tuple[Table, str] | None:
        """(parent, column) when the column holds another unique column of its parent: the
        values miswired-reference reports, which a data step maps before the conversion."""
        from schemalock.rules.identifiers import other_unique_columns

        fk = _reference(lock, wanted.name)
        if fk is None or len(fk.columns) != 1:
            return None
        parent = self.live.tables.get((fk.ref_schema, fk.ref_table))
        if parent is None:
            return None
        for other in other_unique_columns(parent, fk.ref_columns[0]):
            stored = f"c.{quote(found.name)}"
            matched = self.prover.rows(
                live,
                f"EXISTS (SELECT 1 FROM {qualified(parent.schema, parent.name)} AS p "
                f"WHERE p.{quote(other)}::text = {stored}::text)",
            )
            if matched.count:
                return parent, other
        return None

    def default(self, key: tuple[str, str] | None, finding: Finding) -> None:
        if (tables := self._pair(key)) is None:
            return
        lock, live = tables
        for pair in pair_columns(lock, live):
            wanted, found = pair.lock, pair.live
            if wanted is None or found is None or wanted.type != found.type:
                continue  # a type change sets its default itself
            where = qualified(live.schema, live.name, found.name)
            if _generation_differs(wanted, found):
                self._note(f"{where}: {_generation_note(live, wanted, found)}")
                continue
            if (
                expressions.same(wanted.default, found.default)
                and wanted.identity == found.identity
            ):
                continue
            if wanted.identity and not found.identity and found.default is None:
                self._identity(live, wanted)
                continue
            if OWNED_SEQUENCE in (wanted.default, found.default) or wanted.identity:
                self._note(f"{where}: serial and identity defaults are restored by hand")
                continue
            self._set_default(live, wanted, f"default of {where}", found.default)

    def _identity(self, table: Table, column: Column) -> None:
        """ADD GENERATED ... AS IDENTITY, its sequence moved past the largest value in use."""
        target, name = qualified(table.schema, table.name), quote(column.name)
        kind = "ALWAYS" if column.identity == "always" else "BY DEFAULT"
        restart = (
            f"SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence({fo.literal(target)}, "
            f"{fo.literal(column.name)}), coalesce(max({name}), 0) + 1, false) FROM {target}"
        )
        self._add(
            Phase.STRUCTURE,
            f"identity of {target}.{name}",
            fo.Sql(
                f"ALTER TABLE {target} ALTER COLUMN {name} ADD GENERATED {kind} AS IDENTITY",
                undo=f"ALTER TABLE {target} ALTER COLUMN {name} DROP IDENTITY IF EXISTS",
            ),
            fo.Sql(restart),
            hazards=[f"brief ACCESS EXCLUSIVE lock on {table.name}, then a scan for max({name})"],
        )

    def _set_default(
        self, table: Table, column: Column, title: str, previous: str | None = None
    ) -> None:
        change = _alter_default(table, column.name, column.default, previous)
        self._add(Phase.STRUCTURE, title, change)

    def nullability(self, key: tuple[str, str] | None, finding: Finding) -> None:
        if (tables := self._pair(key)) is None:
            return
        lock, live = tables
        for pair in pair_columns(lock, live):
            wanted, found = pair.lock, pair.live
            if wanted is None or found is None or wanted.nullable == found.nullable:
                continue
            if wanted.nullable:
                drop = ops.AlterColumnOp(
                    live.name,
                    found.name,
                    schema=live.schema,
                    modify_nullable=True,
                    existing_nullable=False,
                )
                self._add(Phase.STRUCTURE, f"drop NOT NULL of {found.name}", drop)
            else:
                self._set_not_null(live, found.name)

    def _set_not_null(self, table: Table, column: str) -> None:
        where = qualified(table.schema, table.name, column)
        nulls = self.prover.rows(table, f"c.{quote(column)} IS NULL")
        if nulls.count:
            self._refuse(f"NOT NULL on {where}", nulls, "NULL values")
            return
        self._not_null_steps(table, column)

    def _not_null_steps(self, table: Table, column: str) -> None:
        """SET NOT NULL without its scan under ACCESS EXCLUSIVE: a CHECK (col IS NOT NULL) added
        NOT VALID, validated in its own transaction, proves it; then it is dropped."""
        if (table.schema, table.name, column) in self._not_null:
            return  # a primary key and the nullability finding both ask for it
        self._not_null.add((table.schema, table.name, column))
        where = qualified(table.schema, table.name, column)
        # Not `<table>_<column>_not_null`: PostgreSQL 18 names its own NOT NULL constraints so.
        check = _short_name(f"{table.name}_{column}_not_null_proof")
        condition = f"{quote(column)} IS NOT NULL"
        self._add(
            Phase.CONSTRAINTS,
            f"CHECK ({condition}) NOT VALID on {table.name}",
            ops.CreateCheckConstraintOp(
                check, table.name, condition, schema=table.schema, postgresql_not_valid=True
            ),
        )
        self._validate(table, check, f"{check}, proving {column} has no NULL")
        self._add(
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

    def _validate(self, table: Table, name: str, title: str, phase: Phase = Phase.VALIDATE) -> None:
        # Its own transaction: validated in the one that added it NOT VALID, the constraint's
        # stronger lock would be held for the whole scan.
        self._add(
            phase,
            f"validate {title}",
            fo.AutocommitBlock([fo.ValidateConstraint(table.schema, table.name, name)]),
            hazards=[f"scan of {qualified(table.schema, table.name)} (SHARE UPDATE EXCLUSIVE)"],
            long=True,
        )

    # -- indexes and constraints --------------------------------------------------------

    def missing_index(self, key: tuple[str, str] | None, finding: Finding) -> None:
        if (tables := self._pair(key)) is None:
            return
        lock, live = tables
        from schemalock.rules.indexes import same_index

        taken = {index.name for index in live.indexes}
        for index in lock.indexes:
            if not any(same_index(index, found) for found in live.indexes):
                # A live index of another definition may hold the name: it stays (an extra
                # index is reported, never dropped), and this one takes a free name.
                name = _free_name(index.name, taken)
                taken.add(name)
                self._concurrent_index(live, replace(index, name=name))

    def _concurrent_index(self, table: Table, index: Index) -> None:
        if index.unique:
            blocker = self._duplicates(table, index)
            if blocker is not None:
                return
        if table.partition_by:
            self._add(
                Phase.STRUCTURE,
                f"index {index.name} on partitioned {table.name}",
                _index_op(table, index, False),
                hazards=[
                    f"SHARE lock on every partition of {qualified(table.schema, table.name)} "
                    "for the build: CONCURRENTLY is not supported on a partitioned table"
                ],
                long=True,
            )
            return
        self._build(table, f"index {index.name} on {table.name}", _index_op(table, index, True))

    def _build(self, table: Table, title: str, *operations: MigrateOperation) -> None:
        """Index builds CONCURRENTLY: outside a transaction, so in an autocommit block."""
        self._add(
            Phase.CONCURRENT,
            title,
            fo.AutocommitBlock(list(operations)),
            hazards=[f"index build on {qualified(table.schema, table.name)} (concurrent)"],
            long=True,
        )

    def _duplicates(self, table: Table, index: Index) -> Blocker | None:
        """Keys a unique index would find twice (columns or expressions, within a partial
        index's rows): a concurrent build would fail on them and leave an INVALID index."""
        keys = tuple(expressions.key_value(key) for key in index.keys)
        where = _sql(index.where) if index.where else None
        blocker = self.prover.duplicates(table, keys, not index.nulls_not_distinct, where)
        if blocker.count:
            self._refuse(
                f"unique {index.name} on {table.name}",
                Blocker(None, blocker.keys),
                f"{blocker.count} keys held by more than one row",
            )
            return blocker
        return None

    def invalid_index(self, key: tuple[str, str] | None, finding: Finding) -> None:
        assert key is not None
        live = self.live.tables.get(key)
        if live is None:
            return
        for index in live.indexes:
            if index.valid or (index.unique and self._duplicates(live, index) is not None):
                continue
            drop = ops.DropIndexOp(
                index.name,
                table_name=live.name,
                schema=live.schema,
                postgresql_concurrently=True,
                if_exists=True,
            )
            rebuild = _index_op(live, index, True, from_lock=False)
            self._build(live, f"rebuild invalid index {index.name}", drop, rebuild)

    def primary_key(self, key: tuple[str, str] | None, finding: Finding) -> None:
        assert key is not None
        lock, live = self._tables(key)
        if live is None or lock.primary_key is None:
            return
        where = qualified(live.schema, live.name)
        if live.primary_key is not None:
            self._note(f"{where}: a different primary key: change it by hand")
            return
        columns = lock.primary_key.columns
        name = lock.primary_key.name or _short_name(f"{live.name}_pkey")
        index = Index(name=name, keys=tuple(quote(c) for c in columns), unique=True)
        if self._duplicates(live, index) is not None:
            return
        for column in columns:
            found = live.column(column)
            if found is not None and found.nullable:
                self._set_not_null(live, column)
        self._build(live, f"unique index {name} for the primary key", _index_op(live, index, True))
        adopt = fo.AddConstraintUsingIndex(live.schema, live.name, name, name, "PRIMARY KEY")
        self._add(Phase.KEYS, f"primary key {name} using its index", adopt)

    def foreign_key_definition(self, key: tuple[str, str] | None, finding: Finding) -> None:
        """A foreign key whose actions, match or deferral differ: dropped and added again NOT
        VALID in one transaction (no moment without it), then validated."""
        if (tables := self._pair(key)) is None:
            return
        lock, live = tables
        for wanted in lock.foreign_keys:
            found = next(
                (
                    f
                    for f in live.foreign_keys
                    if (f.columns, f.target) == (wanted.columns, wanted.target)
                ),
                None,
            )
            if found is None or found == wanted or found.name is None:
                continue
            target = qualified(live.schema, live.name)
            drop = fo.Sql(
                f"ALTER TABLE {target} DROP CONSTRAINT {quote(found.name)}",
                # Back NOT VALID: the rows it held for are unchanged, new ones checked.
                undo=f"ALTER TABLE {target} ADD CONSTRAINT {quote(found.name)} "
                f"{_references_sql(found)} NOT VALID",
            )
            named = ForeignKey(**{**_fields(wanted), "name": found.name})
            self._add(
                Phase.FOREIGN_KEYS,
                f"redefine foreign key {found.name}",
                drop,
                _fk_op(live, named, True),
            )
            if named.validated:  # else the lock keeps it NOT VALID on purpose
                self._validate_foreign_key(live, named)

    def missing_unique(self, key: tuple[str, str] | None, finding: Finding) -> None:
        if (tables := self._pair(key)) is None:
            return
        lock, live = tables
        for unique in lock.uniques:
            if unique in live.uniques:
                continue
            name = unique.name or _short_name(f"{live.name}_{'_'.join(unique.columns)}_key")
            index = Index(
                name=name,
                keys=tuple(quote(c) for c in unique.columns),
                unique=True,
                nulls_not_distinct=unique.nulls_not_distinct,
            )
            if self._duplicates(live, index) is not None:
                continue
            self._build(live, f"unique index {name} on {live.name}", _index_op(live, index, True))
            adopt = fo.AddConstraintUsingIndex(live.schema, live.name, name, name, "UNIQUE")
            self._add(Phase.CONSTRAINTS, f"unique constraint {name} using its index", adopt)

    def check(self, key: tuple[str, str] | None, finding: Finding) -> None:
        """A missing or redefined check: added NOT VALID (new rows are checked at once), then
        validated in its own transaction, unless existing rows break it: then VALIDATE waits
        for them to be corrected, as it does for orphans.  One the lock marks `validated:
        false` stays NOT VALID, as the lock says."""
        if (tables := self._pair(key)) is None:
            return
        lock, live = tables
        target = qualified(live.schema, live.name)
        for check in lock.checks:
            if any(expressions.same(check.expression, c.expression) for c in live.checks):
                continue
            name = check.name or _short_name(f"{live.name}_check")
            steps: list[MigrateOperation] = []
            former = next((c for c in live.checks if c.name == name), None)
            if former is not None:
                steps.append(
                    fo.Sql(
                        f"ALTER TABLE {target} DROP CONSTRAINT {quote(name)}",
                        # Back NOT VALID: the rows it held for are unchanged, new ones checked.
                        undo=f"ALTER TABLE {target} ADD CONSTRAINT {quote(name)} "
                        f"CHECK ({former.expression}) NOT VALID",
                    )
                )
            named = CheckConstraint(name=name, expression=check.expression)
            steps.append(_check_op(live, named, True))
            title = f"{'redefine' if former else 'add'} check {name} NOT VALID"
            self._add(Phase.CONSTRAINTS, title, *steps)
            if check.validated:
                self._validate_check(live, named, "it is added NOT VALID")

    def check_not_validated(self, key: tuple[str, str] | None, finding: Finding) -> None:
        """A check the database holds NOT VALID, which the lock does not mark so: validated
        once no row is proven to break it; else left NOT VALID, with the count."""
        from schemalock.rules.base import Context
        from schemalock.rules.integrity import not_validated_checks

        if (tables := self._pair(key)) is None:
            return
        lock, live = tables
        context = Context(lock=self.lock, live=self.live)
        for wanted, found in not_validated_checks(context, lock, live):
            if wanted.validated:
                named = CheckConstraint(name=found.name, expression=wanted.expression)
                self._validate_check(live, named, "it stays NOT VALID")

    def _validate_check(self, table: Table, check: CheckConstraint, state: str) -> None:
        """VALIDATE CONSTRAINT, proven first: rows breaking the check (its expression false)
        leave it NOT VALID, counted in a note."""
        assert check.name is not None
        target = qualified(table.schema, table.name)
        breaking = self.prover.rows(table, f"NOT ({_sql(check.expression)})")
        if breaking.count:
            keys = f" (keys: {', '.join(breaking.keys)})" if breaking.keys else ""
            self._note(
                f"{target}: {_rows(breaking.count)} break check {check.name}{keys}; {state}, "
                "so new rows are checked; once they are corrected, run fix again (or ALTER "
                f"TABLE {target} VALIDATE CONSTRAINT {quote(check.name)})"
            )
            return
        self._validate(table, check.name, f"check {check.name}")

    def missing_foreign_key(self, key: tuple[str, str] | None, finding: Finding) -> None:
        if (tables := self._pair(key)) is None:
            return
        lock, live = tables
        present = {(fk.columns, fk.target) for fk in live.foreign_keys}
        for fk in lock.foreign_keys:
            if (fk.columns, fk.target) not in present:
                self._foreign_key(live, fk)

    def _foreign_key(self, table: Table, fk: ForeignKey) -> None:
        name = fk.name or _short_name(f"{table.name}_{'_'.join(fk.columns)}_fkey")
        named = ForeignKey(**{**_fields(fk), "name": name})
        if table.partition_by and self.prover.connection.info.server_version < 180000:
            self._partitioned_foreign_key(table, named)
            return
        self._add(Phase.FOREIGN_KEYS, f"foreign key {name} NOT VALID", _fk_op(table, named, True))
        if named.validated:  # else the lock keeps it NOT VALID on purpose
            self._validate_foreign_key(table, named)

    def _partitioned_foreign_key(self, table: Table, fk: ForeignKey) -> None:
        """Before PostgreSQL 18 a partitioned table's foreign key cannot be NOT VALID: it is
        added validated, scanning every partition under SHARE ROW EXCLUSIVE; orphans stop it."""
        assert fk.name is not None
        target = qualified(table.schema, table.name)
        orphans = self._orphans_after_plan(table, fk)
        if orphans:
            self._note(
                f"{target} ({', '.join(fk.columns)}): {orphans} orphan rows, and a foreign key "
                "of a partitioned table cannot be added NOT VALID before PostgreSQL 18: resolve "
                "them, then run fix again"
            )
            return
        self._add(
            Phase.FOREIGN_KEYS,
            f"foreign key {fk.name} (validated: partitioned table)",
            _fk_op(table, fk, False),
            hazards=[
                f"scan of every partition of {target} under SHARE ROW EXCLUSIVE (writes wait): "
                "NOT VALID is not allowed on a partitioned table before PostgreSQL 18"
            ],
            long=True,
        )

    def fk_not_validated(self, key: tuple[str, str] | None, finding: Finding) -> None:
        """Validate the table's NOT VALID keys that match a relation of the lock, but those
        the lock marks `validated: false`."""
        from schemalock.rules.keys import match_foreign_keys

        if (tables := self._pair(key)) is None:
            return
        lock, live = tables
        for wanted, found in match_foreign_keys(lock, live)[0]:
            if (
                found is not None
                and not found.validated
                and wanted.validated
                and found.target == wanted.target
            ):
                self._validate_foreign_key(live, found)

    def _validate_foreign_key(self, table: Table, fk: ForeignKey) -> None:
        assert fk.name is not None
        orphans = self._orphans_after_plan(table, fk)
        where = f"{qualified(table.schema, table.name)} ({', '.join(fk.columns)})"
        if orphans and self.orphans is Orphans.FAIL:
            self._note(
                f"{where}: {orphans} orphan rows; the foreign key {fk.name} is added NOT VALID, "
                "so new rows are checked, and VALIDATE waits until the orphans are resolved "
                "(`--orphans quarantine` moves them aside, losing nothing)"
            )
            return
        if orphans:
            target = qualified(table.schema, table.name)
            self._refuse_miswired(table, fk)
            self._add(
                Phase.DATA,
                f"{self.orphans} {orphans} orphans of {fk.name}",
                *self._orphan_ops(table, fk),
                hazards=[f"data-dependent step: writes the orphan rows of {target}"],
            )
        self._validate(table, fk.name, f"foreign key {fk.name}", Phase.VALIDATE_FOREIGN_KEYS)

    def _refuse_miswired(self, table: Table, fk: ForeignKey) -> None:
        """Orphans holding another unique column of the parent (an integer `legacy_no` where
        `id` belongs) are miswired, not orphans: moving, deleting or nulling them would lose
        references a mapping repairs.  Refused, naming the column."""
        from schemalock.rules.identifiers import unique_columns

        parent = self.live.tables.get((fk.ref_schema, fk.ref_table))
        lock = self.lock.database.tables.get(table.key)
        wanted = lock.column(fk.columns[0]) if lock and len(fk.columns) == 1 else None
        found = table.column(fk.columns[0])
        if parent is None or wanted is None or found is None or wanted.type != found.type:
            return  # a column being converted was mapped before its orphans were counted
        value = f"c.{quote(fk.columns[0])}::text"
        for other in unique_columns(parent, fk.ref_columns[0]):
            held = self.prover.rows(
                table,
                f"{_orphan_condition(fk)} AND EXISTS (SELECT 1 FROM "
                f"{qualified(parent.schema, parent.name)} AS p WHERE p.{quote(other)}::text = "
                f"{value})",
            )
            if held:
                self._refuse(
                    f"--orphans {self.orphans} on {qualified(table.schema, table.name)}",
                    held,
                    f"orphans that hold {qualified(parent.schema, parent.name, other)}, where "
                    f"{quote(fk.ref_columns[0])} belongs (miswired-reference: map them through "
                    "the parent, then run fix again)",
                )

    def _orphans_after_plan(self, table: Table, fk: ForeignKey) -> int:
        """Orphans the VALIDATE would meet: values a data step maps through the parent first
        are not orphans."""
        lock = self.lock.database.tables.get(table.key)
        wanted = lock.column(fk.columns[0]) if lock and len(fk.columns) == 1 else None
        found = table.column(fk.columns[0])
        if lock is None or wanted is None or found is None or wanted.type == found.type:
            return self.orphan_counts(table, fk) if self.orphan_counts else 0
        mapping = self._mapping(lock, table, wanted, found)
        value = f"c.{quote(found.name)}"
        parent = qualified(fk.ref_schema, fk.ref_table)
        key = quote(fk.ref_columns[0])
        # Where no predicate can tell, the conversion's own proof has shown every value
        # converts (or the plan is refused anyway).
        valid = self.prover.valid(value, wanted.type, found.type) or "true"
        converted = f"CASE WHEN {valid} THEN {value}::{wanted.type} END"
        condition = (
            f"{value} IS NOT NULL AND NOT EXISTS "
            f"(SELECT 1 FROM {parent} AS p WHERE p.{key} = ({converted}))"
        )
        if mapping is not None:
            condition += (
                f" AND NOT EXISTS (SELECT 1 FROM {parent} AS p "
                f"WHERE p.{quote(mapping[1])}::text = {value})"
            )
        return self.prover.rows(table, condition).count or 0

    def _orphan_ops(self, table: Table, fk: ForeignKey) -> list[MigrateOperation]:
        condition = _orphan_condition(fk)
        reason = f"orphans of {fk.name}"
        target = qualified(table.schema, table.name)
        if self.orphans in (Orphans.QUARANTINE, Orphans.DELETE):
            guard = self._unreferenced(table, condition)
            if self.orphans is Orphans.QUARANTINE:
                kept = tuple(c.name for c in table.columns if not c.generated)
                quarantine = fo.Quarantine(table.schema, table.name, condition, reason, kept)
                return [*guard, fo.Sql(fo.QUARANTINE_TABLE), quarantine]
            lost = f"the deleted orphans of {target} cannot be restored"
            return [*guard, fo.Sql(f"DELETE FROM {target} AS c WHERE {condition}", lost=lost)]
        lost = f"the nulled orphan references of {target} cannot be restored"
        required = [c for c in fk.columns if not (table.column(c) or Column(c, "")).nullable]
        if required:
            self.plan.refusals.append(
                f"--orphans set-null: {target} ({', '.join(required)}) is NOT NULL"
            )
        nulls = ", ".join(f"{quote(c)} = NULL" for c in fk.columns)
        return [fo.Sql(f"UPDATE {target} AS c SET {nulls} WHERE {condition}", lost=lost)]

    def _unreferenced(self, table: Table, rows: str) -> list[MigrateOperation]:
        """Orphan rows leave their table only if no other row points at them: a foreign key's
        ON DELETE would cascade (losing rows nobody asked about), null, or stop the step.
        Proven now, and checked again by the revision when it runs."""
        target = qualified(table.schema, table.name)
        pointing = self.prover.references_to(table)  # one catalog read for proof and guard
        for source, blocker in self.prover.referenced(table, rows, pointing):
            self._refuse(
                f"--orphans {self.orphans} on {target}",
                blocker,
                f"orphan rows {source} points at (moving them would cascade to its rows, null "
                "them, or fail)",
            )
        references = [points_at(reference) for reference in pointing]
        if not references:
            return []
        pointed_at = " OR ".join(references)
        return [
            fo.Guard(
                f"EXISTS (SELECT 1 FROM {target} AS c WHERE ({rows}) AND ({pointed_at}))",
                f"rows of other tables point at orphan rows of {target}: nothing was moved",
            )
        ]

    def enum(self, key: tuple[str, str] | None, finding: Finding) -> None:
        if not self._once("enums"):  # every enum finding asks; one pass plans them all
            return
        for wanted in self.lock.database.enums.values():
            found = self.live.enums.get(wanted.key)
            if found is None:
                self._create_enum(wanted)
            elif wanted.labels != found.labels:
                self._enum_labels(wanted, found)
        for extra in self.live.enums.keys() - self.lock.database.enums.keys():
            self._note(f"enum {qualified(*extra)}: extra enums are reported and left alone")

    def _create_enum(self, wanted: Enum) -> None:
        """A new type, used by nothing yet: created with the lock's labels in the lock's order
        (before the tables that use it); the downgrade drops it while nothing uses it."""
        self._schema(wanted.schema)
        name = qualified(*wanted.key)
        labels = ", ".join(fo.literal(label) for label in wanted.labels)
        create = fo.Sql(
            f"CREATE TYPE {name} AS ENUM ({labels})", undo=fo.DropIfUnused("TYPE", name).sql()
        )
        self._add(Phase.TYPES, f"create enum {name}", create)

    def domain(self, key: tuple[str, str] | None, finding: Finding) -> None:
        """A missing domain is created (new, used by nothing yet); a differing or extra one
        is left for a person: changing it checks every column of that type."""
        domains = self.lock.database.domains
        named = (finding.schema or "public", finding.constraint or "")
        if named not in domains or named in self.live.domains:
            self._note(f"domain {qualified(*named)}: {DOMAIN_CHANGES}")
            return
        if not self._once("domains"):
            return
        missing = [d for k, d in domains.items() if k not in self.live.domains]
        for wanted in _base_types_first(missing):
            self._create_domain(wanted)

    def _create_domain(self, wanted: Domain) -> None:
        """CREATE DOMAIN as the lock says; the downgrade drops it while nothing uses it."""
        name = qualified(*wanted.key)
        if not self._types_exist(f"domain {name}", wanted.type):
            return
        self._schema(wanted.schema)
        parts = [f"CREATE DOMAIN {name} AS {wanted.type}"]
        if wanted.default is not None:
            parts.append(f"DEFAULT {_sql(wanted.default)}")
        if not wanted.nullable:
            parts.append("NOT NULL")
        for check in wanted.checks:
            named = f"CONSTRAINT {quote(check.name)} " if check.name else ""
            parts.append(f"{named}CHECK ({_sql(check.expression)})")
        create = fo.Sql(" ".join(parts), undo=fo.DropIfUnused("DOMAIN", name).sql())
        self._add(Phase.TYPES, f"create domain {name}", create)

    def _enum_labels(self, wanted: Enum, found: Enum) -> None:
        where = f"enum {qualified(*wanted.key)}"
        missing = [label for label in wanted.labels if label not in found.labels]
        if any(label not in wanted.labels for label in found.labels):
            self._note(f"{where}: labels cannot be removed; left as is")
        shared = [label for label in wanted.labels if label in found.labels]
        if shared != [label for label in found.labels if label in wanted.labels]:
            self._note(
                f"{where}: its labels are in another order, and PostgreSQL cannot reorder an "
                "enum's labels: re-create the type by hand"
            )
        statements: list[MigrateOperation] = []
        for label in missing:
            # In the lock's order: each label's predecessor exists by the time it is added.
            position = wanted.labels.index(label)
            if position:
                anchor = f" AFTER {fo.literal(wanted.labels[position - 1])}"
            else:
                anchor = f" BEFORE {fo.literal(found.labels[0])}" if found.labels else ""
            statements.append(
                fo.Sql(
                    f"ALTER TYPE {qualified(*wanted.key)} ADD VALUE IF NOT EXISTS "
                    f"{fo.literal(label)}{anchor}",
                    kept=f"label {label!r} stays in {qualified(*wanted.key)}: PostgreSQL "
                    "cannot remove an enum label",
                )
            )
        if statements:
            title = f"enum {wanted.name} labels"
            self._add(Phase.CONCURRENT, title, fo.AutocommitBlock(statements))


def _generation_differs(wanted: Column, found: Column) -> bool:
    return (
        not expressions.same(wanted.generated, found.generated)
        or wanted.generated_storage != found.generated_storage
    )


def _generation_note(table: Table, wanted: Column, found: Column) -> str:
    """Why a change of how a column is generated is left for a person.  PostgreSQL cannot make
    an existing column generated; `DROP EXPRESSION` keeps the values of a stored one, but no
    downgrade could make the column generated again, and the application loses the values it
    relied on for new rows: a contract change to make knowingly, not a repair."""
    if wanted.generated is None:
        statement = (
            f"ALTER TABLE {qualified(table.schema, table.name)} ALTER COLUMN "
            f"{quote(found.name)} DROP EXPRESSION"
        )
        if found.generated_storage == "virtual":
            return (
                "the database generates it (virtual), the lock does not: a virtual generated "
                "column has no stored values to keep; rebuild it by hand"
            )
        return (
            f"the database generates it, the lock does not: `{statement}` makes it a plain "
            "column and keeps its values, but cannot be undone (PostgreSQL cannot make a column "
            "generated again), so it is run by hand, if that is meant"
        )
    if found.generated is None:
        return (
            "the lock says it is generated, the database column is not, and PostgreSQL cannot "
            "make an existing column generated: add a generated column beside it, move readers "
            "to it and drop the old one, by hand"
        )
    return (
        "its generation expression or storage differs from the lock's; changing it recomputes "
        "every row under ACCESS EXCLUSIVE (PostgreSQL 17+: ALTER COLUMN ... SET EXPRESSION), "
        "so it is planned by hand"
    )


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
        f"{text}, and fix creates only the enums and domains the lock declares: create the "
        "type or install its extension, then run fix again"
    )


def _base_types_first(domains: list[Domain]) -> list[Domain]:
    """Domains in an order that creates a domain over another one after it."""
    spelled = {type_spelling(*d.key): d for d in domains}
    ordered: list[Domain] = []

    def visit(domain: Domain, seen: frozenset[str]) -> None:
        base = spelled.get(domain.type)
        if base is not None and base not in ordered and domain.type not in seen:
            visit(base, seen | {domain.type})
        if domain not in ordered:
            ordered.append(domain)

    for domain in domains:
        visit(domain, frozenset())
    return ordered


_HANDLERS: dict[str, Callable[[Planner, tuple[str, str] | None, Finding], None]] = {
    "missing-table": Planner.missing_table,
    "renamed-table": Planner.renamed_table,
    "renamed-column": Planner.renamed_column,
    "missing-column": Planner.missing_column,
    "column-type-mismatch": Planner.column_type,
    "fk-type-mismatch": Planner.column_type,
    "default-mismatch": Planner.default,
    "nullability-mismatch": Planner.nullability,
    "missing-index": Planner.missing_index,
    "invalid-index": Planner.invalid_index,
    "missing-unique": Planner.missing_unique,
    "primary-key-mismatch": Planner.primary_key,
    "foreign-key-mismatch": Planner.foreign_key_definition,
    "check-mismatch": Planner.check,
    "missing-foreign-key": Planner.missing_foreign_key,
    "fk-not-validated": Planner.fk_not_validated,
    "enum-mismatch": Planner.enum,
    "domain-mismatch": Planner.domain,
    "check-not-validated": Planner.check_not_validated,
}
FIXED_RULES = frozenset(_HANDLERS)


# -- building blocks ------------------------------------------------------------------------


def _lock_hazard(op: MigrateOperation) -> str | None:
    """The lock a catalog-only step takes, briefly and under lock_timeout."""
    if isinstance(op, ops.CreateTableOp | fo.Comment | fo.Nothing):
        return None
    if isinstance(op, ops.CreateForeignKeyOp):
        tables = f"{op.source_table} and {op.referent_table}"
        return f"brief SHARE ROW EXCLUSIVE lock on {tables}"
    table = getattr(op, "table_name", None) or getattr(op, "table", None)
    return f"brief ACCESS EXCLUSIVE lock on {table} (catalog only)" if table else None


def _fields(fk: ForeignKey) -> dict[str, Any]:
    from dataclasses import fields

    return {f.name: getattr(fk, f.name) for f in fields(fk)}


def _reference(table: Table, column: str) -> ForeignKey | None:
    return next((fk for fk in table.foreign_keys if fk.columns == (column,)), None)


def _binary_coercible(old: str, new: str) -> bool:
    """Whether PostgreSQL changes the type without rewriting or scanning the table: varchar to
    text, or to a varchar at least as long (sql-altertable); anything else rewrites."""
    if not old.startswith("character varying"):
        return False
    if new == "text" or new == "character varying":
        return True
    old_length, new_length = _length(old), _length(new)
    return (
        new.startswith("character varying(")
        and old_length is not None
        and new_length is not None
        and new_length >= old_length
    )


def _length(type_name: str) -> int | None:
    inside = type_name.partition("(")[2].rstrip(")")
    return int(inside) if inside.isdigit() else None


_SERIALS = {"integer": "serial", "bigint": "bigserial", "smallint": "smallserial"}


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _short_name(name: str) -> str:
    return name[:63]


def _free_name(name: str, taken: set[str]) -> str:
    candidate, number = name, 1
    while candidate in taken:
        suffix = f"_{number}"
        candidate, number = name[: 63 - len(suffix)] + suffix, number + 1
    return candidate


def _sql(text: str, kind: str = "expr") -> str:
    """SQL from the lock as PostgreSQL's parser read it: one expression (or index key) and
    nothing else, no comment, whatever the file said (`fix` also refuses a lock lint rejects)."""
    return expressions.as_sql(text, kind)


def _sa_column(column: Column, table: Table, default: bool = True, not_null: bool = True) -> Any:
    """The lock's column for `add_column` and `create_table`: never SQLAlchemy's implicit
    SERIAL (a serial column's sequence is made by the planner itself), identity and stored
    generated columns as Alembic spells them."""
    import sqlalchemy as sa

    server_default = None
    if default and column.default is not None and column.default != OWNED_SEQUENCE:
        server_default = sa.text(_sql(column.default))
    extra: list[Any] = []
    if column.identity:
        extra.append(sa.Identity(always=column.identity == "always"))
    if column.generated:
        extra.append(sa.Computed(_sql(column.generated), persisted=True))
    return sa.Column(
        column.name,
        sqlalchemy_type(column.type, table.schema),
        *extra,
        nullable=column.nullable or not not_null,
        server_default=server_default,
        # SQLAlchemy would make an integer primary key SERIAL; an identity says what it is.
        autoincrement="auto" if column.identity else False,
    )


def _alter_default(
    table: Table, column: str, default: str | None, previous: str | None
) -> MigrateOperation:
    """SET or DROP DEFAULT (`default` from the lock); `previous` (the live one) lets the
    downgrade put the old default back."""
    return ops.AlterColumnOp(
        table.name,
        column,
        schema=table.schema,
        modify_server_default=_server_default(None if default is None else _sql(default)),
        existing_server_default=_server_default(previous),
    )


def _server_default(expression: str | None) -> Any:
    """As Alembic renders it: `sa.text(...)` (a bare TextClause renders unquoted)."""
    import sqlalchemy as sa

    return None if expression is None else sa.DefaultClause(sa.text(expression))


def _index_op(
    table: Table, index: Index, concurrently: bool, from_lock: bool = True
) -> MigrateOperation:
    """CREATE INDEX for `index`; `from_lock` False: its SQL is the catalog's own (an invalid
    index rebuilt as it was), spliced as PostgreSQL printed it."""
    import sqlalchemy as sa

    def sql(text: str, kind: str = "expr") -> str:
        return _sql(text, kind) if from_lock else text

    keys = [sa.text(sql(key, "index_elem")) for key in index.keys]
    options: dict[str, Any] = {}
    if concurrently:
        options["postgresql_concurrently"] = True
    if index.method != "btree":
        options["postgresql_using"] = index.method
    if index.where:
        options["postgresql_where"] = sa.text(sql(index.where))
    if index.include:
        options["postgresql_include"] = list(index.include)
    if index.nulls_not_distinct:
        options["postgresql_nulls_not_distinct"] = True
    return ops.CreateIndexOp(
        index.name,
        table.name,
        keys,
        schema=table.schema,
        unique=index.unique,
        if_not_exists=concurrently or None,
        **options,
    )


def _unique_op(table: Table, unique: UniqueConstraint) -> MigrateOperation:
    name = unique.name or _short_name(f"{table.name}_{'_'.join(unique.columns)}_key")
    return ops.CreateUniqueConstraintOp(name, table.name, list(unique.columns), schema=table.schema)


def _check_op(table: Table, check: CheckConstraint, not_valid: bool) -> MigrateOperation:
    name = check.name or _short_name(f"{table.name}_check")
    options = {"postgresql_not_valid": True} if not_valid else {}
    return ops.CreateCheckConstraintOp(
        name, table.name, _sql(check.expression), schema=table.schema, **options
    )


def _fk_op(table: Table, fk: ForeignKey, not_valid: bool) -> MigrateOperation:
    name = fk.name or _short_name(f"{table.name}_{'_'.join(fk.columns)}_fkey")
    options: dict[str, Any] = {"postgresql_not_valid": True} if not_valid else {}
    return ops.CreateForeignKeyOp(
        name,
        table.name,
        fk.ref_table,
        list(fk.columns),
        list(fk.ref_columns),
        source_schema=table.schema,
        referent_schema=fk.ref_schema,
        ondelete=_action(fk.on_delete),
        onupdate=_action(fk.on_update),
        deferrable=fk.deferrable or None,
        initially="DEFERRED" if fk.initially_deferred else None,
        match="FULL" if fk.match == "full" else None,
        **options,
    )


def _references_sql(fk: ForeignKey) -> str:
    """`FOREIGN KEY (...) REFERENCES ...` with its actions, as PostgreSQL reads it back."""
    listed = ", ".join(quote(c) for c in fk.columns)
    targets = ", ".join(quote(c) for c in fk.ref_columns)
    text = f"FOREIGN KEY ({listed}) REFERENCES {qualified(fk.ref_schema, fk.ref_table)} ({targets})"
    if fk.match == "full":
        text += " MATCH FULL"
    text += f" ON UPDATE {fk.on_update.upper()} ON DELETE {fk.on_delete.upper()}"
    if fk.deferrable:
        text += " DEFERRABLE INITIALLY " + ("DEFERRED" if fk.initially_deferred else "IMMEDIATE")
    return text


def _action(action: str) -> str | None:
    return None if action == "no action" else action.upper()


def _orphan_condition(fk: ForeignKey) -> str:
    """Rows (alias `c`) whose whole key is set and has no parent row (MATCH SIMPLE)."""
    set_ = " AND ".join(f"c.{quote(c)} IS NOT NULL" for c in fk.columns)
    match = " AND ".join(
        f"p.{quote(p)} = c.{quote(c)}" for c, p in zip(fk.columns, fk.ref_columns, strict=True)
    )
    parent = qualified(fk.ref_schema, fk.ref_table)
    return f"{set_} AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {match})"
