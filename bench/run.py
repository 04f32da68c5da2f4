"""`make bench`: time `schemalock verify` against pg_dump on 12, 500 and 5,000 tables.

    python bench/run.py [--sizes 12,500] [--runs N] [--output bench/RESULTS.md]

Writes bench/RESULTS.md and prints the same.  SCHEMALOCK_BENCH_DATABASE_URL points it at an
existing server; otherwise it starts an embedded PostgreSQL 18 under bench/work/.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench_ddl import SMALL_SAAS_SCHEMA, TableDDL, synthetic_schema
from bench_report import Commands, Environment, SizeResult, StartupResult, render
from bench_server import (
    BenchError,
    Server,
    catalog_counts,
    ensure_database,
    find_pg_dump,
    open_server,
    server_version,
)
from bench_timing import SeriesSummary, paired_runs, yardstick_summary

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / "work"
# The interpreter running this (the project's .venv under `make bench`) and its console script.
PYTHON = sys.executable
SCHEMALOCK = str(Path(sys.executable).parent / "schemalock")
WARMUPS = 1
STARTUP_RUNS = 15
STARTUP_WARMUPS = 2


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
    parser = argparse.ArgumentParser(description="Benchmark schemalock verify against pg_dump.")
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=list(PLANS),
        help="comma-separated table counts to run, from 12,500,5000 (default: all)",
    )
    parser.add_argument(
        "--runs", type=_positive, help="pairs per series instead of 7/7/5 and 15 (a quick check)"
    )
    parser.add_argument(
        "--output", type=Path, default=BENCH_DIR / "RESULTS.md", help="where to write the report"
    )
    return parser.parse_args(argv)


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
    startup = _bench_startup(options.runs or STARTUP_RUNS)
    with open_server(WORK_DIR) as server:
        environment = _describe(server)
        commands = _commands(environment.pg_dump_path)
        sizes = [
            _bench_size(server, PLANS[tables], environment.pg_dump_path, options.runs)
            for tables in options.sizes
        ]
    return render(environment, commands, sizes, startup, started_at, time.perf_counter() - started)


def _describe(server: Server) -> Environment:
    from schemalock import __version__

    version_number, version_text = server_version(server.admin_url)
    pg_dump_path, pg_dump_version = find_pg_dump(version_number // 10000)
    _progress(f"server: PostgreSQL {version_text}, {server.description}; {pg_dump_version}")
    return Environment(
        server_version=version_text,
        server_description=server.description,
        pg_dump_path=pg_dump_path,
        pg_dump_version=pg_dump_version,
        schemalock_version=__version__,
        python_path=PYTHON,
    )


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
    server: Server, plan: SizePlan, pg_dump_path: str, runs_override: int | None
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
    pg_dump_wall, pg_dump_peak = yardstick_summary([verify_pairs, inspector_pairs])
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
        pg_dump_wall=pg_dump_wall,
        pg_dump_peak_mib=pg_dump_peak,
    )


def _snapshot(url: str, lock: Path) -> Path:
    """Write the lock verify will check (untimed: it is the setup, not the measurement)."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    argv = [SCHEMALOCK, "snapshot", "--database-url", url, "--output", str(lock)]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"`schemalock snapshot` exited {done.returncode}:\n{done.stderr}")
    return lock


def _bench_startup(runs: int) -> StartupResult:
    pairs = paired_runs(
        [SCHEMALOCK, "--version"], [PYTHON, "-c", "pass"], runs, STARTUP_WARMUPS,
        lambda step: _progress(f"start-up, schemalock --version vs python -c pass: {step}"),
    )  # fmt: skip
    return StartupResult(runs, STARTUP_WARMUPS, SeriesSummary.of(pairs))


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
