"""The probe's session: one connection, questions batched in short READ ONLY transactions
under the run's timeouts, refusals recorded as inconclusive checks, answers shared between
rules, and the few SQL pieces every question builds on (a sampled source, input validity)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from schemalock import db
from schemalock.check.findings import InconclusiveCheck
from schemalock.errors import Inconclusive
from schemalock.model import Column, Table
from schemalock.probe import pipeline
from schemalock.probe.answers import ColumnStats, OrphanCount
from schemalock.probe.pipeline import BATCH_CHECKS, Outcome, Statement
from schemalock.probe.samples import SAMPLE_LIMIT, distinct
from schemalock.probe.sql import integer_input_valid, percent_escaped, uuid_input_valid

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

BATCH_SECONDS = 2.0
LOOK_AHEAD_WAVES = 3  # questions whose text depends on answers asked ahead, and theirs
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
    _scans: dict[Hashable, Any] = field(default_factory=dict)  # per-table scans (columns.Scan)
    # The text each statement object goes as, kept with the object (so its id is not reused):
    # a question composed once is turned into text once, asked ahead or not.
    _texts: dict[int, tuple[object, list[Any] | None, bytes | None]] = field(default_factory=dict)
    _refusals: int = 0  # how many refusals were met, listed or already listed
    _last_refusal: str = ""
    # One seed for every sampled query of the run, so each reads the same blocks of a table:
    # a count of UUIDs and the count of those matching a key describe the same rows.
    _seed: int = field(default_factory=lambda: random.randrange(2**31))
    _batch_started: float | None = None
    _batched: int = 0
    # Asked ahead (`ask_ahead`): answers waiting for the question, by its text and parameters;
    # while composing ahead, the questions composed and how many of their answers were unknown.
    _ahead: dict[Hashable, Outcome] = field(default_factory=dict)
    _composed: dict[Hashable, Statement] | None = None
    _unknown: int = 0  # answers asked for while composing ahead and not known yet
    _waiting: int = 0  # questions composed ahead whose text depends on such answers

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
        if self._composed is not None:
            return self._compose_ahead(query, params)
        outcome = self._ahead.pop(self._key(query, params), None) if self._ahead else None
        if self.on_query is not None:
            shown = label or (f"{table.schema}.{table.name}" if table else "")
            self.on_query(f"{rule}: {shown}")
        try:
            with db.inconclusive_errors(rule, self.timeouts):
                if outcome is not None:  # answered ahead: its rows, or its error raised here
                    if outcome.error is not None:
                        raise outcome.error
                    return outcome.rows
                self._batch()
                rows = self._execute(query, params)
                self._batched += 1
                return rows
        except Inconclusive as error:
            if outcome is None:
                self.close()  # the failed statement aborted the batch's transaction
            self.refuse(rule, table, error.reason, label)
            return None

    def _execute(self, query: sql.Composed, params: list[Any] | None) -> list[tuple[Any, ...]]:
        """Without parameters psycopg reads no placeholders, so the text goes as composed;
        with them, every `%` that is not a placeholder is doubled first."""
        if not params:
            return self.connection.execute(query).fetchall()
        return self.connection.execute(percent_escaped(query, self.connection), params).fetchall()

    # -- asking ahead ----------------------------------------------------------------------

    def ask_ahead(
        self,
        questions: Sequence[Callable[[], object]],
        dry_runs: Sequence[Callable[[], object]] = (),
    ) -> None:
        """Send together the statements `questions` would run, and keep their answers for
        when they are asked (`_rows` takes each once): a few round trips for all of them
        (probe/pipeline.py), and every question later gets the answer it would have had.
        Each question is composed without running anything (`_compose_ahead`); one whose text
        depends on another's answer is composed again once that answer is here.  `dry_runs`
        ask questions whose follow-ups depend on their answers only (rules that read an
        unknown answer as nothing to ask further): each runs again while it met one."""
        waiting = [(question, False) for question in questions]
        waiting += [(run, True) for run in dry_runs]
        for _ in range(LOOK_AHEAD_WAVES):
            self._composed, again = {}, []
            try:
                for question, dry in waiting:
                    before = self._waiting, self._unknown
                    question()
                    if self._waiting > before[0] or (dry and self._unknown > before[1]):
                        again.append((question, dry))
                statements = list(self._composed.values())
            finally:
                self._composed = None
            if not statements:
                return
            if self.on_query is not None:
                self.on_query(f"{len(statements)} data questions, sent together")
            self.close()  # a pipeline starts outside any transaction
            self._ahead.update(pipeline.ask(self.connection, self.timeouts, statements))
            waiting = again

    def _waits_on_ahead(self, unknown_before: int) -> bool:
        """Whether, while composing ahead, an answer asked for since `self._unknown` was
        `unknown_before` is not known yet: then the question composed depends on it, and is
        composed again once it is here."""
        if self._unknown == unknown_before:
            return False
        self._waiting += 1
        return True

    def _compose_ahead(
        self, query: sql.Composed, params: list[Any] | None
    ) -> list[tuple[Any, ...]] | None:
        """While composing ahead, in place of running a query: its answer when known already,
        else None, the statement kept for sending."""
        text = self._wire_text(query, params)
        key = self._key(query, params, text)
        outcome = self._ahead.get(key)
        if outcome is not None:
            return outcome.rows
        assert self._composed is not None
        self._composed[key] = Statement(key, text, params)
        self._unknown += 1
        return None

    def _key(
        self, query: sql.Composed, params: list[Any] | None, text: bytes | None = None
    ) -> Hashable:
        """A question's identity: the text it runs (as sent, so composed once) and its values."""
        if text is None:
            text = self._wire_text(query, params)
        return text or query.as_bytes(self.connection), repr(params or [])

    def _wire_text(self, query: sql.Composed, params: list[Any] | None) -> bytes | None:
        known = self._texts.get(id(query))
        if known is not None and known[0] is query and known[1] == params:
            return known[2]
        text = pipeline.wire_text(query, params, self.connection)
        self._texts[id(query)] = (query, params, text)
        return text

    def refuse(self, rule: str, table: Table | None, reason: str, label: str | None = None) -> None:
        """Record a check that cannot give an answer: the run is inconclusive, never a pass.
        `label` names the check where the table alone does not.  Listed once per rule, table
        and reason, however many of the rule's questions met the same refusal.  Nothing while
        composing ahead: the question asked later refuses as it did."""
        if self._composed is not None:
            return
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
        failure would read as a pass.  Composing ahead, nothing is kept."""
        if self._composed is not None:
            return compute()
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
            return uuid_input_valid(text)
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
