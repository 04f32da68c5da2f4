"""Rules about row-level security and policies (a table's tenant isolation)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from schemalock.check.findings import Category, Finding, Severity
from schemalock.compare import differences as d
from schemalock.model.policies import Policy
from schemalock.rules.base import Context, Rule, q


class RlsMismatch(Rule):
    """A table's row-level security is not enabled or forced as the lock says.

    ## What it checks
    For each table the lock declares and the database has: row-level security is enabled
    (`ALTER TABLE ... ENABLE ROW LEVEL SECURITY`) and forced (`FORCE ROW LEVEL SECURITY`)
    exactly as the table's entry under `row_security:` says; a table without an entry has it
    disabled. Turned off (or no longer forced) where the lock has it on is an error; turned on
    where the lock has it off is a warning.

    ## Why it matters
    On Supabase, Neon and every multi-tenant PostgreSQL, row-level security is the tenant
    isolation: with it disabled every policy is ignored and each tenant reads every other
    tenant's rows. Not forced, the table's owner (often the role the application connects as)
    bypasses the policies. A migration that recreates a table, or a debugging session's
    `DISABLE ROW LEVEL SECURITY`, turns it off without a word.

    ## Example
    The lock says `row_security: {documents: {}}` (enabled); the database's
    `public.documents` has `relrowsecurity = false`.

    ## Fix
    `ALTER TABLE documents ENABLE ROW LEVEL SECURITY` (and `FORCE ROW LEVEL SECURITY` when
    the lock says `forced: true`), or change the lock if the change was meant.
    `schemalock fix` does it, after creating the table's missing policies (enabled without
    them, the table would show no row to any role but its owner), and declares the hazard.
    """

    code, name = "SL761", "rls-mismatch"
    severity, category = Severity.ERROR, Category.STRUCTURE
    fixable = True
    repaired_by = (d.RowSecurityChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.RowSecurityChanged):
            want, have = changed.lock, changed.live
            weaker = (want.enabled and not have.enabled) or (want.forced and not have.forced)
            found = self.reported(
                changed,
                f"row-level security of {q(*want.key)} is {have.state}; the lock says {want.state}",
                expected=want.state,
                actual=have.state,
            )
            yield found if weaker else replace(found, severity=Severity.WARNING)


class MissingPolicy(Rule):
    """A row-level security policy the lock declares does not exist in the database.

    ## What it checks
    Every policy under `row_security: <table>: policies:` exists on its table.

    ## Why it matters
    With row-level security enabled, a missing permissive policy hides rows the application
    expects (reads come back empty, writes fail); a missing restrictive policy lets rows
    through that it should have held back, across tenants.

    ## Example
    The lock lists `tenant_isolation` on `documents`; the database has no such policy.

    ## Fix
    Create it as the lock defines it (`CREATE POLICY tenant_isolation ON documents ...`);
    `schemalock fix` does (unless a role it names does not exist: that is left for a person).
    """

    code, name = "SL762", "missing-policy"
    severity, category = Severity.ERROR, Category.STRUCTURE
    fixable = True
    repaired_by = (d.MissingPolicy,)

    def check(self, context: Context) -> Iterator[Finding]:
        for missing in context.differences(d.MissingPolicy):
            policy = missing.lock
            yield self.reported(
                missing,
                f"policy {q(policy.name)} on {q(policy.schema, policy.table)} is missing",
                constraint=policy.name,
            )


class ExtraPolicy(Rule):
    """A row-level security policy exists in the database but not in the lock.

    ## What it checks
    Every policy of the tables the database holds is listed under the table's
    `row_security: ... policies:` (or the table is matched by `database.ignore`).

    ## Why it matters
    An unreviewed permissive policy widens who sees what: policies of one command are OR-ed,
    so one `USING (true)` policy added for a test opens the table to every role it names.

    ## Example
    The database's `documents` has a policy `debug_all` the lock does not mention.

    ## Fix
    Add it to the lock (`schemalock snapshot` writes it) or drop it (`DROP POLICY`).
    Nothing is generated: schemalock never drops a policy on its own.
    """

    code, name = "SL763", "extra-policy"
    severity, category = Severity.WARNING, Category.STRUCTURE

    def check(self, context: Context) -> Iterator[Finding]:
        for extra in context.differences(d.ExtraPolicy):
            policy = extra.live
            yield self.reported(
                extra,
                f"policy {q(policy.name)} on {q(policy.schema, policy.table)} is not in the lock",
                constraint=policy.name,
            )


class PolicyChanged(Rule):
    """A row-level security policy's command, mode, roles or expressions differ.

    ## What it checks
    For each policy both have: the command (`FOR ALL/SELECT/INSERT/UPDATE/DELETE`),
    permissive or restrictive, the roles it applies to, and the USING and WITH CHECK
    conditions, compared on PostgreSQL's parse trees (the catalog's casts, parentheses and
    formatting are no difference).

    ## Why it matters
    The policy's condition is the tenant boundary: `tenant_id = current_setting(...)`
    rewritten as `true`, a role added, or a restrictive policy made permissive changes who
    reads and writes which rows, with no error anywhere.

    ## Example
    The lock's `tenant_isolation` says `using: org_id = current_setting('app.org')::uuid`;
    the database's policy says `USING (true)`.

    ## Fix
    `ALTER POLICY` (roles, USING, WITH CHECK) or drop and create it (command, mode) as the
    lock defines it; `schemalock fix` does, and its downgrade puts the database's definition
    back.
    """

    code, name = "SL764", "policy-changed"
    severity, category = Severity.ERROR, Category.STRUCTURE
    fixable = True
    repaired_by = (d.PolicyChanged,)

    def check(self, context: Context) -> Iterator[Finding]:
        for changed in context.differences(d.PolicyChanged):
            want, have = changed.lock, changed.live
            aspects = [a for a in d.POLICY_ASPECTS if a in changed.aspects]
            yield self.reported(
                changed,
                f"policy {q(have.name)} on {q(have.schema, have.table)} has another "
                f"{', '.join(aspects)} than the lock",
                constraint=have.name,
                expected=_shown(want, aspects),
                actual=_shown(have, aspects),
            )


def _shown(policy: Policy, aspects: list[str]) -> str:
    """The differing aspects of one side, as `CREATE POLICY` would say them."""
    parts = {
        "command": f"FOR {policy.command.upper()}",
        "mode": "AS PERMISSIVE" if policy.permissive else "AS RESTRICTIVE",
        "roles": "TO " + ", ".join(policy.roles),
        "using": f"USING ({policy.using})" if policy.using else "no USING",
        "with check": f"WITH CHECK ({policy.check})" if policy.check else "no WITH CHECK",
    }
    return " ".join(parts[a] for a in aspects)
