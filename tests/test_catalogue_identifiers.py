"""Catalogue B (issue 9, section 8): identifiers, quoting and injection.

Each test names its catalogue case (`B02:` ...), so the README's reliability table can cite it.
Names go the whole way: a database holding them -> snapshot -> verify -> drift -> fix --apply ->
verify, and every generated revision compiles.  Cases proved elsewhere: B01
(tests/test_roundtrip.py, tests/test_fix.py::test_hostile_names_stay_names), B06
(tests/test_contracts.py), B10 (tests/test_safety.py).
"""

from __future__ import annotations

import ast
import json
import py_compile
import unicodedata
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from conftest import execute, query, run_cli, write
from test_fix import _op_calls
from test_fix_convergence import checksums

STRUCTURAL = ("structure", "integrity")


def _snapshot(url: str, lock: Path) -> str:
    result = run_cli("snapshot", "--database-url", url, "--output", str(lock))
    assert result.exit_code == 0, result.stderr
    return lock.read_text(encoding="utf-8")


def _drift(url: str, lock: Path) -> list[tuple[str, str]]:
    """verify's structural findings (rule, message), sorted; fk-missing-index aside."""
    result = run_cli(
        "verify", "--lock", str(lock), "--database-url", url, "--format", "json", "--no-data",
        "--fail-on", "info",
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return sorted(
        (f["rule"], f["message"])
        for f in found
        if f["category"] in STRUCTURAL and f["rule"] != "fk-missing-index"
    )


def _fix_apply(url: str, lock: Path, migrations: Path) -> list[Path]:
    """fix --apply; the revisions it wrote, each compiled."""
    result = run_cli(
        "fix", "--lock", str(lock), "--database-url", url, "--migrations", str(migrations),
        "--apply",
    )  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    written = sorted((migrations / "versions").glob("*.py"))
    for path in written:
        py_compile.compile(str(path), doraise=True)
    return written


def _create(url: str, *statements: sql.Composed) -> None:
    """Statements built with sql.Identifier / sql.Literal, so the test's own SQL is exact."""
    with psycopg.connect(url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def _ident(*parts: str) -> sql.Identifier:
    return sql.Identifier(*parts)


# -- B02 -------------------------------------------------------------------------------------


@pytest.mark.db
def test_b02_user_account_and_useraccount_are_two_tables_all_the_way(
    database: str, tmp_path: Path
) -> None:
    """B02: `"UserAccount"` and `useraccount` are tracked separately: the snapshot lists both,
    drift on each is reported on it alone in quoted form, fix repairs each, rows unchanged."""
    execute(
        database,
        """
        CREATE TABLE "UserAccount" (id int PRIMARY KEY, "Email" text NOT NULL,
            plan text DEFAULT 'Pro');
        CREATE TABLE useraccount (id int PRIMARY KEY, email text NOT NULL,
            plan text DEFAULT 'free');
        CREATE INDEX "UserAccount_Email" ON "UserAccount" ("Email");
        CREATE INDEX useraccount_email ON useraccount (email);
        INSERT INTO "UserAccount" VALUES (1, 'A@x.io', 'Pro');
        INSERT INTO useraccount VALUES (1, 'a@x.io', 'free'), (2, 'b@x.io', 'free');
        """,
    )
    lock = tmp_path / "schema_lock.yaml"
    text = _snapshot(database, lock)
    assert "\n  UserAccount:\n" in text
    assert "\n  useraccount:\n" in text
    assert _drift(database, lock) == []
    execute(
        database,
        """ALTER TABLE "UserAccount" ALTER COLUMN plan SET DEFAULT 'free';
        DROP INDEX useraccount_email""",
    )
    rows = checksums(database)
    assert _drift(database, lock) == [
        (
            "default-mismatch",
            "column public.\"UserAccount\".plan default is 'free'::text; the lock says 'Pro'::text",
        ),
        (
            "missing-index",
            "table public.useraccount has no index btree (email) (lock: useraccount_email)",
        ),
    ]
    _fix_apply(database, lock, tmp_path / "migrations")
    assert _drift(database, lock) == []
    assert checksums(database) == rows
    defaults = query(
        database,
        "SELECT table_name, column_default FROM information_schema.columns "
        "WHERE column_name = 'plan' ORDER BY table_name COLLATE \"C\"",
    )
    assert defaults == [("UserAccount", "'Pro'::text"), ("useraccount", "'free'::text")]


# -- B03 -------------------------------------------------------------------------------------

B03_SCHEMA = r"""
CREATE SCHEMA a;
CREATE TABLE a.b (id int PRIMARY KEY, v text DEFAULT 'the table b of schema a');
CREATE TABLE "a.b" (
    id int PRIMARY KEY,
    "{x}" text DEFAULT '{y}',
    "back\slash" text NOT NULL DEFAULT 'c:\dir\{0}',
    "%(y)s" int DEFAULT 0,
    "100%" text DEFAULT '100%% {}'
);
CREATE INDEX "idx {x} %s" ON "a.b" ("{x}");
CREATE TABLE "{x}" (id int PRIMARY KEY, ref int REFERENCES "a.b" (id));
CREATE TABLE "back\slash" ("it's" int PRIMARY KEY, "a""b" text UNIQUE);
INSERT INTO a.b VALUES (1, DEFAULT);
INSERT INTO "a.b" VALUES (1, DEFAULT, DEFAULT, DEFAULT, DEFAULT);
INSERT INTO "{x}" VALUES (1, 1);
INSERT INTO "back\slash" VALUES (1, 'q"q');
"""

B03_DRIFT = r"""
DROP INDEX "idx {x} %s";
ALTER TABLE "a.b" ALTER COLUMN "{x}" DROP DEFAULT, ALTER COLUMN "back\slash" DROP NOT NULL,
    ALTER COLUMN "%(y)s" SET DEFAULT 1;
ALTER TABLE "{x}" DROP CONSTRAINT "{x}_ref_fkey";
ALTER TABLE "back\slash" DROP CONSTRAINT "back\slash_a""b_key";
"""


@pytest.mark.db
def test_b03_dots_braces_percent_and_backslashes_stay_names(database: str, tmp_path: Path) -> None:
    """B03: a table named `"a.b"` beside table `b` of schema `a`, and names holding `{x}`,
    `%(y)s`, `100%`, a backslash and quotes: no mis-split on the dot, no %/format
    interpretation; snapshot twice is byte-identical, drift is reported on the right
    objects, fix --apply repairs them and leaves `a.b` alone."""
    execute(database, B03_SCHEMA)
    lock = tmp_path / "schema_lock.yaml"
    text = _snapshot(database, lock)
    assert "\n  a.b:\n" in text
    assert "\n  '\"a.b\"':\n" in text
    assert _snapshot(database, tmp_path / "again.yaml") == text
    assert _drift(database, lock) == []
    execute(database, B03_DRIFT)
    rows = checksums(database)
    drift = _drift(database, lock)
    assert [rule for rule, _ in drift] == [
        "default-mismatch",
        "default-mismatch",
        "missing-foreign-key",
        "missing-index",
        "missing-unique",
        "nullability-mismatch",
    ], drift
    assert not any("public.a.b" in message or "a.b.v" in message for _, message in drift)
    _fix_apply(database, lock, tmp_path / "migrations")
    assert _drift(database, lock) == []
    assert checksums(database) == rows
    assert query(database, 'SELECT "back\\slash", "{x}" FROM "a.b"') == [("c:\\dir\\{0}", "{y}")]
    default = "SELECT column_default FROM information_schema.columns WHERE column_name = %s"
    assert query(database, default, ["%(y)s"]) == [("0",)]


@pytest.mark.db
def test_b03_percent_signs_in_sql_text_are_restored_as_written(
    database: str, tmp_path: Path
) -> None:
    """B03: `%` in a default, a check and a partial index's predicate is SQL, not a Python
    format: after fix --apply each is exactly what the lock says, and verify is clean."""
    execute(
        database,
        """
        CREATE TABLE t (id int PRIMARY KEY, d text DEFAULT '50% off',
            email text CONSTRAINT email_at CHECK (email LIKE '%@%'), note text);
        CREATE INDEX t_note ON t (note) WHERE note LIKE '%x';
        """,
    )
    lock = tmp_path / "schema_lock.yaml"
    _snapshot(database, lock)
    execute(
        database,
        "ALTER TABLE t ALTER COLUMN d DROP DEFAULT, DROP CONSTRAINT email_at; DROP INDEX t_note",
    )
    _fix_apply(database, lock, tmp_path / "migrations")
    assert query(database, "SELECT column_default FROM information_schema.columns "
                 "WHERE column_name = 'd'") == [("'50% off'::text",)]  # fmt: skip
    assert query(
        database, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'email_at'"
    ) == [("CHECK ((email ~~ '%@%'::text))",)]
    assert _drift(database, lock) == []


# -- B04 -------------------------------------------------------------------------------------

NFC = unicodedata.normalize("NFC", "naïve")
NFD = unicodedata.normalize("NFD", "naïve")
RTL = "total\u200fprice"  # with a right-to-left mark
UNICODE_TABLES = [NFC, NFD, "表", "🙂", RTL]


@pytest.mark.db
def test_b04_unicode_names_are_never_normalised(database: str, tmp_path: Path) -> None:
    """B04: `naïve` in NFC and in NFD are two tables to PostgreSQL and to schemalock; with
    `表`, `🙂` and a name holding a right-to-left mark, they round-trip byte for byte, and
    dropping the NFD one is exactly one missing table, which fix --apply creates again."""
    assert NFC != NFD
    _create(
        database,
        *(
            sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, {} text DEFAULT {}, {} text)").format(
                _ident(name), _ident(f"{name}_列"), sql.Literal(name), _ident(RTL)
            )
            for name in UNICODE_TABLES
        ),
        sql.SQL("INSERT INTO {} (id) VALUES (1)").format(_ident(NFC)),
    )
    lock = tmp_path / "schema_lock.yaml"
    text = _snapshot(database, lock)
    for name in UNICODE_TABLES:
        assert f"\n  {name}:\n" in text, name
        assert f"\n      {name}_列:" in text, name
    assert _drift(database, lock) == []
    _create(database, sql.SQL("DROP TABLE {}").format(_ident(NFD)))
    rows = checksums(database)
    assert _drift(database, lock) == [("missing-table", f'table public."{NFD}" is missing')]
    _fix_apply(database, lock, tmp_path / "migrations")
    assert _drift(database, lock) == []
    created = query(
        database, "SELECT count(*) FROM pg_class WHERE relname = %s AND relkind = 'r'", [NFD]
    )
    assert created == [(1,)]
    assert {k: v for k, v in checksums(database).items() if k[1] != NFD} == rows


# -- B05 -------------------------------------------------------------------------------------

PAYLOAD_TABLE = 'x"; DROP TABLE users; --'
PAYLOAD_COLUMN = "a) ; DELETE FROM users; --"
PAYLOAD_INDEX = 'i"; DROP TABLE users; --'


@pytest.mark.db
def test_b05_injection_in_names_of_a_table_fix_creates_stays_names(
    database: str, tmp_path: Path
) -> None:
    """B05: a table the lock alone declares, named `x"; DROP TABLE users; --`, with a column
    `a) ; DELETE FROM users; --`, a default holding `'); DELETE ...` and an index named with a
    payload: fix --apply creates exactly those names; `users` keeps its 3 rows."""
    execute(
        database,
        "CREATE TABLE users (id int PRIMARY KEY); INSERT INTO users VALUES (1), (2), (3)",
    )
    lock = tmp_path / "schema_lock.yaml"
    quoted = PAYLOAD_TABLE.replace('"', '""')
    text = _snapshot(database, lock) + (
        f"""  '"{quoted}"':
    columns:
      id: {{type: int, primary_key: true}}
      "{PAYLOAD_COLUMN}": {{type: text, default: "'''); DELETE FROM users; --'"}}
    indexes:
      '{PAYLOAD_INDEX}': {{columns: ['"{PAYLOAD_COLUMN}"']}}
"""
    )
    lock.write_text(text, encoding="utf-8")
    assert _drift(database, lock) == [
        ("missing-table", f'table public."{quoted}" is missing'),
    ]
    revisions = _fix_apply(database, lock, tmp_path / "migrations")
    assert query(database, "SELECT count(*) FROM users") == [(3,)]
    assert query(database, "SELECT relname FROM pg_class WHERE relname = %s", [PAYLOAD_TABLE]) == [
        (PAYLOAD_TABLE,)
    ]
    assert query(database, "SELECT relname FROM pg_class WHERE relname = %s", [PAYLOAD_INDEX]) == [
        (PAYLOAD_INDEX,)
    ]
    assert _drift(database, lock) == []
    for revision in revisions:
        assert _op_names(revision) <= {"execute", "get_context", "create_table", "create_index"}
    _create(
        database,
        sql.SQL("INSERT INTO {} (id) VALUES (1)").format(_ident(PAYLOAD_TABLE)),
    )
    inserted = sql.SQL("SELECT {} FROM {}").format(_ident(PAYLOAD_COLUMN), _ident(PAYLOAD_TABLE))
    with psycopg.connect(database) as connection:
        assert connection.execute(inserted).fetchall() == [("'); DELETE FROM users; --",)]


def _op_names(path: Path) -> set[str]:
    return set(_op_calls(path))


# -- B07 -------------------------------------------------------------------------------------

B07_SCHEMA = """
CREATE TABLE victims (id int PRIMARY KEY);
INSERT INTO victims VALUES (1), (2);
CREATE TYPE st AS ENUM ('won''t', 'x''); DROP TABLE victims; --');
CREATE TABLE t (
    id int PRIMARY KEY,
    s st DEFAULT 'won''t',
    note text DEFAULT 'it''s "q" ''); DROP TABLE victims; --',
    CONSTRAINT "no'quote" CHECK (note <> 'a''b'' OR true); DROP TABLE victims; --')
);
INSERT INTO t VALUES (1, DEFAULT, DEFAULT);
"""

B07_DRIFT = """
ALTER TABLE t ALTER COLUMN s DROP DEFAULT, ALTER COLUMN note DROP DEFAULT,
    DROP CONSTRAINT "no'quote";
ALTER TYPE st RENAME TO st_old;
CREATE TYPE st AS ENUM ('won''t');
ALTER TABLE t ALTER COLUMN s TYPE st USING s::text::st;
DROP TYPE st_old;
"""


@pytest.mark.db
def test_b07_quotes_read_from_the_catalog_are_re_emitted_escaped(
    database: str, tmp_path: Path
) -> None:
    """B07: an enum label `x'); DROP TABLE victims; --`, defaults and a check holding quotes
    and payloads, read from the catalog by snapshot, then lost: fix --apply adds the label
    back, restores the defaults and the check exactly, and `victims` keeps its 2 rows."""
    execute(database, B07_SCHEMA)
    check = "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'no''quote'"
    written = query(database, check)
    assert "DROP TABLE victims; --" in str(written)
    lock = tmp_path / "schema_lock.yaml"
    _snapshot(database, lock)
    assert _drift(database, lock) == []
    execute(database, B07_DRIFT)
    assert {rule for rule, _ in _drift(database, lock)} == {
        "default-mismatch",
        "enum-mismatch",
        "check-mismatch",
    }
    _fix_apply(database, lock, tmp_path / "migrations")
    assert _drift(database, lock) == []
    assert query(database, "SELECT count(*) FROM victims") == [(2,)]
    assert query(database, "SELECT enum_range(NULL::st)::text[]") == [
        (["won't", "x'); DROP TABLE victims; --"],)
    ]
    execute(database, "INSERT INTO t (id) VALUES (2)")
    assert query(database, "SELECT s::text, note FROM t WHERE id = 2") == [
        ("won't", "it's \"q\" '); DROP TABLE victims; --")
    ]
    assert query(database, check) == written


# -- B08 -------------------------------------------------------------------------------------

PYTHON_TABLE = "t'''#x\\"
PYTHON_COLUMN = "b\nc'''#\\"
PYTHON_INDEX = "i'''\n#\\s"
PYTHON_DEFAULT_VALUE = "it's \"\"\" '''''' # \\ x\n\\n"
TEMPLATE_NAMES = {"revision", "down_revision", "branch_labels", "depends_on"}


def _drop_default_and_index(
    database: str, tmp_path: Path, table: str, column: str, index: str
) -> Path:
    """A table whose column has a default and an index, snapshot, then both dropped; the
    lock's path."""
    _create(
        database,
        sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, {} text DEFAULT {})").format(
            _ident(table), _ident(column), sql.Literal(PYTHON_DEFAULT_VALUE)
        ),
        sql.SQL("CREATE INDEX {} ON {} ({})").format(_ident(index), _ident(table), _ident(column)),
        sql.SQL("INSERT INTO {} (id) VALUES (1)").format(_ident(table)),
    )
    lock = tmp_path / "schema_lock.yaml"
    _snapshot(database, lock)
    assert _drift(database, lock) == []
    _create(
        database,
        sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT").format(
            _ident(table), _ident(column)
        ),
        sql.SQL("DROP INDEX {}").format(_ident(index)),
    )
    return lock


def _only_the_template(revision: Path) -> ast.Module:
    """The revision parses, compiles, and its module holds only what the template writes: a
    docstring, imports, the four revision identifiers, upgrade() and downgrade()."""
    py_compile.compile(str(revision), doraise=True)
    tree = ast.parse(revision.read_text(encoding="utf-8"))
    docstring, *rest = tree.body
    assert isinstance(docstring, ast.Expr)
    assert isinstance(docstring.value, ast.Constant)
    assigned = set()
    for node in rest:
        allowed = ast.Import | ast.ImportFrom | ast.AnnAssign | ast.FunctionDef
        assert isinstance(node, allowed), ast.dump(node)
        if isinstance(node, ast.AnnAssign):
            assert isinstance(node.target, ast.Name)
            assigned.add(node.target.id)
    assert assigned == TEMPLATE_NAMES
    functions = [n.name for n in rest if isinstance(n, ast.FunctionDef)]
    assert functions == ["upgrade", "downgrade"]
    return tree


@pytest.mark.db
def test_b08_python_quoting_in_names_and_defaults_compiles_and_applies(
    database: str, tmp_path: Path
) -> None:
    """B08: names holding `'''`, a newline, a backslash and `#`, and a default holding `\"\"\"`
    as well: the revision fix writes compiles, holds only the template's statements and each
    name byte for byte, applies, verify is clean, and the default is restored exactly."""
    lock = _drop_default_and_index(database, tmp_path, PYTHON_TABLE, PYTHON_COLUMN, PYTHON_INDEX)
    rows = checksums(database)
    [revision] = _fix_apply(database, lock, tmp_path / "migrations")
    tree = _only_the_template(revision)
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)}
    assert {PYTHON_TABLE, PYTHON_COLUMN, PYTHON_INDEX} <= strings
    assert _drift(database, lock) == []
    assert checksums(database) == rows
    with psycopg.connect(database) as connection:
        connection.execute(sql.SQL("INSERT INTO {} (id) VALUES (2)").format(_ident(PYTHON_TABLE)))
        value = connection.execute(
            sql.SQL("SELECT {} FROM {} WHERE id = 2").format(
                _ident(PYTHON_COLUMN), _ident(PYTHON_TABLE)
            )
        ).fetchall()
    assert value == [(PYTHON_DEFAULT_VALUE,)]


@pytest.mark.parametrize(
    "index",
    ['"""\nINJECTED = 1\n"""', "i\\x", "i\\N", 'i"""'],
    ids=["closes-the-docstring", "backslash-x", "backslash-N", "triple-quote"],
)
@pytest.mark.db
def test_b08_a_name_cannot_escape_the_revision_docstring(
    database: str, tmp_path: Path, index: str
) -> None:
    """B08: an index named so as to close the revision's docstring (and put an assignment at
    module level after it), or holding a backslash escape Python refuses: the revision fix
    writes still compiles and holds only the template's statements.  (Planned, never applied:
    the test runs nothing of what it writes.)"""
    lock = _drop_default_and_index(database, tmp_path, "t", "c", index)
    migrations = tmp_path / "migrations"
    result = run_cli(
        "fix", "--lock", str(lock), "--database-url", database, "--migrations", str(migrations)
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    [revision] = sorted((migrations / "versions").glob("*.py"))
    _only_the_template(revision)


# -- B09 -------------------------------------------------------------------------------------

HOSTILE = r"evil\e[2J\r\n::error file=x::pwned"  # YAML escapes: ESC, CR, LF
WORKFLOW = "::error file=x::pwned"


def _clean_lines(text: str) -> None:
    """No raw control character, and no line a CI runner would read as a workflow command."""
    assert "\x1b" not in text
    assert "\r" not in text
    assert not any(line.lstrip().startswith("::") for line in text.split("\n")), text


def test_b09_docs_markdown_escapes_control_characters(tmp_path: Path) -> None:
    """B09: `docs` of a lock whose names, purpose, wiring, comments, defaults and values hold
    ESC, CR and LF followed by `::error`: no raw control character, no line starting `::`."""
    lock = write(
        tmp_path / "schema_lock.yaml",
        f"""version: 1
tables:
  "{HOSTILE}":
    purpose: "p {HOSTILE}"
    wiring: "w\\r\\n::notice::x"
    comment: "c {HOSTILE}"
    columns:
      "{HOSTILE}": {{type: text, comment: "{HOSTILE}", default: "'\\n::error::d'",
        values: ["v\\n::error::v"]}}
      id: {{type: int, primary_key: true}}
    checks: {{"{HOSTILE}": "id > 0"}}
    indexes: {{"i{HOSTILE}": {{columns: [id]}}}}
  other:
    columns:
      r: {{type: int, references: "\\"{HOSTILE}\\".id"}}
""",
    )
    result = run_cli("docs", "--lock", lock)
    assert result.exit_code == 0, result.stderr
    _clean_lines(result.stdout)
    assert "\\x1b[2J" in result.stdout


@pytest.mark.db
def test_b09_names_from_the_database_are_escaped_in_the_text_report(
    database: str, tmp_path: Path
) -> None:
    """B09: a table the database holds, named with ESC, CR, LF and `::error`, reported by
    verify as extra: the text report shows it escaped, never raw."""
    name = "evil\x1b[2J\r\n::error file=x::pwned"
    _create(database, sql.SQL("CREATE TABLE {} (id int)").format(_ident(name)))
    lock = write(tmp_path / "schema_lock.yaml", "version: 1\ntables: {}\n")
    result = run_cli("verify", "--lock", lock, "--database-url", database, "--no-data")
    assert result.exit_code == 0, result.stdout  # an extra table is a warning
    assert "extra-table" in result.stdout
    _clean_lines(result.stdout + result.stderr)
    assert "\\x1b[2J" in result.stdout


@pytest.mark.parametrize(
    "tables",
    [
        f'  "{HOSTILE}": {{}}\n  "public.{HOSTILE}": {{}}\n',
        f'  t:\n    columns:\n      "{HOSTILE}": {{type: int, nullable: maybe}}\n',
        f'  t:\n    "{HOSTILE}": {{}}\n',
        f"  t:\n    columns: {{a: {{type: int}}}}\n"
        f'    indexes: {{"{HOSTILE}": {{columns: [b]}}}}\n',
    ],
    ids=["listed-twice", "field-path", "unknown-key", "invalid-lock-finding"],
)
def test_b09_errors_on_stderr_escape_control_characters(tmp_path: Path, tables: str) -> None:
    """B09: the one-line error about an invalid lock names the object escaped, as the
    reports do: no raw control character, no line starting `::`."""
    lock = write(tmp_path / "schema_lock.yaml", "version: 1\ntables:\n" + tables)
    result = run_cli("lint", "--lock", lock)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1, result.stderr
    _clean_lines(result.stderr)


def test_b09_no_line_of_the_text_report_starts_with_a_workflow_command(tmp_path: Path) -> None:
    """B09: names ending `<space>::error file=x::pwned`, at every length that could put the
    space at a line break: no line of lint's text report starts with `::`."""
    tables = "".join(
        f'  "{"a" * length} {WORKFLOW}":\n'
        "    columns: {r: {type: int, references: nowhere.id}}\n"
        for length in range(1, 130)
    )
    lock = write(tmp_path / "schema_lock.yaml", "version: 1\ntables:\n" + tables)
    result = run_cli("lint", "--lock", lock, env={"COLUMNS": "80"})
    assert result.exit_code == 2
    assert result.stdout.count(WORKFLOW) >= 129
    _clean_lines(result.stdout)


@pytest.mark.db
def test_b09_fix_output_escapes_names_from_the_database(database: str, tmp_path: Path) -> None:
    """B09: an index named with a line feed and `::error`, dropped, then planned back by fix:
    fix's report names it escaped, with no line starting `::`."""
    lock = _drop_default_and_index(database, tmp_path, "t", "c", f"i\n{WORKFLOW}")
    result = run_cli(
        "fix", "--lock", str(lock), "--database-url", database,
        "--migrations", str(tmp_path / "migrations"),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert WORKFLOW in result.stdout
    _clean_lines(result.stdout)


@pytest.mark.db
def test_b09_a_refusal_lists_its_steps_a_line_each_escaped(database: str, tmp_path: Path) -> None:
    """B09: fix's refusal (two columns over NULLs, one named with a line feed and `::error`)
    prints its heading and then each refused step on a line of its own, the names escaped: no
    line starts with `::`."""
    hostile = f"c\n{WORKFLOW}"
    _create(
        database,
        sql.SQL("CREATE TABLE t (id int PRIMARY KEY, {} text, plain text)").format(_ident(hostile)),
        sql.Composed([sql.SQL("INSERT INTO t (id) VALUES (1), (2)")]),
    )
    lock = tmp_path / "schema_lock.yaml"
    text = _snapshot(database, lock)
    lock.write_text(text.replace("{type: text}", "{type: text, nullable: false}"))
    result = run_cli(
        "fix", "--lock", str(lock), "--database-url", database,
        "--migrations", str(tmp_path / "migrations"),
    )  # fmt: skip
    assert result.exit_code == 5, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "schemalock: error: fix refuses: the data or the database forbids these steps:"
    )
    assert len(lines) == 3, result.stderr
    assert all(line.startswith("  ") for line in lines[1:])
    assert any("\\n::error" in line for line in lines[1:])
    _clean_lines(result.stderr)
