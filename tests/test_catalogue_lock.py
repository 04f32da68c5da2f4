"""Catalogue A (issue 9, section 8): lock-file input.

Each test names its catalogue case (`A01:` ...), so the README's reliability table can cite it.
Cases proved elsewhere: A02-A05, A08, A09, A11, A12, A14, A18, A20 (tests/test_lock_loader.py,
tests/test_bad_input.py, tests/rules); A15 (NUL in names): tests/test_bad_input.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import execute, query, run_cli, write
from schemalock.errors import LockFileError
from schemalock.lock import inputs, load_lock, parse_lock

# A port nothing listens on: a command that tried to connect would exit 3, not 2.
NO_SERVER = "postgresql://nobody:secret@127.0.0.1:9/nothing"


def _error(text: str) -> LockFileError:
    with pytest.raises(LockFileError) as caught:
        parse_lock(text, "schema_lock.yaml")
    return caught.value


def _findings(result: Any) -> list[tuple[str, str]]:
    """(rule, message) of every finding of a JSON report."""
    return [(f["rule"], f["message"]) for f in json.loads(result.stdout)["findings"]]


def _verify_json(url: str, lock: str, *options: str) -> Any:
    return run_cli("verify", "--lock", lock, "--database-url", url, "--format", "json", *options)


# -- A01 -------------------------------------------------------------------------------------

PADDING = "".join(f"  t{n}: {{columns: {{id: {{type: int}}}}}}\n" for n in range(14))


@pytest.mark.parametrize(
    ("bad_line", "column", "message"),
    [
        (
            "  jobs: {columns: {id: {type: 'uuid}}}\n",
            31,
            "while scanning a quoted scalar: found unexpected end of stream",
        ),
        ("\tjobs: {}\n", 1, "a tab character; YAML is indented with spaces"),
        (
            "  jobs: {columns: {id: {type: uuid}\n",
            19,
            "while parsing a flow mapping: did not find expected ',' or '}'",
        ),
    ],
    ids=["unclosed-quote", "tab", "unclosed-brace"],
)
@pytest.mark.parametrize("command", ["lint", "verify", "fix", "docs"])
def test_a01_malformed_yaml_is_one_line_with_line_and_column_and_no_connection(
    tmp_path: Path, command: str, bad_line: str, column: int, message: str
) -> None:
    """A01: malformed YAML at line 17 -> exit 2, `file:17:col: message` (the column where the
    unclosed quote or bracket opened, not the end of the file; or the tab), one line, before
    any connection (3)."""
    lock = write(tmp_path / "schema_lock.yaml", "version: 1\ntables:\n" + PADDING + bad_line)
    assert (PADDING + bad_line).count("\n") == 15  # the bad line is line 17
    args = [command, "--lock", lock]
    if command in ("verify", "fix"):
        args += ["--database-url", NO_SERVER]
    if command == "fix":
        args += ["--migrations", str(tmp_path / "migrations")]
    result = run_cli(*args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"schemalock: error: {lock}:17:{column}: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
    assert not (tmp_path / "migrations").exists()


# -- A06 -------------------------------------------------------------------------------------


def test_a06_names_differing_only_in_case_are_two_tables() -> None:
    """A06: `users` and `Users` are two tables (names are exact, as PostgreSQL's quoted
    identifiers); `"Users"` is `Users` written quoted, so it and `public.Users` are the same
    table listed twice (exit 2)."""
    lock = parse_lock(
        "version: 1\ntables:\n  users: {columns: {id: {type: int}}}\n"
        "  Users: {columns: {id: {type: int}}}\n"
    )
    assert set(lock.database.tables) == {("public", "users"), ("public", "Users")}
    for spelling in ("'\"Users\"'", "public.Users", "'public.\"Users\"'"):
        error = _error(
            "version: 1\ntables:\n  Users: {columns: {id: {type: int}}}\n"
            f"  {spelling}: {{columns: {{id: {{type: int}}}}}}\n"
        )
        assert error.line == 4
        assert "listed twice" in str(error)


def test_a06_lint_is_silent_about_case_only_differences(tmp_path: Path) -> None:
    """A06: the documented choice is no warning: two names that differ in case are two
    objects to PostgreSQL, and a lock may list both."""
    lock = write(
        tmp_path / "schema_lock.yaml",
        "version: 1\ntables:\n  users: {columns: {id: {type: int, primary_key: true}}}\n"
        "  Users: {columns: {id: {type: int, primary_key: true}}}\n",
    )
    result = run_cli("lint", "--lock", lock, "--format", "json", "--fail-on", "info")
    assert result.exit_code == 0, result.stdout
    assert _findings(result) == []


@pytest.mark.db
def test_a06_case_only_different_tables_round_trip(database: str, tmp_path: Path) -> None:
    """A06: a database with `users` and `"Users"`: snapshot lists both, verify is clean, and
    dropping one is exactly one missing table, the other untouched."""
    execute(
        database,
        'CREATE TABLE users (id int PRIMARY KEY); CREATE TABLE "Users" (id int PRIMARY KEY, '
        "note text)",
    )
    lock = str(tmp_path / "schema_lock.yaml")
    assert run_cli("snapshot", "--database-url", database, "--output", lock).exit_code == 0
    assert set(load_lock(lock).database.tables) == {("public", "users"), ("public", "Users")}
    clean = _verify_json(database, lock, "--no-data")
    assert (clean.exit_code, _findings(clean)) == (0, [])
    execute(database, 'DROP TABLE "Users"')
    drifted = _verify_json(database, lock, "--no-data")
    assert [rule for rule, _ in _findings(drifted)] == ["missing-table"]
    assert 'public."Users"' in _findings(drifted)[0][1]


# -- A07 -------------------------------------------------------------------------------------


def test_a07_a_column_listed_twice_is_refused_with_both_lines(tmp_path: Path) -> None:
    """A07: two `email` keys under `columns:` -> exit 2 naming both lines, for every command,
    before any connection."""
    text = (
        "version: 1\ntables:\n  t:\n    columns:\n"
        "      email: {type: text}\n      id: {type: int}\n      email: {type: citext}\n"
    )
    error = _error(text)
    assert (error.line, error.column) == (7, 7)
    assert "duplicate key 'email' (first at line 5, again at line 7)" in str(error)
    lock = write(tmp_path / "schema_lock.yaml", text)
    result = run_cli("verify", "--lock", lock, "--database-url", NO_SERVER)
    assert result.exit_code == 2
    assert result.stderr == (
        f"schemalock: error: {lock}:7:7: duplicate key 'email' (first at line 5, again at line 7)\n"
    )


def test_a07_an_index_name_on_two_tables_makes_the_lock_invalid(tmp_path: Path) -> None:
    """A07: index names share the schema's relation namespace: `idx_a` on two tables is an
    invalid lock (exit 2) for verify, before it connects."""
    lock = write(
        tmp_path / "schema_lock.yaml",
        "version: 1\ntables:\n"
        "  a:\n    columns: {x: {type: int}}\n    indexes: {idx_a: {columns: [x]}}\n"
        "  b:\n    columns: {x: {type: int}}\n    indexes: {idx_a: {columns: [x]}}\n",
    )
    result = run_cli("verify", "--lock", lock, "--database-url", NO_SERVER)
    assert result.exit_code == 2, result.stderr
    assert result.stderr == (
        f"schemalock: error: {lock}:6:3: name public.idx_a is used by index on public.a and "
        "index on public.b [SL002 duplicate-name]\n"
    )


# -- A10 -------------------------------------------------------------------------------------

SPELLINGS = ["0x1F", "1.10", "1e3", "+1", ".5", "0o17", "0123", "2024-01-01", "True", "no", "1_000"]


def test_a10_plain_scalars_keep_their_spelling() -> None:
    """A10: what is SQL text or compared as text is the text written: `default: 1.10` is
    `1.10`, not the float 1.1; `values: [0x1F, 1e3]` are `0x1F` and `1e3`, not 31 and 1000.0;
    dates stay text; labels and comments that look like numbers load as written."""
    written = ", ".join(SPELLINGS)
    lock = parse_lock(
        "version: 1\ntables:\n  t:\n    comment: 1.10\n    columns:\n"
        "      a: {type: numeric, default: 1.10}\n"
        "      b: {type: numeric, default: 1e3, comment: 0x1F}\n"
        "      created: {type: date, default: 2024-01-01}\n"
        "      flag: {type: boolean, default: TRUE, nullable: False}\n"
        f"      code: {{type: text, values: [{written}]}}\n"
        "enums:\n  e: [1.10, 0x1F, true]\n"
    )
    table = lock.database.tables[("public", "t")]
    assert table.comment == "1.10"
    assert [c.default for c in table.columns[:4]] == ["1.10", "1e3", "2024-01-01", "TRUE"]
    assert table.columns[1].comment == "0x1F"
    assert table.columns[3].nullable is False  # a yes/no field still reads its yes/no
    assert table.columns[4].values == tuple(SPELLINGS)
    assert lock.database.enums[("public", "e")].labels == ("1.10", "0x1F", "true")


def test_a10_the_format_s_numbers_are_numbers() -> None:
    """A10: `version:` and `database.expected_tables` are the format's numbers: `version: 1.10`
    is not version 1 (exit 2 at line 1), `expected_tables: 12` is 12."""
    lock = parse_lock("version: 1\ndatabase: {expected_tables: 12}\ntables: {}\n")
    assert lock.settings.expected_tables == 12
    error = _error("version: 1.10\ntables: {}\n")
    assert (error.line, error.column) == (1, 1)
    assert "version: Input should be 1" in str(error)
    assert "newer" in str(_error("version: 2\ntables: {}\n"))


def test_a10_yaml_11_words_are_names_and_a_yes_no_field_refuses_a_name() -> None:
    """A10: `on`/`yes`/`no`/`y` as keys are the names written; a yes/no field given a word it
    cannot read is refused at its line, never taken as a name or silently as true."""
    lock = parse_lock(
        "version: 1\ntables:\n  on:\n    columns:\n      yes: {type: int}\n"
        "      no: {type: int}\n      y: {type: int}\n"
    )
    assert [c.name for c in lock.database.tables[("public", "on")].columns] == ["yes", "no", "y"]
    error = _error("version: 1\ntables:\n  t:\n    columns:\n      a: {type: int, unique: sure}\n")
    assert error.line == 5
    assert "unique: Input should be a valid boolean" in str(error)


@pytest.mark.db
def test_a10_numeric_looking_values_and_defaults_match_a_real_database(
    database: str, tmp_path: Path
) -> None:
    """A10: a hand-written lock saying `default: 1.10` and `values: [0x1F, 1.10, 1e3]` is clean
    against a database holding exactly that (before: SL107 `the lock says 1.1` and SL403
    `not among ['31', '1.1', '1000.0']`), and `fix` sets the default as written."""
    execute(
        database,
        "CREATE TABLE t (id int PRIMARY KEY, a numeric DEFAULT 1.10, code text);"
        "INSERT INTO t VALUES (1, DEFAULT, '0x1F'), (2, DEFAULT, '1.10'), (3, DEFAULT, '1e3');",
    )
    lock = write(
        tmp_path / "schema_lock.yaml",
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: int, primary_key: true}\n"
        "      a: {type: numeric, default: 1.10}\n"
        "      code: {type: text, values: [0x1F, 1.10, 1e3]}\n",
    )
    result = _verify_json(database, lock, "--ignore", "mock-data")
    assert _findings(result) == []
    assert result.exit_code == 0
    execute(database, "ALTER TABLE t ALTER COLUMN a DROP DEFAULT")
    fixed = run_cli(
        "fix", "--lock", lock, "--database-url", database, "--migrations",
        str(tmp_path / "migrations"), "--apply",
    )  # fmt: skip
    assert fixed.exit_code == 0, fixed.stdout + fixed.stderr
    default = "SELECT column_default FROM information_schema.columns WHERE column_name = 'a'"
    assert query(database, default) == [("1.10",)]


# -- A13 -------------------------------------------------------------------------------------

NOUNS = ("accounts", "orders", "invoices", "payments", "customers", "products", "shipments")
LARGE = 5_000


def _table_lines(number: int) -> list[str]:
    """One table shaped like a snapshot of bench/'s synthetic schema (bench_ddl.py)."""
    name = f"{NOUNS[number % len(NOUNS)]}_{number:04d}"
    lines = [
        f"  {name}:",
        f"    purpose: Table {number} of a generated schema, with a sentence of prose.",
        "    columns:",
        "      id: {type: bigint, identity: always, primary_key: true}",
        "      created_at: {type: timestamptz, nullable: false, default: now()}",
        "      updated_at: {type: timestamptz}",
        "      note_3: {type: text}",
        "      code_4: {type: varchar(64), nullable: false, unique: true}",
        "      qty_5: {type: integer, default: 0}",
        "      amount_6: {type: 'numeric(12, 2)'}",
        "      attrs_7: {type: jsonb, nullable: false, default: '''{}''::jsonb'}",
        "      is_8: {type: boolean, default: false}",
    ]
    if number > 1:
        parent = f"{NOUNS[(number - 1) % len(NOUNS)]}_{number - 1:04d}"
        lines.append(f"      parent_id: {{type: bigint, references: {parent}.id}}")
    lines += [
        "    checks:",
        f"      {name}_qty_check: qty_5 >= 0",
        "    indexes:",
        f"      {name}_created_1: {{columns: [created_at]}}",
        f"      {name}_attrs_2: {{columns: [attrs_7], method: gin}}",
    ]
    return lines


def _large_lock(last_table: list[str] | None = None) -> str:
    lines = ["version: 1", f"database: {{expected_tables: {LARGE}}}", "tables:"]
    for number in range(1, LARGE):
        lines += _table_lines(number)
    lines += last_table if last_table is not None else _table_lines(LARGE)
    return "\n".join(lines) + "\n"


def _last_table(replace: str, by: str) -> tuple[list[str], int]:
    """The last table with one line edited; its line number in the whole lock."""
    lines = _table_lines(LARGE)
    index = next(i for i, line in enumerate(lines) if replace in line)
    lines[index] = lines[index].replace(replace, by)
    before = 3 + sum(len(_table_lines(n)) for n in range(1, LARGE))
    return lines, before + index + 1


def test_a13_a_large_lock_loads_well_under_the_input_limit(tmp_path: Path) -> None:
    """A13: a 5,000-table lock (what `make bench` snapshots, about 4.5 MB) is far under the
    input limit (32 MiB) and loads whole, each table at its line."""
    valid = tmp_path / "schema_lock.yaml"
    valid.write_text(_large_lock(), encoding="utf-8")
    assert valid.stat().st_size * 4 < inputs.MAX_INPUT_BYTES
    lock = load_lock(str(valid))
    assert len(lock.database.tables) == LARGE
    last = lock.database.tables[("public", f"{NOUNS[LARGE % len(NOUNS)]}_{LARGE:04d}")]
    assert last.line == 3 + sum(len(_table_lines(n)) for n in range(1, LARGE)) + 1
    assert len(last.indexes) == 2


@pytest.mark.parametrize(
    ("replace", "by", "points_at", "words"),
    [
        ("method: gin", "method: 'gin x'", "method: 'gin x'", "is not an index access method"),
        ("      qty_5:", "      note_3:", "note_3:", "duplicate key 'note_3' (first at line"),
    ],
    ids=["index-method", "duplicate-column"],
)
def test_a13_an_error_at_the_end_of_a_large_lock_is_pointed_at_exactly(
    tmp_path: Path, replace: str, by: str, points_at: str, words: str
) -> None:
    """A13: an error in the last table of a 5,000-table lock is reported at its exact line
    and column: found by the parser itself (a duplicate key), or by validation, whose deep
    position the loader looks up again in the whole text."""
    lines, line = _last_table(replace, by)
    broken = tmp_path / "schema_lock.yaml"
    broken.write_text(_large_lock(lines), encoding="utf-8")
    with pytest.raises(LockFileError) as caught:
        load_lock(str(broken))
    error = caught.value
    assert words in str(error)
    assert error.line == line, str(error)
    assert error.column is not None
    text_at = broken.read_text(encoding="utf-8").split("\n")[line - 1][error.column - 1 :]
    assert text_at.startswith(points_at), (str(error), text_at)


# -- A16 -------------------------------------------------------------------------------------

TWO_COLUMN_KEY = """version: 1
tables:
  p:
    columns: {a: {type: int}, b: {type: int}}
    primary_key: [a, b]
  c:
    columns:
      x: {type: int}
    foreign_keys:
      f: {columns: [x], references: {table: p, columns: [a, b]}}
"""


def test_a16_a_foreign_key_with_the_wrong_number_of_columns_is_an_invalid_lock(
    tmp_path: Path,
) -> None:
    """A16: one column referencing a two-column key -> lint exit 2 with the counts; verify
    refuses the invalid lock at the key's line, before it connects."""
    lock = write(tmp_path / "schema_lock.yaml", TWO_COLUMN_KEY)
    linted = run_cli("lint", "--lock", lock)
    assert linted.exit_code == 2
    assert "foreign key on public.c has 1 columns but references 2" in linted.stdout
    verified = run_cli("verify", "--lock", lock, "--database-url", NO_SERVER)
    assert verified.exit_code == 2
    assert verified.stderr == (
        f"schemalock: error: {lock}:10:7: foreign key on public.c has 1 columns but references "
        "2 [SL001 dangling-reference]\n"
    )


def test_a16_a_text_to_uuid_reference_is_reported_offline_with_both_types(
    tmp_path: Path,
) -> None:
    """A16: a `text` column referencing a `uuid` key, both in the lock: lint names both
    columns and both types without a database, and fix refuses (exit 2) before connecting,
    as no migration can create that foreign key."""
    lock = write(
        tmp_path / "schema_lock.yaml",
        "version: 1\ntables:\n  q:\n    columns: {id: {type: uuid, primary_key: true}}\n"
        "  c:\n    columns:\n      u: {type: text, references: q.id}\n",
    )
    linted = run_cli("lint", "--lock", lock, "--format", "json")
    assert linted.exit_code == 1
    assert _findings(linted) == [
        (
            "fk-type-mismatch",
            "public.c.u is text but references public.q.id of type uuid (in the lock)",
        )
    ]
    fixed = run_cli(
        "fix", "--lock", lock, "--database-url", NO_SERVER,
        "--migrations", str(tmp_path / "migrations"),
    )  # fmt: skip
    assert fixed.exit_code == 2
    assert fixed.stderr.startswith(f"schemalock: error: {lock}:7:")
    assert "is text but references public.q.id of type uuid" in fixed.stderr
    assert not (tmp_path / "migrations").exists()


# -- A17 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "words"),
    [
        ("{columns: [emial]}", "index i of public.t uses column emial, which the table does not"),
        ("{columns: ['lower(email']}", "does not parse: syntax error at end of input"),
        ("{columns: [email], where: 'email <>'}", "does not parse: syntax error at end of input"),
    ],
    ids=["missing-column", "broken-expression", "broken-predicate"],
)
def test_a17_an_index_on_a_missing_column_or_a_broken_expression_is_an_invalid_lock(
    tmp_path: Path, index: str, words: str
) -> None:
    """A17: an index on a column the table does not list, or whose key or predicate does not
    parse: lint exit 2, and verify refuses at the index's line and column, never connecting."""
    lock = write(
        tmp_path / "schema_lock.yaml",
        f"version: 1\ntables:\n  t:\n    columns: {{email: {{type: text}}}}\n"
        f"    indexes:\n      i: {index}\n",
    )
    linted = run_cli("lint", "--lock", lock)
    assert linted.exit_code == 2
    assert words in linted.stdout
    verified = run_cli("verify", "--lock", lock, "--database-url", NO_SERVER)
    assert verified.exit_code == 2
    assert verified.stderr.startswith(f"schemalock: error: {lock}:6:7: ")
    assert words in verified.stderr


# -- A19 -------------------------------------------------------------------------------------

# PostgreSQL's regex engine is not a backtracking one, but back-references make it search: a
# run of an odd number of `a` can never be some `xx` repeated, and proving it takes time
# exponential in the length (81 characters: longer than any test would wait).
PATHOLOGICAL = r"^((a+)\2)+$"


@pytest.mark.db
def test_a19_a_pathological_pattern_is_cut_by_statement_timeout(
    database: str, tmp_path: Path
) -> None:
    """A19: a `pattern:` whose match is exponential on the server ends at --statement-timeout:
    the check is inconclusive (exit 4), named with its table and the timeout, never a hang
    and never a pass."""
    execute(
        database,
        "CREATE TABLE codes (id int PRIMARY KEY, code text);"
        "INSERT INTO codes VALUES (1, repeat('a', 81)), (2, 'aa');",
    )
    lock = write(
        tmp_path / "schema_lock.yaml",
        "version: 1\ntables:\n  codes:\n    columns:\n      id: {type: int, primary_key: true}\n"
        f"      code: {{type: text, pattern: '{PATHOLOGICAL}'}}\n",
    )
    environment = {k: v for k, v in os.environ.items() if "DATABASE_URL" not in k}
    done = subprocess.run(
        [sys.executable, "-m", "schemalock", "verify", "--lock", lock, "--database-url", database,
         "--statement-timeout", "1", "--select", "pattern-violation"],
        capture_output=True, text=True, timeout=120, env=environment, check=False,
    )  # fmt: skip
    assert done.returncode == 4, done.stdout + done.stderr
    assert "inconclusive: pattern-violation on public.codes: statement_timeout (1000 ms)" in (
        done.stdout
    )


@pytest.mark.db
def test_a19_ignore_globs_take_underscore_and_percent_literally(
    database: str, tmp_path: Path
) -> None:
    """A19: `database.ignore` is a shell-style glob, not a LIKE pattern: `test_user` and
    `100%` leave out exactly those tables, while `testXuser` and `100abc` are still extra."""
    execute(
        database,
        'CREATE TABLE test_user (id int); CREATE TABLE "testXuser" (id int);'
        'CREATE TABLE "100%" (id int); CREATE TABLE "100abc" (id int);',
    )
    lock = write(
        tmp_path / "schema_lock.yaml",
        "version: 1\ndatabase:\n  ignore: [test_user, '100%']\ntables: {}\n",
    )
    result = _verify_json(database, lock, "--no-data")
    extra = sorted(message for rule, message in _findings(result) if rule == "extra-table")
    assert len(extra) == 2, extra
    assert '"testXuser"' in extra[1]
    assert '"100abc"' in extra[0]


# -- A22 -------------------------------------------------------------------------------------


def test_a22_a_broken_symlink_is_no_such_file(tmp_path: Path) -> None:
    """A22: a lock path that is a symbolic link to nothing -> exit 2 naming the path and the
    reason, one line, no traceback."""
    lock = tmp_path / "schema_lock.yaml"
    lock.symlink_to(tmp_path / "gone.yaml")
    result = run_cli("verify", "--lock", str(lock), "--database-url", NO_SERVER)
    assert result.exit_code == 2
    assert result.stderr == (
        f"schemalock: error: {lock}: no such file: a symbolic link to {tmp_path / 'gone.yaml'}, "
        "which is missing\n"
    )


def _without_file_permission_bypass() -> list[str] | None:
    """A command prefix that runs a process which the file mode bits bind (for root: without
    CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH); [] when the suite is not root; None if root
    cannot shed them here."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--bounding-set", "-dac_override,-dac_read_search"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    return prefix if probe.returncode == 0 else None


def test_a22_an_unreadable_lock_is_exit_2_permission_denied(tmp_path: Path) -> None:
    """A22: a lock the process may not read (EACCES) -> exit 2 `cannot read: Permission
    denied`, one line, no traceback; run as a process that file permissions bind."""
    prefix = _without_file_permission_bypass()
    if prefix is None:
        pytest.skip("running as root and cannot drop CAP_DAC_OVERRIDE (no setpriv)")
    lock = tmp_path / "schema_lock.yaml"
    lock.write_text("version: 1\ntables: {}\n", encoding="utf-8")
    lock.chmod(0)
    environment = {k: v for k, v in os.environ.items() if "DATABASE_URL" not in k}
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "schemalock", "verify", "--lock", str(lock),
         "--database-url", NO_SERVER],
        capture_output=True, text=True, timeout=60, env=environment, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"schemalock: error: {lock}: cannot read: Permission denied\n"
