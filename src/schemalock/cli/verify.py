"""`schemalock verify`: the lock against the live database."""

from __future__ import annotations

from typing import Annotated

import typer

from schemalock.cli.options import (
    FailOn,
    FailOnOption,
    FormatOption,
    IgnoreOption,
    LockOption,
    OutputFormat,
    OutputOption,
    SelectOption,
    TimeoutOption,
    UrlOption,
)
from schemalock.cli.output import check_output, finish, progress


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
    check_output(output, loaded)
    url = db.resolve_url(database_url)
    with progress() as bar:
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
    finish(report, output_format, output, fail_on)
