"""The narrow interface data rules ask questions through: bounded, read-only SQL.

Questions run in short READ ONLY transactions under the run's timeouts (a batch of checks shares
one, a few round trips fewer each), so one check that times out, lacks privileges or loses its
connection becomes an `inconclusive` entry, its batch ends, and the others still run.  Rows
never come into Python: PostgreSQL counts (anti-joins, pattern scans, casts decided by
PostgreSQL itself) and returns the numbers and a few samples.  Identifiers reach SQL through
`sql.Identifier`, user patterns and values as bound parameters.
"""

from schemalock.probe.answers import CheckCount, ColumnStats, OrphanCount
from schemalock.probe.checks import CheckQuestions
from schemalock.probe.columns import ColumnQuestions
from schemalock.probe.questions import Questions
from schemalock.probe.relations import RelationQuestions

__all__ = ["CheckCount", "ColumnStats", "OrphanCount", "Probe", "Questions"]


class Probe(RelationQuestions, ColumnQuestions, CheckQuestions):
    """What data rules ask: a Session (probe/session.py) with every kind of question."""


# The Probe answers every question rules may ask: mypy --strict proves it here.
_answers_every_question: type[Questions] = Probe
