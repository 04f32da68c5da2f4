"""The differences of privileges (grants) and of the roles the lock names.

MissingGrant: privileges the lock grants a role on an object that the database's role lacks
(`lock`, `privileges` the missing ones); ExtraGrant: privileges a role the lock names holds
that the lock does not grant (`live`, `privileges` the extra ones; at the lock grant's line,
or the `grants:` section's).  GrantOptionMismatch: of the privileges both grant and hold,
those the lock grants WITH GRANT OPTION and the role holds without (`lacking`), and those it
holds with the option the lock does not grant (`extra`).  MissingRole: a role the lock names
(grants, policies, default privileges' owners) that the database does not have.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemalock.compare.subject import Difference
from schemalock.model.grants import Grant

__all__ = ["ExtraGrant", "GrantOptionMismatch", "MissingGrant", "MissingRole"]


@dataclass(frozen=True, kw_only=True)
class MissingGrant(Difference):
    lock: Grant
    privileges: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class ExtraGrant(Difference):
    live: Grant
    privileges: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class GrantOptionMismatch(Difference):
    lock: Grant
    live: Grant
    lacking: tuple[str, ...]
    extra: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class MissingRole(Difference):
    role: str
