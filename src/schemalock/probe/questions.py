"""What rules may ask the database about its rows: the Protocol rules and the engine are typed
against.  The Probe (probe/__init__.py) answers it over a real connection; the rules' fixture
cases answer it from YAML (tests/rules/fake_probe.py), so every data rule has cases like the
others.  Each question names the rule asking (for inconclusive entries and progress) and
answers None when it could not be answered, the refusal already recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from schemalock.model import Column, ForeignKey, Table
from schemalock.probe.answers import CheckCount, ColumnStats, OrphanCount

if TYPE_CHECKING:
    from psycopg import sql

    from schemalock import db


class Questions(Protocol):
    """Every question a rule asks about rows, and the two facts about the run they read."""

    @property
    def estimates(self) -> bool:
        """Whether counts are estimates (`--sample`): messages say "about N"."""
        ...

    @property
    def server(self) -> db.ServerAddress:
        """Where the connection actually went, for policies."""
        ...

    def refuse(self, rule: str, table: Table | None, reason: str, label: str | None = None) -> None:
        """Record a check that cannot give an answer: the run is inconclusive, never a pass."""
        ...

    # -- columns (probe/columns.py) --------------------------------------------------------
    def profile(self, rule: str, live: Table, lock: Table) -> dict[str, ColumnStats] | None:
        """Per-column statistics of one table, by column name."""
        ...

    def mock_samples(
        self, rule: str, table: Table, column: Column
    ) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        """(the detectors matched, a few mock-looking values) of a column."""
        ...

    def samples(
        self, rule: str, table: Table, condition: sql.Composable, params: list[Any], column: Column
    ) -> tuple[str, ...]:
        """A few distinct values of `column` in rows where `condition` holds."""
        ...

    # -- relations (probe/relations.py) ----------------------------------------------------
    def orphans(self, rule: str, child: Table, fk: ForeignKey, parent: Table) -> OrphanCount | None:
        """Child rows whose whole key is non-NULL and has no parent row."""
        ...

    def matching(
        self, rule: str, child: Table, column: Column, parent: Table, parent_column: Column
    ) -> int | None:
        """How many non-NULL values of `column` equal some value of `parent_column`."""
        ...

    def uuid_holders(
        self,
        rule: str,
        table: Table,
        column: Column,
        keys: list[tuple[Table, Column]],
        every: bool = True,
    ) -> list[tuple[Table, Column]] | None:
        """The uuid `keys` holding every (`every` false: any) sample UUID of a text column."""
        ...

    def overlap(
        self, rule: str, legacy: Table, canonical: Table, key: tuple[str, ...], whole_row: bool
    ) -> tuple[int, int] | None:
        """(rows of `legacy`, rows of `legacy` with no row of `canonical` equal on `key`)."""
        ...

    # -- checks, flows, queries (probe/checks.py) ------------------------------------------
    def check_violations(self, rule: str, table: Table, name: str) -> CheckCount | None:
        """Rows of `table` its check constraint `name` is false for."""
        ...

    def violations(
        self, rule: str, table: Table | None, label: str, query: sql.Composable
    ) -> tuple[int, tuple[str, ...]] | None:
        """How many rows an invariant's `query` returns, and the first few."""
        ...

    def prepare(self, rule: str, label: str, text: str, types: tuple[str, ...]) -> str | None:
        """None when the server prepares `text` with parameters of `types`, else its error."""
        ...
