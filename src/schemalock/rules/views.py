"""Rules about views and materialized views."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.model.views import View
from schemalock.rules.base import Context, Rule, q


class MissingView(Rule):
    """A view or materialized view the lock declares does not exist in the database.

    ## What it checks
    Every entry under `views:` exists in its schema, as a view, or as a materialized view
    when it says `materialized: true`.

    ## Why it matters
    Reports, dashboards and API endpoints that read the view fail at run time; a migration
    that dropped it (a `DROP ... CASCADE` of a table it reads takes it along) shows up here.

    ## Example
    The lock lists `active_jobs`; the database has no `public.active_jobs`.

    ## Fix
    `schemalock fix` creates it from the lock's query (`CREATE VIEW ... AS <query>`, or
    `CREATE MATERIALIZED VIEW ... WITH DATA` and its indexes: the query runs once), after the
    tables and functions it reads and the views it reads, in the order of their dependencies.
    """

    code, name = "SL701", "missing-view"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.MissingView,)

    def check(self, context: Context) -> Iterator[Finding]:
        for missing in context.differences(d.MissingView):
            view = missing.lock
            yield self.reported(
                missing, f"{view.kind} {q(*view.key)} is missing", constraint=view.name
            )


class ExtraView(Rule):
    """A view or materialized view exists in the database but not in the lock.

    ## What it checks
    Every view and materialized view of the schemas the lock covers (and of the schemas it
    does not list: see `extra-schema`) is listed under `views:` or matched by
    `database.ignore`. Views an extension owns belong to the extension and are never listed.

    ## Why it matters
    A view is code that reads tables: an unreviewed one may expose columns (a view runs with
    its owner's privileges unless `security_invoker` is set) or block a column change
    (`cannot alter type of a column used by a view`).

    ## Example
    The database has `public.jobs_debug`; the lock does not mention it.

    ## Fix
    Add it to the lock (`schemalock snapshot` writes its definition) or to `database.ignore`.
    Nothing is generated: schemalock never drops a view on its own.
    """

    code, name = "SL702", "extra-view"
    severity, category = Severity.WARNING, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for extra in context.differences(d.ExtraView):
            view = extra.live
            yield self.reported(
                extra, f"{view.kind} {q(*view.key)} is not in the lock", constraint=view.name
            )


class ViewChanged(Rule):
    """A view's definition differs from the lock: its query, options, kind or indexes.

    ## What it checks
    For each view both have: the query, compared on PostgreSQL's parse tree (the catalog's
    qualifiers, casts, aliases and formatting are no difference); the options
    (`security_invoker`, `security_barrier`, `check_option`); whether it is materialized; a
    materialized view's indexes.

    ## Why it matters
    A view is the contract of whatever reads it: a changed filter or join silently changes
    every report and endpoint built on it, and a dropped `security_invoker` turns row-level
    security off for its readers.

    ## Example
    The lock's `active_jobs` selects `WHERE status = 'running'`; the database's view selects
    `WHERE status IN ('running', 'queued')`.

    ## Fix
    `schemalock fix` replaces it in place (`CREATE OR REPLACE VIEW`) when its columns keep
    their names, types and number, which keeps its privileges and the views over it; else
    (and always for a materialized view) it drops the view and every view reading it (from
    `pg_depend`), and creates them again in order, their privileges, comments, indexes and
    triggers given back. Options are set with `ALTER VIEW ... SET/RESET`; a materialized
    view's missing index is built (an extra one is left alone). The hazard is declared: the
    views are absent while the migration's transaction runs.
    """

    code, name = "SL703", "view-changed"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.ViewChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.ViewChanged):
            wanted, found = changed.lock, changed.live
            yield self.reported(
                changed,
                f"{found.kind} {q(*found.key)} {_difference(changed)}",
                constraint=found.name,
                expected=_shown(changed, wanted),
                actual=_shown(changed, found),
            )


def _difference(changed: d.ViewChanged) -> str:
    """The first aspect that differs, in words."""
    wanted, aspects = changed.lock, changed.aspects
    if "kind" in aspects:
        return f"is not a {wanted.kind} as the lock says"
    if "query" in aspects:
        return "has another query than the lock"
    if "options" in aspects:
        return f"has options {_options(changed.live)}; the lock says {_options(wanted)}"
    return "has other indexes than the lock"


def _options(view: View) -> str:
    if not view.options:
        return "none"
    return "(" + ", ".join(f"{k}={v}" for k, v in view.options) + ")"


def _shown(changed: d.ViewChanged, view: View) -> str | None:
    return view.query if "query" in changed.aspects else None
