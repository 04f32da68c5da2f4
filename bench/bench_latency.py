"""A cloud database is far away: verify (with and without data checks) and snapshot through a
proxy adding a delay each way (bench/latency_proxy.py), paired with pg_dump --schema-only
through the same proxy, and each also on loopback (no proxy); the proxy counts the round
trips and statements of one run of each tool."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench_timing import Spread, paired_runs, run_process, series
from latency_proxy import proxied_url

DEFAULT_DELAY_MS = 10.0
# The target: through 10 ms each way, verify with data checks at 5,000 tables takes at
# most this much longer than on loopback.
TARGET_TABLES, TARGET_EXTRA_S = 5000, 2.0

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Tool:
    label: str
    argv: Callable[[str], list[str]]  # the command for a database URL
    exits: tuple[int, ...] = (0,)


@dataclass(frozen=True)
class ToolResult:
    label: str
    loopback: Spread  # wall s, direct
    far: Spread  # wall s, through the proxy
    ratio: Spread  # per pair: far / pg_dump far, in the same pair
    round_trips: int
    statements: int

    @property
    def extra_s(self) -> float:
        return self.far.median - self.loopback.median


@dataclass(frozen=True)
class LatencySize:
    tables: int
    runs: int
    tools: tuple[ToolResult, ...]  # pg_dump last


@dataclass(frozen=True)
class LatencyResult:
    delay_ms: float
    sizes: tuple[LatencySize, ...]


def tools(schemalock: str, lock: Path, pg_dump: str, output: Path) -> list[Tool]:
    """What is measured: schemalock's three commands and the yardstick, last."""
    verify = [schemalock, "verify", "--lock", str(lock)]
    return [
        Tool("`verify` (structure and data)", lambda url: [*verify, "--database-url", url], (0, 1)),
        Tool(
            "`verify --no-data`",
            lambda url: [*verify, "--no-data", "--database-url", url],
            (0, 1),
        ),
        Tool(
            "`snapshot`",
            lambda url: [schemalock, "snapshot", "--database-url", url, "--output", str(output)],
        ),
        Tool(
            "`pg_dump --schema-only`",
            lambda url: [pg_dump, "--schema-only", "-f", "/dev/null", "-d", url],
        ),
    ]


def bench_size(
    tables: int,
    url: str,
    measured: Sequence[Tool],
    delay_ms: float,
    runs: int,
    progress: Progress,
) -> LatencySize:
    """Each tool `runs` times through the proxy, paired with pg_dump through it (pg_dump's own
    row: its runs from every pair), and `runs` times on loopback; one counted run each."""
    *subjects, yardstick = measured
    results: list[ToolResult] = []
    yardstick_far: list[float] = []
    with proxied_url(url, delay_ms / 1000) as (far_url, proxy):
        counted = {}
        for tool in measured:
            before = proxy.counts()
            run_process(tool.argv(far_url), tool.exits)
            counted[tool.label] = proxy.counts().minus(before)
        for tool in subjects:
            pairs = paired_runs(
                tool.argv(far_url), yardstick.argv(far_url), runs, 0,
                _telling(progress, f"{tables} tables, {tool.label} through the proxy"),
                subject_exit=tool.exits,
            )  # fmt: skip
            yardstick_far += [pair.yardstick.wall_s for pair in pairs]
            results.append(
                ToolResult(
                    tool.label,
                    _loopback(tool, url, runs, progress, tables),
                    Spread.of([pair.subject.wall_s for pair in pairs]),
                    Spread.of([pair.ratio for pair in pairs]),
                    counted[tool.label].round_trips,
                    counted[tool.label].statements,
                )
            )
    results.append(
        ToolResult(
            yardstick.label,
            _loopback(yardstick, url, runs, progress, tables),
            Spread.of(yardstick_far),
            Spread.of([1.0]),
            counted[yardstick.label].round_trips,
            counted[yardstick.label].statements,
        )
    )
    return LatencySize(tables, runs, tuple(results))


def _telling(progress: Progress, what: str) -> Progress:
    return lambda step: progress(f"{what}: {step}")


def _loopback(tool: Tool, url: str, runs: int, progress: Progress, tables: int) -> Spread:
    done = series(
        tool.argv(url), runs, 1,
        lambda step: progress(f"{tables} tables, {tool.label} on loopback: {step}"),
        expect=tool.exits,
    )  # fmt: skip
    return Spread.of([run.wall_s for run in done])


def render(result: LatencyResult) -> str:
    """The report's section, with the issue's target judged."""
    lines = [
        f"## A far-away database: {result.delay_ms:g} ms each way",
        "",
        "Each command through `bench/latency_proxy.py` (an asyncio TCP proxy in the benchmark's "
        f"process that delays every chunk {result.delay_ms:g} ms each way, in order), paired "
        "with `pg_dump --schema-only` through the same proxy (the ratio is per pair), and the "
        "same command directly on loopback; `extra` is the median through the proxy minus the "
        "median on loopback.  Round trips and statements are counted by the proxy in one "
        "more run of each (Query and Sync messages: where libpq waits for the server; Query "
        "and Execute messages), connection set-up not included.",
    ]
    for size in result.sizes:
        lines += [
            "",
            f"### {size.tables:,} tables ({size.runs} pairs)",
            "",
            "| command | loopback s | far s | extra s | ratio vs far pg_dump | round trips "
            "| statements |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {tool.label} | {tool.loopback.show(3)} | {tool.far.show(3)} | "
            f"{tool.extra_s:.2f} | {tool.ratio.show(2)} | {tool.round_trips:,} | "
            f"{tool.statements:,} |"
            for tool in size.tools
        ]
    lines += ["", *targets(result)]
    return "\n".join(lines)


def targets(result: LatencyResult) -> list[str]:
    """The target's row, PASS or MISS (or not measured at this run's sizes)."""
    measured, verdict = "not measured at this run's sizes (`--latency-sizes ...,5000`)", "-"
    for size in result.sizes:
        if size.tables == TARGET_TABLES:
            extra = size.tools[0].extra_s
            measured = f"{extra:.2f} s more"
            verdict = "PASS" if extra <= TARGET_EXTRA_S else "MISS"
    trips = [size.tools[0].round_trips for size in result.sizes]
    return [
        "| target | measured | result |",
        "|---|---|---|",
        f"| through {result.delay_ms:g} ms each way, `verify` with data checks at "
        f"{TARGET_TABLES:,} tables at most {TARGET_EXTRA_S:g} s more than on loopback | "
        f"{measured} | {verdict} |",
        "| round trips of `verify` with data checks the same at every size | "
        f"{' / '.join(f'{t:,}' for t in trips)} | {'PASS' if len(set(trips)) == 1 else 'MISS'} |",
    ]
