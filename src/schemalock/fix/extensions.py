"""What this server allows of an extension, asked before a plan is written: read-only catalog
questions (`pg_available_extension_versions`, `pg_extension_update_paths`, `pg_extension`)
whose answer is why a step installing, updating or moving one would fail, or None.

Its own module, not `Prover` methods: the planner's type check (`Planner.absent`) and the
extension handlers must give the same answer, and `proofs` is near its size limit."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from schemalock import db
from schemalock.model import Database
from schemalock.model.extensions import Extension
from schemalock.model.names import quote
from schemalock.model.types import type_spelling

if TYPE_CHECKING:
    import psycopg

    from schemalock.fix.proofs import Prover, Provider

# Each version the server offers: what it requires, and whether current_user may install it
# (a superuser; anyone for an extension that needs no superuser; a trusted one with CREATE on
# the database), with the version CREATE EXTENSION picks when told none.
_OFFERED = """
SELECT v.version, v.requires::pg_catalog.text[], a.default_version,
       r.rolsuper OR NOT v.superuser OR (v.trusted
           AND pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE'))
FROM pg_catalog.pg_available_extension_versions AS v
JOIN pg_catalog.pg_available_extensions AS a ON a.name = v.name
JOIN pg_catalog.pg_roles AS r ON r.rolname = current_user
WHERE v.name = %s
"""


def refusal(
    prover: Prover, wanted: Extension, live: Extension | None, declared: Collection[str]
) -> str | None:
    """Why the plan cannot make extension `wanted` what the lock says from `live` (None: not
    installed), or None when it can.  `declared`: the extensions the lock declares (one an
    extension requires may be installed by the same plan)."""
    with db.read_only(prover.connection, prover.timeouts, "fix") as conn:
        if live is None:
            return _install_refusal(conn, wanted, declared)
        updated = wanted.version is not None and wanted.version != live.version
        if updated and not _path(conn, wanted.name, str(live.version), str(wanted.version)):
            return (
                f"the server has no update path from version {live.version} to "
                f"{wanted.version} (pg_extension_update_paths): install the version's "
                "scripts on the server, or change the lock"
            )
        if wanted.schema != live.schema and not _relocatable(conn, wanted.name):
            return (
                f"it is not relocatable (ALTER EXTENSION ... SET SCHEMA fails): move it from "
                f"schema {quote(live.schema)} by hand (DROP EXTENSION and CREATE EXTENSION "
                "SCHEMA, with what uses it), or change the lock"
            )
    return None


def installs_type(
    prover: Prover, lock: Database, live: Database, spelling: str, provider: Provider
) -> bool:
    """Whether the missing type `spelling` (as `Prover.missing_types` found it, with the
    extension named like it) is the type of an extension the lock declares in the type's
    schema and the plan installs there: the extension handler asks `refusal` the same, so
    the type counts as present exactly when its extension is planned.  Not when the plan
    would convert a column to it: nothing can prove the values convert to a type that is not
    there yet (refused as a missing type; the next run, with the extension in, converts)."""
    extension, installed_in = provider
    declared = {e.name: e for e in lock.extensions.values()}
    wanted = declared.get(extension or "")
    base = spelling.partition("(")[0]  # `ext.vector(3)`: the type, without its modifier
    if wanted is None or installed_in is not None or type_spelling(*wanted.key) != base:
        return False
    for key, table in lock.tables.items():
        found = live.tables.get(key)
        for column in table.columns if found is not None else ():
            had = found and found.column(column.renamed_from or column.name)
            of_it = column.type.rstrip("[]").partition("(")[0] == base
            if of_it and had and had.type != column.type:
                return False
    return refusal(prover, wanted, None, declared) is None


def update_path(prover: Prover, name: str, source: str, target: str) -> bool:
    """Whether `ALTER EXTENSION name UPDATE TO target` can run from version `source`."""
    with db.read_only(prover.connection, prover.timeouts, "fix") as conn:
        return _path(conn, name, source, target)


def _install_refusal(
    conn: psycopg.Connection[Any], wanted: Extension, declared: Collection[str]
) -> str | None:
    rows = conn.execute(_OFFERED, [wanted.name]).fetchall()
    if not rows:
        return (
            "this server does not have it available (pg_available_extensions): install its "
            "package on the server, then run fix again"
        )
    offered = {str(row[0]): row for row in rows}
    version = wanted.version or str(rows[0][2])
    if version not in offered:
        listed = ", ".join(sorted(offered))
        return f"this server offers version {listed}, not {version}: change the lock's version"
    _, requires, _, may = offered[version]
    if not may:
        return (
            "only a superuser may install it (it is not trusted): ask one to run CREATE "
            f"EXTENSION {quote(wanted.name)} SCHEMA {quote(wanted.schema)}, then run fix again"
        )
    installed = {str(row[0]) for row in conn.execute("SELECT extname FROM pg_catalog.pg_extension")}
    lacking = sorted(set(requires or ()) - installed - set(declared))
    if lacking:
        return (
            f"it requires extension {', '.join(map(quote, lacking))}, which is not installed "
            "and the lock does not declare: add it to the lock"
        )
    return None


def _path(conn: psycopg.Connection[Any], name: str, source: str, target: str) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension_update_paths(%s) AS p"
        " WHERE p.source = %s AND p.target = %s AND p.path IS NOT NULL)",
        [name, source, target],
    ).fetchone()
    return bool(row and row[0])


def _relocatable(conn: psycopg.Connection[Any], name: str) -> bool:
    row = conn.execute(
        "SELECT e.extrelocatable FROM pg_catalog.pg_extension AS e WHERE e.extname = %s", [name]
    ).fetchone()
    return bool(row and row[0])
