"""The narrow interface data rules ask questions through: bounded, read-only SQL.

Questions run in short READ ONLY transactions under the run's timeouts (a batch of checks shares
one, a few round trips fewer each), so one check that times out, lacks privileges or loses its
connection becomes an `inconclusive` entry, its batch ends, and the others still run.  Rows
never come into Python: PostgreSQL counts (anti-joins, pattern scans, casts decided by
PostgreSQL itself) and returns the numbers and a few samples.  Identifiers reach SQL through
`sql.Identifier`, user patterns and values as bound parameters.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from schemalock import db
from schemalock.check.findings import InconclusiveCheck
from schemalock.errors import Inconclusive
from schemalock.model import Column, ForeignKey, Table
from schemalock.probe.mockdata import condition_parts, detectors_for, is_texty, kind_of

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

SAMPLE_LIMIT = 5
# SQLSTATE classes of a refusal that says nothing about the query itself: connection (08),
# resources (53), operator intervention such as statement_timeout (57), system (58), and
# lock_not_available (lock_timeout).
_NOT_ABOUT_THE_QUERY = ("08", "53", "57", "58", "55P03")
BATCH_CHECKS, BATCH_SECONDS = 100, 2.0

# PostgreSQL's uuid input, for servers without pg_input_is_valid (before 16): hex digits in any
# case, hyphens optional after any group of four, optionally in braces.
UUID_INPUT = r"^(\{[0-9A-Fa-f]{4}(-?[0-9A-Fa-f]{4}){7}\}|[0-9A-Fa-f]{4}(-?[0-9A-Fa-f]{4}){7})$"
UNDASHED_HEX = r"^[0-9A-Fa-f]{32}$"

# PostgreSQL's integer input before 16 (pg_strtoint16/32/64): C-locale white space around an
# optional sign and decimal digits; 16 added 0x/0o/0b prefixes and underscores, and has
# pg_input_is_valid.  The range is checked apart (integer_input_valid), on at most 19 digits.
_C_SPACE = r"[ \t\n\r\v\f]"
INTEGER_INPUT = rf"^{_C_SPACE}*[+-]?[0-9]+{_C_SPACE}*$"
INTEGER_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}


def mock_condition(kind: str, value: sql.Composable) -> tuple[sql.Composable, list[Any]]:
    """SQL true when any mock-data detector of `kind` matches `value` (patterns bound).  The
    clue test folds ASCII case only (`lower(... COLLATE "C")`), as `~*` does for the ASCII
    letters of our patterns in every collation but a Turkish one's dotted and dotless i."""
    from psycopg import sql

    pieces: list[sql.Composable] = []
    params: list[Any] = []
    for part in condition_parts(kind):
        regex = sql.SQL("{} ~* %s").format(value)
        if part.gate is not None:
            regex = sql.SQL("{} ~* %s AND {}").format(value, regex)
        if part.length is not None:
            pieces.append(
                sql.SQL("(pg_catalog.octet_length({}) = {} AND {})").format(
                    value, sql.Literal(part.length), regex
                )
            )
        elif not part.clues:
            pieces.append(regex)
        elif part.caseless:
            found = sql.SQL(" OR ").join(
                sql.SQL("pg_catalog.strpos({}, %s) > 0").format(value) for _ in part.clues
            )
            pieces.append(sql.SQL("(({}) AND {})").format(found, regex))
            params += part.clues
        else:
            folded = sql.SQL('pg_catalog.lower(({}) COLLATE pg_catalog."C")').format(value)
            pieces.append(
                sql.SQL("({} LIKE ANY (%s::pg_catalog.text[]) AND {})").format(folded, regex)
            )
            params.append([f"%{_like_escaped(clue)}%" for clue in part.clues])
        params += [part.gate, part.pattern] if part.gate is not None else [part.pattern]
    return sql.SQL("({})").format(sql.SQL(" OR ").join(pieces)), params


def _like_escaped(literal: str) -> str:
    return literal.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def is_text(type_name: str) -> bool:
    return is_texty(type_name)


def comparison(child_type: str, parent_type: str) -> str | None:
    """How a child value can be compared with a parent column's: "same" (PostgreSQL's own
    equality), "uuid" or "integer" (text read as the parent's type where PostgreSQL reads it
    so, the rest counted apart), "text" (both as text), or None: not at all."""
    from schemalock.compare.matching import compatible

    if compatible(child_type, parent_type):
        return "same"
    if is_text(child_type) and (parent_type == "uuid" or parent_type in INTEGER_RANGES):
        return "uuid" if parent_type == "uuid" else "integer"
    if is_text(parent_type):
        return "text"
    return None


_CAST_TO = {
    "uuid": "pg_catalog.uuid",
    "smallint": "pg_catalog.int2",
    "integer": "pg_catalog.int4",
    "bigint": "pg_catalog.int8",
}


def integer_input_valid(text: sql.Composable, type_name: str) -> sql.Composable:
    """SQL true when PostgreSQL before 16 reads `text` as a `type_name` (smallint, integer or
    bigint): the shape of INTEGER_INPUT, then the range, compared as numeric on the digits
    without leading zeros (at most 19 of them, so no numeric grows large).  CASE, not AND:
    the numeric cast must only ever see what the shape test let through."""
    from psycopg import sql

    low, high = INTEGER_RANGES[type_name]
    digits = sql.SQL("pg_catalog.ltrim(pg_catalog.substring({}, '[0-9]+'), '0')").format(text)
    return sql.SQL(
        "(CASE WHEN NOT ({t} ~ {shape}) THEN false"
        " WHEN pg_catalog.length({d}) > 19 THEN false"
        " ELSE ((CASE WHEN {t} ~ '-' THEN '-' ELSE '' END)"
        " || COALESCE(NULLIF({d}, ''), '0'))::pg_catalog.numeric"
        " BETWEEN {low}::pg_catalog.numeric AND {high}::pg_catalog.numeric END)"
    ).format(
        t=text,
        shape=sql.Literal(INTEGER_INPUT),
        d=digits,
        low=sql.Literal(str(low)),
        high=sql.Literal(str(high)),
    )


def array_literal(values: Iterable[str]) -> str:
    """`values` as the text of a PostgreSQL array, every element quoted: bound as a parameter
    of unknown type, the server reads it as an array of whatever type it is compared with."""
    quoted = ('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values)
    return "{" + ",".join(quoted) + "}"


def _percent_escaped(query: sql.Composed, context: psycopg.Connection[Any]) -> sql.Composed:
    """`query` with every `%` of its identifiers and literals doubled: with parameters, psycopg
    reads the whole text for placeholders, and a table named `Rates %b` holds no `%b`."""
    from psycopg import sql

    def escaped(part: sql.Composable) -> sql.Composable:
        if isinstance(part, sql.Composed):
            return _percent_escaped(part, context)
        if isinstance(part, sql.Identifier | sql.Literal):
            return sql.SQL(part.as_string(context).replace("%", "%%"))
        return part

    return sql.Composed([escaped(part) for part in query])


@dataclass(frozen=True)
class OrphanCount:
    orphans: int
    invalid: int  # child values that cannot even be read as the parent's type
    samples: tuple[str, ...] = ()
    compared_as: str = ""  # how child and parent values were compared, for the message
    invalid_samples: tuple[str, ...] = ()  # a few of the values that do not convert


@dataclass(frozen=True)
class CheckCount:
    violations: int  # rows the check's expression is false for
    samples: tuple[str, ...] = ()  # the primary keys of a few of them


# A check constraint's expression as the catalog holds it, whether it holds for the table's
# own rows only (NO INHERIT), and what it calls outside pg_catalog (functions, operators,
# types other than enums): running it would run that code.
_CHECK_CONSTRAINT = """
SELECT pg_catalog.pg_get_expr(con.conbin, con.conrelid, false), con.connoinherit,
       (SELECT pg_catalog.string_agg(
                   DISTINCT pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0), ', ')
        FROM pg_catalog.pg_depend AS d
        WHERE d.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
          AND d.objid = con.oid
          AND CASE d.refclassid
                WHEN 'pg_catalog.pg_proc'::pg_catalog.regclass THEN
                  (SELECT p.pronamespace FROM pg_catalog.pg_proc AS p WHERE p.oid = d.refobjid)
                WHEN 'pg_catalog.pg_operator'::pg_catalog.regclass THEN
                  (SELECT o.oprnamespace FROM pg_catalog.pg_operator AS o
                   WHERE o.oid = d.refobjid)
                WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN
                  (SELECT t.typnamespace FROM pg_catalog.pg_type AS t
                   WHERE t.oid = d.refobjid AND t.typtype <> 'e')
              END <> 'pg_catalog'::pg_catalog.regnamespace)
FROM pg_catalog.pg_constraint AS con
JOIN pg_catalog.pg_class AS c ON c.oid = con.conrelid
JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s AND con.conname = %s AND con.contype = 'c'
"""


@dataclass(frozen=True)
class ColumnStats:
    non_null: int
    uuid: int = 0
    undashed: int = 0
    pattern_violations: int = 0
    value_violations: int = 0
    mock: int = 0  # rows any mock-data detector matches


ALL_MEASURES = frozenset({"uuid", "pattern", "values", "mock"})
# The rule an invalid `values:` entry concerns: it is found before the shared per-table scan,
# which then leaves that column's values out rather than fail for every rule of the table.
VALUES_RULE = "accepted-values-violation"
T = TypeVar("T")


@dataclass
class Probe:
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
        return self.connection.execute(_percent_escaped(query, self.connection), params).fetchall()

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

    # -- questions -------------------------------------------------------------------------

    def orphans(self, rule: str, child: Table, fk: ForeignKey, parent: Table) -> OrphanCount | None:
        """Child rows whose whole key is non-NULL (MATCH SIMPLE) and has no parent row; asked
        once per relation however many rules want it."""
        return self._shared(
            self._orphans,
            (child.key, fk.columns, fk.target),
            rule,
            child,
            lambda: self._count_orphans(rule, child, fk, parent),
        )

    def _count_orphans(
        self, rule: str, child: Table, fk: ForeignKey, parent: Table
    ) -> OrphanCount | None:
        from psycopg import sql

        pairs = []
        for child_name, parent_name in zip(fk.columns, fk.ref_columns, strict=True):
            child_column, parent_column = child.column(child_name), parent.column(parent_name)
            if child_column is None or parent_column is None:
                return None
            pairs.append((child_column, parent_column))
        c_col = [sql.SQL("c.{}").format(sql.Identifier(c.name)) for c, _ in pairs]
        converted, validity, how = [], [], []
        for (child_column, parent_column), value in zip(pairs, c_col, strict=True):
            comparison = self._comparable(child_column, parent_column, value)
            if comparison is None:
                reason = f"cannot compare {child_column.type} with {parent_column.type}"
                self.refuse(rule, child, reason)
                return None
            converted.append(comparison[0])
            if comparison[1] is not None:
                validity.append(comparison[1])
            how.append(comparison[2])
        not_null = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(v) for v in c_col)
        valid = sql.SQL(" AND ").join(validity) if validity else sql.SQL("true")
        matches = sql.SQL(" AND ").join(
            sql.SQL("p.{} = {}").format(sql.Identifier(p.name), value)
            for (_, p), value in zip(pairs, converted, strict=True)
        )
        orphan = sql.SQL("{nn} AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {matches})").format(
            nn=not_null,
            parent=sql.Identifier(parent.schema, parent.name),
            matches=matches,
        )
        # One scan counts, classifies and samples: a value that does not convert compares as
        # NULL, so it leaves the anti-join with the orphans, flagged.  Running counts over a
        # ROWS frame stream (no ORDER BY, nothing sorted or held), so only the first orphans
        # of each class are kept, never all of them; OFFSET 0 keeps the planner from copying
        # the validity test into each use of `ok`.  No DISTINCT: it would finish the whole
        # anti-join again; a few more than needed are deduplicated here.
        keys = sql.SQL("pg_catalog.concat_ws(', ', {})").format(
            sql.SQL(", ").join(sql.SQL("{}::pg_catalog.text").format(v) for v in c_col)
        )
        rows = self._rows(
            rule,
            child,
            sql.SQL(
                "SELECT count(*) FILTER (WHERE o.ok), count(*) FILTER (WHERE NOT o.ok),"
                " pg_catalog.array_agg(o.k) FILTER (WHERE o.ok AND o.ok_seen <= {n}),"
                " pg_catalog.array_agg(o.k) FILTER (WHERE NOT o.ok AND o.seen - o.ok_seen <= {n})"
                " FROM (SELECT i.k, i.ok, pg_catalog.row_number() OVER w AS seen,"
                " count(*) FILTER (WHERE i.ok) OVER w AS ok_seen"
                " FROM (SELECT {keys} AS k, {valid} AS ok FROM {src} WHERE {orphan} OFFSET 0) i"
                " WINDOW w AS (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) o"
            ).format(
                n=sql.Literal(4 * SAMPLE_LIMIT),
                keys=keys,
                valid=valid,
                src=self._source(child, "c"),
                orphan=orphan,
            ),
            None,
        )
        if rows is None:
            return None
        orphans, invalid, samples, invalid_samples = rows[0]
        return OrphanCount(
            orphans=self.scaled(int(orphans)),
            invalid=self.scaled(int(invalid)),
            samples=_distinct(samples or ()),
            compared_as=", ".join(how),
            invalid_samples=_distinct(invalid_samples or ()),
        )

    def check_violations(self, rule: str, table: Table, name: str) -> CheckCount | None:
        """Rows of `table` for which its check constraint `name` is false (NULL passes, as in
        PostgreSQL), and the primary keys of a few: one scan, the database's own expression
        as its catalog holds it.  None when that could not be answered (recorded): the check
        is gone, or it calls code outside pg_catalog, which reading rows would run."""
        from psycopg import sql

        found = self._rows(
            rule, table, sql.SQL(_CHECK_CONSTRAINT).format(), [table.schema, table.name, name]
        )
        if found is None:
            return None
        if not found:
            self.refuse(rule, table, f"check {name} is gone (dropped while verify ran)")
            return None
        expression, own_rows_only, foreign = found[0]
        if foreign:
            self.refuse(
                rule,
                table,
                f"check {name} calls {foreign}, outside pg_catalog: counting the rows that "
                "break it would run that code",
            )
            return None
        key = (
            sql.SQL("pg_catalog.concat_ws(', ', {})").format(
                sql.SQL(", ").join(
                    sql.SQL("c.{}::pg_catalog.text").format(sql.Identifier(column))
                    for column in table.primary_key.columns
                )
            )
            if table.primary_key
            else sql.SQL("NULL::pg_catalog.text")
        )
        source = self._source(table, "c")
        if own_rows_only:
            source = sql.SQL("ONLY {}").format(source)
        # The expression names the table's columns unqualified, as the catalog prints them:
        # the scan reads that one table, so they resolve to it.  Running counts stream, only
        # the first keys are kept.
        rows = self._rows(
            rule,
            table,
            sql.SQL(
                "SELECT count(*), pg_catalog.array_agg(o.k) FILTER (WHERE o.n <= {n})"
                " FROM (SELECT {key} AS k, pg_catalog.row_number() OVER () AS n"
                " FROM {src} WHERE ({expression}) IS FALSE) AS o"
            ).format(
                n=sql.Literal(SAMPLE_LIMIT),
                key=key,
                src=source,
                expression=sql.SQL(expression),
            ),
            None,
        )
        if rows is None:
            return None
        count, keys = rows[0]
        return CheckCount(self.scaled(int(count)), tuple(str(k) for k in keys or () if k))

    def violations(
        self, rule: str, table: Table | None, label: str, query: sql.Composable
    ) -> tuple[int, tuple[str, ...]] | None:
        """How many rows `query` (one text column, `k`) returns, and the first few: one pass,
        only the first rows kept."""
        from psycopg import sql

        rows = self._rows(
            rule,
            table,
            sql.SQL(
                "SELECT count(*), pg_catalog.array_agg(o.k) FILTER (WHERE o.n <= {n})"
                " FROM (SELECT v.k, pg_catalog.row_number() OVER () AS n FROM ({q}) AS v) AS o"
            ).format(n=sql.Literal(SAMPLE_LIMIT), q=query),
            None,
            label=label,
        )
        if rows is None:
            return None
        return int(rows[0][0]), tuple(str(k) for k in rows[0][1] or ())

    def prepare(self, rule: str, label: str, text: str, types: tuple[str, ...]) -> str | None:
        """Prepare (parse and analyze, never execute) `text` with parameters of `types` on the
        live schema: None when the server accepts it, else its error.  Uses the unnamed
        prepared statement, which the next statement replaces: nothing is left in the session."""
        from psycopg import errors, pq

        if self.on_query is not None:
            self.on_query(f"{rule}: {label}")
        try:
            with db.inconclusive_errors(rule, self.timeouts):
                self._batch()
                oids = [self._type_oid(t) for t in types]
                if None in oids:
                    unknown = ", ".join(t for t, o in zip(types, oids, strict=True) if o is None)
                    return f"unknown parameter type: {unknown}"
                result = self.connection.pgconn.prepare(
                    b"", text.encode(), [o for o in oids if o is not None]
                )
                if result.status == pq.ExecStatus.COMMAND_OK:
                    return None
                self.close()  # the refused statement aborted the transaction
                message = result.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or b""
                reason = message.decode(errors="replace") or "refused by the server"
                state = (result.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode()
                if state.startswith(_NOT_ABOUT_THE_QUERY):  # a lock, a timeout: no verdict
                    raise errors.error_from_result(result, self.connection.info.encoding)
                return reason
        except Inconclusive as error:
            self.close()
            self.refuse(rule, None, error.reason, label)
            return None

    def _type_oid(self, name: str) -> int | None:
        row = self.connection.execute(
            "SELECT pg_catalog.to_regtype(%s)::pg_catalog.oid", [name]
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else None

    def _comparable(
        self, child: Column, parent: Column, value: sql.Composable
    ) -> tuple[sql.Composable, sql.Composable | None, str] | None:
        """How to compare a child value with the parent column: the converted child value, the
        condition for it to convert (None: always), and a description."""
        from psycopg import sql

        how = comparison(child.type, parent.type)
        if how is None:
            return None
        if how == "same":
            return value, None, f"as {parent.type}"
        # The text form, not the value: a char(n) value keeps its padding in a cast of its own,
        # which no uuid or integer input accepts, while its text form drops it.
        text = sql.SQL("{}::pg_catalog.text").format(value)
        if how == "text":
            return text, None, "as text"
        valid = self._input_valid(text, parent.type)
        cast = sql.SQL("(CASE WHEN {} THEN {}::{} END)").format(
            valid, text, sql.SQL(_CAST_TO[parent.type])
        )
        return cast, valid, f"text read as {parent.type} by PostgreSQL"

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
        value = sql.SQL("c.{}::pg_catalog.text").format(sql.Identifier(column.name))
        condition, params = mock_condition(kind, value)
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
        values = _distinct(str(row[0]) for row in rows)
        return tuple(kinds), values

    def overlap(
        self, rule: str, legacy: Table, canonical: Table, key: tuple[str, ...], whole_row: bool
    ) -> tuple[int, int] | None:
        """(rows of `legacy`, rows of `legacy` with no row of `canonical` equal on `key`).

        On a unique key, `=`: a legacy row whose key is NULL cannot be shown present in the
        canonical table, so it counts as only in `legacy`.  On whole rows (`whole_row`: `key`
        is every shared column), two rows are the same when their text forms are, NULLs and
        all: a copied row with an empty column is still a copy, and text compares by hash
        where IS NOT DISTINCT FROM would probe every canonical row per legacy row."""
        from psycopg import sql

        def side(alias: str) -> sql.Composable:
            return sql.SQL("ROW({})::pg_catalog.text").format(
                sql.SQL(", ").join(
                    sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(column))
                    for column in key
                )
            )

        if whole_row:
            equal: sql.Composable = sql.SQL("{} = {}").format(side("k"), side("l"))
        else:
            equal = sql.SQL(" AND ").join(
                sql.SQL("k.{c} = l.{c}").format(c=sql.Identifier(column)) for column in key
            )
        rows = self._rows(
            rule,
            legacy,
            sql.SQL(
                "SELECT (SELECT count(*) FROM {legacy}), (SELECT count(*) FROM {legacy} l "
                "WHERE NOT EXISTS (SELECT 1 FROM {canonical} k WHERE {equal}))"
            ).format(
                legacy=sql.Identifier(legacy.schema, legacy.name),
                canonical=sql.Identifier(canonical.schema, canonical.name),
                equal=equal,
            ),
            None,
        )
        return (int(rows[0][0]), int(rows[0][1])) if rows else None

    def matching(
        self, rule: str, child: Table, column: Column, parent: Table, parent_column: Column
    ) -> int | None:
        """How many non-NULL child values equal some value of `parent_column`: compared as the
        parent's type where `_comparable` knows how (text read as uuid by PostgreSQL, so upper
        case and braces match), else as text."""
        from psycopg import sql

        value = sql.SQL("c.{}").format(sql.Identifier(column.name))
        comparison = self._comparable(column, parent_column, value)
        child_value, valid = (
            (comparison[0], comparison[1])
            if comparison
            else (sql.SQL("{}::pg_catalog.text").format(value), None)
        )
        parent_value = sql.SQL("p.{}").format(sql.Identifier(parent_column.name))
        if comparison is None:
            parent_value = sql.SQL("{}::pg_catalog.text").format(parent_value)
        rows = self._rows(
            rule,
            child,
            sql.SQL(
                "SELECT count(*) FROM {src} WHERE {value} IS NOT NULL AND {valid} AND EXISTS ("
                "SELECT 1 FROM {parent} p WHERE {parent_value} = {child_value})"
            ).format(
                src=self._source(child, "c"),
                value=value,
                valid=valid if valid is not None else sql.SQL("true"),
                parent=sql.Identifier(parent.schema, parent.name),
                parent_value=parent_value,
                child_value=child_value,
            ),
            None,
        )
        return self.scaled(int(rows[0][0])) if rows else None

    def uuid_holders(
        self, rule: str, table: Table, column: Column, keys: list[tuple[Table, Column]]
    ) -> list[tuple[Table, Column]] | None:
        """The uuid `keys` that hold every one of a few sample UUIDs of a text `column`: a
        short list worth a full `matching` count.  One index probe per key, all in one
        statement per hundred keys."""
        from psycopg import sql

        value = sql.SQL("c.{}").format(sql.Identifier(column.name))
        samples = self.samples(rule, table, self._uuid_valid(value), [], column)
        if not samples:
            return []
        found: list[tuple[Table, Column]] = []
        for start in range(0, len(keys), 100):
            chunk = keys[start : start + 100]
            probes = sql.SQL(", ").join(
                sql.SQL(
                    "(SELECT count(*) FROM s WHERE EXISTS (SELECT 1 FROM {} p WHERE p.{} = s.v))"
                ).format(sql.Identifier(parent.schema, parent.name), sql.Identifier(key.name))
                for parent, key in chunk
            )
            rows = self._rows(
                rule,
                table,
                sql.SQL(
                    "WITH s AS (SELECT DISTINCT v::pg_catalog.uuid AS v"
                    " FROM pg_catalog.unnest(%s::pg_catalog.text[]) v)"
                    " SELECT (SELECT count(*) FROM s), {}"
                ).format(probes),
                [list(samples)],
            )
            if rows is None:
                return None
            wanted, *held = rows[0]
            found += [key for key, count in zip(chunk, held, strict=True) if count == wanted]
        return found

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
        return _distinct(str(row[0]) for row in rows or [])

    def profile(self, rule: str, live: Table, lock: Table) -> dict[str, ColumnStats] | None:
        """Per-column statistics of one table in one scan: non-NULL values, how many read as
        uuid, pattern and accepted-values violations.  Cached: every rule reads the same scan,
        and every rule that asks after it failed is told so."""
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
        from psycopg import sql

        selects: list[sql.Composable] = []
        params: list[Any] = []
        plan: list[tuple[str, list[str]]] = []
        for column in live.columns:
            wanted = lock.column(column.name)
            measures = []
            mark = len(selects), len(params)
            value = sql.SQL("c.{}").format(sql.Identifier(column.name))
            text_value = sql.SQL("{}::pg_catalog.text").format(value)
            if is_text(column.type) and "uuid" in self.measures:
                selects += [
                    sql.SQL("count({})").format(value),
                    sql.SQL("count(*) FILTER (WHERE {})").format(self._uuid_valid(value)),
                    sql.SQL("count(*) FILTER (WHERE {} ~ {})").format(
                        text_value, sql.Literal(UNDASHED_HEX)
                    ),
                ]
                measures += ["non_null", "uuid", "undashed"]
            kind = kind_of(column.type)
            if (
                "mock" in self.measures
                and kind
                and lock.mock_data
                and (wanted is None or wanted.mock_data)
            ):
                condition, condition_params = mock_condition(kind, text_value)
                selects.append(sql.SQL("count(*) FILTER (WHERE {})").format(condition))
                params += condition_params
                measures.append("mock")
            if wanted is not None and wanted.pattern is not None and "pattern" in self.measures:
                selects.append(sql.SQL("count(*) FILTER (WHERE {} !~ %s)").format(text_value))
                params.append(wanted.pattern)
                measures.append("pattern_violations")
            if (
                wanted is not None
                and wanted.values is not None
                and "values" in self.measures
                and self._values_readable(live, column, wanted.values)
            ):
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
                self.refuse(
                    rule,
                    live,
                    f"column {column.name} is of type {column.type}, which a cast function "
                    "outside pg_catalog converts: reading its rows would run that function",
                )
                continue
            if measures:
                if "non_null" not in measures:
                    selects.append(sql.SQL("count({})").format(value))
                    measures.append("non_null")
                plan.append((column.name, measures))
        if not selects:
            return {}
        rows = self._rows(
            rule,
            live,
            sql.SQL("SELECT {} FROM {}").format(
                sql.SQL(", ").join(selects), self._source(live, "c")
            ),
            params,
        )
        if rows is None:
            return None
        figures = iter(rows[0])
        return {
            name: ColumnStats(**{m: self.scaled(int(next(figures))) for m in measures})
            for name, measures in plan
        }


# Types without a default equality operator: compared on their text.
_NO_EQUALITY = ("json", "xml", "point", "line", "lseg", "box", "path", "polygon", "circle")


def no_equality(type_name: str) -> bool:
    """Whether `type_name` has no default equality (json, xml, geometric types)."""
    return type_name.removesuffix("[]") in _NO_EQUALITY


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))[:SAMPLE_LIMIT]


_EMAIL = re.compile(r"([^\s@<>\"',;:()]+)@([^\s@]+)")


def redact(value: str, limit: int = 40) -> str:
    """A data sample as reports show it: every email's local part masked (`t***@example.com`),
    text longer than `limit` cut."""
    value = _EMAIL.sub(lambda m: f"{m.group(1)[0]}***@{m.group(2)}", value)
    return value if len(value) <= limit else value[: limit - 3] + "..."
