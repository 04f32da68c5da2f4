"""`schemalock verify`: the lock against the live database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from schemalock import db, engine, introspect
from schemalock.errors import Inconclusive, UsageError
from schemalock.findings import InconclusiveCheck, Report
from schemalock.model import Environment, Lock
from schemalock.probe import Probe
from schemalock.rules.base import Target


def verify(
    lock: Lock,
    url: str,
    timeouts: db.Timeouts,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    data: bool = True,
    env: str | None = None,
    sample_percent: float | None = None,
    on_query: Callable[[str], None] | None = None,
) -> Report:
    """Structure always; with `data`, row checks too (each bounded and read-only);
    `on_query` hears of every row query before it runs."""
    started = time.monotonic()
    environment = _environment(lock, env)
    rules = engine.select_rules(select, ignore, data=data)
    connection = db.connect(url, "verify")
    report = Report(
        lock_path=lock.path,
        lock_sha256=lock.sha256,
        target_url=db.display_url(url),
        server_version=connection.info.parameter_status("server_version"),
    )
    try:
        with db.read_only(connection, timeouts) as conn:
            live = introspect.introspect(conn, list(lock.database.schemas))
        wanted = frozenset().union(*(rule.measures for rule in rules))
        # Online, rules always get the probe; with --no-data no rule that reads rows runs.
        probe = Probe(connection, timeouts, sample_percent, wanted, on_query)
        target = Target(host=db.host_of(url), environment=environment)
        try:
            report.findings = engine.run(lock, live, rules, probe=probe, target=target)
        finally:
            probe.close()
        report.inconclusive += probe.inconclusive
    except Inconclusive as error:
        # Nothing was compared: report that, never a clean pass.
        report.inconclusive.append(InconclusiveCheck(rule=error.check, reason=error.reason))
    finally:
        connection.close()
    report.duration_ms = int((time.monotonic() - started) * 1000)
    return report


def _environment(lock: Lock, name: str | None) -> Environment | None:
    if name is None:
        return None
    environment = lock.settings.environments.get(name)
    if environment is None:
        known = ", ".join(sorted(lock.settings.environments)) or "none"
        raise UsageError(f"--env {name}: the lock defines no such environment (it has: {known})")
    return environment


def lint(lock: Lock, select: Iterable[str] = (), ignore: Iterable[str] = ()) -> Report:
    started = time.monotonic()
    findings = engine.run(lock, None, engine.select_rules(select, ignore, offline=True))
    return Report(
        findings=findings,
        lock_path=lock.path,
        lock_sha256=lock.sha256,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
