"""Questions about columns: the per-table profile scan and mock-looking values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from schemalock.model import Column, Table
from schemalock.model.bookkeeping import is_bookkeeping
from schemalock.probe.answers import ColumnStats
from schemalock.probe.mockdata import detectors_for, kind_of
from schemalock.probe.samples import SAMPLE_LIMIT, distinct
from schemalock.probe.session import Session
from schemalock.probe.sql import (
    UNDASHED_HEX,
    UNDASHED_UUID,
    array_literal,
    is_text,
    mock_condition,
    no_equality,
)

if TYPE_CHECKING:
    from psycopg import sql

# The rule an invalid `values:` entry concerns: it is found before the shared per-table scan,
# which then leaves that column's values out rather than fail for every rule of the table.
VALUES_RULE = "accepted-values-violation"


@dataclass(frozen=True)
class Scan:
    """The per-table scan's statement (None: nothing to count), and what it leaves out."""

    query: sql.Composed | None
    params: list[Any]
    plan: list[tuple[str, list[str]]]  # (column, measures) in the order of the counts
    refusals: tuple[str, ...]  # columns not read, and why


class ColumnQuestions(Session):
    """What a table's columns hold, in one scan per table."""

    def mock_samples(
        self, rule: str, table: Table, column: Column
    ) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """A few mock-looking values of a column and the detectors they match: one query that
        stops at its LIMIT, so a finding costs no second scan of a large table."""
        from psycopg import sql

        kind = kind_of(column.type)
        if kind is None:
            return None
        detectors = detectors_for(kind)
        raw = sql.SQL("c.{}").format(sql.Identifier(column.name))
        value = sql.SQL("{}::pg_catalog.text").format(raw)
        condition, params = mock_condition(kind, value, raw)
        flags = sql.SQL(", ").join(sql.SQL("{} ~* %s").format(value) for _ in detectors)
        rows = self._rows(
            rule,
            table,
            sql.SQL("SELECT {v}, {flags} FROM {src} WHERE {cond} LIMIT {n}").format(
                v=value,
                flags=flags,
                src=self._source(table, "c"),
                cond=condition,
                n=sql.Literal(4 * SAMPLE_LIMIT),
            ),
            [d.pattern for d in detectors] + params,
        )
        if rows is None:
            return None
        kinds = sorted(
            {d.name for row in rows for d, hit in zip(detectors, row[1:], strict=True) if hit}
        )
        values = distinct(str(row[0]) for row in rows)
        return tuple(kinds), values

    def profile(self, rule: str, live: Table, lock: Table) -> dict[str, ColumnStats] | None:
        """Per-column statistics of one table in one scan: non-NULL values, how many read as
        uuid, pattern and accepted-values violations.  Cached: every rule reads the same scan,
        and every rule that asks after it failed is told so.  A migration tool's bookkeeping
        table (`alembic_version`, `_prisma_migrations`, ...) is never judged as data: nothing."""
        if is_bookkeeping(live):
            return {}
        return self._shared(
            self._profiles, live.key, rule, live, lambda: self._profile(rule, live, lock)
        )

    def _values_readable(self, live: Table, column: Column, values: tuple[str, ...]) -> bool:
        """Whether the server reads every `values:` entry as the column's type: a query that
        reads no row, so an entry like `abc` for a numeric column is reported (inconclusive,
        the server's message) before it could fail the scan every rule of the table shares."""
        from psycopg import sql

        cast = sql.SQL("::pg_catalog.text" if no_equality(column.type) else "")
        rows = self._rows(
            VALUES_RULE,
            live,
            sql.SQL("SELECT (SELECT c.{col}{cast} FROM {table} c LIMIT 0) = ANY (%s)").format(
                col=sql.Identifier(column.name),
                cast=cast,
                table=sql.Identifier(live.schema, live.name),
            ),
            [array_literal(values)],
        )
        return rows is not None

    def _profile(self, rule: str, live: Table, lock: Table) -> dict[str, ColumnStats] | None:
        unknown = self._unknown
        readable = {
            column.name: self._values_readable(live, column, wanted.values)
            for column in live.columns
            if (wanted := lock.column(column.name)) is not None
            and wanted.values is not None
            and "values" in self.measures
        }
        if self._waits_on_ahead(unknown):
            return None  # composing ahead: the scan's text depends on these answers
        # Composed once: asked ahead, then again when the rules read it (a 5,000-table run
        # would otherwise compose every scan twice, seconds of client time).
        memo = (live.key, tuple(sorted(readable.items())))
        scan = self._scans.get(memo)
        if scan is None:
            scan = self._scans[memo] = self._scan(live, lock, readable)
        for reason in scan.refusals:
            self.refuse(rule, live, reason)
        if scan.query is None:
            return {}
        rows = self._rows(rule, live, scan.query, scan.params)
        if rows is None:
            return None
        figures = iter(rows[0])
        return {
            name: ColumnStats(**{m: self.scaled(int(next(figures))) for m in measures})
            for name, measures in scan.plan
        }

    def _scan(self, live: Table, lock: Table, readable: dict[str, bool]) -> Scan:
        """The one statement counting what the rules ask of every column of `live`."""
        from psycopg import sql

        selects: list[sql.Composable] = []
        params: list[Any] = []
        plan: list[tuple[str, list[str]]] = []
        refusals: list[str] = []
        for column in live.columns:
            wanted = lock.column(column.name)
            measures = []
            mark = len(selects), len(params)
            value = sql.SQL("c.{}").format(sql.Identifier(column.name))
            text_value = sql.SQL("{}::pg_catalog.text").format(value)
            length = sql.SQL("pg_catalog.octet_length({})").format(text_value)
            if is_text(column.type) and "uuid" in self.measures:
                selects += [
                    sql.SQL("count({})").format(value),
                    sql.SQL("count(*) FILTER (WHERE {})").format(self._uuid_valid(value)),
                    # Both match 32 ASCII characters exactly: a length test spares the
                    # regex every other value (most of a column of dashed UUIDs).
                    sql.SQL("count(*) FILTER (WHERE {0} = 32 AND {1} ~ {2})").format(
                        length, text_value, sql.Literal(UNDASHED_HEX)
                    ),
                    sql.SQL("count(*) FILTER (WHERE {0} = 32 AND {1} ~ {2})").format(
                        length, text_value, sql.Literal(UNDASHED_UUID)
                    ),
                ]
                measures += ["non_null", "uuid", "undashed", "undashed_uuid"]
            kind = kind_of(column.type)
            if (
                "mock" in self.measures
                and kind
                and lock.mock_data
                and (wanted is None or wanted.mock_data)
            ):
                condition, condition_params = mock_condition(kind, text_value, value)
                selects.append(sql.SQL("count(*) FILTER (WHERE {})").format(condition))
                params += condition_params
                measures.append("mock")
            if wanted is not None and wanted.pattern is not None and "pattern" in self.measures:
                selects.append(sql.SQL("count(*) FILTER (WHERE {} !~ %s)").format(text_value))
                params.append(wanted.pattern)
                measures.append("pattern_violations")
            if wanted is not None and wanted.values is not None and readable.get(column.name):
                # In the column's own type: numeric 1.50 is the lock's 1.5, boolean t its true;
                # as text where the type has no equality (json, xml, geometric types).
                compared = text_value if no_equality(column.type) else value
                selects.append(
                    sql.SQL("count(*) FILTER (WHERE NOT ({} = ANY (%s)))").format(compared)
                )
                params.append(array_literal(wanted.values))
                measures.append("value_violations")
            if measures and column.type in self.user_casts:
                del selects[mark[0] :], params[mark[1] :]
                refusals.append(
                    f"column {column.name} is of type {column.type}, which a cast function "
                    "outside pg_catalog converts: reading its rows would run that function"
                )
                continue
            if measures:
                if "non_null" not in measures:
                    selects.append(sql.SQL("count({})").format(value))
                    measures.append("non_null")
                plan.append((column.name, measures))
        if not selects:
            return Scan(None, params, plan, tuple(refusals))
        query = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(selects), self._source(live, "c")
        )
        return Scan(query, params, plan, tuple(refusals))
