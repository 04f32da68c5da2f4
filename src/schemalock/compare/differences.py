"""The typed differences between two models: what the comparison stage yields.

A difference holds the objects of both sides it is about, its `subject` (the object's path, as
findings, reports and the planner name it) and `line`, the lock line that declares what the
database should have (or, for an extra object, the line of the section it would belong to).
Rules turn differences into findings; the fix planner plans from them, by type.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemalock.compare.comment_differences import *  # noqa: F403
from schemalock.compare.grant_differences import *  # noqa: F403

# Kinds outside tables, one module per family (each with its `__all__`), re-exported: rules,
# the planner and the guard name every difference `d.X`.
from schemalock.compare.object_differences import *  # noqa: F403
from schemalock.compare.partition_differences import *  # noqa: F403
from schemalock.compare.security_differences import *  # noqa: F403
from schemalock.compare.sequence_differences import *  # noqa: F403
from schemalock.compare.subject import Difference as Difference
from schemalock.compare.subject import Subject as Subject
from schemalock.model import (
    CheckConstraint,
    Column,
    Domain,
    Enum,
    ForeignKey,
    Index,
    Table,
    UniqueConstraint,
)
from schemalock.model.exclusions import ExclusionConstraint

# -- tables ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MissingTable(Difference):
    lock: Table


@dataclass(frozen=True, kw_only=True)
class ExtraTable(Difference):
    live: Table


@dataclass(frozen=True, kw_only=True)
class TableDifference(Difference):
    """A difference inside a table both sides have: `lock` and `live` are the two tables (the
    live one may still have the lock's `renamed_from` name)."""

    lock: Table
    live: Table


@dataclass(frozen=True, kw_only=True)
class RenamedTable(TableDifference):
    pass


@dataclass(frozen=True, kw_only=True)
class PartitioningChanged(TableDifference):
    pass


# -- columns -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MissingColumn(TableDifference):
    column: Column


@dataclass(frozen=True, kw_only=True)
class ExtraColumn(TableDifference):
    column: Column


@dataclass(frozen=True, kw_only=True)
class ColumnPairDifference(TableDifference):
    lock_column: Column
    live_column: Column


@dataclass(frozen=True, kw_only=True)
class RenamedColumn(ColumnPairDifference):
    pass


COLUMN_ASPECTS = ("type", "nullable", "default", "identity", "generated")


@dataclass(frozen=True, kw_only=True)
class ColumnChanged(ColumnPairDifference):
    aspects: frozenset[str]  # of COLUMN_ASPECTS


# -- keys and constraints ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PrimaryKeyChanged(TableDifference):
    """Missing, extra or on other columns: the two tables' `primary_key` say which."""


@dataclass(frozen=True, kw_only=True)
class MissingForeignKey(TableDifference):
    foreign_key: ForeignKey


@dataclass(frozen=True, kw_only=True)
class ExtraForeignKey(TableDifference):
    foreign_key: ForeignKey


FOREIGN_KEY_ACTIONS = ("on_delete", "on_update", "match", "deferrable", "initially_deferred")


@dataclass(frozen=True, kw_only=True)
class ForeignKeyChanged(TableDifference):
    """On the lock's columns, a key with another target (`target` in aspects) or other actions
    (the differing attributes of FOREIGN_KEY_ACTIONS)."""

    lock_key: ForeignKey
    live_key: ForeignKey
    aspects: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class ForeignKeyNotValidated(TableDifference):
    lock_key: ForeignKey
    live_key: ForeignKey


@dataclass(frozen=True, kw_only=True)
class MissingUnique(TableDifference):
    unique: UniqueConstraint


@dataclass(frozen=True, kw_only=True)
class ExtraUnique(TableDifference):
    unique: UniqueConstraint


@dataclass(frozen=True, kw_only=True)
class CheckChanged(TableDifference):
    """A check of the lock the database lacks (`live_check` None) or holds, under the lock's
    name, with another meaning."""

    lock_check: CheckConstraint
    live_check: CheckConstraint | None


@dataclass(frozen=True, kw_only=True)
class ExtraCheck(TableDifference):
    check: CheckConstraint


@dataclass(frozen=True, kw_only=True)
class CheckNotValidated(TableDifference):
    lock_check: CheckConstraint
    live_check: CheckConstraint


# -- table aspects: collations, storage parameters, exclusion constraints, NO INHERIT ------


@dataclass(frozen=True, kw_only=True)
class CollationChanged(ColumnPairDifference):
    """A column of another collation (`collation`; None: its type's default)."""


@dataclass(frozen=True, kw_only=True)
class IdentityOptionsChanged(ColumnPairDifference):
    """An identity column (both sides) whose sequence has other options: `aspects` of
    IDENTITY_OPTIONS (`type`, `start`, `increment`, `min`, `max`, `cache`, `cycle`)."""

    aspects: frozenset[str]


@dataclass(frozen=True, kw_only=True)
class TableOptionsChanged(TableDifference):
    """Other storage parameters (`WITH (fillfactor=...)`): the tables' `options` say which."""


@dataclass(frozen=True, kw_only=True)
class MissingExclusion(TableDifference):
    exclusion: ExclusionConstraint


@dataclass(frozen=True, kw_only=True)
class ExtraExclusion(TableDifference):
    exclusion: ExclusionConstraint


EXCLUSION_ASPECTS = ("definition", "deferral")


@dataclass(frozen=True, kw_only=True)
class ExclusionChanged(TableDifference):
    """The lock's exclusion constraint, under its name, excludes something else or is
    deferred otherwise."""

    lock_exclusion: ExclusionConstraint
    live_exclusion: ExclusionConstraint
    aspects: frozenset[str]  # of EXCLUSION_ASPECTS


@dataclass(frozen=True, kw_only=True)
class CheckInheritanceChanged(TableDifference):
    """A check of the same meaning that is NO INHERIT on one side only."""

    lock_check: CheckConstraint
    live_check: CheckConstraint


# -- indexes -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MissingIndex(TableDifference):
    index: Index


@dataclass(frozen=True, kw_only=True)
class ExtraIndex(TableDifference):
    index: Index


@dataclass(frozen=True, kw_only=True)
class InvalidIndex(TableDifference):
    """A live index a failed concurrent build left INVALID: it enforces nothing."""

    index: Index


# -- types -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MissingEnum(Difference):
    lock: Enum


@dataclass(frozen=True, kw_only=True)
class ExtraEnum(Difference):
    live: Enum


@dataclass(frozen=True, kw_only=True)
class EnumChanged(Difference):
    lock: Enum
    live: Enum


@dataclass(frozen=True, kw_only=True)
class MissingDomain(Difference):
    lock: Domain


@dataclass(frozen=True, kw_only=True)
class ExtraDomain(Difference):
    live: Domain


DOMAIN_ASPECTS = ("type", "nullable", "default", "checks")


@dataclass(frozen=True, kw_only=True)
class DomainChanged(Difference):
    lock: Domain
    live: Domain
    aspects: frozenset[str]  # of DOMAIN_ASPECTS
