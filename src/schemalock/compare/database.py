"""Compare two databases (the lock's and the live one, or two locks) object kind by object kind.

Tables are paired once (`pairs.pair_tables`, honouring `renamed_from` and the lock's `ignore`);
inside each pair every kind is matched once (`matching`), and every mismatch becomes one typed
difference.  Nothing here reads a row or a catalog: both sides are models.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar, cast

from schemalock.compare import differences as d
from schemalock.compare.aspects import (
    check_inheritance_differences,
    exclusion_differences,
    table_aspect_differences,
)
from schemalock.compare.comments import comment_differences
from schemalock.compare.grants import grant_differences
from schemalock.compare.matching import (
    match_checks,
    match_foreign_keys,
    match_indexes,
    match_uniques,
)
from schemalock.compare.objects import object_differences
from schemalock.compare.pairs import ColumnPair, TablePair, pair_tables
from schemalock.compare.partitions import declared, own_pairs, partition_differences
from schemalock.compare.security import security_differences
from schemalock.compare.sequences import sequence_differences
from schemalock.model import Column, Database, Domain, LockSettings, Table, expressions

D = TypeVar("D", bound=d.Difference)


@dataclass(frozen=True)
class Comparison:
    """Every difference between two databases, in a stable order (tables in the lock's order,
    then kinds as `_table_differences` yields them), and the table pairs they came from."""

    differences: tuple[d.Difference, ...]
    tables: tuple[TablePair, ...]
    _by_type: dict[type[d.Difference], list[d.Difference]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def of(self, kind: type[D]) -> list[D]:
        """The differences of one type (subclasses included), in order."""
        if kind not in self._by_type:
            self._by_type[kind] = [x for x in self.differences if isinstance(x, kind)]
        return cast(list[D], self._by_type[kind])

    def __iter__(self) -> Iterator[d.Difference]:
        return iter(self.differences)

    def __len__(self) -> int:
        return len(self.differences)


def compare(lock: Database, live: Database, settings: LockSettings | None = None) -> Comparison:
    """The differences that make `live` other than `lock` says."""
    settings = settings or LockSettings()
    tables = pair_tables(lock, live, settings.ignore)
    found: list[d.Difference] = []
    partitions = declared(lock)  # a table of such a name is a detached partition, not extra
    for pair in tables:
        if pair.live is None and pair.lock is not None:
            table = pair.lock
            found.append(d.MissingTable(subject=_table(table), line=table.line, lock=table))
        elif pair.lock is None and pair.live is not None:
            if pair.live.key in partitions:
                continue
            table = pair.live
            subject = _table(table)
            found.append(d.ExtraTable(subject=subject, line=settings.tables_line, live=table))
        elif pair.lock is not None and pair.live is not None:
            if pair.renamed:
                table = pair.lock
                found.append(
                    d.RenamedTable(
                        subject=_table(table), line=table.line, lock=table, live=pair.live
                    )
                )
            found.extend(_table_differences(pair.lock, pair.live, pair.columns))
    found.extend(_enum_differences(lock, live, settings))
    found.extend(_domain_differences(lock, live, settings))
    found.extend(object_differences(lock, live, settings))
    found.extend(security_differences(lock, live, settings))
    found.extend(sequence_differences(lock, live, settings))
    found.extend(grant_differences(lock, live, settings))
    found.extend(partition_differences(lock, live, tables))
    for lock_part, live_part in own_pairs(lock, live, tables):
        found.extend(_own_differences(lock_part, live_part))
    if settings.comments == "exact":
        found.extend(comment_differences(lock, live, tables, settings.ignore))
    if live.elsewhere is not None:  # the schemas the lock does not cover: all of it is extra
        found.extend(compare(Database(schemas=()), live.elsewhere, settings))
    return Comparison(tuple(found), tuple(tables))


def _table(table: Table) -> d.Subject:
    return d.Subject("table", table.schema, table.name)


def _in(table: Table, kind: str, name: str | None) -> d.Subject:
    return d.Subject(kind, table.schema, table.name, name)


def _table_differences(
    lock: Table, live: Table, columns: list[ColumnPair]
) -> Iterator[d.Difference]:
    yield from _columns(lock, live, columns)
    yield from _keys_and_indexes(lock, live)
    # collations, options, exclusions, ...
    yield from table_aspect_differences(lock, live, columns)
    if not expressions.same(lock.partition_by, live.partition_by, "partition"):
        yield d.PartitioningChanged(
            subject=_in(lock, "partitioning", None), line=lock.line, lock=lock, live=live
        )


def _keys_and_indexes(lock: Table, live: Table) -> Iterator[d.Difference]:
    yield from _primary_key(lock, live)
    yield from _foreign_keys(lock, live)
    yield from _uniques(lock, live)
    yield from _checks(lock, live)
    yield from _indexes(lock, live)


def _own_differences(lock: Table, live: Table) -> Iterator[d.Difference]:
    """A partition's own indexes and constraints (`compare.partitions.own_pairs`), compared as
    a table's: its columns and its partitioning are its parent's and its own bound's."""
    yield from _keys_and_indexes(lock, live)
    yield from exclusion_differences(lock, live)
    yield from check_inheritance_differences(lock, live)


def _columns(lock: Table, live: Table, columns: list[ColumnPair]) -> Iterator[d.Difference]:
    for pair in columns:
        if pair.lock is not None and pair.live is None:
            column = pair.lock
            yield d.MissingColumn(
                subject=_in(lock, "column", column.name),
                line=column.line,
                lock=lock,
                live=live,
                column=column,
            )
        elif pair.lock is None and pair.live is not None:
            yield d.ExtraColumn(
                subject=_in(lock, "column", pair.live.name),
                line=lock.line,
                lock=lock,
                live=live,
                column=pair.live,
            )
        elif pair.lock is not None and pair.live is not None:
            subject, line = _in(lock, "column", pair.lock.name), pair.lock.line
            if pair.renamed:
                yield d.RenamedColumn(
                    subject=subject,
                    line=line,
                    lock=lock,
                    live=live,
                    lock_column=pair.lock,
                    live_column=pair.live,
                )
            if aspects := column_aspects(pair.lock, pair.live):
                yield d.ColumnChanged(
                    subject=subject,
                    line=line,
                    lock=lock,
                    live=live,
                    lock_column=pair.lock,
                    live_column=pair.live,
                    aspects=aspects,
                )


def column_aspects(want: Column, have: Column) -> frozenset[str]:
    """Which of COLUMN_ASPECTS differ between two columns of one name."""
    aspects = set()
    if want.type != have.type:
        aspects.add("type")
    if want.nullable != have.nullable:
        aspects.add("nullable")
    if not expressions.same(_default(want.default), _default(have.default)):
        aspects.add("default")
    if want.identity != have.identity:
        aspects.add("identity")
    if (
        not expressions.same(want.generated, have.generated)
        or want.generated_storage != have.generated_storage
    ):
        aspects.add("generated")
    return frozenset(aspects)


def _default(expression: str | None) -> str | None:
    """`DEFAULT NULL` is no default."""
    return None if expression is None or expression.strip().upper() == "NULL" else expression


def _primary_key(lock: Table, live: Table) -> Iterator[d.Difference]:
    want = lock.primary_key.columns if lock.primary_key else None
    have = live.primary_key.columns if live.primary_key else None
    if want != have:
        name = live.primary_key.name if live.primary_key else None
        yield d.PrimaryKeyChanged(
            subject=_in(lock, "primary key", name),
            line=lock.primary_key.line if lock.primary_key else lock.line,
            lock=lock,
            live=live,
        )


def _foreign_keys(lock: Table, live: Table) -> Iterator[d.Difference]:
    pairs, extra = match_foreign_keys(lock, live)
    for wanted, found in pairs:
        subject = _in(lock, "foreign key", (found.name if found else None) or wanted.name)
        if found is None:
            yield d.MissingForeignKey(
                subject=subject, line=wanted.line, lock=lock, live=live, foreign_key=wanted
            )
            continue
        if found.target != wanted.target:
            aspects = frozenset({"target"})
        else:
            aspects = frozenset(
                a for a in d.FOREIGN_KEY_ACTIONS if getattr(found, a) != getattr(wanted, a)
            )
        if aspects:
            yield d.ForeignKeyChanged(
                subject=subject,
                line=wanted.line,
                lock=lock,
                live=live,
                lock_key=wanted,
                live_key=found,
                aspects=aspects,
            )
        if not found.validated and found.target == wanted.target:
            yield d.ForeignKeyNotValidated(
                subject=subject,
                line=wanted.line,
                lock=lock,
                live=live,
                lock_key=wanted,
                live_key=found,
            )
    for fk in extra:
        yield d.ExtraForeignKey(
            subject=_in(lock, "foreign key", fk.name),
            line=lock.line,
            lock=lock,
            live=live,
            foreign_key=fk,
        )


def _uniques(lock: Table, live: Table) -> Iterator[d.Difference]:
    enforced, extra = match_uniques(lock, live)
    for wanted, is_enforced in enforced:
        if not is_enforced:
            yield d.MissingUnique(
                subject=_in(lock, "unique", wanted.name),
                line=wanted.line,
                lock=lock,
                live=live,
                unique=wanted,
            )
    for unique in extra:
        yield d.ExtraUnique(
            subject=_in(lock, "unique", unique.name),
            line=lock.line,
            lock=lock,
            live=live,
            unique=unique,
        )


def _checks(lock: Table, live: Table) -> Iterator[d.Difference]:
    pairs, extra = match_checks(lock, live)
    for wanted, found, same in pairs:
        subject = _in(lock, "check", wanted.name or (found.name if found else None))
        if not same:
            yield d.CheckChanged(
                subject=subject,
                line=wanted.line,
                lock=lock,
                live=live,
                lock_check=wanted,
                live_check=found,
            )
        elif found is not None and found.name is not None and not found.validated:
            yield d.CheckNotValidated(
                subject=subject,
                line=wanted.line,
                lock=lock,
                live=live,
                lock_check=wanted,
                live_check=found,
            )
    for check in extra:
        yield d.ExtraCheck(
            subject=_in(lock, "check", check.name),
            line=lock.line,
            lock=lock,
            live=live,
            check=check,
        )


def _indexes(lock: Table, live: Table) -> Iterator[d.Difference]:
    pairs, extra = match_indexes(lock, live)
    for wanted, found in pairs:
        if found is None:
            yield d.MissingIndex(
                subject=_in(lock, "index", wanted.name),
                line=wanted.line,
                lock=lock,
                live=live,
                index=wanted,
            )
    for index in extra:
        if index.valid:
            yield d.ExtraIndex(
                subject=_in(lock, "index", index.name),
                line=lock.line,
                lock=lock,
                live=live,
                index=index,
            )
    lines = {index.name: index.line for index in lock.indexes}
    for index in live.indexes:
        if not index.valid:
            yield d.InvalidIndex(
                subject=_in(lock, "index", index.name),
                line=lines.get(index.name, lock.line),
                lock=lock,
                live=live,
                index=index,
            )


def _enum_differences(
    lock: Database, live: Database, settings: LockSettings
) -> Iterator[d.Difference]:
    for key, wanted in lock.enums.items():
        subject = d.Subject("enum", key[0], name=key[1])
        found = live.enums.get(key)
        if found is None:
            yield d.MissingEnum(subject=subject, line=wanted.line, lock=wanted)
        elif found.labels != wanted.labels:
            yield d.EnumChanged(subject=subject, line=wanted.line, lock=wanted, live=found)
    for key, found in live.enums.items():
        if key not in lock.enums:
            yield d.ExtraEnum(
                subject=d.Subject("enum", key[0], name=key[1]), line=settings.enums_line, live=found
            )


def _domain_differences(
    lock: Database, live: Database, settings: LockSettings
) -> Iterator[d.Difference]:
    for key, wanted in lock.domains.items():
        subject = d.Subject("domain", key[0], name=key[1])
        found = live.domains.get(key)
        if found is None:
            yield d.MissingDomain(subject=subject, line=wanted.line, lock=wanted)
        elif aspects := domain_aspects(wanted, found):
            yield d.DomainChanged(
                subject=subject, line=wanted.line, lock=wanted, live=found, aspects=aspects
            )
    for key, found in live.domains.items():
        if key not in lock.domains:
            yield d.ExtraDomain(
                subject=d.Subject("domain", key[0], name=key[1]),
                line=settings.domains_line,
                live=found,
            )


def domain_aspects(want: Domain, have: Domain) -> frozenset[str]:
    """Which of DOMAIN_ASPECTS differ between two domains of one name."""
    aspects = set()
    if want.type != have.type:
        aspects.add("type")
    if want.nullable != have.nullable:
        aspects.add("nullable")
    if not expressions.same(want.default, have.default):
        aspects.add("default")
    same_checks = all(
        any(expressions.same(a.expression, b.expression) for b in other.checks)
        for one, other in ((want, have), (have, want))
        for a in one.checks
    )
    if not same_checks:
        aspects.add("checks")
    return frozenset(aspects)
