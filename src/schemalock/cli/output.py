"""What commands write: the progress bar, the report (text or JSON, to the terminal or a
file), its exit code, and the checks that `--output` is safe to write."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

import typer

from schemalock.cli.options import FailOn, OutputFormat
from schemalock.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INCONCLUSIVE

if TYPE_CHECKING:
    from schemalock.check.findings import Report
    from schemalock.model import Lock


@dataclass
class Bar:
    """What verify tells the progress bar: each rule as it starts, each row query."""

    on_query: Callable[[str], None] | None = None
    on_rule: Callable[[int, int], None] | None = None


@contextmanager
def progress() -> Iterator[Bar]:
    """A progress bar on stderr over the rules, naming the row check running and counting the
    queries, only when stderr is a terminal (never in CI logs or redirected output); it
    disappears when the run ends."""
    if not sys.stderr.isatty():
        yield Bar()
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    columns = (
        SpinnerColumn(),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TextColumn("rules"),
        TextColumn("{task.description}"),
        TextColumn("[dim]{task.fields[queries]} queries"),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("reading the catalog", total=None, queries=0)
        queries = 0

        def on_query(label: str) -> None:
            nonlocal queries
            queries += 1
            progress.update(task, description=label, queries=queries)

        def on_rule(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield Bar(on_query, on_rule)


def wrote(output: str | None) -> None:
    if output:
        print(f"wrote {output}", file=sys.stderr)


def check_output(output: str | None, loaded: Lock | None = None) -> None:
    """Before anything runs: `--output` is none of the run's inputs (the lock, the check files
    its flows read), and a file can be written there."""
    if output is None:
        return
    from schemalock import files

    if loaded is not None:
        files.refuse_inputs(output, _inputs(loaded))
    files.check_writable(output)


def _inputs(loaded: Lock) -> list[tuple[str, str]]:
    """The files a run over `loaded` reads: the lock, and each check file (as the loader
    found it)."""
    from schemalock.model import CustomCheck

    checks = [
        ("a check file of the lock", invariant.check.file_read)
        for flow in loaded.flows
        for invariant in flow.invariants
        if isinstance(invariant.check, CustomCheck)
    ]
    return [("the lock", loaded.path), *checks]


def write(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    from schemalock import files

    files.write_text(output, text)


def finish(
    report: Report, output_format: OutputFormat, output: str | None, fail_on: FailOn
) -> NoReturn:
    from schemalock.check.findings import Severity

    if output_format is OutputFormat.json:
        from schemalock.render import json as json_render

        write(json_render.render(report), output)
        if output:
            print_text(report)
    else:
        print_text(report, output)
    if report.failed(Severity(fail_on.value)):
        raise typer.Exit(EXIT_FINDINGS)
    raise typer.Exit(EXIT_INCONCLUSIVE if report.inconclusive else EXIT_CLEAN)


def print_text(report: Report, output: str | None = None) -> None:
    from rich.console import Console

    from schemalock.render import text

    if output is None:
        text.render(report, Console(highlight=False))
        return
    from schemalock import files

    with files.replacing(output) as handle:
        text.render(report, Console(file=handle, no_color=True, highlight=False, width=200))
