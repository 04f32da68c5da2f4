"""The command line: parse options, call the library, map outcomes to exit codes.

Heavy libraries (psycopg, pydantic, pglast, SQLAlchemy, Alembic) are imported inside the
commands that need them, so `--help` and `--version` start fast.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup, TyperOption

from schemalock import __version__
from schemalock.errors import (
    EXIT_CLEAN,
    EXIT_FINDINGS,
    EXIT_INCONCLUSIVE,
    EXIT_USAGE,
    SchemalockError,
)

if TYPE_CHECKING:
    from schemalock.check.findings import Report
    from schemalock.model import Lock
    from schemalock.render.markdown import Verification

_state = {"debug": False}
DEBUG_HELP = "Show tracebacks on errors (passwords still redacted)."


def _debug_on(_context: object, _parameter: object, value: bool) -> None:
    if value:
        _state["debug"] = True


class _Commands(TyperGroup):
    """The command group; every command also takes `--debug` after its name (`schemalock
    verify --debug`), as it is taken before it."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for command in self.commands.values():
            command.params.append(
                TyperOption(
                    param_decls=["--debug"],
                    is_flag=True,
                    default=False,
                    expose_value=False,  # kept in _state, which run() reads
                    callback=_debug_on,
                    help=DEBUG_HELP,
                )
            )


app = typer.Typer(
    name="schemalock",
    cls=_Commands,
    help="Keep a PostgreSQL database honest: verify it against schema_lock.yaml.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    info = "info"


LockOption = Annotated[str, typer.Option("--lock", "-l", help="Lock file.", show_default=True)]
UrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        "-d",
        show_default=False,
        help="PostgreSQL URL; else SCHEMALOCK_DATABASE_URL or DATABASE_URL.",
    ),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Report format.")]


def _output_option(help_text: str) -> Any:
    return typer.Option("--output", "-o", help=help_text, show_default=False)


OutputOption = Annotated[
    str | None,
    _output_option("Write the report to this file (never over the lock or a check file it reads)."),
]
LockOutputOption = Annotated[
    str | None,
    _output_option("Write the lock file here instead of to stdout (a file there is replaced)."),
]
SchemaOutputOption = Annotated[
    str | None, _output_option("Write the JSON Schema here instead of to stdout.")
]
DocsOutputOption = Annotated[
    str | None,
    _output_option("Write the Markdown document here instead of to stdout (never over the lock)."),
]
FailOnOption = Annotated[
    FailOn, typer.Option("--fail-on", help="Exit 1 when a finding is at least this severe.")
]
SelectOption = Annotated[
    list[str] | None,
    typer.Option(
        "--select",
        help="Only these rules (codes, code prefixes or names; repeat or comma-separate).",
        show_default=False,
    ),
]
IgnoreOption = Annotated[
    list[str] | None,
    typer.Option(
        "--ignore", help="Skip these rules (codes, code prefixes or names).", show_default=False
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        "--statement-timeout", min=0.1, help="Seconds any one query may run (lock_timeout is less)."
    ),
]


def _version(value: bool) -> None:
    if value:
        print(f"schemalock {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help=DEBUG_HELP)] = False,
) -> None:
    _state["debug"] = debug


@app.command()
def verify(
    lock: LockOption = "schema_lock.yaml",
    database_url: UrlOption = None,
    output_format: FormatOption = OutputFormat.text,
    output: OutputOption = None,
    fail_on: FailOnOption = FailOn.error,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    no_data: Annotated[
        bool, typer.Option("--no-data", help="Structure only: no row checks.")
    ] = False,
    env: Annotated[
        str | None,
        typer.Option(
            "--env",
            show_default=False,
            help="Apply the lock's environments.NAME policy (e.g. production).",
        ),
    ] = None,
    sample: Annotated[
        float | None,
        typer.Option(
            "--sample",
            min=0.0001,
            max=100.0,
            show_default=False,
            help="Scan this percent of each table (TABLESAMPLE); counts become estimates.",
        ),
    ] = None,
    statement_timeout: TimeoutOption = 30.0,
    api_base: Annotated[
        str | None,
        typer.Option(
            "--api-base",
            show_default=False,
            help="Also GET each endpoint the lock declares under this http(s) URL; JSON without"
            ' "source": "real_database" is mock-data.',
        ),
    ] = None,
    api_header: Annotated[
        list[str] | None,
        typer.Option(
            "--api-header",
            show_default=False,
            help="'Name: value' header for --api-base requests (repeat); values never shown.",
        ),
    ] = None,
    api_timeout: Annotated[
        float, typer.Option("--api-timeout", min=0.1, help="Seconds each API request may take.")
    ] = 10.0,
) -> None:
    """Compare the lock with the live database and report every difference."""
    from schemalock import db
    from schemalock.check import verify as verifying
    from schemalock.errors import UsageError
    from schemalock.lock import load_lock

    if api_header and api_base is None:
        raise UsageError("--api-header needs --api-base")
    # Validated before the lock is read or the database is asked anything.
    api = None
    if api_base is not None:
        from schemalock.check import api as apiprobe

        api = apiprobe.settings(api_base, api_header or (), api_timeout)
    loaded = load_lock(lock)
    _check_output(output, loaded)
    url = db.resolve_url(database_url)
    with _progress() as bar:
        report = verifying.verify(
            loaded,
            url,
            db.Timeouts(int(statement_timeout * 1000)),
            select or (),
            ignore or (),
            data=not no_data,
            env=env,
            sample_percent=sample,
            on_query=bar.on_query,
            api=api,
            on_rule=bar.on_rule,
        )
    _finish(report, output_format, output, fail_on)


class OrphanPolicy(StrEnum):
    fail = "fail"
    quarantine = "quarantine"
    delete = "delete"
    set_null = "set-null"


@app.command()
def fix(
    lock: LockOption = "schema_lock.yaml",
    database_url: UrlOption = None,
    migrations: Annotated[
        str,
        typer.Option(
            "--migrations",
            "-m",
            help="Alembic script location; created (a fresh environment) if missing or empty.",
        ),
    ] = "migrations",
    orphans: Annotated[
        OrphanPolicy,
        typer.Option(
            "--orphans",
            help="Rows that block a foreign key: fail (add it NOT VALID, validate later), "
            "quarantine (move them to schemalock_quarantine), delete, or set-null.",
        ),
    ] = OrphanPolicy.fail,
    apply: Annotated[
        bool,
        typer.Option(
            "--apply", help="Also apply it (alembic upgrade head), behind the safety guards."
        ),
    ] = False,
    lock_timeout: Annotated[
        str, typer.Option("--lock-timeout", help="lock_timeout of every step.")
    ] = "5s",
    step_timeout: Annotated[
        str, typer.Option("--step-timeout", help="statement_timeout of every step.")
    ] = "60s",
    long_timeout: Annotated[
        str,
        typer.Option("--long-timeout", help="statement_timeout of index builds and VALIDATE."),
    ] = "1h",
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Plan again a revision schemalock wrote that was never applied (its apply "
            "failed, say), removing its file.",
        ),
    ] = False,
    statement_timeout: TimeoutOption = 30.0,
) -> None:
    """Write the Alembic revision that repairs the drift verify finds, safely."""
    from pathlib import Path

    from schemalock import db
    from schemalock.fix.command import fix as fixing
    from schemalock.fix.plan import Orphans
    from schemalock.fix.revision import Timeouts
    from schemalock.lock import load_lock
    from schemalock.render import safe_text

    def say(line: str) -> None:  # names from the lock and the database: escaped
        print(safe_text(line))

    outcome = fixing(
        load_lock(lock),
        db.resolve_url(database_url),
        Path(migrations),
        db.Timeouts(int(statement_timeout * 1000)),
        orphans=Orphans(orphans.value),
        apply=apply,
        step_timeouts=Timeouts(lock_timeout, step_timeout, long_timeout),
        replace=replace,
        say=say,
    )
    plan = outcome.plan
    if outcome.revision is None and plan.notes:
        say("no revision written: what still differs is for a person to decide")
    elif outcome.revision is None:
        say("nothing to repair: the structure matches the lock")
    elif outcome.applied:  # its steps and hazards were printed before it ran
        say("applied (alembic upgrade head)")
    else:
        for line in plan.summary():
            say(line)
    for note in plan.notes:
        say(f"left for a person: {note}")
    raise typer.Exit(EXIT_CLEAN)


@dataclass
class _Bar:
    """What verify tells the progress bar: each rule as it starts, each row query."""

    on_query: Callable[[str], None] | None = None
    on_rule: Callable[[int, int], None] | None = None


@contextmanager
def _progress() -> Iterator[_Bar]:
    """A progress bar on stderr over the rules, naming the row check running and counting the
    queries, only when stderr is a terminal (never in CI logs or redirected output); it
    disappears when the run ends."""
    if not sys.stderr.isatty():
        yield _Bar()
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

        yield _Bar(on_query, on_rule)


@app.command()
def lint(
    lock: LockOption = "schema_lock.yaml",
    output_format: FormatOption = OutputFormat.text,
    output: OutputOption = None,
    fail_on: FailOnOption = FailOn.error,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
) -> None:
    """Check the lock file alone, without a database."""
    from schemalock.check import verify as verifying
    from schemalock.check.validity import refuse_invalid
    from schemalock.lock import load_lock

    loaded = load_lock(lock)
    _check_output(output, loaded)
    report = verifying.lint(loaded, select or (), ignore or ())
    try:
        _finish(report, output_format, output, fail_on)
    except typer.Exit:
        refuse_invalid(loaded)  # every finding listed: an invalid lock exits 2, as everywhere
        raise


@app.command()
def snapshot(
    database_url: UrlOption = None,
    schema: Annotated[
        list[str] | None,
        typer.Option(
            "--schema",
            "-s",
            help="Schema to include (repeat); default: every user schema.",
            show_default=False,
        ),
    ] = None,
    output: LockOutputOption = None,
    statement_timeout: TimeoutOption = 30.0,
) -> None:
    """Write a lock file from a live database (to stdout, or --output FILE)."""
    from schemalock import db
    from schemalock.app.snapshot import snapshot as take_snapshot

    _check_output(output)  # a lock there is replaced: what the user asked for, but whole
    text = take_snapshot(
        db.resolve_url(database_url), schema, db.Timeouts(int(statement_timeout * 1000))
    )
    _write(text, output)
    _wrote(output)


@app.command()
def rules(
    output_format: Annotated[
        str, typer.Option("--format", "-f", help="text, or markdown (the docs/rules.md page).")
    ] = "text",
) -> None:
    """List every rule: code, name, severity, category."""
    from schemalock.render import rules_doc

    if output_format == "markdown":
        print(rules_doc.markdown(), end="")
    elif output_format == "text":
        print(rules_doc.table(), end="")
    else:
        raise typer.BadParameter("use text or markdown", param_hint="--format")


@app.command()
def explain(rule: Annotated[str, typer.Argument(help="A rule code (SL101) or name.")]) -> None:
    """Show one rule's documentation."""
    from schemalock.errors import UsageError
    from schemalock.render import rules_doc
    from schemalock.rules import find_rule

    found = find_rule(rule)
    if found is None:
        raise UsageError(f"unknown rule {rule!r} (see `schemalock rules`)")
    print(rules_doc.explain(found), end="")


@app.command()
def schema(output: SchemaOutputOption = None) -> None:
    """Print the JSON Schema of the lock format (for editors: yaml-language-server)."""
    from schemalock.lock.format import json_schema_text

    _write(json_schema_text(), output)


@app.command()
def demo(
    keep: Annotated[
        bool, typer.Option(help="Keep a copy of the seed lock and the seed database's SQL.")
    ] = False,
) -> None:
    """The seed database's story on an embedded PostgreSQL: build it, verify it, explain."""
    from schemalock.app.demo import run_demo

    raise typer.Exit(run_demo(keep=keep))


@app.command()
def docs(
    lock: LockOption = "schema_lock.yaml",
    live: Annotated[
        bool,
        typer.Option("--live", help="Also verify the live database and add a checklist."),
    ] = False,
    database_url: UrlOption = None,
    output: DocsOutputOption = None,
    fail_on: FailOnOption = FailOn.error,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    no_data: Annotated[
        bool, typer.Option("--no-data", help="With --live: structure only, no row checks.")
    ] = False,
    env: Annotated[
        str | None,
        typer.Option(
            "--env", show_default=False, help="With --live: apply environments.NAME's policy."
        ),
    ] = None,
    statement_timeout: TimeoutOption = 30.0,
) -> None:
    """Write the lock as Markdown; with --live, verify the database and add a checklist."""
    from schemalock.check.validity import refuse_invalid
    from schemalock.errors import UsageError
    from schemalock.lock import load_lock
    from schemalock.render import markdown

    verify_options: tuple[tuple[str, object], ...] = (
        ("--database-url", database_url),
        ("--env", env),
        ("--no-data", no_data),
        ("--select", select),
        ("--ignore", ignore),
    )
    misplaced = [name for name, value in verify_options if value]
    if misplaced and not live:
        raise UsageError(f"{misplaced[0]} needs --live")
    loaded = load_lock(lock)
    _check_output(output, loaded)
    refuse_invalid(loaded)  # with or without --live, as verify and fix judge it
    if not live:
        _write(markdown.render(loaded), output)
        _wrote(output)
        raise typer.Exit(EXIT_CLEAN)
    verification = _docs_verify(
        loaded,
        database_url,
        fail_on,
        select or (),
        ignore or (),
        not no_data,
        env,
        statement_timeout,
    )
    _write(markdown.render(loaded, verification), output)
    if output:  # the document went to a file: the terminal (a CI log) gets verify's text
        _print_text(verification.report)
        _wrote(output)
    report = verification.report
    if report.failed(verification.fail_on):
        raise typer.Exit(EXIT_FINDINGS)
    raise typer.Exit(EXIT_INCONCLUSIVE if report.inconclusive else EXIT_CLEAN)


def _docs_verify(
    loaded: Lock,
    database_url: str | None,
    fail_on: FailOn,
    select: Sequence[str],
    ignore: Sequence[str],
    data: bool,
    env: str | None,
    statement_timeout: float,
) -> Verification:
    """verify, as `schemalock verify` runs it, and what the checklist needs to know of the run."""
    from datetime import UTC, datetime

    from schemalock import db
    from schemalock.check import engine
    from schemalock.check import verify as verifying
    from schemalock.check.findings import Severity
    from schemalock.render.markdown import Verification

    url = db.resolve_url(database_url)
    with _progress() as bar:
        report = verifying.verify(
            loaded,
            url,
            db.Timeouts(int(statement_timeout * 1000)),
            select,
            ignore,
            data=data,
            env=env,
            on_query=bar.on_query,
            on_rule=bar.on_rule,
        )
    ran = engine.select_rules(select, ignore, data=data)
    return Verification(
        report=report,
        rules=frozenset(rule.code for rule in ran),
        fail_on=Severity(fail_on.value),
        environment=env,
        checked_at=datetime.now(UTC).replace(microsecond=0),
    )


def _wrote(output: str | None) -> None:
    if output:
        print(f"wrote {output}", file=sys.stderr)


def _check_output(output: str | None, loaded: Lock | None = None) -> None:
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


def _write(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    from schemalock import files

    files.write_text(output, text)


def _finish(
    report: Report, output_format: OutputFormat, output: str | None, fail_on: FailOn
) -> NoReturn:
    from schemalock.check.findings import Severity

    if output_format is OutputFormat.json:
        from schemalock.render import json as json_render

        _write(json_render.render(report), output)
        if output:
            _print_text(report)
    else:
        _print_text(report, output)
    if report.failed(Severity(fail_on.value)):
        raise typer.Exit(EXIT_FINDINGS)
    raise typer.Exit(EXIT_INCONCLUSIVE if report.inconclusive else EXIT_CLEAN)


def _print_text(report: Report, output: str | None = None) -> None:
    from rich.console import Console

    from schemalock.render import text

    if output is None:
        text.render(report, Console(highlight=False))
        return
    from schemalock import files

    with files.replacing(output) as handle:
        text.render(report, Console(file=handle, no_color=True, highlight=False, width=200))


def run() -> int:
    """The command line as a function: runs `sys.argv`, returns the exit code."""
    _state["debug"] = False  # set by --debug's callbacks, before or after the command
    try:
        app()  # standalone: usage errors exit 2, typer.Exit exits with its code
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    except SchemalockError as error:
        return _fail(str(error), error.exit_code, _state["debug"], error.details)
    except Exception as error:  # a bug: one redacted line, the traceback only with --debug
        return _fail(
            f"internal error: {type(error).__name__}: {error} (run with --debug for details)",
            EXIT_USAGE,
            _state["debug"],
        )
    return EXIT_CLEAN


def main() -> NoReturn:
    # A short-lived process building large acyclic structures (a 5,000-table lock is a million
    # objects): the cyclic collector would rescan them over and over and free nothing.
    gc.disable()
    from schemalock.db import interrupts

    with interrupts.handled():  # SIGINT, SIGTERM: cancel on the server, exit 130, 143
        code = run()
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is written and every connection closed: skip the interpreter's teardown, which
    # spends 50-150 ms freeing object graphs (seconds on a 5,000-table schema).
    os._exit(code)


def _fail(message: str, code: int, debug: bool, details: tuple[str, ...] = ()) -> int:
    from schemalock.db import URL_ENV_VARS, redact
    from schemalock.render import safe_text

    urls = [os.environ.get(name, "") for name in URL_ENV_VARS]
    urls += [
        arg.removeprefix("--database-url=").removeprefix("-d=")
        for arg in sys.argv
        if "://" in arg or "password=" in arg
    ]
    # Messages quote names from the lock and the database: escaped, one line each.
    message = "\n  ".join(safe_text(line) for line in (message, *details))
    if debug:
        import traceback

        trace = "\n".join(safe_text(line) for line in traceback.format_exc().splitlines())
        message = f"{trace}\n{message}"
    for url in urls:
        message = redact(message, url)
    print(f"schemalock: error: {message}" if not debug else message, file=sys.stderr)
    return code
