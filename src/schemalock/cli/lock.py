"""The commands over the lock file: lint it, write it from a database (snapshot), print its
JSON Schema, render it as Markdown (docs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from schemalock.cli.options import (
    DocsOutputOption,
    FailOn,
    FailOnOption,
    FormatOption,
    IgnoreOption,
    LockOption,
    LockOutputOption,
    OutputOption,
    SchemaOutputOption,
    SelectOption,
    TimeoutOption,
    UrlOption,
    threshold,
)
from schemalock.cli.output import (
    check_output,
    check_reports,
    destinations,
    finish,
    print_text,
    progress,
    write,
    wrote,
)
from schemalock.errors import EXIT_CLEAN, EXIT_FINDINGS, EXIT_INCONCLUSIVE

if TYPE_CHECKING:
    from schemalock.model import Lock
    from schemalock.render.markdown import Verification


def lint(
    lock: LockOption = "schema_lock.yaml",
    output_format: FormatOption = None,
    output: OutputOption = None,
    fail_on: FailOnOption = FailOn.error,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
) -> None:
    """Check the lock file alone, without a database."""
    from datetime import date

    from schemalock.check import verify as verifying
    from schemalock.check.validity import refuse_invalid
    from schemalock.lock import load_lock

    reports = destinations(output_format, output)
    loaded = load_lock(lock)
    check_reports(reports, loaded)
    report = verifying.lint(loaded, select or (), ignore or (), today=date.today())
    try:
        finish(report, reports, fail_on)
    except typer.Exit:
        refuse_invalid(loaded)  # every finding listed: an invalid lock exits 2, as everywhere
        raise


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

    check_output(output)  # a lock there is replaced: what the user asked for, but whole
    text = take_snapshot(
        db.resolve_url(database_url), schema, db.Timeouts(int(statement_timeout * 1000))
    )
    write(text, output)
    wrote(output)


def schema(output: SchemaOutputOption = None) -> None:
    """Print the JSON Schema of the lock format (for editors: yaml-language-server)."""
    from schemalock.lock.format import json_schema_text

    write(json_schema_text(), output)


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
    check_output(output, loaded)
    refuse_invalid(loaded)  # with or without --live, as verify and fix judge it
    if not live:
        write(markdown.render(loaded), output)
        wrote(output)
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
    write(markdown.render(loaded, verification), output)
    if output:  # the document went to a file: the terminal (a CI log) gets verify's text
        print_text(verification.report)
        wrote(output)
    report = verification.report
    uncovered = fail_on is FailOn.uncovered and report.uncovered
    if report.failed(verification.fail_on) or uncovered:
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
    from schemalock.render.markdown import Verification

    url = db.resolve_url(database_url)
    with progress() as bar:
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
        fail_on=threshold(fail_on),
        environment=env,
        checked_at=datetime.now(UTC).replace(microsecond=0),
    )
