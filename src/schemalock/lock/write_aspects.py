"""A table's storage parameters and exclusion constraints as the lock writes them; each left out
where the table has none, so locks of tables without them read as before."""

from __future__ import annotations

from typing import Any

from schemalock.lock.yaml_style import Flow
from schemalock.model import Table


def table_fields(table: Table) -> dict[str, Any]:
    """`exclusions:` and `options:`, those the table has."""
    fields: dict[str, Any] = {}
    if table.exclusions:
        fields["exclusions"] = {
            exclusion.name: exclusion.definition
            if not exclusion.deferrable
            else Flow(
                definition=exclusion.definition,
                deferrable=True,
                **({"initially_deferred": True} if exclusion.initially_deferred else {}),
            )
            for exclusion in table.exclusions
        }
    if table.options:
        fields["options"] = Flow(dict(table.options))
    return fields
