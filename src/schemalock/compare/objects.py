"""Views, routines (functions and procedures), triggers and schemas of two databases, compared.

Definitions are compared on PostgreSQL's parse trees (`model.definitions`, `model.expressions`):
a view printed back by the catalog, a body reformatted, a WHEN condition with the catalog's
casts is the same object.  The lock's `database.ignore` leaves out views and functions (by
name, as tables), the triggers of an ignored relation, and whole schemas (`schema.*`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from schemalock.compare import differences as d
from schemalock.compare.pairs import ignored
from schemalock.model import Database, LockSettings, definitions, expressions
from schemalock.model.routines import Routine
from schemalock.model.triggers import Trigger
from schemalock.model.types import UnknownType, canonical_type
from schemalock.model.views import View


def object_differences(
    lock: Database, live: Database, settings: LockSettings
) -> Iterator[d.Difference]:
    """Every difference of the kinds of this module, kind by kind."""
    yield from _schemas(lock, live, settings)
    yield from _views(lock, live, settings)
    yield from _routines(lock, live, settings)
    yield from _triggers(lock, live, settings)


# -- schemas -----------------------------------------------------------------------------


def _schemas(lock: Database, live: Database, settings: LockSettings) -> Iterator[d.Difference]:
    """Only when the live model looked at every schema (`elsewhere` is not None: verify): the
    lock's schemas it lacks, and each other schema, with what it holds."""
    if live.elsewhere is None:
        return
    line = settings.section_line("database")
    for schema in lock.schemas:
        if schema not in live.schemas and not settings.ignores_schema(schema):
            yield d.MissingSchema(subject=d.Subject("schema", schema), line=line, schema=schema)
    for schema in live.elsewhere.schemas:
        yield d.ExtraSchema(
            subject=d.Subject("schema", schema),
            line=line,
            schema=schema,
            holds=tuple(sorted(held(live.elsewhere, schema).items())),
        )


def held(database: Database, schema: str) -> Counter[str]:
    """How many objects of each kind a model holds in one schema."""
    counts: Counter[str] = Counter()
    for kind, objects in database.kinds().items():
        counts[kind] = sum(1 for key in objects if key[0] == schema)
    return +counts


# -- views -------------------------------------------------------------------------------


def _views(lock: Database, live: Database, settings: LockSettings) -> Iterator[d.Difference]:
    line = settings.section_line("views")
    for key, wanted in lock.views.items():
        if ignored(*key, settings.ignore):
            continue
        subject = d.Subject(wanted.kind, key[0], name=key[1])
        found = live.views.get(key)
        if found is None:
            yield d.MissingView(subject=subject, line=wanted.line, lock=wanted)
        elif aspects := view_aspects(wanted, found):
            yield d.ViewChanged(
                subject=subject, line=wanted.line, lock=wanted, live=found, aspects=aspects
            )
    for key, found in live.views.items():
        if key not in lock.views and not ignored(*key, settings.ignore):
            subject = d.Subject(found.kind, key[0], name=key[1])
            yield d.ExtraView(subject=subject, line=line, live=found)


def view_aspects(want: View, have: View) -> frozenset[str]:
    """Which of VIEW_ASPECTS differ between two views of one name."""
    aspects = set()
    if want.materialized != have.materialized:
        aspects.add("kind")
    if not definitions.same_query(want.query, have.query):
        aspects.add("query")
    if dict(want.options) != dict(have.options):
        aspects.add("options")
    if not _same_indexes(want, have):
        aspects.add("indexes")
    return frozenset(aspects)


def _same_indexes(want: View, have: View) -> bool:
    def shape(view: View) -> set[tuple[object, ...]]:
        return {
            (
                tuple(expressions.canonical(k, "index_elem") for k in i.keys),
                i.unique,
                i.method,
                expressions.canonical(i.where) if i.where else None,
                i.include,
                i.nulls_not_distinct,
            )
            for i in view.indexes
        }

    return shape(want) == shape(have)


# -- functions and procedures ------------------------------------------------------------


def _routines(lock: Database, live: Database, settings: LockSettings) -> Iterator[d.Difference]:
    line = settings.section_line("functions")
    for key, wanted in lock.routines.items():
        if ignored(key[0], key[1], settings.ignore):
            continue
        subject = d.Subject(wanted.kind, key[0], name=wanted.signature)
        found = live.routines.get(key)
        if found is None:
            yield d.MissingRoutine(subject=subject, line=wanted.line, lock=wanted)
        elif aspects := routine_aspects(wanted, found):
            yield d.RoutineChanged(
                subject=subject, line=wanted.line, lock=wanted, live=found, aspects=aspects
            )
    for key, found in live.routines.items():
        if key not in lock.routines and not ignored(key[0], key[1], settings.ignore):
            subject = d.Subject(found.kind, key[0], name=found.signature)
            yield d.ExtraRoutine(subject=subject, line=line, live=found)


def routine_aspects(want: Routine, have: Routine) -> frozenset[str]:
    """Which of ROUTINE_ASPECTS differ between two routines of one signature.  The lock's
    `arguments` count only when it gives them."""
    aspects = set()
    if want.procedure != have.procedure:
        aspects.add("kind")
    if want.arguments and not definitions.same_arguments(want.arguments, have.arguments):
        aspects.add("arguments")
    if not _same_returns(want.returns, have.returns):
        aspects.add("returns")
    if want.language != have.language:
        aspects.add("language")
    elif not definitions.same_body(want.language, want.body, have.body, have.arguments):
        aspects.add("body")
    for aspect in ("volatility", "strict", "security_definer"):
        if getattr(want, aspect) != getattr(have, aspect):
            aspects.add(aspect)
    if _settings(want) != _settings(have):
        aspects.add("settings")
    return frozenset(aspects)


def _same_returns(want: str | None, have: str | None) -> bool:
    if want is None or have is None:
        return want == have
    return _return_type(want) == _return_type(have) or definitions.same_returns(want, have)


def _return_type(text: str) -> str:
    try:
        return canonical_type(text)
    except UnknownType:
        return " ".join(text.split())


def _settings(routine: Routine) -> dict[str, str]:
    """SET clauses, values compared without the spaces after commas (`public, pg_temp`)."""
    return {
        name: ",".join(part.strip() for part in value.split(","))
        for name, value in routine.settings
    }


# -- triggers ----------------------------------------------------------------------------


def _triggers(lock: Database, live: Database, settings: LockSettings) -> Iterator[d.Difference]:
    line = settings.section_line("triggers")
    for key, wanted in lock.triggers.items():
        if ignored(key[0], key[1], settings.ignore):
            continue
        subject = d.Subject("trigger", key[0], key[1], key[2])
        found = live.triggers.get(key)
        if found is None:
            yield d.MissingTrigger(subject=subject, line=wanted.line, lock=wanted)
        elif aspects := trigger_aspects(wanted, found):
            yield d.TriggerChanged(
                subject=subject, line=wanted.line, lock=wanted, live=found, aspects=aspects
            )
    for key, found in live.triggers.items():
        if key not in lock.triggers and not ignored(key[0], key[1], settings.ignore):
            subject = d.Subject("trigger", key[0], key[1], key[2])
            yield d.ExtraTrigger(subject=subject, line=line, live=found)


def trigger_aspects(want: Trigger, have: Trigger) -> frozenset[str]:
    """Which of TRIGGER_ASPECTS differ between two triggers of one name on one relation."""
    aspects = {
        aspect
        for aspect, attribute in (
            ("timing", "timing"),
            ("events", "events"),
            ("columns", "columns"),
            ("level", "row"),
            ("function", "function"),
            ("arguments", "arguments"),
            ("enabled", "enabled"),
        )
        if getattr(want, attribute) != getattr(have, attribute)
    }
    if not expressions.same(want.when, have.when):
        aspects.add("when")
    constraint = (want.constraint, want.deferrable, want.initially_deferred)
    if constraint != (have.constraint, have.deferrable, have.initially_deferred):
        aspects.add("constraint")
    if (want.old_table, want.new_table) != (have.old_table, have.new_table):
        aspects.add("transition tables")
    return frozenset(aspects)
