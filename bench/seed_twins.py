"""The seed lock's data rules, and next to each question verify asks, the SQL a DBA would type
for the same question in psql: plain SQL, no prefilters, one pass per table with FILTERs, one
anti-join per relation, samples capped as verify caps them (LIMIT 4 x SAMPLE_LIMIT, fetched
only when the count is positive).

A question is what verify asks about one table, relation or column (`Question.key`); `twin()`
composes its twin, and `same_answer()` says whether verify's rows and the twin's answer it
alike (counts exactly; samples as how many distinct ones, which rows a LIMIT picks being free).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from bench_server import BenchError
from psycopg import sql

from schemalock.probe.mockdata import DETECTORS, detectors_for, kind_of
from schemalock.probe.samples import SAMPLE_LIMIT, distinct
from schemalock.probe.sql import is_text

LIMIT = 4 * SAMPLE_LIMIT  # rows verify fetches for its samples

# The seed lock's data rules (src/schemalock/seed/schema_lock.yaml), on the snapshot's columns.
DATA_RULES: dict[tuple[str, str], dict[str, Any]] = {
    ("organizations", "clerk_org_id"): {"pattern": "^org_[0-9A-Za-z]+$"},
    ("organizations", "plan"): {"values": ["free", "pro", "enterprise"]},
    ("jobs", "org_id"): {"references": "organizations.id", "on_delete": "cascade"},
    ("jobs", "status"): {"values": ["pending", "running", "completed", "failed"]},
    ("jobs", "apify_run_id"): {"pattern": "^[A-Za-z0-9]{17}$"},
    ("quota_usage", "job_id"): {"references": "jobs.id", "on_delete": "set null"},
    ("quota_usage", "usage_type"): {"values": ["search", "analysis"]},
}

# What a DBA types for "reads as a uuid" and the 32-hex-digit forms: one regex each.
UUID_SHAPE = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
HEX32 = "^[0-9A-Fa-f]{32}$"
UNDASHED_UUID = "^[0-9A-Fa-f]{12}[1-8][0-9A-Fa-f]{3}[89ABab][0-9A-Fa-f]{15}$"


def edit_lock(lock: Path) -> None:
    """Add DATA_RULES to a snapshot's lock: each column's flow mapping gains the keys."""
    text = lock.read_text(encoding="utf-8")
    for (table, column), rules in DATA_RULES.items():
        block = re.search(rf"^  {table}:\n(?:    .*\n)*", text, re.MULTILINE)
        if block is None:
            raise BenchError(f"{lock}: no table {table}")
        line = re.search(rf"^      {column}: \{{(.*)\}}\n", block.group(0), re.MULTILINE)
        if line is None:
            raise BenchError(f"{lock}: no column {table}.{column}")
        extra = ", ".join(f"{key}: {_yaml(value)}" for key, value in rules.items())
        edited = block.group(0).replace(
            line.group(0), f"      {column}: {{{line.group(1)}, {extra}}}\n"
        )
        text = text[: block.start()] + edited + text[block.end() :]
    lock.write_text(text, encoding="utf-8")


def _yaml(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(value) + "]"
    return "'" + str(value).replace("'", "''") + "'"


@dataclass(frozen=True)
class Question:
    """One thing verify asks the database, and the statements it sent for it."""

    key: tuple[str, ...]  # ("scan", table) / ("orphans", table, column) / ...
    rules: tuple[str, ...]
    statements: tuple[dict[str, Any], ...]  # as seed_capture.py wrote them

    @property
    def label(self) -> str:
        kind, table, *rest = self.key
        column = rest[0] if rest else ""
        if kind == "scan":
            return f"one scan of `{table}`"
        if kind == "orphans":
            return f"orphans of `{table}.{column}` -> `{rest[1]}`"
        if kind == "matching":
            return f"`{table}.{column}` values found in `{rest[1]}`"
        if kind == "mock_samples":
            return f"mock samples of `{table}.{column}`"
        return f"{rest[1] if len(rest) > 1 else ''} samples of `{table}.{column}`"


def group(asked: list[dict[str, Any]]) -> list[Question]:
    """The captured statements as questions: a table's scan with the checks that the lock's
    values parse (a query that reads no row), the rest one statement each."""
    keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    rules: dict[tuple[str, ...], list[str]] = {}
    for entry in asked:
        method, table = entry["method"], entry["table"]
        if method in ("_profile", "_values_readable"):
            key: tuple[str, ...] = ("scan", table)
        elif method == "_count_orphans":
            key = ("orphans", table, entry["column"], entry["parent"])
        elif method == "matching":
            key = ("matching", table, entry["column"], entry["parent_column"])
        elif method in ("mock_samples", "samples"):
            key = (method, table, entry["column"], entry["rule"])
        else:
            raise BenchError(f"verify asked something the benchmark has no twin for: {entry}")
        keys.setdefault(key, []).append(entry)
        rules.setdefault(key, [])
        if entry["rule"] not in rules[key]:
            rules[key].append(entry["rule"])
    for key in keys:
        if key[0] == "scan":  # every data rule of the table reads the shared scan
            rules[key] = ["mock-data", "pattern-violation", "accepted-values-violation",
                          "uuid-stored-as-text", "undashed-uuid-as-text"]  # fmt: skip
    return [Question(key, tuple(rules[key]), tuple(entries)) for key, entries in keys.items()]


# -- the twins ------------------------------------------------------------------------------

Columns = dict[str, list[tuple[str, str]]]  # table -> [(column, type)] in the table's order


def columns(connection: psycopg.Connection[Any]) -> Columns:
    found: Columns = {}
    for table, column, type_name in connection.execute(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)"
        " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
        " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum"
    ):
        found.setdefault(table, []).append((column, type_name))
    return found


def _mock(column: str, type_name: str) -> sql.Composable:
    """Any mock-data detector of the column's kind matches its text: the detectors' own
    regexes (docs/rules.md, mock-data), one `~*` each."""
    kind = kind_of(type_name)
    assert kind is not None
    text = sql.SQL("{}::text").format(sql.Identifier(column))
    return sql.SQL("({})").format(
        sql.SQL(" OR ").join(
            sql.SQL("{} ~* {}").format(text, sql.Literal(d.pattern)) for d in detectors_for(kind)
        )
    )


def scan_twin(table: str, table_columns: list[tuple[str, str]]) -> sql.Composable:
    """One pass over the table with a FILTER per question, in the order verify asks them (so
    the two rows compare value by value)."""
    counts: list[sql.Composable] = []
    for column, type_name in table_columns:
        rules = DATA_RULES.get((table, column), {})
        col = sql.Identifier(column)
        mine: list[sql.Composable] = []
        if is_text(type_name):
            mine += [
                sql.SQL("count({})").format(col),
                sql.SQL("count(*) FILTER (WHERE {} ~ {})").format(col, sql.Literal(UUID_SHAPE)),
                sql.SQL("count(*) FILTER (WHERE {} ~ {})").format(col, sql.Literal(HEX32)),
                sql.SQL("count(*) FILTER (WHERE {} ~ {})").format(col, sql.Literal(UNDASHED_UUID)),
            ]
        if kind_of(type_name):
            mine.append(sql.SQL("count(*) FILTER (WHERE {})").format(_mock(column, type_name)))
        if "pattern" in rules:
            mine.append(
                sql.SQL("count(*) FILTER (WHERE {} !~ {})").format(
                    col, sql.Literal(rules["pattern"])
                )
            )
        if "values" in rules:
            mine.append(
                sql.SQL("count(*) FILTER (WHERE {} NOT IN ({}))").format(
                    col, sql.SQL(", ").join(map(sql.Literal, rules["values"]))
                )
            )
        if mine and not is_text(type_name):
            mine.append(sql.SQL("count({})").format(col))
        counts += mine
    return sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(counts), sql.Identifier(table))


@dataclass(frozen=True)
class Twin:
    """The hand-written SQL for one question: `run(connection)` answers it (statements sent
    in order, a sample query only when its count is positive)."""

    shown: str  # the SQL, for the report (the detectors' regexes named, not spelled out)
    run: Callable[[psycopg.Connection[Any]], list[Any]]
    first: str = ""  # its first statement as run, for EXPLAIN


def twin(question: Question, tables: Columns, connection: psycopg.Connection[Any]) -> Twin:
    made = _twin(question, tables, connection)
    shown = made.shown
    for detector in DETECTORS:  # the regexes are docs/rules.md's; the report names them
        shown = shown.replace(
            sql.Literal(detector.pattern).as_string(connection), f"<{detector.name} regex>"
        )
    return Twin(shown, made.run, made.shown.split(";\n", 1)[0].rstrip(";"))


def _twin(question: Question, tables: Columns, connection: psycopg.Connection[Any]) -> Twin:
    kind, table = question.key[0], question.key[1]

    def text(query: sql.Composable) -> str:
        return query.as_string(connection)

    def rows(query: str) -> Callable[[psycopg.Connection[Any]], list[Any]]:
        return lambda c: [list(row) for row in c.execute(query.encode()).fetchall()]

    if kind == "scan":
        query = text(scan_twin(table, tables[table]))
        return Twin(query, rows(query))
    column = question.key[2]
    col = sql.Identifier(column)
    if kind == "orphans":
        parent, parent_column = question.key[3].split(".")
        child_type = dict(tables[table])[column]
        if is_text(child_type):  # text holding uuids: compared as the uuid's text
            anti = sql.SQL(
                "FROM {t} c WHERE c.{col} IS NOT NULL AND NOT EXISTS"
                " (SELECT 1 FROM {p} p WHERE p.{pc}::text = c.{col})"
            )
            valid = sql.SQL("c.{} ~ {}").format(col, sql.Literal(UUID_SHAPE))
        else:
            anti = sql.SQL(
                "FROM {t} c WHERE c.{col} IS NOT NULL AND NOT EXISTS"
                " (SELECT 1 FROM {p} p WHERE p.{pc} = c.{col})"
            )
            valid = sql.Composed([sql.SQL("true")])
        names = {"t": sql.Identifier(table), "p": sql.Identifier(parent),
                 "pc": sql.Identifier(parent_column), "col": col}  # fmt: skip
        from_ = anti.format(**names)
        count = text(
            sql.SQL(
                "SELECT count(*) FILTER (WHERE {v}), count(*) FILTER (WHERE NOT {v}) {f}"
            ).format(v=valid, f=from_)
        )
        sample = sql.SQL("SELECT c.{}::text {} AND {} LIMIT {}")
        good = text(sample.format(col, from_, valid, sql.Literal(LIMIT)))
        bad = text(sample.format(col, from_, sql.SQL("NOT ({})").format(valid), sql.Literal(LIMIT)))

        def orphans(c: psycopg.Connection[Any]) -> list[Any]:
            found = c.execute(count.encode()).fetchone()
            assert found is not None
            ok, invalid = int(found[0]), int(found[1])
            samples = [r[0] for r in c.execute(good.encode())] if ok else []
            invalid_samples = [r[0] for r in c.execute(bad.encode())] if invalid else []
            return [[ok, invalid, samples, invalid_samples]]

        return Twin(
            f"{count};\n{good}; -- if the first count > 0\n{bad}; -- if the second > 0", orphans
        )
    if kind == "matching":
        parent_column = question.key[3]
        parent = _table_of(tables, parent_column, exclude=table)
        cast = "::text" if not is_text(dict(tables[table])[column]) else ""
        query = text(
            sql.SQL(
                "SELECT count(*) FROM {t} c"
                " WHERE EXISTS (SELECT 1 FROM {p} p WHERE p.{pc} = c.{col}{cast})"
            ).format(
                t=sql.Identifier(table),
                p=sql.Identifier(parent),
                pc=sql.Identifier(parent_column),
                col=col,
                cast=sql.SQL(cast),
            )
        )
        return Twin(query, rows(query))
    type_name = dict(tables[table])[column]
    if kind == "mock_samples":
        kind_ = kind_of(type_name)
        assert kind_ is not None
        flags = sql.SQL(", ").join(
            sql.SQL("{}::text ~* {}").format(col, sql.Literal(d.pattern))
            for d in detectors_for(kind_)
        )
        query = text(
            sql.SQL("SELECT {col}::text, {flags} FROM {t} WHERE {mock} LIMIT {n}").format(
                col=col,
                flags=flags,
                t=sql.Identifier(table),
                mock=_mock(column, type_name),
                n=sql.Literal(LIMIT),
            )
        )
        return Twin(query, rows(query))
    if kind == "samples":
        rules = DATA_RULES.get((table, column), {})
        if question.key[3] == "pattern-violation":
            where = sql.SQL("{} !~ {}").format(col, sql.Literal(rules["pattern"]))
        else:
            where = sql.SQL("{} NOT IN ({})").format(
                col, sql.SQL(", ").join(map(sql.Literal, rules["values"]))
            )
        query = text(
            sql.SQL("SELECT {}::text FROM {} WHERE {} LIMIT {}").format(
                col, sql.Identifier(table), where, sql.Literal(LIMIT)
            )
        )
        return Twin(query, rows(query))
    raise BenchError(f"no twin for {question.key}")


def _table_of(tables: Columns, column: str, exclude: str) -> str:
    holders = [t for t, cols in tables.items() if t != exclude and column in dict(cols)]
    if len(holders) != 1:
        raise BenchError(f"which table's {column}? {holders}")
    return holders[0]


# -- comparing answers ----------------------------------------------------------------------


def answer(question: Question, rows: list[Any]) -> tuple[Any, ...]:
    """What must be identical: counts exactly, and how many distinct samples (a LIMIT without
    ORDER BY may pick other rows) or which detectors the samples show."""
    kind = question.key[0]
    if kind in ("scan", "matching"):
        return tuple(int(value) for value in rows[0])
    if kind == "orphans":
        ok, invalid, samples, invalid_samples = rows[0]
        return (int(ok), int(invalid), len(distinct(samples or ())),
                len(distinct(invalid_samples or ())))  # fmt: skip
    if kind == "mock_samples":
        hit = sorted({i for row in rows for i, flag in enumerate(row[1:]) if flag})
        return (len(distinct(str(row[0]) for row in rows)), *hit)
    return (len(distinct(str(row[0]) for row in rows)),)


def shown_answer(question: Question, found: tuple[Any, ...]) -> str:
    kind = question.key[0]
    if kind == "orphans":
        return f"{found[0]:,} orphans, {found[1]:,} not uuids; {found[2]} samples"
    if kind == "matching":
        return f"{found[0]:,} match"
    if kind == "scan":
        return f"{len(found)} counts, sum {sum(found):,}"
    return f"{found[0]} samples"  # mock, pattern and values samples alike
