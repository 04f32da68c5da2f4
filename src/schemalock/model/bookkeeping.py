"""The tables migration tools keep for themselves: structure like any other table, never data.

Their rows are the tools' bookkeeping (applied revisions, checksums, lock flags), written by the
tool and shaped by it: `_prisma_migrations.id` is a uuid in a varchar by design, a revision
hash is no mock marker, and two tools' history tables look alike without duplicating anything.
So the rules that judge rows (mock-data, uuid-stored-as-text, undashed-uuid-as-text,
pattern-violation, accepted-values-violation, duplicate-table) leave them alone; the structure
rules compare them as they compare every table.  Matched by name in any schema (each tool lets
the schema be chosen), exactly as the tool spells it.
"""

from __future__ import annotations

from schemalock.model import Table

# Table name -> the tool that keeps it.  One list: README's "Data checks" section shows it.
BOOKKEEPING_TABLES: dict[str, str] = {
    "alembic_version": "Alembic",
    "django_migrations": "Django",
    "_prisma_migrations": "Prisma",
    "__drizzle_migrations": "Drizzle (schema drizzle)",
    "_migrations": "Drizzle layout, as the seed database keeps it",
    "flyway_schema_history": "Flyway",
    "schema_migrations": "Rails, golang-migrate",
    "ar_internal_metadata": "Rails",
    "knex_migrations": "Knex",
    "knex_migrations_lock": "Knex",
}


def is_bookkeeping(table: Table) -> bool:
    """Whether a migration tool keeps this table for itself (see BOOKKEEPING_TABLES)."""
    return table.name in BOOKKEEPING_TABLES
