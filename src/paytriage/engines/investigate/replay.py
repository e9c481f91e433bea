"""API replay for integration cases: parse a request pasted in a ticket (curl or raw HTTP) or recorded
in the logs, send it to the configured *sandbox* base URL, and diff the answer with the expected one.

Safety rules: the request only ever goes to ``base_url`` (its own scheme and host are dropped); the
pasted ``Authorization``/cookie/API-key headers are never sent (a sandbox credential may be
configured instead); everything shown or stored is redacted with
:func:`paytriage.engines.redaction.redact` plus secret headers and query parameters.

Errors (one hierarchy)::

    ReplayError            (paytriage InputError: bad paste, named field)
"""

from __future__ import annotations

import json
import re
import shlex
from base64 import b64encode
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from paytriage.domain import InputError, LogEvent
from paytriage.engines.redaction import redact

__all__ = [
    "SECRET_HEADERS",
    "DiffEntry",
    "ExpectedResponse",
    "ReplayError",
    "ReplayRequest",
    "ReplayResult",
    "diff_responses",
    "find_expected",
    "find_request",
    "parse_curl",
    "parse_raw_http",
    "replay",
    "request_from_log",
]

#: Headers whose value is a credential: never replayed, always shown as ``[REDACTED]``.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key", "x-auth-token"}
)
_SECRET_PARAM = re.compile(r"(?i)^(?:api[_-]?key|key|token|access[_-]?token|secret|password|signature|sig)$")
#: Fields that differ on every call and say nothing about behaviour.
VOLATILE = frozenset({"id", "request_id", "created", "created_at", "timestamp", "date", "idempotency_key"})
_METHODS = "GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS"
_REQUEST_LINE = re.compile(rf"(?m)^\s*({_METHODS}) (\S+) HTTP/\d(?:\.\d)?\s*$")
_STATUS_LINE = re.compile(r"(?m)^\s*HTTP/\d(?:\.\d)? (\d{3})\b.*$")
_CURL = re.compile(r"(?m)(?:^|[\s$>])curl\s")
_WITH_ARG = {
    "-X": "method",
    "--request": "method",
    "-H": "header",
    "--header": "header",
    "-d": "data",
    "--data": "data",
    "--data-raw": "data",
    "--data-binary": "data",
    "--data-ascii": "data",
    "--data-urlencode": "data",
    "--json": "json",
    "-u": "user",
    "--user": "user",
    "--url": "url",
    "-A": "agent",
    "--user-agent": "agent",
    "-b": "cookie",
    "--cookie": "cookie",
    "-e": "referer",
    "-o": None,
    "--output": None,
    "-m": None,
    "--max-time": None,
    "--connect-timeout": None,
    "-w": None,
    "--write-out": None,
    "--retry": None,
}


class ReplayError(InputError):
    """A request or response that cannot be parsed or replayed."""


@dataclass(slots=True)
class ReplayRequest:
    method: str
    target: str  # path and query (``/v1/payments?limit=3``); never a host
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str | None = None
    origin: str = "ticket"

    def redacted(self) -> dict[str, Any]:
        """Safe to show, store and log."""
        return {
            "method": self.method,
            "target": _redact_target(self.target),
            "headers": [
                [k, "[REDACTED]" if k.lower() in SECRET_HEADERS else redact(v).text] for k, v in self.headers
            ],
            "body": redact(self.body).text if self.body else None,
            "origin": self.origin,
        }


@dataclass(slots=True)
class ExpectedResponse:
    status: int | None
    body: Any = None


@dataclass(frozen=True, slots=True)
class DiffEntry:
    path: str
    expected: Any
    actual: Any

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "expected": _safe(self.expected), "actual": _safe(self.actual)}


@dataclass(slots=True)
class ReplayResult:
    request: ReplayRequest
    url: str
    status: int | None
    body: Any
    diff: list[DiffEntry]
    elapsed_ms: float
    error: str | None = None

    @property
    def reproduced(self) -> bool:
        """The sandbox answered like the ticket says production did."""
        return self.error is None and not self.diff

    def to_dict(self) -> dict[str, Any]:
        return {
            "request": self.request.redacted(),
            "url": _redact_target(self.url),
            "status": self.status,
            "body": _safe(self.body),
            "diff": [d.to_dict() for d in self.diff],
            "reproduced": self.reproduced,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "error": self.error,
        }


def _safe(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value).text
    if isinstance(value, dict):
        return {k: _safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe(v) for v in value]
    return value


def _redact_target(target: str) -> str:
    try:
        parts = urlsplit(target)
    except ValueError:
        return redact(target).text
    if not parts.query:
        return redact(target).text
    q = [
        (k, "[REDACTED]" if _SECRET_PARAM.match(k) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    base = target.split("?", 1)[0]
    return redact(f"{base}?{urlencode(q, safe='[]')}").text


def _target(url: str) -> str:
    try:
        parts = urlsplit(url if "://" in url or url.startswith("/") else f"https://{url}")
    except ValueError as exc:
        raise ReplayError(f"not a URL: {url[:80]!r} ({exc})", field="url") from None
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def parse_curl(command: str) -> ReplayRequest:
    """A curl command line (continuations and quotes as a shell would read them)."""
    text = re.sub(r"\\\r?\n", " ", command.strip())
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise ReplayError(f"cannot read the curl command: {exc}", field="curl") from None
    if not argv or argv[0] != "curl":
        raise ReplayError("not a curl command", field="curl")
    method: str | None = None
    url: str | None = None
    headers: list[tuple[str, str]] = []
    data: list[str] = []
    get = False
    k = 1
    while k < len(argv):
        arg = argv[k]
        name, value = arg, None
        if arg.startswith("--") and "=" in arg:
            name, value = arg.split("=", 1)
        if name in _WITH_ARG:
            if value is None:
                k += 1
                if k >= len(argv):
                    raise ReplayError(f"{name} needs a value", field="curl")
                value = argv[k]
            role = _WITH_ARG[name]
            if role == "method":
                method = value.upper()
            elif role == "header":
                if ":" not in value:
                    raise ReplayError(f"header {value!r} has no ':'", field="header")
                hk, hv = value.split(":", 1)
                headers.append((hk.strip(), hv.strip()))
            elif role in ("data", "json"):
                data.append(value)
                if role == "json":
                    headers.append(("Content-Type", "application/json"))
            elif role == "user":
                headers.append(("Authorization", "Basic " + b64encode(value.encode()).decode()))
            elif role == "url":
                url = value
            elif role == "agent":
                headers.append(("User-Agent", value))
            elif role == "cookie":
                headers.append(("Cookie", value))
            elif role == "referer":
                headers.append(("Referer", value))
        elif arg in ("-G", "--get"):
            get = True
        elif arg in ("-I", "--head"):
            method = "HEAD"
        elif arg.startswith("-"):
            pass  # flags without a value (-s, -v, -k, -L, -i, --compressed …) change nothing we replay
        elif url is None:
            url = arg
        k += 1
    if not url:
        raise ReplayError("the curl command has no URL", field="url")
    target = _target(url)
    body = "&".join(data) if data else None
    if get and body:
        target += ("&" if "?" in target else "?") + body
        body = None
    return ReplayRequest(
        method=method or ("POST" if body else "GET"), target=target, headers=headers, body=body
    )


def parse_raw_http(text: str) -> ReplayRequest:
    """``POST /v1/refunds HTTP/1.1`` + headers + blank line + body."""
    m = _REQUEST_LINE.search(text)
    if m is None:
        raise ReplayError("no HTTP request line (METHOD /path HTTP/1.1)", field="request")
    rest = text[m.end() :].lstrip("\r\n")
    parts = re.split(r"\r?\n[ \t]*\r?\n", rest, maxsplit=1)
    head, body = parts[0], (parts[1] if len(parts) > 1 else "")
    headers = []
    for line in head.splitlines():
        if not line.strip():
            break
        if ":" not in line:
            break
        hk, hv = line.split(":", 1)
        headers.append((hk.strip(), hv.strip()))
    return ReplayRequest(
        method=m.group(1), target=_target(m.group(2)), headers=headers, body=body.strip() or None
    )


def find_request(text: str) -> ReplayRequest | None:
    """The first curl command or raw HTTP request in a ticket, or None."""
    m = _CURL.search(text)
    if m is not None:
        start = text.index("curl", m.start())
        lines = text[start:].splitlines()
        cmd = []
        for line in lines:
            cmd.append(line)
            if not line.rstrip().endswith("\\"):
                break
        try:
            return parse_curl("\n".join(cmd))
        except ReplayError:
            pass
    if _REQUEST_LINE.search(text):
        try:
            return parse_raw_http(text)
        except ReplayError:
            return None
    return None


def find_expected(text: str) -> ExpectedResponse | None:
    """A response pasted in a ticket: a status line and/or a JSON object."""
    status_m = _STATUS_LINE.search(text)
    status = int(status_m.group(1)) if status_m else None
    body = None
    start = text.find("{", status_m.end() if status_m else 0)
    if start >= 0:
        try:
            body, _ = json.JSONDecoder().raw_decode(text[start:])
        except json.JSONDecodeError:
            body = None
    if status is None and body is None:
        return None
    return ExpectedResponse(status=status, body=body)


def request_from_log(event: LogEvent) -> ReplayRequest | None:
    """A gateway log event with ``method`` and ``endpoint`` (no body is logged)."""
    method = event.attributes.get("method")
    endpoint = event.attributes.get("endpoint") or event.attributes.get("path")
    if (
        not isinstance(method, str)
        or not isinstance(endpoint, str)
        or method.upper() not in _METHODS.split("|")
    ):
        return None
    try:
        return ReplayRequest(method=method.upper(), target=_target(endpoint), origin="log")
    except ReplayError:
        return None


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if str(k) in VOLATILE:
                continue
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix or "$": value}


def diff_responses(expected: ExpectedResponse, status: int | None, body: Any) -> list[DiffEntry]:
    """Differences that matter: the status, and every non-volatile JSON field of the expected body."""
    out: list[DiffEntry] = []
    if expected.status is not None and expected.status != status:
        out.append(DiffEntry("status", expected.status, status))
    if expected.body is not None:
        want, got = _flatten(expected.body), _flatten(body) if body is not None else {}
        for path in sorted(set(want) | set(got)):
            if path not in want:
                continue  # extra fields in the sandbox answer are not a difference in behaviour
            if want[path] != got.get(path):
                out.append(DiffEntry(path, want[path], got.get(path)))
    return out


def replay(
    request: ReplayRequest,
    *,
    base_url: str,
    expected: ExpectedResponse | None = None,
    auth_header: str | None = None,
    client: httpx.Client | None = None,
    timeout: float = 10.0,
) -> ReplayResult:
    """Send ``request`` to ``base_url`` (never to the host it was pasted with) and diff the answer."""
    if not base_url.startswith(("http://", "https://")):
        raise ReplayError("the replay base URL must start with http:// or https://", field="base_url")
    url = base_url.rstrip("/") + request.target
    headers = [
        (k, v) for k, v in request.headers if k.lower() not in SECRET_HEADERS | {"host", "content-length"}
    ]
    if auth_header:
        headers.append(("Authorization", auth_header))
    own = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=False)
    try:
        resp = http.request(request.method, url, headers=headers, content=request.body)
    except httpx.HTTPError as exc:
        return ReplayResult(
            request, url, None, None, [], 0.0, error=f"{type(exc).__name__}: {redact(str(exc)).text}"
        )
    finally:
        if own:
            http.close()
    try:
        body: Any = resp.json()
    except ValueError:
        body = resp.text[:4000]
    diff = diff_responses(expected, resp.status_code, body) if expected else []
    return ReplayResult(request, url, resp.status_code, body, diff, resp.elapsed.total_seconds() * 1000)
