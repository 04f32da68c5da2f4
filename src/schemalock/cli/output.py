"""What commands write: the progress bar, the reports (any of `--format`'s, to the terminal
and to files), the exit code, and the checks that every file a report goes to is safe to
write."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, NoReturn

import typer

from schemalock.cli import flags, verbose
from schemalock.cli.options import FailOn, OutputFormat, threshold
from schemalock.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INCONCLUSIVE, UsageError
from schemalock.render import summary_line

if TYPE_CHECKING:
    from rich.console import Console

    from schemalock.check.findings import Report, Severity
    from schemalock.model import Lock


@dataclass
class Bar:
    """What verify tells the progress bar: each rule as it starts, each row query."""

    on_query: Callable[[str], None] | None = None
    on_rule: Callable[[int, int, str], None] | None = None


@contextmanager
def progress() -> Iterator[Bar]:
    """A progress bar on stderr over the rules, naming the row check running and counting the
    queries, only for a person watching (stderr a terminal, no `CI`, no `-q`, `-v` or
    `--no-progress`); it disappears when the run ends. Under `-v` the timeline hears instead."""
    timeline = verbose.current()
    if timeline is not None:
        timeline.checks_begin()
        try:
            yield Bar(timeline.on_query, timeline.on_rule)
        finally:
            timeline.checks_end()
        return
    if not sys.stderr.isatty() or not flags.progress_allowed():
        yield Bar()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    columns = (
        SpinnerColumn(),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TextColumn("rules"),
        TextColumn("{task.description}"),
        TextColumn("[dim]{task.fields[queries]} queries"),
    )
    with Progress(*columns, console=console(stderr=True), transient=True) as progress:
        task = progress.add_task("reading the catalog", total=None, queries=0)
        queries = 0

        def on_query(label: str) -> None:
            nonlocal queries
            queries += 1
            progress.update(task, description=label, queries=queries)

        def on_rule(done: int, total: int, _rule: str) -> None:
            progress.update(task, completed=done, total=total)

        yield Bar(on_query, on_rule)


def console(stderr: bool = False, file: IO[str] | None = None, width: int | None = None) -> Console:
    """A rich console for the terminal, coloured as `--color` and the conventions say
    (`cli.flags.color`); `file` (a report written to a file) is never coloured."""
    from rich.console import Console

    choice = flags.color() if file is None else False
    common: dict[str, Any] = {"stderr": stderr, "file": file, "width": width, "highlight": False}
    if choice is False:  # no escape codes at all, not even bold
        return Console(color_system=None, **common)
    if choice is True:
        return Console(force_terminal=True, no_color=False, **common)
    return Console(**common)


def _plain_and_clean(report: Report) -> bool:
    """Whether the text report is only its summary line, printed without colour: nothing
    found, waived, inconclusive or uncovered, and standard output no terminal to rich (as
    rich decides it: TTY_COMPATIBLE and FORCE_COLOR would make it one) or colour off."""
    if report.command == "diff" or report.findings or report.inconclusive:
        return False
    if report.coverage is not None and report.coverage.uncovered:
        return False
    if sys.stdout is None or not summary_line(report)[0].isprintable():
        return False  # rich would strip or expand what is not printable: let it
    choice = flags.color()
    if choice is not None:
        return choice is False
    if "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ:
        return False
    try:
        return not sys.stdout.isatty()
    except (ValueError, OSError):  # closed or detached: rich would let it be
        return False


def wrote(output: str | None) -> None:
    if output and not flags.FLAGS.quiet:
        print(f"wrote {output}", file=sys.stderr)


@dataclass(frozen=True)
class Destination:
    """One report a run writes: its format and its file (None: stdout)."""

    format: OutputFormat
    path: str | None = None
    option: str = "--output"  # how the command line named the file, for messages

    @property
    def named(self) -> str:
        """The option as given: `--output r.json`, `--format sarif=r.sarif`."""
        if self.option == "--output":
            return f"--output {self.path}"
        return f"--format {self.format}={self.path}"


def destinations(formats: Sequence[str] | None, output: str | None) -> list[Destination]:
    """The reports `--format FORMAT[=PATH]` (repeatable; default text) and `--output FILE`
    ask for.  At most one format goes without a path: to stdout, or to `--output` (text, when
    every format given has a path)."""
    wanted = [_destination(entry) for entry in formats or ["text"]]
    bare = [wish for wish in wanted if wish.path is None]
    if len(bare) > 1:
        raise UsageError(
            f"--format {bare[0].format} and --format {bare[1].format} would both go to stdout:"
            f" give all but one a file (--format {bare[1].format}=PATH)"
        )
    if output is not None:
        if not bare:  # every format has a file: --output is the text's, the default format's
            wanted.append(Destination(OutputFormat.text))
        wanted = [Destination(w.format, output) if w.path is None else w for w in wanted]
    seen: dict[str, Destination] = {}
    for wish in wanted:
        if wish.path is None or _is_terminal_stream(wish.path):
            continue
        key = os.path.realpath(wish.path)
        if key in seen:
            raise UsageError(f"{seen[key].named} and {wish.named} name the same file")
        seen[key] = wish
    return wanted


def _destination(entry: str) -> Destination:
    name, given, path = entry.partition("=")
    try:
        chosen = OutputFormat(name.strip().lower())
    except ValueError:
        raise UsageError(
            f"--format {entry}: unknown format {name!r} (choose from {', '.join(OutputFormat)};"
            " FORMAT=PATH writes it to a file)"
        ) from None
    if given and not path:
        raise UsageError(f"--format {entry}: no file after '='")
    return Destination(chosen, path or None, "--format")


def _is_terminal_stream(path: str) -> bool:
    return path in ("/dev/stdout", "/dev/stderr")


def check_output(output: str | None, loaded: Lock | None = None) -> None:
    """Before anything runs: `--output` is none of the run's inputs (the lock, the check files
    its flows read), and a file can be written there."""
    if output is not None:
        check_reports([Destination(OutputFormat.text, output)], loaded)


def check_reports(
    reports: Sequence[Destination],
    loaded: Lock | None = None,
    inputs: Sequence[tuple[str, str]] = (),
) -> None:
    """Before anything runs: no report's file is one of the run's inputs (the lock, the check
    files its flows read, and `inputs`: (what, path) pairs), and each can be written."""
    from schemalock import files

    read = [*(_inputs(loaded) if loaded is not None else ()), *inputs]
    for report in reports:
        if report.path is None:
            continue
        files.refuse_inputs(report.path, read, named=report.named)
        files.check_writable(report.path)


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


def finish(report: Report, reports: Sequence[Destination], fail_on: FailOn) -> NoReturn:
    """Write every report `destinations` chose, then exit: 1 for findings at or above
    `fail_on` (with `uncovered`: errors, or anything the coverage lists as not covered),
    else 4 when a check could not run, else 0."""

    write_reports(report, reports, threshold(fail_on))
    if report.failed(threshold(fail_on)) or (fail_on is FailOn.uncovered and report.uncovered):
        raise typer.Exit(EXIT_FINDINGS)
    raise typer.Exit(EXIT_INCONCLUSIVE if report.inconclusive else EXIT_CLEAN)


def write_reports(
    report: Report, reports: Sequence[Destination], fails: Severity | None = None
) -> None:
    """The files first, then stdout.  When every report goes to a file and none is text, the
    terminal (a CI log) still gets the text; with `github`, the job summary is appended to
    `$GITHUB_STEP_SUMMARY` when it is set.  `fails`: the least severity that fails the run
    (JUnit marks only those findings as failures; None: errors)."""
    root = _source_root(report)
    for wish in sorted(reports, key=lambda wish: wish.path is None):
        if wish.format is OutputFormat.text:
            print_text(report, wish.path)
        else:
            write(render(report, wish.format, root, fails), wish.path)
    if all(wish.path is not None for wish in reports) and all(
        wish.format is not OutputFormat.text for wish in reports
    ):
        print_text(report)
    if any(wish.format is OutputFormat.github for wish in reports):
        _append_step_summary(report, root)


def render(
    report: Report,
    output_format: OutputFormat,
    root: str | None = None,
    fails: Severity | None = None,
) -> str:
    """Any format but text (which rich draws) as a string; paths relative to `root`."""
    if output_format is OutputFormat.json:
        from schemalock.render import json as json_render

        return json_render.render(report)
    if output_format is OutputFormat.sarif:
        from schemalock.render import sarif

        return sarif.render(report, root)
    if output_format is OutputFormat.junit:
        from schemalock.render import junit

        return junit.render(report, root, fails)
    if output_format is OutputFormat.github:
        from schemalock.render import github

        return github.render(report, root)
    if output_format is OutputFormat.gitlab:
        from schemalock.render import gitlab

        return gitlab.render(report, root)
    if output_format is OutputFormat.markdown:
        from schemalock.render import comment

        return comment.render(report, root=root)
    raise ValueError(f"{output_format} is drawn by print_text")


def _source_root(report: Report) -> str | None:
    """The folder report paths are relative to: the checkout CI made ($GITHUB_WORKSPACE,
    $CI_PROJECT_DIR), when the lock lies in it; else (None) the working directory."""
    lock = os.path.abspath(report.lock_path or "schema_lock.yaml")
    for variable in ("GITHUB_WORKSPACE", "CI_PROJECT_DIR"):
        folder = os.environ.get(variable)
        if folder and not os.path.relpath(lock, os.path.abspath(folder)).startswith(os.pardir):
            return folder
    return None


def _append_step_summary(report: Report, root: str | None) -> None:
    """GitHub's job summary: appended, as every step of the job shares the file."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    from schemalock.render import github

    try:
        with open(path, "a", encoding="utf-8") as handle:
            if handle.tell():  # after another step's summary: a paragraph of its own
                handle.write("\n")
            handle.write(github.summary(report, root=root))
    except OSError as error:  # the reports are written: a summary is no reason to fail
        print(
            f"schemalock: warning: cannot append the job summary to {path}:"
            f" {error.strerror or error}",
            file=sys.stderr,
        )


def print_text(report: Report, output: str | None = None) -> None:
    """The text report, to the terminal or to `output`; under `-q` without its summary line."""
    summary, coverage = not flags.FLAGS.quiet, flags.FLAGS.verbose > 0
    if output is None and not coverage and _plain_and_clean(report):
        # What rich would print, without importing it (a tenth of a small clean run): one
        # line, or under -q nothing.
        if summary:
            sys.stdout.write(f"{summary_line(report)[0]}\n")
        return
    from schemalock.render import text

    if output is None:
        text.render(report, console(), summary=summary, coverage=coverage)
        return
    from schemalock import files

    with files.replacing(output) as handle:
        text.render(report, console(file=handle, width=200), summary=summary, coverage=coverage)
