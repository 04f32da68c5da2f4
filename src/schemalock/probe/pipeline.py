"""Many questions in one round trip: libpq's pipeline mode under the probe's read-only
transactions.

A cloud database is far away: one statement per table is one round trip per table.  Here the
statements go out together, in transactions of BATCH_CHECKS statements each (so no snapshot is
held for long), the transactions one after the other in the same pipeline, one Sync at the
end: one round trip for all of them.  One Sync per round trip also keeps PgBouncer in
transaction mode right: it sees the client's transaction end only at that Sync.

A statement that fails (statement_timeout, a cast error) aborts its transaction and, the
server skipping everything up to the Sync, every statement after it.  Its error is its answer,
as it would have been one statement at a time; the rest go again in the next round trip,
which first rolls the aborted transaction back.  So each failure costs one round trip more,
never an answer.  A statement that cannot go this way, or whose turn never came because the
connection failed, gets no answer here: the probe asks it the usual way.

Each wait for the server lasts until the next answer (`_Exchange.step`), so the client's
deadline (db/deadline.py) counts from the last answer, as it counts from each statement when
they go one by one; statement_timeout is set in every transaction, as `db.begin_read_only`
sets it.  Nothing is set for the session.
"""

from __future__ import annotations

import contextlib
import re
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from schemalock import db

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql
    from psycopg.abc import Buffer, PQGen, Transformer
    from psycopg.pq.abc import PGconn, PGresult

BATCH_CHECKS = 100  # statements per transaction, as the probe's batches one at a time
SEND_AT_ONCE = 64  # statements handed to libpq per wake-up when the socket can take more

# What `db.begin_read_only` starts (psycopg's BEGIN for its isolation_level and read_only) and
# sets (its very statement, numbered): inside a pipeline psycopg's own BEGIN would cost a
# round trip of its own.
# tests/test_pipeline.py compares the settings in force with those of `db.begin_read_only`.
_BEGIN = b"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
_SETTINGS = b"".join(
    part.encode() + (b"$%d" % number if number < db.READ_ONLY_SETTINGS.count("%s") + 1 else b"")
    for number, part in enumerate(db.READ_ONLY_SETTINGS.split("%s"), 1)
)
_ROLLBACK = b"ROLLBACK"
_PLACEHOLDER = re.compile(rb"%(.)", re.DOTALL)


@dataclass(frozen=True)
class Statement:
    """One question: `key` names it for whoever asks; `text` as libpq sends it (`wire_text`;
    None: it cannot go in a pipeline) with its `params`."""

    key: Hashable
    text: bytes | None
    params: list[Any] | None


class _Unread(Exception):
    """A `%` psycopg would read as something other than `%s` or `%%`."""


def wire_text(
    query: sql.Composable, params: list[Any] | None, connection: psycopg.Connection[Any]
) -> bytes | None:
    """The text psycopg sends for `query` executed with `params`: without parameters the text
    as composed; with them, psycopg's `%s` placeholders of the SQL written here numbered `$1`,
    `$2`, ... and its `%%` read as `%` (identifiers and literals go as they are: they hold no
    placeholders).  None when the text holds a `%` psycopg would read otherwise."""
    if not params:
        return query.as_bytes(connection)
    from psycopg import sql

    numbers = iter(range(1, len(params) + 1))
    chunks: list[bytes] = []
    # Depth first over the composed tree, without recursion: a 5,000-table run turns a
    # million parts into text here, and each generator level cost as much as the part.
    pending: list[sql.Composable] = [query]
    try:
        while pending:
            part = pending.pop()
            if isinstance(part, sql.Composed):
                pending.extend(reversed(list(part)))
                continue
            text = part.as_bytes(connection)
            if b"%" in text and isinstance(part, sql.SQL | sql.Placeholder):
                text = _PLACEHOLDER.sub(partial(_number, numbers), text)
            chunks.append(text)
    except _Unread:
        return None
    return None if next(numbers, None) is not None else b"".join(chunks)


def _number(numbers: Iterator[int], match: re.Match[bytes]) -> bytes:
    if match[1] == b"%":
        return b"%"
    number = next(numbers, None)
    if match[1] != b"s" or number is None:
        raise _Unread
    return b"$%d" % number


@dataclass(frozen=True)
class Outcome:
    """What the server answered: the rows, or the error it refused the statement with."""

    rows: list[tuple[Any, ...]] | None = None
    error: psycopg.Error | None = None


@dataclass(frozen=True)
class _Wire:
    """A statement as libpq sends it."""

    index: int  # in the list given to `ask`
    text: bytes
    params: Sequence[Buffer | None] | None
    types: Sequence[int] | None
    formats: Sequence[int] | None


def ask(
    connection: psycopg.Connection[Any], timeouts: db.Timeouts, statements: Sequence[Statement]
) -> dict[Hashable, Outcome]:
    """The outcome of each statement, by key, in one round trip plus one per failure; a
    statement missing from the result is to be asked the usual way."""
    import psycopg
    from psycopg import pq
    from psycopg.adapt import Transformer

    from schemalock.db import deadline

    if not statements or connection.pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return {}
    transformer = Transformer(connection)
    todo = [wire for wire in map(_wire(transformer), enumerate(statements)) if wire]
    outcomes: dict[int, Outcome] = {}
    deadline.limit_transaction(connection, timeouts.statement_ms)  # the client's deadline too
    while todo:
        answered = _round_trip(connection, timeouts, todo, transformer)
        outcomes.update(answered)
        if not answered or connection.closed or connection.broken:
            break  # the connection failed: what is left is asked the usual way
        todo = [wire for wire in todo if wire.index not in answered]
    if connection.pgconn.transaction_status == pq.TransactionStatus.INERROR:
        with contextlib.suppress(psycopg.Error):  # gone: the next question finds out
            connection.rollback()  # the last statement failed: its transaction is still open
    return {statements[index].key: outcome for index, outcome in outcomes.items()}


def _wire(transformer: Transformer) -> Callable[[tuple[int, Statement]], _Wire | None]:
    """A statement with its parameters dumped as psycopg dumps them; None when it cannot go."""
    from psycopg.adapt import PyFormat

    def convert(item: tuple[int, Statement]) -> _Wire | None:
        index, statement = item
        if statement.text is None:
            return None
        if not statement.params:
            return _Wire(index, statement.text, None, None, None)
        dumped = transformer.dump_sequence(
            statement.params, [PyFormat.AUTO] * len(statement.params)
        )
        types, formats = tuple(transformer.types or ()), list(transformer.formats or ())
        return _Wire(index, statement.text, list(dumped), types, formats)

    return convert


def _round_trip(
    connection: psycopg.Connection[Any],
    timeouts: db.Timeouts,
    todo: list[_Wire],
    transformer: Transformer,
) -> dict[int, Outcome]:
    """Send `todo` in transactions of BATCH_CHECKS, one Sync at the end, and read what came
    back: each statement's rows or error, until the first error (the rest were skipped)."""
    from psycopg import errors, pq

    pgconn = connection.pgconn
    commands: deque[Callable[[], None]] = deque()
    # For each result expected: the statement it answers, or for BEGIN and the settings the
    # first statement of their transaction (which their failure is reported for), or None.
    expected: list[tuple[bool, int | None]] = []
    if pgconn.transaction_status == pq.TransactionStatus.INERROR:
        commands.append(lambda: pgconn.send_query_params(_ROLLBACK, None))
        expected.append((False, None))
    settings = _settings(connection, timeouts)
    for start in range(0, len(todo), BATCH_CHECKS):
        chunk = todo[start : start + BATCH_CHECKS]
        commands.append(lambda: pgconn.send_query_params(_BEGIN, None))
        commands.append(lambda: pgconn.send_query_params(_SETTINGS, settings))
        expected += [(False, chunk[0].index)] * 2
        for wire in chunk:
            commands.append(_sender(pgconn, wire))
            expected.append((True, wire.index))
        commands.append(lambda: pgconn.send_query_params(_ROLLBACK, None))
        expected.append((False, None))
    commands.append(pgconn.pipeline_sync)

    answers: dict[int, Outcome] = {}
    exchange = _Exchange(pgconn, commands)
    pgconn.enter_pipeline_mode()
    try:
        for statement, index in expected:
            result = exchange.next_result(connection)
            if result.status == pq.ExecStatus.PIPELINE_ABORTED or index is None:
                continue
            if result.status == pq.ExecStatus.FATAL_ERROR:
                error = errors.error_from_result(result, encoding=connection.info.encoding)
                answers.setdefault(index, Outcome(error=error))
            elif statement:
                transformer.set_pgresult(result)
                answers[index] = Outcome(rows=transformer.load_rows(0, result.ntuples, tuple))
        exchange.until_sync(connection)
    except errors.OperationalError as error:  # the connection failed: so did the one waited for
        waited = next((wire.index for wire in todo if wire.index not in answers), None)
        if waited is not None:
            answers[waited] = Outcome(error=error)
    finally:
        _leave_pipeline(connection)
    return answers


def _sender(pgconn: PGconn, wire: _Wire) -> Callable[[], None]:
    from psycopg import pq

    def send() -> None:
        pgconn.send_query_params(wire.text, wire.params, wire.types, wire.formats, pq.Format.TEXT)

    return send


def _settings(connection: psycopg.Connection[Any], timeouts: db.Timeouts) -> list[bytes]:
    """The values `db.begin_read_only` sets, encoded for `_SETTINGS`."""
    values = db.read_only_values(connection, timeouts)
    return [value.encode(connection.info.encoding) for value in values]


def _leave_pipeline(connection: psycopg.Connection[Any]) -> None:
    """Back to one statement at a time; a connection left mid-pipeline (interrupted) is closed,
    so nothing reads its half-read results as answers to other questions."""
    from psycopg import pq

    pgconn = connection.pgconn
    if pgconn.status == pq.ConnStatus.BAD or pgconn.pipeline_status == pq.PipelineStatus.OFF:
        return
    try:
        pgconn.exit_pipeline_mode()
    except Exception:
        connection.close()


@dataclass
class _Exchange:
    """Sends the pipeline's commands while reading its results, so neither side waits on a
    full socket; one wait of the connection per result."""

    pgconn: PGconn
    commands: deque[Callable[[], None]]
    results: deque[PGresult] = field(default_factory=deque)
    synced: bool = False
    unflushed: bool = False

    def next_result(self, connection: psycopg.Connection[Any]) -> PGresult:
        while not self.results:
            if self.synced:
                raise _protocol_error("the pipeline ended before its last result")
            connection.wait(self._step())
        return self.results.popleft()

    def until_sync(self, connection: psycopg.Connection[Any]) -> None:
        while not self.synced:
            connection.wait(self._step())
        if self.results:
            raise _protocol_error("results after the pipeline's end")

    def _step(self) -> PQGen[None]:
        """Send what the socket takes and read what has come, until one more result (or the
        Sync) has arrived."""
        from psycopg.waiting import Ready, Wait

        arrived = len(self.results)
        while len(self.results) == arrived and not self.synced:
            ready = yield Wait.RW if self.commands or self.unflushed else Wait.R
            if not ready:  # nothing yet, or resumed after an interrupt (psycopg's wait)
                continue
            if ready & Ready.R:
                self.pgconn.consume_input()
                self._collect()
            if ready & Ready.W:
                for _ in range(SEND_AT_ONCE):
                    if not self.commands:
                        break
                    self.commands.popleft()()
                self.unflushed = self.pgconn.flush() != 0

    def _collect(self) -> None:
        """Every result libpq has read whole.  It returns None after each statement's result
        and after the last one read: two in a row, or one first, mean nothing more yet."""
        from psycopg import pq

        after_result = False
        while not self.pgconn.is_busy():
            result = self.pgconn.get_result()
            if result is None:
                if not after_result:
                    return
                after_result = False
            elif result.status == pq.ExecStatus.PIPELINE_SYNC:
                self.synced = True  # no None follows a Sync's result
            else:
                self.results.append(result)
                after_result = True


def _protocol_error(message: str) -> Exception:
    from psycopg import errors

    return errors.OperationalError(f"pipeline: {message}")
