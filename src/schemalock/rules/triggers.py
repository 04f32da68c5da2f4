"""Rules about triggers (constraint triggers included) on tables and views."""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.model.triggers import Trigger
from schemalock.rules.base import Context, Rule, q


def _named(trigger: Trigger) -> str:
    return f"trigger {q(trigger.name)} on {q(trigger.schema, trigger.table)}"


class MissingTrigger(Rule):
    """A trigger the lock declares does not exist on its table.

    ## What it checks
    Every trigger under `triggers:` exists on its table (or view) under its name. Internal
    triggers (those PostgreSQL makes for foreign keys) and the copies a partitioned table's
    trigger has on its partitions are never objects of their own.

    ## Why it matters
    Triggers keep derived data right (a quota counter, an `updated_at`, an audit row): a
    missing one stops that silently, and the data drifts from then on.

    ## Example
    The lock lists `jobs.jobs_count_quota`; the database's `jobs` has no such trigger.

    ## Fix
    `schemalock fix` creates it from the lock (`CREATE [CONSTRAINT] TRIGGER`, then its
    enabled state), after the plan's own data steps, so none of them fires it.
    """

    code, name = "SL721", "missing-trigger"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.MissingTrigger,)

    def check(self, context: Context) -> Iterator[Finding]:
        for missing in context.differences(d.MissingTrigger):
            trigger = missing.lock
            yield self.reported(missing, f"{_named(trigger)} is missing", constraint=trigger.name)


class ExtraTrigger(Rule):
    """A trigger exists in the database but not in the lock.

    ## What it checks
    Every user trigger on the covered tables and views is listed under `triggers:`.
    Internal triggers, partition clones, and the triggers of an extension's tables are not.

    ## Why it matters
    A trigger is code that runs on every write: an unreviewed one changes rows behind the
    application's back, or slows every insert.

    ## Example
    `jobs` has a trigger `jobs_debug_log` the lock does not mention.

    ## Fix
    Add it to the lock (`schemalock snapshot` writes it) or drop it. Nothing is generated.
    """

    code, name = "SL722", "extra-trigger"
    severity, category = Severity.WARNING, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for extra in context.differences(d.ExtraTrigger):
            trigger = extra.live
            yield self.reported(
                extra, f"{_named(trigger)} is not in the lock", constraint=trigger.name
            )


class TriggerChanged(Rule):
    """A trigger differs from the lock: when and on what it fires, what it calls, or whether.

    ## What it checks
    For each trigger both have: BEFORE/AFTER/INSTEAD OF, the events (and `UPDATE OF`
    columns), FOR EACH ROW or STATEMENT, the function and its arguments, the WHEN condition
    (compared on PostgreSQL's parse tree), whether it is enabled (`ALTER TABLE ... DISABLE
    TRIGGER` is the classic forgotten leftover of a data fix), transition tables, and
    CONSTRAINT / DEFERRABLE / INITIALLY DEFERRED.

    ## Why it matters
    A trigger that fires on other events, under another condition, or not at all keeps the
    data it maintains right only some of the time.

    ## Example
    The lock's `jobs_count_quota` fires `AFTER INSERT OR UPDATE`; the database's fires
    `AFTER INSERT` only, or is disabled.

    ## Fix
    `schemalock fix` enables or disables it (`ALTER TABLE ... ENABLE|DISABLE TRIGGER`) when
    that is the only difference; otherwise it drops the trigger and creates it from the lock
    in one transaction (`CREATE OR REPLACE TRIGGER` exists only from PostgreSQL 14 and not
    for constraint triggers).
    """

    code, name = "SL723", "trigger-changed"
    severity, category, fixable = Severity.ERROR, Category.STRUCTURE, True
    repaired_by = (d.TriggerChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.TriggerChanged):
            wanted, found = changed.lock, changed.live
            aspects = [a for a in d.TRIGGER_ASPECTS if a in changed.aspects]
            detail = ""
            if "enabled" in changed.aspects:
                detail = f" (it is {found.enabled}; the lock says {wanted.enabled})"
            elif "when" in changed.aspects:
                detail = f" (WHEN {found.when or 'none'}; the lock says {wanted.when or 'none'})"
            yield self.reported(
                changed,
                f"{_named(found)} differs from the lock in {', '.join(aspects)}{detail}",
                constraint=found.name,
            )
