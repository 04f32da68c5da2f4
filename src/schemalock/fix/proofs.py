"""What the data allows, asked before a plan is written: read-only queries that count the rows a
step would trip over (values that do not convert, NULLs, duplicates, orphans, rows a check
rejects) and name a few of them.  A step the data forbids is refused, never attempted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from schemalock import db
from schemalock.model import Table
from schemalock.names import qualified, quote

if TYPE_CHECKING:
    import psycopg

SAMPLES = 5


@dataclass(frozen=True)
class Blocker:
    """Rows that stop a step: how many, and the keys of a few."""

    count: int
    keys: tuple[str, ...]


@dataclass
class Prover:
    connection: psycopg.Connection[Any]
    timeouts: db.Timeouts

    def rows(self, table: Table, condition: str) -> Blocker:
        """Rows of `table` (alias `c`) where `condition` holds."""
        key = _key(table)
        source = f"{qualified(table.schema, table.name)} AS c"
        with db.read_only(self.connection, self.timeouts) as conn:
            count = conn.execute(f"SELECT count(*) FROM {source} WHERE {condition}").fetchone()
            keys = conn.execute(
                f"SELECT {key} FROM {source} WHERE {condition} LIMIT {SAMPLES}"
            ).fetchall()
        total = int(str(count[0])) if count else 0
        return Blocker(total, tuple(str(k[0]) for k in keys))

    def unconvertible(
        self, table: Table, column: str, to_type: str, mapped: str | None = None
    ) -> Blocker:
        """Rows whose value would not convert to `to_type` (PostgreSQL decides: upper-case and
        braced UUIDs convert); `mapped` is a condition true for values a data step maps first."""
        value = f"c.{quote(column)}"
        valid = self.valid(value, to_type)
        condition = f"{value} IS NOT NULL AND NOT ({valid})"
        if mapped:
            condition += f" AND NOT ({mapped})"
        return self.rows(table, condition)

    def valid(self, value: str, to_type: str) -> str:
        if self.connection.info.server_version >= 160000:
            return f"pg_catalog.pg_input_is_valid({value}::text, {_literal(to_type)})"
        if to_type == "uuid":
            from schemalock.probe import UUID_INPUT

            return f"({value}::text ~ {_literal(UUID_INPUT)})"
        return "true"  # before 16, the conversion itself is the proof: it fails atomically

    def duplicates(self, table: Table, columns: tuple[str, ...], nulls_distinct: bool) -> Blocker:
        listed = ", ".join(f"c.{quote(c)}" for c in columns)
        not_null = " AND ".join(f"c.{quote(c)} IS NOT NULL" for c in columns)
        where = f"WHERE {not_null}" if nulls_distinct else ""
        query = (
            f"SELECT concat_ws(', ', {listed}) FROM {qualified(table.schema, table.name)} AS c "
            f"{where} GROUP BY {listed} HAVING count(*) > 1"
        )
        with db.read_only(self.connection, self.timeouts) as conn:
            found = conn.execute(query).fetchall()
        return Blocker(len(found), tuple(str(row[0]) for row in found[:SAMPLES]))


def _key(table: Table) -> str:
    columns = table.primary_key.columns if table.primary_key else ()
    if not columns:
        return "c.ctid::text"
    return "concat_ws(', ', " + ", ".join(f"c.{quote(c)}::text" for c in columns) + ")"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
