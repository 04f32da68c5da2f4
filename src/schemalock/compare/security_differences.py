"""The differences of row-level security and policies.

As everywhere in `differences`: MissingPolicy is a policy the lock declares and the database
lacks (`lock`), ExtraPolicy one the database holds and the lock does not declare (`live`, at
the line of the lock's `row_security:` section), PolicyChanged one both hold that differs in
`aspects`.  RowSecurityChanged: a table both hold whose row-level security (enabled, forced)
is not as the lock says (a side without an entry has it off: `RowSecurity(enabled=False)`).
"""

from __future__ import annotations

from dataclasses import dataclass

from schemalock.compare.subject import Difference
from schemalock.model.policies import Policy, RowSecurity

__all__ = [
    "POLICY_ASPECTS",
    "ExtraPolicy",
    "MissingPolicy",
    "PolicyChanged",
    "RowSecurityChanged",
]


@dataclass(frozen=True, kw_only=True)
class RowSecurityChanged(Difference):
    lock: RowSecurity
    live: RowSecurity


@dataclass(frozen=True, kw_only=True)
class MissingPolicy(Difference):
    lock: Policy


@dataclass(frozen=True, kw_only=True)
class ExtraPolicy(Difference):
    live: Policy


# `mode`: permissive on one side, restrictive on the other.
POLICY_ASPECTS = ("command", "mode", "roles", "using", "with check")


@dataclass(frozen=True, kw_only=True)
class PolicyChanged(Difference):
    lock: Policy
    live: Policy
    aspects: frozenset[str]  # of POLICY_ASPECTS
