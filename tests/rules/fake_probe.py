"""A probe answering from a fixture case's `probe:` section, so data rules have cases like the
others.  It answers the Questions Protocol (src/schemalock/probe/questions.py) exactly as the
real Probe would have for the rows the case describes:

    probe:
      estimates: true                      # --sample: counts are estimates ("about N")
      server: {host: db.internal, hostaddr: 10.0.0.5}
      columns:                             # profile(): per table, per column (ColumnStats)
        jobs:                              # `schema.table` outside public
          org_id: {non_null: 10, uuid: 10, samples: [a1, b2]}  # samples(): pattern, values
          email: {non_null: 4, mock: 2, detectors: [email], samples: [t@example.com]}
        organizations: {}                  # scanned, nothing measured
      orphans:                             # orphans(): per child table and key columns
        quota_usage(job_id): {orphans: 3, samples: [a1], compared_as: as uuid}
      matching:                            # matching(): child column -> parent column -> count
        jobs.org_id: {organizations.clerk_org_id: 3}
      uuid_holders:                        # uuid_holders(): the keys holding sample UUIDs
        jobs.org_id: [organizations.id]
      overlap:                             # overlap(): per legacy table
        orgs: {rows: 45, only: 5}
      checks:                              # check_violations(): per table and constraint
        jobs.results_nonnegative: {violations: 3, samples: ["1"]}
      flows:                               # violations(): per flow and invariant
        quota: {quota_used_is_usage: {rows: 3, samples: ["a: 40 <> 35"]}}
      queries:                             # prepare(): the server's error, or null: prepared
        analyses_stats: "operator does not exist: text = uuid"

Any answer may be `{inconclusive: REASON}`: the question is refused, as the real probe records
it, and answers None.  A question the case does not answer fails with "not in this case",
naming it, and so does an answer the rule never asked for (`unasked`): a case can pass only by
the rule asking exactly what its rows answer.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from schemalock import db
from schemalock.model import Column, ForeignKey, Table
from schemalock.probe import CheckCount, ColumnStats, OrphanCount

STATS = frozenset(ColumnStats.__dataclass_fields__)


def spelled(table: Table) -> str:
    """A table as cases name it: bare in public, `schema.table` elsewhere."""
    return table.name if table.schema == "public" else f"{table.schema}.{table.name}"


class FakeProbe:
    """The Questions a case's `probe:` section answers; `refused` lists what it refused."""

    def __init__(self, answers: dict[str, Any] | None) -> None:
        self.answers = dict(answers or {})
        self.refused: list[str] = []
        self._asked: set[tuple[str, ...]] = set()
        self.estimates: bool = bool(self.answers.pop("estimates", False))
        self._server = self.answers.pop("server", None)

    # -- the case's answers ---------------------------------------------------------------
    def _given(self, question: str, *path: str) -> Any:
        """The case's answer at `question` -> path, or an AssertionError naming it."""
        found: Any = self.answers.get(question)
        for step in path:
            if not isinstance(found, dict) or step not in found:
                where = " -> ".join((question, *path))
                raise AssertionError(f"not in this case: probe: {where}")
            found = found[step]
        if found is None and not path:
            raise AssertionError(f"not in this case: probe: {question}")
        self._asked.add((question, *path))
        return found

    def unasked(self) -> list[str]:
        """The answers the case gives that no question read."""
        given = []
        for question, answers in self.answers.items():
            depth = 2 if question in ("columns", "flows", "matching") else 1
            given += [(question, *keys) for keys in _keys(answers, depth)]
        return [" -> ".join(keys) for keys in given if not self._was_asked(keys)]

    def _was_asked(self, keys: tuple[str, ...]) -> bool:
        # A table's profile reads all its columns: asking for the table asks for each.
        return keys in self._asked or (keys[:2] in self._asked and keys[0] == "columns")

    def _refused(
        self, answer: Any, rule: str, table: Table | None, label: str | None = None
    ) -> bool:
        """Whether the answer is a refusal: then it is recorded, as the real probe does."""
        if isinstance(answer, dict) and "inconclusive" in answer:
            self.refuse(rule, table, str(answer["inconclusive"]), label)
            return True
        return False

    # -- the Questions ---------------------------------------------------------------------
    @property
    def server(self) -> db.ServerAddress:
        if self._server is None:
            raise AssertionError("not in this case: probe: server")
        return db.ServerAddress(self._server["host"], self._server.get("hostaddr"))

    def refuse(self, rule: str, table: Table | None, reason: str, label: str | None = None) -> None:
        self.refused.append(f"{rule}: {label + ': ' if label else ''}{reason}")

    def profile(self, rule: str, live: Table, lock: Table) -> dict[str, ColumnStats] | None:
        answer = self._given("columns", spelled(live))
        if self._refused(answer, rule, live):
            return None
        return {
            name: ColumnStats(**{k: v for k, v in (stats or {}).items() if k in STATS})
            for name, stats in (answer or {}).items()
        }

    def _column(self, table: Table, column: Column, field: str) -> Any:
        stats = self._given("columns", spelled(table), column.name)
        if not isinstance(stats, dict) or field not in stats:
            where = f"columns -> {spelled(table)} -> {column.name} -> {field}"
            raise AssertionError(f"not in this case: probe: {where}")
        return stats[field]

    def mock_samples(
        self, rule: str, table: Table, column: Column
    ) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        detectors = self._column(table, column, "detectors")
        return tuple(detectors), tuple(self._column(table, column, "samples"))

    def samples(
        self, rule: str, table: Table, condition: sql.Composable, params: list[Any], column: Column
    ) -> tuple[str, ...]:
        return tuple(str(value) for value in self._column(table, column, "samples"))

    def orphans(self, rule: str, child: Table, fk: ForeignKey, parent: Table) -> OrphanCount | None:
        answer = self._given("orphans", f"{spelled(child)}({', '.join(fk.columns)})")
        if self._refused(answer, rule, child):
            return None
        return OrphanCount(
            orphans=answer.get("orphans", 0),
            invalid=answer.get("invalid", 0),
            samples=tuple(answer.get("samples", ())),
            compared_as=answer.get("compared_as", ""),
            invalid_samples=tuple(answer.get("invalid_samples", ())),
        )

    def matching(
        self, rule: str, child: Table, column: Column, parent: Table, parent_column: Column
    ) -> int | None:
        answer = self._given(
            "matching", f"{spelled(child)}.{column.name}", f"{spelled(parent)}.{parent_column.name}"
        )
        return None if self._refused(answer, rule, child) else int(answer)

    def uuid_holders(
        self,
        rule: str,
        table: Table,
        column: Column,
        keys: list[tuple[Table, Column]],
        every: bool = True,
    ) -> list[tuple[Table, Column]] | None:
        answer = self._given("uuid_holders", f"{spelled(table)}.{column.name}")
        if self._refused(answer, rule, table):
            return None
        return [(t, c) for t, c in keys if f"{spelled(t)}.{c.name}" in answer]

    def overlap(
        self, rule: str, legacy: Table, canonical: Table, key: tuple[str, ...], whole_row: bool
    ) -> tuple[int, int] | None:
        answer = self._given("overlap", spelled(legacy))
        if self._refused(answer, rule, legacy):
            return None
        return int(answer["rows"]), int(answer["only"])

    def check_violations(self, rule: str, table: Table, name: str) -> CheckCount | None:
        answer = self._given("checks", f"{spelled(table)}.{name}")
        if self._refused(answer, rule, table):
            return None
        return CheckCount(int(answer["violations"]), tuple(answer.get("samples", ())))

    def violations(
        self, rule: str, table: Table | None, label: str, query: sql.Composable
    ) -> tuple[int, tuple[str, ...]] | None:
        flow, _, invariant = label.removeprefix("flow ").partition(": ")
        answer = self._given("flows", flow, invariant)
        if self._refused(answer, rule, table, label):
            return None
        return int(answer["rows"]), tuple(answer.get("samples", ()))

    def prepare(self, rule: str, label: str, text: str, types: tuple[str, ...]) -> str | None:
        name = label.removeprefix("query ").partition(" (")[0]
        answer = self._given("queries", name)
        if self._refused(answer, rule, None, label):
            return None
        return None if answer is None else str(answer)


def _keys(answers: Any, depth: int) -> list[tuple[str, ...]]:
    """The paths `depth` levels into a section of answers."""
    if depth == 0 or not isinstance(answers, dict) or not answers:
        return [()]
    return [(str(key), *rest) for key, value in answers.items() for rest in _keys(value, depth - 1)]
