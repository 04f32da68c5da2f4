"""Questions about relations: orphaned keys, values matching another key, overlapping rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemalock.model import Column, ForeignKey, Table
from schemalock.probe.answers import OrphanCount
from schemalock.probe.samples import SAMPLE_LIMIT, distinct
from schemalock.probe.session import Session
from schemalock.probe.sql import CAST_TO, comparison

if TYPE_CHECKING:
    from psycopg import sql


class RelationQuestions(Session):
    """Whether a relation's rows hold: orphans, and what the child values match instead."""

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
        read_as_other = False
        for (child_column, parent_column), value in zip(pairs, c_col, strict=True):
            comparison = self._comparable(child_column, parent_column, value)
            if comparison is None:
                reason = f"cannot compare {child_column.type} with {parent_column.type}"
                self.refuse(rule, child, reason)
                return None
            converted.append(comparison[0])
            read_as_other |= comparison[0] is not value  # as text, or text read as uuid or int
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
            parent=sql.Identifier(*fk.referenced),  # the partition, for a key into one
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
        source = self._source(child, "c")
        if read_as_other:
            source = self._candidates(source, fk, pairs)
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
                src=source,
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
            samples=distinct(samples or ()),
            compared_as=", ".join(how),
            invalid_samples=distinct(invalid_samples or ()),
        )

    def _candidates(
        self, source: sql.Composable, fk: ForeignKey, pairs: list[tuple[Column, Column]]
    ) -> sql.Composable:
        """The child rows that could be orphans, as relation `c`: those whose key's text is not
        the text of a parent key.  A key read as uuid or integer from text has a parent when its
        text is the parent value's own (canonical) text, which a hash anti-join on text finds
        without reading one value as a uuid; only the rest, a few rows, meet the validity test
        and the conversion.  Text equal means value equal, so no orphan is left out."""
        from psycopg import sql

        textual = sql.SQL(" AND ").join(
            sql.SQL("p.{}::pg_catalog.text = c.{}::pg_catalog.text").format(
                sql.Identifier(parent.name), sql.Identifier(child.name)
            )
            for child, parent in pairs
        )
        return sql.SQL(
            "(SELECT * FROM {src} WHERE NOT EXISTS (SELECT 1 FROM {parent} p WHERE {textual})"
            " OFFSET 0) c"
        ).format(src=source, parent=sql.Identifier(*fk.referenced), textual=textual)

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
            valid, text, sql.SQL(CAST_TO[parent.type])
        )
        return cast, valid, f"text read as {parent.type} by PostgreSQL"

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
        self,
        rule: str,
        table: Table,
        column: Column,
        keys: list[tuple[Table, Column]],
        every: bool = True,
    ) -> list[tuple[Table, Column]] | None:
        """The uuid `keys` that hold every one of a few sample UUIDs of a text `column` (with
        `every` false: any one of them): a short list worth a full `matching` count.  One index
        probe per key, all in one statement per hundred keys."""
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
            found += [
                key
                for key, count in zip(chunk, held, strict=True)
                if count == wanted or (count and not every)
            ]
        return found
