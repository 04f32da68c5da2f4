"""`verify --api-base`: the lock's endpoints asked whether they serve real data.

A real HTTP server (http.server on 127.0.0.1, port 0, in a thread) plays the API; the database
side is the embedded PostgreSQL, never a mock.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import CliResult, execute, run_cli, write
from schemalock.check import api as apiprobe
from schemalock.lock import parse_lock

SECRET = "sl-test-secret-9f3b2c7e"
HEADER = f"Authorization: Bearer {SECRET}"

JSON = "application/json"
ROUTES: dict[str, tuple[int, str, bytes]] = {
    "/api/real": (200, JSON, b'{"source": "real_database", "quota": 3}'),
    "/api/mock": (200, JSON, b'{"source": "mock", "quota": 3}'),
    "/api/nosource": (200, JSON, b'{"quota": 3}'),
    "/api/error": (500, JSON, b'{"error": "boom"}'),
    "/api/html": (200, "text/html; charset=utf-8", b"<!doctype html><title>Sign in</title>"),
    "/api/list": (200, JSON, b'[{"source": "real_database"}]'),
    "/api/nan": (200, JSON, b'{"source": NaN}'),
    "/api/deep": (200, JSON, b"[" * 100_000 + b"]" * 100_000),
    "/api/empty": (204, JSON, b""),
}

SCHEMA = "CREATE TABLE organizations (id integer PRIMARY KEY); CREATE TABLE jobs (id integer);"


def lock_text(organizations: list[str], jobs: list[str]) -> str:
    return (
        "version: 1\n"
        "tables:\n"
        "  organizations:\n"
        f"    endpoints: {json.dumps(organizations)}\n"
        "    columns:\n"
        "      id: {type: integer, primary_key: true}\n"
        "  jobs:\n"
        f"    endpoints: {json.dumps(jobs)}\n"
        "    columns:\n"
        "      id: {type: integer}\n"
    )


FULL_LOCK = lock_text(
    ["/api/real", "/api/mock", "/api/nosource", "/api/error", "/api/html", "/api/orgs/{id}"],
    ["/api/real", "/api/jobs/:id", "/api/list"],  # /api/real again: requested once
)


@dataclass
class Api:
    base: str
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        api = self.server.api
        api.requests.append((self.path, dict(self.headers.items())))
        route = self.path.partition("?")[0]
        status, kind, body = ROUTES.get(route, (404, JSON, b'{"error": "no route"}'))
        extra: dict[str, str] = {}
        if self.path == "/api/slow":
            api.stop.wait(5)  # longer than the test's --api-timeout; ends when the server does
            status, kind, body = 200, JSON, b'{"source": "real_database"}'
        elif self.path == "/api/echo":  # a server that repeats the credential back
            echoed = {"source": self.headers.get("Authorization")}
            status, kind, body = 200, JSON, json.dumps(echoed).encode()
        elif self.path == "/api/redirect":
            status, body, extra = 302, b"", {"Location": f"{api.base}/api/real"}
        self._send(status, kind, body, extra)

    def _send(self, status: int, kind: str, body: bytes, extra: dict[str, str]) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (the timeout test): nothing to answer
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the tests capture stderr to prove what schemalock prints."""


class _Server(ThreadingHTTPServer):
    api: Api

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Silent, for the same reason as `log_message`."""


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """urllib honours *_proxy variables: a developer's proxy must not stand in for 127.0.0.1."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")


@pytest.fixture
def api() -> Iterator[Api]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.api = Api(base=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.api
    finally:
        server.api.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def verify(database: str, lock: str, *options: str) -> CliResult:
    return run_cli("verify", "--lock", lock, "--database-url", database, *options)


def as_json(result: CliResult) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def probe_findings(report: dict[str, Any]) -> list[dict[str, Any]]:
    keys = ("code", "rule", "severity", "category", "schema", "table", "message")
    return [
        {key: f[key] for key in (*keys, "expected", "actual", "lock_line")}
        for f in report["findings"]
    ]


@pytest.mark.db
def test_findings_inconclusive_entries_and_requests(
    database: str, tmp_path: Path, api: Api
) -> None:
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", FULL_LOCK)
    result = verify(
        database, lock, "--format", "json", "--api-base", api.base, "--api-header", HEADER
    )
    assert result.exit_code == 1, result.stdout + result.stderr
    report = as_json(result)
    assert set(report) >= {  # the contract's fields (others are added, never renamed)
        "format",
        "tool",
        "lock",
        "target",
        "summary",
        "findings",
        "inconclusive",
    }
    common = {"code": "SL401", "rule": "mock-data", "severity": "error", "category": "data"}
    assert probe_findings(report) == [
        {
            **common,
            "schema": "public",
            "table": "jobs",
            "message": 'GET /api/list answers a JSON array, not an object with "source"; '
            '"real_database" is expected',
            "expected": "real_database",
            "actual": None,
            "lock_line": 7,
        },
        {
            **common,
            "schema": "public",
            "table": "organizations",
            "message": 'GET /api/mock answers "source": "mock"; "real_database" is expected',
            "expected": "real_database",
            "actual": "mock",
            "lock_line": 3,
        },
        {
            **common,
            "schema": "public",
            "table": "organizations",
            "message": 'GET /api/nosource answers JSON without "source"; '
            '"real_database" is expected',
            "expected": "real_database",
            "actual": None,
            "lock_line": 3,
        },
    ]
    orgs = {"rule": "mock-data", "schema": "public", "table": "organizations"}
    assert report["inconclusive"] == [
        {**orgs, "reason": "GET /api/error: HTTP 500 Internal Server Error"},
        {**orgs, "reason": "GET /api/html: not JSON (text/html; charset=utf-8)"},
        {**orgs, "reason": "GET /api/orgs/{id}: has a path parameter; not requested"},
        {
            "rule": "mock-data",
            "schema": "public",
            "table": "jobs",
            "reason": "GET /api/jobs/:id: has a path parameter; not requested",
        },
    ]
    assert report["summary"]["error"] == 3
    assert report["summary"]["inconclusive"] == 4
    # Each requestable endpoint once (the duplicate too), in lock order, with the header.
    assert api.paths == [
        "/api/real",
        "/api/mock",
        "/api/nosource",
        "/api/error",
        "/api/html",
        "/api/list",
    ]
    for _, headers in api.requests:
        assert headers["Authorization"] == f"Bearer {SECRET}"
        assert headers["User-Agent"] == "schemalock/0.1.0 (api source probe)"
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.db
def test_text_report_and_debug_never_show_a_header_value(
    database: str, tmp_path: Path, api: Api
) -> None:
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", lock_text(["/api/echo", "/api/error"], []))
    header = ("--api-header", HEADER, "--api-header", f"X-Api-Key: {SECRET}-2")
    text = verify(database, lock, "--api-base", api.base, *header)
    debug = run_cli(
        "--debug",
        "verify",
        "--lock",
        lock,
        "--database-url",
        database,
        "--api-base",
        api.base,
        *header,
    )
    as_report = verify(database, lock, "--format", "json", "--api-base", api.base, *header)
    assert text.exit_code == debug.exit_code == as_report.exit_code == 1
    # The server repeats the credential as its "source": the report shows it redacted.
    assert 'GET /api/echo answers "source": "***"; "real_database" is expected' in text.stdout
    assert "inconclusive: mock-data on public.organizations: GET /api/error: HTTP 500" in (
        text.stdout
    )
    assert as_json(as_report)["findings"][0]["actual"] == "***"
    assert api.requests[-1][1]["X-Api-Key"] == f"{SECRET}-2"
    for run in (text, debug, as_report):
        assert SECRET not in run.stdout + run.stderr


@pytest.mark.db
@pytest.mark.parametrize(
    ("organizations", "code"),
    [
        (["/api/real"], 0),
        (["/api/real", "/api/error"], 4),  # only inconclusive: never a pass
        (["/api/real", "/api/html"], 4),
        (["/api/jobs/{id}"], 4),
        (["/api/real", "/api/error", "/api/mock"], 1),  # findings outrank inconclusive
    ],
)
def test_exit_codes(
    database: str, tmp_path: Path, api: Api, organizations: list[str], code: int
) -> None:
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", lock_text(organizations, []))
    result = verify(database, lock, "--api-base", api.base)
    assert result.exit_code == code, result.stdout + result.stderr


@pytest.mark.db
def test_without_api_base_no_request_is_made(database: str, tmp_path: Path, api: Api) -> None:
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", FULL_LOCK)
    result = verify(database, lock, "--format", "json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert as_json(result)["findings"] == []
    assert as_json(result)["inconclusive"] == []
    assert api.requests == []


@pytest.mark.db
@pytest.mark.parametrize(
    ("options", "code", "requested"),
    [
        (("--ignore", "mock-data"), 0, False),
        (("--ignore", "SL4"), 0, False),
        (("--select", "SL105"), 0, False),
        (("--select", "SL401"), 1, True),
        (("--select", "mock-data", "--no-data"), 1, True),  # the probe reads no rows
    ],
)
def test_select_and_ignore_apply_to_the_probe(
    database: str,
    tmp_path: Path,
    api: Api,
    options: tuple[str, ...],
    code: int,
    requested: bool,
) -> None:
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", lock_text(["/api/real", "/api/mock"], []))
    result = verify(database, lock, "--api-base", api.base, *options)
    assert result.exit_code == code, result.stdout + result.stderr
    assert bool(api.requests) is requested


@pytest.mark.db
def test_redirects_are_not_followed(database: str, tmp_path: Path, api: Api) -> None:
    """Following one would hand the credential to wherever Location points."""
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", lock_text(["/api/redirect"], []))
    result = verify(
        database, lock, "--format", "json", "--api-base", api.base, "--api-header", HEADER
    )
    assert result.exit_code == 4
    assert [i["reason"] for i in as_json(result)["inconclusive"]] == [
        "GET /api/redirect: HTTP 302 redirect, not followed (the lock should name the final path)"
    ]
    assert api.paths == ["/api/redirect"]


@pytest.mark.db
def test_an_api_that_does_not_answer_is_inconclusive(database: str, tmp_path: Path) -> None:
    with socket.socket() as free:  # a port nothing listens on once it is closed
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    execute(database, SCHEMA)
    lock = write(
        tmp_path / "schema_lock.yaml", lock_text(["/api/real", "/api/mock", "/api/x/{id}"], [])
    )
    result = verify(database, lock, "--format", "json", "--api-base", base)
    assert result.exit_code == 4, result.stdout + result.stderr
    assert [i["reason"] for i in as_json(result)["inconclusive"]] == [
        f"GET /api/real: cannot connect to {base}: Connection refused",
        f"GET /api/mock: not requested: {base} did not answer /api/real",
        "GET /api/x/{id}: has a path parameter; not requested",
    ]


@pytest.mark.db
def test_a_slow_endpoint_times_out(database: str, tmp_path: Path, api: Api) -> None:
    execute(database, SCHEMA)
    lock = write(tmp_path / "schema_lock.yaml", lock_text(["/api/slow", "/api/real"], []))
    result = verify(
        database, lock, "--format", "json", "--api-base", api.base, "--api-timeout", "0.3"
    )
    assert result.exit_code == 4
    assert [i["reason"] for i in as_json(result)["inconclusive"]] == [
        "GET /api/slow: no answer within 0.3 s"
    ]
    assert api.paths == ["/api/slow", "/api/real"]  # a slow endpoint does not stop the others


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--api-base", "ftp://files.example"), "--api-base: use an http:// or https:// URL"),
        (("--api-base", "localhost:8000"), "--api-base: use an http:// or https:// URL"),
        (("--api-base", "http://"), "--api-base: the URL names no host"),
        (
            ("--api-base", f"https://app:{SECRET}@api.example"),
            "--api-base: put credentials in --api-header, not in the URL",
        ),
        (
            ("--api-base", f"https://api.example/?token={SECRET}"),
            "--api-base: no query or fragment; endpoints are appended to it",
        ),
        (
            ("--api-base", "https://api.example", "--api-header", f"Bearer {SECRET}"),
            "--api-header: expected 'Name: value' (the value is not shown)",
        ),
        (
            ("--api-base", "https://api.example", "--api-header", f"X-Key: {SECRET}\r\nX-Evil: 1"),
            "--api-header X-Key: the value has characters HTTP headers cannot carry",
        ),
        (("--api-header", HEADER), "--api-header needs --api-base"),
    ],
)
def test_invalid_api_options_exit_2_before_connecting(
    tmp_path: Path, options: tuple[str, ...], message: str
) -> None:
    lock = write(tmp_path / "schema_lock.yaml", FULL_LOCK)
    # No server listens there: exit 2, not 3, shows that nothing was connected to.
    result = verify("postgresql://nobody@127.0.0.1:9/none", lock, *options)
    assert result.exit_code == 2
    assert result.stderr == f"schemalock: error: {message}\n"
    debug = run_cli("--debug", "verify", "--lock", lock, *options)
    assert SECRET not in result.stdout + result.stderr + debug.stdout + debug.stderr


def test_endpoints_are_collected_once_in_lock_order() -> None:
    lock = parse_lock(FULL_LOCK)
    assert [(e.path, e.table.name if e.table else None) for e in apiprobe.endpoints(lock)] == [
        ("/api/real", "organizations"),
        ("/api/mock", "organizations"),
        ("/api/nosource", "organizations"),
        ("/api/error", "organizations"),
        ("/api/html", "organizations"),
        ("/api/orgs/{id}", "organizations"),
        ("/api/jobs/:id", "jobs"),
        ("/api/list", "jobs"),
    ]


def test_path_parameters_in_every_notation_are_not_requested(api: Api) -> None:
    parameterised = ["/a/{id}", "/a/:id/b", "/a/[id]", "/a/<int:id>", "/a/*"]
    lock = parse_lock(lock_text([*parameterised, "/api/real?at=10:30", "relative"], []))
    result = apiprobe.probe(lock, apiprobe.settings(api.base))
    assert [i.reason for i in result.inconclusive] == [
        *(f"GET {path}: has a path parameter; not requested" for path in parameterised),
        "GET relative: not a path starting with /; not requested",
    ]
    assert result.findings == []
    assert api.paths == ["/api/real?at=10:30"]  # a colon in the query is no parameter


def test_answers_that_are_not_json_are_inconclusive(api: Api) -> None:
    lock = parse_lock(lock_text(["/api/nan", "/api/deep", "/api/empty"], []))
    result = apiprobe.probe(lock, apiprobe.settings(api.base))
    assert [i.reason for i in result.inconclusive] == [
        "GET /api/nan: not JSON (application/json)",
        "GET /api/deep: not JSON (application/json)",
        "GET /api/empty: empty answer, not JSON",
    ]
    assert result.findings == []


def test_a_method_written_before_the_path(api: Api) -> None:
    lock = parse_lock(lock_text(["GET /api/mock", "get /api/real", "POST /api/webhooks/dodo"], []))
    result = apiprobe.probe(lock, apiprobe.settings(api.base))
    assert [f.message for f in result.findings] == [
        'GET /api/mock answers "source": "mock"; "real_database" is expected'
    ]
    assert result.inconclusive == []  # a POST endpoint serves no data: not requested
    assert api.paths == ["/api/mock", "/api/real"]


def test_query_endpoints_are_probed_too(api: Api) -> None:
    lock = parse_lock(
        lock_text(["/api/real"], [])
        + "queries:\n"
        + "  real_again: {sql: 'SELECT id FROM jobs', endpoint: /api/real}\n"
        + "  mocked: {sql: 'SELECT count(*) FROM jobs', endpoint: 'GET /api/mock'}\n"
        + "  internal: {sql: 'SELECT 1'}\n"
    )
    result = apiprobe.probe(lock, apiprobe.settings(api.base))
    assert [(f.table, f.lock_line, f.message) for f in result.findings] == [
        (None, 13, 'GET /api/mock answers "source": "mock"; "real_database" is expected')
    ]
    assert result.inconclusive == []
    assert api.paths == ["/api/real", "/api/mock"]  # the table's /api/real is asked once
