"""Mock data in production: every detector finds its kind, exact counts, redacted samples, and
realistic data (Hammock, Testament, UUIDs inside JSON) gives nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import execute, query, run_cli, write
from test_roundtrip import snapshot

pytestmark = pytest.mark.db

PEOPLE = """
CREATE TABLE people (id int PRIMARY KEY, name text, email varchar(200), payload jsonb,
                     ref uuid, bio text, notes json);
INSERT INTO people VALUES
 (1, 'Jane Doe', 'jane@example.com',
  '{"source": "mock", "id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}',
  '00000000-0000-0000-0000-000000000000', 'mock data', '{"env": "test"}'),
 (2, 'Ann Hammock', 'ann@gmail.com',
  '{"source": "crm", "hash": "5d41402abc4b2a76b9719d911017c592"}',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'Last Will and Testament', '{"a": 1}'),
 (3, 'Tom Fakenham', 'tom@example.company.com', '{"is_test": false}',
  'b1eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', 'Protest attestation', null),
 (4, 'Test User', 'qa@MAILINATOR.com', '{"is_test": true}',
  '123e4567-e89b-12d3-a456-426614174000', 'Lorem ipsum dolor', null),
 (5, 'Bob Dummy', 'bob@test.com', '{"mock":true}',
  'ffffffff-ffff-ffff-ffff-ffffffffffff', 'FAKE news', null),
 (6, 'Maria Jones', 'maria@examples.com', null, null, 'dummyvalue', null);
"""


def _report(database: str, lock: str, *options: str) -> Any:
    result = run_cli(
        "verify",
        "--lock",
        lock,
        "--database-url",
        database,
        "--format",
        "json",
        "--select",
        "mock-data",
        *options,
    )
    report = json.loads(result.stdout)
    report["exit_code"] = result.exit_code
    return report


def test_each_detector_and_nothing_else(database: str, tmp_path: Path) -> None:
    execute(database, PEOPLE)
    lock = tmp_path / "lock.yaml"
    snapshot(database, lock)
    report = _report(database, str(lock))
    found = {f["column"]: (f["count"], f["actual"]) for f in report["findings"]}
    assert found == {
        "name": (3, ["mock-word", "placeholder-person"]),
        "email": (3, ["reserved-email"]),
        "payload": (3, ["json-marker"]),
        "notes": (1, ["json-marker"]),
        "ref": (3, ["fixture-uuid"]),
        "bio": (3, ["mock-word"]),
    }
    samples = {f["column"]: f["samples"] for f in report["findings"]}
    assert sorted(samples["email"]) == ["b***@test.com", "j***@example.com", "q***@MAILINATOR.com"]
    assert report["exit_code"] == 1


def test_lock_switches_detectors_off(database: str, tmp_path: Path) -> None:
    execute(database, PEOPLE)
    lock = tmp_path / "lock.yaml"
    text = snapshot(database, lock)
    text = text.replace("      bio: {type: text}", "      bio: {type: text, mock_data: false}")
    lock.write_text(text, encoding="utf-8")
    columns = {f["column"] for f in _report(database, str(lock))["findings"]}
    assert "bio" not in columns
    assert "name" in columns
    lock.write_text(text.replace("  people:\n", "  people:\n    mock_data: false\n"), "utf-8")
    assert _report(database, str(lock))["findings"] == []


def test_realistic_data_gives_nothing(database: str, tmp_path: Path) -> None:
    """Thousands of realistic rows, snapshot then verify: no finding of any rule."""
    execute(
        database,
        """
        CREATE TABLE organizations (
            id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
            clerk_org_id text NOT NULL UNIQUE,
            name text NOT NULL,
            billing_email text,
            settings jsonb NOT NULL DEFAULT '{}');
        CREATE TABLE documents (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            org_id uuid NOT NULL REFERENCES organizations (id),
            title text NOT NULL,
            author text,
            body text,
            metadata jsonb);
        CREATE INDEX documents_org_id_idx ON documents (org_id);
        INSERT INTO organizations (clerk_org_id, name, billing_email, settings)
        SELECT 'org_2' || substr(md5(g::text), 1, 24),
               (ARRAY['Hammock', 'Fakenham', 'Testa', 'Mockler', 'Dummett', 'Doerr', 'Protess',
                      'Atkinson', 'Nguyen', 'Okafor'])[1 + g % 10] || ' ' ||
               (ARRAY['Holdings', 'Partners', 'Labs', 'Studio', 'Logistics'])[1 + g % 5],
               lower((ARRAY['ana', 'jon', 'li', 'sam', 'eve'])[1 + g % 5]) || g || '@' ||
               (ARRAY['gmail.com', 'outlook.com', 'acme.io', 'example-corp.com',
                      'testament.org', 'mockingbird.co.uk'])[1 + g % 6],
               jsonb_build_object('source', 'crm', 'request_id', gen_random_uuid(),
                                  'checksum', md5(g::text), 'fake_count', 0, 'tested', true)
        FROM generate_series(1, 600) g;
        INSERT INTO documents (org_id, title, author, body, metadata)
        SELECT o.id,
               (ARRAY['Last Will and Testament', 'Protest permit', 'Attestation of origin',
                      'Hammock assembly guide', 'Quarterly contest results'])[1 + n % 5],
               (ARRAY['John Doerr', 'Jane Dough', 'Ed Mockler', 'Ann Fakenham', 'Li Testa'])
                   [1 + n % 5],
               'Contested test-driven review of the mockup; dummies excluded.',
               jsonb_build_object('trace', gen_random_uuid(), 'sha', md5(n::text),
                                  'env', 'production', 'is_testament', true)
        FROM organizations o, generate_series(1, 5) n;
    """,
    )
    lock = tmp_path / "lock.yaml"
    snapshot(database, lock)
    result = run_cli(
        "verify",
        "--lock",
        str(lock),
        "--database-url",
        database,
        "--format",
        "json",
        "--fail-on",
        "info",
    )
    report = json.loads(result.stdout)
    assert report["findings"] == [], [f["message"] for f in report["findings"]]
    assert report["inconclusive"] == []
    assert result.exit_code == 0


def test_samples_are_bound_and_redacted(database: str, tmp_path: Path) -> None:
    execute(
        database,
        "CREATE TABLE t (id int PRIMARY KEY, email text);"
        " INSERT INTO t VALUES (1, 'x''); DROP TABLE t; --@example.com')",
    )
    lock = write(
        tmp_path / "lock.yaml",
        "version: 1\ntables:\n  t:\n    columns:\n"
        "      id: {type: int, primary_key: true}\n      email: {type: text}\n",
    )
    [finding] = _report(database, lock)["findings"]
    assert finding["samples"] == ["x'); DROP TABLE t; -***@example.com"]
    assert query(database, "SELECT count(*) FROM t") == [(1,)]  # the value stayed data


CORPUS = {
    "text": [
        "MoCk data", "a FAKE", "DUMMY", "Lorem Ipsum dolor", "TEST USER 4", "jOhN dOe",
        "jane  doe", "Hammock", "Fakenham", "unmocked", "mock_data", "100% fake", "mock%",
        "\uff2d\uff4f\uff43\uff4b", "Mockéry", "x@EXAMPLE.COM", "x@example.company", "plain",
        "", "@",
    ],
    "json": [
        '{"source": "MOCK"}', '{"Mock": TRUE}', '{"is_test": true}', '{"env": "prod"}',
        '{"mail": "a@example.com"}', '{"testament": true}', '{"fake_count": 0}',
    ],
    "uuid": [
        "00000000-0000-0000-0000-000000000000", "123e4567-e89b-12d3-a456-426614174000",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    ],
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(CORPUS))
def test_clue_prefilter_decides_as_the_detectors_alone(database: str, kind: str) -> None:
    """The substring test in front of each regex never hides a value a detector matches."""
    from psycopg import sql

    from schemalock.mockdata import detectors_for
    from schemalock.probe import mock_condition

    value = sql.SQL("v")
    condition, params = mock_condition(kind, value)
    alone = sql.SQL(" OR ").join(sql.SQL("v ~* %s") for _ in detectors_for(kind))
    rows = query(
        database,
        sql.SQL("SELECT v, {}, {} FROM pg_catalog.unnest(%s::text[]) v").format(condition, alone),
        [*params, *(d.pattern for d in detectors_for(kind)), CORPUS[kind]],
    )
    assert [(v, with_clues) for v, with_clues, _ in rows] == [(v, bare) for v, _, bare in rows]
    assert any(bare for _, _, bare in rows)
    assert not all(bare for _, _, bare in rows)


def test_clues_are_lower_case_literals() -> None:
    from schemalock.mockdata import DETECTORS

    for detector in DETECTORS:
        assert all(clue == clue.lower() for clue in detector.clues), detector.name
