"""Planning for enums and domains."""

from __future__ import annotations

from typing import Any

from alembic.operations import MigrateOperation

from schemalock.compare import differences as d
from schemalock.fix import operations as fo
from schemalock.fix.plan.core import Phase, Planner
from schemalock.fix.plan.sql import canonical_sql
from schemalock.model import (
    Domain,
    Enum,
)
from schemalock.model.names import qualified, quote
from schemalock.model.types import type_spelling


def missing_enum(planner: Planner, missing: d.MissingEnum) -> None:
    _create_enum(planner, missing.lock)


def enum_changed(planner: Planner, changed: d.EnumChanged) -> None:
    _enum_labels(planner, changed.lock, changed.live)


def extra_enum(planner: Planner, extra: d.ExtraEnum) -> None:
    planner.note(f"enum {qualified(*extra.live.key)}: extra enums are reported and left alone")


def _create_enum(planner: Planner, wanted: Enum) -> None:
    """A new type, used by nothing yet: created with the lock's labels in the lock's order
    (before the tables that use it); the downgrade drops it while nothing uses it."""
    planner.create_schema(wanted.schema)
    name = qualified(*wanted.key)
    labels = ", ".join(fo.literal(label) for label in wanted.labels)
    create = fo.Sql(
        f"CREATE TYPE {name} AS ENUM ({labels})", undo=fo.DropIfUnused("TYPE", name).sql()
    )
    planner.add(Phase.TYPES, f"create enum {name}", create)


def missing_domain(planner: Planner, missing: d.MissingDomain) -> None:
    """Every missing domain, in one pass the first time one asks: a domain over another one
    is created after it.  Each is new, used by nothing yet."""
    if not planner.once("domains"):
        return
    domains = planner.lock.database.domains
    missing_ones = [x for k, x in domains.items() if k not in planner.live.domains]
    for wanted in _base_types_first(missing_ones):
        _create_domain(planner, wanted)


DOMAIN_CHANGES = "domain changes validate every column using them: plan them by hand"


def domain_left_alone(planner: Planner, difference: d.DomainChanged | d.ExtraDomain) -> None:
    """A differing or extra domain is left for a person: changing it checks every column of
    that type."""
    planner.note(f"domain {qualified(*difference.subject.path)}: {DOMAIN_CHANGES}")


def _create_domain(planner: Planner, wanted: Domain) -> None:
    """CREATE DOMAIN as the lock says; the downgrade drops it while nothing uses it."""
    name = qualified(*wanted.key)
    if not planner.types_exist(f"domain {name}", wanted.type):
        return
    planner.create_schema(wanted.schema)
    parts = [f"CREATE DOMAIN {name} AS {wanted.type}"]
    if wanted.default is not None:
        parts.append(f"DEFAULT {canonical_sql(wanted.default)}")
    if not wanted.nullable:
        parts.append("NOT NULL")
    for check in wanted.checks:
        named = f"CONSTRAINT {quote(check.name)} " if check.name else ""
        parts.append(f"{named}CHECK ({canonical_sql(check.expression)})")
    create = fo.Sql(" ".join(parts), undo=fo.DropIfUnused("DOMAIN", name).sql())
    planner.add(Phase.TYPES, f"create domain {name}", create)


def _enum_labels(planner: Planner, wanted: Enum, found: Enum) -> None:
    where = f"enum {qualified(*wanted.key)}"
    missing = [label for label in wanted.labels if label not in found.labels]
    if any(label not in wanted.labels for label in found.labels):
        planner.note(f"{where}: labels cannot be removed; left as is")
    shared = [label for label in wanted.labels if label in found.labels]
    if shared != [label for label in found.labels if label in wanted.labels]:
        planner.note(
            f"{where}: its labels are in another order, and PostgreSQL cannot reorder an "
            "enum's labels: re-create the type by hand"
        )
    statements: list[MigrateOperation] = []
    for label in missing:
        # In the lock's order: each label's predecessor exists by the time it is added.
        position = wanted.labels.index(label)
        if position:
            anchor = f" AFTER {fo.literal(wanted.labels[position - 1])}"
        else:
            anchor = f" BEFORE {fo.literal(found.labels[0])}" if found.labels else ""
        statements.append(
            fo.Sql(
                f"ALTER TYPE {qualified(*wanted.key)} ADD VALUE IF NOT EXISTS "
                f"{fo.literal(label)}{anchor}",
                kept=f"label {label!r} stays in {qualified(*wanted.key)}: PostgreSQL "
                "cannot remove an enum label",
            )
        )
    if statements:
        title = f"enum {wanted.name} labels"
        planner.add(Phase.LABELS, title, fo.AutocommitBlock(statements))


def _base_types_first(domains: list[Domain]) -> list[Domain]:
    """Domains in an order that creates a domain over another one after it."""
    spelled = {type_spelling(*d.key): d for d in domains}
    ordered: list[Domain] = []

    def visit(domain: Domain, seen: frozenset[str]) -> None:
        base = spelled.get(domain.type)
        if base is not None and base not in ordered and domain.type not in seen:
            visit(base, seen | {domain.type})
        if domain not in ordered:
            ordered.append(domain)

    for domain in domains:
        visit(domain, frozenset())
    return ordered


HANDLERS: dict[type[Any], Any] = {
    d.MissingEnum: missing_enum,
    d.EnumChanged: enum_changed,
    d.ExtraEnum: extra_enum,
    d.MissingDomain: missing_domain,
    d.DomainChanged: domain_left_alone,
    d.ExtraDomain: domain_left_alone,
}
