"""The verification checklist of `docs --live`: every table, relation, flow invariant, query
contract and environment of the lock, with what verify said about it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from schemalock.check.findings import Finding, InconclusiveCheck, Report, Severity
from schemalock.model import ForeignKey, Lock, Table
from schemalock.render.markdown.markup import (
    code_span,
    describe_relation,
    escaped,
    plural,
    table_name,
)

PASS, FAIL, INCONCLUSIVE, NOT_CHECKED = "✅", "❌", "⚠️", "⬜"

# Rules that check relations (foreign keys of the lock): running them checks no table's line.
RELATION_CODES = frozenset({"SL109", "SL110", "SL201", "SL202", "SL203", "SL204"})
MISSING_TABLE, POLICY, FLOW, QUERY = "SL101", "SL501", "SL502", "SL503"
# What a relation's pass line can claim, by the rule that proves it.
RELATION_CLAIMS = (
    ("SL109", "foreign key present"),
    ("SL202", "validated"),
    ("SL201", "no orphans"),
)


@dataclass(frozen=True)
class Verification:
    """What `docs --live` adds: verify's report and how it was asked for."""

    report: Report
    # Codes of the rules that ran; an item none of whose rules ran is "not checked", never
    # passed. None: every rule ran.
    rules: frozenset[str] | None = None
    fail_on: Severity = Severity.ERROR
    environment: str | None = None  # --env
    checked_at: datetime | None = None

    def ran(self, *codes: str) -> bool:
        return self.rules is None or any(code in self.rules for code in codes)


@dataclass
class _Item:
    """One checklist line: what it is about and what verify said about it."""

    label: str
    passed: str  # what a pass claims
    checked: bool
    findings: list[Finding] = field(default_factory=list)
    inconclusive: list[InconclusiveCheck] = field(default_factory=list)


class _Sorter:
    """Hands each finding and inconclusive check to the first item that claims it."""

    def __init__(self, report: Report) -> None:
        self.findings = list(report.findings)
        self.inconclusive = list(report.inconclusive)

    def take(self, wanted: Callable[[Finding], bool]) -> list[Finding]:
        taken = [f for f in self.findings if wanted(f)]
        self.findings = [f for f in self.findings if not wanted(f)]
        return taken

    def take_checks(self, wanted: Callable[[InconclusiveCheck], bool]) -> list[InconclusiveCheck]:
        taken = [i for i in self.inconclusive if wanted(i)]
        self.inconclusive = [i for i in self.inconclusive if not wanted(i)]
        return taken


def _of_relation(table: Table, fk: ForeignKey) -> Callable[[Finding], bool]:
    """Findings whose subject is the foreign key of `table` that the lock declares as `fk`."""

    def wanted(finding: Finding) -> bool:
        subject = finding.subject
        if subject is None or subject.kind != "foreign key":
            return False
        if (subject.schema, subject.table) != table.key:
            return False
        # The subject names a key as the database does where it has it, a name an inline
        # `references:` of the lock lacks: which entry of the lock the comparison paired it
        # with is the finding's lock line (for an inline reference, its column's line).
        if fk.line is not None and finding.lock_line is not None:
            return finding.lock_line == fk.line
        return subject.name is not None and subject.name == fk.name

    return wanted


def _table_of(finding: Finding) -> tuple[str, str | None] | None:
    """The table a finding's subject is in, if it has a subject."""
    subject = finding.subject
    return (subject.schema, subject.table) if subject is not None else None


def _coded(code: str, constraint: str | None = None, prefix: str = "") -> Callable[[Finding], bool]:
    return lambda f: (
        f.code == code
        and (constraint is None or f.constraint == constraint)
        and f.message.startswith(prefix)
    )


def _about(key: tuple[str, str], rules: frozenset[str] | None = None) -> Callable[..., bool]:
    """Findings or inconclusive checks about a table (of `rules`, by name, if given)."""
    return lambda x: (x.schema, x.table) == key and (rules is None or x.rule in rules)


def _labelled(rule: str, label: str) -> Callable[[InconclusiveCheck], bool]:
    return lambda check: check.rule == rule and check.reason.startswith(f"{label}: ")


_RELATION_RULES = frozenset(
    {"missing-foreign-key", "foreign-key-mismatch", "fk-orphans", "fk-not-validated"}
    | {"fk-type-mismatch", "fk-missing-index"}
)


def checklist(lock: Lock, verification: Verification) -> str:
    report = verification.report
    sorter = _Sorter(report)
    missing = [f for f in report.findings if f.code == MISSING_TABLE]
    relations = _relation_items(lock, verification, sorter, missing)
    flows = _flow_items(lock, verification, sorter)
    queries = _query_items(lock, verification, sorter)
    environment = _environment_items(verification, sorter)
    objects = _object_items(lock, verification, sorter)
    # Last: what the items above did not claim about a table (flow findings name one too) is
    # the table's own.
    tables = _table_items(lock, verification, sorter)
    groups = [
        ("Tables", tables),
        ("Relations", relations),
        ("Other objects", objects),
        ("Flow invariants", flows),
        ("Query contracts", queries),
        ("Environment", environment),
    ]
    parts = ["## Verification checklist", _verified_line(verification)]
    mark, counts = verdict(verification)
    parts.append(f"**Result**: {mark} {counts}; failing at `--fail-on {verification.fail_on}`.")
    if not verification.ran("SL201", "SL401", "SL402", "SL403", "SL404", "SL502"):
        parts.append(
            "No rule that reads rows ran (`--no-data`, `--select` or `--ignore`): what needs rows"
            " shows as not checked."
        )
    for title, items in groups:
        if items:
            lines = [_item(item, verification.fail_on) for item in items]
            parts.append("\n".join([f"### {title}", "", *lines]))
    rest = _rest(sorter)
    if rest:
        parts.append("\n".join(["### Other findings", "", *rest]))
    legend = f"{PASS} holds, {FAIL} fails, {INCONCLUSIVE} could not be checked, "
    parts.append(f"{legend}{NOT_CHECKED} not checked (its rules did not run).")
    return "\n\n".join(parts)


def _verified_line(verification: Verification) -> str:
    """The one line that differs between two runs on the same data."""
    report = verification.report
    server = f" (PostgreSQL {report.server_version})" if report.server_version else ""
    when = ""
    if verification.checked_at is not None:
        when = f" on {verification.checked_at.strftime('%Y-%m-%d %H:%M:%S %Z').strip()}"
    target = code_span(report.target_url or "?")
    return f"Verified against {target}{server}{when} in {report.duration_ms} ms."


def verdict(verification: Verification) -> tuple[str, str]:
    report = verification.report
    counts = report.counts()
    shown = ", ".join(
        plural(counts[s.value], s.value) if s is not Severity.INFO else f"{counts[s.value]} info"
        for s in Severity
    )
    shown += f", {len(report.inconclusive)} inconclusive"
    if report.failed(verification.fail_on):
        return FAIL, shown
    return (INCONCLUSIVE if report.inconclusive else PASS), shown


def _table_items(lock: Lock, verification: Verification, sorter: _Sorter) -> list[_Item]:
    checked = verification.rules is None or any(
        code[:3] in ("SL1", "SL3", "SL4") and code not in RELATION_CODES
        for code in verification.rules
    )
    items = []
    for table in lock.database.tables.values():
        item = _Item(code_span(table_name(table.key)), "matches the lock", checked)
        item.findings = sorter.take(_about(table.key))
        item.inconclusive = sorter.take_checks(_about(table.key))
        items.append(item)
    return items


def _relation_items(
    lock: Lock, verification: Verification, sorter: _Sorter, missing: list[Finding]
) -> list[_Item]:
    claims = [claim for code, claim in RELATION_CLAIMS if verification.ran(code)]
    items = []
    for table in lock.database.tables.values():
        # A check that could not finish (an orphan count) names the child table, not the
        # relation: every relation of the table shows it.
        checks = sorter.take_checks(_about(table.key, _RELATION_RULES))
        for fk in table.foreign_keys:
            item = _Item(describe_relation(table, fk), ", ".join(claims), bool(claims))
            item.findings = sorter.take(_of_relation(table, fk))
            # A missing table fails its relations too (they were never compared); its finding
            # stays listed under the table.
            ends = {table.key, (fk.ref_schema, fk.ref_table)}
            item.findings += [f for f in missing if _table_of(f) in ends]
            item.inconclusive = list(checks)
            items.append(item)
    return items


def _flow_items(lock: Lock, verification: Verification, sorter: _Sorter) -> list[_Item]:
    items = []
    for flow in lock.flows:
        for invariant in flow.invariants:
            label = f"flow {invariant.flow}: {invariant.name}"
            item = _Item(
                f"{code_span(flow.name)}: {code_span(invariant.name)} ({invariant.kind})",
                "holds on every row",
                verification.ran(FLOW),
            )
            item.findings = sorter.take(_coded(FLOW, invariant.name, f"{label} "))
            item.inconclusive = sorter.take_checks(_labelled("flow-violation", label))
            items.append(item)
    return items


def _query_items(lock: Lock, verification: Verification, sorter: _Sorter) -> list[_Item]:
    items = []
    for query in lock.queries:
        endpoint = f" ({query.endpoint})" if query.endpoint else ""
        shown = f" ({code_span(query.endpoint)})" if query.endpoint else ""
        item = _Item(
            f"{code_span(query.name)}{shown}",
            "prepares on the live schema",
            verification.ran(QUERY),
        )
        label = f"query {query.name}{endpoint}"
        item.findings = sorter.take(_coded(QUERY, query.name, f"{label} "))
        item.inconclusive = sorter.take_checks(_labelled("query-contract-failed", label))
        items.append(item)
    return items


# Each kind of object beyond tables, as the checklist names it: the model's kinds (KINDS) it
# counts, and the code prefix of the rules that compare them (missing, extra, changed).
OBJECT_KINDS = (
    ("schemas", (), "SL73"),
    ("extensions", ("extension",), "SL75"),
    ("views and materialized views", ("view",), "SL70"),
    ("functions and procedures", ("function",), "SL71"),
    ("triggers", ("trigger",), "SL72"),
    ("sequences", ("sequence",), "SL74"),
    ("row-level security and policies", ("row-level security", "policy"), "SL76"),
    ("privileges", ("grant",), "SL77"),
)


def _object_items(lock: Lock, verification: Verification, sorter: _Sorter) -> list[_Item]:
    """One line per kind the lock declares (or verify found something about): the lock's
    objects of the kind are there as declared, and the database holds no other."""
    kinds = lock.database.kinds()
    items = []
    for label, model_kinds, prefix in OBJECT_KINDS:
        findings = sorter.take(_prefixed(prefix))
        if model_kinds:
            declared = sum(len(kinds[kind]) for kind in model_kinds)
            shown = f"{label}: {declared} declared"
        else:
            declared = len(lock.database.schemas)
            shown = f"{label}: {', '.join(code_span(s) for s in lock.database.schemas)}"
        if not declared and not findings:
            continue
        ran = verification.rules is None or any(c.startswith(prefix) for c in verification.rules)
        item = _Item(shown, "as the lock says, none other", ran)
        item.findings = findings
        items.append(item)
    return items


def _prefixed(prefix: str) -> Callable[[Finding], bool]:
    return lambda finding: finding.code.startswith(prefix)


def _environment_items(verification: Verification, sorter: _Sorter) -> list[_Item]:
    if verification.environment is None:
        return []
    item = _Item(
        f"{code_span(verification.environment)}",
        "the database's host is one the environment allows",
        verification.ran(POLICY),
    )
    item.findings = sorter.take(_coded(POLICY))
    return [item]


def _item(item: _Item, fail_on: Severity) -> str:
    failing = [f for f in item.findings if f.severity.rank >= fail_on.rank]
    if failing:
        head = f"- {FAIL} {item.label}: fails"
    elif item.inconclusive:
        head = f"- {INCONCLUSIVE} {item.label}: could not be checked"
    elif not item.checked:
        head = f"- {NOT_CHECKED} {item.label}: not checked"
    else:
        head = f"- {PASS} {item.label}: {item.passed}"
    lines = [head, *(f"  - {_finding(f)}" for f in _ordered(item.findings))]
    lines += [f"  - inconclusive: {escaped(check.reason)}" for check in item.inconclusive]
    return "\n".join(lines)


def _ordered(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.severity.rank, f.code, f.message))


def _finding(finding: Finding) -> str:
    return f"{finding.severity.value} `{finding.code}` {finding.rule}: {escaped(finding.message)}"


def _rest(sorter: _Sorter) -> list[str]:
    lines = [f"- {_finding(f)}" for f in _ordered(sorter.findings)]
    lines += [
        f"- {INCONCLUSIVE} inconclusive ({check.rule}): {escaped(check.reason)}"
        for check in sorter.inconclusive
    ]
    return lines
