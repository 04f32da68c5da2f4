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
    # "Bob Dummy" is a surname and "FAKE news" a real phrase: neither is mock data.
    assert found == {
        "name": (2, ["mock-word", "placeholder-person"]),
        "email": (3, ["reserved-email"]),
        "payload": (3, ["json-marker"]),
        "notes": (1, ["json-marker"]),
        "ref": (3, ["fixture-uuid"]),
        "bio": (2, ["mock-word"]),
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


# Every value here is mock data: each detector's recall, one case a row.
RECALL = {
    "text": [
        "mock data", "fake user", "dummy org", "Acme Mock Org", "test customer", "Fake Users",
        "Test User", "TEST  USER 4", "Lorem ipsum dolor sit amet", "Mock", " fake ", "DUMMY 2",
        "John Doe", "jane@example.com", "user@test.example.com", "ops@mail.EXAMPLE.org",
        "a@foo.test", "b@corp.example", "c@x.invalid", "d@app.localhost", "Ann <e@q.test>",
        "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002",
        "11111111-2222-3333-4444-555555555555", "123E4567-E89B-12D3-A456-426614174000",
        "00000000-0000-0000-0000-000000000000", "Test Team", "Mock Teams", "Acme Test Team",
        "QA Test User", "load test account",
    ],
    "uuid": [
        "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002",
        "11111111-2222-3333-4444-555555555555", "123e4567-e89b-12d3-a456-426614174000",
        "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
    ],
    "json": [
        '{"is_test" : true}', '{"source" :"mock"}', '{"mock":true}', '{"env":\n  "test"}',
        '{"Is_Test":\ttrue}', '{"email": "x@sub.example.com"}', '{"to": ["a@b.test"]}',
    ],
}  # fmt: skip

# None of these is mock data: surnames, real phrases, look-alike words and domains, UUIDs that
# are not fixtures or not the whole value, markers only JSON values hold.
PRECISION = {
    "text": [
        "Tom Mock", "Ana Fake", "Jo Dummy", "Bob Dummy", "Mock Trial Coach",
        "Crash Test Dummy Engineer", "Fake Fur Designer", "FAKE news", "tom.mock@outlook.com",
        "mock.user@gmail.com", "test.customer@gmail.com", "fake_user@yahoo.com", "Hammock",
        "Testament", "Protest march", "Fakenham", "attestation", "test-driven review",
        "a@example.company.com", "b@examples.com", "c@testing.com", "d@test.com.au",
        "e@latest.io", "f@mytest.com", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "see 00000000-0000-0000-0000-000000000001 for details",
        "00000000-0000-0000-0000-0000000100001", "QA Test Team", "Load  Test Teams",
        "Test Automation Team", "Performance test team",
    ],
    "uuid": [
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "00000000-0000-0000-0000-000000010001",
        "11111111-1111-4111-8111-111111111112",
    ],
    "json": [
        '{"id": "00000000-0000-0000-0000-000000000001"}', '{"is_testament": true}',
        '{"tested": true}', '{"source": "crm"}', '{"note": "mock data"}',
        '{"mail": "a@example.company.com"}', '{"is_test": false}',
    ],
}  # fmt: skip


@pytest.mark.parametrize("table", ["recall", "precision"])
def test_detectors_recall_and_precision(database: str, tmp_path: Path, table: str) -> None:
    """Each recall case is found (in uuid and text columns, JSON and json), in its own row;
    not one precision case is."""
    cases = RECALL if table == "recall" else PRECISION
    length = max(len(values) for values in cases.values())
    text_type = "text"
    if _has_citext(database):  # citext reads as text; the embedded server's build has none
        execute(database, "CREATE EXTENSION citext")
        text_type = "citext"
    execute(
        database,
        f"CREATE TABLE {table} (n int PRIMARY KEY, t text, c {text_type}, v varchar(80),"
        " u uuid, j jsonb, k json)",
    )
    for n in range(length):
        text, uuid, document = (
            values[n] if n < len(values) else None
            for values in (cases["text"], cases["uuid"], cases["json"])
        )
        execute_with(
            database,
            f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s)",
            [n, text, text, text, uuid, document, document],
        )
    lock = tmp_path / "lock.yaml"
    snapshot(database, lock)
    found = {f["column"]: f["count"] for f in _report(database, str(lock))["findings"]}
    if table == "precision":
        assert found == {}
    else:
        texts, uuids, documents = (len(cases[k]) for k in ("text", "uuid", "json"))
        assert found == {"t": texts, "c": texts, "v": texts, "u": uuids, "j": documents,
                         "k": documents}  # fmt: skip


def _has_citext(database: str) -> bool:
    return bool(query(database, "SELECT 1 FROM pg_available_extensions WHERE name = 'citext'"))


def execute_with(url: str, statement: str, params: list[object]) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement, params)


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
               (ARRAY['ana', 'jon', 'li', 'sam', 'eve', 'tom.mock', 'test.customer'])[1 + g % 7]
                   || g || '@' ||
               (ARRAY['gmail.com', 'outlook.com', 'acme.io', 'example-corp.com',
                      'testament.org', 'mockingbird.co.uk', 'latest.io', 'test.com.au'])
                   [1 + g % 8],
               jsonb_build_object('source', 'crm', 'request_id', gen_random_uuid(),
                                  'checksum', md5(g::text), 'fake_count', 0, 'tested', true)
        FROM generate_series(1, 600) g;
        INSERT INTO documents (org_id, title, author, body, metadata)
        SELECT o.id,
               (ARRAY['Last Will and Testament', 'Protest permit', 'Attestation of origin',
                      'Hammock assembly guide', 'Quarterly contest results',
                      'Mock Trial Coach', 'Crash Test Dummy Engineer', 'Fake Fur Designer'])
                   [1 + (n + o.k) % 8],
               (ARRAY['John Doerr', 'Jane Dough', 'Ed Mockler', 'Ann Fakenham', 'Li Testa',
                      'Tom Mock', 'Ana Fake', 'Jo Dummy'])[1 + (n + o.k) % 8],
               'Contested test-driven review of the mockup; dummies excluded.',
               jsonb_build_object('trace', gen_random_uuid(), 'sha', md5(n::text),
                                  'env', 'production', 'is_testament', true)
        FROM (SELECT *, row_number() OVER () AS k FROM organizations) o,
             generate_series(1, 5) n;
        -- Two tables with the same columns that are not copies of each other.
        CREATE TABLE billing_addresses (id integer PRIMARY KEY, org_id uuid NOT NULL,
            street text, city text, postal_code text, country text);
        CREATE TABLE shipping_addresses (id integer PRIMARY KEY, org_id uuid NOT NULL,
            street text, city text, postal_code text, country text, instructions text);
        INSERT INTO billing_addresses
            SELECT row_number() OVER (), id, 'Rua ' || name, 'Porto', '4000-001', 'PT'
            FROM organizations;
        INSERT INTO shipping_addresses
            SELECT row_number() OVER (), id, 'Dock ' || name, 'Leeds', 'LS1 4AP', 'GB', NULL
            FROM organizations;
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
    shown = run_cli("verify", "--lock", lock, "--database-url", database).stdout
    assert "e.g. x'); DROP TABLE t; -***@example.com" in shown  # the text report shows them too


CORPUS = {
    "text": [
        "MoCk data", "a FAKE", "DUMMY", "Lorem Ipsum dolor", "TEST USER 4", "jOhN dOe",
        "jane  doe", "Hammock", "Fakenham", "unmocked", "mock_data", "100% fake", "mock%",
        "\uff2d\uff4f\uff43\uff4b", "Mockéry", "x@EXAMPLE.COM", "x@example.company", "plain",
        "", "@", *RECALL["text"], *PRECISION["text"], "TEST\tUSER", "Test\u00a0User",
        "testuser", "contest user", "00000000-0000-0000-0000-00000000000g", "mock1",
        "dummy\t3", "Fakenham mock data", "Hammock test user",
    ],
    "json": [
        '{"source": "MOCK"}', '{"Mock": TRUE}', '{"is_test": true}', '{"env": "prod"}',
        '{"mail": "a@example.com"}', '{"testament": true}', '{"fake_count": 0}',
        *RECALL["json"], *PRECISION["json"],
    ],
    "uuid": [
        "00000000-0000-0000-0000-000000000000", "123e4567-e89b-12d3-a456-426614174000",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", *RECALL["uuid"], *PRECISION["uuid"],
    ],
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(CORPUS))
def test_clue_prefilter_decides_as_the_detectors_alone(database: str, kind: str) -> None:
    """The substring test in front of each regex never hides a value a detector matches."""
    from psycopg import sql

    from schemalock.probe.mockdata import detectors_for
    from schemalock.probe.sql import mock_condition

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
    from schemalock.probe.mockdata import DETECTORS

    for detector in DETECTORS:
        assert all(clue == clue.lower() for clue in detector.clues), detector.name


def test_uuid_range_gate_decides_as_the_regex_alone(database: str) -> None:
    """A uuid column is tested against the fixture UUIDs' ranges (a binary search over
    uuids) before its text meets the regex: the gate never hides a fixture.  Every form with
    every first group it allows, values either side of each range's bounds, and random ones."""
    import random
    import uuid as uuids

    from psycopg import sql

    from schemalock.probe.mockdata import FIXTURE_FIRST_GROUPS, detectors_for
    from schemalock.probe.sql import mock_condition

    rng = random.Random(7)
    values = [*CORPUS["uuid"]]
    for first in FIXTURE_FIRST_GROUPS:
        below, above = f"{(int(first, 16) - 1) % 16**8:08x}", f"{(int(first, 16) + 1) % 16**8:08x}"
        for group in (first, below, above):
            rest = (
                f"{first[:4]}-{first[:4]}-{first[:4]}-{first[:4] * 3}",
                "0000-0000-0000-000000000001",
                "ffff-ffff-ffff-ffffffffffff",
                f"1234-5678-{rng.getrandbits(16):04x}-{rng.getrandbits(48):012x}",
            )
            values += [f"{group}-{tail}" for tail in rest]
    values += [str(uuids.UUID(int=rng.getrandbits(128))) for _ in range(300)]
    value = sql.SQL("v::pg_catalog.text")
    gated, params = mock_condition("uuid", value, sql.SQL("v"))
    alone = sql.SQL(" OR ").join(sql.SQL("{} ~* %s").format(value) for _ in detectors_for("uuid"))
    rows = query(
        database,
        sql.SQL("SELECT v, {}, {} FROM pg_catalog.unnest(%s::uuid[]) v").format(gated, alone),
        [*params, *(d.pattern for d in detectors_for("uuid")), values],
    )
    assert [(v, gate) for v, gate, _ in rows] == [(v, bare) for v, _, bare in rows]
    assert sum(1 for *_, bare in rows if bare) >= 2 * len(FIXTURE_FIRST_GROUPS)


def test_the_text_fixture_gate_decides_as_the_regex_alone(database: str) -> None:
    """uuids kept as text meet the fixture regex only when their first group is one a
    fixture has: the gate never hides one, in any case."""
    from psycopg import sql

    from schemalock.probe.mockdata import DETECTORS, FIXTURE_FIRST_GROUPS
    from schemalock.probe.sql import mock_condition

    fixture = next(d for d in DETECTORS if d.name == "fixture-uuid")
    values = [*CORPUS["uuid"], *(f"{g}-0000-0000-0000-000000000000" for g in FIXTURE_FIRST_GROUPS)]
    values += [v.upper() for v in values] + [f"{v}x" for v in values[:5]]
    condition, params = mock_condition("text", sql.SQL("v"))
    rows = query(
        database,
        sql.SQL("SELECT v, {}, v ~* %s FROM pg_catalog.unnest(%s::text[]) v").format(condition),
        [*params, fixture.pattern, values],
    )
    assert all(gated == bare or not bare for _, gated, bare in rows), rows
    assert sum(1 for *_, bare in rows if bare) >= len(FIXTURE_FIRST_GROUPS)


def test_a_sample_query_tests_the_uuid_ranges_before_the_regex(database: str) -> None:
    """A WHERE clause's top-level AND is split and its parts ordered by estimated cost, which
    put the regex first, over every row (72 s instead of 1.3 s on 10M rows): the range test
    must stay in front."""
    from psycopg import sql

    from schemalock.probe.sql import mock_condition

    execute(database, "CREATE TABLE usage (id uuid)")
    condition, params = mock_condition("uuid", sql.SQL("c.id::pg_catalog.text"), sql.SQL("c.id"))
    (plan,) = query(
        database,
        sql.SQL("EXPLAIN (FORMAT JSON) SELECT c.id FROM usage c WHERE {} LIMIT 20").format(
            condition
        ),
        params,
    )[0]
    text = json.dumps(plan)
    assert text.index("width_bucket") < text.index("~*"), text
