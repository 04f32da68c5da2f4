"""The options and choices several commands share."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from schemalock.check.findings import Severity


class OutputFormat(StrEnum):
    """The report formats of verify, lint and diff (render/ has one module each)."""

    text = "text"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    github = "github"
    gitlab = "gitlab"
    markdown = "markdown"


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    info = "info"
    # errors, and anything the database holds that schemalock does not model (verify's
    # coverage section lists it as not covered)
    uncovered = "uncovered"


def threshold(fail_on: FailOn) -> Severity:
    """The least severity that fails the run (`uncovered`: errors, as by default)."""
    from schemalock.check.findings import Severity

    return Severity.ERROR if fail_on is FailOn.uncovered else Severity(fail_on.value)


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
# FORMAT or FORMAT=PATH, repeatable: parsed by cli.output.destinations (typer has no type for
# it), so `--help` lists the formats here.
FormatOption = Annotated[
    list[str] | None,
    typer.Option(
        "--format",
        "-f",
        metavar="FORMAT[=PATH]",
        show_default=False,
        help="Report format: "
        + "|".join(OutputFormat)
        + " (default text). FORMAT=PATH writes it to a file; repeat for several reports,"
        " at most one of them without a path (to stdout, or to --output).",
    ),
]


def _output_option(help_text: str) -> Any:
    return typer.Option("--output", "-o", help=help_text, show_default=False)


OutputOption = Annotated[
    str | None,
    _output_option(
        "Write the report to this file: the --format given without a path, else text (never"
        " over the lock or a check file it reads)."
    ),
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
    FailOn,
    typer.Option(
        "--fail-on",
        help="Exit 1 when a finding is at least this severe (`uncovered`: errors, and "
        "anything the database holds that schemalock does not model).",
    ),
]
SelectOption = Annotated[
    list[str] | None,
    typer.Option(
        "--select",
        help="Only these rules (codes, code prefixes, names or categories; repeat or "
        "comma-separate). Advice (`fk-missing-index`) runs only when named: `--select advice`.",
        show_default=False,
    ),
]
IgnoreOption = Annotated[
    list[str] | None,
    typer.Option(
        "--ignore",
        help="Skip these rules (codes, code prefixes, names or categories).",
        show_default=False,
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        "--statement-timeout", min=0.1, help="Seconds any one query may run (lock_timeout is less)."
    ),
]
