"""Sequences and extensions: created, altered to the lock's options, owned by the lock's
column, installed, updated and moved; each step with its reverse.  Extra ones are reported and
left alone: nothing the lock does not mention is dropped.

A missing sequence is created before the columns whose defaults call nextval() on it
(`SEQUENCES`) and owned by its column once that exists (`SEQUENCE_OWNERS`); the downgrade
disowns it before the column goes, then drops it.  An ALTER SEQUENCE the sequence's current
value forbids (it would lie outside the new bounds: PostgreSQL fails) is refused.  Extensions
are installed first of all (`EXTENSIONS`: their types and functions may be used by what
follows), never with CASCADE either way; one the server does not offer is refused."""

from __future__ import annotations

from typing import Any

from schemalock.compare import differences as d
from schemalock.fix import extensions
from schemalock.fix.operations import Sql, literal
from schemalock.fix.plan.core import Phase, Planner
from schemalock.model.extensions import Extension
from schemalock.model.names import qualified, quote
from schemalock.model.sequences import Sequence, defaults
from schemalock.rules.sequences import options

# ALTER SEQUENCE (SHARE ROW EXCLUSIVE on the sequence, to the end of the migration's
# transaction) stops every nextval() on it until then.
_ALTERED = "SHARE ROW EXCLUSIVE lock on sequence {}: nextval() on it waits for the commit"


def sequence_left_alone(planner: Planner, difference: d.ExtraSequence) -> None:
    where = qualified(*difference.live.key)
    planner.note(f"sequence {where}: extra sequences are reported and left alone")


def missing_sequence(planner: Planner, difference: d.MissingSequence) -> None:
    wanted = difference.lock
    name = qualified(*wanted.key)
    if _refused(planner, wanted, None):
        return
    planner.create_schema(wanted.schema)
    every = [a for a in d.SEQUENCE_ASPECTS if a != "owned by"]
    created = [Sql(f"CREATE SEQUENCE {name} {options(wanted, every)}", f"DROP SEQUENCE {name}")]
    if wanted.comment:
        created.append(Sql(f"COMMENT ON SEQUENCE {name} IS {literal(wanted.comment)}"))
    planner.add(Phase.SEQUENCES, f"create sequence {name}", *created, hazards=[])
    if wanted.owned_by is not None:
        _owner(planner, wanted, None)


def changed_sequence(planner: Planner, difference: d.SequenceChanged) -> None:
    wanted, found = difference.lock, difference.live
    name = qualified(*wanted.key)
    changed = {a for a in difference.aspects if a != "owned by"}
    if "type" in changed:  # AS alone would move bounds that were the old type's own
        changed |= {"min", "max"}
    aspects = [a for a in d.SEQUENCE_ASPECTS if a in changed]
    if aspects:
        if _refused(planner, wanted, found):
            return
        planner.add(
            Phase.SEQUENCES,
            f"alter sequence {name}: {', '.join(aspects)}",
            Sql(
                f"ALTER SEQUENCE {name} {options(wanted, aspects)}",
                f"ALTER SEQUENCE {name} {options(found, aspects)}",
            ),
            hazards=[_ALTERED.format(name)],
        )
    if "owned by" in difference.aspects:
        _owner(planner, wanted, found.owned_by)


def _owner(planner: Planner, wanted: Sequence, owned_by: tuple[str, str, str] | None) -> None:
    """OWNED BY the lock's column (or NONE), once the column exists; the downgrade gives it
    back its owner (NONE for one the plan created, so dropping a column the plan added does
    not take the sequence along before the downgrade drops it)."""
    name = qualified(*wanted.key)
    before = Sequence(*wanted.key, owned_by=owned_by)
    said = options(wanted, ["owned by"])
    planner.add(
        Phase.SEQUENCE_OWNERS,
        f"sequence {name} {said}",
        Sql(
            f"ALTER SEQUENCE {name} {said}",
            f"ALTER SEQUENCE {name} {options(before, ['owned by'])}",
        ),
        hazards=[
            _ALTERED.format(name),
            f"sequence {name} is dropped with its owning column from now on"
            if wanted.owned_by
            else f"sequence {name} no longer drops with {qualified(*owned_by or ())}",
        ],
    )


def _refused(planner: Planner, wanted: Sequence, found: Sequence | None) -> bool:
    """Refuse (and say why) bounds PostgreSQL would reject: outside the type's range, or, for
    a live sequence, leaving its current value outside them."""
    name = qualified(*wanted.key)
    least, _ = defaults(wanted.type, -1)
    _, greatest = defaults(wanted.type, 1)
    why = None
    if not least <= wanted.minimum <= wanted.maximum <= greatest:
        why = (
            f"the lock's bounds {wanted.minimum} .. {wanted.maximum} do not fit its type "
            f"{wanted.type} ({least} .. {greatest}): correct the lock"
        )
    elif found is not None:
        value = planner.prover.sequence_value(*wanted.key)
        if not wanted.minimum <= value <= wanted.maximum:
            why = (
                f"its current value {value} lies outside the lock's {wanted.type} bounds "
                f"{wanted.minimum} .. {wanted.maximum} (PostgreSQL refuses the ALTER): setval() "
                "it inside them by hand if no number drawn so far is still in use, or change "
                "the lock"
            )
    if why is not None:
        planner.plan.refusals.append(f"sequence {name}: {why}")
    return why is not None


def extension_left_alone(planner: Planner, difference: d.ExtraExtension) -> None:
    name = quote(difference.live.name)
    planner.note(f"extension {name}: extra extensions are reported and left alone")


def missing_extension(planner: Planner, difference: d.MissingExtension) -> None:
    wanted = difference.lock
    name = quote(wanted.name)
    if _extension_refused(planner, wanted, None):
        return
    planner.create_schema(wanted.schema)
    version = f" VERSION {literal(wanted.version)}" if wanted.version else ""
    planner.add(
        Phase.EXTENSIONS,
        f"create extension {name}",
        # Never CASCADE: what the extension requires is the lock's to declare, and what
        # uses it by the time of a downgrade stops the drop.
        Sql(
            f"CREATE EXTENSION {name} SCHEMA {quote(wanted.schema)}{version}",
            f"DROP EXTENSION {name}",
        ),
        hazards=[f"CREATE EXTENSION {name} runs the extension's script as the migration's role"],
    )


def changed_extension(planner: Planner, difference: d.ExtensionChanged) -> None:
    wanted, found = difference.lock, difference.live
    name = quote(wanted.name)
    if _extension_refused(planner, wanted, found):
        return
    if "version" in difference.aspects and wanted.version is not None:
        before, after = str(found.version), wanted.version
        back = extensions.update_path(planner.prover, wanted.name, after, before)
        planner.add(
            Phase.EXTENSIONS,
            f"update extension {name} to {after}",
            Sql(
                f"ALTER EXTENSION {name} UPDATE TO {literal(after)}",
                f"ALTER EXTENSION {name} UPDATE TO {literal(before)}",
                lost=None
                if back
                else f"extension {name} cannot go back from {after} to {before}: the server "
                "has no update path down (pg_extension_update_paths)",
            ),
            hazards=[f"ALTER EXTENSION {name} UPDATE runs its update scripts as the role"],
        )
    if "schema" in difference.aspects:
        planner.create_schema(wanted.schema)
        planner.add(
            Phase.EXTENSIONS,
            f"move extension {name} to schema {quote(wanted.schema)}",
            Sql(
                f"ALTER EXTENSION {name} SET SCHEMA {quote(wanted.schema)}",
                f"ALTER EXTENSION {name} SET SCHEMA {quote(found.schema)}",
            ),
            hazards=[
                f"the objects of extension {name} move from schema {quote(found.schema)}: "
                "code naming them by it no longer finds them"
            ],
        )


def _extension_refused(planner: Planner, wanted: Extension, found: Extension | None) -> bool:
    declared = {extension.name for extension in planner.lock.database.extensions.values()}
    why = extensions.refusal(planner.prover, wanted, found, declared)
    if why is not None:
        planner.plan.refusals.append(f"extension {quote(wanted.name)}: {why}")
    return why is not None


HANDLERS: dict[type[Any], Any] = {
    d.MissingSequence: missing_sequence,
    d.ExtraSequence: sequence_left_alone,
    d.SequenceChanged: changed_sequence,
    d.MissingExtension: missing_extension,
    d.ExtraExtension: extension_left_alone,
    d.ExtensionChanged: changed_extension,
}
# Extra sequences and extensions are noted, never dropped (what keeps their rules unfixable).
NOTES_ONLY: frozenset[Any] = frozenset({sequence_left_alone, extension_left_alone})
