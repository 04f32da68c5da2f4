"""Random (old schema, new schema) pairs for `schemalock fix` convergence (issue 10, section 3).

`generate(seed)` builds one pair from `random.Random(seed)`: the same seed gives the same two
SQL scripts on every machine (the seed is all a failure report needs).  `pairs()` is the same
generator as a Hypothesis strategy (its choices shrink towards fewer tables, fewer drifts, plain
types), for minimising a failure.  Pure Python: no database, and nothing of schemalock imported.

A pair is one model of every object with a definition per side (old: the live database with
rows, new: the database the lock is taken from); an object absent on a side is a table, column
or constraint added or removed, one whose two definitions differ is a drift.  Every definition
is written for its own side's column types, so both scripts always run.  Rows are made for the
old side only, respecting its constraints; they convert to the new types (but for a few lossy
conversions chosen on purpose) and mostly respect the new constraints (a few pairs break a new
check, unique or foreign key on purpose: `fix` must then refuse or add the constraint NOT VALID,
saying why).

The kinds outside tables (issue 12: views, functions, triggers, sequences, row-level security,
policies, grants) come from tests/pairgen_objects.py, drawn after the tables and rows."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")
OLD, NEW = 0, 1
SIDES = (OLD, NEW)


class Rand:
    """The choices the generator makes, each one so that the value a shrinker prefers (0, the
    first option, False) is the simpler schema."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def chance(self, p: float) -> bool:
        return self.rng.random() > 1.0 - p

    def upto(self, n: int) -> int:
        return self.rng.randint(0, n)

    def pick(self, options: Sequence[T]) -> T:
        return options[self.rng.randint(0, len(options) - 1)]

    def uuid(self, row: int | None = None) -> str:
        """A random uuid; given a row, one no other row gets (its last 32 bits are the row's
        number: random bits a shrinker sets to 0 must not make two keys equal)."""
        bits = self.rng.getrandbits(128)
        if row is not None:
            bits = bits & ~0xFFFFFFFF | row
        return str(uuid.UUID(int=bits, version=4))


# --- value kinds: what the rows hold, and the types that can hold it -----------------------

# For each kind: the types it is stored as, and the conversions (old -> new) a drift may make.
# A conversion marked lossy does not keep every value: fix must refuse it.
PLAIN_TYPES: dict[str, list[str]] = {
    "int": ["integer", "bigint", "smallint"],
    "word": ["text", "character varying(40)"],
    "dec": ["numeric(10,2)", "numeric"],
    "bool": ["boolean"],
    "uuid": ["uuid"],
    "ts": ["timestamp with time zone"],
    "date": ["date"],
    "json": ["jsonb"],
    "textarr": ["text[]"],
    "intarr": ["integer[]"],
    "enum": ["ENUM"],
    "posint": ["POSINT"],
    "email": ["EMAIL"],
}
CONVERSIONS: dict[str, list[tuple[str, str]]] = {
    "int": [
        ("integer", "bigint"),
        ("smallint", "integer"),
        ("integer", "text"),
        ("text", "integer"),
        ("integer", "numeric(12,2)"),
        ("bigint", "integer"),
        ("character varying(20)", "integer"),
        ("integer", "character varying(20)"),
        ("integer", "smallint"),
    ],
    "word": [
        ("text", "character varying(40)"),
        ("character varying(40)", "text"),
        ("character varying(20)", "character varying(40)"),
        ("character varying(40)", "character varying(20)"),
    ],
    "dec": [
        ("numeric(10,2)", "numeric(12,2)"),
        ("numeric(10,2)", "numeric"),
        ("numeric(12,2)", "numeric(10,2)"),
        ("numeric(10,2)", "text"),
    ],
    "bool": [("boolean", "text"), ("text", "boolean")],
    "uuid": [("uuid", "text"), ("text", "uuid")],
    "date": [("date", "text"), ("text", "date")],
    "json": [("jsonb", "text"), ("text", "jsonb")],
    "textarr": [("text[]", "character varying(20)[]"), ("character varying(20)[]", "text[]")],
    "intarr": [("integer[]", "bigint[]")],
    "enum": [("text", "ENUM"), ("ENUM", "text")],
    "posint": [("integer", "POSINT"), ("POSINT", "integer")],
    "email": [("text", "EMAIL"), ("EMAIL", "text")],
}
LOSSY: dict[str, list[tuple[str, str]]] = {
    "word": [("text", "character varying(8)")],
    "dec": [("numeric(10,2)", "numeric(10,1)")],
    "int": [("text", "integer")],  # with a value that is not a number
    "enum": [("text", "ENUM")],  # with a value that is not a label
}
NUMERIC_KINDS = {"int", "dec", "posint"}
WORDS = ["alpha", "beta", "gamma", "delta", "O'Neil", "café", "x y", "zeta", "eta", "theta"]


def value(kind: str, r: Rand, row: int, distinct: bool, labels: Sequence[str]) -> str:
    """One value of `kind` as an SQL literal (quoted: PostgreSQL reads it as the column's type).
    `distinct`: different for every row (a key)."""
    if kind in ("int", "posint"):
        n = row * 3 + 1 if distinct else 1 + r.upto(998)
        return f"'{n}'"
    if kind == "word":
        text = f"w{row}" if distinct else f"{r.pick(WORDS)}{r.upto(99)}"
        return "'" + text.replace("'", "''") + "'"
    if kind == "dec":
        n = row * 100 + 17 if distinct else r.upto(99999)
        return f"'{n // 100}.{n % 100:02d}'"
    if kind == "bool":
        return "'true'" if r.chance(0.5) else "'false'"
    if kind == "uuid":
        return f"'{r.uuid(row if distinct else None)}'"
    if kind == "ts":
        day = row if distinct else r.upto(700)
        return f"'2024-01-01 08:00:00+00'::timestamptz + interval '{day} days {r.upto(1439)} min'"
    if kind == "date":
        day = row if distinct else r.upto(700)
        year, rest = (2024, day) if day < 366 else (2025, day - 366)
        return f"'{year}-01-01'::date + {rest}"
    if kind == "json":
        return f"'{{\"k\": {row if distinct else r.upto(9)}}}'"
    if kind == "textarr":
        return "'{" + ",".join(f"t{r.upto(9)}" for _ in range(r.upto(3))) + "}'"
    if kind == "intarr":
        return "'{" + ",".join(str(r.upto(99)) for _ in range(r.upto(3))) + "}'"
    if kind == "enum":
        return f"'{labels[row % len(labels)] if distinct else r.pick(labels)}'"
    if kind == "email":
        return f"'u{row if distinct else r.upto(999)}@example.org'"
    raise AssertionError(kind)


def default_for(kind: str, sql_type: str, r: Rand, labels: Sequence[str]) -> str:
    """A default valid for `sql_type` (a column of `kind`)."""
    if kind in ("int", "posint"):
        return r.pick(["'7'", "'1'", "'42'"])
    if kind == "word":
        return r.pick(["'none'", "'n/a'", "''"]) if "8" not in sql_type else "'none'"
    if kind == "dec":
        return r.pick(["'0'", "'1.50'"])
    if kind == "bool":
        return r.pick(["'false'", "'true'"])
    if kind == "uuid":
        return "gen_random_uuid()" if sql_type == "uuid" and r.chance(0.5) else f"'{r.uuid()}'"
    if kind == "ts":
        return r.pick(["now()", "'2024-01-01 00:00:00+00'"])
    if kind == "date":
        return r.pick(["CURRENT_DATE", "'2024-06-01'"]) if sql_type == "date" else "'2024-06-01'"
    if kind == "json":
        return "'{}'"
    if kind in ("textarr", "intarr"):
        return "'{}'"
    if kind == "enum":
        return f"'{r.pick(labels)}'"
    if kind == "email":
        return "'nobody@example.org'"
    raise AssertionError(kind)


# --- the model ------------------------------------------------------------------------------


def ident(name: str) -> str:
    return name if name.isidentifier() and name.islower() and name.isascii() else _quote(name)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{ident(schema)}.{ident(name)}"


@dataclass
class ColumnDef:
    type: str
    nullable: bool = True
    default: str | None = None
    identity: str | None = None  # 'ALWAYS' or 'BY DEFAULT'
    generated: str | None = None  # a stored generated column's expression
    serial: bool = False

    def sql(self, name: str) -> str:
        if self.serial:
            kind = {"bigint": "bigserial", "smallint": "smallserial"}.get(self.type, "serial")
            return f"{ident(name)} {kind}" + ("" if self.nullable else " NOT NULL")
        parts = [ident(name), self.type]
        if self.generated is not None:
            parts.append(f"GENERATED ALWAYS AS ({self.generated}) STORED")
        if self.identity is not None:
            parts.append(f"GENERATED {self.identity} AS IDENTITY")
        if self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        if not self.nullable:
            parts.append("NOT NULL")
        return " ".join(parts)

    @property
    def filled(self) -> bool:
        """The database fills it: rows give it no value."""
        return self.serial or self.identity is not None or self.generated is not None


@dataclass
class Column:
    name: str
    kind: str
    defs: list[ColumnDef | None]  # per side; None: absent there
    distinct: bool = False  # every row holds another value (a key)
    lossy: bool = False  # some old value does not survive the new type


@dataclass
class Constraint:
    """A primary key, unique, check, index or foreign key: its SQL per side (None: absent)."""

    name: str
    kind: str  # 'pk', 'unique', 'check', 'index', 'fk'
    sql: list[str | None]
    columns: tuple[str, ...] = ()


@dataclass
class Partitioning:
    method: str  # 'RANGE' or 'LIST'
    column: str
    bounds: list[tuple[str, str, list[bool]]]  # (partition name, FOR VALUES ..., present per side)
    # A partition's own indexes and checks: (partition name, SQL per side; None: absent).
    own: list[tuple[str, list[str | None]]] = field(default_factory=list)


@dataclass
class Table:
    schema: str
    name: str
    present: list[bool]
    columns: list[Column] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    partitioning: Partitioning | None = None
    rows: int = 0

    @property
    def qname(self) -> str:
        return qualified(self.schema, self.name)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass
class Enum:
    schema: str
    name: str
    labels: list[list[str] | None]  # per side


@dataclass
class Domain:
    schema: str
    name: str
    base: str
    check: str
    present: list[bool]


@dataclass
class Pair:
    seed: int | str
    old_sql: str  # DDL and rows of the live database
    new_sql: str  # DDL of the database the lock is taken from
    kept: dict[str, list[str]]  # table (as SQL) in both -> columns in both (as SQL)
    numeric: set[tuple[str, str]]  # (table, column) kept whose values compare as numbers
    lossy: bool  # a conversion or constraint the old rows break was chosen on purpose
    drifts: list[str]  # what differs, in words (for the report)

    def describe(self) -> str:
        return (
            f"seed {self.seed}; drifts: {', '.join(self.drifts) or 'none'}\n"
            f"-- OLD (live database, with rows)\n{self.old_sql}\n"
            f"-- NEW (snapshot -> lock)\n{self.new_sql}\n"
        )


# --- generation ----------------------------------------------------------------------------


class Generator:
    def __init__(self, r: Rand) -> None:
        self.r = r
        self.schemas: dict[str, list[bool]] = {"public": [True, True]}
        self.enums: list[Enum] = []
        self.domains: list[Domain] = []
        self.tables: list[Table] = []
        self.drifts: list[str] = []
        self.lossy = False
        self.names = 0

    def fresh(self, prefix: str) -> str:
        self.names += 1
        return f"{prefix}{self.names}"

    # schemas, enums, domains

    def setup_types(self) -> None:
        r = self.r
        if r.chance(0.6):
            self.schemas["app"] = [True, True]
        if r.chance(0.35):
            self.schemas["audit"] = [False, True]  # a schema the old database lacks
            self.drifts.append("schema added")
        for _ in range(1 + r.upto(1)):
            schema = self.any_schema(new_only=r.chance(0.2))
            labels = [f"l{i}" for i in range(2 + r.upto(2))]
            if not self.schemas[schema][OLD]:
                self.enums.append(Enum(schema, self.fresh("mood"), [None, labels]))
                self.drifts.append("enum added")
                continue
            new = list(labels)
            if r.chance(0.35):
                new.append(f"l{len(labels)}")
                self.drifts.append("enum label added")
            if r.chance(0.1):
                new.insert(1, "l_mid")
                self.drifts.append("enum label inserted")
            self.enums.append(Enum(schema, self.fresh("mood"), [labels, new]))
        for base, check, prefix in (
            ("integer", "VALUE > 0", "posint"),
            ("text", "VALUE LIKE '%@%'", "email"),
        ):
            schema = self.any_schema(new_only=r.chance(0.2))
            present = [self.schemas[schema][OLD] and not r.chance(0.15), True]
            if not present[OLD]:
                self.drifts.append("domain added")
            self.domains.append(Domain(schema, f"{prefix}{self.fresh('_')}", base, check, present))

    def any_schema(self, new_only: bool = False) -> str:
        if new_only and "audit" in self.schemas:
            return "audit"
        return self.r.pick([s for s, p in self.schemas.items() if p[OLD]])

    def type_sql(self, sql_type: str, kind: str, side: int) -> str | None:
        """The SQL of `sql_type` on `side` (enum and domain placeholders resolved), None if the
        type does not exist there.  An enum is the first one the side has: where the first enum
        exists on the new side only, an enum column is converted to another enum (no cast:
        fix must refuse)."""
        if sql_type == "ENUM":
            usable = [e for e in self.enums if e.labels[side] is not None]
            if not usable:
                return None
            enum = usable[0]
            return qualified(enum.schema, enum.name)
        if sql_type in ("POSINT", "EMAIL"):
            domain = self.domains[0 if sql_type == "POSINT" else 1]
            return qualified(domain.schema, domain.name) if domain.present[side] else None
        return sql_type

    def labels(self) -> list[str]:
        """Labels rows of an enum column may hold: every enum has them, on both sides."""
        return ["l0", "l1"]

    # tables

    def table(self, index: int) -> Table:
        r = self.r
        roll = r.upto(19)
        present = [True, True] if roll < 14 else ([False, True] if roll < 17 else [True, False])
        schema = self.any_schema(new_only=present == [False, True] and r.chance(0.5))
        if not self.schemas[schema][OLD]:
            present = [False, True]
        name = self.fresh("t") if not r.chance(0.08) else f"Order Items {index}"
        table = Table(schema, name, present, rows=r.pick([0, 3, 8, 20]) if present[OLD] else 0)
        if present == [False, True]:
            self.drifts.append("table added")
        elif present == [True, False]:
            self.drifts.append("table removed")
        if present == [False, True] and r.chance(0.08):
            self.drifts.append("table without columns added")
            return table
        partitioned = r.chance(0.15)
        self.key(table, partitioned)
        for _ in range(1 + r.upto(4)):
            self.plain_column(table)
        if r.chance(0.2):
            self.generated_column(table)
        self.checks(table)
        self.uniques(table)
        self.indexes(table)
        return table

    def both(self, table: Table) -> bool:
        return table.present == [True, True]

    def on_sides(self, table: Table, sql: str, drift: str, p: float = 0.25) -> list[str | None]:
        """`sql` on every side of the table, or (a drift, with chance p) on one only."""
        sides: list[str | None] = [sql if table.present[s] else None for s in SIDES]
        if self.both(table) and self.r.chance(p):
            gone = self.r.pick(SIDES)
            sides[gone] = None
            self.drifts.append(f"{drift} {'added' if gone == OLD else 'removed'}")
        return sides

    def key(self, table: Table, partitioned: bool) -> None:
        r = self.r
        style = r.pick(["int", "identity", "serial", "uuid", "composite", "none"])
        pk: tuple[str, ...] = ("id",)
        if style == "composite":
            table.columns.append(self.fixed(table, "a", "int", "integer", nullable=False))
            table.columns.append(self.fixed(table, "b", "word", "text", nullable=False))
            pk = ("a", "b")
        elif style == "none":  # a key on one side only, or none at all
            table.columns.append(self.fixed(table, "id", "int", "bigint", nullable=False))
            pk = ("id",) if r.chance(0.5) else ()
        else:
            sql_type = {"uuid": "uuid", "identity": r.pick(["integer", "bigint"])}
            col = self.fixed(
                table, "id", "uuid" if style == "uuid" else "int",
                sql_type.get(style, "integer"), nullable=False,
            )  # fmt: skip
            for d in col.defs:
                if d is not None:
                    d.identity = r.pick(["BY DEFAULT", "ALWAYS"]) if style == "identity" else None
                    d.serial = style == "serial"
                    d.default = "gen_random_uuid()" if style == "uuid" else None
            if style == "identity":
                self.identity_drift(table, col)
            table.columns.append(col)
        if partitioned:
            part = self.partition(table)
            pk = (*pk, part.column) if pk else pk
        if not pk:
            return
        name = f"{table.name}_pkey"
        sql = f"CONSTRAINT {ident(name)} PRIMARY KEY ({', '.join(ident(c) for c in pk)})"
        sides = self.on_sides(table, sql, "primary key", p=0.5 if style == "none" else 0.06)
        for side in SIDES:
            if sides[side] is not None:  # a key's columns are NOT NULL on its side
                for c in pk:
                    d = table.column(c).defs[side]
                    if d is not None:
                        d.nullable = False
        table.constraints.append(Constraint(name, "pk", sides, pk))

    def fixed(
        self, table: Table, name: str, kind: str, sql_type: str, nullable: bool = True
    ) -> Column:
        """A column of the same definition on every side of the table."""
        defs: list[ColumnDef | None] = [
            ColumnDef(sql_type, nullable) if table.present[s] else None for s in SIDES
        ]
        return Column(name, kind, defs, distinct=True)

    def identity_drift(self, table: Table, col: Column) -> None:
        old, new = col.defs
        if old is not None and new is not None:
            new.identity = old.identity
        if old is None or new is None or not self.r.chance(0.15):
            return
        side = self.r.pick(SIDES)  # the side without the identity
        d = col.defs[side]
        assert d is not None
        d.identity = None
        self.drifts.append("identity " + ("added" if side == OLD else "removed"))

    def partition(self, table: Table) -> Partitioning:
        r = self.r
        if r.chance(0.5):
            col = self.fixed(table, "day", "date", "date", nullable=False)
            col.distinct = False
            bounds = [
                (f"{table.name}_{y}", f"FROM ('{y}-01-01') TO ('{y + 1}-01-01')", [True, True])
                for y in (2024, 2025)
            ]
            extra = (f"{table.name}_2026", "FROM ('2026-01-01') TO ('2027-01-01')")
            part = Partitioning("RANGE", "day", [(n, f, p) for n, f, p in bounds])
        else:
            col = self.fixed(table, "region", "enum", "text", nullable=False)
            col.distinct = False
            bounds = [
                (f"{table.name}_{label}", f"IN ('{label}')", [True, True])
                for label in self.labels()
            ]
            extra = (f"{table.name}_rest", "DEFAULT")
            part = Partitioning("LIST", "region", bounds)
        if self.both(table) and r.chance(0.3):
            part.bounds.append((extra[0], extra[1], [False, True]))
            self.drifts.append("partition added")
        for _, _, present in part.bounds:
            present[:] = [present[s] and table.present[s] for s in SIDES]
        table.columns.append(col)
        table.partitioning = part
        for name, _, present in part.bounds:
            if present == [True, True]:
                self.partition_own(part, name)
        return part

    def partition_own(self, part: Partitioning, partition: str) -> None:
        """An index and a check a partition has of its own, on one side or both, or a check
        of another meaning on each side: rows of both sides satisfy every check."""
        r, column = self.r, ident(part.column)
        add = "ALTER TABLE {partition} ADD CONSTRAINT {name} CHECK"
        kinds = (
            ("index", f"CREATE INDEX {{name}} ON {{partition}} ({column})", None),
            ("check", f"{add} ({column} IS NOT NULL)", f"{add} (length({column}::text) > 0)"),
        )
        for kind, sql, other in kinds:
            if not r.chance(0.25):
                continue
            name = self.fresh(f"own_{kind}")
            one = sql.replace("{name}", ident(name))
            sides: list[str | None] = r.pick([[one, one], [None, one], [one, None]])
            if other is not None and r.chance(0.3):
                sides = [one, other.replace("{name}", ident(name))]
                self.drifts.append("partition check changed")
            elif sides[OLD] is None:
                self.drifts.append(f"partition {kind} added")
            elif sides[NEW] is None:
                self.drifts.append(f"partition {kind} removed")
            part.own.append((partition, sides))

    def plain_column(self, table: Table) -> None:
        r = self.r
        kind = r.pick(list(PLAIN_TYPES))
        name = self.fresh("c") if not r.chance(0.05) else self.fresh("Mixed Case ")
        old_type = new_type = r.pick(PLAIN_TYPES[kind])
        lossy = False
        if self.both(table) and kind in CONVERSIONS and r.chance(0.25):
            if r.chance(0.08) and kind in LOSSY:
                old_type, new_type = r.pick(LOSSY[kind])
                lossy = True
            else:
                old_type, new_type = r.pick(CONVERSIONS[kind])
        types = [self.type_sql(old_type, kind, OLD), self.type_sql(new_type, kind, NEW)]
        if types[OLD] is None:  # the type exists on the new side only: a new column
            types[OLD] = None
        present = list(table.present)
        if self.both(table) and r.chance(0.25):
            present[r.pick(SIDES)] = False
        present = [present[s] and types[s] is not None for s in SIDES]
        if not any(present):
            return
        defs: list[ColumnDef | None] = [None, None]
        for side in SIDES:
            t = types[side]
            if present[side] and t is not None:
                defs[side] = ColumnDef(t, nullable=not r.chance(0.25))
        if present == [True, True]:
            if old_type != new_type:
                self.drifts.append(f"type {old_type} -> {new_type}" + (" (lossy)" * lossy))
            self.lossy |= lossy
            self.nullability_drift(defs)
        elif present[NEW] and table.present[OLD]:
            self.drifts.append("column added")
        elif present[OLD] and table.present[NEW]:
            self.drifts.append("column removed")
        for side in SIDES:
            d = defs[side]
            # A NOT NULL column added to a table with rows needs a default, or fix refuses
            # the whole plan: mostly give it one.
            filling = (
                side == NEW and present == [False, True] and table.rows and not d.nullable
                if d
                else False
            )
            if d is not None and (r.chance(0.3) or (filling and r.chance(0.85))):
                d.default = default_for(kind, d.type, r, self.labels())
        if present == [True, True]:
            old, new = defs
            assert old is not None
            assert new is not None
            if (old.default is None) != (new.default is None) or (
                old.default != new.default and old_type == new_type
            ):
                self.drifts.append("default changed")
        col = Column(name, kind, defs, lossy=lossy)
        if kind in ("int", "word", "uuid", "email") and r.chance(0.3):
            col.distinct = True
        table.columns.append(col)

    def nullability_drift(self, defs: list[ColumnDef | None]) -> None:
        old, new = defs
        assert old is not None
        assert new is not None
        if old.nullable != new.nullable:
            self.drifts.append("NOT NULL " + ("added" if old.nullable else "dropped"))

    def generated_column(self, table: Table) -> None:
        """A stored generated column over a numeric column whose type both sides share."""
        bases = [
            c
            for c in table.columns
            if c.kind == "int"
            and all((d is not None) == table.present[s] for s, d in enumerate(c.defs))
            and len({d.type for d in c.defs if d is not None}) == 1
            and not any(d.filled for d in c.defs if d is not None)
            and next(d for d in c.defs if d is not None).type in ("integer", "bigint")
        ]
        if not bases:
            return
        base = self.r.pick(bases)
        expr = f"{ident(base.name)} * 2"
        defs: list[ColumnDef | None] = [
            ColumnDef("bigint", generated=expr) if table.present[s] else None for s in SIDES
        ]
        if self.both(table) and self.r.chance(0.3):
            side = self.r.pick(SIDES)
            if self.r.chance(0.5):
                defs[side] = None
                self.drifts.append("generated column " + ("added" if side == NEW else "removed"))
            else:
                d = defs[side]
                assert d is not None
                d.generated = f"{ident(base.name)} * 3"
                self.drifts.append("generation expression changed")
        table.columns.append(Column(self.fresh("g"), "int", defs))

    # constraints

    def usable(self, table: Table, kinds: Sequence[str], same_type: bool = True) -> list[Column]:
        """Columns of the given kinds present wherever the table is, and not filled by the
        database (`same_type`: of one type on both sides)."""
        return [
            c
            for c in table.columns
            if c.kind in kinds
            and all((d is not None) == table.present[s] for s, d in enumerate(c.defs))
            and not any(d.filled for d in c.defs if d is not None)
            and (not same_type or len({d.type for d in c.defs if d is not None}) == 1)
        ]

    def checks(self, table: Table) -> None:
        r = self.r
        for _ in range(r.upto(2)):
            templates: dict[str, list[str]] = {
                "int": ["{c} >= 0", "{c} < 100000", "{c} BETWEEN 0 AND 5000"],
                "dec": ["{c} >= 0"],
                "word": ["length({c}) < 100", "{c} <> 'forbidden'"],
                "date": ["{c} >= '2000-01-01'"],
                "posint": ["{c} < 100000"],
            }
            cols = self.usable(table, list(templates))
            col_side: list[tuple[Column, list[bool]]] = [(c, list(table.present)) for c in cols]
            # Also a check on one side only, over a column of that side's type (a column added,
            # converted): the case of a check that uses a column before it exists.
            for c in table.columns:
                for side in SIDES:
                    d = c.defs[side]
                    if c.kind in templates and d is not None and not d.filled:
                        only = [s == side for s in SIDES]
                        col_side.append((c, only))
            converted = [
                c
                for c in table.columns
                if all(c.defs) and len({d.type for d in c.defs if d is not None}) == 2
            ]
            if converted and r.chance(0.25):
                # A check over a converted column, in words both types take.
                col = r.pick(converted)
                name = self.fresh(f"{table.name}_chk")
                expr = f"length(({ident(col.name)})::text) < 100"
                sql = f"CONSTRAINT {ident(name)} CHECK ({expr})"
                table.constraints.append(Constraint(name, "check", [sql, sql], (col.name,)))
                self.drifts.append("check over a converted column")
                continue
            if not col_side:
                return
            col, present = r.pick(col_side)
            d = next(d for s, d in enumerate(col.defs) if d is not None and present[s])
            numeric_type = any(t in d.type for t in ("int", "numeric", "posint", "date"))
            if col.kind in NUMERIC_KINDS and not numeric_type:
                expr = r.pick(["{c} <> ''", "length({c}) < 100"]).format(c=ident(col.name))
            else:
                expr = r.pick(templates[col.kind]).format(c=ident(col.name))
            if present == [False, True] and col.kind == "int" and numeric_type and r.chance(0.1):
                expr = f"{ident(col.name)} < 500"  # old rows up to 999: the rows break it
                self.lossy = True
            name = self.fresh(f"{table.name}_chk")
            sql = f"CONSTRAINT {ident(name)} CHECK ({expr})"
            sides: list[str | None] = [
                sql if present[s] and table.present[s] else None for s in SIDES
            ]
            if sides == [sql, sql]:
                sides = self.on_sides(table, sql, "check")
                if sides == [sql, sql] and r.chance(0.1):
                    sides[r.pick(SIDES)] = f"CONSTRAINT {ident(name)} CHECK ({expr} OR false)"
                    self.drifts.append("check changed")
            elif table.present == [True, True]:
                self.drifts.append("check " + ("added" if present[NEW] else "removed"))
            table.constraints.append(Constraint(name, "check", sides, (col.name,)))

    def uniques(self, table: Table) -> None:
        r = self.r
        if table.partitioning is not None:
            return  # a unique of a partitioned table must hold the partition key: keys only
        for _ in range(r.upto(2)):
            cols = [c for c in self.usable(table, ["int", "word", "uuid", "email"]) if c.distinct]
            if not cols:
                return
            col = r.pick(cols)
            name = self.fresh(f"{table.name}_key")
            if r.chance(0.3):
                pred = f"{ident(col.name)} IS NOT NULL" if r.chance(0.5) else "true"
                sql = (
                    f"CREATE UNIQUE INDEX {ident(name)} ON {{table}} ({ident(col.name)})"
                    f" WHERE {pred}"
                )
                kind = "index"
            else:
                sql = f"CONSTRAINT {ident(name)} UNIQUE ({ident(col.name)})"
                kind = "unique"
            sides = self.on_sides(table, sql, "unique")
            # Duplicates in the old rows (fix must refuse), where no old key forbids them.
            held = any(
                k.kind in ("pk", "unique", "index") and col.name in k.columns and k.sql[OLD]
                for k in table.constraints
            )
            if sides[OLD] is None and sides[NEW] is not None and r.chance(0.1) and not held:
                col.distinct = False
                self.lossy = True
            table.constraints.append(Constraint(name, kind, sides, (col.name,)))

    def indexes(self, table: Table) -> None:
        r = self.r
        for _ in range(r.upto(3)):
            method = r.pick(["btree", "hash", "gin", "brin", "expression", "partial", "include"])
            kinds = {
                "btree": ["int", "word", "dec", "date", "uuid", "ts", "bool"],
                "hash": ["int", "word", "uuid"],
                "gin": ["json", "textarr", "intarr"],
                "brin": ["int", "date", "ts"],
                "expression": ["word"],
                "partial": ["int", "word", "dec", "date"],
                "include": ["int", "word", "date"],
            }[method]
            # A btree over a converted column is fine on both sides; the other methods need
            # one type (an operator class of the column's type).
            cols = self.usable(table, kinds, same_type=method != "btree")
            if method in ("gin", "expression"):
                cols = [c for c in cols if self.native(c)]
            if not cols:
                continue
            col = r.pick(cols)
            c = ident(col.name)
            name = self.fresh(f"{table.name}_idx")
            target = {
                "btree": f"({c})",
                "hash": f"USING hash ({c})",
                "gin": f"USING gin ({c})",
                "brin": f"USING brin ({c})",
                "expression": f"(lower({c}))",
                "partial": f"({c}) WHERE {c} IS NOT NULL",
                "include": f"({c}) INCLUDE ({ident(table.columns[0].name)})",
            }[method]
            if method == "include" and table.columns[0] is col:
                target = f"({c})"
            sql = f"CREATE INDEX {ident(name)} ON {{table}} {target}"
            sides = self.on_sides(table, sql, f"{method} index", p=0.35)
            if sides == [sql, sql] and method == "btree" and r.chance(0.1):
                sides[NEW] = f"CREATE INDEX {ident(name)} ON {{table}} USING hash ({c})"
                if col.kind not in ("int", "word", "uuid", "date", "dec", "ts", "bool"):
                    sides[NEW] = sql
                else:
                    self.drifts.append("index method changed")
            table.constraints.append(Constraint(name, "index", sides, (col.name,)))

    def native(self, col: Column) -> bool:
        """The column's type is its kind's own (jsonb, an array, text) on every side."""
        return all(
            d is None or d.type in ("jsonb", "text[]", "integer[]", "text", "character varying(40)")
            for d in col.defs
        )

    def foreign_keys(self) -> None:
        r = self.r
        for _ in range(r.upto(3)):
            parents = [
                (t, k)
                for t in self.tables
                if t.partitioning is None
                for k in t.constraints
                if k.kind in ("pk", "unique") and len(k.columns) == 1
            ]
            if not parents:
                return
            parent, key = r.pick(parents)
            children = [t for t in self.tables if self.tables.index(t) > self.tables.index(parent)]
            if not children:
                continue
            child = r.pick(children)
            if child.rows and parent.present[OLD] and not parent.rows:
                parent.rows = 8  # rows to point at
            target = parent.column(key.columns[0])
            # The key's type on each side, where the parent's key exists there.
            types = [
                d.type if (d := target.defs[s]) is not None and key.sql[s] is not None else None
                for s in SIDES
            ]
            present = [child.present[s] and types[s] is not None for s in SIDES]
            if not any(present):
                continue
            col_present = list(present)
            if present == [False, True] and child.present[OLD] and types[NEW] is not None:
                col_present[OLD] = r.chance(0.7)  # a reference column that lacked its key
            nullable = r.chance(0.8)
            defs: list[ColumnDef | None] = [None, None]
            for s in SIDES:
                d = target.defs[s]
                t = d.type if d is not None else types[NEW] or ""
                if col_present[s] and self.exists(t, s):
                    defs[s] = ColumnDef(t, nullable)
            col_present = [d is not None for d in defs]
            present = [present[s] and col_present[s] for s in SIDES]
            if not any(present):
                continue
            ref = Column(self.fresh("ref"), target.kind, defs)
            child.columns.append(ref)
            if col_present[NEW] and not col_present[OLD] and child.present[OLD]:
                self.drifts.append("reference column added")
            actions = [
                "",
                " ON DELETE CASCADE",
                " ON DELETE SET NULL" if nullable else " ON DELETE RESTRICT",
                " ON UPDATE CASCADE",
            ]
            action = r.pick(actions)
            name = self.fresh(f"{child.name}_fk")
            key_of = f"{parent.qname} ({ident(target.name)})"

            def fk_sql(action: str, name: str = name, ref: str = ref.name, to: str = key_of) -> str:
                return (
                    f"ALTER TABLE {{table}} ADD CONSTRAINT {ident(name)} FOREIGN KEY ({ident(ref)})"
                    f" REFERENCES {to}{action}"
                )

            sql = fk_sql(action)
            sides: list[str | None] = [
                sql if present[s] and col_present[s] else None for s in SIDES
            ]
            if sides == [sql, sql]:
                if r.chance(0.3):
                    sides[r.pick(SIDES)] = None
                    added = sides[OLD] is None
                    self.drifts.append("foreign key " + ("added" if added else "removed"))
                elif r.chance(0.2):
                    sides[NEW] = fk_sql(r.pick([a for a in actions if a != action]))
                    self.drifts.append("foreign key action changed")
                elif others := self.other_targets(parents, parent, child, target, key):
                    # The same name, another parent (SL110): the old rows are orphans there.
                    other, column = r.pick(others)
                    sides[NEW] = fk_sql(action, to=f"{other.qname} ({ident(column)})")
                    self.drifts.append("foreign key target changed")
                    self.lossy = True
            elif sides[NEW] is not None and child.present[OLD]:
                self.drifts.append("foreign key added")
            fk = Constraint(name, "fk", sides, (ref.name, parent.qname, target.name))
            child.constraints.append(fk)

    def other_targets(
        self,
        parents: list[tuple[Table, Constraint]],
        parent: Table,
        child: Table,
        target: Column,
        key: Constraint,
    ) -> list[tuple[Table, str]]:
        """Other keys, present on the new side, of the same type, a foreign key may point at
        instead (at times: it consumes no choice when there is none)."""
        found = []
        for table, other in parents:
            column = table.column(other.columns[0])
            d, mine = column.defs[NEW], target.defs[NEW]
            if (
                (table, other) != (parent, key)
                and other.sql[NEW] is not None
                and self.tables.index(table) < self.tables.index(child)
                and d is not None
                and mine is not None
                and d.type == mine.type
                and not d.serial | mine.serial
            ):
                found.append((table, column.name))
        return found if found and self.r.chance(0.3) else []

    def exists(self, sql_type: str, side: int) -> bool:
        """The type exists on `side` (an enum or domain may be on the new side only)."""
        for enum in self.enums:
            if qualified(enum.schema, enum.name) == sql_type:
                return enum.labels[side] is not None
        for domain in self.domains:
            if qualified(domain.schema, domain.name) == sql_type:
                return domain.present[side]
        return True

    def build(self) -> None:
        self.setup_types()
        for index in range(2 + self.r.upto(3)):
            self.tables.append(self.table(index))
        self.foreign_keys()


# --- rows ----------------------------------------------------------------------------------


def rows(g: Generator) -> str:
    """INSERTs for every table of the old side that has rows, parents first."""
    keys: dict[tuple[str, str], list[str]] = {}  # (table, column) -> the values rows hold
    out: list[str] = []
    for table in g.tables:
        if not table.present[OLD] or table.rows == 0:
            continue
        cols = [c for c in table.columns if (d := c.defs[OLD]) is not None and not d.filled]
        fks = {
            k.columns[0]: (k.columns[1], k.columns[2], k.sql[OLD] is None)
            for k in table.constraints
            if k.kind == "fk"
        }
        lines: list[str] = []
        for row in range(table.rows):
            values: list[str] = []
            for c in cols:
                d = c.defs[OLD]
                assert d is not None
                values.append(cell(g, table, c, d, row, fks, keys))
            lines.append("(" + ", ".join(values) + ")")
            for c, v in zip(cols, values, strict=True):
                keys.setdefault((table.qname, c.name), []).append(v)
        for c in table.columns:  # values the database fills: 1..n, in insert order
            d = c.defs[OLD]
            if d is not None and (d.serial or d.identity is not None):
                keys[(table.qname, c.name)] = [f"'{i + 1}'" for i in range(table.rows)]
        names = ", ".join(ident(c.name) for c in cols)
        if cols:
            out.append(
                f"INSERT INTO {table.qname} ({names}) VALUES\n    " + ",\n    ".join(lines) + ";"
            )
        else:
            out.append(f"INSERT INTO {table.qname} SELECT FROM generate_series(1, {table.rows});")
    return "\n".join(out)


def cell(
    g: Generator,
    table: Table,
    c: Column,
    d: ColumnDef,
    row: int,
    fks: dict[str, tuple[str, str, bool]],
    keys: dict[tuple[str, str], list[str]],
) -> str:
    r = g.r
    new = c.defs[NEW]
    must = not d.nullable or (new is not None and not new.nullable and not r.chance(0.03))
    if c.name in fks:
        parent_table, parent_column, free = fks[c.name]
        parent = keys.get((parent_table, parent_column), [])
        if free and (r.chance(0.04) or (must and not parent)):  # an orphan: the key is new
            g.lossy = True
            return {"uuid": f"'{r.uuid()}'", "email": "'orphan@example.org'"}.get(c.kind, "'9999'")
        if parent and (must or not r.chance(0.2)):
            return r.pick(parent)
        return "NULL"
    if not must and not c.distinct and r.chance(0.15):
        return "NULL"
    if c.lossy and row == 0:
        return {
            "word": "'a value longer than eight'",
            "dec": "'1.25'",
            "int": "'n/a'",
            "enum": "'not-a-label'",
        }[c.kind]
    if table.partitioning is not None and c.name == table.partitioning.column:
        present = [b for b in table.partitioning.bounds if b[2][OLD]]
        if c.kind == "date":
            year = r.pick([b[1][7:11] for b in present])
            return f"'{year}-01-01'::date + {r.upto(364)}"
        return "'" + r.pick([b[1][5:-2] for b in present]) + "'"
    return value(c.kind, r, row, c.distinct, g.labels())


# --- rendering -----------------------------------------------------------------------------


def render(g: Generator, side: int) -> str:
    out: list[str] = []
    for schema, present in g.schemas.items():
        if present[side] and schema != "public":
            out.append(f"CREATE SCHEMA {ident(schema)};")
    for enum in g.enums:
        labels = enum.labels[side]
        if labels is not None:
            listed = ", ".join(f"'{label}'" for label in labels)
            out.append(f"CREATE TYPE {qualified(enum.schema, enum.name)} AS ENUM ({listed});")
    for domain in g.domains:
        if domain.present[side]:
            out.append(
                f"CREATE DOMAIN {qualified(domain.schema, domain.name)} AS {domain.base}"
                f" CHECK ({domain.check});"
            )
    later: list[str] = []
    for table in g.tables:
        if not table.present[side]:
            continue
        lines = [d.sql(c.name) for c in table.columns if (d := c.defs[side]) is not None]
        for k in table.constraints:
            sql = k.sql[side]
            if sql is None:
                continue
            if k.kind in ("pk", "unique", "check"):
                lines.append(sql)
            else:
                later.append(sql.format(table=table.qname) + ";")
        body = ",\n    ".join(lines)
        part = table.partitioning
        tail = f" PARTITION BY {part.method} ({ident(part.column)})" if part else ""
        out.append(f"CREATE TABLE {table.qname} (\n    {body}\n){tail};")
        for name, bound, present in part.bounds if part else []:
            if present[side]:
                clause = bound if bound == "DEFAULT" else f"FOR VALUES {bound}"
                out.append(
                    f"CREATE TABLE {qualified(table.schema, name)} PARTITION OF {table.qname}"
                    f" {clause};"
                )
        for name, sides in part.own if part else []:
            if (own := sides[side]) is not None:
                later.append(own.replace("{partition}", qualified(table.schema, name)) + ";")
    if side == OLD:
        out.append(rows(g))
    # Indexes and foreign keys after the rows (of either order, both hold).
    out.extend(sorted(later, key=lambda s: "FOREIGN KEY" in s))
    return "\n".join(s for s in out if s)


def kept(g: Generator) -> tuple[dict[str, list[str]], set[tuple[str, str]]]:
    tables: dict[str, list[str]] = {}
    numeric: set[tuple[str, str]] = set()
    for table in g.tables:
        if table.present != [True, True]:
            continue
        cols = []
        for c in table.columns:
            old, new = c.defs
            if old is None or new is None or old.generated != new.generated:
                continue
            cols.append(ident(c.name))
            if c.kind in NUMERIC_KINDS:
                numeric.add((table.qname, ident(c.name)))
        tables[table.qname] = cols
    return tables, numeric


def build(rng: random.Random, seed: int | str) -> Pair:
    g = Generator(Rand(rng))
    g.build()
    new_sql = render(g, NEW)
    old_sql = render(g, OLD)  # after NEW: the rows take these draws
    # The kinds outside tables last: a seed's tables and rows are those it had without them.
    from pairgen_objects import objects

    old_objects, new_objects = objects(g)
    old_sql, new_sql = old_sql + "\n" + old_objects, new_sql + "\n" + new_objects
    tables, numeric = kept(g)
    return Pair(seed, old_sql, new_sql, tables, numeric, g.lossy, g.drifts)


def generate(seed: int) -> Pair:
    return build(random.Random(seed), seed)


def pairs() -> Any:
    """The generator as a Hypothesis strategy (shrinks towards smaller pairs)."""
    from hypothesis import strategies as st

    draw: Callable[[random.Random], Pair] = lambda rng: build(rng, "hypothesis")  # noqa: E731
    return st.randoms(use_true_random=False).map(draw)
