"""Rules about schemas on their own: coverage from the database, not only from the lock."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.rules.base import Context, Rule, q


class MissingSchema(Rule):
    """A schema the lock covers does not exist in the database.

    ## What it checks
    Every schema of `database.schemas` (and every schema the lock's objects name) exists.

    ## Why it matters
    Whatever the lock puts in it is missing too, and a migration that creates objects there
    fails; an empty schema the lock lists was dropped or never created.

    ## Example
    The lock lists `schemas: [public, billing]`; the database has no `billing`.

    ## Fix
    `CREATE SCHEMA billing`: `schemalock fix` creates it before anything in it (refused, with
    what to ask the database owner, when its role may not create schemas); the downgrade
    drops it only while it is empty. Safe.
    """

    code, name = "SL731", "missing-schema"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.MissingSchema,)

    def check(self, context: Context) -> Iterator[Finding]:
        for missing in context.differences(d.MissingSchema):
            yield self.reported(missing, f"schema {q(missing.schema)} is missing")


class ExtraSchema(Rule):
    """A schema of the database is neither covered by the lock nor ignored.

    ## What it checks
    Verify looks at every schema of the database but the system ones (`pg_catalog`,
    `information_schema`, `pg_toast`, temporary schemas), not only those the lock lists: a
    schema that is not under `database.schemas`, names none of the lock's objects, and is not
    ignored (`database.ignore: ["audit.*"]` ignores the schema `audit` whole) is reported,
    and so is each object in it, by its own `extra-*` rule.

    ## Why it matters
    A table in a schema nobody listed is invisible to a check that reads only the listed
    ones: an imported copy of customer data (`"Legacy Import"."Customer Accounts"`) would
    pass every review.

    ## Example
    The database has a schema `"Legacy Import"` holding one table; the lock covers `public`.

    ## Fix
    Add the schema to `database.schemas` and its objects to the lock (`schemalock snapshot
    --schema "Legacy Import"` writes them), or ignore it (`database.ignore: ["Legacy
    Import.*"]`). Nothing is generated: schemalock never drops a schema.
    """

    code, name = "SL732", "extra-schema"
    severity, category = Severity.WARNING, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for extra in context.differences(d.ExtraSchema):
            holds = ", ".join(f"{n} {_plural(kind, n)}" for kind, n in extra.holds)
            yield self.reported(
                extra,
                f"schema {q(extra.schema)} is not in the lock"
                + (f" (it holds {holds})" if holds else " (it is empty)"),
                actual=dict(extra.holds),
            )


def _plural(kind: str, count: int) -> str:
    if count == 1 or kind == "row-level security":
        return kind
    return "policies" if kind == "policy" else f"{kind}s"
