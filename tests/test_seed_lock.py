"""The repository's schema_lock.yaml encodes the seed database's document ("Database Schema Lock"):
every table and column it describes, and the 12-versus-11 table discrepancy it leaves open."""

from __future__ import annotations

import json

import jsonschema
import yaml

from conftest import ROOT, run_cli
from schemalock.lock import load_lock

LOCK = str(ROOT / "schema_lock.yaml")

# Copied from the seed document: each table with the columns it lists (orgs lists none).
SEED = {
    "organizations": [
        "id",
        "clerk_org_id",
        "name",
        "quota_used",
        "quota_limit",
        "plan",
        "created_at",
        "updated_at",
    ],
    "jobs": [
        "id",
        "org_id",
        "keyword",
        "status",
        "type",
        "results_count",
        "apify_run_id",
        "created_at",
        "completed_at",
        "metadata",
    ],
    "subscriptions": [
        "id",
        "org_id",
        "dodo_subscription_id",
        "status",
        "plan_id",
        "current_period_start",
        "current_period_end",
        "cancel_at_period_end",
        "created_at",
        "updated_at",
    ],
    "quota_usage": [
        "id",
        "org_id",
        "job_id",
        "usage_amount",
        "usage_type",
        "timestamp",
        "metadata",
    ],
    "webhook_events": [
        "id",
        "source",
        "event_type",
        "payload",
        "processed",
        "processed_at",
        "created_at",
    ],
    "usage": [
        "id",
        "org_id",
        "period_start",
        "period_end",
        "total_usage",
        "usage_type",
        "created_at",
    ],
    "_migrations": ["id", "hash", "created_at"],
    "billing_audit": [
        "id",
        "org_id",
        "transaction_type",
        "amount",
        "currency",
        "dodo_event_id",
        "timestamp",
        "metadata",
    ],
    "orgs": [],
    "plans": ["id", "name", "quota_limit", "price", "dodo_price_id", "features", "active"],
    "billing_downgrade_cancellation": [
        "id",
        "org_id",
        "previous_plan",
        "new_plan",
        "effective_date",
        "reason",
        "created_at",
    ],
}
FOREIGN_KEYS = {  # the document's "FOREIGN KEY to ..." lines
    ("jobs", "org_id"),
    ("subscriptions", "org_id"),
    ("quota_usage", "org_id"),
    ("quota_usage", "job_id"),
    ("usage", "org_id"),
    ("billing_audit", "org_id"),
    ("billing_downgrade_cancellation", "org_id"),
}


def test_lint_reports_only_the_table_count_discrepancy() -> None:
    result = run_cli("lint", "--lock", LOCK, "--format", "json", "--fail-on", "info")
    report = json.loads(result.stdout)
    assert [(f["rule"], f["expected"], f["actual"]) for f in report["findings"]] == [
        ("table-count-mismatch", 12, 11)
    ]


def test_every_documented_table_and_column() -> None:
    database = load_lock(LOCK).database
    tables = {name: [c.name for c in table.columns] for (_, name), table in database.tables.items()}
    assert tables == SEED
    relations = {(t.name, fk.columns[0]) for t in database.tables.values() for fk in t.foreign_keys}
    assert relations == FOREIGN_KEYS
    orgs = database.tables[("public", "orgs")]
    assert orgs.legacy
    assert orgs.duplicate_of == "organizations"
    assert database.tables[("public", "organizations")].critical


def test_every_column_carries_its_wiring_and_critical_marks() -> None:
    """The document's text for each column is its comment, and its **CRITICAL** marks stay."""
    database = load_lock(LOCK).database
    columns = [(t.name, c) for t in database.tables.values() for c in t.columns]
    assert [(table, c.name) for table, c in columns if not c.comment] == []
    critical = {(table, c.name) for table, c in columns if c.critical}
    assert critical == {
        ("organizations", "clerk_org_id"),
        ("organizations", "quota_used"),
        ("organizations", "quota_limit"),
    }


def test_matches_the_committed_json_schema() -> None:
    schema = json.loads((ROOT / "schema_lock.schema.json").read_text(encoding="utf-8"))
    with open(LOCK, encoding="utf-8") as handle:
        jsonschema.Draft7Validator(schema).validate(yaml.safe_load(handle))


def test_the_five_flows_and_the_failing_query() -> None:
    lock = load_lock(LOCK)
    paths = {flow.name: flow.path for flow in lock.flows}
    assert paths == {  # the document's five flows, their paths as it writes them
        "user_authentication": "Clerk Auth → organizations.clerk_org_id → Default Quota "
        "Assignment → API Access",
        "job_processing": "API Request → jobs.org_id → Inngest Trigger → Apify Execution → "
        "Status Updates → Quota Consumption",
        "quota_management": "Job Completion → quota_usage.usage_amount → "
        "organizations.quota_used → Real-time Limits",
        "subscription_billing": "Dodo Webhook → subscriptions.status → "
        "organizations.quota_limit → Plan Enforcement",
        "analytics": "usage.total_usage → Dashboard Statistics → Business Intelligence",
    }
    kinds = {(i.name, i.kind) for flow in lock.flows for i in flow.invariants}
    assert {("quota_used_is_the_sum_of_usage", "reconcile"), ("rollups_match_usage", "reconcile"),
            ("completed_jobs_are_accounted", "implies"), ("no_job_stuck_running", "freshness"),
            ("webhooks_processed_promptly", "freshness"), ("active_plan_sets_the_quota", "implies"),
            ("one_active_subscription", "sql"), ("dodo_events_match_subscriptions", "implies"),
            ("unsubscribed_organizations_get_the_free_quota", "implies")} <= kinds  # fmt: skip
    [stats] = [query for query in lock.queries if query.endpoint == "/api/analyses/stats"]
    assert stats.sql == "SELECT type, COUNT(*) as count FROM jobs WHERE org_id = $1 GROUP BY type"
    assert stats.params == ("uuid",)


def test_the_quota_flow_is_a_trigger_and_no_view_is_invented() -> None:
    """Flow 3 (quota_usage.usage_amount → organizations.quota_used) is the one database object
    the document implies: a trigger on quota_usage and its function, adding each usage row to
    its organization's quota. The document names no view (its stats endpoint reads jobs), so
    the lock declares none; its table list stays the document's."""
    database = load_lock(LOCK).database
    assert list(database.routines) == [("public", "charge_quota_usage", ())]
    [function] = database.routines.values()
    assert (function.returns, function.language) == ("trigger", "plpgsql")
    assert "quota_used = quota_used + NEW.usage_amount" in function.body
    [trigger] = database.triggers.values()
    assert (trigger.table, trigger.timing, trigger.events, trigger.row, trigger.function) == (
        "quota_usage",
        "after",
        ("insert",),
        True,
        "charge_quota_usage",
    )
    assert database.views == {}
