"""The rules of `schemalock diff`, the forward-only guard: how a change to the lock is judged.

`diff` compares two versions of the lock (the base branch's and the pull request's), not a lock
with a database, so these rules find nothing in a `Context`: `schemalock.guard` classifies each
change and reports it with `Rule.finding`.  `verify` and `lint` never run them
(`diff_only`); `schemalock rules` and `explain` document them like any other.
"""

from __future__ import annotations

from collections.abc import Iterator

from schemalock.check.findings import Category, Finding, Severity
from schemalock.rules.base import Context, Rule


class _Change(Rule):
    needs_database = False
    diff_only = True

    def check(self, context: Context) -> Iterator[Finding]:
        return iter(())  # two locks are compared by schemalock.guard, not a lock and a database


class LockRegression(_Change):
    """The new lock removes or weakens something the base lock promised.

    ## What it checks
    `schemalock diff` compares the pull request's lock with the base branch's (`--base REF`)
    and reports every change that promises less: a table, column, key, unique, check, index,
    foreign key (relation), enum or domain removed; a `NOT NULL` dropped; a type loosened
    (`uuid` to `text`, `varchar(40)` to `text`, an enum or a domain to its base type); a
    foreign key's `on_delete` turned destructive or a key marked `validated: false`; a data
    rule removed or widened (a `pattern` removed or changed, an accepted value added, `mock_data:
    false` set); a flow, invariant or query contract removed or changed; an environment policy
    removed or widened; `critical: true` removed; a table left out by `database.ignore`; a
    waiver added. Schema objects are compared by the same comparison `verify` uses, the rest of
    the lock key by key (deepdiff), and each change points at its line: in the new lock, or in
    the base lock for something removed.

    ## Why it matters
    A lock only keeps a database honest while it is kept itself. A pull request that weakens
    the lock (drops the relation whose foreign key is missing, turns `jobs.org_id` into
    `text`, deletes the failing query contract, or regenerates the lock with `snapshot` from a
    weakened database) makes `verify` pass by promising less. The guard makes every such step
    visible and deliberate.

    ## Example
    The base lock has `org_id: {type: uuid, nullable: false, references: organizations.id}`;
    the pull request changes it to `org_id: {type: text}`: three regressions (type loosened,
    `NOT NULL` dropped, foreign key removed), exit 1.

    ## Fix
    Keep the promise, or acknowledge the regression in the new lock, where review sees it: a
    waiver `{rule: regression, object: public.jobs.org_id, reason: ...}` added by the same
    pull request. An acknowledged regression is reported as waived and does not fail the run.
    A regression on a table or column marked `critical: true` is acknowledged only by a waiver
    whose `object` names it exactly (no `*`, `?` or `[`).
    """

    code, name = "SL601", "lock-regression"
    severity, category = Severity.ERROR, Category.REGRESSION


class LockProgress(_Change):
    """The new lock adds or strengthens a promise.

    ## What it checks
    The changes `schemalock diff` finds that promise more than the base lock did: a new table,
    column, key, unique, check, index, foreign key, enum or domain; a new `NOT NULL`; a type
    narrowed (`text` to `uuid`, `varchar(80)` to `varchar(40)`); a new data rule or a narrower
    accepted-values list; a new flow, invariant, query contract or environment; `critical:
    true` added; a waiver removed. A lock that did not exist at the base is progress as a
    whole.

    ## Why it matters
    Progress is what the guard lets through: listing it shows reviewers what the pull request
    adds to the contract, next to what it takes away.

    ## Example
    The pull request adds `values: [search, analysis]` to `quota_usage.usage_type`.

    ## Fix
    Nothing to fix: an info finding, never a failure (unless `--fail-on info`).
    """

    code, name = "SL602", "lock-progress"
    severity, category = Severity.INFO, Category.HISTORY


class LockChange(_Change):
    """The new lock changes something that promises neither more nor less.

    ## What it checks
    The neutral changes `schemalock diff` finds: comments, purposes, wiring and descriptions;
    defaults and identity; renames that keep the definition (`renamed_from`, an index or a
    constraint under a new name); a wider integer or numeric range (`integer` to `bigint`);
    `timestamp` to `timestamptz`, `json` to `jsonb`; partitioning; the order of enum labels,
    expected table counts and the lock's own name.

    ## Why it matters
    They are part of the change under review and shown for completeness; they never fail the
    guard. Reordering entries or re-indenting the file is no change at all.

    ## Example
    The pull request rewords `jobs.keyword`'s comment.

    ## Fix
    Nothing to fix: an info finding.
    """

    code, name = "SL603", "lock-change"
    severity, category = Severity.INFO, Category.HISTORY
