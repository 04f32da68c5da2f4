"""Questions about rules the database or the lock states: rows breaking a check constraint,
rows an invariant's query returns, and whether a query contract prepares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemalock import db
from schemalock.errors import Inconclusive
from schemalock.model import Table
from schemalock.probe.answers import CheckCount
from schemalock.probe.samples import SAMPLE_LIMIT
from schemalock.probe.session import Session

if TYPE_CHECKING:
    from psycopg import sql

# SQLSTATE classes of a refusal that says nothing about the query itself: connection (08),
# resources (53), operator intervention such as statement_timeout (57), system (58), and
# lock_not_available (lock_timeout).
_NOT_ABOUT_THE_QUERY = ("08", "53", "57", "58", "55P03")

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


class CheckQuestions(Session):
    """Whether check constraints, flow invariants and query contracts hold."""

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
