"""`schemalock baseline`, and verify's `--baseline`/`--update-baseline`: the ratchet on data
findings (`schemalock.check.baseline`)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from schemalock.cli import flags
from schemalock.cli.options import LockOption, TimeoutOption, UrlOption
from schemalock.cli.output import check_output, progress

if TYPE_CHECKING:
    from schemalock.check.baseline import Baseline
    from schemalock.check.findings import Report

DEFAULT_PATH = "schemalock-baseline.json"

BaselineOption = Annotated[
    str | None,
    typer.Option(
        "--baseline",
        show_default=False,
        help="Accept data findings at or below the counts this file recorded (`schemalock "
        "baseline`); a new finding or a higher count still fails.",
    ),
]
UpdateBaselineOption = Annotated[
    bool,
    typer.Option(
        "--update-baseline",
        help="Rewrite the --baseline file with the counts that fell (never raising one).",
    ),
]


def baseline(
    lock: LockOption = "schema_lock.yaml",
    database_url: UrlOption = None,
    output: Annotated[
        str,
        typer.Option("--output", "-o", help="Write the baseline here (a file there is replaced)."),
    ] = DEFAULT_PATH,
    statement_timeout: TimeoutOption = 30.0,
) -> None:
    """Record today's counts of the data findings, for `verify --baseline`."""
    from datetime import date

    from schemalock import db, files
    from schemalock.check import baseline as baselines
    from schemalock.check import verify as verifying
    from schemalock.errors import Inconclusive
    from schemalock.lock import load_lock

    loaded = load_lock(lock)
    check_output(output, loaded)
    url = db.resolve_url(database_url)
    with progress() as bar:
        report = verifying.verify(
            loaded,
            url,
            db.Timeouts(int(statement_timeout * 1000)),
            on_query=bar.on_query,
            on_rule=bar.on_rule,
            today=date.today(),
        )
    if report.inconclusive:  # a count not taken would be a "new" finding tomorrow
        first = report.inconclusive[0]
        raise Inconclusive(first.rule, f"no baseline written: {first.reason}")
    recorded = baselines.record(report)
    files.write_text(output, baselines.render(recorded))
    left = sum(1 for f in report.counted if baselines.key(f) is None)
    also = (
        f"; {left} finding(s) a baseline never holds (structure, or without a count)"
        if left
        else ""
    )
    _note(f"wrote {output}: {len(recorded.counts)} count(s){also}")


def held(path: str | None, update: bool, sample: float | None) -> Baseline | None:
    """The --baseline file, read before anything connects; None without one."""
    from schemalock.check import baseline as baselines
    from schemalock.errors import UsageError

    if path is None:
        if update:
            raise UsageError("--update-baseline needs --baseline FILE")
        return None
    if sample is not None:
        raise UsageError("--baseline compares exact counts: leave out --sample")
    recorded = baselines.load(path)
    ignored = baselines.ignored_note(path, recorded)
    if ignored:
        print(f"schemalock: warning: {ignored}", file=sys.stderr)
    return recorded


def ratchet(report: Report, path: str, recorded: Baseline, update: bool) -> None:
    """Hold `report` against the baseline: findings within it waived, counts that fell told
    (and, with `update`, written to the baseline file)."""
    from schemalock import files
    from schemalock.check import baseline as baselines

    held_against = baselines.apply(report, recorded)
    report.findings = held_against.findings
    if update and recorded.ignored:
        files.write_text(path, baselines.render(baselines.tightened(recorded, held_against)))
        _note(f"dropped {len(recorded.ignored)} ignored entries from {path}")
    if not held_against.fell:
        return
    fell = baselines.describe(held_against.fell)
    if update:
        files.write_text(path, baselines.render(baselines.tightened(recorded, held_against)))
        _note(f"tightened {path}: {fell}")
    else:
        _note(f"baseline {path}: counts fell ({fell}); --update-baseline records them")


def _note(text: str) -> None:
    """What happened to the baseline, on stderr; -q (findings only) leaves it out."""
    if not flags.FLAGS.quiet:
        print(text, file=sys.stderr)
