"""`schemalock diff`, the forward-only guard: every kind of change judged (two locks in
memory), acknowledgements, and the pull-request scenario in a real git repository, including a
lock regenerated with `snapshot` from a weakened database."""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from conftest import ROOT, execute, run_cli
from schemalock.app.demo_story import pull_request
from schemalock.check.findings import Finding, Report, Severity
from schemalock.compare import differences as d
from schemalock.errors import LockFileError
from schemalock.guard import Version, diff
from schemalock.guard.schema import HANDLERS
from schemalock.lock import parse_lock

TODAY = date(2026, 6, 1)
SEED = ROOT / "src" / "schemalock" / "seed"
GOLDEN = ROOT / "tests" / "golden"
# The golden files of `diff`, each with the test that compares against it (tests/test_cli.py
# leaves diff_* to this module): test_no_orphaned_diff_goldens holds the table to the folder.
GOLDENS = {
    "diff_seed.txt": "test_golden_text_and_json",
    "diff_seed.json": "test_golden_text_and_json",
}

BASE = """\
version: 1
database: {name: app}
environments:
  production: {require_host: ["*.neon.tech"]}
enums:
  job_status: [pending, running, done]
domains:
  email: {type: text, checks: {has_at: "VALUE ~ '@'"}}
tables:
  organizations:
    critical: true
    purpose: Who pays
    columns:
      id: {type: uuid, primary_key: true}
      slug: {type: "varchar(40)", nullable: false, unique: true, pattern: '^[a-z]+$'}
      plan: {type: text, values: [free, pro]}
      quota: {type: integer, nullable: false}
      contact: {type: email}
    checks:
      quota_nonnegative: quota >= 0
  jobs:
    columns:
      id: {type: uuid, primary_key: true}
      org_id: {type: uuid, nullable: false, references: organizations.id, on_delete: restrict}
      status: {type: job_status}
      note: {type: text, comment: free text}
      created_at: {type: timestamptz, nullable: false}
    indexes:
      jobs_org_idx: {columns: [org_id]}
flows:
  billing:
    path: Jobs -> organizations.quota
    invariants:
      - name: quota_positive
        implies: {table: organizations, when: "true", then: quota > 0}
      - name: no_stuck_jobs
        freshness: {table: jobs, column: created_at, within: 2 hours, where: status = 'running'}
queries:
  stats:
    sql: SELECT count(*) FROM jobs WHERE org_id = $1
    params: [uuid]
"""


def _line(text: str, needle: str) -> int:
    """The line of `text` holding `needle` (exactly one)."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(found) == 1, (needle, found)
    return found[0]


def judge(new_text: str, old_text: str | None = BASE, today: date = TODAY) -> Report:
    new = Version(parse_lock(new_text, "new.yaml"), new_text)
    old = Version(parse_lock(old_text, "old.yaml"), old_text) if old_text is not None else None
    return diff(new, old, "old.yaml", today)


def seen(report: Report) -> list[tuple[str, str]]:
    """(rule, message) of each finding, in the report's order."""
    return [(f.rule, f.message) for f in report.findings]


def changed(old: str, new: str, count: int = 1) -> Report:
    """BASE with `old` replaced by `new` (`count` times), judged against BASE."""
    assert BASE.count(old) == count, old
    return judge(BASE.replace(old, new))


def one(report: Report) -> Finding:
    assert len(report.findings) == 1, seen(report)
    return report.findings[0]


# -- nothing, everything -----------------------------------------------------------------


def test_the_same_lock_reordered_and_reindented_is_no_change() -> None:
    reordered = BASE.replace("      plan: {type: text, values: [free, pro]}\n", "").replace(
        "    columns:\n      id: {type: uuid, primary_key: true}\n      slug:",
        "    columns:\n      plan: {type: text, values: [pro, free]}\n"
        "      id: {type: uuid, primary_key: true}\n      slug:",
    )
    assert reordered != BASE
    assert judge(BASE).findings == []
    assert judge(reordered).findings == []


def test_a_lock_the_base_did_not_have_is_all_progress() -> None:
    report = judge(BASE, None)
    finding = one(report)
    assert finding.rule == "lock-progress"
    assert "the whole lock is new (2 tables, 1 flows, 1 query contracts)" in finding.message
    assert not report.failed(Severity.ERROR)  # info: nothing fails


def test_every_difference_the_comparison_yields_has_a_handler() -> None:
    bases = {d.Difference, d.TableDifference, d.ColumnPairDifference}
    kinds = [
        kind
        for _, kind in inspect.getmembers(d, inspect.isclass)
        if issubclass(kind, d.Difference) and kind not in bases
    ]
    assert [kind.__name__ for kind in kinds if kind not in HANDLERS] == []


# -- tables and columns ------------------------------------------------------------------


def test_a_table_removed_is_a_regression_at_its_line_in_the_base_lock() -> None:
    start = BASE.index("  jobs:\n")
    end = BASE.index("flows:")
    report = judge(BASE[:start] + BASE[end:])
    regressions = [f for f in report.findings if f.rule == "lock-regression"]
    removed = next(f for f in regressions if "table public.jobs removed" in f.message)
    assert (removed.path, removed.lock_line) == ("old.yaml", _line(BASE, "  jobs:"))
    assert report.failed(removed.severity)


def test_a_table_and_a_column_added_are_progress_at_their_new_lines() -> None:
    new = BASE.replace(
        "flows:",
        "  plans:\n    columns:\n      id: {type: uuid, primary_key: true}\nflows:",
    ).replace(
        "      note: {type: text, comment: free text}\n",
        "      note: {type: text, comment: free text}\n      keyword: {type: text}\n",
    )
    report = judge(new)
    assert seen(report) == [
        ("lock-progress", "column public.jobs.keyword added"),
        ("lock-progress", "table public.plans added"),
    ]
    lines = {f.message: (f.path, f.lock_line) for f in report.findings}
    assert lines["table public.plans added"] == (None, _line(new, "  plans:"))


def test_a_column_removed_is_a_regression_and_a_rename_is_not() -> None:
    removed = changed("      note: {type: text, comment: free text}\n", "")
    finding = one(removed)
    assert finding.rule == "lock-regression"
    assert finding.message == "column public.jobs.note removed"
    assert (finding.path, finding.lock_line) == ("old.yaml", _line(BASE, "note:"))
    renamed = changed(
        "      note: {type: text, comment: free text}",
        "      remark: {type: text, comment: free text, renamed_from: note}",
    )
    assert seen(renamed) == [("lock-change", "column public.jobs.remark renamed from note")]


def test_renames_change_no_promise_of_what_names_them() -> None:
    """A table and a column renamed (`renamed_from`): the foreign key into the table, the
    key and the index on the column follow them, and only the renames are reported."""
    new = (
        BASE.replace("  organizations:\n", "  orgs:\n    renamed_from: organizations\n")
        .replace("references: organizations.id", "references: orgs.id")
        .replace("table: organizations,", "table: orgs,")
        .replace(
            "org_id: {type: uuid, nullable: false, references: orgs.id",
            "owner_id: {type: uuid, nullable: false, renamed_from: org_id, references: orgs.id",
        )
        .replace("jobs_org_idx: {columns: [org_id]}", "jobs_org_idx: {columns: [owner_id]}")
        .replace("FROM jobs WHERE org_id = $1", "FROM jobs WHERE owner_id = $1")
    )
    report = judge(new)
    # The invariant on the renamed table and the query on the renamed column are read
    # through the renames: the same promises.
    assert sorted(seen(report)) == [
        ("lock-change", "column public.jobs.owner_id renamed from org_id"),
        ("lock-change", "table public.orgs renamed from organizations"),
    ]
    # A query still naming the old column is another query (it would fail): the base's
    # query is shown as the renames make it.
    stale = judge(new.replace("WHERE owner_id = $1", "WHERE org_id = $1"))
    assert [f.message for f in stale.findings if f.rule == "lock-regression"] == [
        "queries.stats.sql: 'SELECT count(*) FROM jobs WHERE owner_id = $1' -> "
        "'SELECT count(*) FROM jobs WHERE org_id = $1': the contract checks another query"
    ]


@pytest.mark.parametrize(
    ("old", "new", "rule", "why"),
    [
        ("org_id: {type: uuid,", "org_id: {type: text,", "lock-regression", "any text is accepted"),
        ('slug: {type: "varchar(40)"', "slug: {type: text", "lock-regression", "longer than 40"),
        ('slug: {type: "varchar(40)"', 'slug: {type: "varchar(20)"', "lock-progress", "at most 20"),
        ("quota: {type: integer", "quota: {type: bigint", "lock-change", "wider range"),
        ("quota: {type: integer", 'quota: {type: "numeric(10,2)"', "lock-regression", "fractions"),
        ("status: {type: job_status}", "status: {type: text}", "lock-regression", "any text"),
        ("note: {type: text", "note: {type: uuid", "lock-progress", "must now be uuid"),
        ("contact: {type: email}", "contact: {type: text}", "lock-regression", "domain email"),
        ("created_at: {type: timestamptz", "created_at: {type: timestamp", "lock-change", "same"),
    ],
)
def test_a_type_change_is_judged_by_what_it_guarantees(
    old: str, new: str, rule: str, why: str
) -> None:
    finding = one(changed(old, new))
    assert finding.rule == rule
    assert why in finding.message
    assert finding.path is None  # the column is still there: its line in the new lock


def test_not_null_dropped_is_a_regression_and_added_is_progress() -> None:
    dropped = one(changed("quota: {type: integer, nullable: false}", "quota: {type: integer}"))
    assert (dropped.rule, dropped.expected, dropped.actual) == ("lock-regression", False, True)
    assert dropped.message.startswith("critical column public.organizations.quota: NOT NULL")
    added = one(changed("note: {type: text,", "note: {type: text, nullable: false,"))
    assert added.rule == "lock-progress"


def test_defaults_and_comments_are_neutral() -> None:
    report = changed(
        "note: {type: text, comment: free text}", "note: {type: text, default: \"''\"}"
    )
    assert sorted(f.rule for f in report.findings) == ["lock-change", "lock-change"]
    assert {f.column for f in report.findings} == {"note"}


# -- keys, checks, indexes ---------------------------------------------------------------


def test_a_relation_removed_is_a_regression_at_its_base_line() -> None:
    finding = one(
        changed(
            "org_id: {type: uuid, nullable: false, references: organizations.id, "
            "on_delete: restrict}",
            "org_id: {type: uuid, nullable: false}",
        )
    )
    assert finding.rule == "lock-regression"
    assert "foreign key (org_id) -> public.organizations(id) removed" in finding.message
    assert (finding.path, finding.lock_line, finding.column) == (
        "old.yaml",
        _line(BASE, "org_id: {type: uuid"),
        "org_id",
    )


def test_a_destructive_on_delete_is_a_regression() -> None:
    finding = one(changed("on_delete: restrict", "on_delete: cascade"))
    assert finding.rule == "lock-regression"
    assert "on_delete cascade, was restrict" in finding.message


def test_a_key_marked_not_validated_is_a_regression() -> None:
    new = BASE.replace(
        "      org_id: {type: uuid, nullable: false, references: organizations.id, "
        "on_delete: restrict}",
        "      org_id: {type: uuid, nullable: false}",
    ).replace(
        "    indexes:\n      jobs_org_idx",
        "    foreign_keys:\n      jobs_org_fkey: {columns: [org_id], references: {table: "
        "organizations, columns: [id]}, on_delete: restrict, validated: false}\n"
        "    indexes:\n      jobs_org_idx",
    )
    report = judge(new)
    assert [f.rule for f in report.findings] == ["lock-regression"]
    assert "marked validated: false" in report.findings[0].message
    # ...and marking it validated again is progress.
    assert [f.rule for f in judge(BASE, new).findings] == ["lock-progress"]


def test_uniques_checks_and_indexes() -> None:
    unique = one(changed("nullable: false, unique: true,", "nullable: false,"))
    assert (unique.rule, unique.path) == ("lock-regression", "old.yaml")
    check_removed = one(changed("    checks:\n      quota_nonnegative: quota >= 0\n", ""))
    assert check_removed.rule == "lock-regression"
    assert check_removed.message.startswith("critical table public.organizations: check")
    check_changed = one(changed("quota_nonnegative: quota >= 0", "quota_nonnegative: quota >= -1"))
    assert (check_changed.rule, check_changed.path) == ("lock-regression", None)
    check_added = one(changed("quota >= 0\n", "quota >= 0\n      slug_short: length(slug) < 30\n"))
    assert check_added.rule == "lock-progress"
    index_removed = one(changed("    indexes:\n      jobs_org_idx: {columns: [org_id]}\n", ""))
    assert (index_removed.rule, index_removed.path) == ("lock-regression", "old.yaml")
    renamed = one(changed("jobs_org_idx:", "jobs_by_org:"))
    assert (renamed.rule, renamed.message) == (
        "lock-change",
        "table public.jobs: index jobs_by_org renamed from jobs_org_idx",
    )


def test_a_unique_reordered_is_neutral_and_an_index_redefined_is_one_change() -> None:
    two = BASE.replace("      contact: {type: email}\n",
                       "      contact: {type: email}\n"
                       "    unique:\n      slug_plan: {columns: [slug, plan]}\n")  # fmt: skip
    reordered = judge(two.replace("[slug, plan]", "[plan, slug]"), two)
    assert [f.rule for f in reordered.findings] == ["lock-change"]
    assert "the same uniqueness" in reordered.findings[0].message
    redefined = one(
        changed("jobs_org_idx: {columns: [org_id]}", "jobs_org_idx: {columns: [org_id, status]}")
    )
    assert (redefined.rule, redefined.path) == ("lock-change", None)
    assert "index jobs_org_idx is btree (org_id, status), was btree (org_id)" in redefined.message
    unique = BASE.replace("{columns: [org_id]}", "{columns: [org_id], unique: true}")
    no_longer = one(
        judge(BASE.replace("{columns: [org_id]}", "{columns: [org_id, status]}"), unique)
    )
    assert no_longer.rule == "lock-regression"
    assert "no longer unique" in no_longer.message


def test_enum_and_domain_changes() -> None:
    widened = one(changed("[pending, running, done]", "[pending, running, done, lost]"))
    assert (widened.rule, widened.message) == (
        "lock-regression",
        "enum public.job_status: 'lost' accepted now",
    )
    narrowed = one(changed("[pending, running, done]", "[pending, running]"))
    assert narrowed.rule == "lock-progress"
    reordered = one(changed("[pending, running, done]", "[running, pending, done]"))
    assert reordered.rule == "lock-change"
    check = one(
        changed("email: {type: text, checks: {has_at: \"VALUE ~ '@'\"}}", "email: {type: text}")
    )
    assert check.rule == "lock-regression"
    assert "domain public.email: check has_at" in check.message


# -- data rules and documentation (deepdiff) ---------------------------------------------


def test_patterns() -> None:
    removed = one(changed(", pattern: '^[a-z]+$'", ""))
    assert (removed.rule, removed.column) == ("lock-regression", "slug")
    assert removed.message.startswith("critical: tables.public.organizations.columns.slug.pattern")
    assert removed.lock_line == _line(BASE, "slug:")  # the column, still in the new lock
    loosened = one(changed("'^[a-z]+$'", "'^[a-z0-9]+$'"))
    assert loosened.rule == "lock-regression"
    assert "not provably narrower" in loosened.message
    added = one(changed("note: {type: text,", "note: {type: text, pattern: '^.{0,200}$',"))
    assert added.rule == "lock-progress"


def test_accepted_values_widened_narrowed_added_removed() -> None:
    widened = one(changed("values: [free, pro]", "values: [free, pro, team]"))
    assert widened.rule == "lock-regression"
    assert "'team' accepted now: the accepted values widened" in widened.message
    narrowed = one(changed("values: [free, pro]", "values: [pro]"))
    assert (narrowed.rule, narrowed.expected, narrowed.actual) == (
        "lock-progress",
        "free",
        None,
    )
    dropped = one(changed("plan: {type: text, values: [free, pro]}", "plan: {type: text}"))
    assert (dropped.rule, dropped.expected) == ("lock-regression", ["free", "pro"])
    added = one(changed("status: {type: job_status}", "status: {type: job_status, values: [done]}"))
    assert added.rule == "lock-progress"


def test_mock_data_off_and_critical_removed_are_regressions() -> None:
    mock = one(changed("note: {type: text,", "note: {type: text, mock_data: false,"))
    assert mock.rule == "lock-regression"
    assert "mock-data scan is off" in mock.message
    assert mock.column == "note"
    critical = one(changed("    critical: true\n", ""))
    assert critical.rule == "lock-regression"
    assert "no longer marked critical" in critical.message
    assert judge(BASE, BASE.replace("    critical: true\n", "")).findings[0].rule == (
        "lock-progress"
    )


def test_text_is_neutral() -> None:
    report = changed("purpose: Who pays", "purpose: Who pays, monthly")
    assert [f.rule for f in report.findings] == ["lock-change"]
    assert report.findings[0].table == "organizations"
    legacy = BASE.replace("    purpose: Who pays\n", "    purpose: Who pays\n    legacy: true\n")
    [dropped] = seen(judge(BASE, legacy))
    assert dropped == ("lock-change", "tables.public.organizations.legacy: no longer legacy")


def test_flows_and_invariants() -> None:
    start, end = BASE.index("flows:"), BASE.index("queries:")
    removed = judge(BASE[:start] + BASE[end:])
    finding = one(removed)
    assert finding.rule == "lock-regression"
    assert finding.message == "flows.billing: flow removed, with 2 invariants"
    assert (finding.path, finding.lock_line) == ("old.yaml", _line(BASE, "  billing:"))

    invariant = BASE.index("      - name: quota_positive")
    one_removed = judge(BASE[:invariant] + BASE[BASE.index("      - name: no_stuck_jobs") :])
    finding = one(one_removed)
    assert finding.message == "flows.billing.invariants.quota_positive: invariant removed"
    assert (finding.table, finding.constraint) == ("organizations", "quota_positive")
    assert finding.lock_line == _line(BASE, "- name: quota_positive")

    weaker = one(changed("then: quota > 0", "then: quota >= 0"))
    assert weaker.rule == "lock-regression"
    assert "checks something else" in weaker.message
    shorter = one(changed("within: 2 hours", "within: 30 minutes"))
    assert shorter.rule == "lock-progress"
    longer = one(changed("within: 2 hours", "within: 1 day"))
    assert longer.rule == "lock-regression"


def test_query_contracts() -> None:
    removed = one(judge(BASE[: BASE.index("queries:")]))
    assert (removed.rule, removed.constraint, removed.path) == (
        "lock-regression",
        "stats",
        "old.yaml",
    )
    params = one(changed("params: [uuid]", "params: [text]"))
    assert params.rule == "lock-regression"
    assert (params.expected, params.actual) == ("uuid", "text")
    described = one(changed("    params: [uuid]\n", "    params: [uuid]\n    description: x\n"))
    assert described.rule == "lock-change"


def test_environments_and_ignored_tables() -> None:
    removed = one(
        changed('environments:\n  production: {require_host: ["*.neon.tech"]}', "environments: {}")
    )
    assert (removed.rule, removed.constraint) == ("lock-regression", "production")
    wider = one(changed('["*.neon.tech"]', '["*.neon.tech", "localhost"]'))
    assert wider.rule == "lock-regression"
    narrower = judge(BASE, BASE.replace('["*.neon.tech"]', '["*.neon.tech", "localhost"]'))
    assert [f.rule for f in narrower.findings] == ["lock-progress"]
    # `ignore:` added is a regression, and hides nothing: the table it names, dropped from
    # the lock in the same change, is still reported.
    start, end = BASE.index("  jobs:\n"), BASE.index("flows:")
    hidden = BASE[:start].replace("database: {name: app}", "database: {name: app, ignore: [jobs]}")
    report = judge(hidden + BASE[end:])
    messages = [f.message for f in report.findings if f.rule == "lock-regression"]
    assert "table public.jobs removed" in messages
    assert any(m.startswith("database.ignore: 'jobs' added") for m in messages)
    ignored = next(f for f in report.findings if f.message.startswith("database.ignore"))
    assert ignored.lock_line == _line(hidden, "database:")


# -- every entry removed is its own regression (deepdiff's section-level reports) -------

MANY = (
    BASE.replace(
        "database: {name: app}", "database: {name: app, schemas: [public, billing, audit]}"
    )
    .replace(
        '  production: {require_host: ["*.neon.tech"]}\n',
        '  production: {require_host: ["*.neon.tech"]}\n'
        '  staging: {require_host: ["*.staging.example"]}\n'
        '  preview: {require_host: ["*.preview.example"]}\n',
    )
    .replace(
        "queries:\n",
        "  audit:\n    path: a -> b\n    invariants:\n"
        "      - name: quota_small\n"
        "        implies: {table: organizations, when: 'true', then: quota < 100}\n"
        "  archive:\n    path: c -> d\n"
        "queries:\n",
    )
    + "  by_org:\n    sql: SELECT id FROM jobs WHERE org_id = $1\n    params: [uuid]\n"
    + "  recent:\n    sql: SELECT id FROM jobs ORDER BY created_at DESC\n"
)


def _without(text: str, start: str, end: str) -> str:
    return text[: text.index(start)] + text[text.index(end) :]


def _regressions(report: Report) -> list[str]:
    return sorted(f.message for f in report.findings if f.rule == "lock-regression")


def test_many_entries_removed_are_each_a_regression() -> None:
    assert judge(MANY, MANY).findings == []
    flows = judge(_without(MANY, "flows:", "queries:"), MANY)
    assert _regressions(flows) == [
        "flows.archive: flow removed",
        "flows.audit: flow removed, with 1 invariant",
        "flows.billing: flow removed, with 2 invariants",
    ]
    assert all(f.path == "old.yaml" and f.lock_line for f in flows.findings)
    queries = judge(MANY[: MANY.index("queries:")], MANY)
    assert _regressions(queries) == [
        "queries.by_org: query contract removed",
        "queries.recent: query contract removed",
        "queries.stats: query contract removed",
    ]
    assert queries.failed(Severity.ERROR)
    environments = judge(
        MANY[: MANY.index("  production:")].replace("environments:", "environments: {}")
        + MANY[MANY.index("enums:") :],
        MANY,
    )
    assert _regressions(environments) == [
        "environments.preview: environment removed",
        "environments.production: environment removed",
        "environments.staging: environment removed",
    ]
    invariants = judge(
        _without(MANY, "      - name: quota_positive", "  audit:").replace(
            "    invariants:\n  audit:", "    invariants: []\n  audit:"
        ),
        MANY,
    )
    assert _regressions(invariants) == [
        "flows.billing.invariants.no_stuck_jobs: invariant removed",
        "flows.billing.invariants.quota_positive: invariant removed",
    ]


def test_the_database_block_removed_is_judged_key_by_key() -> None:
    report = judge(
        MANY.replace("database: {name: app, schemas: [public, billing, audit]}\n", ""), MANY
    )
    assert _regressions(report) == [
        "database.schemas: 'audit' no longer covered",
        "database.schemas: 'billing' no longer covered",
    ]
    assert ("lock-change", "database.name: removed") in seen(report)


def test_a_container_replaced_whole_is_broken_down() -> None:
    """Whatever shape deepdiff reports, a whole section, dict or set replaced is judged
    entry by entry, and a path the guard does not know is a regression, never neutral."""
    from schemalock.guard.changes import Kind
    from schemalock.guard.declarations import Form
    from schemalock.guard.judging import Event, _judge, expanded

    replaced = Event(("flows",), "changed", False, {"a": {"path": "x"}, "b": {"path": "y"}}, {})
    assert [(e.path, e.happened) for e in expanded(replaced)] == [
        (("flows", "a"), "removed"),
        (("flows", "b"), "removed"),
    ]
    gone = Event(("database",), "removed", False, {"schemas": frozenset({"a"}), "name": "n"}, None)
    assert [(e.path, e.happened, e.element) for e in expanded(gone)] == [
        (("database", "name"), "removed", False),
        (("database", "schemas"), "removed", True),
    ]
    unknown = Event(("somewhere", "new"), "changed", False, 1, 2)
    assert _judge(unknown, Form(), Form())[0] is Kind.REGRESSION


# -- waivers the pull request adds or changes ------------------------------------------


def test_several_waivers_added_are_each_a_regression() -> None:
    report = judge(
        BASE
        + _waivers(
            "{rule: extra-table, object: public.orgs, reason: consolidation}",
            "{rule: integrity, object: 'public.jobs.*', reason: cleanup}",
        )
    )
    assert sorted((f.message, f.waived) for f in report.findings) == [
        ("waivers.extra-table on public.orgs: waiver added", "consolidation"),
        ("waivers.integrity on public.jobs.*: waiver added", "cleanup"),
    ]


def test_a_blanket_waiver_added_is_a_regression_nothing_acknowledges() -> None:
    report = judge(
        BASE
        + _waivers(
            "{rule: structure, object: '*', reason: quiet}",
            "{rule: regression, object: '*', reason: and this too}",
        )
    )
    [finding] = [f for f in report.findings if f.rule == "lock-regression"]
    assert "a blanket waiver: name the objects it waives" in finding.message
    assert finding.waived is None
    assert report.failed(Severity.ERROR)
    # The same blanket inherited from the base is no change.
    blanket = _waivers("{rule: structure, object: '*', reason: quiet}")
    assert judge(BASE + blanket, BASE + blanket).findings == []


def test_a_waiver_widened_is_a_regression_and_narrowed_is_shown() -> None:
    narrow = _waivers("{rule: extra-table, object: public.orgs, reason: pending}")
    wide = _waivers("{rule: extra-table, object: 'public.*', reason: pending}")
    widened = judge(BASE + wide, BASE + narrow)
    assert sorted((f.rule, f.message) for f in widened.findings) == [
        ("lock-progress", "waivers.extra-table on public.orgs: waiver removed: what it accepted "
         "counts again"),
        ("lock-regression", "waivers.extra-table on public.*: waiver added"),
    ]  # fmt: skip
    other_rule = judge(BASE + narrow.replace("rule: extra-table", "rule: structure"), BASE + narrow)
    assert "waivers.structure on public.orgs: waiver added" in _regressions(other_rule)


def test_only_an_exact_regression_waiver_acknowledges() -> None:
    """`regression`, SL601 or lock-regression acknowledge; another category does not (it is
    a waiver added, a regression of its own); a code prefix does not load."""
    for rule in ("regression", "SL601", "sl601", "lock-regression"):
        waiver = _waivers(f"{{rule: {rule}, object: public.jobs.note, reason: ok}}")
        note = next(f for f in judge(LOOSER + waiver).findings if f.column == "note")
        assert note.waived == "ok", rule
    other = judge(LOOSER + _waivers("{rule: data, object: public.jobs.note, reason: ok}"))
    note = next(f for f in other.findings if f.column == "note")
    assert note.waived is None
    assert "waivers.data on public.jobs.note: waiver added" in [f.message for f in other.findings]
    with pytest.raises(LockFileError, match="'SL6' is a code prefix"):
        parse_lock(LOOSER + _waivers("{rule: SL6, object: '*', reason: ok}"))


def test_an_inherited_waiver_edited_acknowledges_nothing() -> None:
    old = _waivers("{rule: regression, object: '*', reason: old blanket}")
    for edited in (
        "{rule: regression, object: '*', reason: old blanket, owner: me}",
        "{rule: regression, object: '*', reason: old blanket.}",
        "{rule: regression, object: '*', reason: old blanket, expires: 2999-01-01}",
        "{rule: Regression, object: '*', reason: x}",
    ):
        report = judge(LOOSER + _waivers(edited), BASE + old)
        assert [f.waived for f in report.counted if f.rule == "lock-regression"] == [
            None,
            None,
        ], edited
    # Text-only edits of an ordinary waiver are neutral.
    plain = _waivers("{rule: extra-table, object: public.orgs, reason: pending}")
    owned = plain.replace("reason: pending}", "reason: pending (INC-1), owner: data}")
    assert sorted(f.rule for f in judge(BASE + owned, BASE + plain).findings) == [
        "lock-change",
        "lock-change",
    ]


# -- SQL compared as parsed, renames, durations --------------------------------------------


def test_sql_is_compared_on_its_parse_tree() -> None:
    assert changed("then: quota > 0", "then: (quota>0)").findings == []
    assert (
        changed(
            "sql: SELECT count(*) FROM jobs WHERE org_id = $1",
            "sql: select COUNT(*) from jobs where (org_id = $1);",
        ).findings
        == []
    )
    assert changed("then: quota > 0", "then: quota >= 0").findings != []


def test_a_freshness_limit_is_compared_as_a_duration() -> None:
    same = one(changed("within: 2 hours", "within: 120 minutes"))
    assert (same.rule, same.message.endswith("the same limit")) == ("lock-change", True)


# -- acknowledging -----------------------------------------------------------------------

LOOSER = BASE.replace("values: [free, pro]", "values: [free, pro, team]").replace(
    "note: {type: text,", "note: {type: text, mock_data: false,"
)


def _waivers(*entries: str) -> str:
    return "waivers:\n" + "".join(f"  - {entry}\n" for entry in entries)


def test_a_waiver_the_change_adds_acknowledges_a_regression() -> None:
    report = judge(
        LOOSER + _waivers("{rule: regression, object: public.jobs.note, reason: sandbox rows}")
    )
    by_column = {f.column: f for f in report.findings}
    assert by_column["note"].waived == "sandbox rows"
    assert by_column["plan"].waived is None  # critical, and not named
    assert report.failed(by_column["plan"].severity)
    assert len(report.counted) == 1


def test_a_waiver_the_base_already_had_acknowledges_nothing() -> None:
    waiver = _waivers("{rule: regression, object: '*', reason: anything goes}")
    report = judge(LOOSER + waiver, BASE + waiver)
    assert [f.waived for f in report.findings] == [None, None]
    assert len(report.counted) == 2


def test_an_expired_waiver_acknowledges_nothing_and_says_so() -> None:
    waiver = "{rule: lock-regression, object: public.jobs.note, reason: x, expires: 2026-05-01}"
    report = judge(LOOSER + _waivers(waiver))
    assert sorted(f.rule for f in report.counted) == [
        "expired-waiver",
        "lock-regression",
        "lock-regression",
    ]


def test_a_critical_regression_needs_its_exact_name() -> None:
    glob = judge(LOOSER + _waivers("{rule: regression, object: 'public.*', reason: broad}"))
    plan = next(f for f in glob.findings if f.column == "plan")
    assert plan.waived is None
    assert "a glob acknowledges no critical regression: name public.organizations.plan" in (
        plan.message
    )
    note = next(f for f in glob.findings if f.column == "note")
    assert note.waived == "broad"  # jobs is not critical: the glob will do
    exact = judge(
        LOOSER + _waivers("{rule: SL601, object: public.organizations.plan, reason: team plan}")
    )
    assert next(f for f in exact.findings if f.column == "plan").waived == "team plan"


def test_a_waiver_added_is_a_regression_its_reason_accepts_and_removing_it_progress() -> None:
    waiver = _waivers("{rule: extra-table, object: public.orgs, reason: consolidation pending}")
    added = one(judge(BASE + waiver))
    assert (added.rule, added.waived) == ("lock-regression", "consolidation pending")
    assert added.lock_line == _line(BASE + waiver, "extra-table")
    removed = one(judge(BASE, BASE + waiver))
    assert removed.rule == "lock-progress"


# -- the pull request, in a git repository ----------------------------------------------


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository whose first commit is the seed lock (with its check file), in
    `db/`; the user's git configuration left out."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    root = tmp_path / "repo"
    (root / "db").mkdir(parents=True)
    shutil.copy(SEED / "schema_lock.yaml", root / "db" / "schema_lock.yaml")
    shutil.copytree(SEED / "checks", root / "db" / "checks")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "the seed lock")
    return root


SEED_ORG_ID = (
    "      org_id: {type: uuid, nullable: false, references: organizations.id, "
    "on_delete: cascade, comment: The organization that ran the job}"
)
WEAK_ORG_ID = "      org_id: {type: text, comment: The organization that ran the job}"


def _commit_edit(repo: Path, old: str, new: str, message: str = "the change") -> str:
    lock = repo / "db" / "schema_lock.yaml"
    text = lock.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    lock.write_text(text.replace(old, new), encoding="utf-8")
    _git(repo, "commit", "-q", "-am", message)
    return str(lock)


def test_pr_a_regression_is_caught_with_its_line(repo: Path) -> None:
    base = (SEED / "schema_lock.yaml").read_text(encoding="utf-8")
    lock = _commit_edit(repo, SEED_ORG_ID, WEAK_ORG_ID)
    result = run_cli("diff", "--base", "HEAD~1", "--lock", lock)
    assert result.exit_code == 1, result.stdout + result.stderr
    out = result.stdout
    line = _line(base, SEED_ORG_ID.strip())
    # The type and NOT NULL at the new lock's line, the relation at the base lock's.
    assert "type uuid -> text: any text is accepted, no longer only uuid values" in out
    assert f"[lock-regression {lock}:{line}]" in out
    assert "foreign key (org_id) -> public.organizations(id) removed" in out
    assert f"[lock-regression HEAD~1:db/schema_lock.yaml:{line}]" in out
    assert out.index("Regressions (3)") < out.index("public.jobs")
    assert "critical column public.jobs.org_id" in out  # jobs is critical: said so
    assert "3 regressions, 0 progress, 0 other changes since HEAD~1:db/schema_lock.yaml" in out


def test_pr_a_removal_is_annotated_on_the_pull_request_s_lock(repo: Path) -> None:
    """A removed relation has no line in the pull request's lock, and `HEAD~1:...` is no file
    of the pull request: GitHub, GitLab and SARIF point at the new lock itself, no line, and
    say where it was."""
    lock = _commit_edit(repo, SEED_ORG_ID, WEAK_ORG_ID)
    github = run_cli("diff", "--base", "HEAD~1", "--lock", lock, "--format", "github")
    [removal] = [a for a in github.stdout.splitlines() if "removed" in a and "foreign key" in a]
    assert removal.startswith(f"::error file={lock},title="), removal
    assert "line=" not in removal.split("::")[1]
    assert "(removed from HEAD~1%3Adb/schema_lock.yaml%3A" not in removal  # data: ':' kept
    assert "(removed from HEAD~1:db/schema_lock.yaml:" in removal
    gitlab = run_cli("diff", "--base", "HEAD~1", "--lock", lock, "--format", "gitlab")
    paths = {issue["location"]["path"] for issue in json.loads(gitlab.stdout)}
    assert paths == {lock}
    sarif = run_cli("diff", "--base", "HEAD~1", "--lock", lock, "--format", "sarif")
    [run] = json.loads(sarif.stdout)["runs"]
    located = [r["locations"][0]["physicalLocation"] for r in run["results"]]
    uris = {physical["artifactLocation"]["uri"] for physical in located}
    assert not any("HEAD~1" in uri for uri in uris), uris


def test_pr_the_same_regression_accepted_with_a_reason(repo: Path) -> None:
    lock = _commit_edit(
        repo,
        SEED_ORG_ID,
        WEAK_ORG_ID,
    )
    text = Path(lock).read_text(encoding="utf-8")
    Path(lock).write_text(
        text
        + _waivers(
            "{rule: regression, object: public.jobs.org_id, reason: jobs keep Clerk ids until "
            "the API migrates (ADR 12)}"
        ),
        encoding="utf-8",
    )
    _git(repo, "commit", "-q", "-am", "acknowledged")
    result = run_cli("diff", "--base", "HEAD~2", "--lock", lock, "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    reasons = {f["message"]: f["waived"] for f in report["findings"]}
    assert len(reasons) == 3
    assert set(reasons.values()) == {"jobs keep Clerk ids until the API migrates (ADR 12)"}
    # The acknowledgement must come with the change: against the previous commit, which
    # already holds it, the regression is no change at all, and the waiver acknowledges
    # nothing (a warning that it is stale).
    later = run_cli("diff", "--base", "HEAD~1", "--lock", lock)
    assert later.exit_code == 0
    assert "Regressions" not in later.stdout
    assert "Acknowledged regressions (3)" not in later.stdout


def test_pr_progress_passes(repo: Path) -> None:
    lock = _commit_edit(
        repo,
        "      type: {type: text, nullable: false, comment: Job category (search/analysis/etc)}",
        "      type: {type: text, nullable: false, values: [search, analysis], comment: Job "
        "category (search/analysis/etc)}",
    )
    result = run_cli("diff", "--base", "HEAD~1", "--lock", lock)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Progress (1)" in result.stdout
    assert "accepted values ['analysis', 'search'] added" in result.stdout
    assert "0 regressions, 1 progress, 0 other changes" in result.stdout


def test_pr_a_check_file_changed_at_the_commit_is_read_from_the_commit(repo: Path) -> None:
    check = repo / "db" / "checks" / "one_active_subscription.sql"
    check.write_text("SELECT 1 WHERE false\n", encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "weaker check")
    result = run_cli("diff", "--base", "HEAD~1", "--lock", str(repo / "db" / "schema_lock.yaml"))
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "invariants.one_active_subscription.check.sql" in result.stdout


def test_two_files(tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    new = tmp_path / "new.yaml"
    old.write_text(BASE, encoding="utf-8")
    new.write_text(LOOSER, encoding="utf-8")
    result = run_cli("diff", str(old), str(new))
    assert result.exit_code == 1
    assert f"{new}:{_line(LOOSER, 'plan:')}" in result.stdout
    assert run_cli("diff", str(old), str(old)).stdout.startswith("No changes since")


def test_bad_input_is_one_line_and_exit_2(repo: Path, tmp_path: Path) -> None:
    lock = str(repo / "db" / "schema_lock.yaml")

    def error(*args: str) -> str:
        result = run_cli("diff", *args)
        assert result.exit_code == 2, result.stdout + result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        return result.stderr

    assert "--base nope: no such commit" in error("--base", "nope", "--lock", lock)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "schema_lock.yaml").write_text(BASE, encoding="utf-8")
    assert "not in a git repository" in error(
        "--base", "main", "--lock", str(elsewhere / "schema_lock.yaml")
    )
    assert "give --base REF" in error()
    assert "not both" in error("--base", "main", lock, lock)
    assert "two lock files" in error(lock)
    # An invalid lock at the base: named by ref, path, line and column.
    bad = _commit_edit(repo, "expected_tables: 12", "expected_tables: many")
    _commit_edit(repo, "expected_tables: many", "expected_tables: 12")
    message = error("--base", "HEAD~1", "--lock", bad)
    line = _line((SEED / "schema_lock.yaml").read_text(encoding="utf-8"), "expected_tables: 12")
    assert f"HEAD~1:db/schema_lock.yaml:{line}:3: database.expected_tables: " in message


def test_verify_and_lint_never_run_the_guard_rules(tmp_path: Path) -> None:
    lock = tmp_path / "schema_lock.yaml"
    lock.write_text(BASE, encoding="utf-8")
    assert run_cli("lint", "--lock", str(lock)).exit_code == 0
    refused = run_cli("lint", "--lock", str(lock), "--select", "regression")
    assert refused.exit_code == 2
    assert "rules of `schemalock diff`" in refused.stderr
    # In the catalogue like any rule, marked as diff's.
    assert "(error, regression, diff only)" in run_cli("explain", "SL601").stdout


def test_a_lock_not_in_the_base_commit_is_new(repo: Path, tmp_path: Path) -> None:
    """No lock at all in the base commit: all progress.  A base commit that holds a lock
    elsewhere refuses (exit 2), naming it for --base-lock; `--base-lock ''` says it is new."""
    bare = tmp_path / "bare"
    bare.mkdir()
    _git(bare, "init", "-q", "-b", "main")
    (bare / "README").write_text("x\n", encoding="utf-8")
    _git(bare, "add", ".")
    _git(bare, "commit", "-q", "-m", "no lock yet")
    (bare / "schema_lock.yaml").write_text(BASE, encoding="utf-8")
    result = run_cli("diff", "--base", "HEAD", "--lock", str(bare / "schema_lock.yaml"))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "no lock at HEAD:schema_lock.yaml: the whole lock is new" in result.stdout

    other = repo / "db" / "other.yaml"
    other.write_text(BASE, encoding="utf-8")
    refused = run_cli("diff", "--base", "HEAD", "--lock", str(other))
    assert refused.exit_code == 2, refused.stdout + refused.stderr
    assert refused.stderr.count("\n") == 1
    assert (
        "no lock at HEAD:db/other.yaml, but HEAD holds a lock at db/schema_lock.yaml: pass "
        "--base-lock 'db/schema_lock.yaml'" in refused.stderr
    )
    new = run_cli("diff", "--base", "HEAD", "--lock", str(other), "--base-lock", "")
    assert new.exit_code == 0
    assert "the whole lock is new" in new.stdout
    named = run_cli(
        "diff", "--base", "HEAD", "--lock", str(other), "--base-lock", "db/schema_lock.yaml"
    )
    assert named.exit_code == 1  # BASE against the seed: tables removed
    assert "since HEAD:db/schema_lock.yaml" in named.stdout
    missing = run_cli("diff", "--base", "HEAD", "--lock", str(other), "--base-lock", "nope.yaml")
    assert missing.exit_code == 2
    assert "--base-lock nope.yaml: HEAD holds no file nope.yaml" in missing.stderr


def test_a_lock_moved_with_git_mv_is_compared_with_its_old_path(repo: Path) -> None:
    """`git mv` of the lock and its checks, then a weakening: git's rename detection finds
    the base, and the regression is caught."""
    (repo / "db2").mkdir()
    _git(repo, "mv", "db/schema_lock.yaml", "db2/schema_lock.yaml")
    _git(repo, "mv", "db/checks", "db2/checks")
    lock = repo / "db2" / "schema_lock.yaml"
    text = lock.read_text(encoding="utf-8")
    lock.write_text(text.replace(SEED_ORG_ID, WEAK_ORG_ID), encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "moved and weakened")
    result = run_cli("diff", "--base", "HEAD~1", "--lock", str(lock))
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "since HEAD~1:db/schema_lock.yaml" in result.stdout
    assert "foreign key (org_id) -> public.organizations(id) removed" in result.stdout


def test_repairing_an_invalid_base_is_progress(repo: Path) -> None:
    """The base only has to load: a pull request that repairs a dangling reference is not
    a regression for it."""
    good = "references: jobs.id, on_delete: set null"
    bad = _commit_edit(repo, good, "references: jobz.id, on_delete: set null", "invalid base")
    _commit_edit(repo, "references: jobz.id, on_delete: set null", good, "repaired")
    result = run_cli("diff", "--base", "HEAD~1", "--lock", bad)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "repairs the base lock" in result.stdout
    assert "Regressions" not in result.stdout


@pytest.mark.db
def test_pr_the_snapshot_weakening_trick_is_caught(repo: Path, database: str) -> None:
    """A database weakened (a foreign key dropped, a column made nullable) and its lock
    written again by `snapshot`: verify agrees with the database, the guard does not."""
    execute(
        database,
        """CREATE TABLE organizations (id uuid PRIMARY KEY, name text NOT NULL);
           CREATE TABLE jobs (id uuid PRIMARY KEY,
                              org_id uuid NOT NULL REFERENCES organizations (id),
                              keyword text NOT NULL);
           CREATE INDEX jobs_org_id_idx ON jobs (org_id);""",
    )
    lock = str(repo / "db" / "schema_lock.yaml")
    assert run_cli("snapshot", "--database-url", database, "--output", lock).exit_code == 0
    _git(repo, "commit", "-q", "-am", "the lock of the database")
    execute(
        database,
        """ALTER TABLE jobs DROP CONSTRAINT jobs_org_id_fkey;
           ALTER TABLE jobs ALTER COLUMN org_id DROP NOT NULL;""",
    )
    assert run_cli("snapshot", "--database-url", database, "--output", lock).exit_code == 0
    _git(repo, "commit", "-q", "-am", "snapshot again")
    verified = run_cli("verify", "--lock", lock, "--database-url", database)
    assert verified.exit_code == 0, verified.stdout + verified.stderr
    guarded = run_cli("diff", "--base", "HEAD~1", "--lock", lock, "--format", "json")
    assert guarded.exit_code == 1, guarded.stdout + guarded.stderr
    found = {(f["rule"], f["message"]) for f in json.loads(guarded.stdout)["findings"]}
    assert found == {
        (
            "lock-regression",
            "table public.jobs: foreign key (org_id) -> public.organizations(id) removed",
        ),
        ("lock-regression", "column public.jobs.org_id: NOT NULL dropped: it may be NULL now"),
    }


# -- golden output -----------------------------------------------------------------------


def _check_golden(name: str, actual: str) -> None:
    assert name in GOLDENS, f"golden {name} is not in GOLDENS"
    path = GOLDEN / name
    if os.environ.get("SCHEMALOCK_UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing golden {name}: run with SCHEMALOCK_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


def test_golden_text_and_json(tmp_path: Path) -> None:
    """The demo's pull request with one regression acknowledged, one progress and one
    neutral change, as text and as JSON."""
    for folder in ("main", "pr"):
        (tmp_path / folder).mkdir()
        shutil.copytree(SEED / "checks", tmp_path / folder / "checks")
    seed = (SEED / "schema_lock.yaml").read_text(encoding="utf-8")
    old = tmp_path / "main" / "schema_lock.yaml"
    old.write_text(seed, encoding="utf-8")
    changed = pull_request(seed).replace(
        "type: {type: text, nullable: false, comment: Job category (search/analysis/etc)}",
        "type: {type: text, nullable: false, values: [search, analysis], comment: Job category}",
    ) + _waivers(
        "{rule: regression, object: public.quota_usage.job_id, reason: usage rows outlive jobs}"
    )
    new = tmp_path / "pr" / "schema_lock.yaml"
    new.write_text(changed, encoding="utf-8")

    def stable(out: str) -> str:
        out = out.replace(f"{tmp_path}{os.sep}", "")
        out = re.sub(r'"duration_ms": \d+', '"duration_ms": 0', out)
        out = re.sub(r'"sha256": "[0-9a-f]+"', '"sha256": "..."', out)
        return re.sub(r"\(\d+ ms\)", "(0 ms)", out)

    text = run_cli("diff", str(old), str(new))
    assert text.exit_code == 1, text.stdout + text.stderr
    _check_golden("diff_seed.txt", stable(text.stdout))
    as_json = run_cli("diff", str(old), str(new), "--format", "json")
    assert as_json.exit_code == 1
    _check_golden("diff_seed.json", stable(as_json.stdout))
    report = json.loads(as_json.stdout)
    assert report["summary"]["error"] == 4
    assert report["summary"]["waived"] == 1


def test_no_orphaned_diff_goldens() -> None:
    own = {p.name for p in GOLDEN.iterdir() if p.name.startswith("diff_")}
    assert own == set(GOLDENS)
    for name, owner in GOLDENS.items():
        test = globals().get(owner)
        assert callable(test), f"{name}: no test {owner}"
        assert f'_check_golden("{name}"' in inspect.getsource(test), f"{owner} never checks {name}"


def test_renames_reach_sql_only_through_the_table_that_renamed() -> None:
    """`organizations.quota` renamed to `quota_max`: the base's `organizations.quota` and an
    unqualified `quota` over organizations read as the new name; `plans.quota` (another
    table's column of the same name) does not."""
    from schemalock.guard.sqltrees import Renames, expression

    renames = Renames(columns={("public", "organizations"): {"quota": "quota_max"}})
    orgs = [("public", "organizations")]
    assert expression("quota > 0", orgs, renames) == expression("quota_max > 0")
    subquery = "EXISTS (SELECT 1 FROM plans WHERE plans.quota = organizations.quota)"
    assert expression(subquery, orgs, renames) == expression(
        "EXISTS (SELECT 1 FROM plans WHERE plans.quota = organizations.quota_max)"
    )
