"""Row-level security and policies: repaired as the lock says.

Policies are created and changed in Phase.POLICIES, before row-level security is enabled in
Phase.ROW_SECURITY: a table with it on and no policy yet shows no row to any role but its
owner.  ALTER POLICY changes the roles and the conditions in place; the command and the mode
cannot be altered, and a condition cannot be taken away, so those are dropped and created in
one step (one transaction: no moment without the policy).  The downgrade puts back the
database's definition.  An extra policy is reported and left alone; a policy naming a role
the cluster lacks is left for a person, with the role (CREATE POLICY would fail).
"""

from __future__ import annotations

from typing import Any

from schemalock.compare import differences as d
from schemalock.fix import operations as fo
from schemalock.fix.plan.core import Phase, Planner
from schemalock.fix.plan.sql import canonical_sql
from schemalock.model import Table
from schemalock.model.names import qualified, quote
from schemalock.model.policies import PUBLIC, Policy, RowSecurity

# What ALTER POLICY can change in place (both sides having the condition).
_ALTERABLE = frozenset({"roles", "using", "with check"})


def row_security(planner: Planner, difference: d.RowSecurityChanged) -> None:
    want, have = difference.lock, difference.live
    table = qualified(*want.key)
    operations, hazards = [], [f"brief ACCESS EXCLUSIVE lock on {table} (catalog only)"]
    if want.enabled != have.enabled:
        operations.append(_toggle(want, "ENABLE", "DISABLE", want.enabled))
        hazards.append(
            f"row-level security enabled on {table}: every role without a policy that lets "
            "it through sees no row of it and writes none (its owner too when forced)"
            if want.enabled
            else f"row-level security disabled on {table}: its policies no longer restrict "
            "any role that has privileges on it"
        )
    if want.forced != have.forced:
        operations.append(_toggle(want, "FORCE", "NO FORCE", want.forced))
        hazards.append(
            f"row-level security forced on {table}: its owner is bound by its policies too"
            if want.forced
            else f"row-level security no longer forced on {table}: its owner bypasses its policies"
        )
    planner.add(
        Phase.ROW_SECURITY,
        f"row-level security of {table}: {have.state} -> {want.state}",
        *operations,
        hazards=hazards,
    )


def created(planner: Planner, table: Table) -> None:
    """Row-level security as the lock says on a table the plan creates (the comparison
    compares it only on tables the database has)."""
    wanted = planner.lock.database.row_security.get(table.key)
    if wanted is None or not (wanted.enabled or wanted.forced):
        return
    off = RowSecurity(*table.key, enabled=False)
    subject = d.Subject("row-level security", *table.key)
    row_security(planner, d.RowSecurityChanged(subject=subject, line=None, lock=wanted, live=off))


def _toggle(want: RowSecurity, on: str, off: str, turned_on: bool) -> fo.Sql:
    table = qualified(*want.key)
    statement = f"ALTER TABLE {table} {{}} ROW LEVEL SECURITY"
    done, undone = (on, off) if turned_on else (off, on)
    return fo.Sql(statement.format(done), undo=statement.format(undone))


def missing_policy(planner: Planner, difference: d.MissingPolicy) -> None:
    policy = difference.lock
    create = _creatable(planner, policy)
    if create is None:
        return
    planner.add(
        Phase.POLICIES,
        f"create policy {_named(policy)}",
        fo.Sql(create, undo=drop_policy_sql(policy)),
        hazards=[*_lock_hazard(policy), _access(policy)],
    )


def changed_policy(planner: Planner, difference: d.PolicyChanged) -> None:
    want, have = difference.lock, difference.live
    create = _creatable(planner, want)
    if create is None:
        return
    hazards = [*_lock_hazard(want), _access(want)]
    aspects = ", ".join(a for a in d.POLICY_ASPECTS if a in difference.aspects)
    title = f"policy {_named(want)}: {aspects} as the lock says"
    if _alterable(difference):
        planner.add(
            Phase.POLICIES,
            title,
            fo.Sql(
                _alter_sql(want, difference.aspects, lock=True),
                undo=_alter_sql(have, difference.aspects, lock=False),
            ),
            hazards=hazards,
        )
        return
    # ALTER POLICY cannot change these: dropped and created in the one transaction.
    planner.add(
        Phase.POLICIES,
        f"{title} (dropped and created again)",
        fo.Sql(drop_policy_sql(have), undo=create_policy_sql(have, lock=False)),
        fo.Sql(create, undo=drop_policy_sql(want)),
        hazards=hazards,
    )


def _alterable(difference: d.PolicyChanged) -> bool:
    want, have = difference.lock, difference.live
    if not difference.aspects <= _ALTERABLE:
        return False
    if "using" in difference.aspects and (want.using is None or have.using is None):
        return False
    return "with check" not in difference.aspects or (
        want.check is not None and have.check is not None
    )


def extra_policy(planner: Planner, difference: d.ExtraPolicy) -> None:
    planner.note(f"policy {_named(difference.live)}: extra policies are reported and left alone")


def create_policy_sql(policy: Policy, lock: bool = True) -> str:
    """CREATE POLICY as `policy` defines it; `lock`: its conditions come from the lock (read
    by PostgreSQL's parser and printed back: one expression each, nothing else), else from
    the catalog (pg_get_expr)."""
    parts = [
        f"CREATE POLICY {quote(policy.name)} ON {_table(policy)}",
        f"AS {'PERMISSIVE' if policy.permissive else 'RESTRICTIVE'}",
        f"FOR {policy.command.upper()}",
        f"TO {_roles(policy)}",
    ]
    if policy.using is not None:
        parts.append(f"USING ({_condition(policy.using, lock)})")
    if policy.check is not None:
        parts.append(f"WITH CHECK ({_condition(policy.check, lock)})")
    return " ".join(parts)


def drop_policy_sql(policy: Policy) -> str:
    return f"DROP POLICY {quote(policy.name)} ON {_table(policy)}"


def _alter_sql(policy: Policy, aspects: frozenset[str], lock: bool) -> str:
    parts = [f"ALTER POLICY {quote(policy.name)} ON {_table(policy)}"]
    if "roles" in aspects:
        parts.append(f"TO {_roles(policy)}")
    if "using" in aspects and policy.using is not None:
        parts.append(f"USING ({_condition(policy.using, lock)})")
    if "with check" in aspects and policy.check is not None:
        parts.append(f"WITH CHECK ({_condition(policy.check, lock)})")
    return " ".join(parts)


def _creatable(planner: Planner, policy: Policy) -> str | None:
    """CREATE POLICY of the lock's policy, or None when it is left for a person (a role the
    cluster lacks: a note) or refused (a condition that is not one expression)."""
    roles = planner.live.roles
    absent = [r for r in policy.roles if r != PUBLIC and roles is not None and r not in roles]
    if absent:
        planner.note(
            f"policy {_named(policy)}: role {', '.join(map(quote, absent))} does not exist; "
            "create it (roles are cluster-wide), then run fix again"
        )
        return None
    try:
        return create_policy_sql(policy)
    except Exception as error:  # pglast's ParseError or ValueError: not one expression
        planner.plan.refusals.append(
            f"policy {_named(policy)}: a condition of the lock is not one SQL expression "
            f"({str(error).splitlines()[0] if str(error) else type(error).__name__}): "
            "correct the lock"
        )
        return None


def _condition(text: str, lock: bool) -> str:
    return canonical_sql(text) if lock else text


def _roles(policy: Policy) -> str:
    return ", ".join("PUBLIC" if role == PUBLIC else quote(role) for role in policy.roles)


def _table(policy: Policy) -> str:
    return qualified(policy.schema, policy.table)


def _named(policy: Policy) -> str:
    return f"{quote(policy.name)} on {_table(policy)}"


def _access(policy: Policy) -> str:
    return f"which rows of {_table(policy)} {_roles(policy)} may read or write changes"


def _lock_hazard(policy: Policy) -> list[str]:
    return [f"brief ACCESS EXCLUSIVE lock on {_table(policy)} (catalog only)"]


HANDLERS: dict[type[Any], Any] = {
    d.RowSecurityChanged: row_security,
    d.MissingPolicy: missing_policy,
    d.ExtraPolicy: extra_policy,
    d.PolicyChanged: changed_policy,
}
NOTES_ONLY: frozenset[Any] = frozenset({extra_policy})
