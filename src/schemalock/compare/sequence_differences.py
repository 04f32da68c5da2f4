"""The differences of sequences (those no column uses as its serial or identity sequence) and
of extensions.

As everywhere in `differences`: Missing* is an object the lock declares and the database lacks
(`lock`), Extra* one the database holds and the lock does not declare (`live`, at the line of
the lock's section for its kind), *Changed one both hold that differs in `aspects`.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemalock.compare.subject import Difference
from schemalock.model.extensions import Extension
from schemalock.model.sequences import Sequence

__all__ = [
    "EXTENSION_ASPECTS",
    "SEQUENCE_ASPECTS",
    "ExtensionChanged",
    "ExtraExtension",
    "ExtraSequence",
    "MissingExtension",
    "MissingSequence",
    "SequenceChanged",
]


@dataclass(frozen=True, kw_only=True)
class MissingSequence(Difference):
    lock: Sequence


@dataclass(frozen=True, kw_only=True)
class ExtraSequence(Difference):
    live: Sequence


SEQUENCE_ASPECTS = ("type", "start", "increment", "min", "max", "cache", "cycle", "owned by")


@dataclass(frozen=True, kw_only=True)
class SequenceChanged(Difference):
    lock: Sequence
    live: Sequence
    aspects: frozenset[str]  # of SEQUENCE_ASPECTS


@dataclass(frozen=True, kw_only=True)
class MissingExtension(Difference):
    lock: Extension


@dataclass(frozen=True, kw_only=True)
class ExtraExtension(Difference):
    live: Extension


# `version` only when the lock pins one.
EXTENSION_ASPECTS = ("schema", "version")


@dataclass(frozen=True, kw_only=True)
class ExtensionChanged(Difference):
    lock: Extension
    live: Extension
    aspects: frozenset[str]  # of EXTENSION_ASPECTS
