"""Privileges of two locks, judged from the comparison stage's differences (the new lock in
the lock's role, as in `schema`): a privilege granted to PUBLIC (every role) is a
regression; other grants added or revoked are neutral (access is a decision, not a promise
kept or broken), and so is a grant option given or taken back (PUBLIC cannot hold one).
MissingRole needs the live roles and never arises between two locks."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.compare import differences as d
from schemalock.guard.changes import Change, Kind
from schemalock.guard.schema import Sides, about, handles
from schemalock.model.grants import PUBLIC
from schemalock.rules.grants import on


@handles(d.MissingGrant)
def _granted(x: d.MissingGrant, sides: Sides) -> Iterator[Change]:
    grant = x.lock
    kind = Kind.REGRESSION if grant.role == PUBLIC else Kind.NEUTRAL
    to = "PUBLIC" if grant.role == PUBLIC else grant.role
    privileges = ", ".join(x.privileges).upper()
    yield about(
        x, kind, f"{privileges} on {on(grant)} granted to {to}", x.line, constraint=grant.role
    )


@handles(d.ExtraGrant)
def _revoked(x: d.ExtraGrant, sides: Sides) -> Iterator[Change]:
    grant = x.live
    to = "PUBLIC" if grant.role == PUBLIC else grant.role
    privileges = ", ".join(x.privileges).upper()
    yield about(
        x, Kind.NEUTRAL, f"{privileges} on {on(grant)} revoked from {to}", x.line,
        constraint=grant.role,
    )  # fmt: skip


@handles(d.GrantOptionMismatch)
def _grant_option(x: d.GrantOptionMismatch, sides: Sides) -> Iterator[Change]:
    # The new lock is in the lock's role: `lacking` are given the option, `extra` lose it.
    grant = x.lock
    said = []
    if x.lacking:
        said.append(f"grant option for {', '.join(x.lacking).upper()} given to {grant.role}")
    if x.extra:
        said.append(f"grant option for {', '.join(x.extra).upper()} taken from {grant.role}")
    yield about(x, Kind.NEUTRAL, f"{'; '.join(said)} on {on(grant)}", x.line, constraint=grant.role)


@handles(d.MissingRole)
def _role(x: d.MissingRole, sides: Sides) -> Iterator[Change]:
    yield about(x, Kind.NEUTRAL, f"role {x.role} named", x.line, constraint=x.role)
