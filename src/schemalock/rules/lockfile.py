"""Offline rules about the lock file itself; `schemalock lint` runs these without a database."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare.matching import column_name, key_columns
from schemalock.model import (
    OWNED_SEQUENCE,
    CheckConstraint,
    Domain,
    Enum,
    Index,
    Table,
    expressions,
    names,
)
from schemalock.model.partitions import walk
from schemalock.rules.base import Context, Rule, q

MAX_IDENTIFIER_BYTES = 63


class DanglingReference(Rule):
    """The lock refers to a table or column it does not declare.

    ## What it checks
    Foreign keys into the schemas the lock covers (`database.schemas`) point at tables and
    columns the lock lists, with as many referenced columns as referencing ones (a table in a
    schema the lock does not cover is out of its scope); primary keys, unique constraints,
    INCLUDE lists and plain index keys name columns of their table; `duplicate_of` names a
    listed table.

    ## Why it matters
    A reference to nothing is a typo or a stale entry: the relation can never be checked and
    no migration can create it.

    ## Example
    `quota_usage.job_id: {references: job.id}` while the table is called `jobs`.

    ## Fix
    Correct the name in the lock.
    """

    code, name = "SL001", "dangling-reference"
    severity, category = Severity.ERROR, Category.LOCK
    needs_database = False

    def check(self, context: Context) -> Iterator[Finding]:
        tables = context.lock.database.tables
        covered = set(context.lock.database.schemas)
        for table in tables.values():
            yield from self._foreign_keys(table, tables, covered)
            yield from self._own_columns(table)
            if table.duplicate_of:
                target = names.split_table(table.duplicate_of, table.schema)
                if target not in tables:
                    yield self.finding(
                        f"{q(*table.key)} is a duplicate of {q(*target)}, which the lock does "
                        "not list",
                        table=table,
                        line=table.line,
                    )

    def _foreign_keys(
        self, table: Table, tables: dict[tuple[str, str], Table], covered: set[str]
    ) -> Iterator[Finding]:
        for fk in table.foreign_keys:
            if fk.ref_schema not in covered:
                continue
            target = tables.get((fk.ref_schema, fk.ref_table))
            if target is None:
                yield self.finding(
                    f"{q(*table.key)} references {q(fk.ref_schema, fk.ref_table)}, "
                    "which the lock does not list",
                    table=table,
                    constraint=fk.name,
                    line=fk.line,
                )
                continue
            if len(fk.columns) != len(fk.ref_columns):
                yield self.finding(
                    f"foreign key on {q(*table.key)} has {len(fk.columns)} columns "
                    f"but references {len(fk.ref_columns)}",
                    table=table,
                    constraint=fk.name,
                    line=fk.line,
                )
            for column in fk.ref_columns:
                if target.column(column) is None:
                    yield self.finding(
                        f"{q(*table.key)} references {q(*target.key, column)}, "
                        "which the lock does not list",
                        table=table,
                        constraint=fk.name,
                        line=fk.line,
                    )
            for column in fk.columns:
                if table.column(column) is None:
                    yield self.finding(
                        f"foreign key on {q(*table.key)} uses column {q(column)}, "
                        "which the table does not list",
                        table=table,
                        constraint=fk.name,
                        line=fk.line,
                    )

    def _own_columns(self, table: Table) -> Iterator[Finding]:
        used: list[tuple[str, str, int | None]] = []
        if table.primary_key:
            used += [(c, "primary key", table.primary_key.line) for c in table.primary_key.columns]
        for unique in table.uniques:
            used += [(c, "unique constraint", unique.line) for c in unique.columns]
        for index in table.indexes:
            included = [column_name(c) or c for c in index.include]
            used += [
                (c, f"index {index.name}", index.line)
                for c in (*(key_columns(index) or ()), *included)
            ]
        for column, user, line in used:
            if table.column(column) is None:
                yield self.finding(
                    f"{user} of {q(*table.key)} uses column {q(column)}, which the "
                    "table does not list",
                    table=table,
                    line=line,
                )


class DuplicateName(Rule):
    """Two objects of the lock would get the same name in PostgreSQL.

    ## What it checks
    Tables, indexes and unique constraints share one namespace per schema (each unique
    constraint owns an index of its name); constraint names are unique per table; enum labels
    and accepted values are unique.

    ## Why it matters
    PostgreSQL refuses the second object, so the lock describes a database that cannot exist.

    ## Example
    Two tables in `public` both declare an index named `idx_created_at`.

    ## Fix
    Rename one of them in the lock.
    """

    code, name = "SL002", "duplicate-name"
    severity, category = Severity.ERROR, Category.LOCK
    needs_database = False

    def check(self, context: Context) -> Iterator[Finding]:
        database = context.lock.database
        # (schema, relation name) -> what claims it: ("table" | "index on" | "unique on", table)
        relations: dict[tuple[str, str], list[tuple[str, Table]]] = defaultdict(list)
        for table in database.tables.values():
            relations[(table.schema, table.name)].append(("table", table))
            for index in table.indexes:
                relations[(table.schema, index.name)].append(("index on", table))
            for unique in table.uniques:
                if unique.name:
                    relations[(table.schema, unique.name)].append(("unique on", table))
            yield from self._constraints(table)
        # Only the names claimed twice are sorted (the others are most of a large lock).
        claimed = sorted(key for key, owners in relations.items() if len(owners) > 1)
        for schema, name in claimed:
            owners = relations[(schema, name)]
            claims = " and ".join(f"{kind} {q(*table.key)}" for kind, table in owners)
            yield self.finding(
                f"name {q(schema, name)} is used by {claims}",
                schema=schema,
                constraint=name,
                line=owners[-1][1].line,
            )
        for enum in database.enums.values():
            duplicates = sorted({x for x in enum.labels if enum.labels.count(x) > 1})
            if duplicates:
                yield self.finding(
                    f"enum {q(*enum.key)} repeats {', '.join(duplicates)}",
                    schema=enum.schema,
                    line=enum.line,
                )

    def _constraints(self, table: Table) -> Iterator[Finding]:
        seen: dict[str, int] = defaultdict(int)
        for name in _constraint_names(table):
            seen[name] += 1
        for name, count in seen.items():
            if count > 1:
                yield self.finding(
                    f"constraint name {q(name)} is used {count} times on {q(*table.key)}",
                    table=table,
                    constraint=name,
                    line=table.line,
                )
        for column in table.columns:
            values = column.values or ()
            duplicates = sorted({v for v in values if values.count(v) > 1})
            if duplicates:
                yield self.finding(
                    f"accepted values of {q(*table.key, column.name)} repeat "
                    f"{', '.join(duplicates)}",
                    table=table,
                    column=column.name,
                    line=column.line,
                )


class IdentifierTooLong(Rule):
    """A name in the lock is longer than PostgreSQL's 63-byte identifier limit.

    ## What it checks
    Schema, table, column, constraint, index, enum and domain names are at most 63 bytes in
    UTF-8.

    ## Why it matters
    PostgreSQL truncates longer names with only a NOTICE, so the object gets another name than
    the lock says, and two long names sharing their first 63 bytes collide.

    ## Example
    An index named `organizations_clerk_org_id_and_created_at_and_plan_lookup_index_v2`.

    ## Fix
    Shorten the name in the lock.
    """

    code, name = "SL003", "identifier-too-long"
    severity, category = Severity.ERROR, Category.LOCK
    needs_database = False

    def check(self, context: Context) -> Iterator[Finding]:
        database = context.lock.database
        for table in database.tables.values():
            named = [
                (table.schema, "schema", None),
                (table.name, "table", None),
                *((c.name, "column", c.name) for c in table.columns),
                *((i.name, "index", None) for i in table.indexes),
                *((name, "constraint", None) for name in _constraint_names(table)),
            ]
            for name, kind, column in named:
                if len(name.encode()) > MAX_IDENTIFIER_BYTES:
                    yield self.finding(
                        f"{kind} name {q(name)} on {q(*table.key)} is {len(name.encode())} bytes; "
                        f"PostgreSQL keeps {MAX_IDENTIFIER_BYTES}",
                        table=table,
                        column=column,
                        line=table.line,
                    )
        types: list[Enum | Domain] = [*database.enums.values(), *database.domains.values()]
        for user_type in types:
            if len(user_type.name.encode()) > MAX_IDENTIFIER_BYTES:
                yield self.finding(
                    f"type name {q(*user_type.key)} is longer than {MAX_IDENTIFIER_BYTES} bytes",
                    schema=user_type.schema,
                    line=user_type.line,
                )


class TableCountMismatch(Rule):
    """`database.expected_tables` differs from the number of tables the lock lists.

    ## What it checks
    When the lock states how many tables the database holds, it lists that many under
    `tables:`.

    ## Why it matters
    A stated count the lock does not meet means a table is undocumented: the seed document
    claims 12 tables and describes 11. `schemalock snapshot` of the real database shows which
    one is missing from the lock.

    ## Example
    `expected_tables: 12` with 11 entries under `tables:`.

    ## Fix
    Add the missing table (or correct the count) once the real database has been checked.
    """

    code, name = "SL004", "table-count-mismatch"
    severity, category = Severity.WARNING, Category.LOCK
    needs_database = False

    def check(self, context: Context) -> Iterator[Finding]:
        expected = context.lock.settings.expected_tables
        listed = len(context.lock.database.tables)
        if expected is not None and expected != listed:
            yield self.finding(
                f"the lock expects {expected} tables but lists {listed}",
                line=context.lock.settings.expected_tables_line,
                expected=expected,
                actual=listed,
            )


class InvalidPattern(Rule):
    """A column's `pattern:` is not a valid regular expression.

    ## What it checks
    Every `pattern:` compiles. Patterns are evaluated by PostgreSQL (`~`) when data is checked;
    the offline check uses Python's regular expressions, which agree on the common syntax.

    ## Why it matters
    A broken pattern makes every data check on the column fail or, worse, match nothing.

    ## Example
    `pattern: '^org_[0-9A-Za-z+$'` (unclosed bracket).

    ## Fix
    Correct the expression in the lock.
    """

    code, name = "SL005", "invalid-pattern"
    severity, category = Severity.ERROR, Category.LOCK
    needs_database = False

    def check(self, context: Context) -> Iterator[Finding]:
        for table in context.lock.database.tables.values():
            for column in table.columns:
                if column.pattern is None:
                    continue
                try:
                    re.compile(column.pattern)
                except re.error as error:
                    yield self.finding(
                        f"pattern of {q(*table.key, column.name)} is invalid: {error}",
                        table=table,
                        column=column.name,
                        line=column.line,
                    )


class InvalidExpression(Rule):
    """An expression, flow invariant or query contract of the lock is not valid SQL of its kind.

    ## What it checks
    Every SQL expression in the lock parses with PostgreSQL's own parser as one expression of
    its kind (defaults, checks, index keys with their operator classes, collations and ordering,
    index predicates, generation and partition expressions, partition bounds, domain defaults
    and checks); every flow invariant passes the allow-list `verify` applies before running it
    (one boolean expression over the lock's tables and columns, only side-effect-free
    functions, subqueries only in `implies`; a custom check is one SELECT; written out with
    explicit operators, at most 16 times its written size, or 10,000 parse nodes); every query
    contract parses as one statement.

    ## Why it matters
    The database could never have been built from this lock, comparing it with the live
    definition is meaningless, and `fix` could not write it into a migration. Like every error
    `lint` finds, it makes the lock invalid: `verify`, `fix` and `docs` refuse it (exit 2) before
    they connect, having parsed and checked all of it.

    ## Example
    `indexes: {by_email: {columns: ["lower(email"]}}`; `default: '0; DROP TABLE y'`.

    ## Fix
    Correct the expression in the lock.
    """

    code, name = "SL006", "invalid-expression"
    severity, category = Severity.ERROR, Category.LOCK
    needs_database = False

    def check(self, context: Context) -> Iterator[Finding]:
        for table in context.lock.database.tables.values():
            for text, kind, what, line in _expressions(table):
                error = expressions.parse_error(text, kind)
                if error:
                    yield self.finding(
                        f"{_what(*what)} of {q(*table.key)} does not parse: {error}",
                        table=table,
                        line=line,
                        actual=text,
                    )
        for domain in context.lock.database.domains.values():
            for text, described in _domain_expressions(domain):
                error = expressions.parse_error(text)
                if error:
                    yield self.finding(
                        f"{described} of domain {q(*domain.key)} does not parse: {error}",
                        schema=domain.schema,
                        line=domain.line,
                        actual=text,
                    )
        yield from self._flows(context)
        yield from self._queries(context)

    def _flows(self, context: Context) -> Iterator[Finding]:
        if not context.lock.flows:
            return  # and the SQL sandbox (pglast) is not imported
        from schemalock.usersql import flows
        from schemalock.usersql import sandbox as userexpr

        for flow in context.lock.flows:
            for invariant in flow.invariants:
                try:
                    flows.plan(invariant, context.lock.database)
                except userexpr.Rejected as refusal:
                    yield self.finding(
                        f"flow {flow.name}: invariant {invariant.name} is refused: {refusal}",
                        table=invariant.table,
                        constraint=invariant.name,
                        line=invariant.line,
                    )

    def _queries(self, context: Context) -> Iterator[Finding]:
        if not context.lock.queries:
            return
        from schemalock.usersql import sandbox as userexpr

        for query in context.lock.queries:
            error = userexpr.query_error(query.sql)
            if error:
                yield self.finding(
                    f"query {query.name} does not parse: {error}",
                    constraint=query.name,
                    line=query.line,
                    actual=query.sql,
                )


def _constraint_names(table: Table) -> list[str]:
    names = [fk.name for fk in table.foreign_keys] + [u.name for u in table.uniques]
    return [name for name in names + [c.name for c in table.checks] if name]


def _domain_expressions(domain: Domain) -> Iterator[tuple[str, str]]:
    if domain.default is not None:
        yield domain.default, "default"
    for check in domain.checks:
        yield check.expression, f"check {q(check.name or '?')}"


# What an expression of a table is, as (before, name, after): `_what` spells it out with the
# name quoted, only for the few that do not parse (a lock of 5,000 tables has some 40,000).
_Expression = tuple[str, str, tuple[str, str | None, str], int | None]


def _what(before: str, name: str | None, after: str) -> str:
    return f"{before}{'' if name is None else q(name)}{after}"


def _expressions(table: Table) -> Iterator[_Expression]:
    for column in table.columns:
        for text, what in ((column.default, "default"), (column.generated, "generation")):
            if text is not None and text != OWNED_SEQUENCE:
                yield text, "expr", (f"{what} of column ", column.name, ""), column.line
    yield from _checks_and_indexes(table.checks, table.indexes, "")
    if table.partition_by:
        yield table.partition_by, "partition", ("partition key", None, ""), table.line
    for _, partition in walk(table.partitions, table.key):
        name = q(*partition.key)
        yield partition.bound, "bound", (f"bound of partition {name}", None, ""), partition.line
        if partition.partition_by:
            key = (f"key of partition {name}", None, "")
            yield partition.partition_by, "partition", key, partition.line
        yield from _checks_and_indexes(partition.checks, partition.indexes, f" of partition {name}")


def _checks_and_indexes(
    checks: tuple[CheckConstraint, ...], indexes: tuple[Index, ...], of: str
) -> Iterator[_Expression]:
    for check in checks:
        yield check.expression, "expr", ("check ", check.name or "?", of), check.line
    for index in indexes:
        for key in index.keys:
            yield key, "index_elem", (f"key {key!r} of index ", index.name, of), index.line
        if index.where:
            yield index.where, "expr", ("predicate of index ", index.name, of), index.line
