"""The probe's session: one connection, questions batched in short READ ONLY transactions
under the run's timeouts, refusals recorded as inconclusive checks, answers shared between
rules, and the few SQL pieces every question builds on (a sampled source, input validity)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from schemalock import db
from schemalock.check.findings import InconclusiveCheck
from schemalock.errors import Inconclusive
from schemalock.model import Column, Table
from schemalock.probe.answers import ColumnStats, OrphanCount
from schemalock.probe.samples import SAMPLE_LIMIT, distinct
from schemalock.probe.sql import UUID_INPUT, integer_input_valid, percent_escaped

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

BATCH_CHECKS, BATCH_SECONDS = 100, 2.0
ALL_MEASURES = frozenset({"uuid", "pattern", "values", "mock"})
T = TypeVar("T")


@dataclass
class Session:
    """The connection and its batching; the questions are in the modules beside this one."""

    connection: psycopg.Connection[Any]
    timeouts: db.Timeouts
    sample_percent: float | None = None
    measures: frozenset[str] = ALL_MEASURES  # what the per-table scan computes
    on_query: Callable[[str], None] | None = None  # told before each query, e.g. for progress
    user_casts: frozenset[str] = frozenset()  # types whose rows are not read (Database.user_casts)
    inconclusive: list[InconclusiveCheck] = field(default_factory=list)
    _profiles: dict[object, dict[str, ColumnStats] | None] = field(default_factory=dict)
    _orphans: dict[object, OrphanCount | None] = field(default_factory=dict)
    _failures: dict[object, str] = field(default_factory=dict)  # shared answer -> why it failed
    _refusals: int = 0  # how many refusals were met, listed or already listed
    _last_refusal: str = ""
    # One seed for every sampled query of the run, so each reads the same blocks of a table:
    # a count of UUIDs and the count of those matching a key describe the same rows.
    _seed: int = field(default_factory=lambda: random.randrange(2**31))
    _batch_started: float | None = None
    _batched: int = 0

    @property
    def estimates(self) -> bool:
        return self.sample_percent is not None

    def scaled(self, count: int) -> int:
        """A count of sampled rows as an estimate for the whole table (`--sample PERCENT`
        reads that share of it); an exact count as it is."""
        if self.sample_percent is None:
            return count
        return int(count * 100 / self.sample_percent + 0.5)

    @property
    def server(self) -> db.ServerAddress:
        """Where the connection actually went, for policies."""
        return db.server_address(self.connection)

    # -- running ---------------------------------------------------------------------------

    def _rows(
        self,
        rule: str,
        table: Table | None,
        query: sql.Composed,
        params: list[Any] | None,
        label: str | None = None,
    ) -> list[tuple[Any, ...]] | None:
        """The rows of one check's query, or None when it could not finish (recorded as
        inconclusive, about `table`).  `params` empty or None: the query has no placeholders,
        so a `%` in an identifier or in user SQL stays a `%`."""
        if self.on_query is not None:
            shown = label or (f"{table.schema}.{table.name}" if table else "")
            self.on_query(f"{rule}: {shown}")
        try:
            with db.inconclusive_errors(rule, self.timeouts):
                self._batch()
                rows = self._execute(query, params)
                self._batched += 1
                return rows
        except Inconclusive as error:
            self.close()  # the failed statement aborted the batch's transaction
            self.refuse(rule, table, error.reason, label)
            return None

    def _execute(self, query: sql.Composed, params: list[Any] | None) -> list[tuple[Any, ...]]:
        """Without parameters psycopg reads no placeholders, so the text goes as composed;
        with them, every `%` that is not a placeholder is doubled first."""
        if not params:
            return self.connection.execute(query).fetchall()
        return self.connection.execute(percent_escaped(query, self.connection), params).fetchall()

    def refuse(self, rule: str, table: Table | None, reason: str, label: str | None = None) -> None:
        """Record a check that cannot give an answer: the run is inconclusive, never a pass.
        `label` names the check where the table alone does not.  Listed once per rule, table
        and reason, however many of the rule's questions met the same refusal."""
        if label:
            reason = f"{label}: {reason}"
        self._refusals, self._last_refusal = self._refusals + 1, reason
        entry = InconclusiveCheck(
            rule=rule,
            schema=table.schema if table else None,
            table=table.name if table else None,
            reason=reason,
        )
        if entry not in self.inconclusive:
            self.inconclusive.append(entry)

    def _shared(
        self,
        cache: dict[object, T | None],
        key: object,
        rule: str,
        table: Table,
        compute: Callable[[], T | None],
    ) -> T | None:
        """`compute()`, asked once however many rules want it.  When it failed, each later
        rule that wanted it is listed as inconclusive too: an answer of nothing from a cached
        failure would read as a pass."""
        if key not in cache:
            refusals = self._refusals
            cache[key] = compute()
            if cache[key] is None and self._refusals > refusals:
                self._failures[key] = self._last_refusal
        elif cache[key] is None and key in self._failures:
            self.refuse(rule, table, self._failures[key])
        return cache[key]

    def _batch(self) -> None:
        """Checks share a read-only transaction, a few round trips fewer each, for at most
        BATCH_CHECKS checks or BATCH_SECONDS, so no snapshot is held for long."""
        fresh = self._batch_started is not None and (
            self._batched < BATCH_CHECKS and time.monotonic() - self._batch_started < BATCH_SECONDS
        )
        if not fresh:
            self.close()
            db.begin_read_only(self.connection, self.timeouts)
            self._batch_started, self._batched = time.monotonic(), 0

    def close(self) -> None:
        """End the current batch's transaction, if any."""
        if self._batch_started is not None:
            db.end_transaction(self.connection)
            self._batch_started = None

    def _input_valid(self, text: sql.Composable, type_name: str) -> sql.Composable:
        """SQL true when PostgreSQL reads the text `text` as a `type_name` (uuid or an integer
        type): pg_input_is_valid from 16, an equivalent proven against real casts before."""
        from psycopg import sql

        if self.connection.info.server_version >= 160000:
            return sql.SQL("pg_catalog.pg_input_is_valid({}, {})").format(
                text, sql.Literal(type_name)
            )
        if type_name == "uuid":
            return sql.SQL("({} ~ {})").format(text, sql.Literal(UUID_INPUT))
        return integer_input_valid(text, type_name)

    def _uuid_valid(self, value: sql.Composable) -> sql.Composable:
        from psycopg import sql

        return self._input_valid(sql.SQL("{}::pg_catalog.text").format(value), "uuid")

    def _source(self, table: Table, alias: str) -> sql.Composable:
        from psycopg import sql

        source = sql.SQL("{} {}").format(
            sql.Identifier(table.schema, table.name), sql.Identifier(alias)
        )
        if self.sample_percent is not None:
            source = sql.SQL("{} TABLESAMPLE SYSTEM ({}) REPEATABLE ({})").format(
                source, sql.Literal(self.sample_percent), sql.Literal(self._seed)
            )
        return source

    def samples(
        self, rule: str, table: Table, condition: sql.Composable, params: list[Any], column: Column
    ) -> tuple[str, ...]:
        from psycopg import sql

        rows = self._rows(
            rule,
            table,
            sql.SQL("SELECT c.{col}::pg_catalog.text FROM {src} WHERE {cond} LIMIT {n}").format(
                col=sql.Identifier(column.name),
                src=self._source(table, "c"),
                cond=condition,
                n=sql.Literal(4 * SAMPLE_LIMIT),
            ),
            params,
        )
        # No DISTINCT in SQL: it would read every matching row before the LIMIT.
        return distinct(str(row[0]) for row in rows or [])
