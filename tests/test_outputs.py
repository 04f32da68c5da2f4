"""What schemalock writes: never over a file the run reads, whole or not at all (a reader, a full
disk or Ctrl-C sees the old file or the new one), nothing at all when `fix` refuses or fails;
and the options that steer it (`--debug` in either place, `-o` saying what it writes)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main

from conftest import execute, run_cli
from schemalock.check.findings import Coverage, Report
from schemalock.cli import app, output
from schemalock.errors import UsageError
from schemalock.files import replacing
from schemalock.fix import environment

# Nothing listens on port 1: connecting fails at once with exit 3, so exit 2 proves a refusal
# came before any connection.
UNREACHABLE = "postgresql://app:Secr3tPw@127.0.0.1:1/nothing"
CHECK = "SELECT id FROM items WHERE qty < 0\n"
# The table alone: fix refuses it over NULLs in qty.
NULLS_LOCK = """version: 1
database:
  schemas: [public]
tables:
  items:
    columns:
      id: {type: integer, primary_key: true}
      qty: {type: integer, nullable: false}
"""
LOCK = (
    NULLS_LOCK
    + """flows:
  stock:
    path: items
    invariants:
      - name: no_negative_stock
        sql: checks/negative.sql
        table: items
"""
)


def _tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under `folder` with its bytes (None for folders and links)."""
    return {
        str(path.relative_to(folder)): (
            path.read_bytes() if path.is_file() and not path.is_symlink() else None
        )
        for path in sorted(folder.rglob("*"))
    }


def _project(folder: Path) -> Path:
    """A lock whose flow reads a check file, as a project holds them; the lock's path."""
    (folder / "checks").mkdir()
    (folder / "checks" / "negative.sql").write_text(CHECK, encoding="utf-8")
    lock = folder / "schema_lock.yaml"
    lock.write_text(LOCK, encoding="utf-8")
    return lock


def _cli(*args: str, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """`schemalock ARGS` as a process of its own; with `limit`, no file it writes may grow past
    that many bytes (RLIMIT_FSIZE, SIGXFSZ ignored): a write stops half-way, as on a full
    disk."""

    def limited() -> None:
        if limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {
        k: v for k, v in os.environ.items() if k not in ("SCHEMALOCK_DATABASE_URL", "DATABASE_URL")
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "schemalock", *args],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=limited,
        timeout=120,
        check=False,
    )


# --- never over an input ----------------------------------------------------------------------


NAMINGS = ["same name", "dot-relative", "absolute", "symbolic link", "hard link", "check file"]


def _naming(folder: Path, how: str) -> str:
    """`-o` naming an input of the run, `how`; links are made in `folder`."""
    if how == "symbolic link":
        (folder / "report.txt").symlink_to("schema_lock.yaml")
        return "report.txt"
    if how == "hard link":
        os.link(folder / "schema_lock.yaml", folder / "report.txt")
        return "report.txt"
    return {
        "same name": "schema_lock.yaml",
        "dot-relative": "./checks/../schema_lock.yaml",
        "absolute": str(folder / "schema_lock.yaml"),
        "check file": "checks/negative.sql",
    }[how]


@pytest.mark.db
@pytest.mark.parametrize("how", NAMINGS)
def test_an_output_that_is_an_input_is_refused_before_anything_runs(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """`verify -o schema_lock.yaml` replaced the lock with the report (exit 0 or 1)."""
    execute(database, "CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL)")
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    output = _naming(tmp_path, how)
    before = _tree(tmp_path)
    runs = {
        "verify": ("verify", "-d", database),
        "verify json": ("verify", "-d", database, "--format", "json"),
        "verify, no server": ("verify", "-d", UNREACHABLE),
        "lint": ("lint",),
        "lint json": ("lint", "--format", "json"),
        "docs": ("docs",),
        "docs --live, no server": ("docs", "--live", "-d", UNREACHABLE),
    }
    for name, args in runs.items():
        result = run_cli(*args, "-o", output)
        assert result.exit_code == 2, (name, result.stdout, result.stderr)
        assert f"--output {output} is " in result.stderr, name
        assert "this run reads" in result.stderr, name
        assert "Secr3tPw" not in result.stdout + result.stderr
        assert _tree(tmp_path) == before, name
    assert run_cli("lint", "-o", "lint.txt").exit_code == 0  # another file is fine
    assert "No findings" in (tmp_path / "lint.txt").read_text(encoding="utf-8")


# --- whole or not at all ----------------------------------------------------------------------


def _write_half_then_stop(target: Path, seen: list[str]) -> None:
    """Ctrl-C half-way through writing `target`, after a reader looked at it."""
    with replacing(target) as handle:
        handle.write("half of the new")
        handle.flush()
        seen.append(target.read_text(encoding="utf-8"))
        raise KeyboardInterrupt


def test_a_write_interrupted_half_way_keeps_the_old_file(tmp_path: Path) -> None:
    """The file is never seen half-written: not while it is written, not after an interruption."""
    target = tmp_path / "report.txt"
    target.write_text("the old report\n", encoding="utf-8")
    seen: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        _write_half_then_stop(target, seen)
    assert seen == ["the old report\n"]  # what a reader saw meanwhile
    assert target.read_text(encoding="utf-8") == "the old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]  # no temporary file
    with replacing(target) as handle:
        handle.write("the new report\n")
    assert target.read_text(encoding="utf-8") == "the new report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]


@pytest.mark.db
def test_an_output_cut_short_leaves_the_old_file_whole(database: str, tmp_path: Path) -> None:
    """A file size limit stops the write half-way (as a full disk does): `schema -o` and
    `snapshot -o` truncated the file they wrote over and left half of the new one."""
    execute(database, "CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL)")
    old = "# the team's lock, kept\n" + "# " + "x" * 2000 + "\n"
    lock = tmp_path / "schema_lock.yaml"
    lock.write_text(old, encoding="utf-8")
    lock.chmod(0o640)
    (tmp_path / "current.yaml").symlink_to("schema_lock.yaml")
    schema_file = tmp_path / "lock.schema.json"
    schema_file.write_text(old, encoding="utf-8")
    before = _tree(tmp_path)
    for args, target in (
        (("schema", "-o", str(schema_file)), schema_file),
        (("snapshot", "-d", database, "-o", str(tmp_path / "current.yaml")), lock),
    ):
        result = _cli(*args, limit=128)
        assert result.returncode == 2, result.stderr
        assert re.search(r": cannot write: File too large\n\Z", result.stderr), result.stderr
        assert "Traceback" not in result.stderr
        assert target.read_text(encoding="utf-8") == old
        assert _tree(tmp_path) == before  # and no temporary file left
    # Without the limit, a snapshot over a lock is what was asked: replaced whole, keeping the
    # file's permission bits, the link a link.
    result = _cli("snapshot", "-d", database, "-o", str(tmp_path / "current.yaml"))
    assert result.returncode == 0, result.stderr
    assert lock.read_text(encoding="utf-8").startswith("# yaml-language-server")
    assert stat.S_IMODE(lock.stat().st_mode) == 0o640
    assert (tmp_path / "current.yaml").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "current.yaml",
        "lock.schema.json",
        "schema_lock.yaml",
    ]


@contextlib.contextmanager
def _read_only(folder: Path) -> Iterator[list[str]]:
    """`folder` read-only for the command run after the yielded prefix: by its mode for a user,
    by a read-only bind mount in a mount namespace of its own for root (whom modes do not
    stop)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield []
        finally:
            folder.chmod(0o755)
        return
    unshare = shutil.which("unshare")
    probe = [] if unshare is None else [unshare, "--mount", "true"]
    if not probe or subprocess.run(probe, capture_output=True, check=False).returncode != 0:
        pytest.skip("root here cannot make a read-only folder (no mount namespace)")
    mount = 'mount --bind -o ro "$1" "$1" && shift && exec "$@"'
    yield [str(unshare), "--mount", "sh", "-c", mount, "sh", str(folder)]


def test_an_output_into_a_read_only_folder_is_refused_before_connecting(tmp_path: Path) -> None:
    """verify and snapshot connected first (exit 3) and found out only at the end."""
    folder = tmp_path / "reports"
    folder.mkdir()
    lock = _project(tmp_path)
    with _read_only(folder) as prefix:
        for args in (
            ("verify", "--lock", str(lock), "-d", UNREACHABLE, "-o", str(folder / "r.txt")),
            ("lint", "--lock", str(lock), "-o", str(folder / "r.txt")),
            ("snapshot", "-d", UNREACHABLE, "-o", str(folder / "lock.yaml")),
            ("schema", "-o", str(folder / "lock.schema.json")),
        ):
            command = [*prefix, sys.executable, "-m", "schemalock", *args]
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            assert result.returncode == 2, (args, result.stderr)
            [line] = result.stderr.splitlines()
            assert line.startswith(f"schemalock: error: {args[-1]}: cannot write: "), line
            assert line.endswith(("Read-only file system", "Permission denied")), line
            assert "Secr3tPw" not in result.stdout + result.stderr
    assert list(folder.iterdir()) == []


# --- fix writes nothing unless it writes a revision -------------------------------------------


@pytest.mark.db
def test_a_refused_or_failed_fix_writes_nothing(database: str, tmp_path: Path) -> None:
    """A refused fix (NOT NULL over NULLs, exit 5) left migrations/ with five files."""
    execute(
        database,
        "CREATE TABLE items (id int PRIMARY KEY, qty int); INSERT INTO items VALUES (1, NULL)",
    )
    lock = tmp_path / "schema_lock.yaml"
    lock.write_text(NULLS_LOCK, encoding="utf-8")
    before = _tree(tmp_path)
    for url, code in ((database, 5), (UNREACHABLE, 3), ("postgresql://[::1", 2)):
        for migrations in (tmp_path / "migrations", tmp_path / "deep" / "er" / "migrations"):
            result = run_cli("fix", "--lock", str(lock), "-d", url, "--migrations", str(migrations))
            assert result.exit_code == code, result.stderr
            assert _tree(tmp_path) == before
    (tmp_path / "empty").mkdir()
    result = run_cli(
        "fix", "--lock", str(lock), "-d", database, "--migrations", str(tmp_path / "empty")
    )
    assert result.exit_code == 5
    assert "the data or the database forbids" in result.stderr
    assert list((tmp_path / "empty").iterdir()) == []


@pytest.mark.db
def test_a_fix_cut_short_while_writing_leaves_nothing(database: str, tmp_path: Path) -> None:
    """A file size limit stops fix while it writes: it left a half-copied environment (a
    truncated env.py), or a truncated revision in an environment that was already there."""
    execute(database, "CREATE TABLE items (id int PRIMARY KEY)")
    lock = tmp_path / "schema_lock.yaml"
    lock.write_text(NULLS_LOCK.replace("nullable: false", "nullable: true"), encoding="utf-8")
    before = _tree(tmp_path)
    fresh = _cli("fix", "--lock", str(lock), "-d", database, "-m", str(tmp_path / "m"), limit=4096)
    assert fresh.returncode == 2, fresh.stderr
    assert "cannot write" in fresh.stderr
    assert "Traceback" not in fresh.stderr
    assert _tree(tmp_path) == before
    existing = environment.ensure(tmp_path / "m")
    before = _tree(tmp_path)
    cut = _cli("fix", "--lock", str(lock), "-d", database, "-m", str(existing), limit=1024)
    assert cut.returncode == 2, cut.stderr
    assert "cannot write" in cut.stderr
    assert "Traceback" not in cut.stderr
    assert _tree(tmp_path) == before
    done = _cli("fix", "--lock", str(lock), "-d", database, "-m", str(existing))
    assert done.returncode == 0, done.stderr
    [revision] = (existing / "versions").glob("*.py")
    assert "\nHazards:\n" in revision.read_text(encoding="utf-8")  # written whole, at once


def _create_then_stop(target: Path, seen: list[bool]) -> None:
    with environment.creating(target) as staging:
        seen += [(staging / "env.py").is_file(), target.exists()]
        raise RuntimeError("interrupted")


def test_ensure_makes_no_folder_on_failure(tmp_path: Path) -> None:
    """A fresh environment appears whole or not at all, with the folders made for it."""
    target = tmp_path / "a" / "b" / "migrations"
    seen: list[bool] = []
    with pytest.raises(RuntimeError, match="interrupted"):
        _create_then_stop(target, seen)
    assert seen == [True, False]  # the templates were there, the target not yet
    assert list(tmp_path.iterdir()) == []
    with environment.creating(target):
        pass
    assert sorted(p.name for p in target.iterdir()) == [
        "README", "alembic.ini", "env.py", "script.py.mako", "versions",
    ]  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == ["migrations"]
    with pytest.raises(UsageError):
        environment.locate(tmp_path / "a")  # not empty, not an environment: refused


# --- options ------------------------------------------------------------------------------


def test_debug_before_or_after_the_command(tmp_path: Path) -> None:
    """`schemalock verify --debug` was "No such option" (`--debug verify` worked)."""
    lock = _project(tmp_path)
    args = ["verify", "--lock", str(lock), "-d", UNREACHABLE]
    plain = run_cli(*args)
    assert plain.exit_code == 3
    assert "Traceback" not in plain.stderr
    for debug in (["--debug", *args], [*args, "--debug"]):
        traced = run_cli(*debug)
        assert traced.exit_code == 3, traced.stderr
        assert "Traceback (most recent call last)" in traced.stderr
        assert "cannot connect" in traced.stderr
        assert "Secr3tPw" not in traced.stdout + traced.stderr
    assert "Secr3tPw" not in plain.stdout + plain.stderr


def test_every_command_takes_debug_after_its_name() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    assert len(group.commands) >= 9
    for name in group.commands:
        result = run_cli(name, "--debug", "--help", env={"COLUMNS": "200"})
        assert result.exit_code == 0, (name, result.stderr)
        assert "--debug" in result.stdout, name


OUTPUT_HELP = {
    "verify": "Write the report to this file",
    "lint": "Write the report to this file",
    "snapshot": "Write the lock file here instead of to stdout",
    "schema": "Write the JSON Schema here instead of to stdout",
    "docs": "Write the Markdown document here instead of to stdout",
}


def test_output_help_says_what_is_written() -> None:
    """`snapshot`, `schema` and `docs` said "Write the report to this file" for -o."""
    for command, says in OUTPUT_HELP.items():
        result = run_cli(command, "--help", env={"COLUMNS": "200"})
        assert result.exit_code == 0
        [line] = [
            line for line in result.stdout.splitlines() if re.match(r"\W*(-o, )?--output ", line)
        ]
        assert says in line, command
        assert ("report" in line) == (command in ("verify", "lint")), command


def test_a_regular_file_under_dev_is_replaced_not_appended_to(tmp_path: Path) -> None:
    """`/dev/shm/report.json` is a file like any other: a second `-o` replaces it whole (only
    descriptors, devices and pipes are written through)."""
    if not os.path.isdir("/dev/shm") or not os.access("/dev/shm", os.W_OK):
        pytest.skip("no writable /dev/shm here")
    target = Path("/dev/shm") / f"schemalock-test-{os.getpid()}-{tmp_path.name}.json"
    try:
        for _ in range(2):
            assert run_cli("schema", "-o", str(target)).exit_code == 0
        json.loads(target.read_text(encoding="utf-8"))  # one document, not two
    finally:
        target.unlink(missing_ok=True)


def test_a_file_being_written_is_its_owners_alone_until_it_is_whole(tmp_path: Path) -> None:
    """The temporary file is 0600 while it is written; the result then takes the old file's
    mode (a private report stays private) or a new file's (0666 less the umask)."""
    private, new = tmp_path / "private.txt", tmp_path / "new.txt"
    private.write_text("old")
    private.chmod(0o600)
    for target in (private, new):
        with replacing(target) as handle:
            handle.write("new")
            [temporary] = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
            assert stat.S_IMODE(temporary.stat().st_mode) == 0o600
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~umask
    assert private.read_text() == new.read_text() == "new"


def _printed(report: Report, env: dict[str, str]) -> str:
    """What print_text writes to a standard output that is no terminal, under `env`."""
    out = io.StringIO()
    with _environment(env), contextlib.redirect_stdout(out):
        output.print_text(report)
    return out.getvalue()


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "SCHEMALOCK_COLOR"):
        os.environ.pop(name, None)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _by_rich(report: Report) -> str:
    from rich.console import Console

    from schemalock.render import text

    out = io.StringIO()
    text.render(report, Console(file=out, color_system=None, highlight=False))
    return out.getvalue()


CLEAN = [
    Report(lock_path="schema_lock.yaml", target_url="postgresql://app@db/prod", duration_ms=41),
    Report(command="lint", lock_path="locks/schema lock é.yaml", duration_ms=3),
    Report(
        lock_path="schema_lock.yaml",
        target_url="postgresql://app@db/prod",
        coverage=Coverage(uncovered=()),
    ),
]


@pytest.mark.parametrize("report", CLEAN, ids=["verify", "lint", "nothing uncovered"])
def test_a_clean_text_report_is_what_rich_prints(report: Report) -> None:
    plain = _printed(report, {})
    assert plain == _by_rich(report)
    assert plain.startswith("No findings: ")
    assert plain.count("\n") == 1
    assert _printed(report, {"NO_COLOR": "1"}) == plain


@pytest.mark.parametrize("env", [{"TTY_COMPATIBLE": "1"}, {"FORCE_COLOR": "1"}])
def test_a_clean_report_to_what_rich_calls_a_terminal_is_coloured_by_rich(
    env: dict[str, str],
) -> None:
    coloured = _printed(CLEAN[0], env)
    assert "\x1b[" in coloured  # rich's green
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == _by_rich(CLEAN[0])


def test_a_report_with_more_than_its_summary_line_is_rich_s() -> None:
    uncovered = Report(
        lock_path="schema_lock.yaml",
        target_url="postgresql://app@db/prod",
        coverage=Coverage(uncovered=(("event trigger", "audit_ddl"),)),
    )
    control = Report(command="lint", lock_path="lock\tfile.yaml")
    for report in (uncovered, control):
        assert _printed(report, {}) == _by_rich(report)
    assert "not covered (1)" in _printed(uncovered, {})


def _lint_in_a_process(tmp_path: Path, env: dict[str, str]) -> list[str]:
    lock = tmp_path / "schema_lock.yaml"
    lock.write_text(
        "version: 1\ntables:\n  t:\n    columns:\n      id: {type: bigint, primary_key: true}\n",
        encoding="utf-8",
    )
    script = (
        "import sys\n"
        "from schemalock.cli.application import run\n"
        f"sys.argv = ['schemalock', 'lint', '--lock', {str(lock)!r}]\n"
        "code = run()\n"
        "print(code, 'rich' in sys.modules, 'schemalock.usersql' in sys.modules)\n"
    )
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def test_a_clean_run_prints_its_line_without_importing_rich_or_the_sandbox(tmp_path: Path) -> None:
    said, ran = _lint_in_a_process(tmp_path, {})
    assert said.startswith("No findings: ")
    # Nor the SQL sandbox: the lock has no flows or query contracts.
    assert ran.split() == ["0", "False", "False"]
    coloured, ran = _lint_in_a_process(tmp_path, {"TTY_COMPATIBLE": "1"})
    assert ran.split() == ["0", "True", "False"]
    timeless = [re.sub(r"\(\d+ ms\)", "", line) for line in (said, coloured)]
    assert re.sub(r"\x1b\[[0-9;]*m", "", timeless[1]) == timeless[0]
