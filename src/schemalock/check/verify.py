"""`schemalock verify`: the lock against the live database."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

from schemalock import db, introspect
from schemalock.check import coverage, engine, validity, waivers
from schemalock.check.findings import Category, InconclusiveCheck, Report
from schemalock.compare import Comparison
from schemalock.errors import Inconclusive, UsageError
from schemalock.model import Database, Environment, Lock
from schemalock.probe import Probe
from schemalock.rules import RULES, Rule
from schemalock.rules.base import Context, Target
from schemalock.rules.contracts import FlowViolation
from schemalock.rules.data import AcceptedValuesViolation, MockData, PatternViolation
from schemalock.rules.duplicates import DuplicateTable
from schemalock.rules.identifiers import MiswiredReference
from schemalock.rules.integrity import CheckViolations, FkOrphans, relations, unproven

if TYPE_CHECKING:
    import psycopg

    from schemalock.check import api as apiprobe  # http.client and ssl: only when asked for


@dataclass(frozen=True)
class Reading:
    """A database read already, to judge as verify would: the connection it was read
    through, what was read, and its comparison with the lock."""

    connection: psycopg.Connection[Any]
    live: Database
    comparison: Comparison


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
    api: apiprobe.ApiSettings | None = None,
    on_rule: Callable[[int, int, str], None] | None = None,
    today: date | None = None,
    read: Reading | None = None,
) -> Report:
    """Structure always; with `data`, row checks too (each bounded and read-only);
    `on_query` hears of every row query before it runs, `on_rule(done, total, rule)` of every
    rule.  With `api`, the lock's endpoints are then asked whether they serve real data
    (`mock-data`, unless --select/--ignore drop it).
    The lock's waivers apply as of `today` (default: the local date).  `read`: the database
    read already (fix plans from the same read); its connection stays open."""
    started = time.monotonic()
    select, ignore = tuple(select), tuple(ignore)  # read twice: for the rules and the API probe
    environment = _environment(lock, env)
    rules = engine.select_rules(select, ignore, data=data)
    ran = tuple(rule.code for rule in rules)
    # An invalid lock is refused before connecting, and judging it parses all of it: no
    # expression is parsed, nor invariant planned, while a transaction is open.  The rules
    # about the lock alone have run then: their findings are taken, not found again.
    validity.refuse_invalid(lock)
    judged = {rule.code for rule in rules if rule.category is Category.LOCK}
    rules = [rule for rule in rules if rule.code not in judged]
    connection = read.connection if read else db.connect(url, "verify")
    report = Report(
        lock_path=lock.path,
        lock_sha256=lock.sha256,
        target_url=db.display_url(url),
        server_version=connection.info.parameter_status("server_version"),
    )
    try:
        live = (
            read.live
            if read
            else introspect.read_everything(
                connection, timeouts, lock.database.schemas, lock.settings.ignores_schema
            )
        )
        report.coverage = coverage.measure(lock, live)
        wanted = frozenset().union(*(rule.measures for rule in rules))
        # Online, rules always get the probe; with --no-data no rule that reads rows runs.
        probe = Probe(
            connection, timeouts, sample_percent, wanted, on_query, user_casts=live.user_casts
        )
        target = Target(host=db.host_of(url), environment=environment)
        try:
            found = engine.run(
                lock,
                live,
                rules,
                probe=probe,
                target=target,
                on_rule=on_rule,
                before=_prefetch(probe),
                comparison=read.comparison if read else None,
            )
            found += [f for f in validity.offline_findings(lock) if f.code in judged]
            report.findings = sorted(found, key=lambda f: f.sort_key)
            report.rules = ran
        finally:
            probe.close()
        report.inconclusive += probe.inconclusive
    except Inconclusive as error:
        # Nothing was compared: report that, never a clean pass.
        report.inconclusive.append(InconclusiveCheck(rule=error.check, reason=error.reason))
    finally:
        if not read:
            connection.close()
    # The API probe reads no rows, so --no-data leaves it on; only the rule's selection counts.
    if api is not None and MockData in engine.select_rules(select, ignore):
        _probe_api(report, lock, api, on_query)
    answered = _conclusive(engine.select_rules(select, ignore, data=data), report)
    if api is not None and MockData in engine.select_rules(select, ignore):
        answered.append(MockData)  # asked of the API, even with --no-data
    report.findings = waivers.apply(
        report.findings, lock.waivers, today or date.today(), answered, accept=_exact(lock)
    )
    report.duration_ms = int((time.monotonic() - started) * 1000)
    return report


# Rules whose questions depend on nothing but the answers to their own earlier ones, which they
# read as nothing more to ask while unknown: run dry, they ask ahead exactly what they will ask.
# The samples a rule fetches once a count is positive are such follow-ups: a round trip per
# table that has findings unless asked ahead.  duplicate-table works its pairs out once a run
# (Context.worked_out), so the dry run does not pay it again.
_DRY_RUNS = (
    AcceptedValuesViolation,
    CheckViolations,
    DuplicateTable,
    FlowViolation,
    MiswiredReference,
    MockData,
    PatternViolation,
)
# Not uuid-stored-as-text: it reads an unknown match as "try the next key", so a dry run would
# ask what the rule, once the first match is known, does not.


def _prefetch(probe: Probe) -> Callable[[Context, list[type[Rule]]], None]:
    """Ask together, before the data rules run, what they will ask of every table and relation
    (`Probe.prefetch`): the per-table scan of every table both sides have, which every rule
    with `measures` reads; the orphan count of every relation of the lock that no validated
    foreign key proves, which fk-orphans reads (and miswired-reference, of one-column keys);
    and what the rules of `_DRY_RUNS` ask (NOT VALID checks' violations, flow invariants,
    the samples behind positive counts)."""

    def ask(context: Context, rules: list[type[Rule]]) -> None:
        measuring = next((rule.name for rule in rules if rule.measures), None)
        profiles = (
            [(measuring, live, lock) for lock, live in context.matched_tables()]
            if measuring
            else []
        )
        counting = [rule for rule in rules if rule in (FkOrphans, MiswiredReference)]
        proven_not = unproven(context) if counting else set()
        orphans = [
            (counting[0].name, live, fk, parent)
            for _, live, fk, parent in (relations(context) if counting else ())
            if id(fk) in proven_not and (FkOrphans in counting or len(fk.columns) == 1)
        ]
        dry_runs = [partial(_run_dry, rule, context) for rule in rules if rule in _DRY_RUNS]
        probe.prefetch(profiles, orphans, dry_runs)

    return ask


def _run_dry(rule: type[Rule], context: Context) -> None:
    for _ in rule().check(context):
        pass  # only the questions count here


def _probe_api(
    report: Report,
    lock: Lock,
    api: apiprobe.ApiSettings,
    on_request: Callable[[str], None] | None,
) -> None:
    from schemalock.check import api as apiprobe

    found = apiprobe.probe(lock, api, on_request)
    report.findings = sorted(report.findings + found.findings, key=lambda f: f.sort_key)
    report.inconclusive += found.inconclusive


def _conclusive(rules: Iterable[type[Rule]], report: Report) -> list[type[Rule]]:
    """The rules that gave an answer: none that was inconclusive anywhere, and only the lock's
    own when the database could not be compared at all."""
    unanswered = {item.rule for item in report.inconclusive}
    if unanswered - {rule.name for rule in RULES}:
        return [rule for rule in rules if rule.category is Category.LOCK]
    return [rule for rule in rules if rule.name not in unanswered]


def _environment(lock: Lock, name: str | None) -> Environment | None:
    if name is None:
        return None
    environment = lock.settings.environments.get(name)
    if environment is None:
        known = ", ".join(sorted(lock.settings.environments)) or "none"
        raise UsageError(f"--env {name}: the lock defines no such environment (it has: {known})")
    return environment


def lint(
    lock: Lock, select: Iterable[str] = (), ignore: Iterable[str] = (), today: date | None = None
) -> Report:
    """The offline rules' findings, those of `select` and not `ignore`, with the lock's waivers
    applied as of `today` (default: the local date); each rule runs once, however often the
    lock is judged (`validity` keeps the last lock's findings)."""
    started = time.monotonic()
    rules = engine.select_rules(select, ignore, offline=True)
    chosen = {rule.code for rule in rules}
    findings = [f for f in validity.offline_findings(lock) if f.code in chosen]
    return Report(
        findings=waivers.apply(
            findings, lock.waivers, today or date.today(), rules, accept=_exact(lock)
        ),
        command="lint",
        rules=tuple(sorted(chosen)),
        lock_path=lock.path,
        lock_sha256=lock.sha256,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def _exact(lock: Lock) -> waivers.Acceptance:
    """A finding on a `critical: true` table or column is waived only by a waiver naming its
    object exactly (as `diff` acknowledges a critical regression)."""
    return waivers.exact_on_critical(waivers.critical_names(lock))
