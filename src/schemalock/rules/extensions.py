"""Rules about extensions (CREATE EXTENSION)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.rules.base import Context, Rule, q


class MissingExtension(Rule):
    """An extension the lock declares is not installed in the database.

    ## What it checks
    Every entry under `extensions:` is installed (`pg_extension`), in whichever schema.

    ## Why it matters
    Columns, indexes and functions that use its types and functions (`citext`, `vector`,
    `gen_random_uuid()` of pgcrypto on old servers, PostGIS) cannot be created or fail at run
    time; a restore into a fresh database forgets extensions first.

    ## Example
    The lock lists `citext`; `pg_extension` has no `citext`.

    ## Fix
    `CREATE EXTENSION citext SCHEMA <schema>` (the server must have it available).
    `schemalock fix` installs it (at the lock's version, if it gives one) before anything
    uses it; it refuses one the server does not offer, or this role may not install.
    """

    code, name = "SL751", "missing-extension"
    severity, category = Severity.ERROR, Category.STRUCTURE
    fixable = True
    repaired_by = (d.MissingExtension,)

    def check(self, context: Context) -> Iterator[Finding]:
        for missing in context.differences(d.MissingExtension):
            extension = missing.lock
            yield self.reported(
                missing, f"extension {q(extension.name)} is not installed",
                constraint=extension.name,
            )  # fmt: skip


class ExtraExtension(Rule):
    """An extension is installed in the database but not listed in the lock.

    ## What it checks
    Every installed extension whose objects are in a schema the database holds (but
    `plpgsql`, in every database) is listed under `extensions:` or matched by
    `database.ignore`. Extensions in `pg_catalog` are listed under "not covered".

    ## Why it matters
    An extension brings functions, types and sometimes background workers and hooks; one
    nobody declared is a dependency the next environment will not have.

    ## Example
    The database has `pg_trgm` installed; the lock does not mention it.

    ## Fix
    Add it to the lock (`schemalock snapshot` writes it) or drop it (`DROP EXTENSION`).
    Nothing is generated: schemalock never drops an extension on its own.
    """

    code, name = "SL752", "extra-extension"
    severity, category = Severity.WARNING, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for extra in context.differences(d.ExtraExtension):
            extension = extra.live
            yield self.reported(
                extra,
                f"extension {q(extension.name)} (in schema {q(extension.schema)}) is not in "
                "the lock",
                constraint=extension.name,
            )


class ExtensionChanged(Rule):
    """An extension is in another schema, or at another version, than the lock says.

    ## What it checks
    For each extension both have: the schema its objects are in, and its version when the
    lock gives one (`version:`). Another schema is an error; another version is a warning
    (an upgrade, `ALTER EXTENSION ... UPDATE`, is usually meant: update the lock with it).

    ## Why it matters
    Code calls an extension's functions and types by their schema (`extensions.uuid_...`
    on Supabase): in another schema they are not found. A version difference between
    environments changes behaviour (pgvector's index options, PostGIS functions).

    ## Example
    The lock says `vector: {schema: extensions, version: "0.8.0"}`; the database has 0.7.4.

    ## Fix
    `ALTER EXTENSION name SET SCHEMA <schema>` / `ALTER EXTENSION name UPDATE TO '<version>'`,
    or change the lock if the change was meant. `schemalock fix` runs them, refusing a version
    the server has no update path to and a schema move of an extension that is not
    relocatable.
    """

    code, name = "SL753", "extension-changed"
    severity, category = Severity.ERROR, Category.STRUCTURE
    fixable = True
    repaired_by = (d.ExtensionChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.ExtensionChanged):
            want, have = changed.lock, changed.live
            if "schema" in changed.aspects:
                yield self.reported(
                    changed,
                    f"extension {q(want.name)} is in schema {q(have.schema)}; the lock says "
                    f"{q(want.schema)}",
                    constraint=want.name,
                    expected=want.schema,
                    actual=have.schema,
                )
                continue
            found = self.reported(
                changed,
                f"extension {q(want.name)} is at version {have.version}; the lock says "
                f"{want.version}",
                constraint=want.name,
                expected=want.version,
                actual=have.version,
            )
            yield replace(found, severity=Severity.WARNING)
