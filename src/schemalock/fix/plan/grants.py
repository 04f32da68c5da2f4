"""Privileges and roles: not repaired by `fix` yet.  Each difference is left for a person with
a note saying what to run; nothing is granted or revoked (rules say `fixable = False`)."""

from __future__ import annotations

from typing import Any

from schemalock.compare import differences as d
from schemalock.fix.plan.core import Planner
from schemalock.model.grants import PUBLIC
from schemalock.rules.grants import on


def _grantee(role: str) -> str:
    return "PUBLIC" if role == PUBLIC else role


def grant_left_alone(planner: Planner, difference: d.Difference) -> None:
    if isinstance(difference, d.MissingRole):
        planner.note(
            f"role {difference.role}: missing; roles are cluster-wide: CREATE ROLE by hand"
        )
        return
    assert isinstance(difference, d.MissingGrant | d.ExtraGrant)
    grant = difference.lock if isinstance(difference, d.MissingGrant) else difference.live
    privileges = ", ".join(difference.privileges).upper()
    statement = (
        f"GRANT {privileges} ... TO {_grantee(grant.role)}"
        if isinstance(difference, d.MissingGrant)
        else f"REVOKE {privileges} ... FROM {_grantee(grant.role)} (or add it to the lock)"
    )
    planner.note(f"{on(grant)}: privileges are not repaired by fix yet: {statement} by hand")


HANDLERS: dict[type[Any], Any] = {
    d.MissingGrant: grant_left_alone,
    d.ExtraGrant: grant_left_alone,
    d.MissingRole: grant_left_alone,
}
# Every handler here only notes: none repairs (what makes the rules not `fixable`).
NOTES_ONLY: frozenset[Any] = frozenset(HANDLERS.values())
