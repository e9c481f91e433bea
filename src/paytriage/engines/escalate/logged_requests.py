"""Failed requests that the logs recorded, as reproduction steps an engineer can replay.

When the customer pasted no request and no transaction shows the failure (a login, a dashboard call),
the service's own access and validation lines often do: ``POST /sso/saml/acs status=401
request_id=req_1 org=m_7``. A line counts when it names a method, a path, an HTTP status of 400 or
more and a request id — read from the parsed columns and attributes first (JSON logs), else from
``key=value`` pairs or a ``METHOD /path`` in the text. Other error lines carrying the same request id
say why it failed and are quoted with it (redacted). Nothing here is specific to one service.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from paytriage.domain import LogEvent
from paytriage.engines.investigate.correlation import effective_level
from paytriage.engines.logmining.fields import parse_logfmt
from paytriage.engines.redaction import redact

__all__ = ["LoggedRequest", "logged_requests"]

_METHOD_PATH = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)\s+(/[\w./{}:%-]*)")
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_PATH_KEYS = ("path", "endpoint", "uri", "url", "route")
_STATUS_KEYS = ("status", "http_status", "status_code")
_REQUEST_KEYS = ("request_id", "req_id", "x_request_id", "correlation_id")
_WHO_KEYS = ("org", "merchant", "merchant_id", "account")


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One failed request as logged, and what the service said about it."""

    method: str
    path: str
    status: int
    request_id: str
    at: str
    service: str
    who: str = ""
    why: str = ""

    def step(self) -> str:
        who = f" for {self.who}" if self.who else ""
        said = f"; logged with it: {self.why}" if self.why else ""
        return (
            f"replay {self.method} {self.path}{who} as in logged request {self.request_id} "
            f"({self.service}, {self.at}): it answered HTTP {self.status}{said}"
        )


def _pairs(e: LogEvent) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in parse_logfmt(e.message):
        out.setdefault(k.lower().replace("-", "_"), v)
    for k, v in e.attributes.items():
        if isinstance(v, str | int) and not isinstance(v, bool):
            out.setdefault(k.lower(), str(v))
    return out


def _first(pairs: dict[str, str], keys: Iterable[str]) -> str:
    return next((pairs[k] for k in keys if pairs.get(k)), "")


def _request(e: LogEvent) -> LoggedRequest | None:
    pairs = _pairs(e)
    method = _first(pairs, ("method", "http_method", "verb")).upper()
    path = _first(pairs, _PATH_KEYS)
    if not (method and path) and (m := _METHOD_PATH.search(e.message)):
        method, path = m.group(1), m.group(2)
    status_text = str(e.http_status or "") or _first(pairs, _STATUS_KEYS)
    status = int(status_text) if status_text.isdigit() else 0
    req = e.request_id or _first(pairs, _REQUEST_KEYS)
    if method not in _METHODS or not path.startswith("/") or not 400 <= status < 600 or not req:
        return None
    return LoggedRequest(
        method=method,
        path=path.split("?")[0],
        status=status,
        request_id=req,
        at=f"{e.timestamp:%Y-%m-%d %H:%M:%S}Z",
        service=e.service or e.source,
        who=e.merchant_id or _first(pairs, _WHO_KEYS),
    )


def _request_id(e: LogEvent) -> str:
    return e.request_id or _first(_pairs(e), _REQUEST_KEYS)


def logged_requests(logs: Iterable[LogEvent], *, limit: int = 2) -> list[LoggedRequest]:
    """Up to ``limit`` failed requests (one per method, path and status, oldest first), each with the
    first error line that shares its request id."""
    events = sorted(logs, key=lambda e: e.timestamp)
    found: list[LoggedRequest] = []
    seen: set[tuple[str, str, int]] = set()
    for e in events:
        r = _request(e)
        if r is None or (r.method, r.path, r.status) in seen:
            continue
        seen.add((r.method, r.path, r.status))
        why = next(
            (
                x.message.split("\n")[0]
                for x in events
                if x is not e
                and effective_level(x) in ("error", "critical")
                and _request_id(x) == r.request_id
            ),
            "",
        )
        if why:
            r = replace(r, why=redact(why).text[:360])
        found.append(r)
        if len(found) >= limit:
            break
    return found
