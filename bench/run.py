"""`make bench`: time `schemalock verify` against pg_dump on 12, 500 and 5,000 tables, and its
data checks against hand-written queries (a 10M-row child; the seed-shaped database).

    python bench/run.py [--sizes 12,500] [--runs N] [--no-data | --data-only | --latency-only]
                        [--latency-ms 10] [--latency-sizes 12,500,5000] [--output PATH]
                        [--no-seed | --seed-only] [--seed-size default|full|10k/200k/1M]
                        [--seed-runs N]

Writes bench/RESULTS.md and prints the same.  SCHEMALOCK_BENCH_DATABASE_URL points it at an
existing server; otherwise it starts an embedded PostgreSQL 18 under bench/work/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_data
import bench_latency
import seed_bench
import seed_report
from bench_check import orphan_check_pairs
from bench_ddl import SMALL_SAAS_SCHEMA, TableDDL, synthetic_schema
from bench_report import (
    FIX_DRIFTS,
    Commands,
    DataResult,
    Environment,
    MockResult,
    SizeResult,
    StartupResult,
    render,
)
from bench_server import (
    BenchError,
    Server,
    catalog_counts,
    ensure_database,
    find_pg_dump,
    find_psql,
    open_server,
    server_version,
)
from bench_timing import SeriesSummary, Spread, paired_runs, series, yardstick_summary

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / "work"
# The interpreter running this (the project's .venv under `make bench`) and its console script.
PYTHON = sys.executable
SCHEMALOCK = str(Path(sys.executable).parent / "schemalock")
WARMUPS = 1
STARTUP_RUNS = 15
STARTUP_WARMUPS = 2
DATA_RUNS = 5
DATA_LOCK = WORK_DIR / "data_lock.yaml"
MOCK_RULE = "mock-data"
MOCK_TIMEOUT_S = 600  # for timing A2 when the default 30 s cuts its scan short
LATENCY_RUNS = 3  # pairs per command through the proxy, and runs on loopback
SEED_RUNS = 3  # rounds per question and whole-run pairs of the seed-shaped benchmark


@dataclass(frozen=True)
class SizePlan:
    tables: int
    database: str
    runs: int
    title: str

    def schema(self) -> list[TableDDL]:
        return SMALL_SAAS_SCHEMA if self.tables == 12 else synthetic_schema(self.tables)


PLANS = {
    12: SizePlan(12, "bench_s", 7, "hand-written SaaS schema"),
    500: SizePlan(500, "bench_m", 7, "synthetic schema"),
    5000: SizePlan(5000, "bench_l", 5, "synthetic schema"),
}


def main(argv: Sequence[str] | None = None) -> int:
    options = _parse_args(argv)
    try:
        text = _run(options)
    except BenchError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 1
    options.output.write_text(text, encoding="utf-8")
    print(text, end="")
    print(f"wrote {options.output}", file=sys.stderr)
    return 0


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark schemalock verify against pg_dump, and its data checks against psql."
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        help="comma-separated table counts to run, from 12,500,5000 (default: all)",
    )
    parser.add_argument(
        "--runs",
        type=_positive,
        help="pairs per series instead of 7/7/5, 15 and 5 for data (a quick check)",
    )
    parser.add_argument(
        "--data",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the data checks on a 1M-row parent and a 10M-row child (default: on)",
    )
    parser.add_argument(
        "--data-only",
        action="store_true",
        help="only the data checks: no structure sizes, no start-up",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=bench_latency.DEFAULT_DELAY_MS,
        help="the far-away database's delay each way (default 10; 0: no latency section)",
    )
    parser.add_argument(
        "--latency-sizes",
        type=_sizes,
        default=[12, 500],
        help="table counts for the latency section (default 12,500: pg_dump sends one "
        "statement per object, 8,067 at 5,000 tables, each a round trip through the proxy)",
    )
    parser.add_argument(
        "--latency-only",
        action="store_true",
        help="only the latency section: no structure sizes, start-up or data checks",
    )
    seed_bench.add_arguments(parser)
    parser.add_argument(
        "--output", type=Path, default=BENCH_DIR / "RESULTS.md", help="where to write the report"
    )
    options = parser.parse_args(argv)
    if options.data_only and not options.data:
        parser.error("--data-only and --no-data exclude each other")
    if options.data_only and options.sizes is not None:
        parser.error("--data-only runs no structure sizes: drop --sizes")
    if options.latency_only and (options.data_only or options.sizes is not None):
        parser.error("--latency-only runs only --latency-sizes: drop --data-only and --sizes")
    seed_bench.settle_arguments(parser, options)
    options.sizes = (
        [] if options.data_only else (list(PLANS) if options.sizes is None else options.sizes)
    )
    if options.latency_only:
        options.sizes, options.data = [], False
    if options.data_only or not options.latency_ms:
        options.latency_sizes = []
    return options


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {value!r}") from None
    unknown = [size for size in sizes if size not in PLANS]
    if unknown or not sizes:
        raise argparse.ArgumentTypeError(f"choose from {','.join(map(str, PLANS))}")
    return sorted(set(sizes))


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("at least 1")
    return number


def _run(options: argparse.Namespace) -> str:
    if not Path(SCHEMALOCK).exists():
        raise BenchError(f"{SCHEMALOCK} not found: run with the project's .venv/bin/python")
    started_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    started = time.perf_counter()
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    # Start-up first, before any server load is on the machine.
    startup = _bench_startup(options.runs or STARTUP_RUNS) if options.sizes else None
    with open_server(WORK_DIR) as server:
        environment, server_major = _describe(server)
        commands = _commands(environment.pg_dump_path)
        psql_path = find_psql(server_major)[0] if options.sizes else ""
        sizes = [
            _bench_size(server, PLANS[tables], environment.pg_dump_path, psql_path, options.runs)
            for tables in options.sizes
        ]
        data = _bench_data(server, server_major, options.runs) if options.data else None
        latency = _bench_latency(server, options, environment.pg_dump_path)
        seed = None
        if options.seed:
            runs = options.seed_runs or options.runs or SEED_RUNS
            seed = seed_bench.bench_seed(
                server, SCHEMALOCK, PYTHON, WORK_DIR, options.seed_size, runs, WARMUPS, _progress
            )
    text = render(
        environment, commands, sizes, startup, data, started_at, time.perf_counter() - started
    )
    text += f"\n{bench_latency.render(latency)}\n" if latency.sizes else ""
    return text + (f"\n{seed_report.render(seed)}\n" if seed is not None else "")


def _bench_latency(
    server: Server, options: argparse.Namespace, pg_dump_path: str
) -> bench_latency.LatencyResult:
    """verify, verify --no-data and snapshot through a delaying proxy, against pg_dump."""
    measured = []
    for tables in options.latency_sizes:
        plan = PLANS[tables]
        _progress(f"latency, {tables} tables: preparing database {plan.database}")
        database = ensure_database(server, plan.database, plan.schema())
        lock = _snapshot(database.url, WORK_DIR / "locks" / f"{plan.database}.yaml")
        tools = bench_latency.tools(SCHEMALOCK, lock, pg_dump_path, WORK_DIR / "latency.yaml")
        runs = options.runs or LATENCY_RUNS
        measured.append(
            bench_latency.bench_size(
                tables, database.url, tools, options.latency_ms, runs, _progress
            )
        )
    return bench_latency.LatencyResult(options.latency_ms, tuple(measured))


def _describe(server: Server) -> tuple[Environment, int]:
    """The environment for the report, and the server's major version."""
    from schemalock import __version__

    version_number, version_text = server_version(server.admin_url)
    pg_dump_path, pg_dump_version = find_pg_dump(version_number // 10000)
    _progress(f"server: PostgreSQL {version_text}, {server.description}; {pg_dump_version}")
    environment = Environment(
        server_version=version_text,
        server_description=server.description,
        pg_dump_path=pg_dump_path,
        pg_dump_version=pg_dump_version,
        schemalock_version=__version__,
        python_path=PYTHON,
    )
    return environment, version_number // 10000


def _commands(pg_dump_path: str) -> Commands:
    return Commands(
        verify="schemalock verify --no-data --lock <lock> --database-url <url>",
        snapshot="schemalock snapshot --database-url <url> --output <lock>",
        pg_dump=f"{pg_dump_path} --schema-only -f /dev/null -d <url>",
        inspector="python bench/sa_inspector.py <url>",
        version="schemalock --version",
        bare_python="python -c pass",
    )


def _verify_argv(lock: Path, url: str) -> list[str]:
    return [SCHEMALOCK, "verify", "--no-data", "--lock", str(lock), "--database-url", url]


def _pg_dump_argv(pg_dump_path: str, url: str) -> list[str]:
    return [pg_dump_path, "--schema-only", "-f", "/dev/null", "-d", url]


def _inspector_argv(url: str) -> list[str]:
    return [PYTHON, str(BENCH_DIR / "sa_inspector.py"), url]


def _bench_size(
    server: Server,
    plan: SizePlan,
    pg_dump_path: str,
    psql_path: str,
    runs_override: int | None,
) -> SizeResult:
    _progress(f"{plan.tables} tables: preparing database {plan.database}")
    database = ensure_database(server, plan.database, plan.schema())
    if database.build_seconds is not None:
        _progress(f"{plan.tables} tables: built in {database.build_seconds:.1f} s")
    lock = _snapshot(database.url, WORK_DIR / "locks" / f"{plan.database}.yaml")
    runs = runs_override or plan.runs
    pg_dump = _pg_dump_argv(pg_dump_path, database.url)
    verify_pairs = paired_runs(
        _verify_argv(lock, database.url), pg_dump, runs, WARMUPS,
        lambda step: _progress(f"{plan.tables} tables, verify vs pg_dump: {step}"),
    )  # fmt: skip
    inspector_pairs = paired_runs(
        _inspector_argv(database.url), pg_dump, runs, WARMUPS,
        lambda step: _progress(f"{plan.tables} tables, Inspector vs pg_dump: {step}"),
    )  # fmt: skip
    statements = _catalog_statements(database.url, lock, plan.database)
    floor_pairs = paired_runs(
        _floor_argv(psql_path, statements, database.url), pg_dump, runs, WARMUPS,
        lambda step: _progress(f"{plan.tables} tables, catalog statements vs pg_dump: {step}"),
    )  # fmt: skip
    snapshot_pairs = fix_pairs = None
    if plan.tables >= FIX_DRIFTS:  # tables enough for the drifts fix plans
        written = WORK_DIR / "snapshot-timed.yaml"
        snapshot_pairs = paired_runs(
            [*_snapshot_argv(database.url, written)], pg_dump, runs, WARMUPS,
            lambda step: _progress(f"{plan.tables} tables, snapshot vs pg_dump: {step}"),
        )  # fmt: skip
        drifted = _drifted(lock, WORK_DIR / "locks" / f"{plan.database}-drifted.yaml")
        fix_pairs = paired_runs(
            _fix_argv(drifted, database.url, WORK_DIR / "fix-migrations"), pg_dump, runs,
            WARMUPS, lambda step: _progress(f"{plan.tables} tables, fix vs pg_dump: {step}"),
        )  # fmt: skip
    pg_dump_wall, pg_dump_peak = yardstick_summary(
        [
            verify_pairs,
            inspector_pairs,
            floor_pairs,
            *(p for p in (snapshot_pairs, fix_pairs) if p),
        ]
    )
    return SizeResult(
        tables=plan.tables,
        title=plan.title,
        database=database,
        display_url=server.display_url(plan.database),
        counts=catalog_counts(database.url),
        lock_kib=lock.stat().st_size / 1024,
        runs=runs,
        verify=SeriesSummary.of(verify_pairs),
        inspector=SeriesSummary.of(inspector_pairs),
        floor=SeriesSummary.of(floor_pairs),
        pg_dump_wall=pg_dump_wall,
        pg_dump_peak_mib=pg_dump_peak,
        snapshot=SeriesSummary.of(snapshot_pairs) if snapshot_pairs else None,
        fix=SeriesSummary.of(fix_pairs) if fix_pairs else None,
    )


def _catalog_statements(url: str, lock: Path, database: str) -> Path:
    """verify's catalog statements for this database, as a psql script (bench/catalog_floor.py)."""
    script = WORK_DIR / "locks" / f"{database}-catalog.sql"
    argv = [PYTHON, str(BENCH_DIR / "catalog_floor.py"), url, str(lock), str(script)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"bench/catalog_floor.py exited {done.returncode}:\n{done.stderr}")
    return script


def _floor_argv(psql_path: str, script: Path, url: str) -> list[str]:
    """psql runs the script in one session, rows unaligned to /dev/null: the server's work and
    the transfer, next to no client work."""
    return [psql_path, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null",
            "-f", str(script), "-d", url]  # fmt: skip


def _snapshot_argv(url: str, output: Path) -> list[str]:
    """snapshot refuses to overwrite a file it did not write: a fresh name every run."""
    return ["/bin/sh", "-c", 'rm -f "$1" && exec "$0" snapshot --database-url "$2" --output "$1"',
            SCHEMALOCK, str(output), url]  # fmt: skip


def _fix_argv(lock: Path, url: str, migrations: Path) -> list[str]:
    """fix planning (no --apply) into a fresh migrations folder every run: a revision left
    by the last run would be the reviewed one."""
    return ["/bin/sh", "-c", 'rm -rf "$1" && exec "$0" fix --lock "$2" --database-url "$3"'
            ' --migrations "$1"', SCHEMALOCK, str(migrations), str(lock), url]  # fmt: skip


def _drifted(lock: Path, drifted: Path) -> Path:
    """The lock with an index on FIX_DRIFTS tables the database lacks: the plan `fix` makes is
    FIX_DRIFTS CREATE INDEX CONCURRENTLY steps.  Written by a child process: reading a 4 MB
    lock here would grow this process by some 300 MB, and every process it starts after
    reports at least this process's peak as its own (Linux carries the parent's peak RSS
    into a child through fork and exec)."""
    script = (
        "import sys, yaml\n"
        "document = yaml.safe_load(open(sys.argv[1], encoding='utf-8'))\n"
        "for number, table in enumerate(list(document['tables'].values())[:int(sys.argv[3])]):\n"
        "    column = next(iter(table['columns']))\n"
        "    table.setdefault('indexes', {})[f'bench_drift_{number}'] = {'columns': [column]}\n"
        "with open(sys.argv[2], 'w', encoding='utf-8') as out:\n"
        "    yaml.safe_dump(document, out, sort_keys=False)\n"
    )
    argv = [PYTHON, "-c", script, str(lock), str(drifted), str(FIX_DRIFTS)]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"writing the drifted lock failed:\n{done.stderr}")
    return drifted


def _snapshot(url: str, lock: Path) -> Path:
    """Write the lock verify will check (untimed: it is the setup, not the measurement)."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    argv = [SCHEMALOCK, "snapshot", "--database-url", url, "--output", str(lock)]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"`schemalock snapshot` exited {done.returncode}:\n{done.stderr}")
    return lock


def _bench_data(server: Server, server_major: int, runs_override: int | None) -> DataResult:
    _progress(f"data: preparing database {bench_data.DATABASE} (builds in about a minute)")
    database = bench_data.ensure_data_database(server, _progress)
    if database.build_seconds is not None:
        _progress(f"data: built in {database.build_seconds:.1f} s")
    url = database.url
    psql_path, psql_version = find_psql(server_major)
    bench_data.prepare_lock(_snapshot(url, DATA_LOCK))
    runs = runs_override or DATA_RUNS
    verify = [SCHEMALOCK, "verify", "--lock", str(DATA_LOCK), "--database-url", url]
    orphans = [*verify, "--select", "fk-orphans", "--format", "json"]
    orphan_count = [psql_path, "-X", "-At", "-d", url, "-c", bench_data.ORPHAN_COUNT_SQL]

    # Checked, untimed: both sides find exactly what the generator put there.
    counted = _psql_count(orphan_count)
    if counted != bench_data.EXPECTED_ORPHANS:
        raise BenchError(
            f"B1 counted {counted} orphans, the generator made {bench_data.EXPECTED_ORPHANS}"
        )
    before = bench_data.scan_counters(url, bench_data.TABLES)
    report = _json_run(orphans, expect=(1,))
    time.sleep(bench_data.STATS_SETTLE_S)
    after_one = bench_data.scan_counters(url, bench_data.TABLES)
    found = _check_orphans(report)
    _progress(f"data: verify found {bench_data.EXPECTED_ORPHANS:,} orphans, as generated")

    pairs = paired_runs(
        orphans, orphan_count, runs, WARMUPS,
        lambda step: _progress(f"data, verify --select fk-orphans vs psql NOT EXISTS: {step}"),
        subject_exit=(1,),
    )  # fmt: skip
    time.sleep(bench_data.STATS_SETTLE_S)
    after_all = bench_data.scan_counters(url, bench_data.TABLES)
    check_only = orphan_check_pairs(
        url, DATA_LOCK, runs, WARMUPS,
        lambda step: _progress(f"data, the orphan check alone vs NOT EXISTS, in-process: {step}"),
    )  # fmt: skip
    # Structure only, for the split: exits 1 as the lock's child.parent_id has no FK (SL109).
    structure = series(
        [*verify, "--no-data"], runs, WARMUPS,
        lambda step: _progress(f"data, verify --no-data: {step}"),
        expect=(1,),
    )  # fmt: skip
    mock, mock_note = _bench_mock(verify, psql_path, url, runs)

    proven = bench_data.PROVEN_TABLE
    shown_verify = "schemalock verify --lock bench/work/data_lock.yaml --database-url <url>"
    shown_psql = f"{Path(psql_path).name} -X -At -d <url> -c"
    commands = {  # markdown, as the report lists them
        "A1": f"`{shown_verify} --select fk-orphans --format json` (exits 1: orphans)",
        "B1": f'`{shown_psql} "{bench_data.ORPHAN_COUNT_SQL}"`',
        "structure only": f"`{shown_verify} --no-data` (exits 1: SL109, `child` has no FK)",
    }
    if mock is not None:
        commands["A2"] = f"`{shown_verify} {mock.arguments}`"
        commands["B2"] = f'`{shown_psql} "{bench_data.MOCK_COUNT_SQL}"`'
    return DataResult(
        database=database,
        display_url=server.display_url(bench_data.DATABASE),
        facts=bench_data.describe(url),
        psql=f"{psql_version} (`{psql_path}`)",
        runs=runs,
        warmups=WARMUPS,
        commands=commands,
        orphans=SeriesSummary.of(pairs),
        orphan_check=check_only,
        orphans_found=found + f"  B1 counted {counted:,}.",
        structure_wall=Spread.of([run.wall_s for run in structure]),
        structure_peak_mib=Spread.of([run.peak_mib for run in structure]),
        proven_table=proven,
        proven_one_run=after_one[proven].minus(before[proven]),
        proven_all_runs=after_all[proven].minus(before[proven]),
        proven_runs=1 + WARMUPS + runs,
        control_one_run={
            table: after_one[table].minus(before[table])
            for table in bench_data.TABLES
            if table != proven
        },
        rows=bench_data.ROWS,
        mock=mock,
        mock_note=mock_note,
    )


def _check_orphans(report: dict[str, Any]) -> str:
    """What A1 reported, after checking it against the generator."""
    if report["inconclusive"]:
        raise BenchError(f"A1 was inconclusive: {report['inconclusive']}")
    findings = report["findings"]
    wanted = bench_data.EXPECTED_ORPHANS
    if len(findings) != 1 or findings[0]["code"] != "SL201" or findings[0]["table"] != "child":
        raise BenchError(f"A1 should report one SL201 finding on child, reported: {findings}")
    if findings[0]["count"] != wanted:
        raise BenchError(f"A1 counted {findings[0]['count']} orphans, the generator made {wanted}")
    samples = ", ".join(findings[0]["samples"])
    return (
        f"Checked once before timing: A1 exits 1 with one finding, SL201 on "
        f"`child.parent_id`, {wanted:,} orphan rows (the generator made {wanted:,}), sample "
        f"keys {samples}; nothing on `{bench_data.PROVEN_TABLE}`, nothing inconclusive."
    )


def _bench_mock(
    verify: list[str], psql_path: str, url: str, runs: int
) -> tuple[MockResult | None, str | None]:
    """A2/B2, or (None, why not)."""
    rules = subprocess.run([SCHEMALOCK, "rules"], capture_output=True, text=True, check=True)
    if not any(line.split()[1:2] == [MOCK_RULE] for line in rules.stdout.splitlines()):
        _progress(f"data: no rule {MOCK_RULE} in this build: A2/B2 skipped")
        return None, f"{MOCK_RULE} rule not available in this build"
    subject = [*verify, "--select", MOCK_RULE, "--format", "json"]
    yardstick = [psql_path, "-X", "-At", "-d", url, "-c", bench_data.MOCK_COUNT_SQL]
    counted = _psql_count(yardstick)
    if counted != bench_data.EXPECTED_TEST_USER_ROWS:
        raise BenchError(
            f"B2 counted {counted} rows, the generator made {bench_data.EXPECTED_TEST_USER_ROWS}"
        )
    # Once at the default statement_timeout; if a query hits it, time with a higher one.
    exit_code, report = _json_run_any(subject)
    warmups, note = WARMUPS, ""
    if any("statement_timeout" in entry["reason"] for entry in report["inconclusive"]):
        tables = ", ".join(f"`{entry['table']}`" for entry in report["inconclusive"])
        note = (
            f"At the default `--statement-timeout` (30 s) A2 is inconclusive on {tables}: a "
            f"query reached statement_timeout.  Timed with `--statement-timeout "
            f"{MOCK_TIMEOUT_S}` instead; its untimed check run is the warm-up.  "
        )
        subject = [*subject, "--statement-timeout", str(MOCK_TIMEOUT_S)]
        _progress(
            f"data: A2 hit statement_timeout; again with --statement-timeout {MOCK_TIMEOUT_S}"
        )
        exit_code, report = _json_run_any(subject)
        warmups = 0
    if report["inconclusive"]:
        return None, f"{note}A2 was inconclusive, so not timed: {report['inconclusive']}"
    findings = tuple(
        f"{finding['code']} on `{finding['table']}.{finding['column']}`: {finding['message']}"
        for finding in report["findings"]
    )
    pairs = paired_runs(
        subject, yardstick, runs, warmups,
        lambda step: _progress(f"data, verify --select {MOCK_RULE} vs psql ~*: {step}"),
        subject_exit=(exit_code,),
    )  # fmt: skip
    shown = " ".join(subject[subject.index("--select") :])
    return MockResult(
        SeriesSummary.of(pairs), counted, findings, shown
    ), f"{note}A2 exits {exit_code}."


def _psql_count(argv: list[str]) -> int:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"`{' '.join(argv)}` exited {done.returncode}:\n{done.stderr}")
    return int(done.stdout.strip())


def _json_run(argv: list[str], expect: Collection[int]) -> dict[str, Any]:
    exit_code, report = _json_run_any(argv)
    if exit_code not in expect:
        raise BenchError(f"`{' '.join(argv)}` exited {exit_code}, expected {expect}")
    return report


def _json_run_any(argv: list[str]) -> tuple[int, dict[str, Any]]:
    """(exit code, the JSON report) of one verify run: 0 clean, 1 findings, 4 inconclusive;
    anything else is an error."""
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode not in (0, 1, 4):
        raise BenchError(f"`{' '.join(argv)}` exited {done.returncode}:\n{done.stderr}")
    report: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, report


def _bench_startup(runs: int) -> StartupResult:
    _byte_compile()
    version = paired_runs(
        [SCHEMALOCK, "--version"], [PYTHON, "-c", "pass"], runs, STARTUP_WARMUPS,
        lambda step: _progress(f"start-up, schemalock --version vs python -c pass: {step}"),
    )  # fmt: skip
    help_ = paired_runs(
        [SCHEMALOCK, "verify", "--help"], [PYTHON, "-c", "pass"], runs, STARTUP_WARMUPS,
        lambda step: _progress(f"start-up, schemalock verify --help vs python -c pass: {step}"),
    )  # fmt: skip
    return StartupResult(runs, STARTUP_WARMUPS, SeriesSummary.of(version), SeriesSummary.of(help_))


def _byte_compile() -> None:
    """Compile schemalock's modules to bytecode as an install does: with
    PYTHONDONTWRITEBYTECODE set (as on these machines) every run would otherwise compile the
    source again (10 ms of `verify --help`), which no installed copy does."""
    import compileall

    import schemalock

    compileall.compile_dir(str(Path(schemalock.__file__).parent), quiet=1)


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
