"""Rules about where the database is, not what it holds."""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase

from schemalock.findings import Category, Finding, Severity
from schemalock.rules.base import Context, Rule


class DatabasePolicy(Rule):
    """The database verify connected to breaks the policy of the environment it claims to be.

    ## What it checks
    With `verify --env NAME`, the lock's `environments.NAME` applies: `require_host` lists
    host patterns (`*.neon.tech`), and a connection to any other host, a local socket
    included, is an error.

    ## Why it matters
    A production gate that ran against a laptop's database proves nothing: the seed
    document's "No Local Database" checkpoint.

    ## Example
    `environments: {production: {require_host: ["*.neon.tech"]}}` and
    `verify --env production` connects to `localhost`.

    ## Fix
    Point the run at the environment's database (`DATABASE_URL`), or fix the policy.
    """

    code, name = "SL501", "database-policy"
    severity, category = Severity.ERROR, Category.CONTRACTS

    def check(self, context: Context) -> Iterator[Finding]:
        target = context.target
        if target is None or target.environment is None:
            return
        patterns = target.environment.require_host
        if patterns and not any(fnmatchcase(target.host.lower(), p.lower()) for p in patterns):
            yield self.finding(
                f"environment {target.environment.name!r} requires a host matching "
                f"{', '.join(patterns)}, but this run connected to {target.host}",
                line=target.environment.line,
                expected=list(patterns),
                actual=target.host,
            )
