"""`schemalock verify`: the lock against the live database."""

from __future__ import annotations

from typing import Annotated

import typer

from schemalock.cli.baseline import BaselineOption, UpdateBaselineOption
from schemalock.cli.options import (
    FailOn,
    FailOnOption,
    FormatOption,
    IgnoreOption,
    LockOption,
    OutputOption,
    SelectOption,
    TimeoutOption,
    UrlOption,
)
from schemalock.cli.output import check_reports, destinations, finish, progress


def verify(
    lock: LockOption = "schema_lock.yaml",
    database_url: UrlOption = None,
    output_format: FormatOption = None,
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
    baseline: BaselineOption = None,
    update_baseline: UpdateBaselineOption = False,
) -> None:
    """Compare the lock with the live database and report every difference."""
    from datetime import date

    from schemalock import db
    from schemalock.check import verify as verifying
    from schemalock.cli import baseline as baselines
    from schemalock.errors import UsageError
    from schemalock.lock import load_lock

    if api_header and api_base is None:
        raise UsageError("--api-header needs --api-base")
    # Validated before the lock is read or the database is asked anything.
    api = None
    if api_base is not None:
        from schemalock.check import api as apiprobe

        api = apiprobe.settings(api_base, api_header or (), api_timeout)
    reports = destinations(output_format, output)
    recorded = baselines.held(baseline, update_baseline, sample)
    loaded = load_lock(lock)
    check_reports(reports, loaded, [("the baseline", baseline)] if baseline else [])
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
            today=date.today(),
        )
    if baseline is not None and recorded is not None:
        baselines.ratchet(report, baseline, recorded, update_baseline)
    finish(report, reports, fail_on)
