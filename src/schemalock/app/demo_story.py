"""The demo's story: the open problems of the seed document, each with the findings verify
must report for it, and how a report fares against them.

`STORY` is the one table of what verify must find: the demo's exit code and tests/test_demo.py
both read it.  An expectation of a rule that cannot report on the lock (not registered, or the
lock lacks its `flows:` or `queries:` section) is told as coming, not missing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from schemalock.check.findings import Finding
from schemalock.model import Lock

# A finding as the story compares it: (rule, table, column, count, constraint).
Observed = tuple[str, str | None, str | None, int | None, str | None]


@dataclass(frozen=True)
class Expect:
    """One finding the story expects, exactly: None means the finding has no table, column
    or count.  `constraint` is compared only where given: it names the flow invariant or the
    query a contract finding is about (other rules put generated names there)."""

    rule: str
    table: str | None = None
    column: str | None = None
    count: int | None = None
    constraint: str | None = None

    def matches(self, observed: Observed) -> bool:
        rule, table, column, count, constraint = observed
        return (self.rule, self.table, self.column, self.count) == (
            rule,
            table,
            column,
            count,
        ) and (self.constraint is None or self.constraint == constraint)


@dataclass(frozen=True)
class Problem:
    """One open problem of the seed document, as demo.sql plants it."""

    key: str  # the letter demo.sql marks it with ("PROBLEM a"); "" for the lock's own
    title: str
    found: str  # what is wrong, in plain words
    why: str  # why it matters
    expect: tuple[Expect, ...]


# Rules that report only what a section of the lock declares: until the seed lock has that
# section, the problems they would show are told as coming, not missing.
COMING = {"flow-violation": "flows", "query-contract-failed": "queries"}

STORY: tuple[Problem, ...] = (
    Problem(
        "a",
        "UUID mismatch (jobs.org_id)",
        "jobs.org_id is text and holds each organization's Clerk id (org_2...) where the lock "
        "wants the uuid of organizations.id: no foreign key can exist, and all 13 jobs point "
        "at no organization.",
        "Every query joining jobs to organizations fails with `operator does not exist: text = "
        "uuid`, the failing stats query of the document, and deleting an organization leaves "
        "its jobs behind. miswired-reference prints the UPDATE that maps the ids.",
        (
            Expect("column-type-mismatch", "jobs", "org_id"),
            Expect("missing-foreign-key", "jobs", "org_id"),
            Expect("fk-type-mismatch", "jobs", "org_id"),
            Expect("fk-orphans", "jobs", "org_id", 13),
            Expect("miswired-reference", "jobs", "org_id", 13),
            # The document's failing stats query, and the jobs list, which fails the same way.
            Expect("query-contract-failed", "jobs", constraint="analyses_stats"),
            Expect("query-contract-failed", "jobs", constraint="jobs_list"),
        ),
    ),
    Problem(
        "b",
        "Relations without a validated foreign key",
        "quota_usage.job_id has no foreign key, and 3 usage rows charge jobs that no longer "
        "exist; subscriptions.org_id's foreign key was added NOT VALID and never validated.",
        "Without a validated constraint PostgreSQL lets rows point at nothing: usage billed "
        "for deleted jobs, and subscription rows nobody ever checked.",
        (
            Expect("missing-foreign-key", "quota_usage", "job_id"),
            Expect("fk-orphans", "quota_usage", "job_id", 3),
            Expect("fk-not-validated", "subscriptions", "org_id"),
        ),
    ),
    Problem(
        "c",
        "Mock data in production",
        'An organization named "Acme Mock Org", its billing record marked "is_test": true, and '
        'the webhook event that created it ("source": "mock", an example.com address).',
        "Fallback data counts in quotas, billing and every statistic as if it were a customer; "
        'the document\'s first checkpoint is "No Mock Data".',
        (
            Expect("mock-data", "organizations", "name", 1),
            Expect("mock-data", "billing_audit", "metadata", 1),
            Expect("mock-data", "webhook_events", "payload", 1),
        ),
    ),
    Problem(
        "d",
        "The legacy orgs table",
        "orgs duplicates organizations, and 2 of its 5 organizations exist only there; the "
        "document never described its columns, so each is reported as not in the lock.",
        "Dropping orgs today loses two customers: copy them into organizations first, then "
        "retire the table.",
        (
            Expect("duplicate-table", "orgs", None, 2),
            *(
                Expect("extra-column", "orgs", column)
                for column in ("id", "clerk_org_id", "name", "plan", "created_at")
            ),
        ),
    ),
    Problem(
        "e",
        "Quota drift",
        "Harbor & Pine Studio's quota_used says 9, but its quota_usage rows add up to 6.",
        "The customer hits its limit early, or is billed, for jobs it never ran.",
        (Expect("flow-violation", "organizations", None, 1, "quota_used_is_the_sum_of_usage"),),
    ),
    Problem(
        "f",
        "A stuck job",
        "An analysis job has been `running` for six hours; Apify runs take minutes.",
        "The customer waits forever, and nothing retries it.",
        (Expect("flow-violation", "jobs", None, 1, "no_job_stuck_running"),),
    ),
    Problem(
        "g",
        "An unprocessed webhook",
        "A Dodo payment event arrived two hours ago and is still processed = false.",
        "A payment the application never applied, and nothing retries unprocessed events.",
        (Expect("flow-violation", "webhook_events", None, 1, "webhooks_processed_promptly"),),
    ),
    Problem(
        "h",
        "A completed job never charged",
        'Northwind\'s "standing desks" search completed, but no quota_usage row charges it.',
        "Free work: quota and billing both miss it.",
        (Expect("flow-violation", "jobs", None, 1, "completed_jobs_are_accounted"),),
    ),
    Problem(
        "",
        "The twelfth table",
        "The document counts 12 tables but describes 11; the lock keeps the claim.",
        "A table in production nobody described: `schemalock snapshot` of the real database "
        "shows which one, and its entry goes into the lock.",
        (Expect("table-count-mismatch"),),
    ),
)


@dataclass
class Outcome:
    """How one problem fared: the findings that showed it, what is missing, what is coming."""

    problem: Problem
    findings: list[Observed]
    missing: list[Expect]
    coming: list[Expect]

    @property
    def status(self) -> str:
        if self.missing:
            return "MISSING"
        return "found" if self.findings else "coming"


def observed(finding: Finding) -> Observed:
    return (finding.rule, finding.table, finding.column, finding.count, finding.constraint)


def active_rules(lock: Lock) -> set[str]:
    """The rules that can report on `lock`: registered, and with their section in the lock."""
    from schemalock.rules import RULES

    missing = {rule for rule, section in COMING.items() if not getattr(lock, section, ())}
    return {rule.name for rule in RULES} - missing


def check_story(
    findings: Sequence[Observed], active: Collection[str]
) -> tuple[list[Outcome], list[Observed]]:
    """Each problem's outcome, and the findings the story does not account for.
    Every expectation claims one finding of its own; one of a rule not `active` is coming."""
    left = list(findings)
    outcomes = []
    for problem in STORY:
        outcome = Outcome(problem, [], [], [])
        for expect in problem.expect:
            if expect.rule not in active:
                outcome.coming.append(expect)
            elif (found := _take(left, expect)) is not None:
                outcome.findings.append(found)
            else:
                outcome.missing.append(expect)
        outcomes.append(outcome)
    return outcomes, left


def _take(findings: list[Observed], expect: Expect) -> Observed | None:
    for index, finding in enumerate(findings):
        if expect.matches(finding):
            return findings.pop(index)
    return None


# -- the guard: the pull request that weakens the lock instead of the database --------------

# The regressions `schemalock diff` must report for `pull_request`, word for word.
CAUGHT: tuple[str, ...] = (
    "critical column public.jobs.org_id: type uuid -> text: any text is accepted, no longer "
    "only uuid values",
    "critical table public.jobs: foreign key (org_id) -> public.organizations(id) removed",
    "table public.quota_usage: foreign key (job_id) -> public.jobs(id) removed",
    "flows.quota_management: flow removed, with 1 invariant",
    "queries.analyses_stats: query contract removed",
)


def pull_request(lock: str) -> str:
    """The seed lock as a tempted team would change it once verify fails: jobs.org_id made
    the text its rows hold (its foreign key gone), quota_usage.job_id's relation dropped, the
    quota flow and the failing stats contract deleted."""
    edits = (
        (
            "org_id: {type: uuid, nullable: false, references: organizations.id, "
            "on_delete: cascade, comment: The organization that ran the job}",
            "org_id: {type: text, nullable: false, comment: The organization that ran the job}",
        ),
        (
            "job_id: {type: uuid, references: jobs.id, on_delete: set null, comment:",
            "job_id: {type: uuid, comment:",
        ),
    )
    for old, new in edits:
        assert lock.count(old) == 1, old
        lock = lock.replace(old, new)
    for start, end in (
        ("  quota_management:\n", "  subscription_billing:\n"),
        ("  analyses_stats:\n", "  jobs_list:\n"),
    ):
        lock = lock[: lock.index(start)] + lock[lock.index(end) :]
    return lock
