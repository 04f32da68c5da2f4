"""Privileges: a missing grant is granted, an extra one (of a role the lock names) revoked,
each exactly the privileges that differ, in the last phase, on objects that exist by then.

Roles are cluster-wide: a missing role is left for a person (CREATE ROLE is a decision about
logins and memberships), and the comparison leaves out the grants to it.  A grant on an
object that does not exist and that the plan does not create (a table the lock declares is
created first), or whose default privileges' owner is missing, is noted, not planned to fail.
A role that is neither a superuser nor a member of the object's owner is refused: its GRANT
and REVOKE would only warn and change nothing.

Privileges held WITH GRANT OPTION are granted with it (a GRANT of their own), a grant option
the lock does not give is revoked alone (REVOKE GRANT OPTION FOR), keeping the privilege.
Global default privileges are ALTER DEFAULT PRIVILEGES FOR ROLE without IN SCHEMA.

`grant_statements` is what other kinds' planning uses to give an object it creates again its
grants back.
"""

from __future__ import annotations

from typing import Any

from schemalock.compare import differences as d
from schemalock.fix import operations as fo
from schemalock.fix.plan.core import Phase, Planner
from schemalock.lock.fields import sql_type
from schemalock.lock.paths import ConversionError
from schemalock.model import names
from schemalock.model.grants import GLOBAL, PUBLIC, Grant
from schemalock.model.names import qualified, quote
from schemalock.rules.grants import listed, on

# ALTER DEFAULT PRIVILEGES: what ON takes for each kind of default privileges (IN SCHEMA; a
# global one may be on SCHEMAS too).
_DEFAULT_KINDS = {
    "tables": "TABLES",
    "sequences": "SEQUENCES",
    "functions": "FUNCTIONS",
    "types": "TYPES",
}


def grantee(role: str) -> str:
    """A role as GRANT names it: PUBLIC is a keyword, any other name is quoted as needed."""
    return "PUBLIC" if role == PUBLIC else quote(role)


def grant_sql(grant: Grant, privileges: tuple[str, ...] | None = None, option: bool = False) -> str:
    """GRANT `privileges` (all of the grant's when None) on the grant's object to its role,
    WITH GRANT OPTION when `option`."""
    listed = _privileges(grant, privileges)
    with_option = " WITH GRANT OPTION" if option else ""
    if grant.on == "default":
        return (
            f"{_defaults(grant)} GRANT {listed} ON {_default_kind(grant)} "
            f"TO {grantee(grant.role)}{with_option}"
        )
    return f"GRANT {listed} ON {target(grant)} TO {grantee(grant.role)}{with_option}"


def grant_statements(grant: Grant, privileges: tuple[str, ...] | None = None) -> list[str]:
    """What gives the role `privileges` (all of the grant's when None) as the grant holds
    them: those it holds WITH GRANT OPTION in a GRANT of their own."""
    return [grant_sql(grant, chosen, option) for chosen, option in _groups(grant, privileges)]


def revoke_sql(
    grant: Grant, privileges: tuple[str, ...] | None = None, option: bool = False
) -> str:
    """REVOKE `privileges` (all of the grant's when None) on the grant's object from its
    role: exactly those, nothing else it holds; only their grant option when `option`."""
    listed = _privileges(grant, privileges)
    what = f"GRANT OPTION FOR {listed}" if option else listed
    if grant.on == "default":
        return (
            f"{_defaults(grant)} REVOKE {what} ON {_default_kind(grant)} FROM {grantee(grant.role)}"
        )
    return f"REVOKE {what} ON {target(grant)} FROM {grantee(grant.role)}"


def _groups(grant: Grant, privileges: tuple[str, ...] | None) -> list[tuple[tuple[str, ...], bool]]:
    """`privileges` split into those held without and those held WITH GRANT OPTION."""
    chosen = privileges if privileges is not None else grant.privileges
    plain = tuple(p for p in chosen if p not in grant.grantable)
    option = tuple(p for p in chosen if p in grant.grantable)
    return [(group, held) for group, held in ((plain, False), (option, True)) if group]


def target(grant: Grant) -> str:
    """The object as GRANT names it: `TABLE s.t`, `SEQUENCE s.q`, `ROUTINE s.f(integer)`
    (ROUTINE: a procedure or an aggregate as well as a function), `SCHEMA s`.  Raises
    ValueError for a routine signature whose types are not type names."""
    if grant.on == "schema":
        return f"SCHEMA {quote(grant.schema)}"
    if grant.on == "function":
        return f"ROUTINE {routine(grant)}"
    if grant.on == "sequence":
        return f"SEQUENCE {qualified(grant.schema, grant.object)}"
    return f"TABLE {qualified(grant.schema, grant.object)}"


def routine(grant: Grant) -> str:
    """`schema.name(type, ...)` of a function grant, its types checked to be type names (the
    lock keeps an unknown type as written, and this text reaches SQL)."""
    text = grant.object
    signature = names.split_signature(text)
    if signature is None:
        raise ValueError(f"{text!r} is not a signature, `name(type, ...)`")
    [name] = names.split(signature[0])
    types = signature[1]
    for spelling in types:
        try:
            sql_type(spelling, spelling, ())
        except ConversionError:
            raise ValueError(f"argument type {spelling!r} is not a type name") from None
    return f"{qualified(grant.schema, name)}({', '.join(types)})"


def _privileges(grant: Grant, privileges: tuple[str, ...] | None) -> str:
    chosen = privileges if privileges is not None else grant.privileges
    if grant.on == "column":  # GRANT SELECT (email), UPDATE (email) ON TABLE ...
        return ", ".join(f"{p.upper()} ({quote(grant.column)})" for p in chosen)
    return ", ".join(p.upper() for p in chosen)


def _defaults(grant: Grant) -> str:
    if grant.schema == GLOBAL:
        return f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(grant.object)}"
    return (
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(grant.object)} IN SCHEMA {quote(grant.schema)}"
    )


def _default_kind(grant: Grant) -> str:
    if grant.schema == GLOBAL and grant.column == "schemas":
        return "SCHEMAS"  # global only: PostgreSQL refuses IN SCHEMA for them
    if grant.column not in _DEFAULT_KINDS:
        raise ValueError(f"default privileges on {grant.column} are not set IN SCHEMA")
    return _DEFAULT_KINDS[grant.column]


def _checked(planner: Planner, grant: Grant, verb: str) -> str | None:
    """Why the grant cannot be planned (left as a note or refused), or None.  The object
    must exist, or be a table the plan creates; this role must act for its owner."""
    try:
        statement = "; ".join(grant_statements(grant))
        kind, name = _lookup(grant)
    except ValueError as error:
        planner.note(f"{on(grant)}: {error}: {verb} it by hand")
        return "noted"
    exists, may = planner.prover.grant_targets([(kind, name)]).get((kind, name), (False, False))
    if not exists:
        if _created(planner, grant):
            return None  # created by this plan (under this role) before the GRANTS phase
        what = f"its owner {quote(grant.object)}" if kind == "role" else "it"
        planner.note(
            f"{on(grant)}: {what} does not exist, and fix does not create it here: run "
            f"`{statement}` once it does (or fix again)"
        )
        return "noted"
    if not may:
        planner.plan.refusals.append(
            f"{on(grant)}: this role may not {verb} on it (it is not a superuser, nor a "
            f"member of the role that owns it: PostgreSQL would only warn): run fix as its "
            "owner"
        )
        return "refused"
    return None


def _created(planner: Planner, grant: Grant) -> bool:
    """Whether the grant is on an object the lock declares and the database lacks: the plan
    creates it (a table, view, sequence, function or schema) before the GRANTS phase."""
    lock, live = planner.lock.database, planner.live
    key = (grant.schema, grant.object)
    if grant.on in ("table", "column"):
        return (key in lock.tables and key not in live.tables) or (
            key in lock.views and key not in live.views
        )
    if grant.on == "sequence":
        return key in lock.sequences and key not in live.sequences
    if grant.on == "function":
        return any(
            (routine.schema, routine.signature) == key and routine.key not in live.routines
            for routine in lock.routines.values()
        )
    if grant.on == "schema":
        return grant.schema in lock.schemas and grant.schema not in live.schemas
    return False


def _lookup(grant: Grant) -> tuple[str, str]:
    """What `Prover.grant_targets` asks about for this grant."""
    if grant.on == "default":
        _default_kind(grant)
        return "role", grant.object
    if grant.on == "schema":
        return "schema", quote(grant.schema)
    if grant.on == "function":
        return "routine", routine(grant)
    return "relation", qualified(grant.schema, grant.object)


def missing_grant(planner: Planner, difference: d.MissingGrant) -> None:
    grant, privileges = difference.lock, difference.privileges
    if _checked(planner, grant, "grant"):
        return
    planner.add(
        Phase.GRANTS,
        f"grant {listed(grant, privileges)} on {on(grant)} to {grantee(grant.role)}",
        *(
            fo.Sql(grant_sql(grant, group, option), undo=revoke_sql(grant, group))
            for group, option in _groups(grant, privileges)
        ),
        hazards=[],
    )


def extra_grant(planner: Planner, difference: d.ExtraGrant) -> None:
    """Revoked: the comparison reports extra privileges only of the roles the lock's
    `grants:` names, on objects of the schemas it covers, so the lock speaks about them."""
    grant, privileges = difference.live, difference.privileges
    if not _mentioned(planner, grant):
        planner.note(
            f"{on(grant)}: {grantee(grant.role)} holds {', '.join(privileges).upper()} on an "
            "object the lock does not mention; reported and left alone"
        )
        return
    if _checked(planner, grant, "revoke"):
        return
    operations = [
        fo.Sql(revoke_sql(grant, group), undo=grant_sql(grant, group, option))
        for group, option in _groups(grant, privileges)
    ]
    operations += _columns_kept(planner, grant, privileges)
    planner.add(
        Phase.GRANTS,
        f"revoke {', '.join(privileges).upper()} on {on(grant)} from {grantee(grant.role)}",
        *operations,
        hazards=[
            f"sessions of {grantee(grant.role)} lose {', '.join(privileges).upper()} on {on(grant)}"
        ],
    )


def grant_option(planner: Planner, difference: d.GrantOptionMismatch) -> None:
    """The grant option given for the privileges the lock grants with it, taken back (REVOKE
    GRANT OPTION FOR: the privilege stays) from those it grants without."""
    grant, lacking, extra = difference.lock, difference.lacking, difference.extra
    if _checked(planner, grant, "grant"):
        return
    to = grantee(grant.role)
    if lacking:
        planner.add(
            Phase.GRANTS,
            f"grant {', '.join(lacking).upper()} on {on(grant)} to {to} WITH GRANT OPTION",
            fo.Sql(grant_sql(grant, lacking, True), undo=revoke_sql(grant, lacking, True)),
            hazards=[],
        )
    if extra:
        planner.add(
            Phase.GRANTS,
            f"revoke GRANT OPTION FOR {', '.join(extra).upper()} on {on(grant)} from {to}",
            fo.Sql(revoke_sql(grant, extra, True), undo=grant_sql(grant, extra, True)),
            hazards=[
                f"{to} loses the grant option for {', '.join(extra).upper()} on {on(grant)}, "
                "keeping the privilege (the REVOKE fails while grants it made depend on it)"
            ],
        )


def _mentioned(planner: Planner, grant: Grant) -> bool:
    """Whether the lock speaks about the grant's object (declares it, or grants on it):
    privileges on an object it never mentions (an extra table's) are left alone with it.
    A schema the lock covers, and its default privileges, it always speaks about."""
    database = planner.lock.database
    if grant.on in ("schema", "default"):
        return True
    kinds = ("table", "column") if grant.on in ("table", "column") else (grant.on,)
    if any(g.schema == grant.schema and g.on in kinds and g.object == grant.object
           for g in database.grants.values()):  # fmt: skip
        return True
    if grant.on == "function":
        signature = names.split_signature(grant.object)
        name = signature[0] if signature else grant.object
        return any(key[:2] == (grant.schema, *names.split(name)) for key in database.routines)
    key = (grant.schema, grant.object)
    if grant.on == "sequence":
        # A column's own sequence (serial, identity) is not a sequence of the model: it is
        # the lock's when its table is.
        own = key not in planner.live.sequences and any(
            s == grant.schema and grant.object.startswith(f"{t}_") for s, t in database.tables
        )
        return own or key in database.sequences
    return key in database.tables or key in database.views


def _columns_kept(planner: Planner, grant: Grant, privileges: tuple[str, ...]) -> list[Any]:
    """REVOKE of a table privilege revokes it on every column too (the SQL standard's rule):
    the column grants the lock makes of it are granted again.  Undone by nothing: the
    downgrade's GRANT on the table leaves them as they are."""
    if grant.on != "table":
        return []
    return [
        fo.Sql(grant_sql(kept, kept_privileges))
        for kept in planner.lock.database.grants.values()
        if kept.on == "column"
        and (kept.schema, kept.object, kept.role) == (grant.schema, grant.object, grant.role)
        and (kept_privileges := tuple(p for p in kept.privileges if p in privileges))
    ]


def role_left_alone(planner: Planner, difference: d.MissingRole) -> None:
    planner.note(
        f"role {quote(difference.role)}: missing; roles are cluster-wide: CREATE ROLE by hand "
        "(fix leaves out the grants to it until it exists)"
    )


HANDLERS: dict[type[Any], Any] = {
    d.MissingGrant: missing_grant,
    d.ExtraGrant: extra_grant,
    d.GrantOptionMismatch: grant_option,
    d.MissingRole: role_left_alone,
}
NOTES_ONLY: frozenset[Any] = frozenset({role_left_alone})
