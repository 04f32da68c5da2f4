"""The narrow interface data rules ask questions through: bounded, read-only SQL.

Questions run in short READ ONLY transactions under the run's timeouts (a batch of checks shares
one, a few round trips fewer each), so one check that times out, lacks privileges or loses its
connection becomes an `inconclusive` entry, its batch ends, and the others still run.  Rows
never come into Python: PostgreSQL counts (anti-joins, pattern scans, casts decided by
PostgreSQL itself) and returns the numbers and a few samples.  Identifiers reach SQL through
`sql.Identifier`, user patterns and values as bound parameters.
"""

from collections.abc import Callable, Iterable
from functools import partial

from schemalock.model import ForeignKey, Table
from schemalock.model.bookkeeping import is_bookkeeping
from schemalock.probe.answers import CheckCount, ColumnStats, OrphanCount
from schemalock.probe.checks import CheckQuestions
from schemalock.probe.columns import ColumnQuestions
from schemalock.probe.questions import Questions
from schemalock.probe.relations import RelationQuestions

__all__ = ["CheckCount", "ColumnStats", "OrphanCount", "Probe", "Questions"]


class Probe(RelationQuestions, ColumnQuestions, CheckQuestions):
    """What data rules ask: a Session (probe/session.py) with every kind of question."""

    def prefetch(
        self,
        profiles: Iterable[tuple[str, Table, Table]],
        orphans: Iterable[tuple[str, Table, ForeignKey, Table]],
        dry_runs: Iterable[Callable[[], object]] = (),
    ) -> None:
        """Ask together, before the rules run, what they will ask of every table and relation:
        the per-table scans (`profile`: rule, live table, lock table), the orphan counts
        (`orphans`: rule, child, foreign key, parent), and what `dry_runs` (rules run while
        composing ahead, their findings dropped) ask.  A few round trips whatever the number
        of tables; each rule then gets, from the same caches, the answer it would have had."""
        questions: list[Callable[[], object]] = [
            partial(self._profile, rule, live, lock)
            for rule, live, lock in profiles
            if not is_bookkeeping(live)
        ]
        questions += [partial(self._count_orphans, *relation) for relation in orphans]
        self.ask_ahead(questions, list(dry_runs))


# The Probe answers every question rules may ask: mypy --strict proves it here.
_answers_every_question: type[Questions] = Probe
