"""Exclusion constraints: `EXCLUDE USING gist (room WITH =, during WITH &&) WHERE (...)`, kept as
the definition pg_get_constraintdef() prints (deferral aside, which is a field of its own) and
compared on PostgreSQL's parse tree, so the catalog's spelling is no difference."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

# The parts of a parsed EXCLUDE constraint that say what it excludes; its name, deferral and
# positions are no part of its meaning.
_MEANING = ("access_method", "exclusions", "where_clause", "including", "options", "indexspace")


@dataclass(frozen=True, slots=True)
class ExclusionConstraint:
    definition: str  # `EXCLUDE USING gist (room WITH =, during WITH &&) WHERE (active)`
    deferrable: bool = False
    initially_deferred: bool = False
    name: str | None = field(default=None, compare=False)
    line: int | None = field(default=None, compare=False)

    def means_the_same(self, other: ExclusionConstraint) -> bool:
        """The same exclusion, deferral aside."""
        return canonical(self.definition) == canonical(other.definition)


def parse(definition: str) -> Any:
    """The Constraint node of `definition` as exactly one EXCLUDE constraint; ValueError (or
    pglast's ParseError) for anything else, a second statement or a second clause."""
    from pglast import parse_sql

    statements: Any = parse_sql(f"ALTER TABLE t ADD CONSTRAINT c {definition}")
    if len(statements) != 1:
        raise ValueError("not a single EXCLUDE constraint")
    commands = statements[0].stmt.cmds
    if len(commands) != 1 or commands[0].def_ is None:
        raise ValueError("not a single EXCLUDE constraint")
    constraint = commands[0].def_
    if constraint(skip_none=True).get("contype", {}).get("name") != "CONSTR_EXCLUSION":
        raise ValueError("not an EXCLUDE constraint (it starts with `EXCLUDE`)")
    return constraint


def parse_error(definition: str) -> str | None:
    """Why `definition` is not one EXCLUDE constraint, or None."""
    try:
        parse(definition)
    except Exception as error:  # pglast's ParseError, or not one EXCLUDE constraint
        return str(error).splitlines()[0] if str(error) else type(error).__name__
    return None


def deferral(definition: str) -> tuple[bool, bool]:
    """(deferrable, initially deferred) as the definition's own text says them."""
    tree = parse(definition)(skip_none=True)
    return bool(tree.get("deferrable")), bool(tree.get("initdeferred"))


@cache
def canonical(definition: str) -> str:
    """A string equal for definitions of the same meaning; text that does not parse compares
    as whitespace-normalized text."""
    from schemalock.model.expressions import normalized

    try:
        tree = parse(definition)(skip_none=True)
    except Exception:  # pglast's ParseError: compared as text
        return " ".join(definition.split())
    meaning = {key: tree[key] for key in _MEANING if tree.get(key) not in (None, [], "")}
    meaning.setdefault("access_method", "btree")  # EXCLUDE without USING is a btree one
    return json.dumps(normalized(meaning), sort_keys=True)


def as_sql(exclusion: ExclusionConstraint) -> str:
    """The constraint as PostgreSQL's parser read it, printed back with its deferral: what a
    migration or a note may splice after `ADD CONSTRAINT name` (no comment, nothing else)."""
    from pglast.ast import Constraint
    from pglast.stream import RawStream

    tree = parse(exclusion.definition)(skip_none=True)
    tree.update(conname=None, deferrable=False, initdeferred=False)
    text = str(RawStream()(Constraint(tree)))
    if exclusion.deferrable:
        text += " DEFERRABLE" + (" INITIALLY DEFERRED" if exclusion.initially_deferred else "")
    return text
