"""Whole-process measurements: wall time and peak RSS of one child, in paired runs."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from bench_server import BenchError


@dataclass(frozen=True)
class Run:
    wall_s: float
    peak_kib: int  # ru_maxrss of exactly this child (Linux reports KiB)

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024


def run_process(argv: Sequence[str], expect: Collection[int] = (0,)) -> Run:
    """Run `argv` to completion; fail with its output unless its exit code is in `expect`."""
    with tempfile.TemporaryFile() as output:  # a file, not a pipe: nothing to drain while timing
        started = time.perf_counter()
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
        )
        # wait4 rather than Popen.wait: it returns the rusage of this one child, whereas
        # getrusage(RUSAGE_CHILDREN) keeps the maximum over every child ever waited for.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in expect:
            output.seek(0)
            shown = output.read().decode(errors="replace")[-4000:]
            wanted = " or ".join(map(str, expect))
            raise BenchError(
                f"`{' '.join(argv)}` exited {process.returncode}, expected {wanted}:\n{shown}"
            )
    return Run(wall, usage.ru_maxrss)


@dataclass(frozen=True)
class Pair:
    subject: Run
    yardstick: Run

    @property
    def ratio(self) -> float:
        return self.subject.wall_s / self.yardstick.wall_s


Progress = Callable[[str], None]


def paired_runs(
    subject: Sequence[str],
    yardstick: Sequence[str],
    runs: int,
    warmups: int,
    progress: Progress,
    subject_exit: Collection[int] = (0,),
) -> list[Pair]:
    """Alternate subject, yardstick, subject, ... so both see the same machine state.

    `subject_exit`: the exit codes the subject may end with (the yardstick must exit 0).
    """
    for number in range(1, warmups + 1):
        progress(f"warm-up {number}/{warmups}")
        run_process(subject, subject_exit)
        run_process(yardstick)
    pairs: list[Pair] = []
    for number in range(1, runs + 1):
        pairs.append(Pair(run_process(subject, subject_exit), run_process(yardstick)))
        progress(f"pair {number}/{runs}: ratio {pairs[-1].ratio:.2f}")
    return pairs


def series(
    argv: Sequence[str],
    runs: int,
    warmups: int,
    progress: Progress,
    expect: Collection[int] = (0,),
) -> list[Run]:
    """`runs` runs of one command after `warmups` untimed ones, unpaired."""
    for number in range(1, warmups + 1):
        progress(f"warm-up {number}/{warmups}")
        run_process(argv, expect)
    done: list[Run] = []
    for number in range(1, runs + 1):
        done.append(run_process(argv, expect))
        progress(f"run {number}/{runs}: {done[-1].wall_s:.3f} s")
    return done


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))

    def show(self, digits: int) -> str:
        return f"{self.median:.{digits}f} ({self.low:.{digits}f}-{self.high:.{digits}f})"


@dataclass(frozen=True)
class SeriesSummary:
    """One tool's paired series: its wall and memory, and its ratio to the paired yardstick."""

    wall: Spread
    ratio: Spread
    peak_mib: Spread
    ratios: tuple[float, ...]
    yardstick_wall: Spread

    @classmethod
    def of(cls, pairs: Sequence[Pair]) -> SeriesSummary:
        return cls(
            wall=Spread.of([pair.subject.wall_s for pair in pairs]),
            ratio=Spread.of([pair.ratio for pair in pairs]),
            peak_mib=Spread.of([pair.subject.peak_mib for pair in pairs]),
            ratios=tuple(pair.ratio for pair in pairs),
            yardstick_wall=Spread.of([pair.yardstick.wall_s for pair in pairs]),
        )


def yardstick_summary(series: Sequence[Sequence[Pair]]) -> tuple[Spread, Spread]:
    """(wall, peak MiB) of the yardstick over every pair of every series it was paired in."""
    runs = [pair.yardstick for pairs in series for pair in pairs]
    return Spread.of([run.wall_s for run in runs]), Spread.of([run.peak_mib for run in runs])
