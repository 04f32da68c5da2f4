"""`schemalock verify`: the lock against the live database."""

from __future__ import annotations

import time
from collections.abc import Iterable

from schemalock import db, engine, introspect
from schemalock.errors import Inconclusive
from schemalock.findings import InconclusiveCheck, Report
from schemalock.model import Lock


def verify(
    lock: Lock,
    url: str,
    timeouts: db.Timeouts,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
) -> Report:
    started = time.monotonic()
    rules = engine.select_rules(select, ignore)
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
        report.findings = engine.run(lock, live, rules)
    except Inconclusive as error:
        # Nothing was compared: report that, never a clean pass.
        report.inconclusive.append(InconclusiveCheck(rule=error.check, reason=error.reason))
    finally:
        connection.close()
    report.duration_ms = int((time.monotonic() - started) * 1000)
    return report


def lint(lock: Lock, select: Iterable[str] = (), ignore: Iterable[str] = ()) -> Report:
    started = time.monotonic()
    findings = engine.run(lock, None, engine.select_rules(select, ignore, offline=True))
    return Report(
        findings=findings,
        lock_path=lock.path,
        lock_sha256=lock.sha256,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
