"""Planning for an identity column's sequence options: `ALTER TABLE ... ALTER COLUMN ... SET
INCREMENT BY ... SET START ...` with exactly the options that differ (the downgrade sets the
live ones back), `ALTER SEQUENCE ... AS` when the sequence's type was altered apart from the
column's (ALTER COLUMN cannot say AS).  Bounds the sequence's current value lies outside are
refused: PostgreSQL fails the ALTER.  A column the plan adds or a table it creates gets its
options with its identity (`sql.sa_column`, `sql.identity_arguments`)."""

from __future__ import annotations

from typing import Any

from schemalock import db
from schemalock.compare import differences as d
from schemalock.fix import operations as fo
from schemalock.fix.plan.core import Phase, Planner
from schemalock.model import Column, Table
from schemalock.model.names import qualified, quote
from schemalock.model.sequences import IDENTITY_OPTIONS, Sequence, identity_sequence
from schemalock.rules.sequences import options

# The identity's sequence (pg_depend 'i' from it to the column) of a column by its table's
# schema and names (the live name, or its former one while the plan renames the table).
_SEQUENCE = """
SELECT sn.nspname, s.relname
FROM pg_catalog.pg_depend dep
JOIN pg_catalog.pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_catalog.pg_class t ON t.oid = dep.refobjid
JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = dep.refobjsubid
WHERE dep.deptype = 'i' AND dep.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
  AND dep.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
  AND tn.nspname = %s AND t.relname = ANY (%s) AND a.attname = %s
"""

# Options whose change moves the default start, or that the start must lie within.
_BOUNDS = {"type", "increment", "min", "max"}


def identity_options_changed(planner: Planner, changed: d.IdentityOptionsChanged) -> None:
    live, wanted, found = changed.live, changed.lock_column, changed.live_column
    want = identity_sequence(wanted.type, wanted.identity_options)
    have = identity_sequence(found.type, found.identity_options)
    aspects = set(changed.aspects)
    if aspects & _BOUNDS:  # the start and bounds are said together, always consistent
        aspects |= {"start", "min", "max"}
    said = [a for a in IDENTITY_OPTIONS if a in aspects]
    where = qualified(live.schema, live.name, found.name)
    sequence = _sequence_of(planner, changed.lock, live, found)
    if sequence is None or _refused(planner, where, want, sequence):
        return
    if "type" in aspects:  # AS is ALTER SEQUENCE's alone, on the sequence by its name
        name = qualified(*sequence)
        statement = fo.Sql(
            f"ALTER SEQUENCE {name} {options(want, said)}",
            undo=f"ALTER SEQUENCE {name} {options(have, said)}",
        )
    else:
        alter = f"ALTER TABLE {qualified(live.schema, live.name)} ALTER COLUMN {quote(found.name)}"
        statement = fo.Sql(f"{alter} {_set(want, said)}", undo=f"{alter} {_set(have, said)}")
    planner.add(
        Phase.STRUCTURE,
        f"identity options of {where}: {', '.join(said)}",
        statement,
        hazards=[
            f"brief ACCESS EXCLUSIVE lock on {live.name} (no rewrite); nextval() on its "
            "identity sequence waits for the commit"
        ],
    )


def _set(sequence: Sequence, aspects: list[str]) -> str:
    """ALTER COLUMN's `SET START 1000 SET INCREMENT 10 ...` for `aspects` (no `type`)."""
    return " ".join(f"SET {options(sequence, [aspect])}" for aspect in aspects)


def _sequence_of(
    planner: Planner, lock: Table, live: Table, column: Column
) -> tuple[str, str] | None:
    """(schema, name) of the column's identity sequence; None (noted) if it has none."""
    tables = [live.name, *([lock.renamed_from] if lock.renamed_from else [])]
    with db.read_only(planner.prover.connection, planner.prover.timeouts, "fix") as conn:
        row = conn.execute(_SEQUENCE, [live.schema, tables, column.name]).fetchone()
    if row is None:
        where = qualified(live.schema, live.name, column.name)
        planner.note(f"{where}: its identity sequence was not found")
        return None
    return str(row[0]), str(row[1])


def _refused(planner: Planner, where: str, wanted: Sequence, sequence: tuple[str, str]) -> bool:
    """Refuse (and say why) bounds that leave the sequence's current value outside them."""
    value = planner.prover.sequence_value(*sequence)
    if wanted.minimum <= value <= wanted.maximum:
        return False
    planner.plan.refusals.append(
        f"identity of {where}: its sequence's current value {value} lies outside the lock's "
        f"bounds {wanted.minimum} .. {wanted.maximum} (PostgreSQL refuses the ALTER): setval() "
        "it inside them by hand if no number drawn so far is still in use, or change the lock"
    )
    return True


HANDLERS: dict[type[Any], Any] = {d.IdentityOptionsChanged: identity_options_changed}
