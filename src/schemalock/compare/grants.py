"""Privileges of two databases, compared, for the roles the lock names only.

The issue's promise: privileges are as the lock says, and nothing the lock does not mention
is judged.  So a role the lock's `grants:` never names may hold anything; for a role it
names, every privilege it holds on an object of the covered schemas is compared (an extra
one is reported).  PUBLIC is a role like the others: compared once the lock names `public`.
Roles the lock names (grants, policies, default privileges' owners) must exist, when the live
side knows its roles (`roles` is not None: verify).  A missing role's grants are not reported
one by one: the missing role is.  `database.ignore` leaves out the grants on ignored tables.
WITH GRANT OPTION is compared on the privileges both sides hold (`GrantOptionMismatch`).  A
key only one side has is compared with what the other holds there built in (`builtin`:
nothing, but PUBLIC's EXECUTE and USAGE in global default privileges of functions and types).
"""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.compare import differences as d
from schemalock.compare.pairs import bookkeeping, ignored
from schemalock.model import Database, LockSettings
from schemalock.model.grants import PUBLIC, Grant, builtin

Key = tuple[str, str, str, str, str]


def grant_differences(
    lock: Database, live: Database, settings: LockSettings
) -> Iterator[d.Difference]:
    line = settings.section_line("grants")
    missing_roles = missing(lock, live)
    for role in sorted(missing_roles):
        yield d.MissingRole(subject=d.Subject("role", "", name=role), line=line, role=role)
    managed = lock.grant_roles - missing_roles
    for key, wanted in lock.grants.items():
        if wanted.role in missing_roles or _ignored(wanted, settings):
            continue
        yield from _compared(wanted, live.grants.get(key) or _built_in(key, line), wanted.line)
    for key, found in live.grants.items():
        if key in lock.grants or found.role not in managed or _ignored(found, settings):
            continue
        if _on_bookkeeping(found, live):
            continue  # fix's own version table takes the schema's default privileges
        yield from _compared(_built_in(key, line), found, line)


def _on_bookkeeping(grant: Grant, live: Database) -> bool:
    """A grant on a migration tool's bookkeeping table (`alembic_version`), never the lock's
    business, as the table itself is not."""
    if grant.on not in ("table", "column"):
        return False
    table = live.tables.get((grant.schema, grant.object))
    return table is not None and bookkeeping(table)


def _built_in(key: Key, line: int | None) -> Grant:
    """What a role holds, or is granted, where no grant has the key (`model.grants`)."""
    schema, on, name, column, role = key
    privileges = builtin(key)
    return Grant(schema, on, name, role, privileges, column=column, line=line)


def _compared(wanted: Grant, found: Grant, line: int | None) -> Iterator[d.Difference]:
    """The privileges `found` lacks, those it holds beyond `wanted`, and of those both hold,
    the ones whose grant option differs."""
    have = set(found.privileges)
    if lacking := tuple(p for p in wanted.privileges if p not in have):
        yield d.MissingGrant(subject=subject(wanted), line=line, lock=wanted, privileges=lacking)
    if extra := tuple(p for p in found.privileges if p not in wanted.privileges):
        yield d.ExtraGrant(subject=subject(found), line=line, live=found, privileges=extra)
    both = [p for p in wanted.privileges if p in have]
    lacking = tuple(p for p in both if p in wanted.grantable and p not in found.grantable)
    extra = tuple(p for p in both if p in found.grantable and p not in wanted.grantable)
    if lacking or extra:
        yield d.GrantOptionMismatch(
            subject=subject(wanted), line=line, lock=wanted, live=found, lacking=lacking,
            extra=extra,
        )  # fmt: skip


def missing(lock: Database, live: Database) -> set[str]:
    """The roles the lock names that the database lacks (none when its roles were not
    read)."""
    if live.roles is None:
        return set()
    named = set(lock.grant_roles)
    for policy in lock.policies.values():
        named |= set(policy.roles)
    return {role for role in named - {PUBLIC} if role not in live.roles}


def _ignored(grant: Grant, settings: LockSettings) -> bool:
    return grant.on in ("table", "column", "sequence") and ignored(
        grant.schema, grant.object, settings.ignore
    )


def subject(grant: Grant) -> d.Subject:
    """`table grant` on (schema, table, role); the other kinds name the object with the role
    (`org_quota(integer) to app`), so that two grants never share a subject."""
    if grant.on in ("table", "column"):
        name = f"{grant.column} to {grant.role}" if grant.column else grant.role
        return d.Subject(f"{grant.on} grant", grant.schema, grant.object, name)
    what = {"schema": grant.schema, "default": f"{grant.column} of {grant.object}"}
    name = f"{what.get(grant.on, grant.object)} to {grant.role}"
    return d.Subject(f"{grant.on} grant", grant.schema, name=name)
