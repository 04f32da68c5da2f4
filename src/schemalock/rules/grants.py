"""Rules about privileges (grants) and the roles the lock names."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.model import names
from schemalock.model.grants import GLOBAL, PUBLIC, Grant
from schemalock.rules.base import Context, Rule, q


def on(grant: Grant) -> str:
    """The object of a grant, in words: `table public.documents`, `function
    public.org_quota(integer)`, `default privileges of app_owner on tables in schema public`,
    `global default privileges of app_owner on functions`."""
    if grant.on == "schema":
        return f"schema {q(grant.schema)}"
    if grant.on == "default" and grant.schema == GLOBAL:
        return f"global default privileges of {q(grant.object)} on {grant.column}"
    if grant.on == "default":
        return (
            f"default privileges of {q(grant.object)} on {grant.column} in schema {q(grant.schema)}"
        )
    if grant.on == "function":
        return f"function {names.quote(grant.schema)}.{grant.object}"
    if grant.on == "column":
        return f"column {q(grant.schema, grant.object, grant.column)}"
    return f"{grant.on} {q(grant.schema, grant.object)}"


def _grantee(role: str) -> str:
    return "PUBLIC" if role == PUBLIC else q(role)


def listed(grant: Grant, privileges: tuple[str, ...]) -> str:
    """`SELECT, INSERT`; those the grant holds WITH GRANT OPTION said so: `SELECT (with grant
    option), INSERT`."""
    return ", ".join(
        f"{p.upper()} (with grant option)" if p in grant.grantable else p.upper()
        for p in privileges
    )


class MissingGrant(Rule):
    """A role lacks a privilege the lock grants it.

    ## What it checks
    For every role and object under `grants:` (tables and views, columns, sequences,
    functions, schemas, default privileges in a schema or global), the role holds each
    privilege listed, as the object's access list says (`aclexplode`). In global default
    privileges (`global_defaults`), PUBLIC holds EXECUTE on new functions and USAGE on new
    types unless they were revoked (PostgreSQL's built-in access list): the lock's
    `public: []` says they were, and not naming PUBLIC there that they were not.

    ## Why it matters
    The application's role without `SELECT` on a table, `USAGE` on a schema or a sequence,
    or `EXECUTE` on a function fails with `permission denied` at run time; a restore or a
    recreated table loses its grants silently.

    ## Example
    The lock grants `app_user: [select, insert]` on `documents`; the database's access list
    gives `app_user` only `SELECT`.

    ## Fix
    `GRANT INSERT ON documents TO app_user` (or change the lock); `schemalock fix` grants
    exactly the missing privileges (on an object that does not exist yet, it leaves a note).
    """

    code, name = "SL771", "missing-grant"
    severity, category = Severity.ERROR, Category.STRUCTURE
    fixable = True
    repaired_by = (d.MissingGrant,)

    def check(self, context: Context) -> Iterator[Finding]:
        for missing in context.differences(d.MissingGrant):
            grant = missing.lock
            yield self.reported(
                missing,
                f"{_grantee(grant.role)} lacks {listed(grant, missing.privileges)} on {on(grant)}",
                constraint=grant.role,
                expected=list(grant.privileges),
            )


class ExtraGrant(Rule):
    """A role the lock names holds a privilege the lock does not grant it.

    ## What it checks
    For each role the lock's `grants:` names (only those: a role the lock never mentions may
    hold anything), every privilege it holds on an object of the covered schemas is granted
    by the lock. The owner's implicit privileges, and PostgreSQL's built-in defaults of an
    object whose privileges were never changed, are not grants. A privilege granted to
    PUBLIC (every role, the anonymous one of an API included) is an error; to a named role, a
    warning.

    ## Why it matters
    A privilege nobody reviewed widens who can read or change data: `GRANT ALL ... TO PUBLIC`
    from a migration, an `anon` role given `SELECT` on a table outside its policies.

    ## Example
    The lock grants `analyst: [select]` on `documents`; the database also gives `analyst`
    `DELETE`.

    ## Fix
    `REVOKE DELETE ON documents FROM analyst`, or add the privilege to the lock.
    `schemalock fix` revokes exactly the extra privileges on the objects the lock mentions
    (declares or grants on), declaring that the role's sessions lose them; on an object the
    lock does not mention it leaves a note.
    """

    code, name = "SL772", "extra-grant"
    severity, category = Severity.WARNING, Category.STRUCTURE
    fixable = True
    repaired_by = (d.ExtraGrant,)

    def check(self, context: Context) -> Iterator[Finding]:
        for extra in context.differences(d.ExtraGrant):
            grant = extra.live
            found = self.reported(
                extra,
                f"{_grantee(grant.role)} holds {listed(grant, extra.privileges)} on "
                f"{on(grant)}; the lock does not grant it",
                constraint=grant.role,
                actual=list(grant.privileges),
            )
            yield replace(found, severity=Severity.ERROR) if grant.role == PUBLIC else found


class GrantOptionMismatch(Rule):
    """A role holds a privilege the lock grants with a grant option the lock does not give.

    Or without one the lock gives.

    ## What it checks
    For every privilege a role holds that the lock grants it (under `grants:`, including
    default privileges), whether it is held WITH GRANT OPTION as the lock says: a role's
    `{privileges: [select, insert], grantable: [select]}` holds SELECT with the option and
    INSERT without; a plain list holds every privilege without. The finding names the
    privileges that gained the option and those that lost it; an error when one lost it,
    a warning when it was only gained.

    ## Why it matters
    A role holding a privilege WITH GRANT OPTION may hand it to any other role, and the
    owner's REVOKE then needs CASCADE to take it back from them: a grant option nobody
    reviewed widens access beyond the roles the lock names. One the lock gives that the
    role lacks breaks whatever delegates the privilege (`GRANT ... ` by that role fails
    with a warning and grants nothing).

    ## Example
    The lock grants `analyst: [select]` on `documents`; the database has
    `GRANT SELECT ON documents TO analyst WITH GRANT OPTION`.

    ## Fix
    `REVOKE GRANT OPTION FOR SELECT ON documents FROM analyst` (the role keeps SELECT), or
    `GRANT SELECT ON documents TO analyst WITH GRANT OPTION` for one the lock gives;
    `schemalock fix` does exactly that. A REVOKE fails while the role has granted the
    privilege on to others (their grants depend on it): revoke those first.
    """

    code, name = "SL774", "grant-option-mismatch"
    severity, category = Severity.WARNING, Category.STRUCTURE
    fixable = True
    repaired_by = (d.GrantOptionMismatch,)

    def check(self, context: Context) -> Iterator[Finding]:
        for mismatch in context.differences(d.GrantOptionMismatch):
            grant = mismatch.lock
            extra, lacking = ", ".join(mismatch.extra), ", ".join(mismatch.lacking)
            holds = [f"{extra.upper()} WITH GRANT OPTION"] if extra else []
            holds += [f"{lacking.upper()} without GRANT OPTION"] if lacking else []
            if extra and lacking:
                lock_says = f"{extra.upper()} without, {lacking.upper()} WITH GRANT OPTION"
            else:
                lock_says = "it without" if extra else "it WITH GRANT OPTION"
            found = self.reported(
                mismatch,
                f"{_grantee(grant.role)} holds {' and '.join(holds)} on {on(grant)}; the lock "
                f"grants {lock_says}",
                constraint=grant.role,
                expected=list(grant.grantable),
                actual=list(mismatch.live.grantable),
            )
            yield replace(found, severity=Severity.ERROR) if mismatch.lacking else found


class MissingRole(Rule):
    """A role the lock names does not exist in the database.

    ## What it checks
    Every role named under `grants:` (grantees, and the owners of default privileges) and in
    a policy's `roles` exists in the cluster (`pg_roles`). `public` is every role and always
    exists.

    ## Why it matters
    Grants and policies for a role that does not exist cannot be made: the environment was
    set up without it (a new Neon branch, a restore into another cluster), and whatever
    connects as it cannot log in or is not covered by the policy meant for it.

    ## Example
    The lock grants `app_user: [select]` on `documents`; the cluster has no `app_user`.

    ## Fix
    `CREATE ROLE app_user` (with the login and membership your platform expects), then the
    grants. Roles are cluster-wide: schemalock never creates one.
    """

    code, name = "SL773", "missing-role"
    severity, category = Severity.ERROR, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for missing in context.differences(d.MissingRole):
            yield self.reported(
                missing, f"role {q(missing.role)} does not exist", constraint=missing.role
            )
