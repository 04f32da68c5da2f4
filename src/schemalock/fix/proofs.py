"""What the data allows, asked before a plan is written: read-only queries that count the rows a
step would trip over (values that do not convert or would lose information, NULLs, duplicates,
orphans, rows a check rejects, rows a cascade would take along) and name a few of them.  A step
the data forbids is refused, never attempted."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from schemalock import db
from schemalock.model import Table
from schemalock.model.names import qualified, quote
from schemalock.probe.sql import INTEGER_RANGES, UUID_INPUT, integer_input_valid, no_equality

if TYPE_CHECKING:
    import psycopg

SAMPLES = 5
_TEXTUAL = ("text", "character varying", "character", "bpchar", "citext", "name")
_NUMBERS = (*INTEGER_RANGES, "numeric", "real", "double precision")
_TYPMOD = re.compile(r"\([0-9, ]+\)")


@dataclass(frozen=True)
class Blocker:
    """Rows that stop a step: how many (None: PostgreSQL could not count them without failing),
    the keys of a few, and what is wrong with them."""

    count: int | None
    keys: tuple[str, ...]
    why: str = ""
    # The proof's condition cannot run on these types at all, whatever the rows (no such
    # operator or cast, a literal the type rejects): the step using it would fail the same way.
    unrunnable: bool = False

    def __bool__(self) -> bool:
        return self.count is None or self.count > 0


@dataclass
class Prover:
    connection: psycopg.Connection[Any]
    timeouts: db.Timeouts

    def rows(self, table: Table, condition: str, source: str | None = None) -> Blocker:
        """Rows of `table` (alias `c`) where `condition` holds; `source`: the relation to read
        instead of the table (its rows as the plan leaves them: `Planner.planned`)."""
        with db.read_only(self.connection, self.timeouts, "fix") as conn:
            return _blocker(conn, table, condition, source)

    def proof(self, table: Table, condition: str, source: str | None = None) -> Blocker:
        """`rows`, where PostgreSQL may be unable to run the condition: over the planned values
        a column only the plan fills or a type only the plan creates is not there yet, an
        expression may not run on the planned types at all (`unrunnable`: asked first, on no
        row), or fail on a value (a cast, a division by zero).  Then the count is None, with
        what PostgreSQL said."""
        from psycopg import errors

        relation = source or qualified(table.schema, table.name)
        with db.read_only(self.connection, self.timeouts, "fix") as conn:
            try:
                conn.execute(f"SELECT ({condition}) FROM {relation} AS c LIMIT 0")
            except _unprovable() as error:
                later = isinstance(error, errors.UndefinedColumn | errors.UndefinedObject)
                return replace(_unproven(error), unrunnable=not later)
            try:
                return _blocker(conn, table, condition, source)
            except _unprovable() as error:
                return _unproven(error)

    def has_rows(self, table: Table) -> bool:
        source = qualified(table.schema, table.name)
        with db.read_only(self.connection, self.timeouts, "fix") as conn:
            row = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {source})").fetchone()
        return bool(row and row[0])

    def conversion(
        self,
        table: Table,
        column: str,
        from_type: str,
        to_type: str,
        mapped: str | None = None,
        labels: tuple[str, ...] | None = None,
    ) -> list[Blocker]:
        """Rows that stop `ALTER COLUMN ... TYPE to_type USING column::to_type`: values that do
        not convert (PostgreSQL decides: upper-case and braced UUIDs convert), and values that
        convert with a loss (a varchar cut short, a numeric or a timestamp rounded, a float
        made an integer).  `mapped` is a condition true for values a data step maps first.
        `labels`: `to_type` is (an array of) the lock's enum with these labels, which the
        database may not have yet (or not all of them): values are proven against them."""
        import psycopg

        value = f"c.{quote(column)}"
        skip = f"{value} IS NULL" + (f" OR ({mapped})" if mapped else "")
        valid = self.valid(value, to_type, from_type)
        lossy_values = lossy(value, from_type, to_type)
        if labels is not None:  # text read as a label: it is one or it is not, no loss
            valid, lossy_values = _labelled(value, labels, to_type.endswith("[]")), "false"
        found: list[Blocker] = []
        with db.read_only(self.connection, self.timeouts, "fix") as conn:
            try:
                if valid is not None:
                    invalid = _blocker(conn, table, f"NOT ({skip}) AND NOT ({valid})")
                    why = "values that do not convert"
                    if labels is not None:
                        why = f"values that are not labels of {_base(to_type.rstrip('[]'))}"
                    found.append(replace(invalid, why=why))
                if valid is None:  # only converting can tell: convert every value here
                    lossy_values = f"(({value})::{to_type} IS NULL OR {lossy_values})"
                converted = f"CASE WHEN {valid or 'true'} THEN {lossy_values} ELSE false END"
                lost = _blocker(conn, table, f"NOT ({skip}) AND {converted}")
                found.append(
                    replace(lost, why="values the conversion would change (cut short or rounded)")
                )
            except psycopg.DataError as error:  # a cast failed where no predicate could tell
                reason = str(error).splitlines()[0]
                why = f"values that do not convert (PostgreSQL, at the first: {reason})"
                return [Blocker(None, (), why)]
        return [blocker for blocker in found if blocker]

    def castable(self, from_type: str, to_type: str) -> bool:
        """Whether PostgreSQL has a cast from `from_type` to `to_type` (what the conversion's
        `USING column::to_type` needs): asked by casting a NULL, which reads no row."""
        import psycopg

        with db.read_only(self.connection, self.timeouts, "fix") as conn:
            try:
                conn.execute(f"SELECT CAST(NULL::{from_type} AS {to_type})")
            except psycopg.errors.CannotCoerce:
                return False
        return True

    def string_type(self, type_name: str) -> bool:
        """Whether `type_name` is of PostgreSQL's string category (text, varchar, citext, a
        domain over one): an explicit cast from it to any type, an enum the plan has yet to
        create among them, reads the value with that type's input function."""
        with db.read_only(self.connection, self.timeouts, "fix") as conn:
            row = conn.execute(
                "SELECT t.typcategory = 'S' FROM pg_catalog.pg_type AS t"
                " WHERE t.oid = pg_catalog.to_regtype(%s)",
                [type_name],
            ).fetchone()
        return bool(row and row[0])

    def valid(self, value: str, to_type: str, from_type: str = "text") -> str | None:
        """SQL true where `value` converts to `to_type` without an error, or None where only
        converting can tell (a cast from a non-text type, other types before PostgreSQL 16)."""
        base = _base(to_type)
        from psycopg import sql

        if not _textual(from_type):
            if from_type in _NUMBERS and base in INTEGER_RANGES:
                low, high = INTEGER_RANGES[base]
                return f"round({value}::numeric) BETWEEN {low} AND {high}"
            return None
        if self.connection.info.server_version >= 160000:
            return f"pg_catalog.pg_input_is_valid({value}::text, {_literal(to_type)})"
        if base == "uuid":
            return f"({value}::text ~ {_literal(UUID_INPUT)})"
        if base in INTEGER_RANGES:  # the probe's predicate, proven against real casts
            text = sql.SQL(f"{value}::pg_catalog.text")
            return integer_input_valid(text, base).as_string(self.connection)
        return None

    def duplicates(
        self,
        table: Table,
        keys: tuple[str, ...],
        nulls_distinct: bool,
        where: str | None = None,
        source: str | None = None,
    ) -> Blocker:
        """Groups of rows equal on `keys` (SQL over alias `c`: columns or expressions) that a
        unique index would refuse; `where` limits them to a partial index's rows.  Over
        `source` (the planned values), as `proof`: count None where PostgreSQL cannot tell."""
        listed = ", ".join(keys)
        conditions = [f"({k}) IS NOT NULL" for k in keys] if nulls_distinct else []
        if where:
            conditions.append(f"({where})")
        filtered = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        query = (
            f"SELECT concat_ws(', ', {listed}) FROM {source or qualified(table.schema, table.name)}"
            f" AS c {filtered} GROUP BY {listed} HAVING count(*) > 1"
        )
        with db.read_only(self.connection, self.timeouts, "fix") as conn:
            try:
                found = conn.execute(query).fetchall()
            except _unprovable() as error:
                return _unproven(error)
        return Blocker(len(found), tuple(str(row[0]) for row in found[:SAMPLES]))

    def referenced(
        self, table: Table, rows: str, references: list[Reference]
    ) -> list[tuple[str, Blocker]]:
        """Rows of `table` matching `rows` (SQL over alias `c`) that one of `references` (the
        foreign keys pointing at `table`) points at, per foreign key: moving or deleting them
        would cascade, null or fail."""
        found: list[tuple[str, Blocker]] = []
        for reference in references:
            (schema, relation), name, _, _ = reference
            blocker = self.rows(table, f"({rows}) AND {points_at(reference)}")
            if blocker:
                found.append((f"{qualified(schema, relation)} ({quote(name)})", blocker))
        return found

    def missing_schemas(self, names: list[str]) -> set[str]:
        """Which of `names` the database has no schema of."""
        with db.read_only(self.connection, self.timeouts, "fix") as conn:
            rows = conn.execute(
                "SELECT wanted FROM pg_catalog.unnest(%s::pg_catalog.text[]) AS wanted"
                " WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace AS n"
                "   WHERE n.nspname = wanted)",
                [names],
            ).fetchall()
        return {str(row[0]) for row in rows}

    def schema_creator(self) -> tuple[str, str] | None:
        """None when this role may create schemas (CREATE on the database); else (role,
        database), for the refusal to name."""
        with db.read_only(self.connection, self.timeouts, "fix") as conn:
            row = conn.execute(
                "SELECT pg_catalog.has_database_privilege(pg_catalog.current_database(),"
                " 'CREATE'), current_user::pg_catalog.text,"
                " pg_catalog.current_database()::pg_catalog.text"
            ).fetchone()
        assert row is not None
        return None if row[0] else (str(row[1]), str(row[2]))

    def missing_types(self, spellings: list[str]) -> dict[str, Provider]:
        """Which of `spellings` (types as the model spells them) the database has no type of,
        each with the extension of the same name, if this server has one (what would provide
        it).  Resolved as verify resolves them, with `search_path` pinned to pg_catalog and
        public; a spelling PostgreSQL cannot even parse counts as missing."""
        import psycopg

        unreadable = (psycopg.DataError, psycopg.errors.SyntaxError)
        with db.read_only(self.connection, self.timeouts, "fix") as conn:
            try:
                absent = _absent_types(conn, spellings)
            except unreadable:  # one of them does not parse: ask one by one
                conn.execute("ROLLBACK TO SAVEPOINT schemalock_types")
                absent = [s for s in spellings if _absent_types(conn, [s], unreadable)]
            return {spelling: _provider(conn, spelling) for spelling in absent}

    def references_to(self, table: Table) -> list[Reference]:
        """The foreign keys pointing at `table`, from the catalog: the live model covers only
        the lock's schemas, and a reference from any schema would cascade just the same."""
        with db.read_only(self.connection, self.timeouts, "fix") as conn:
            rows = conn.execute(
                "SELECT n.nspname, s.relname, k.conname,"
                " ARRAY(SELECT a.attname FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY"
                "   AS u(n, i) JOIN pg_catalog.pg_attribute AS a"
                "   ON a.attrelid = k.conrelid AND a.attnum = u.n ORDER BY u.i)::text[],"
                " ARRAY(SELECT a.attname FROM pg_catalog.unnest(k.confkey) WITH ORDINALITY"
                "   AS u(n, i) JOIN pg_catalog.pg_attribute AS a"
                "   ON a.attrelid = k.confrelid AND a.attnum = u.n ORDER BY u.i)::text[]"
                " FROM pg_catalog.pg_constraint AS k"
                " JOIN pg_catalog.pg_class AS s ON s.oid = k.conrelid"
                " JOIN pg_catalog.pg_namespace AS n ON n.oid = s.relnamespace"
                " WHERE k.contype = 'f' AND k.conparentid = 0"
                "   AND k.confrelid = pg_catalog.to_regclass(%s) ORDER BY 1, 2",
                [qualified(table.schema, table.name)],
            ).fetchall()
        return [((str(r[0]), str(r[1])), str(r[2]), _names(r[3]), _names(r[4])) for r in rows]

    def grant_targets(self, targets: list[tuple[str, str]]) -> dict[tuple[str, str], Grantable]:
        """For each (kind, name) a GRANT would name: whether it exists, and whether this role
        may grant on it (a superuser, or a member of its owner: anyone else's GRANT does
        nothing but warn).  Kinds: `relation` and `routine` (names as SQL spells them, a
        routine with its argument types), `schema` (quoted), `role` (as is; its members may
        ALTER DEFAULT PRIVILEGES FOR it)."""
        with db.read_only(self.connection, self.timeouts, "fix") as conn:
            rows = conn.execute(_GRANT_TARGETS, [[k for k, _ in targets], [n for _, n in targets]])
            return {(str(r[0]), str(r[1])): (bool(r[2]), bool(r[3])) for r in rows.fetchall()}

    def sequence_value(self, schema: str, name: str) -> int:
        """The value the sequence holds now (`last_value`, drawn or not): ALTER SEQUENCE fails
        on bounds that leave it outside them."""
        with db.read_only(self.connection, self.timeouts, "fix") as conn:
            row = conn.execute(f"SELECT last_value FROM {qualified(schema, name)}").fetchone()
        assert row is not None
        return int(str(row[0]))

    def default_rows_in(self, table: Table, default: tuple[str, str], condition: str) -> Blocker:
        """Rows of `table`'s DEFAULT partition `default` (alias `c`) that `condition` (a new
        partition's bound) covers: PostgreSQL refuses to create that partition over them.  As
        `proof`: a condition that cannot run counts None, with what PostgreSQL said."""
        return self.proof(table, condition, qualified(*default))


Reference = tuple[tuple[str, str], str, list[str], list[str]]  # (schema, table), name, from, to


def points_at(reference: Reference) -> str:
    """SQL true where a row of the referencing table (alias `r`) points at the row `c`."""
    (schema, relation), _, columns, targets = reference
    match = " AND ".join(
        f"r.{quote(s)} = c.{quote(t)}" for s, t in zip(columns, targets, strict=True)
    )
    return f"EXISTS (SELECT 1 FROM {qualified(schema, relation)} AS r WHERE {match})"


# The extension named like a missing type, if the server has one, and the schema it is
# installed in (None: available, not installed): (None, None) when no extension is so named.
Provider = tuple[str | None, str | None]


def _absent_types(
    conn: psycopg.Connection[Any],
    spellings: list[str],
    unreadable: tuple[type[BaseException], ...] = (),
) -> list[str]:
    """The spellings `to_regtype` finds no type for, in a savepoint: a spelling it cannot
    parse raises (PostgreSQL 15) unless its errors are `unreadable`, which count as absent."""
    conn.execute("SAVEPOINT schemalock_types")
    try:
        rows = conn.execute(
            "SELECT s FROM pg_catalog.unnest(%s::pg_catalog.text[]) AS s"
            " WHERE pg_catalog.to_regtype(s) IS NULL",
            [spellings],
        ).fetchall()
    except unreadable:
        conn.execute("ROLLBACK TO SAVEPOINT schemalock_types")
        return list(spellings)
    conn.execute("RELEASE SAVEPOINT schemalock_types")
    return [str(row[0]) for row in rows]


def _provider(conn: psycopg.Connection[Any], spelling: str) -> Provider:
    """The extension this server has under the type's own name (`ext.citext`: citext), and
    where it is installed, if it is."""
    name = _base(re.sub(r"(\[\])+$", "", spelling)).rpartition(".")[2].strip('"')
    row = conn.execute(
        "SELECT a.name::pg_catalog.text, (SELECT n.nspname::pg_catalog.text"
        "   FROM pg_catalog.pg_extension AS e"
        "   JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace"
        "   WHERE e.extname = a.name)"
        " FROM pg_catalog.pg_available_extensions AS a WHERE a.name = %s",
        [name],
    ).fetchone()
    return (None, None) if row is None else (str(row[0]), None if row[1] is None else str(row[1]))


def _names(value: object) -> list[str]:
    assert isinstance(value, list)
    return [str(name) for name in value]


def _unprovable() -> tuple[type[Exception], ...]:
    """What a proof over planned values may meet that is no fault of the server's: a value an
    expression fails on (class 22), a column or type the plan has not made yet, an operator or
    cast that does not exist for these types."""
    import psycopg
    from psycopg import errors

    return (
        psycopg.DataError,
        errors.UndefinedColumn,
        errors.UndefinedObject,
        errors.UndefinedFunction,
        errors.DatatypeMismatch,
        errors.CannotCoerce,
    )


def _unproven(error: Exception) -> Blocker:
    import psycopg

    assert isinstance(error, psycopg.Error)
    reason = str(error).splitlines()[0]
    return Blocker(None, (), f"PostgreSQL: {reason}")


def _blocker(
    conn: psycopg.Connection[Any], table: Table, condition: str, relation: str | None = None
) -> Blocker:
    source = f"{relation or qualified(table.schema, table.name)} AS c"
    count = conn.execute(f"SELECT count(*) FROM {source} WHERE {condition}").fetchone()
    keys = conn.execute(
        f"SELECT {_key(table)} FROM {source} WHERE {condition} LIMIT {SAMPLES}"
    ).fetchall()
    return Blocker(int(str(count[0])) if count else 0, tuple(str(k[0]) for k in keys))


def _labelled(value: str, labels: tuple[str, ...], array: bool) -> str:
    """SQL true where `value` (or every element of an array) is one of the enum's `labels`, as
    text: what the enum's input function accepts, whether or not the type exists yet."""
    listed = "ARRAY[" + ", ".join(_literal(label) for label in labels) + "]::pg_catalog.text[]"
    if not labels:
        listed = "'{}'::pg_catalog.text[]"
    if array:
        return (
            f"NOT EXISTS (SELECT 1 FROM pg_catalog.unnest({value}::pg_catalog.text[]) AS l(v)"
            f" WHERE l.v IS NOT NULL AND l.v <> ALL ({listed}))"
        )
    return f"{value}::pg_catalog.text = ANY ({listed})"


def lossy(value: str, from_type: str, to_type: str) -> str:
    """SQL true where a value that converts comes out different: text read as a type with a
    modifier is compared with the same text read without it (`'12.3456'::numeric(10,2)` with
    `::numeric`), anything else goes there and back and is compared with itself."""
    if _textual(from_type):
        base = _TYPMOD.sub("", to_type)
        if base == to_type:
            return "false"  # a parse, not a loss: 'ABC...' and 'abc...' are one uuid
        # Bare `character` and `bit` mean a length of 1: their unbounded forms are others.
        base = {"character": "bpchar", "bit": "bit varying"}.get(base.strip(), base)
        return f"({value}::{to_type} IS DISTINCT FROM {value}::{base})"
    there_and_back = f"({value}::{to_type})::{from_type}"
    if no_equality(_base(from_type)):
        return f"({there_and_back}::text IS DISTINCT FROM {value}::text)"
    return f"({there_and_back} IS DISTINCT FROM {value})"


def _base(type_name: str) -> str:
    return _TYPMOD.sub("", type_name).strip()


def _textual(type_name: str) -> bool:
    return _base(type_name) in _TEXTUAL or type_name.endswith(".citext")


def _key(table: Table) -> str:
    columns = table.primary_key.columns if table.primary_key else ()
    if not columns:
        return "c.ctid::text"
    return "concat_ws(', ', " + ", ".join(f"c.{quote(c)}::text" for c in columns) + ")"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


Grantable = tuple[bool, bool]  # (exists, this role may grant and revoke on it)
# The owner of each target (a role for itself), and whether current_user acts for it.
_GRANT_TARGETS = """
SELECT t.kind, t.name, o.owner IS NOT NULL,
       o.owner IS NOT NULL AND (
           (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user)
           OR pg_catalog.pg_has_role(current_user, o.owner, 'MEMBER'))
FROM ROWS FROM (pg_catalog.unnest(%s::pg_catalog.text[]),
                pg_catalog.unnest(%s::pg_catalog.text[])) AS t (kind, name)
CROSS JOIN LATERAL (SELECT CASE t.kind
    WHEN 'relation' THEN (SELECT c.relowner FROM pg_catalog.pg_class AS c
                          WHERE c.oid = pg_catalog.to_regclass(t.name))
    WHEN 'routine' THEN (SELECT p.proowner FROM pg_catalog.pg_proc AS p
                         WHERE p.oid = pg_catalog.to_regprocedure(t.name))
    WHEN 'schema' THEN (SELECT n.nspowner FROM pg_catalog.pg_namespace AS n
                        WHERE n.oid = pg_catalog.to_regnamespace(t.name))
    WHEN 'role' THEN (SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = t.name)
    END AS owner) AS o
"""
