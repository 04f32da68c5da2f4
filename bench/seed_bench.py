"""The seed-shaped data benchmark: verify's every data question against its hand-written twin.

1. Build `bench_seed` (seed_build.py), snapshot it, add the seed lock's data rules.
2. Run verify once in-process under seed_capture.py: every data question it asked, its SQL,
   its parameters and the rows it got.  Check each answer against its twin's (identical counts,
   as many samples); any difference stops the benchmark.
3. Per question, on ONE connection (a psql session): verify's own statements, then the twin's,
   alternating, after a warm-up round.  This is the server's time for each (loopback: the
   client adds well under a millisecond); inside verify the same statements go out in a
   pipeline, so verify's own -vv timings cannot be split per statement.
4. The whole run: `schemalock verify` (structure + data, one process, its JSON report), paired
   with every twin run in order on one fresh connection (connect included).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import seed_build
import seed_twins
from bench_server import BenchError, BuiltDatabase, Server
from bench_timing import Spread, run_process
from seed_twins import Question, Twin

BENCH_DIR = Path(__file__).resolve().parent
STATEMENT_TIMEOUT_S = 900  # verify's default 30 s would cut 10M-row scans short
MAX_RULE_RATIO = 1.5
MAX_WHOLE_RATIO = 1.5
Progress = Callable[[str], None]


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    twin_sql: str
    answer: str
    verify: Spread  # seconds, verify's statements for the question
    twin: Spread
    ratio: Spread  # per round

    @property
    def met(self) -> bool:
        return self.ratio.median <= MAX_RULE_RATIO


@dataclass(frozen=True)
class SeedResult:
    size: seed_build.Size
    database: BuiltDatabase
    display_url: str
    server_version: str
    runs: int
    questions: tuple[QuestionResult, ...]
    whole_verify: Spread
    whole_twins: Spread
    whole_ratio: Spread
    verify_exit: int
    findings: tuple[str, ...]
    slowest_plan: str  # EXPLAIN ANALYZE of verify's slowest statement
    slowest_twin_plan: str
    facts: str

    @property
    def whole_met(self) -> bool:
        return self.whole_ratio.median <= MAX_WHOLE_RATIO


SIZE_ENV = "SCHEMALOCK_BENCH_SEED_SIZE"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seed",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the seed-shaped data benchmark: every data question verify asks "
        "against its hand-written twin (default: on)",
    )
    parser.add_argument("--seed-only", action="store_true", help="only the seed-shaped benchmark")
    parser.add_argument(
        "--seed-size",
        type=_size,
        default=os.environ.get(SIZE_ENV, "default"),
        help="organizations/jobs/quota_usage rows: `default` (10k/200k/1M), `full` "
        f"(100k/2M/10M, the issue's) or e.g. 50k/1M/5M (default: ${SIZE_ENV} or default)",
    )
    parser.add_argument(
        "--seed-runs",
        type=int,
        default=None,
        help="rounds per question and whole-run pairs of the seed-shaped benchmark (default: "
        "--runs, else 3; at the full size one round takes minutes)",
    )


def settle_arguments(parser: argparse.ArgumentParser, options: argparse.Namespace) -> None:
    """--seed-only runs nothing else; --latency-only runs no seed benchmark."""
    if isinstance(options.seed_size, str):  # argparse does not convert a default
        try:
            options.seed_size = seed_build.parse_size(options.seed_size)
        except ValueError as error:
            parser.error(f"${SIZE_ENV}: {error}")
    if options.seed_only:
        if options.data_only or options.latency_only or options.sizes is not None:
            parser.error("--seed-only runs nothing else: drop --data-only, --latency-only, --sizes")
        options.sizes, options.data, options.seed = None, False, True
        options.data_only = True  # no structure sizes, no start-up
        options.latency_ms, options.latency_sizes = 0, []
    if options.latency_only:
        options.seed = False


def _size(value: str) -> seed_build.Size:
    try:
        return seed_build.parse_size(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def bench_seed(
    server: Server,
    schemalock: str,
    python: str,
    work_dir: Path,
    size: seed_build.Size,
    runs: int,
    warmups: int,
    progress: Progress,
) -> SeedResult:
    progress(f"seed: preparing database {seed_build.DATABASE} at {size.label}")
    database = seed_build.ensure_seed_database(server, size, progress)
    if database.build_seconds is not None:
        progress(f"seed: built in {database.build_seconds:.1f} s")
    url = database.url
    lock = work_dir / "seed_lock.yaml"
    done = subprocess.run(
        [schemalock, "snapshot", "--database-url", url, "--output", str(lock)],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise BenchError(f"`schemalock snapshot` exited {done.returncode}:\n{done.stderr}")
    seed_twins.edit_lock(lock)
    verify = [schemalock, "verify", "--lock", str(lock), "--database-url", url,
              "--statement-timeout", str(STATEMENT_TIMEOUT_S), "--format", "json"]  # fmt: skip

    progress("seed: verify once, every data question written down")
    asked, exit_code, report = _capture(python, verify[1:], work_dir)
    if report["inconclusive"]:
        raise BenchError(f"seed: verify was inconclusive: {report['inconclusive']}")
    questions = seed_twins.group(asked)
    findings = tuple(
        f"{f['code']} {f['table']}.{f.get('column') or ''}: {f['message']}"
        for f in report["findings"]
    )
    _check_planted(report, size)

    with _session(url) as connection:
        version = str(connection.execute("SELECT version()").fetchone()[0])  # type: ignore[index]
        tables = seed_twins.columns(connection)
        twins = [seed_twins.twin(q, tables, connection) for q in questions]
        _check_answers(connection, questions, twins)
        progress(f"seed: {len(questions)} questions, verify's answers equal the twins'")
        results = [
            _time_question(connection, q, t, runs, warmups, progress)
            for q, t in zip(questions, twins, strict=True)
        ]
        slowest = max(results, key=lambda r: r.verify.median)
        slowest_plan = _explain(connection, slowest.question.statements)
        slowest_twin = twins[questions.index(slowest.question)]
        slowest_twin_plan = _explain_twin(connection, slowest_twin.first)

    whole_v, whole_t, ratios = [], [], []
    for number in range(-warmups + 1, runs + 1):
        run = run_process(verify, expect=(exit_code,))
        started = time.perf_counter()
        with _session(url) as connection:
            for one in twins:
                one.run(connection)
        twins_s = time.perf_counter() - started
        if number >= 1:
            whole_v.append(run.wall_s)
            whole_t.append(twins_s)
            ratios.append(run.wall_s / twins_s)
        step = f"pair {number}" if number >= 1 else "warm-up"
        progress(f"seed, whole verify vs every twin, {step}: {run.wall_s:.2f} s vs {twins_s:.2f} s")
    return SeedResult(
        size=size,
        database=database,
        display_url=server.display_url(seed_build.DATABASE),
        server_version=version.split(" on ")[0],
        runs=runs,
        questions=tuple(results),
        whole_verify=Spread.of(whole_v),
        whole_twins=Spread.of(whole_t),
        whole_ratio=Spread.of(ratios),
        verify_exit=exit_code,
        findings=findings,
        slowest_plan=slowest_plan,
        slowest_twin_plan=slowest_twin_plan,
        facts=_facts(url, size),
    )


def _session(url: str) -> psycopg.Connection[Any]:
    """A psql-like session: autocommit, and no server-side prepared statements (psycopg would
    prepare a query run five times, which psql never does)."""
    connection = psycopg.connect(url, autocommit=True)
    connection.prepare_threshold = None
    return connection


def _capture(
    python: str, verify_args: list[str], work_dir: Path
) -> tuple[list[dict[str, Any]], int, dict[str, Any]]:
    out = work_dir / "seed_questions.json"
    with tempfile.TemporaryFile() as stderr:
        done = subprocess.run(
            [python, str(BENCH_DIR / "seed_capture.py"), str(out), *verify_args],
            stdout=subprocess.PIPE, stderr=stderr, text=True,
        )  # fmt: skip
        if done.returncode not in (0, 1):
            stderr.seek(0)
            raise BenchError(
                f"seed: verify exited {done.returncode}:\n{stderr.read().decode()[-4000:]}"
            )
    asked: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))
    return asked, done.returncode, json.loads(done.stdout)


def _check_planted(report: dict[str, Any], size: seed_build.Size) -> None:
    """verify's orphan counts are the generator's."""
    planted = size.planted()
    wanted = {
        "jobs": _residues(size.jobs, size.jobs // planted.orphan_jobs, 0),
        "quota_usage": _residues(size.quota_usage, size.quota_usage // planted.orphan_usage, 0),
    }
    got = {f["table"]: f["count"] for f in report["findings"] if f["code"] == "SL201"}
    if got != wanted:
        raise BenchError(f"seed: verify counted orphans {got}, the generator planted {wanted}")


def _residues(count: int, modulus: int, remainder: int) -> int:
    first = remainder or modulus
    return 0 if count < first else (count - first) // modulus + 1


def _verify_rows(connection: psycopg.Connection[Any], statement: dict[str, Any]) -> list[Any]:
    params = statement["params"]
    cursor = (
        connection.execute(statement["sql"], params)
        if params
        else connection.execute(statement["sql"].encode())
    )
    return [list(row) for row in cursor.fetchall()]


def _check_answers(
    connection: psycopg.Connection[Any], questions: list[Question], twins: list[Twin]
) -> None:
    """verify's answers (as it got them, and replayed) equal the twins', or the benchmark
    stops: a faster wrong answer measures nothing."""
    wrong = []
    for question, one in zip(questions, twins, strict=True):
        main = question.statements[-1]  # the scan, after the checks that read no row
        captured = seed_twins.answer(question, main["rows"])
        replayed = seed_twins.answer(question, _verify_rows(connection, main))
        handmade = seed_twins.answer(question, one.run(connection))
        if not captured == replayed == handmade:
            wrong.append(
                f"{question.label}: verify {captured}, replayed {replayed}, twin {handmade}"
            )
    if wrong:
        raise BenchError("seed: answers differ:\n  " + "\n  ".join(wrong))


def _time_question(
    connection: psycopg.Connection[Any],
    question: Question,
    one: Twin,
    runs: int,
    warmups: int,
    progress: Progress,
) -> QuestionResult:
    mine, theirs = [], []
    found: list[Any] = []
    for number in range(warmups + runs):
        started = time.perf_counter()
        for statement in question.statements:
            _verify_rows(connection, statement)
        verify_s = time.perf_counter() - started
        started = time.perf_counter()
        found = one.run(connection)
        twin_s = time.perf_counter() - started
        if number >= warmups:
            mine.append(verify_s)
            theirs.append(twin_s)
    ratios = [a / b for a, b in zip(mine, theirs, strict=True)]
    result = QuestionResult(
        question=question,
        twin_sql=one.shown,
        answer=seed_twins.shown_answer(question, seed_twins.answer(question, found)),
        verify=Spread.of(mine),
        twin=Spread.of(theirs),
        ratio=Spread.of(ratios),
    )
    progress(
        f"seed, {question.label}: {result.verify.median * 1000:.0f} ms vs "
        f"{result.twin.median * 1000:.0f} ms, {statistics.median(ratios):.2f}x"
    )
    return result


def _explain(connection: psycopg.Connection[Any], statements: tuple[dict[str, Any], ...]) -> str:
    statement = statements[-1]
    query = "EXPLAIN (ANALYZE, BUFFERS, VERBOSE OFF) " + statement["sql"]
    params = statement["params"]
    cursor = connection.execute(query, params) if params else connection.execute(query.encode())
    return "\n".join(str(row[0]) for row in cursor.fetchall())


def _explain_twin(connection: psycopg.Connection[Any], first: str) -> str:
    rows = connection.execute(("EXPLAIN (ANALYZE, BUFFERS) " + first).encode()).fetchall()
    return "\n".join(str(row[0]) for row in rows)


def _facts(url: str, size: seed_build.Size) -> str:
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT relname, pg_table_size(oid), pg_indexes_size(oid) FROM pg_class"
            " WHERE relname IN ('organizations', 'jobs', 'quota_usage')"
            " AND relnamespace = 'public'::regnamespace ORDER BY relname"
        ).fetchall()
        settings = connection.execute(
            "SELECT current_setting('shared_buffers'), current_setting('work_mem'),"
            " current_setting('max_parallel_workers_per_gather'), current_setting('jit')"
        ).fetchone()
    assert settings is not None
    sizes = ", ".join(
        f"`{name}` {heap / 2**20:,.0f} MiB + {index / 2**20:,.0f} MiB of indexes"
        for name, heap, index in rows
    )
    p = size.planted()
    return (
        f"`organizations` {size.organizations:,} rows, `jobs` {size.jobs:,}, `quota_usage` "
        f"{size.quota_usage:,} ({sizes}).  Planted: `jobs` {p.orphan_jobs:,} orphan `org_id` "
        f"(text holding uuids, no FK possible), {p.mock_jobs} mock rows (`metadata` "
        f'`{{"source": "mock"}}`), {p.bad_status} statuses not among the values, '
        f"{p.bad_run_ids} `apify_run_id` breaking the pattern; `quota_usage` "
        f"{p.orphan_usage:,} orphan `job_id` (uuid, no FK), {p.mock_usage} mock rows "
        f'(fixture ids and `{{"is_test": true}}`); `organizations` {p.mock_orgs} named '
        f"'Acme Mock Org'.  `quota_usage.org_id` has a validated FK (verify must not scan it). "
        f"Server settings: shared_buffers {settings[0]}, work_mem {settings[1]}, "
        f"max_parallel_workers_per_gather {settings[2]}, jit {settings[3]}."
    )


if __name__ == "__main__":
    sys.exit("run bench/run.py --seed-only")
