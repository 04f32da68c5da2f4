"""Rules about where the database is, not what it holds."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from fnmatch import fnmatchcase

from schemalock.check.findings import Category, Finding, Severity
from schemalock.rules.base import Context, Rule


class DatabasePolicy(Rule):
    """The database verify connected to breaks the policy of the environment it claims to be.

    ## What it checks
    With `verify --env NAME`, the lock's `environments.NAME` applies: `require_host` lists
    host patterns (`*.neon.tech`), and a connection to any other host, a local socket
    included, is an error. The host judged is the one the connection actually went to, as
    libpq reports it (so `PGHOST` counts, not only the URL's text); and when `hostaddr` (or
    `PGHOSTADDR`) sent the connection to an IP address, a loopback or private address breaks
    the policy whatever host name the URL shows, unless the address itself is listed.

    ## Why it matters
    A production gate that ran against a laptop's database proves nothing: the seed
    document's "No Local Database" checkpoint. `?hostaddr=127.0.0.1` behind a production
    host name is exactly such a run.

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
        if not patterns:
            return
        server = context.probe.server if context.probe is not None else None
        host = server.host if server is not None else target.host
        where = f"environment {target.environment.name!r} requires a host matching " + ", ".join(
            patterns
        )
        if not _listed(host, patterns):
            yield self.finding(
                f"{where}, but this run connected to {host}",
                line=target.environment.line,
                expected=list(patterns),
                actual=host,
            )
        elif server is not None and server.hostaddr and not _listed(server.hostaddr, patterns):
            kind = _local_kind(server.hostaddr)
            if kind:
                yield self.finding(
                    f"{where}; the URL names {host}, but hostaddr sent this run to "
                    f"{server.hostaddr}, a {kind} address",
                    line=target.environment.line,
                    expected=list(patterns),
                    actual=server.hostaddr,
                )


def _listed(host: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatchcase(host.lower(), pattern.lower()) for pattern in patterns)


def _local_kind(address: str) -> str | None:
    """ "loopback" or "private" for an address no hosted database has; None otherwise."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.is_loopback or ip.is_unspecified:
        return "loopback"
    if ip.is_private or ip.is_link_local:
        return "private"
    return None
