"""`verify --api-base URL`: the seed's first checkpoint ("No Mock Data") asked of the API itself.

Every endpoint the lock declares is requested with GET; its JSON must say
`"source": "real_database"`. One that says anything else, or nothing, is a `mock-data` finding
(the same rule, code and severity as the row scan: one checkpoint, one rule). One that cannot be
checked (unreachable, timed out, an HTTP error, a redirect, not JSON, a path parameter) is
listed as inconclusive, never passed.

Header values (`--api-header`) are secrets: no message carries them, redirects are not followed
(urllib would resend every header to wherever a `Location` points), and text that comes from
outside (exceptions, the answer's own `source`) is redacted before it reaches a report.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from schemalock import __version__
from schemalock.check.findings import Finding, InconclusiveCheck
from schemalock.errors import UsageError
from schemalock.model import Lock, Table
from schemalock.rules.data import MockData

EXPECTED_SOURCE = "real_database"
DEFAULT_TIMEOUT = 10.0
MAX_BODY = 10 * 1024 * 1024  # an answer larger than this is not read (memory stays bounded)
_CHUNK = 64 * 1024
_SHOWN = 80  # characters of an unexpected `source` a message quotes

# Path parameters in the notations frameworks use: /jobs/{id}, /jobs/:id, /jobs/[id] (Next.js),
# /jobs/<id> (Flask), and wildcards. Requesting them literally would test nothing.
_PARAMETER = re.compile(r"\{[^}]*\}|/:[A-Za-z_]|\[[^\]]*\]|<[^>]*>|\*")
_METHOD = re.compile(r"^([A-Za-z]+)\s+(\S.*)$")  # "GET /api/jobs", as API docs write them
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name (RFC 9110)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True)
class ApiSettings:
    """Where the API is and how to ask it; `headers` hold secrets and are never shown."""

    base: str
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    timeout: float = DEFAULT_TIMEOUT

    def redact(self, text: str) -> str:
        for _, value in self.headers:
            if value:
                text = text.replace(value, "***")
        return text


@dataclass(frozen=True)
class Endpoint:
    """An endpoint as the lock writes it, and the lock table (first one, when several do) or
    query that declares it."""

    path: str
    table: Table | None = None
    line: int | None = None


@dataclass
class ProbeResult:
    findings: list[Finding] = field(default_factory=list)
    inconclusive: list[InconclusiveCheck] = field(default_factory=list)


class _Unchecked(Exception):
    """An endpoint whose answer cannot be judged; the message is the inconclusive reason."""


class _NotARead(Exception):
    """An endpoint the lock writes with another method than GET (`POST /api/webhooks/dodo`):
    it answers requests the application makes, not reads of data, so it is not requested."""


class _Unreachable(_Unchecked):
    """The API itself did not answer: the endpoints after this one are not requested."""


def settings(
    base: str, headers: Iterable[str] = (), timeout: float = DEFAULT_TIMEOUT
) -> ApiSettings:
    """Validated options; a usage error names the problem but never echoes a header value."""
    return ApiSettings(_base(base), tuple(_header(raw) for raw in headers), timeout)


def _base(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        raise UsageError("--api-base: not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise UsageError("--api-base: use an http:// or https:// URL")
    if not parts.hostname or not port_ok:
        raise UsageError("--api-base: the URL names no host")
    # Credentials in the URL would be printed with it: they belong in --api-header.
    if "@" in parts.netloc:
        raise UsageError("--api-base: put credentials in --api-header, not in the URL")
    if parts.query or parts.fragment:
        raise UsageError("--api-base: no query or fragment; endpoints are appended to it")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _header(raw: str) -> tuple[str, str]:
    name, colon, value = raw.partition(":")
    name, value = name.strip(), value.strip()
    if not colon or not _TOKEN.match(name):
        raise UsageError("--api-header: expected 'Name: value' (the value is not shown)")
    # CR/LF would inject headers; http.client's own error would quote the value.
    if _CONTROL.search(value) or not _latin1(value):
        raise UsageError(f"--api-header {name}: the value has characters HTTP headers cannot carry")
    return name, value


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def endpoints(lock: Lock) -> list[Endpoint]:
    """Every endpoint the lock declares, once, in lock order: the tables' `endpoints:`, then
    the `endpoint` of each entry under `queries:` (the first declaration is kept)."""
    seen: dict[str, Endpoint] = {}
    for table in lock.database.tables.values():
        for path in table.endpoints:
            seen.setdefault(path.strip(), Endpoint(path.strip(), table, table.line))
    for query in lock.queries:
        if query.endpoint:
            seen.setdefault(
                query.endpoint.strip(), Endpoint(query.endpoint.strip(), None, query.line)
            )
    return list(seen.values())


def probe(
    lock: Lock, api: ApiSettings, on_request: Callable[[str], None] | None = None
) -> ProbeResult:
    """Request every declared endpoint once; findings and inconclusive entries, in lock order."""
    result = ProbeResult()
    opener = urllib.request.build_opener(_NoRedirect())
    unreachable: str | None = None
    for endpoint in endpoints(lock):
        try:
            path = _request_path(endpoint.path)
            if unreachable is not None:
                raise _Unchecked(f"not requested: {unreachable}")
            if on_request is not None:
                on_request(f"GET {path}")
            body = _fetch(opener, api, path)
        except _Unreachable as error:
            unreachable = f"{api.base} did not answer {path}"
            result.inconclusive.append(_inconclusive(endpoint, str(error)))
        except _Unchecked as error:
            result.inconclusive.append(_inconclusive(endpoint, str(error)))
        except _NotARead:
            continue  # a webhook receiver, say: it serves no data to judge
        else:
            result.findings.extend(_judge(endpoint, body, api))
    return result


def _inconclusive(endpoint: Endpoint, reason: str) -> InconclusiveCheck:
    schema, table = endpoint.table.key if endpoint.table else (None, None)
    return InconclusiveCheck(
        rule=MockData.name,
        reason=f"{_label(endpoint.path)}: {reason}",
        schema=schema,
        table=table,
    )


def _label(written: str) -> str:
    """The endpoint as messages show it: `GET /api/jobs`, or the method the lock wrote."""
    method = _METHOD.match(written)
    return f"{method.group(1).upper()} {method.group(2)}" if method else f"GET {written}"


def _request_path(written: str) -> str:
    """The path to GET, or `_Unchecked` when the endpoint cannot be requested blindly."""
    method = _METHOD.match(written)
    if method and method.group(1).upper() != "GET":
        raise _NotARead()
    path = method.group(2) if method else written
    if not path.startswith("/"):
        raise _Unchecked("not a path starting with /; not requested")
    if _PARAMETER.search(path.partition("?")[0]):
        raise _Unchecked("has a path parameter; not requested")
    return path


def _fetch(opener: urllib.request.OpenerDirector, api: ApiSettings, path: str) -> Any:
    """The answer's parsed JSON, or `_Unchecked` saying why there is none."""
    request = urllib.request.Request(api.base + quote(path, safe="/?&=%:@!$'()*+,;~"))
    request.add_header("User-Agent", f"schemalock/{__version__} (api source probe)")
    request.add_header("Accept", "application/json")
    for name, value in api.headers:  # after the defaults, so a user's User-Agent wins
        request.add_header(name, value)
    try:
        with opener.open(request, timeout=api.timeout) as response:
            kind = api.redact(response.headers.get("Content-Type") or "no Content-Type")
            return _parse(_read(response, api.timeout), kind)
    except urllib.error.HTTPError as error:
        error.close()
        raise _Unchecked(_http_error(error)) from None
    except TimeoutError:
        raise _Unchecked(f"no answer within {api.timeout:g} s") from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise _Unchecked(f"no answer within {api.timeout:g} s") from None
        reason = error.reason if isinstance(error.reason, str) else _describe(error.reason)
        raise _Unreachable(api.redact(f"cannot connect to {api.base}: {reason}")) from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise _Unchecked(api.redact(f"the answer broke off: {_describe(error)}")) from None


def _describe(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _http_error(error: urllib.error.HTTPError) -> str:
    if 300 <= error.code < 400:
        return f"HTTP {error.code} redirect, not followed (the lock should name the final path)"
    return f"HTTP {error.code} {error.reason or ''}".rstrip()


def _read(response: http.client.HTTPResponse, timeout: float) -> bytes:
    """The body, within `timeout` overall (the socket timeout alone lets a trickle run on)."""
    deadline, size = time.monotonic() + timeout, 0
    chunks: list[bytes] = []
    while chunk := response.read(_CHUNK):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            raise _Unchecked(f"the answer is larger than {MAX_BODY // (1024 * 1024)} MiB")
        if time.monotonic() > deadline:
            raise _Unchecked(f"no complete answer within {timeout:g} s")
    return b"".join(chunks)


def _parse(body: bytes, content_type: str) -> Any:
    if not body.strip():
        raise _Unchecked("empty answer, not JSON")
    try:
        # NaN and Infinity are not JSON: accepted, they would make the report invalid JSON.
        return json.loads(body, parse_constant=_not_json)
    except (ValueError, RecursionError):
        raise _Unchecked(f"not JSON ({content_type})") from None


def _not_json(constant: str) -> None:
    raise ValueError(constant)


def _judge(endpoint: Endpoint, body: Any, api: ApiSettings) -> Iterator[Finding]:
    if isinstance(body, dict) and body.get("source") == EXPECTED_SOURCE:
        return
    if not isinstance(body, dict):
        said = f'a JSON {_json_kind(body)}, not an object with "source"'
        actual = None
    elif "source" not in body:
        said, actual = 'JSON without "source"', None
    else:
        source = body["source"]
        actual = api.redact(source) if isinstance(source, str) else source
        said = f'"source": {api.redact(_shown(source))}'
    yield MockData().finding(
        f'{_label(endpoint.path)} answers {said}; "{EXPECTED_SOURCE}" is expected',
        table=endpoint.table,
        line=endpoint.line,
        expected=EXPECTED_SOURCE,
        actual=actual,
    )


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    kinds = ((bool, "boolean"), (list, "array"), (str, "string"), ((int, float), "number"))
    return next(kind for types, kind in kinds if isinstance(value, types))


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects become HTTP errors: following one would send the secret headers to wherever
    `Location` points, and the lock should name the endpoint that answers."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
