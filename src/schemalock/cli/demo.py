"""`schemalock demo`: the seed database's story on an embedded PostgreSQL."""

from __future__ import annotations

from typing import Annotated

import typer


def demo(
    keep: Annotated[
        bool, typer.Option(help="Keep a copy of the seed lock and the seed database's SQL.")
    ] = False,
) -> None:
    """The seed database's story on an embedded PostgreSQL: build it, verify it, explain."""
    from schemalock.app.demo import run_demo

    raise typer.Exit(run_demo(keep=keep))
