"""The compiled-lock cache: a lock read before comes back as the model a parse gives, and
anything that is not exactly that (an edit, another version, a damaged or foreign entry, a
folder others may write) is a parse, silently."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from schemalock.check import validity
from schemalock.errors import LockFileError
from schemalock.lock import cache, load_lock, parse_lock
from schemalock.model import Lock

SEED = ROOT / "src" / "schemalock" / "seed" / "schema_lock.yaml"
SQL_CHECK = (
    "      - name: one_active_subscription\n"
    "        sql: checks/one_active_subscription.sql\n"
    "        table: subscriptions\n"
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own cache folder (not yet made: the first write makes it)."""
    where = tmp_path / "cache"
    monkeypatch.setenv(cache.DIR_ENV, str(where))
    monkeypatch.delenv(cache.OFF_ENV, raising=False)
    return where


def _seed_without_check_files(tmp_path: Path) -> Path:
    """The seed lock (every section: tables, enums, flows, queries, functions, triggers) but
    its one flow check kept in a .sql file, which keeps a lock out of the cache."""
    text = SEED.read_text(encoding="utf-8")
    assert SQL_CHECK in text
    lock = tmp_path / "project" / "schema_lock.yaml"
    lock.parent.mkdir()
    lock.write_text(text.replace(SQL_CHECK, ""), encoding="utf-8")
    return lock


def _parsed(path: Path) -> Lock:
    raw = path.read_bytes()
    return parse_lock(raw.decode("utf-8-sig"), str(path), hashlib.sha256(raw).hexdigest())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _entries(where: Path) -> list[Path]:
    """The models kept (not the findings kept beside them)."""
    if not where.exists():
        return []
    return sorted(p for p in where.glob("*.pickle") if not p.stem.endswith("-findings"))


def _findings_entries(where: Path) -> list[Path]:
    return sorted(where.glob("*-findings.pickle")) if where.exists() else []


def test_a_cached_model_is_the_parsed_model(tmp_path: Path, folder: Path) -> None:
    path = _seed_without_check_files(tmp_path)
    assert cache.get(_digest(path), str(path)) is None
    first = load_lock(str(path))  # parsed, and kept
    [entry] = _entries(folder)
    cached = cache.get(_digest(path), str(path))
    assert cached is not None
    assert cached == first == _parsed(path)
    assert repr(cached) == repr(_parsed(path))  # fields left out of == too
    assert load_lock(str(path)) == first
    assert _entries(folder) == [entry]  # a hit writes nothing new
    # The same bytes elsewhere are the same model, named by where they are now.
    moved = tmp_path / "elsewhere.yaml"
    shutil.copyfile(path, moved)
    again = load_lock(str(moved))
    assert again.path == str(moved)
    assert again == _parsed(moved)
    assert _entries(folder) == [entry]


def test_the_folder_is_private_and_entries_whole(tmp_path: Path, folder: Path) -> None:
    load_lock(str(_seed_without_check_files(tmp_path)))
    assert folder.stat().st_mode & 0o777 == 0o700
    [entry] = _entries(folder)
    assert entry.stat().st_mode & 0o077 == 0
    assert [p.name for p in folder.iterdir()] == [entry.name]  # no temporary file left


def test_an_edit_is_parsed_again(tmp_path: Path, folder: Path) -> None:
    path = _seed_without_check_files(tmp_path)
    load_lock(str(path))
    text = path.read_text(encoding="utf-8")
    column = "      name: {type: text, nullable: false, comment: Organization display name}\n"
    assert column in text
    path.write_text(text.replace(column, ""), "utf-8")
    assert cache.get(_digest(path), str(path)) is None
    edited = load_lock(str(path))
    assert edited == _parsed(path)
    assert edited.database.tables[("public", "organizations")].column("name") is None
    assert len(_entries(folder)) == 2


def test_another_version_or_code_is_a_miss(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _seed_without_check_files(tmp_path)
    load_lock(str(path))
    assert cache.get(_digest(path), str(path)) is not None
    with monkeypatch.context() as patched:
        patched.setattr(cache, "__version__", "99.0.0")
        assert cache.get(_digest(path), str(path)) is None
    with monkeypatch.context() as patched:
        patched.setattr(cache, "_CODE", ["another copy of the loader"])
        assert cache.get(_digest(path), str(path)) is None
    assert cache.get(_digest(path), str(path)) is not None


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "another key", "not a lock"])
def test_a_damaged_entry_is_ignored(tmp_path: Path, folder: Path, damage: str) -> None:
    path = _seed_without_check_files(tmp_path)
    load_lock(str(path))
    [entry] = _entries(folder)
    whole = entry.read_bytes()
    header, _, body = whole.partition(b"\n")
    if damage == "garbage":
        entry.write_bytes(b"\x80\x05not a pickle at all")
    elif damage == "truncated":
        entry.write_bytes(whole[: len(whole) // 2])
    elif damage == "empty":
        entry.write_bytes(b"")
    else:
        key, lock = pickle.loads(body)
        forged = ("0" * 64, lock) if damage == "another key" else (key, {"not": "a lock"})
        entry.write_bytes(header + b"\n" + pickle.dumps(forged))
    assert cache.get(_digest(path), str(path)) is None
    assert load_lock(str(path)) == _parsed(path)  # parsed, without a word
    assert cache.get(_digest(path), str(path)) == _parsed(path)  # and kept again


def test_the_variable_turns_it_off(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _seed_without_check_files(tmp_path)
    monkeypatch.setenv(cache.OFF_ENV, "1")
    assert load_lock(str(path)) == _parsed(path)
    assert not folder.exists()
    monkeypatch.setenv(cache.OFF_ENV, "0")  # "0" leaves it on
    load_lock(str(path))
    assert len(_entries(folder)) == 1


def test_the_default_folder_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cache.DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.folder() == tmp_path / "xdg" / "schemalock"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.folder() == tmp_path / "home" / ".cache" / "schemalock"


def test_a_folder_others_may_touch_is_not_used(tmp_path: Path, folder: Path) -> None:
    path = _seed_without_check_files(tmp_path)
    load_lock(str(path))
    [entry] = _entries(folder)
    for mode in (0o755, 0o770, 0o707):
        folder.chmod(mode)
        assert cache.get(_digest(path), str(path)) is None, oct(mode)
    folder.chmod(0o700)
    entry.chmod(0o666)  # an entry others may write
    assert cache.get(_digest(path), str(path)) is None
    entry.chmod(0o600)
    assert cache.get(_digest(path), str(path)) is not None
    # Nor is a folder reached through a symbolic link, nor an entry that is one.
    link = tmp_path / "link"
    link.symlink_to(folder)
    os.environ[cache.DIR_ENV] = str(link)  # the fixture's monkeypatch restores it
    assert cache.get(_digest(path), str(path)) is None
    os.environ[cache.DIR_ENV] = str(folder)
    moved = folder / "real.bin"
    entry.rename(moved)
    entry.symlink_to(moved)
    assert cache.get(_digest(path), str(path)) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_an_entry_another_user_owns_is_not_used(tmp_path: Path, folder: Path) -> None:
    path = _seed_without_check_files(tmp_path)
    load_lock(str(path))
    [entry] = _entries(folder)
    os.chown(entry, 65534, 65534)
    assert cache.get(_digest(path), str(path)) is None
    os.chown(entry, 0, 0)
    os.chown(folder, 65534, 65534)
    assert cache.get(_digest(path), str(path)) is None


def test_a_lock_with_an_error_is_never_kept(tmp_path: Path, folder: Path) -> None:
    path = tmp_path / "schema_lock.yaml"
    path.write_text("version: 1\ntables:\n  a: {}\n  a: {}\n", encoding="utf-8")
    for _ in range(2):  # the second time too: from a parse, with its line
        with pytest.raises(LockFileError, match=r"schema_lock.yaml:4:3: duplicate key 'a'"):
            load_lock(str(path))
    assert _entries(folder) == []


def test_a_lock_reading_check_files_is_never_kept(tmp_path: Path, folder: Path) -> None:
    project = tmp_path / "seed"
    shutil.copytree(SEED.parent, project, ignore=shutil.ignore_patterns("__pycache__"))
    path = project / "schema_lock.yaml"
    check = project / "checks" / "one_active_subscription.sql"
    first = load_lock(str(path))
    assert _entries(folder) == []
    check.write_text("SELECT 1 AS edited WHERE false\n", encoding="utf-8")
    edited = load_lock(str(path))
    assert edited != first
    assert "edited" in repr(edited)


def test_old_entries_are_removed(tmp_path: Path, folder: Path) -> None:
    path = tmp_path / "schema_lock.yaml"
    for number in range(cache.KEEP + 3):
        path.write_text(f"version: 1\ntables:\n  t{number}: {{}}\n", encoding="utf-8")
        load_lock(str(path))
    assert len(_entries(folder)) == cache.KEEP
    assert cache.get(_digest(path), str(path)) is not None  # the newest is kept


def test_the_cli_says_the_same_from_the_cache(tmp_path: Path, folder: Path) -> None:
    path = str(_seed_without_check_files(tmp_path))
    cold = run_cli("lint", "--lock", path, "--format", "json")
    assert len(_entries(folder)) == len(_findings_entries(folder)) == 1
    warm = run_cli("lint", "--lock", path, "--format", "json")
    timeless = [re.sub(r'"duration_ms": \d+', "", r.stdout) for r in (cold, warm)]
    assert timeless[0] == timeless[1]
    assert (warm.exit_code, warm.stderr) == (cold.exit_code, cold.stderr)
    assert '"findings"' in cold.stdout


def test_a_killed_writers_temporary_file_is_removed_once_old(tmp_path: Path, folder: Path) -> None:
    path = tmp_path / "schema_lock.yaml"
    path.write_text("version: 1\ntables:\n  t: {}\n", encoding="utf-8")
    load_lock(str(path))
    old, running = folder / ".tmp-old.pickle", folder / ".tmp-running.pickle"
    old.write_bytes(b"half an entry")
    running.write_bytes(b"being written")
    os.utime(old, (0, 0))  # 1970: long dead
    path.write_text("version: 1\ntables:\n  u: {}\n", encoding="utf-8")
    load_lock(str(path))  # a write, which tidies up
    assert not old.exists()
    assert running.exists()


# A lock whose own rules find something: an error (SL001, a reference to no table) and a
# warning (SL004, fewer tables than it says it has).
JUDGED = (
    "version: 1\n"
    "database: {expected_tables: 3}\n"
    "tables:\n"
    "  orders:\n"
    "    columns:\n"
    "      id: {type: bigint, primary_key: true}\n"
    "      customer_id: {type: bigint, references: customers.id}\n"
)


def _judge(path: Path) -> list[tuple[str, int | None, str]]:
    found = validity.offline_findings(load_lock(str(path)))
    return [(f.code, f.lock_line, f.message) for f in found]


def test_the_findings_of_a_lock_are_kept_and_found_again(tmp_path: Path, folder: Path) -> None:
    path = tmp_path / "schema_lock.yaml"
    path.write_text(JUDGED, encoding="utf-8")
    first = _judge(path)
    assert {code for code, _, _ in first} == {"SL001", "SL004"}
    [entry] = _findings_entries(folder)
    assert _judge(path) == first  # read back: the same findings, lines and all
    # What comes back is the entry's: an entry saying otherwise is believed, so a hit runs no
    # rule (entries are private to their user; see test_an_entry_another_user_owns...).
    cache._write_entry(entry.stem, [])
    assert _judge(path) == []
    path.write_text(JUDGED.replace("customers.id", "orders.id"), encoding="utf-8")
    assert [code for code, _, _ in _judge(path)] == ["SL004"]  # other bytes: judged again


def test_findings_are_kept_only_for_a_lock_read_from_its_file(tmp_path: Path, folder: Path) -> None:
    path = tmp_path / "schema_lock.yaml"
    path.write_text(JUDGED, encoding="utf-8")
    first = _judge(path)
    [entry] = _findings_entries(folder)
    cache._write_entry(entry.stem, [])
    # The same bytes, made into a model otherwise (parse_lock): never taken for the file's.
    parsed = _parsed(path)
    assert [(f.code, f.lock_line, f.message) for f in validity.offline_findings(parsed)] == first


@pytest.mark.parametrize("damage", ["garbage", "not a list"])
def test_a_damaged_findings_entry_is_judged_again(
    tmp_path: Path, folder: Path, damage: str
) -> None:
    path = tmp_path / "schema_lock.yaml"
    path.write_text(JUDGED, encoding="utf-8")
    first = _judge(path)
    [entry] = _findings_entries(folder)
    if damage == "garbage":
        entry.write_bytes(b"schemalock-lock-cache 1\n" + os.urandom(64))
    else:
        cache._write_entry(entry.stem, {"findings": []})
    assert _judge(path) == first


def test_a_kept_judgement_still_plans_the_flows_before_any_transaction(
    tmp_path: Path, folder: Path
) -> None:
    from schemalock.usersql import flows

    project = tmp_path / "seed"
    shutil.copytree(SEED.parent, project, ignore=shutil.ignore_patterns("__pycache__"))
    path = project / "schema_lock.yaml"
    path.write_text(SEED.read_text(encoding="utf-8").replace(SQL_CHECK, ""), encoding="utf-8")
    _judge(path)
    assert _findings_entries(folder)
    lock = load_lock(str(path))  # from the cache: a model no plan was made for yet
    invariants = [i for flow in lock.flows for i in flow.invariants]
    assert invariants
    assert not any(flows._memo.outcomes.get(id(i), (None,))[0] is i for i in invariants)
    validity.offline_findings(lock)
    assert all(flows._memo.outcomes[id(i)][0] is i for i in invariants)
