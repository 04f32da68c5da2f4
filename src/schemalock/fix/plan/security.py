"""Row-level security and policies: not repaired by `fix` yet.  Each difference is left for a
person with a note saying what to run; nothing is enabled, created or dropped (rules say
`fixable = False`)."""

from __future__ import annotations

from typing import Any

from schemalock.compare import differences as d
from schemalock.fix.plan.core import Planner
from schemalock.model.names import qualified


def row_security_left_alone(planner: Planner, difference: d.RowSecurityChanged) -> None:
    want, have = difference.lock, difference.live
    table = qualified(want.schema, want.table)
    statements = []
    if want.enabled != have.enabled:
        statements.append(f"{'ENABLE' if want.enabled else 'DISABLE'} ROW LEVEL SECURITY")
    if want.forced != have.forced:
        statements.append(f"{'FORCE' if want.forced else 'NO FORCE'} ROW LEVEL SECURITY")
    planner.note(
        f"row-level security of {table}: not repaired by fix yet: "
        + "; ".join(f"ALTER TABLE {table} {s}" for s in statements)
        + " by hand"
    )


def policy_left_alone(planner: Planner, difference: d.Difference) -> None:
    subject = difference.subject
    where = f"policy {qualified(subject.name)} on {qualified(subject.schema, subject.table)}"
    if isinstance(difference, d.ExtraPolicy):
        planner.note(f"{where}: extra policies are reported and left alone")
        return
    planner.note(
        f"{where}: policies are not repaired by fix yet: create it by hand (CREATE POLICY; "
        "ALTER POLICY for roles and conditions), as the lock defines it"
    )


HANDLERS: dict[type[Any], Any] = {
    d.RowSecurityChanged: row_security_left_alone,
    d.MissingPolicy: policy_left_alone,
    d.ExtraPolicy: policy_left_alone,
    d.PolicyChanged: policy_left_alone,
}
# Every handler here only notes: none repairs (what makes the rules not `fixable`).
NOTES_ONLY: frozenset[Any] = frozenset(HANDLERS.values())
