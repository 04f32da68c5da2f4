"""Snapshot then verify on a real PostgreSQL: clean by construction, deterministic, valid."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import ROOT, as_role, execute, run_cli

RICH_SCHEMA = (ROOT / "tests" / "data" / "rich_schema.sql").read_text(encoding="utf-8")

pytestmark = pytest.mark.db


def snapshot(url: str, path: Path, *extra: str) -> str:
    result = run_cli("snapshot", "--database-url", url, "--output", str(path), *extra)
    assert result.exit_code == 0, result.stderr
    return path.read_text(encoding="utf-8")


def test_rich_schema_round_trip_is_clean(database: str, tmp_path: Path) -> None:
    execute(database, RICH_SCHEMA)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    result = run_cli("verify", "--lock", str(lock), "--database-url", database, "--format", "json")
    report = json.loads(result.stdout)
    assert report["findings"] == [], [f["message"] for f in report["findings"]]
    assert result.exit_code == 0
    assert report["summary"] == {
        "error": 0,
        "warning": 0,
        "info": 0,
        "waived": 0,
        "inconclusive": 0,
        "duration_ms": report["summary"]["duration_ms"],
    }


def test_snapshot_covers_every_object_kind(database: str, tmp_path: Path) -> None:
    execute(database, RICH_SCHEMA)
    text = snapshot(database, tmp_path / "lock.yaml")
    assert text.startswith("# yaml-language-server: $schema=schema_lock.schema.json\n")
    lock = yaml.safe_load(text)
    assert lock["database"]["schemas"] == ["public", "Audit Log", "billing"]
    tables = lock["tables"]
    assert set(tables) == {
        "organizations",
        "user",
        "jobs",
        "quota_usage",
        "billing.invoices",
        "billing.invoice_lines",
        "Audit Log.Order Items",
        "events",
        "webhook_events",
        "scratch_cache",
        "plans",
        "measurements",
        "measurements_2026",
        "event_notes",
    }, "partitions, views, materialized views and sequences are not tables"
    assert lock["enums"] == {
        "job_status": ["pending", "running", "completed", "failed"],
        "billing.Plan Tier": ["free", "Pro", "enterprise"],
    }
    assert set(lock["domains"]) == {"email_address", "billing.money_amount"}
    assert tables["events"]["partition_by"] == "RANGE (occurred_at)"
    assert tables["events"]["primary_key"] == ["id", "occurred_at"]
    user = tables["user"]["columns"]
    assert user["order"] == {"type": "bigint", "identity": "always", "primary_key": True}
    assert user["Mixed Case"]["identity"] == {"generated": "by default", "start": 10}
    assert 'it\'s "quoted"' in user
    assert "naïve" in user
    jobs = tables["jobs"]
    assert jobs["columns"]["id"] == {"type": "serial", "primary_key": True}
    assert jobs["columns"]["total"]["generated"] == "(price * (quantity)::numeric)"
    assert jobs["indexes"]["jobs_status_created_idx"]["columns"] == [
        "status",
        "created_at DESC NULLS LAST",
    ]
    assert jobs["indexes"]["jobs_metadata_gin"]["method"] == "gin"
    assert jobs["indexes"]["jobs_org_keyword_key"]["include"] == ["status"]
    assert tables["billing.invoices"]["foreign_keys"]["invoices_org_fk"]["match"] == "full"
    assert tables["quota_usage"]["foreign_keys"]["quota_usage_job_fk"]["initially_deferred"]
    assert "dropped_later" not in tables["webhook_events"]["columns"]
    assert tables["organizations"]["comment"] == "Core user/team data with quota management"
    assert tables["plans"]["unique"]["plans_dodo_price_id_key"]["nulls_not_distinct"] is True


def test_snapshot_is_deterministic(database: str, tmp_path: Path) -> None:
    execute(database, RICH_SCHEMA)
    first = snapshot(database, tmp_path / "a.yaml")
    second = snapshot(database, tmp_path / "b.yaml")
    assert first == second


def test_snapshot_validates_against_the_committed_json_schema(
    database: str, tmp_path: Path
) -> None:
    execute(database, RICH_SCHEMA)
    document = yaml.safe_load(snapshot(database, tmp_path / "lock.yaml"))
    schema = json.loads((ROOT / "schema_lock.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(document)


def test_snapshot_of_chosen_schemas(database: str, tmp_path: Path) -> None:
    execute(database, RICH_SCHEMA)
    path = tmp_path / "lock.yaml"
    lock = yaml.safe_load(snapshot(database, path, "--schema", "billing"))
    assert set(lock["tables"]) == {"billing.invoices", "billing.invoice_lines"}
    # A key into a schema the lock does not cover keeps its column names.
    invoices_fk = lock["tables"]["billing.invoices"]["foreign_keys"]["invoices_org_fk"]
    assert invoices_fk["references"] == {"table": "public.organizations", "columns": ["id"]}
    verified = run_cli("verify", "--lock", str(path), "--database-url", database)
    assert verified.exit_code == 0, verified.stdout
    assert run_cli("snapshot", "--database-url", database, "--schema", "nope").exit_code == 2


def test_unreadable_objects_are_not_missing(database: str, tmp_path: Path) -> None:
    """pg_catalog shows what information_schema would hide from an unprivileged role."""
    execute(database, RICH_SCHEMA)
    lock = tmp_path / "lock.yaml"
    snapshot(database, lock)
    hidden = (
        'REVOKE ALL ON ALL TABLES IN SCHEMA public, billing, "Audit Log" FROM PUBLIC;'
        " REVOKE USAGE ON SCHEMA public FROM PUBLIC;"
    )
    with as_role(database, hidden) as reader:
        result = run_cli("verify", "--lock", str(lock), "--database-url", reader, "--no-data")
        assert result.exit_code == 0, result.stdout + result.stderr
        assert "No findings" in result.stdout
        # Row checks are another matter: rows it cannot read make the run inconclusive.
        rows = run_cli("verify", "--lock", str(lock), "--database-url", reader)
        assert rows.exit_code == 4, rows.stdout


def test_snapshot_lints_clean(database: str, tmp_path: Path) -> None:
    execute(database, RICH_SCHEMA)
    lock = tmp_path / "lock.yaml"
    snapshot(database, lock)
    result = run_cli("lint", "--lock", str(lock), "--fail-on", "info")
    assert result.exit_code == 0, result.stdout
    notes = yaml.safe_load(lock.read_text())["tables"]["event_notes"]["foreign_keys"]
    assert len(notes) == 1, "one foreign key, not one per partition"


def test_schemas_named_by_tables_are_covered(database: str, tmp_path: Path) -> None:
    execute(database, RICH_SCHEMA)
    lock = tmp_path / "lock.yaml"
    text = snapshot(database, lock)
    # Without the line, `public` is covered by default and the other schemas by being named.
    lock.write_text(text.replace("  schemas: [public, Audit Log, billing]\n", ""), "utf-8")
    assert "schemas:" not in lock.read_text()
    result = run_cli("verify", "--lock", str(lock), "--database-url", database)
    assert result.exit_code == 0, result.stdout


# pgbench's own schema (`pgbench -i -I dtpf`): foreign keys no index leads, by design.
PGBENCH = """
CREATE TABLE pgbench_branches (bid int NOT NULL, bbalance int, filler char(88))
    WITH (fillfactor = 100);
CREATE TABLE pgbench_tellers (tid int NOT NULL, bid int, tbalance int, filler char(84))
    WITH (fillfactor = 100);
CREATE TABLE pgbench_accounts (aid int NOT NULL, bid int, abalance int, filler char(84))
    WITH (fillfactor = 100);
CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp,
    filler char(22));
ALTER TABLE pgbench_branches ADD PRIMARY KEY (bid);
ALTER TABLE pgbench_tellers ADD PRIMARY KEY (tid);
ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid);
ALTER TABLE pgbench_tellers ADD FOREIGN KEY (bid) REFERENCES pgbench_branches;
ALTER TABLE pgbench_accounts ADD FOREIGN KEY (bid) REFERENCES pgbench_branches;
ALTER TABLE pgbench_history ADD FOREIGN KEY (bid) REFERENCES pgbench_branches;
ALTER TABLE pgbench_history ADD FOREIGN KEY (tid) REFERENCES pgbench_tellers;
ALTER TABLE pgbench_history ADD FOREIGN KEY (aid) REFERENCES pgbench_accounts;
"""


def test_a_fresh_snapshot_of_pgbench_finds_no_difference(database: str, tmp_path: Path) -> None:
    """What the README says of `snapshot`: verify against it finds nothing (exit 0); the
    advice about the design, the five foreign keys no index leads (`fk-missing-index`
    warnings), is there when asked for with `--select advice`."""
    execute(database, PGBENCH)
    lock = tmp_path / "schema_lock.yaml"
    snapshot(database, lock)
    result = run_cli("verify", "--lock", str(lock), "--database-url", database, "-f", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert (report["findings"], report["inconclusive"]) == ([], [])
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", database, "-f", "json",
        "--select", "advice",
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert {(f["rule"], f["severity"]) for f in report["findings"]} == {
        ("fk-missing-index", "warning")
    }
    assert len(report["findings"]) == 5
    assert report["inconclusive"] == []


def test_the_lock_is_written_as_pyyaml_writes_it() -> None:
    """snapshot writes through libyaml's emitter (ten times faster at 5,000 tables), handing
    back to PyYAML's own the entries libyaml spells otherwise (a character beyond the Basic
    Multilingual Plane escaped, `\\U0001F680`; a key with a carriage return as `? key`): a
    lock's bytes never depend on how PyYAML was built, and an emoji name stays an emoji."""
    from schemalock.lock import yaml_style
    from schemalock.lock.writer import dumped
    from schemalock.lock.yaml_style import Block, Flow, FlowList

    if not yaml.__with_libyaml__:
        pytest.skip("this PyYAML was built without libyaml")
    assert yaml_style.Dumper.__mro__[1] is yaml.CSafeDumper
    texts = [
        "plain", "Mixed Case", "with: colon", "# hash", "- dash", "quote's", 'double "q"',
        "tab\there", "trailing space ", " leading", "", "yes", "no", "1e5", "0x10", "null",
        "ünïcødé", "emoji 🚀", "line\u2028separator", "bell\x07", "a" * 300, "CR\rhere",
        "{braces}", "[brackets]", "*star", "&amp", "!bang", "%percent", "@at", "`tick`",
        "multi\nline\ntext\n", "ends without newline\nsecond", "  indented\n  block\n",
        "why? because", "back\\Uslash", "\U00010000 first",
    ]  # fmt: skip
    for text in texts:
        document = {
            "tables": {text or "empty": Flow(type="text", comment=text)},
            "bodies": [Block(text)],
            "lists": FlowList([text]),
        }
        pure = yaml.dump(
            document, Dumper=yaml_style.PureDumper, sort_keys=False, width=4096,
            allow_unicode=True, default_flow_style=False,
        )  # fmt: skip
        assert dumped(document) == pure, text


def test_the_lock_written_a_section_at_a_time_is_the_lock_written_whole(
    database: str, tmp_path: Path
) -> None:
    """snapshot writes large sections an entry at a time (PyYAML's nodes of a 5,000-table
    lock held at once were half its memory): byte for byte what one dump writes."""
    import psycopg

    from schemalock.db import Timeouts
    from schemalock.introspect import read_everything
    from schemalock.lock.writer import dumped, lock_document, sections

    execute(database, RICH_SCHEMA)
    with psycopg.connect(database) as connection:
        live = read_everything(connection, Timeouts(), ("public",), lambda _: False)
    document = lock_document(live, "shop")
    assert len(document["tables"]) > 2
    assert "".join(sections(document)) == dumped(document)
