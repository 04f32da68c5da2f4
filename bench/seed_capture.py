"""Run `schemalock verify` in this process and write down every data question it asked: the
rule, the table, which probe method composed it (`_profile`, `_count_orphans`, `mock_samples`,
...), the column it is about, the SQL text as psycopg executes it, its parameters, and the rows
verify got back.  The seed benchmark replays exactly these statements to time them.

    python bench/seed_capture.py OUT.json verify --lock ... --database-url ...

It wraps `Session._rows`, through which every data question's answer passes, whether it was
sent in a pipeline ahead of time or on its own; nothing else changes.  Exits with verify's code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from schemalock.probe.session import Session
from schemalock.probe.sql import percent_escaped


def _about(frame_locals: dict[str, Any]) -> dict[str, str]:
    """The column (and parent column) the asking method was about, from its arguments."""
    found = {}
    column = frame_locals.get("column") or frame_locals.get("child")
    if column is not None and hasattr(column, "name") and hasattr(column, "type"):
        found["column"] = column.name
    parent_column = frame_locals.get("parent_column")
    if parent_column is not None:
        found["parent_column"] = parent_column.name
    fk = frame_locals.get("fk")
    if fk is not None:
        found["column"] = ",".join(fk.columns)
        found["parent"] = f"{fk.ref_table}.{','.join(fk.ref_columns)}"
    return found


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    asked: list[dict[str, Any]] = []
    original = Session._rows

    def recording(
        self: Session,
        rule: str,
        table: Any,
        query: Any,
        params: list[Any] | None,
        label: str | None = None,
    ) -> list[tuple[Any, ...]] | None:
        rows = original(self, rule, table, query, params, label)
        if self._composed is not None:  # composing ahead: nothing ran, it is asked again later
            return rows
        caller = sys._getframe(1)
        connection = self.connection
        text = (percent_escaped(query, connection) if params else query).as_string(connection)
        asked.append(
            {
                "rule": rule,
                "table": table.name if table is not None else None,
                "method": caller.f_code.co_name,
                **_about(caller.f_locals),
                "sql": text,
                "params": params or None,
                "rows": None if rows is None else [list(row) for row in rows],
            }
        )
        return rows

    Session._rows = recording  # type: ignore[method-assign]
    from schemalock.cli import run

    sys.argv = ["schemalock", *argv[1:]]
    code = run()
    out.write_text(json.dumps(asked, indent=1, default=str), encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
