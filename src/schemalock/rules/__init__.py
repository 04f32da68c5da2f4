"""The rule registry: one explicit list, in code order.  Codes and names are never reused."""

from __future__ import annotations

from schemalock.rules.aspects import (
    CollationMismatch,
    ExclusionMismatch,
    IdentityOptionsMismatch,
    TableOptionsMismatch,
)
from schemalock.rules.base import Context, Rule
from schemalock.rules.columns import (
    ColumnTypeMismatch,
    DefaultMismatch,
    ExtraColumn,
    MissingColumn,
    NullabilityMismatch,
    RenamedColumn,
)
from schemalock.rules.comments import CommentChanged
from schemalock.rules.constraints import CheckMismatch, ExtraConstraint, MissingUnique
from schemalock.rules.contracts import FlowViolation, QueryContractFailed
from schemalock.rules.data import AcceptedValuesViolation, MockData, PatternViolation
from schemalock.rules.duplicates import DuplicateTable
from schemalock.rules.extensions import ExtensionChanged, ExtraExtension, MissingExtension
from schemalock.rules.grants import ExtraGrant, GrantOptionMismatch, MissingGrant, MissingRole
from schemalock.rules.history import LockChange, LockProgress, LockRegression
from schemalock.rules.identifiers import MiswiredReference, UndashedUuidAsText, UuidStoredAsText
from schemalock.rules.indexes import ExtraIndex, InvalidIndex, MissingIndex
from schemalock.rules.integrity import (
    CheckNotValidated,
    CheckViolations,
    FkMissingIndex,
    FkNotValidated,
    FkOrphans,
)
from schemalock.rules.keys import (
    FkTypeMismatch,
    ForeignKeyMismatch,
    MissingForeignKey,
    PrimaryKeyMismatch,
)
from schemalock.rules.lockfile import (
    DanglingReference,
    DuplicateName,
    IdentifierTooLong,
    InvalidExpression,
    InvalidPattern,
    TableCountMismatch,
)
from schemalock.rules.partitions import (
    ExtraPartition,
    InheritanceMismatch,
    MissingPartition,
    PartitionChanged,
)
from schemalock.rules.policy import DatabasePolicy
from schemalock.rules.routines import (
    DefinerWithoutSearchPath,
    ExtraFunction,
    FunctionChanged,
    MissingFunction,
)
from schemalock.rules.row_security import (
    ExtraPolicy,
    MissingPolicy,
    PolicyChanged,
    RlsMismatch,
)
from schemalock.rules.schemas import ExtraSchema, MissingSchema
from schemalock.rules.sequences import ExtraSequence, MissingSequence, SequenceChanged
from schemalock.rules.tables import ExtraTable, MissingTable, PartitionMismatch, RenamedTable
from schemalock.rules.triggers import ExtraTrigger, MissingTrigger, TriggerChanged
from schemalock.rules.types import DomainMismatch, EnumMismatch
from schemalock.rules.views import ExtraView, MissingView, ViewChanged
from schemalock.rules.waivers import ExpiredWaiver, UnusedWaiver

RULES: tuple[type[Rule], ...] = (
    DanglingReference,
    DuplicateName,
    IdentifierTooLong,
    TableCountMismatch,
    InvalidPattern,
    InvalidExpression,
    ExpiredWaiver,
    UnusedWaiver,
    MissingTable,
    ExtraTable,
    MissingColumn,
    ExtraColumn,
    ColumnTypeMismatch,
    NullabilityMismatch,
    DefaultMismatch,
    PrimaryKeyMismatch,
    MissingForeignKey,
    ForeignKeyMismatch,
    MissingUnique,
    MissingIndex,
    CheckMismatch,
    EnumMismatch,
    InvalidIndex,
    RenamedTable,
    RenamedColumn,
    ExtraIndex,
    ExtraConstraint,
    PartitionMismatch,
    DomainMismatch,
    CollationMismatch,
    TableOptionsMismatch,
    ExclusionMismatch,
    IdentityOptionsMismatch,
    MissingPartition,
    ExtraPartition,
    PartitionChanged,
    InheritanceMismatch,
    FkOrphans,
    FkNotValidated,
    FkTypeMismatch,
    FkMissingIndex,
    CheckNotValidated,
    CheckViolations,
    UuidStoredAsText,
    MiswiredReference,
    UndashedUuidAsText,
    MockData,
    PatternViolation,
    AcceptedValuesViolation,
    DuplicateTable,
    DatabasePolicy,
    FlowViolation,
    QueryContractFailed,
    LockRegression,
    LockProgress,
    LockChange,
    # Kinds outside tables (SL7xx): views, functions, triggers, schemas, sequences,
    # extensions, row-level security and policies, grants and roles.
    MissingView,
    ExtraView,
    ViewChanged,
    MissingFunction,
    ExtraFunction,
    FunctionChanged,
    DefinerWithoutSearchPath,
    MissingTrigger,
    ExtraTrigger,
    TriggerChanged,
    MissingSchema,
    ExtraSchema,
    MissingSequence,
    ExtraSequence,
    SequenceChanged,
    MissingExtension,
    ExtraExtension,
    ExtensionChanged,
    RlsMismatch,
    MissingPolicy,
    ExtraPolicy,
    PolicyChanged,
    MissingGrant,
    ExtraGrant,
    MissingRole,
    GrantOptionMismatch,
    CommentChanged,
)

__all__ = ["RULES", "Context", "Rule", "find_rule"]


def find_rule(code_or_name: str) -> type[Rule] | None:
    wanted = code_or_name.strip()
    for rule in RULES:
        if wanted.upper() == rule.code or wanted.lower() == rule.name:
            return rule
    return None
