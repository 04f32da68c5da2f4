"""`schemalock rules` and `schemalock explain`: the rules and their documentation."""

from __future__ import annotations

from typing import Annotated

import typer


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


def explain(rule: Annotated[str, typer.Argument(help="A rule code (SL101) or name.")]) -> None:
    """Show one rule's documentation."""
    from schemalock.errors import UsageError
    from schemalock.render import rules_doc
    from schemalock.rules import find_rule

    found = find_rule(rule)
    if found is None:
        raise UsageError(f"unknown rule {rule!r} (see `schemalock rules`)")
    print(rules_doc.explain(found), end="")
