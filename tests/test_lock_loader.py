"""Loading schema_lock.yaml: bad input gives `file:line:col: message` and exit 2, never a
traceback and never a database connection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT, run_cli, write
from schemalock.errors import LockFileError
from schemalock.lock import load_lock, parse_lock
from schemalock.model import OWNED_SEQUENCE

# A port nothing listens on: if the CLI tried to connect, the exit code would be 3, not 2.
NO_SERVER = "postgresql://nobody:secret@127.0.0.1:9/nothing"


def _error(text: str) -> LockFileError:
    with pytest.raises(LockFileError) as caught:
        parse_lock(text, "schema_lock.yaml")
    return caught.value


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        (
            "version: 1\ntables:\n  jobs: {columns: {id: {type: 'uuid}}}\n",
            3,
            "while scanning a quoted scalar: found unexpected end of stream",
        ),
        ("version: 1\ntables:\n\tjobs: {}\n", 3, "a tab character; YAML is indented with spaces"),
        (
            "version: 1\ntables:\n  jobs: {}\n  users: {}\n  jobs: {}\n",
            5,
            "duplicate key 'jobs' (first at line 3, again at line 5)",
        ),
        (
            "version: 1\ntables:\n  jobs:\n    columns:\n      id: {type: strng}\n",
            5,
            "unknown type 'strng'; did you mean 'text'",
        ),
        ("version: 1\ntables:\n  jobs:\n    colums: {}\n", 4, "unknown key 'colums'"),
        (
            "version: 1\ntables:\n  jobs:\n    columns:\n      id: {type: uuid, nullable: maybe}\n",
            5,
            "nullable",
        ),
        ("version: 99\ntables: {}\n", 1, "written by a newer schemalock"),
        ("tables: {}\n", 1, "missing `version: 1`"),
        ("- a\n- b\n", 1, "a lock file is a mapping"),
        ("version: 1\ntables: !!python/object/apply:os.system [id]\n", 2, "unsupported tag"),
        (
            "version: 1\ntables:\n  a: {columns: {x: {type: int}}}\n  public.a: {columns: {}}\n",
            4,
            "listed twice",
        ),
        (
            "version: 1\ntables:\n  t:\n    columns:\n      id: {type: int, primary_key: true}\n"
            "    primary_key: [id]\n",
            6,
            "primary key given both",
        ),
        (
            "version: 1\ntables:\n  t: {columns: {id: {type: serial, default: '1'}}}\n",
            3,
            "serial column has its sequence as default",
        ),
    ],
)
def test_bad_lock_files(text: str, line: int, needle: str) -> None:
    error = _error(text)
    assert error.line == line, str(error)
    assert needle in str(error)
    assert str(error).startswith(f"schema_lock.yaml:{line}:")


def test_did_you_mean_suggests_a_real_type() -> None:
    assert "did you mean 'timestamptz'" in str(
        _error("version: 1\ntables: {t: {columns: {a: {type: timestampz}}}}\n")
    )


def test_alias_bomb_is_refused_quickly() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    error = _error("version: 1\n" + "\n".join(levels) + "\ntables: {}\n")
    assert "alias bomb" in str(error)


def test_yaml_11_words_stay_strings() -> None:
    lock = parse_lock(
        "version: 1\ntables:\n  on:\n    columns:\n      no: {type: text, values: [yes, no, on]}\n"
        "      null: {type: int, default: 0123}\n"
    )
    table = lock.database.tables[("public", "on")]
    assert [c.name for c in table.columns] == ["no", "null"]
    assert table.columns[0].values == ("yes", "no", "on")
    assert table.columns[1].default == "0123"


def test_scalars_become_sql_text() -> None:
    lock = parse_lock(
        "version: 1\ntables:\n  t:\n    columns:\n"
        "      a: {type: int, default: 0}\n      b: {type: boolean, default: false}\n"
    )
    assert [c.default for c in lock.database.tables[("public", "t")].columns] == ["0", "false"]


def test_model_of_a_rich_fragment() -> None:
    lock = parse_lock("""version: 1
database: {schemas: [public, billing]}
enums: {billing.status: [open, paid]}
tables:
  billing.invoices:
    columns:
      id: {type: serial, primary_key: true}
      status: {type: billing.status}
      org_id: {type: uuid, references: public.organizations.id, on_delete: cascade}
      total: {type: "numeric(12, 2)"}
  organizations:
    columns:
      id: {type: uuid, primary_key: true}
  '"a.b"':
    columns:
      x: {type: int4}
""")
    invoices = lock.database.tables[("billing", "invoices")]
    assert invoices.column("id") is not None
    assert invoices.columns[0].type == "integer"
    assert invoices.columns[0].default == OWNED_SEQUENCE
    assert not invoices.columns[0].nullable
    assert invoices.columns[1].type == "billing.status"
    assert invoices.columns[3].type == "numeric(12,2)"
    fk = invoices.foreign_keys[0]
    assert (fk.ref_schema, fk.ref_table, fk.ref_columns, fk.on_delete) == (
        "public",
        "organizations",
        ("id",),
        "cascade",
    )
    assert invoices.line == 5
    assert invoices.columns[2].line == 9
    assert ("public", "a.b") in lock.database.tables


def test_encoding(tmp_path: Path) -> None:
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfversion: 1\r\ntables: {}\r\n")
    assert load_lock(str(bom)).database.tables == {}
    broken = tmp_path / "broken.yaml"
    broken.write_bytes(b"version: 1\ntables:\n  caf\xe9: {}\n")
    with pytest.raises(LockFileError, match=r"broken.yaml:3:6: invalid UTF-8 at byte 24"):
        load_lock(str(broken))


@pytest.mark.parametrize("kind", ["missing", "directory", "empty", "comments"])
def test_unusable_paths(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "schema_lock.yaml"
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_text("")
    elif kind == "comments":
        path.write_text("# nothing here\n")
    result = run_cli("verify", "--lock", str(path), "--database-url", NO_SERVER)
    assert result.exit_code == 2
    expected = {
        "missing": "no such file",
        "directory": "is a directory",
        "empty": "lock file is empty",
        "comments": "lock file is empty",
    }[kind]
    assert expected in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_cli_reports_lock_error_before_connecting(tmp_path: Path) -> None:
    lock = write(tmp_path / "schema_lock.yaml", "version: 1\ntables:\n  a: {}\n  a: {}\n")
    result = run_cli("verify", "--lock", lock, "--database-url", NO_SERVER)
    assert result.exit_code == 2
    assert result.stderr == (
        f"schemalock: error: {lock}:4:3: duplicate key 'a' (first at line 3, again at line 4)\n"
    )
    assert "secret" not in result.stderr


def test_readme_example_is_a_valid_lock(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The lock file") :]
    example = section[section.index("```yaml\n") + 8 : section.index("```\n", 10)]
    lock = write(tmp_path / "schema_lock.yaml", example)
    result = run_cli("lint", "--lock", lock, "--format", "json")
    rules = [f["rule"] for f in json.loads(result.stdout)["findings"]]
    assert rules == ["table-count-mismatch"], result.stdout
    # Editors validate with the committed JSON Schema: it must accept the same file.
    import jsonschema
    import yaml

    schema = json.loads((ROOT / "schema_lock.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(yaml.safe_load(example))


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        ("version: 1\ntables: []\n", 2, "a mapping of table names is expected"),
        ("version: 1\ntables: {t: {duplicate_of: '\"x', columns: {}}}\n", 2, "unterminated quote"),
        ("version: 1\ntables: {'\"a\"b': {columns: {}}}\n", 2, "text after a closing quote"),
        ("version: 1\ntables: !!map {}\nenums: {e: [!!int '3']}\n", 3, "explicit tag"),
    ],
)
def test_more_bad_lock_files(text: str, line: int, needle: str) -> None:
    error = _error(text)
    assert error.line == line, str(error)
    assert needle in str(error)


def test_non_specific_tag_is_a_string() -> None:
    lock = parse_lock("version: 1\nenums: {e: [! 12, '13']}\n")
    assert lock.database.enums[("public", "e")].labels == ("12", "13")


@pytest.mark.parametrize(
    "value",
    [
        "0o17",
        "1e5",
        "1.0e5",
        "-.5e3",
        "no",
        "yes",
        "null",
        "~",
        "",
        "0123",
        "true",
        "0x1F",
        "multi\nline",
        "it's",
        ": colon",
        "#hash",
        "- dash",
        "a: b",
        "[x]",
        "{y}",
        "ünïcödé",
    ],
)
def test_written_strings_read_back_unchanged(value: str) -> None:
    import yaml

    from schemalock.lock import yamlsafe
    from schemalock.lock.yaml_style import Dumper as _Dumper

    text = yaml.dump({"labels": [value]}, Dumper=_Dumper, allow_unicode=True)
    assert yamlsafe.load(text)[0] == {"labels": [value]}
