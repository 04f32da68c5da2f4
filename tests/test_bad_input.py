"""Bad input is bounded and judged the same way everywhere (issue 9, section 5).

- Inputs are read in bounded memory and refused beyond `MAX_INPUT_BYTES`, exit 2.
- Every error about a lock's content carries `file:line:column`.
- Checking an expression is linear in its length, and `verify` parses the whole lock before it
  connects.
- An invalid lock is invalid for every command: exit 2 at the entry, no connection attempted.
- Every lock field that reaches SQL or a revision is validated when the lock is loaded.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from conftest import run_cli, write
from schemalock.errors import LockFileError
from schemalock.lock import parse_lock

# A port nothing listens on: a command that tried to connect would exit 3, not 2.
NO_SERVER = "postgresql://nobody:secret@127.0.0.1:9/nothing"
LIMIT_TEXT = "32 MiB (33,554,432 bytes)"


def _position_error(text: str) -> LockFileError:
    with pytest.raises(LockFileError) as caught:
        parse_lock(text, "schema_lock.yaml")
    return caught.value


def _at(text: str, line: int, column: int) -> str:
    """`text` from `line`:`column` (1-based) to the end of that line."""
    return text.split("\n")[line - 1][column - 1 :]


def _in_a_process(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`schemalock ARGS` in a process of its own, whose address space is capped at 2 GiB: a
    read without a bound fails there (or runs into the timeout) instead of eating the machine."""

    def cap_memory() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    environment = {k: v for k, v in os.environ.items() if "DATABASE_URL" not in k}
    return subprocess.run(
        [sys.executable, "-m", "schemalock", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env=environment,
        preexec_fn=cap_memory,
        check=False,
    )


# -- 1. inputs are bounded -------------------------------------------------------------------


def test_an_endless_lock_is_refused_at_the_size_limit(tmp_path: Path) -> None:
    """`lint --lock /dev/zero` grew to 5 GB and never returned."""
    result = _in_a_process("lint", "--lock", "/dev/zero", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"schemalock: error: /dev/zero: larger than {LIMIT_TEXT}, the most schemalock reads "
        "from an input file\n"
    )


def test_an_endless_check_file_is_refused_at_its_entry(tmp_path: Path) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "zero.sql").symlink_to("/dev/zero")
    write(
        tmp_path / "schema_lock.yaml",
        "version: 1\ntables: {}\nflows:\n  f:\n    path: a -> b\n    invariants:\n"
        "      - sql: checks/zero.sql\n",
    )
    result = _in_a_process("lint", "--lock", "schema_lock.yaml", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        "schemalock: error: schema_lock.yaml:7:9: sql: 'checks/zero.sql' is larger than "
        f"{LIMIT_TEXT}, the most schemalock reads from an input file\n"
    )


def test_reads_stop_one_byte_past_the_limit_whatever_the_file(tmp_path: Path) -> None:
    """A device, a FIFO and a /proc file (which says it is empty) hold more than a limit of 64
    bytes: each is refused once 65 bytes are read, and what fits is read whole."""
    from schemalock.lock import inputs

    with pytest.raises(inputs.InputTooLarge, match=r"larger than 64 bytes"):
        inputs.read_limited("/dev/zero", limit=64)
    with pytest.raises(inputs.InputTooLarge):
        inputs.read_limited("/proc/self/status", limit=64)
    assert inputs.read_limited("/proc/self/status").startswith(b"Name:")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    written: list[int] = []

    def feed() -> None:
        try:
            with open(fifo, "wb") as handle:
                for _ in range(1000):
                    written.append(handle.write(b"x" * 1024))
                    handle.flush()
        except BrokenPipeError:  # the reader stopped: what this test wants
            pass

    writer = threading.Thread(target=feed)
    writer.start()
    with pytest.raises(inputs.InputTooLarge):
        inputs.read_limited(str(fifo), limit=64)
    writer.join(timeout=30)
    assert not writer.is_alive()
    assert len(written) < 1000  # the reader did not drain the writer


def test_a_large_regular_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with open(big, "wb") as handle:
        handle.truncate(32 * 1024 * 1024 + 1)  # sparse: no disk, no memory
    result = run_cli("lint", "--lock", str(big))
    assert result.exit_code == 2
    assert result.stderr == (
        f"schemalock: error: {big}: larger than {LIMIT_TEXT}, the most schemalock reads from an "
        "input file\n"
    )


# -- 2. every load error carries file:line:column --------------------------------------------

LOAD_ERRORS = [
    # (lock bytes, the text at the position the error names, words of the message)
    (b"version: 1\ntables:\n  t: {}\n\x00\n", "\x00", "a NUL character (U+0000)"),
    (b"version: 1\ntables:\n  t: {comment: 'a\x07b'}\n", "\x07b'", "control character U+0007"),
    (b"version: 1\ntables:\n  t: {comment: 'caf\xc3\xa9 \x1b'}\n", "\x1b'", "U+001B"),
    (b"version: 1\ntables:\n  t: {comment: '\xc2\x85 \xc2\x9f'}\n", "\x9f'", "U+009F"),
    (b'version: 1\ntables:\n  t: {comment: "a\\0b"}\n', '"a\\0b"', "a NUL character (written"),
    (b'version: 1\ntables:\n  "t\\0": {}\n', '"t\\0"', "a NUL character (written"),
    (b"version: 1\ntables:\n  caf\xc3\xa9\xe9: {}\n", "\ufffd: {}", "invalid UTF-8 at byte 26"),
    (b"\xef\xbb\xbfversion: 1\n\xff\n", "\ufffd", "invalid UTF-8 at byte 14"),
    (b"", "", "lock file is empty"),
    (b"# only a comment\n", "# only", "lock file is empty"),
    (b"version: 1\ntables: {t: 'x}\n", "'x}", "found unexpected end of stream"),
    (b"version: 1\ntables:\n\tt: {}\n", "\tt: {}", "a tab character"),
    (b"version: 1\ntables: {a: {}, a: {}}\n", "a: {}}", "duplicate key 'a'"),
    (b"version: 1\nx: &a [1]\ny: *b\n", "*b", "unknown alias *b"),
    (b"version: 1\ntables: {}\n---\nversion: 1\n", "---", "one YAML document"),
    (b"version: 1\n<<: {}\n", "<<", "merge keys"),
    (b"version: 1\ntables: !!python/name:os.system {}\n", "!!python", "unsupported tag"),
    (b"version: 1\nenums: {e: [!!int '3']}\n", "!!int", "explicit tag"),
    (b"- a\n", "- a", "a lock file is a mapping"),
    (b"tables: {}\n", "tables", "missing `version: 1`"),
    (b"version: 2\n", "version: 2", "written by a newer schemalock"),
    (b"version: 1\ntables: []\n", "tables: []", "a mapping of table names"),
    (b"version: 1\ntables:\n  t:\n    colums: {}\n", "colums", "unknown key 'colums'"),
    (b"version: 1\ndatabase: {expected_tables: -1}\n", "expected_tables", "greater than"),
    (b"version: 1\ntables:\n  t: {columns: {a: {type: strng}}}\n", "type: strng", "'strng'"),
    (b"version: 1\ntables:\n  'a.b.c': {}\n", "'a.b.c'", "more than two parts"),
    (b"version: 1\ntables:\n  a: {}\n  public.a: {}\n", "public.a", "listed twice"),
    (b"version: 1\ntables:\n  t: {columns: {a: {type: int, on_delete: cascade}}}\n", "a: {",
     "need `references:`"),
    (b"version: 1\ntables:\n  t: {columns: {a: {type: int, references: x}}}\n", "references",
     "must be table.column"),
    (b"version: 1\nflows:\n  f:\n    path: p\n    invariants:\n      - {sql: x.txt}\n", "sql: x",
     "name a .sql file"),
    (b"version: 1\nflows:\n  f:\n    path: p\n    invariants:\n      - {sql: no.sql}\n", "sql: n",
     "cannot read 'no.sql'"),
    (b"version: 1\nflows:\n  f:\n    path: p\n    invariants:\n"
     b"      - reconcile: {total: t.a, by: x}\n", "reconcile", "exactly one of `sum_of`"),
    (b"version: 1\nflows:\n  f:\n    path: p\n    invariants:\n      - {name: x}\n", "{name",
     "exactly one of reconcile"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "points_at", "words"), LOAD_ERRORS)
def test_every_load_error_names_file_line_and_column(
    tmp_path: Path, content: bytes, points_at: str, words: str
) -> None:
    lock = tmp_path / "schema_lock.yaml"
    lock.write_bytes(content)
    result = run_cli("lint", "--lock", str(lock))
    assert result.exit_code == 2, result.stdout + result.stderr
    where = re.match(rf"schemalock: error: {re.escape(str(lock))}:(\d+):(\d+): ", result.stderr)
    assert where is not None, result.stderr
    text = content.decode("utf-8-sig", errors="replace") or "\n"
    assert _at(text, int(where[1]), int(where[2])).startswith(points_at), result.stderr
    assert words in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda path: None, "no such file"),
        (lambda path: path.mkdir(), "is a directory"),
        (lambda path: path.symlink_to(path), "cannot read"),
    ],
)
def test_errors_about_the_file_itself_name_the_file(
    tmp_path: Path, make: object, words: str
) -> None:
    """No content was read: the file is named, with no position in it."""
    lock = tmp_path / "schema_lock.yaml"
    make(lock)  # type: ignore[operator]
    result = run_cli("lint", "--lock", str(lock))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"schemalock: error: {lock}: ")
    assert words in result.stderr


# -- 3. checking is linear, and done before verify connects -----------------------------------

JOBS = (
    "version: 1\ntables:\n  jobs:\n    columns:\n"
    "      id: {type: int, primary_key: true}\n      status: {type: text}\n"
)


def _rendered(text: str) -> int | None:
    """The length of the SQL an invariant expression runs as; None when it is refused for
    what it would expand to."""
    from schemalock.usersql import sandbox as userexpr

    database = parse_lock(JOBS).database
    scope = {"jobs": database.tables[("public", "jobs")]}
    refusal = None
    try:
        return len(userexpr.expression(text, database, scope).sql)
    except userexpr.Rejected as refused:
        refusal = str(refused)
    assert "written out with explicit operators" in refusal
    return None


def _in_list(items: int) -> str:
    return "status IN (" + ", ".join(f"'v{i:06d}'" for i in range(items)) + ")"


def _nested_nullif(depth: int) -> str:
    text = "status"
    for level in range(depth):
        text = f"NULLIF({text}, 'x{level}')"
    return f"{text} IS NULL"


def test_what_an_expression_runs_as_grows_linearly_with_what_is_written() -> None:
    """IN, NULLIF and their kin are written out with explicit operators, repeating their
    subject: a ten times longer IN list runs as ten times the SQL, and nesting, which would
    double it at every level, is refused past a bound instead."""
    short, long = _rendered(_in_list(2_000)), _rendered(_in_list(20_000))
    assert short is not None
    assert long is not None
    assert 9.5 < long / short < 10.5
    for depth in (2, 6, 12, 20):
        text = _nested_nullif(depth)
        size = _rendered(text)
        assert size is None or size <= 20 * len(text) + 100_000, (depth, size)
    assert _rendered(_nested_nullif(20)) is None


def test_checking_an_expression_leaves_nothing_for_the_garbage_collector() -> None:
    """The command line switches Python's cyclic garbage collector off (a run is short and
    builds large acyclic structures): what checking an expression allocates must be freed
    without it, or a long IN list would leave its whole printed tree behind."""
    import gc

    from schemalock.usersql import sandbox as userexpr

    database = parse_lock(JOBS).database
    scope = {"jobs": database.tables[("public", "jobs")]}
    userexpr.expression("status = 'warm-up'", database, scope)
    gc.collect()
    gc.disable()
    try:
        userexpr.expression(_in_list(2_000), database, scope)
        left_for_the_collector = gc.collect()
    finally:
        gc.enable()
    assert left_for_the_collector < 100


def test_an_expression_nested_too_deeply_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    deep = " + ".join(["id"] * 3000) + " > 0"
    lock = write(
        tmp_path / "schema_lock.yaml",
        JOBS + f"flows:\n  f:\n    path: a\n    invariants:\n"
        f"      - implies: {{table: jobs, when: '{deep}', then: 'true'}}\n",
    )
    result = run_cli("lint", "--lock", lock)
    assert "internal error" not in result.stderr
    assert "nested too deeply" in result.stdout
    assert result.exit_code == 2
    assert result.stderr.startswith(f"schemalock: error: {lock}:11:9: flow f: invariant ")


def test_an_invalid_invariant_deep_in_a_large_lock_is_refused_before_connecting(
    tmp_path: Path,
) -> None:
    tables = "".join(
        f"  t{n}:\n    columns:\n      id: {{type: int, primary_key: true}}\n"
        f"      note: {{type: text, default: \"'n{n}'\"}}\n"
        for n in range(300)
    )
    flows = (
        "flows:\n  f:\n    path: a\n    invariants:\n"
        "      - {name: fine, implies: {table: t1, when: 'id > 0', then: 'true'}}\n"
        "      - {name: bad, implies: {table: t299, when: 'id > 0', then: 'pg_sleep(1)'}}\n"
    )
    lock = write(tmp_path / "schema_lock.yaml", "version: 1\ntables:\n" + tables + flows)
    line = 2 + 4 * 300 + 6
    for command in ("verify", "fix"):
        result = run_cli(command, "--lock", lock, "--database-url", NO_SERVER)
        assert result.exit_code == 2, result.stdout + result.stderr  # 3: it tried to connect
        assert result.stderr.startswith(f"schemalock: error: {lock}:{line}:9: flow f: ")
        assert "function pg_sleep() is not allowed" in result.stderr
        assert "secret" not in result.stderr


def test_verify_parses_the_whole_lock_before_it_connects(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each parse of the lock's flows and query contracts happens before the first connection,
    so no transaction is open (and idle) while a long one is checked."""
    import pglast

    from conftest import execute
    from schemalock import db

    execute(database, "CREATE TABLE jobs (id int PRIMARY KEY, status text)")
    marker = f"m{uuid.uuid4().hex[:12]}"  # parses are cached by text: this run's own text
    lock = write(
        tmp_path / "schema_lock.yaml",
        JOBS + "flows:\n  f:\n    path: a\n    invariants:\n"
        f"      - implies: {{table: jobs, when: \"status IN ('{marker}', 'b')\", then: 'true'}}\n"
        f"queries:\n  q: {{sql: \"SELECT id FROM jobs WHERE status = '{marker}'\"}}\n",
    )
    events: list[str] = []
    parse, connect = pglast.parse_sql, db.connect

    def parsing(text: str) -> object:
        if marker in text:
            events.append("parse")
        return parse(text)

    def connecting(*args: object, **kwargs: object) -> object:
        events.append("connect")
        return connect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pglast, "parse_sql", parsing)
    monkeypatch.setattr(db, "connect", connecting)
    result = run_cli("verify", "--lock", lock, "--database-url", database)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "parse" in events
    assert "connect" in events
    assert "parse" not in events[events.index("connect") :], events


# -- 4. an invalid lock is invalid for every command -----------------------------------------

INVALID = {
    "default": ("      q: {type: int, default: '0; DROP TABLE y'}\n", "default of column q"),
    "generated": (
        "      q: {type: int, generated: 'id); DROP TABLE y; --'}\n",
        "generation of column q",
    ),
    "index key": (
        "      q: {type: int}\n    indexes:\n      by_q: {columns: ['q); DROP TABLE y; --']}\n",
        "key 'q); DROP TABLE y; --' of index by_q",
    ),
}
COMMANDS = {
    "lint": ("lint",),
    "verify": ("verify", "--database-url", NO_SERVER),
    "fix": ("fix", "--database-url", NO_SERVER),
    "docs": ("docs",),
    "docs --live": ("docs", "--live", "--database-url", NO_SERVER),
}


def _invalid_lock(tmp_path: Path, kind: str) -> tuple[str, int]:
    """A lock whose `kind` entry is invalid, and the line of that entry (its column is 7)."""
    text = JOBS + INVALID[kind][0]
    entry = "by_q:" if kind == "index key" else "q:"
    line = next(n for n, at in enumerate(text.splitlines(), 1) if at.strip().startswith(entry))
    return write(tmp_path / "schema_lock.yaml", text), line


@pytest.mark.parametrize("kind", sorted(INVALID))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_an_invalid_lock_is_refused_by_every_command_alike(
    tmp_path: Path, command: str, kind: str
) -> None:
    lock, line = _invalid_lock(tmp_path, kind)
    migrations = tmp_path / "migrations"
    options = ("--migrations", str(migrations)) if command == "fix" else ()
    result = run_cli(*COMMANDS[command], "--lock", lock, *options)
    assert result.exit_code == 2, result.stdout + result.stderr  # 3 would mean a connection
    [error] = result.stderr.splitlines()
    assert error.startswith(f"schemalock: error: {lock}:{line}:7: {INVALID[kind][1]} of ")
    assert error.endswith("[SL006 invalid-expression]")
    assert not migrations.exists()
    if command == "lint":  # it still lists every finding
        assert "SL006" in result.stdout
    else:
        assert result.stdout == ""


@pytest.mark.parametrize(
    ("lock_text", "code"),
    [
        (JOBS + "      r: {type: int, references: nowhere.id}\n", "SL001"),
        (JOBS + "    unique: {jobs: {columns: [id]}}\n", "SL002"),
        (JOBS + f"      {'c' * 64}: {{type: int}}\n", "SL003"),
        (JOBS.replace("{type: text}", "{type: text, pattern: '[a-'}"), "SL005"),
        (JOBS + "    checks: {c: 'status ~'}\n", "SL006"),
        (JOBS + "domains:\n  d: {type: int, checks: {c: 'VALUE >'}}\n", "SL006"),
        (JOBS + "queries:\n  q: {sql: 'SELEC 1'}\n", "SL006"),
    ],
)
def test_each_error_about_the_lock_makes_it_invalid(
    tmp_path: Path, lock_text: str, code: str
) -> None:
    lock = write(tmp_path / "schema_lock.yaml", lock_text)
    for command in ("verify", "docs --live"):
        result = run_cli(*COMMANDS[command], "--lock", lock)
        assert result.exit_code == 2, result.stdout + result.stderr
        assert f" [{code} " in result.stderr
    # --select and --ignore choose what is shown, not whether the lock is valid
    ignored = run_cli("lint", "--lock", lock, "--ignore", code)
    assert code not in ignored.stdout
    assert ignored.exit_code == 2
    assert f" [{code} " in ignored.stderr


def test_warnings_and_relations_no_key_can_hold_leave_a_lock_valid(tmp_path: Path) -> None:
    """SL004 is a warning; SL203 in the lock describes a text column holding uuids, which
    verify checks row by row: neither stops verify from connecting (exit 3 here)."""
    lock = write(
        tmp_path / "schema_lock.yaml",
        "version: 1\ndatabase: {expected_tables: 5}\ntables:\n"
        "  orgs: {columns: {id: {type: uuid, primary_key: true}}}\n"
        "  jobs: {columns: {org_id: {type: text, references: orgs.id}}}\n",
    )
    lint = run_cli("lint", "--lock", lock)
    assert "SL004" in lint.stdout
    assert "SL203" in lint.stdout
    assert lint.exit_code == 1  # SL203 is an error finding: exit 1, not an invalid lock
    assert run_cli("verify", "--lock", lock, "--database-url", NO_SERVER).exit_code == 3
    fix = run_cli("fix", "--lock", lock, "--database-url", NO_SERVER)
    assert fix.exit_code == 2  # no migration can create that foreign key
    assert "[SL203 fk-type-mismatch]" in fix.stderr


# -- 5. every lock field that reaches SQL is validated when the lock is loaded ----------------

TABLE = "version: 1\ntables:\n  t:\n    columns: {a: {type: int}}\n"
FIELDS = [
    # (field, lock text, what the error points at, words of the message)
    ("index method", TABLE + "    indexes: {i: {columns: [a], method: 'btree (a); DROP y'}}\n",
     "method: 'btree", "method 'btree (a); DROP y' is not an index access method name"),
    ("index method of two words", TABLE + "    indexes: {i: {columns: [a], method: gin x}}\n",
     "method: gin x", "method 'gin x' is not an index access method name"),
    ("index include", TABLE + "    indexes: {i: {columns: [a], include: [a, 'a) WHERE (1']}}\n",
     "include: [a,", "include: 'a) WHERE (1' is not a column name"),
    ("column type", TABLE.replace("type: int", "type: 'vector(1; DROP TABLE y)'"),
     "type: 'vector", "type 'vector(1; DROP TABLE y)' is not one type name"),
    ("column type of an extension", TABLE.replace("int", "'x; DROP TABLE y; --.citext'"),
     "type: 'x;", "is not one type name"),
    ("array type", TABLE.replace("int", "'geometry(Point,4326 4)[]'"),
     "type: 'geometry", "is not one type name"),
    ("domain type", "version: 1\ndomains:\n  d: {type: 'x; DROP TABLE y; --.citext'}\n",
     "type: 'x;", "is not one type name"),
    ("enum label", f"version: 1\nenums:\n  e: [ok, {'x' * 64}]\n",
     "e: [ok,", "is 64 bytes; PostgreSQL takes at most 63"),
    ("identity with a default", TABLE.replace("int}", "int, identity: always, default: '1'}"),
     "identity: always", "only one of `default` and `identity`"),
    ("identity on a serial", TABLE.replace("int}", "bigserial, identity: always}"),
     "identity: always", "(a serial type's sequence is its default)"),
    ("generated with a default", TABLE.replace("int}", "int, default: '1', generated: a}"),
     "generated: a", "only one of `default` and `generated`"),
    ("identity on text", TABLE.replace("int}", "text, identity: always}"),
     "identity: always", "an identity column is smallint, integer or bigint, not text"),
    ("initially deferred", TABLE + "    foreign_keys:\n      k: {columns: [a], references: "
     "{table: t, columns: [a]}, initially_deferred: true}\n",
     "initially_deferred: true", "`initially_deferred: true` needs `deferrable: true`"),
    ("a name holding NUL", TABLE.replace("{a:", '{"a\\0":'), '"a\\0"', "a NUL character"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("field", "text", "points_at", "words"), FIELDS, ids=[f[0] for f in FIELDS]
)
def test_fields_that_reach_sql_are_validated_at_load(
    field: str, text: str, points_at: str, words: str
) -> None:
    error = _position_error(text)
    assert error.line is not None
    assert error.column is not None
    assert _at(text, error.line, error.column).startswith(points_at), str(error)
    assert words in str(error)


# Fields PostgreSQL reads as one expression of their kind: `invalid-expression` makes the lock
# invalid, so every command stops at them (exit 2 at the entry, no connection).
EXPRESSION_FIELDS = {
    # field: (the lock's last line, what the error points at)
    "index operator class": (
        "    indexes: {i: {columns: ['a text_pattern_ops); DROP y; --']}}\n",
        "indexes:",
    ),
    "index collation": (
        "    indexes: {i: {columns: ['a COLLATE \"C\"); DROP TABLE y; --']}}\n",
        "indexes:",
    ),
    "index ordering": (
        "    indexes: {i: {columns: ['a DESC NULLS FIRST; DROP TABLE y']}}\n",
        "indexes:",
    ),
    "index predicate": (
        "    indexes: {i: {columns: [a], where: 'a > 0) WITH (fillfactor=1'}}\n",
        "indexes:",
    ),
    "check": ("    checks: {c: 'a > 0) NOT VALID; DROP TABLE y; --'}\n", "checks:"),
    "partition key": ("    partition_by: 'RANGE (a); DROP TABLE y'\n", "t:"),
}


@pytest.mark.parametrize("field", sorted(EXPRESSION_FIELDS))
def test_expression_fields_stop_every_command_at_their_entry(tmp_path: Path, field: str) -> None:
    last_line, points_at = EXPRESSION_FIELDS[field]
    text = "version: 1\ntables:\n  t:\n    columns:\n      a: {type: int}\n" + last_line
    lock = write(tmp_path / "schema_lock.yaml", text)
    for command in COMMANDS.values():
        result = run_cli(*command, "--lock", lock)
        assert result.exit_code == 2, (command, result.stdout + result.stderr)
        where = re.match(
            rf"schemalock: error: {re.escape(lock)}:(\d+):(\d+): .* \[SL006 ", result.stderr
        )
        assert where is not None, result.stderr
        assert _at(text, int(where[1]), int(where[2])).startswith(points_at)


def test_domain_expressions_are_judged_too(tmp_path: Path) -> None:
    lock = write(
        tmp_path / "schema_lock.yaml",
        "version: 1\ndomains:\n  d: {type: int, default: '0; DROP TABLE y'}\n",
    )
    result = run_cli("verify", "--lock", lock, "--database-url", NO_SERVER)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"schemalock: error: {lock}:3:3: default of domain public.d ")


@pytest.mark.parametrize(
    ("fragment", "words"),
    [
        (
            "      a: {type: int, references: t.a, on_delete: 'cascade; DROP TABLE y'}\n",
            "on_delete",
        ),
        ("      a: {type: int, identity: 'always; DROP'}\n", "identity"),
        (
            "      a: {type: int, generated: a, generated_storage: 'stored; x'}\n",
            "generated_storage",
        ),
    ],
)
def test_enumerated_fields_take_only_their_values(fragment: str, words: str) -> None:
    """Regression guard of the audit: these fields were already limited to their values."""
    error = _position_error("version: 1\ntables:\n  t:\n    columns:\n" + fragment)
    assert error.line == 5
    assert error.column is not None
    assert words in str(error)


def test_fix_writes_nothing_for_an_index_method_sqlalchemy_would_refuse(
    database: str, tmp_path: Path
) -> None:
    """`method: 'btree (id); DROP TABLE y; --'` used to pass lint and reach a revision that
    SQLAlchemy then refused (CompileError)."""
    from conftest import execute, query

    execute(database, "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE y (v int)")
    lock = write(
        tmp_path / "schema_lock.yaml",
        "version: 1\ntables:\n  y: {columns: {v: {type: int}}}\n  t:\n"
        "    columns: {id: {type: int, primary_key: true}}\n"
        "    indexes: {t_id: {columns: [id], method: 'btree (id); DROP TABLE y; --'}}\n",
    )
    migrations = tmp_path / "migrations"
    result = run_cli(
        "fix", "--lock", lock, "--database-url", database, "-m", str(migrations), "--apply"
    )
    assert result.exit_code == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"schemalock: error: {lock}:6:37: method ")
    assert not migrations.exists()
    assert query(database, "SELECT count(*) FROM y") == [(0,)]
