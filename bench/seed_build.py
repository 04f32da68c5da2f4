"""The seed-shaped database `bench_seed`: organizations, jobs and quota_usage as the seed
(src/schemalock/seed/demo.sql) has them, at a chosen size, built by INSERT ... SELECT
generate_series (every value a function of the row number, so what was planted is known).

- `organizations` (N_o rows): uuid ids (md5 of the row number read as a uuid), Clerk ids
  `org_<24 hex>` (the lock's pattern), plans free/pro/enterprise; `name` holds ordinary words
  and "Hammock"-style false friends, and `org_mock` rows are named "Acme Mock Org <n>".
- `jobs` (N_j): `org_id` is TEXT holding the organization's uuid as text (the seed's "UUID
  mismatch": no foreign key can exist); `orphan_jobs` rows hold a uuid no organization has;
  `mock_jobs` rows carry `{"source": "mock"}` in `metadata`; `bad_status` rows have status
  'cancelled' (not among the lock's values); `bad_run_ids` rows an `apify_run_id` that breaks
  its pattern.  Every other `metadata` is `{"source": "api", ...}`, a false friend of the
  json-marker detector.
- `quota_usage` (N_q): `org_id` under a validated foreign key (proven: verify reads nothing),
  `job_id` uuid without a foreign key (the seed's PROBLEM b): `orphan_usage` rows point at no
  job, 1% are NULL; `mock_usage` rows have fixture ids (`00000000-0000-0000-0000-00000000000n`)
  and `{"is_test": true}` in `metadata`.

The planted counts scale with the size (`Size.planted`): at 100k / 2M / 10M they are the
issue's 200 orphans and 10 mock rows in jobs, 10,000 orphans and 5 mock rows in quota_usage.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from bench_server import BuiltDatabase, Server, ensure_built

DATABASE = "bench_seed"
CHUNK = 2_000_000  # rows per INSERT, for progress on the large tables
SCATTER_JOBS, SCATTER_USAGE = 7919, 104729  # primes: consecutive rows hit parents far apart
USAGE_NULL_MODULUS = 100  # i % 100 = 37: job_id NULL (1%)


@dataclass(frozen=True)
class Size:
    organizations: int
    jobs: int
    quota_usage: int

    @property
    def label(self) -> str:
        return "/".join(_short(n) for n in (self.organizations, self.jobs, self.quota_usage))

    def planted(self) -> Planted:
        """The issue's counts at 100k / 2M / 10M, in proportion to the rows (at least 1)."""

        def scaled(count: int, rows: int, at: int) -> int:
            return max(1, round(count * rows / at))

        return Planted(
            orphan_jobs=scaled(200, self.jobs, 2_000_000),
            mock_jobs=scaled(10, self.jobs, 2_000_000),
            bad_status=scaled(50, self.jobs, 2_000_000),
            bad_run_ids=scaled(20, self.jobs, 2_000_000),
            mock_orgs=scaled(3, self.organizations, 100_000),
            orphan_usage=scaled(10_000, self.quota_usage, 10_000_000),
            mock_usage=scaled(5, self.quota_usage, 10_000_000),
        )


@dataclass(frozen=True)
class Planted:
    orphan_jobs: int
    mock_jobs: int
    bad_status: int
    bad_run_ids: int
    mock_orgs: int
    orphan_usage: int
    mock_usage: int


DEFAULT_SIZE = Size(10_000, 200_000, 1_000_000)
FULL_SIZE = Size(100_000, 2_000_000, 10_000_000)


def _short(number: int) -> str:
    if number % 1_000_000 == 0:
        return f"{number // 1_000_000}M"
    if number % 1_000 == 0:
        return f"{number // 1_000}k"
    return str(number)


def parse_size(text: str) -> Size:
    """`full`, `default`, or `ORGS/JOBS/USAGE` with k and M suffixes (`10k/200k/1M`)."""
    if text == "full":
        return FULL_SIZE
    if text == "default":
        return DEFAULT_SIZE
    parts = text.lower().split("/")
    if len(parts) != 3:
        raise ValueError(f"not ORGS/JOBS/USAGE: {text!r}")
    numbers = []
    for part in parts:
        factor = {"k": 1_000, "m": 1_000_000}.get(part[-1:], 1)
        digits = part[:-1] if factor > 1 else part
        if not digits.isdigit() or int(digits) * factor < 1:
            raise ValueError(f"not a row count: {part!r}")
        numbers.append(int(digits) * factor)
    size = Size(*numbers)
    if size.jobs < 1000 or size.quota_usage < 1000:
        raise ValueError("at least 1k jobs and 1k quota_usage rows")
    return size


# -- the build ---------------------------------------------------------------------------------

STRUCTURE = """
CREATE TABLE organizations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clerk_org_id text NOT NULL UNIQUE,
    name text NOT NULL,
    quota_used integer NOT NULL DEFAULT 0,
    quota_limit integer NOT NULL DEFAULT 100,
    plan text NOT NULL DEFAULT 'free',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organizations_quota_used_check CHECK (quota_used >= 0),
    CONSTRAINT organizations_quota_limit_check CHECK (quota_limit >= 0)
);
CREATE TABLE jobs (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    org_id text NOT NULL,
    keyword text NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    type text NOT NULL,
    results_count integer NOT NULL DEFAULT 0,
    apify_run_id text,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE TABLE quota_usage (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    org_id uuid NOT NULL,
    job_id uuid,
    usage_amount integer NOT NULL,
    usage_type text NOT NULL,
    "timestamp" timestamptz NOT NULL DEFAULT now(),
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT quota_usage_usage_amount_check CHECK (usage_amount > 0)
)"""

# Words with the usual false friends of a mock-data scan.
_ORG_WORDS = ("Hammock Labs", "Testament Media", "Fakenham Foods", "Blue Oak", "Northwind",
              "Protest Partners", "Garden Supply", "Quiet Harbor", "Attestation Group")  # fmt: skip
_KEYWORDS = ("hammock", "standing desk", "testament", "garden hose", "oak table",
             "quiet fan", "dummy proof lock", "fake fur coat", "test tube rack")  # fmt: skip
_TYPES = ("search", "analysis", "export")
_STATUSES = ("pending", "running", "completed", "failed")
_PLANS = ("free", "pro", "enterprise")


def _array(words: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join("'" + word.replace("'", "''") + "'" for word in words) + "]"


def _pick(words: tuple[str, ...], seed: str) -> str:
    return f"({_array(words)})[(({seed}) % {len(words)})::int + 1]"


def _uuid(prefix: str, number: str) -> str:
    """SQL: a random-looking uuid, a function of `prefix` and the row number."""
    return f"md5('{prefix}' || ({number}))::uuid"


def _org_of(i: str, n_orgs: int, scatter: int) -> str:
    return f"(({i}) * {scatter}) % {n_orgs} + 1"


def build_steps(size: Size) -> list[tuple[str, str]]:
    """(progress label, SQL) in order; each runs on its own (VACUUM must)."""
    p = size.planted()
    steps = [("structure", STRUCTURE)]
    mock_org = f"i % {size.organizations // p.mock_orgs} = 1"
    steps.append(
        (
            f"organizations: {size.organizations:,} rows",
            f"""INSERT INTO organizations (id, clerk_org_id, name, quota_used, quota_limit, plan,
                created_at, updated_at)
            SELECT {_uuid("org", "i")}, 'org_' || substr(md5('clerk' || i), 1, 24),
              CASE WHEN {mock_org} THEN 'Acme Mock Org ' || i
                   ELSE {_pick(_ORG_WORDS, "i")} || ' ' || i END,
              (i % 90), 100, {_pick(_PLANS, "i / 7")},
              timestamptz '2024-01-01' + i * interval '1 minute',
              timestamptz '2024-06-01' + i * interval '1 minute'
            FROM generate_series(1::bigint, {size.organizations}::bigint) AS i""",
        )
    )
    orphan_job = f"i % {size.jobs // p.orphan_jobs} = 0"
    mock_job = f"i % {size.jobs // p.mock_jobs} = 3"
    bad_status = f"i % {size.jobs // p.bad_status} = 5"
    bad_run = f"i % {size.jobs // p.bad_run_ids} = 9"
    status = _pick(_STATUSES, "i / 3")
    for first in range(1, size.jobs + 1, CHUNK):
        last = min(first + CHUNK - 1, size.jobs)
        steps.append(
            (
                f"jobs: rows {first:,}-{last:,}",
                f"""INSERT INTO jobs (id, org_id, keyword, status, type, results_count,
                    apify_run_id, created_at, completed_at, metadata)
                SELECT {_uuid("job", "i")},
                  CASE WHEN {orphan_job} THEN {_uuid("ghost", "i")}::text
                       ELSE {_uuid("org", _org_of("i", size.organizations, SCATTER_JOBS))}::text
                  END,
                  {_pick(_KEYWORDS, "i")},
                  CASE WHEN {bad_status} THEN 'cancelled' ELSE {status} END,
                  {_pick(_TYPES, "i / 11")}, i % 500,
                  CASE WHEN {bad_run} THEN 'run-' || substr(md5('run' || i), 1, 13)
                       WHEN i % 4 = 0 THEN NULL
                       ELSE substr(md5('run' || i), 1, 17) END,
                  timestamptz '2024-01-01' + i * interval '10 seconds',
                  CASE WHEN i % 4 = 2 THEN timestamptz '2024-01-01' + i * interval '11 seconds'
                  END,
                  (CASE WHEN {mock_job} THEN '{{"source": "mock", "depth": '
                        ELSE '{{"source": "api", "depth": ' END
                   || (i % 5) || ', "region": "eu-' || (i % 3) || '"}}')::jsonb
                FROM generate_series({first}::bigint, {last}::bigint) AS i""",
            )
        )
    orphan_usage = f"i % {size.quota_usage // p.orphan_usage} = 0"
    mock_usage = f"i % {size.quota_usage // p.mock_usage} = 1"
    job_of = f"(i * {SCATTER_USAGE}::bigint) % {size.jobs} + 1"
    for first in range(1, size.quota_usage + 1, CHUNK):
        last = min(first + CHUNK - 1, size.quota_usage)
        steps.append(
            (
                f"quota_usage: rows {first:,}-{last:,}",
                f"""INSERT INTO quota_usage (id, org_id, job_id, usage_amount, usage_type,
                    "timestamp", metadata)
                SELECT CASE WHEN {mock_usage}
                         THEN ('00000000-0000-0000-0000-' || lpad(to_hex(i / {
                    size.quota_usage // p.mock_usage
                } + 1), 12, '0'))::uuid
                         ELSE {_uuid("usage", "i")} END,
                  {_uuid("org", _org_of("i", size.organizations, SCATTER_USAGE))},
                  CASE WHEN {orphan_usage} THEN {_uuid("gone", "i")}
                       WHEN i % {USAGE_NULL_MODULUS} = 37 THEN NULL
                       ELSE {_uuid("job", job_of)} END,
                  1 + i % 9, {_pick(("search", "analysis"), "i / 13")},
                  timestamptz '2024-01-01' + i * interval '2 seconds',
                  (CASE WHEN {mock_usage} THEN '{{"is_test": true, "credits": '
                        ELSE '{{"credits": ' END || (1 + i % 9) || '}}')::jsonb
                FROM generate_series({first}::bigint, {last}::bigint) AS i""",
            )
        )
    steps += [
        # Keys and indexes after the load: one build each instead of millions of insertions.
        ("jobs: primary key", "ALTER TABLE jobs ADD PRIMARY KEY (id)"),
        (
            "jobs: indexes",
            "CREATE INDEX jobs_org_id_created_at_idx ON jobs (org_id, created_at DESC);"
            " CREATE UNIQUE INDEX jobs_apify_run_id_key ON jobs (apify_run_id)",
        ),
        ("quota_usage: primary key", "ALTER TABLE quota_usage ADD PRIMARY KEY (id)"),
        (
            "quota_usage: indexes",
            'CREATE INDEX quota_usage_org_id_timestamp_idx ON quota_usage (org_id, "timestamp");'
            " CREATE INDEX quota_usage_job_id_idx ON quota_usage (job_id)",
        ),
        (
            "quota_usage: validated foreign key to organizations",
            "ALTER TABLE quota_usage ADD CONSTRAINT quota_usage_org_id_fkey"
            " FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE",
        ),
        # Hint bits and the visibility map now, as a live database has them.
        ("vacuum", "VACUUM organizations, jobs, quota_usage"),
    ]
    return steps


def marker(size: Size) -> str:
    script = ";\n".join(statement for _, statement in build_steps(size))
    digest = hashlib.sha256(script.encode()).hexdigest()[:16]
    return f"schemalock bench seed: {size.label}, sha256 {digest}"


def ensure_seed_database(
    server: Server, size: Size, progress: Callable[[str], None]
) -> BuiltDatabase:
    def build(url: str) -> None:
        with psycopg.connect(url, autocommit=True) as connection:
            for label, statement in build_steps(size):
                started = time.perf_counter()
                connection.execute(statement.encode())  # bytes: no parameters, run as is
                progress(f"seed: built {label} in {time.perf_counter() - started:.1f} s")

    return ensure_built(server, DATABASE, marker(size), build)
