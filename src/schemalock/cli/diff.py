"""`schemalock diff`: the forward-only guard, the lock against its own earlier version."""

from __future__ import annotations

from typing import Annotated

import typer

from schemalock.cli.options import FailOn, FailOnOption, FormatOption, LockOption, OutputOption
from schemalock.cli.output import check_reports, destinations, finish


def diff(
    files: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[OLD NEW]",
            help="Two lock files to compare, instead of --base.",
            show_default=False,
        ),
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            "-b",
            help="Git ref of the base version (main, origin/main, HEAD~1): the lock at --lock "
            "as that commit holds it, read without a checkout.",
            show_default=False,
        ),
    ] = None,
    base_lock: Annotated[
        str | None,
        typer.Option(
            "--base-lock",
            help="The lock's path at --base, from the repository's top folder, when it moved "
            "since (git's rename detection finds most moves itself); '' if it is new there.",
            show_default=False,
        ),
    ] = None,
    lock: LockOption = "schema_lock.yaml",
    output_format: FormatOption = None,
    output: OutputOption = None,
    fail_on: FailOnOption = FailOn.error,
) -> None:
    """Compare the lock with its base version: exit 1 on a regression it does not acknowledge."""
    from datetime import date

    from schemalock import guard
    from schemalock.check.validity import refuse_invalid
    from schemalock.errors import UsageError

    reports = destinations(output_format, output)
    if files and base is not None:
        raise UsageError("give --base REF or two lock files (OLD NEW), not both")
    if base_lock is not None and base is None:
        raise UsageError("--base-lock goes with --base REF")
    if files:
        if len(files) != 2:
            raise UsageError(f"give two lock files, OLD and NEW (got {len(files)})")
        old_path, new_path = files
        new = guard.read(new_path)
        old: guard.Version | None = guard.read(old_path)
        base_name = old_path
        check_reports(reports, new.lock, inputs=[("the base lock", old_path)])
    elif base is not None:
        new = guard.read(lock)
        committed = guard.lock_at(base, lock, base_lock)
        old = guard.Version(committed.lock, committed.text) if committed.lock else None
        base_name = committed.name
        check_reports(reports, new.lock)
    else:
        raise UsageError("give --base REF (a git ref) or two lock files (OLD NEW)")
    refuse_invalid(new.lock)  # as verify does: an invalid lock promises nothing to compare
    finish(guard.diff(new, old, base_name, date.today()), reports, fail_on)
