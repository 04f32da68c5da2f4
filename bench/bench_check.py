"""The orphan check alone: the query verify's probe runs for one relation, against the
hand-written NOT EXISTS count, in one process on one connection, alternating.

The whole-process figure (A1/B1) adds start-up, the lock, introspection and the rules to the
check; this one isolates the check itself, as the issue's target states it: both sides run in
a READ ONLY transaction, timed from the client, one after the other.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bench_data
from bench_server import BenchError
from bench_timing import Spread

STATEMENT_MS = 600_000  # the check must finish: the figure is its time, not a timeout


@dataclass(frozen=True)
class CheckPairs:
    check: Spread  # seconds
    yardstick: Spread
    ratio: Spread
    ratios: tuple[float, ...]


def orphan_check_pairs(
    url: str, lock_path: Path, runs: int, warmups: int, progress: Callable[[str], None]
) -> CheckPairs:
    from schemalock import db, introspect
    from schemalock.lock import load_lock
    from schemalock.probe import Probe

    lock = load_lock(str(lock_path))
    timeouts = db.Timeouts(statement_ms=STATEMENT_MS)
    connection = db.connect(url, "bench")
    try:
        with db.read_only(connection, timeouts) as conn:
            live = introspect.introspect(conn, ["public"])
        child, parent = live.tables[("public", "child")], live.tables[("public", "parent")]
        [fk] = lock.database.tables[("public", "child")].foreign_keys

        def check() -> None:
            probe = Probe(connection, timeouts)
            counted = probe.orphans("fk-orphans", child, fk, parent)
            probe.close()
            if counted is None or counted.orphans != bench_data.EXPECTED_ORPHANS:
                raise BenchError(f"the probe counted {counted}: {probe.inconclusive}")

        def yardstick() -> None:
            db.begin_read_only(connection, timeouts)
            row = connection.execute(bench_data.ORPHAN_COUNT_SQL).fetchone()
            db.end_transaction(connection)
            if row is None or row[0] != bench_data.EXPECTED_ORPHANS:
                raise BenchError(f"the hand-written count said {row}")

        for number in range(1, warmups + 1):
            progress(f"warm-up {number}/{warmups}")
            check()
            yardstick()
        pairs: list[tuple[float, float]] = []
        for number in range(1, runs + 1):
            pairs.append((_timed(check), _timed(yardstick)))
            progress(f"pair {number}/{runs}: ratio {pairs[-1][0] / pairs[-1][1]:.2f}")
    finally:
        connection.close()
    ratios = [check_s / yard_s for check_s, yard_s in pairs]
    return CheckPairs(
        check=Spread.of([c for c, _ in pairs]),
        yardstick=Spread.of([y for _, y in pairs]),
        ratio=Spread.of(ratios),
        ratios=tuple(ratios),
    )


def _timed(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
