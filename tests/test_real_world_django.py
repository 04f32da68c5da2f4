"""A schema written by others: Django's contrib apps, migrated by Django onto a test database.

`snapshot` then `verify` of that database must be clean, and drift injected afterwards must be
reported with exactly the expected rules. Django is configured and run in a subprocess, so its
process-global settings and connections never leak into the test process (and each test can use
its own database).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict

from conftest import execute, query, run_cli

pytestmark = pytest.mark.db

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.admin",
    "django.contrib.messages",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "django.contrib.redirects",
]

# Run by the venv's interpreter; the connection settings and apps arrive as JSON in the env.
MIGRATE_SCRIPT = textwrap.dedent(
    """
    import json
    import os

    import django
    from django.conf import settings
    from django.core.management import call_command

    config = json.loads(os.environ["SCHEMALOCK_DJANGO_CONFIG"])
    settings.configure(
        INSTALLED_APPS=config["apps"],
        DATABASES={"default": config["database"]},
        USE_TZ=True,
        SITE_ID=1,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        SECRET_KEY="schemalock-test",
    )
    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    """
)


def django_database_settings(url: str) -> dict[str, Any]:
    """Django's DATABASES entry for a libpq URL (host may be a socket directory, port absent)."""
    params = {key: str(value) for key, value in conninfo_to_dict(url).items()}
    settings: dict[str, Any] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": params.pop("dbname"),
        "USER": params.pop("user", ""),
        "PASSWORD": params.pop("password", ""),
        "HOST": params.pop("host", ""),
        "PORT": params.pop("port", ""),
    }
    settings["OPTIONS"] = params  # anything else (sslmode, ...) goes to libpq as is
    return settings


def migrate_django(url: str) -> None:
    config = {"apps": INSTALLED_APPS, "database": django_database_settings(url)}
    env = {**os.environ, "SCHEMALOCK_DJANGO_CONFIG": json.dumps(config)}
    for name in ("DJANGO_SETTINGS_MODULE", "PGSERVICE", "PGOPTIONS"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", MIGRATE_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"Django migrate failed:\n{done.stdout}\n{done.stderr}"


def django_tables(url: str) -> set[str]:
    rows = query(
        url,
        "SELECT c.relname FROM pg_catalog.pg_class c"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')",
    )
    return {str(row[0]) for row in rows}


def snapshot(url: str, lock: Path) -> str:
    result = run_cli("snapshot", "--database-url", url, "--output", str(lock))
    assert result.exit_code == 0, result.stderr
    return lock.read_text(encoding="utf-8")


def verify_json(url: str, lock: Path) -> tuple[int, dict[str, Any]]:
    result = run_cli("verify", "--lock", str(lock), "--database-url", url, "--format", "json")
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"verify did not print JSON (exit {result.exit_code}):\n{result.stderr}")
    return result.exit_code, report


def describe(findings: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{f['code']} {f['rule']} {f['schema']}.{f['table']}.{f['column'] or f['constraint']}: "
        f"{f['message']} (expected {f['expected']!r}, actual {f['actual']!r})"
        for f in findings
    )


def test_snapshot_then_verify_of_django_schema_is_clean(database: str, tmp_path: Path) -> None:
    migrate_django(database)
    lock = tmp_path / "lock.yaml"
    text = snapshot(database, lock)

    result = run_cli("verify", "--lock", str(lock), "--database-url", database)
    code, report = verify_json(database, lock)
    assert report["findings"] == [], describe(report["findings"])
    assert report["summary"]["error"] == 0
    assert report["inconclusive"] == []
    assert code == 0
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "No findings" in result.stdout

    # The snapshot really covered Django's schema, not an empty database.
    for name in ("auth_user", "django_content_type", "django_migrations"):
        assert f"\n  {name}:\n" in text, name
    document = yaml.safe_load(text)
    assert document["database"]["schemas"] == ["public"]
    tables: dict[str, Any] = document["tables"]
    permission = tables["auth_permission"]
    assert any(
        fk["columns"] == ["content_type_id"]
        and fk["references"] == {"table": "django_content_type", "columns": ["id"]}
        for fk in permission["foreign_keys"].values()
    ), permission
    # unique_together = [["content_type", "codename"]], under Django's generated name.
    (unique_name,) = query(
        database,
        "SELECT conname FROM pg_catalog.pg_constraint"
        " WHERE conrelid = 'public.auth_permission'::regclass AND contype = 'u'",
    )[0]
    assert permission["unique"] == {unique_name: {"columns": ["content_type_id", "codename"]}}
    assert set(tables["django_migrations"]["columns"]) == {"id", "app", "name", "applied"}
    assert tables["auth_user"]["columns"]["email"]["nullable"] is False

    # Every table Django created is locked, and nothing else: 6 auth, content types, admin
    # log, sessions, sites, 2 flatpages, redirects, migrations.
    created = django_tables(database)
    assert len(created) == 14
    assert set(tables) == created
    assert len(tables) == len(created)


def test_drift_on_django_schema_is_reported(database: str, tmp_path: Path) -> None:
    migrate_django(database)
    lock = tmp_path / "lock.yaml"
    snapshot(database, lock)
    like_index = query(
        database,
        "SELECT indexname FROM pg_catalog.pg_indexes WHERE schemaname = 'public'"
        " AND tablename = 'auth_user' AND indexdef LIKE '%varchar_pattern_ops%'",
    )
    assert len(like_index) == 1  # auth_user_username_6821ab7c_like
    index = str(like_index[0][0])
    execute(
        database,
        f'ALTER TABLE auth_user ALTER COLUMN email DROP NOT NULL;DROP INDEX public."{index}";',
    )

    code, report = verify_json(database, lock)
    findings = report["findings"]
    assert code == 1, describe(findings)
    got = sorted((f["rule"], f["table"], f["column"] or f["constraint"]) for f in findings)
    assert got == [
        ("missing-index", "auth_user", index),
        ("nullability-mismatch", "auth_user", "email"),
    ], describe(findings)
    # SL106 is an error, SL112 a warning.
    assert (report["summary"]["error"], report["summary"]["warning"]) == (1, 1)
