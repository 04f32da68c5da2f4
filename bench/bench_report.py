"""The machine description and the Markdown report (bench/RESULTS.md, also printed)."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench_check import CheckPairs
from bench_data import ScanCounters
from bench_server import BuiltDatabase, CatalogCounts
from bench_timing import SeriesSummary, Spread

# The targets: reported next to the figures, never asserted.
MAX_VERIFY_RATIO_5000 = 0.5
MAX_VERIFY_PEAK_MB_5000 = 150.0
MAX_VERIFY_RATIO_12 = 2.5
MAX_SNAPSHOT_RATIO_5000 = 1.0
MAX_FIX_RATIO_5000 = 1.5
# The drifts `fix` plans in the size benchmark: an index the lock gives each of this many
# tables and the database lacks (the issue measured planning with 70).
FIX_DRIFTS = 70
MAX_VERSION_RATIO = 5.0
MAX_HELP_RATIO = 8.0
MAX_ORPHAN_RATIO = 1.1
MAX_MOCK_RATIO = 1.5


@dataclass(frozen=True)
class Environment:
    server_version: str
    server_description: str
    pg_dump_path: str
    pg_dump_version: str
    schemalock_version: str
    python_path: str


@dataclass(frozen=True)
class Commands:
    verify: str
    snapshot: str
    pg_dump: str
    inspector: str
    version: str
    bare_python: str


@dataclass(frozen=True)
class SizeResult:
    tables: int
    title: str
    database: BuiltDatabase
    display_url: str
    counts: CatalogCounts
    lock_kib: float
    runs: int
    verify: SeriesSummary
    inspector: SeriesSummary
    # verify's catalog statements alone, one psql session (bench/catalog_floor.py): the floor
    floor: SeriesSummary
    pg_dump_wall: Spread
    pg_dump_peak_mib: Spread
    snapshot: SeriesSummary | None = None  # `schemalock snapshot`, paired with pg_dump
    fix: SeriesSummary | None = None  # `schemalock fix` planning FIX_DRIFTS drifts, no --apply


@dataclass(frozen=True)
class StartupResult:
    runs: int
    warmups: int
    version: SeriesSummary  # `schemalock --version`, paired with `python -c pass`
    help: SeriesSummary  # `schemalock verify --help`, paired the same way


@dataclass(frozen=True)
class MockResult:
    """A2 `verify --select mock-data` paired with B2 one `count(*) ... ~*`."""

    series: SeriesSummary
    yardstick_count: int  # rows B2 counted
    findings: tuple[str, ...]  # what verify reported, one line each
    arguments: str  # A2's arguments after the lock and URL, as timed


@dataclass(frozen=True)
class DataResult:
    database: BuiltDatabase
    display_url: str
    facts: str  # what the database holds, one paragraph
    psql: str  # path and version
    runs: int
    warmups: int
    commands: dict[str, str]  # label -> the command, as Markdown
    orphans: SeriesSummary  # A1, paired with B1
    orphan_check: CheckPairs  # the check's query alone vs the count, in one process
    orphans_found: str  # what verify reported and psql counted, checked against the generator
    structure_wall: Spread  # `verify --no-data` alone, unpaired
    structure_peak_mib: Spread
    proven_table: str
    proven_one_run: ScanCounters  # the FK-proven table, over one verify run alone
    proven_all_runs: ScanCounters  # ... over every verify (and psql) run of the A1 series
    proven_runs: int  # verify runs the second figure covers
    control_one_run: dict[str, ScanCounters]  # the other tables, over the same one verify run
    rows: dict[str, int]  # rows per table
    mock: MockResult | None
    mock_note: str | None  # why A2/B2 did not run, or what to know about them

    @property
    def proven_untouched(self) -> bool:
        return self.proven_one_run.untouched and self.proven_all_runs.untouched


@dataclass(frozen=True)
class Target:
    label: str
    measured: str
    met: bool | None  # None: the size was not run


def render(
    environment: Environment,
    commands: Commands,
    sizes: list[SizeResult],
    startup: StartupResult | None,
    data: DataResult | None,
    started_at: str,
    total_seconds: float,
) -> str:
    structure = bool(sizes) or startup is not None
    sections = [
        _header(started_at, total_seconds),
        _machine_section(environment),
        *([_method_section(commands)] if structure else []),
        *(_size_section(size) for size in sizes),
        *([_startup_section(startup, commands)] if startup is not None else []),
        *([_data_section(data)] if data is not None else []),
        _targets_section(targets(sizes, startup, data)),
    ]
    return "\n\n".join(sections) + "\n"


def _header(started_at: str, total_seconds: float) -> str:
    minutes, seconds = divmod(round(total_seconds), 60)
    return (
        "# schemalock benchmark\n\n"
        f"Run {started_at} by `make bench` (`bench/run.py`); the whole run, database builds "
        f"included, took {minutes} min {seconds:02d} s."
    )


def _machine_section(environment: Environment) -> str:
    rows = [
        ("CPU", f"{_cpu_model()}, {os.cpu_count()} cores"),
        ("RAM", f"{_ram_gib():.1f} GiB"),
        ("Kernel", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_version()} (`{environment.python_path}`)"),
        ("PostgreSQL server", environment.server_version),
        ("Server", environment.server_description),
        ("pg_dump", f"{environment.pg_dump_version} (`{environment.pg_dump_path}`)"),
        ("schemalock", f"{environment.schemalock_version}, {_source_state()}"),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    return f"## Machine\n\n| | |\n|---|---|\n{table}"


def _method_section(commands: Commands) -> str:
    return f"""## Method

Every figure is one whole process, from spawn to exit: wall time, and peak RSS (`ru_maxrss` from
`os.wait4` for exactly that child; pg_dump's figure is the client only, not the server backend).
Each tool runs in pairs with the yardstick, alternating tool, pg_dump, tool, pg_dump, ... after
one warm-up pair; the ratio is taken per pair (tool wall / pg_dump wall in the same pair) and
the table shows the median ratio with its min-max.  Walls are medians with min-max; pg_dump's
row pools its runs from both series.

- A, schemalock: `{commands.verify}`; the lock comes from `{commands.snapshot}` beforehand,
  untimed, and every verify must exit 0 (clean).
- B, yardstick: `{commands.pg_dump}`
- C, reference: `{commands.inspector}` (SQLAlchemy Inspector: `get_multi_columns`,
  `get_multi_pk_constraint`, `get_multi_foreign_keys`, `get_multi_indexes`,
  `get_multi_unique_constraints`, `get_multi_check_constraints`), also paired with pg_dump.
- F, the floor: the catalog statements A sends, with their parameters spelled in, run by
  `psql -X -q -A -t -o /dev/null -f <script>` in one read-only transaction
  (`bench/catalog_floor.py` writes the script): the server's work and the transfer, with no
  client work to speak of.  No structure check can cost less than the statements it needs.
- D, at 500 and 5,000 tables: `schemalock snapshot` to a fresh file; E: `schemalock fix` (no
  `--apply`) of the lock with an index added on {FIX_DRIFTS} tables the database lacks, into a
  fresh migrations folder: the whole run, its verify, the plan and the revision written.
- The lock is read from schemalock's compiled-lock cache in every timed run (the warm-up pair
  fills it): a run without it (`SCHEMALOCK_NO_CACHE=1`) parses and validates the lock again.

The synthetic schemas (500 and 5,000 tables) come from `random.Random(42)`: about 10 columns per
table of mixed types, bigint identity (~60%) or uuid primary keys, 0-3 foreign keys to earlier
tables (~75% indexed), plain, composite, partial, expression and GIN indexes, single and composite
unique constraints, column and table check constraints; all in schema `public`."""


def _size_section(size: SizeResult) -> str:
    counts = size.counts
    built = (
        "reused from an earlier run"
        if size.database.build_seconds is None
        else f"built in {size.database.build_seconds:.1f} s"
    )
    facts = (
        f"Database `{size.database.name}` (`{size.display_url}`): {counts.tables} tables, "
        f"{counts.columns} columns, {counts.indexes} indexes, {counts.foreign_keys} foreign keys, "
        f"{counts.unique_constraints} unique and {counts.check_constraints} check constraints; "
        f"{built}; lock file {size.lock_kib:.0f} KiB.  Pairs per tool: {size.runs}."
    )
    header = (
        "| tool | wall s, median (min-max) | ratio vs paired pg_dump, median (min-max) "
        "| peak RSS MiB, median (max) |\n|---|---|---|---|"
    )
    rows = [
        _tool_row("A `schemalock verify --no-data`", size.verify),
        *([_tool_row("D `schemalock snapshot`", size.snapshot)] if size.snapshot else []),
        *(
            [_tool_row(f"E `schemalock fix`, {FIX_DRIFTS} drifts planned, no --apply", size.fix)]
            if size.fix
            else []
        ),
        _tool_row("F verify's catalog statements alone, one psql session", size.floor),
        _tool_row("C SQLAlchemy Inspector", size.inspector),
        f"| B `pg_dump --schema-only` | {size.pg_dump_wall.show(3)} | 1 (yardstick) "
        f"| {_peak(size.pg_dump_peak_mib)} |",
    ]
    more = [("snapshot", size.snapshot), ("fix", size.fix)]
    ratios = (
        f"Per-pair ratios: verify {_listed(size.verify.ratios)}; "
        + "".join(f"{name} {_listed(series.ratios)}; " for name, series in more if series)
        + f"catalog statements {_listed(size.floor.ratios)}; "
        + f"Inspector {_listed(size.inspector.ratios)}."
    )
    body = "\n".join([header, *rows])
    return f"## {size.tables:,} tables: {size.title}\n\n{facts}\n\n{body}\n\n{ratios}"


def _tool_row(label: str, summary: SeriesSummary) -> str:
    return (
        f"| {label} | {summary.wall.show(3)} | {summary.ratio.show(2)} "
        f"| {_peak(summary.peak_mib)} |"
    )


def _peak(spread: Spread) -> str:
    return f"{spread.median:.1f} ({spread.high:.1f})"


def _listed(ratios: tuple[float, ...]) -> str:
    return ", ".join(f"{ratio:.2f}" for ratio in ratios)


def _startup_section(startup: StartupResult, commands: Commands) -> str:
    version, help_ = startup.version, startup.help
    return (
        "## Start-up\n\n"
        f"`{commands.version}` and `schemalock verify --help`, each paired with "
        f"`{commands.bare_python}` (the same interpreter), {startup.runs} pairs after "
        f"{startup.warmups} warm-up pairs; schemalock's modules byte-compiled first, as an "
        "install leaves them.\n\n"
        "| command | wall ms, median (min-max) | ratio, median (min-max) "
        "| peak RSS MiB, median (max) |\n|---|---|---|---|\n"
        f"| `schemalock --version` | {_milliseconds(version.wall)} | {version.ratio.show(2)} "
        f"| {_peak(version.peak_mib)} |\n"
        f"| `python -c pass` | {_milliseconds(version.yardstick_wall)} | 1 (yardstick) | |\n"
        f"| `schemalock verify --help` | {_milliseconds(help_.wall)} | {help_.ratio.show(2)} "
        f"| {_peak(help_.peak_mib)} |\n"
        f"| `python -c pass` | {_milliseconds(help_.yardstick_wall)} | 1 (yardstick) | |\n\n"
        f"Per-pair ratios, `--version`: {_listed(version.ratios)}; "
        f"`verify --help`: {_listed(help_.ratios)}."
    )


def _milliseconds(spread: Spread) -> str:
    return f"{spread.median * 1000:.0f} ({spread.low * 1000:.0f}-{spread.high * 1000:.0f})"


def targets(
    sizes: list[SizeResult], startup: StartupResult | None, data: DataResult | None
) -> list[Target]:
    by_tables = {size.tables: size for size in sizes}
    large, small = by_tables.get(5000), by_tables.get(12)
    startup_targets = [
        _startup_target(
            f"`schemalock --version` <= {MAX_VERSION_RATIO:g}x `python -c pass`",
            None if startup is None else startup.version,
            MAX_VERSION_RATIO,
        ),
        _startup_target(
            f"`schemalock verify --help` <= {MAX_HELP_RATIO:g}x `python -c pass`",
            None if startup is None else startup.help,
            MAX_HELP_RATIO,
        ),
    ]
    return [
        _ratio_target("5,000 tables: verify wall", large, MAX_VERIFY_RATIO_5000),
        _peak_target(large),
        _ratio_target("12 tables: verify wall", small, MAX_VERIFY_RATIO_12),
        _series_target("5,000 tables: snapshot wall", large, "snapshot", MAX_SNAPSHOT_RATIO_5000),
        _series_target("5,000 tables: fix planning wall", large, "fix", MAX_FIX_RATIO_5000),
        *startup_targets,
        *_data_targets(data),
    ]


def _startup_target(label: str, summary: SeriesSummary | None, most: float) -> Target:
    if summary is None:
        return Target(label, "not run", None)
    ratio = summary.ratio.median
    return Target(label, f"{ratio:.2f}x", ratio <= most)


def _data_targets(data: DataResult | None) -> list[Target]:
    orphan_label = (
        "1M-row parent, 10M-row child: orphan check (`verify --select fk-orphans`) "
        f"<= {MAX_ORPHAN_RATIO:g}x a hand-written NOT EXISTS count"
    )
    proven_label = (
        "1M-row parent, 10M-row child: no scan at all of a table whose relation a validated "
        "FK proves"
    )
    mock_label = (
        "Mock-data scan of a 10M-row text table (`verify --select mock-data`) "
        f"<= {MAX_MOCK_RATIO:g}x one `count(*) ... WHERE col ~* pattern`"
    )
    check_label = (
        "1M-row parent, 10M-row child: the orphan check's query alone (in-process, one "
        f"connection) <= {MAX_ORPHAN_RATIO:g}x the hand-written NOT EXISTS count"
    )
    if data is None:
        return [
            Target(label, "not run", None)
            for label in (orphan_label, check_label, proven_label, mock_label)
        ]
    orphan_ratio = data.orphans.ratio.median
    check_ratio = data.orphan_check.ratio.median
    proven = data.proven_all_runs
    mock = (
        Target(mock_label, data.mock_note or "not run", None)
        if data.mock is None
        else Target(
            mock_label,
            f"{data.mock.series.ratio.median:.2f}x",
            data.mock.series.ratio.median <= MAX_MOCK_RATIO,
        )
    )
    return [
        Target(orphan_label, f"{orphan_ratio:.2f}x", orphan_ratio <= MAX_ORPHAN_RATIO),
        Target(check_label, f"{check_ratio:.2f}x", check_ratio <= MAX_ORPHAN_RATIO),
        Target(
            proven_label,
            f"rows scanned on `{data.proven_table}`: "
            f"{proven.seq_tup_read + proven.idx_tup_fetch:,} "
            f"(seq_scan +{proven.seq_scan}, idx_scan +{proven.idx_scan})",
            data.proven_untouched,
        ),
        mock,
    ]


def _ratio_target(label: str, size: SizeResult | None, limit: float) -> Target:
    label = f"{label} <= {limit:g}x pg_dump"
    if size is None:
        return Target(label, "not run", None)
    ratio = size.verify.ratio.median
    return Target(label, f"{ratio:.2f}x", ratio <= limit)


def _series_target(label: str, size: SizeResult | None, series: str, limit: float) -> Target:
    label = f"{label} <= {limit:g}x pg_dump"
    summary = getattr(size, series, None) if size is not None else None
    if summary is None:
        return Target(label, "not run", None)
    ratio = summary.ratio.median
    return Target(label, f"{ratio:.2f}x", ratio <= limit)


def _peak_target(size: SizeResult | None) -> Target:
    label = f"5,000 tables: verify peak memory <= {MAX_VERIFY_PEAK_MB_5000:g} MB"
    if size is None:
        return Target(label, "not run", None)
    peak_mib = size.verify.peak_mib.median
    peak_mb = peak_mib * 1024 * 1024 / 1e6
    return Target(
        label, f"{peak_mb:.1f} MB ({peak_mib:.1f} MiB)", peak_mb <= MAX_VERIFY_PEAK_MB_5000
    )


def _data_section(data: DataResult) -> str:
    built = (
        "reused from an earlier run"
        if data.database.build_seconds is None
        else f"built in {data.database.build_seconds:.1f} s"
    )
    commands = "\n".join(f"- {label}: {command}" for label, command in data.commands.items())
    header = (
        "| command | wall s, median (min-max) | ratio vs paired yardstick, median (min-max) "
        "| peak RSS MiB, median (max) |\n|---|---|---|---|"
    )
    rows = [
        _tool_row("A1 `verify --select fk-orphans`", data.orphans),
        f"| B1 psql: hand-written NOT EXISTS count | {data.orphans.yardstick_wall.show(3)} "
        "| 1 (yardstick) | |",
        f"| `verify --no-data` (structure only, unpaired) | {data.structure_wall.show(3)} | "
        f"| {_peak(data.structure_peak_mib)} |",
    ]
    ratios = f"Per-pair ratios A1/B1: {_listed(data.orphans.ratios)}."
    check = data.orphan_check
    check_text = (
        "The orphan check alone, in one process on one connection (`bench/bench_check.py`): "
        "the probe's query for `child.parent_id` (count, unconvertible values and samples in "
        "one pass, its own READ ONLY transaction) against the hand-written NOT EXISTS count in "
        f"a READ ONLY transaction, alternating: check {check.check.show(3)} s, count "
        f"{check.yardstick.show(3)} s, ratio {check.ratio.show(2)} (per pair: "
        f"{_listed(check.ratios)}).  The whole-process ratio above adds start-up, lock "
        "loading and introspection (`verify --no-data`'s row) to the same query."
    )
    if data.mock is not None:
        rows += [
            _tool_row("A2 `verify --select mock-data`", data.mock.series),
            f"| B2 psql: one `count(*) ... ~*` | {data.mock.series.yardstick_wall.show(3)} "
            "| 1 (yardstick) | |",
        ]
        ratios += f"  Per-pair ratios A2/B2: {_listed(data.mock.series.ratios)}."
    proven = data.proven_one_run
    controls = "; ".join(
        f"`{table}` {counters.show()}, so {counters.seq_tup_read / data.rows[table]:.1f} "
        "sequential passes over its rows"
        for table, counters in data.control_one_run.items()
    )
    scans = (
        f"Rows scanned by verify on the FK-proven table `{data.proven_table}`: "
        f"**{proven.seq_tup_read + proven.idx_tup_fetch:,}** in one verify run alone "
        f"({proven.show()}), and {data.proven_all_runs.seq_tup_read:,} sequentially, "
        f"{data.proven_all_runs.idx_tup_fetch:,} by index over all {data.proven_runs} verify "
        f"runs of the A1 series ({data.proven_all_runs.show()}).  "
        "From `pg_stat_user_tables` on a fresh connection, 1.5 s after the processes exited "
        "(a backend flushes its counters as it exits).  In the same single verify run, for "
        "comparison (a parallel scan counts once per process, leader and workers): "
        f"{controls}."
    )
    if data.mock is not None:
        findings = "; ".join(data.mock.findings) or "no findings"
        mock_text = f"A2 reported: {findings}.  B2 counted {data.mock.yardstick_count:,} rows." + (
            f"  {data.mock_note}" if data.mock_note else ""
        )
    else:
        mock_text = f"A2/B2 not run: {data.mock_note}."
    return (
        "## Data checks: 1M-row parent, 10M-row child\n\n"
        f"Database `{data.database.name}` (`{data.display_url}`), {built}: {data.facts}\n\n"
        "Whole processes (wall time, peak RSS from `os.wait4`); each verify series runs in "
        f"pairs with its psql yardstick, A B A B ..., {_count(data.runs, 'pair')} after "
        f"{_count(data.warmups, 'warm-up pair')}; the ratio is per pair.  psql is "
        f"{data.psql}.\n\n"
        f"{commands}\n\n"
        f"{header}\n" + "\n".join(rows) + f"\n\n{ratios}\n\n{check_text}\n\n"
        f"{data.orphans_found}\n\n{scans}\n\n{mock_text}"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _targets_section(found: list[Target]) -> str:
    rows = "\n".join(
        f"| {target.label} | {target.measured} | {_verdict(target.met)} |" for target in found
    )
    return (
        "## Targets\n\nReported, not asserted.\n\n"
        f"| target | measured (median) | result |\n|---|---|---|\n{rows}"
    )


def _verdict(met: bool | None) -> str:
    return "not run" if met is None else ("PASS" if met else "MISS")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return float("nan")


def _source_state() -> str:
    """The commit measured, and whether src/ differed from it (others edit it concurrently)."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = _git(root, "rev-parse", "--short", "HEAD")
        dirty = _git(root, "status", "--porcelain", "--", "src")
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"git {commit}" + (" with uncommitted changes in src/" if dirty else "")


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()
