"""A loopback HTTP server that checks every request and response against a vendor's OpenAPI document.

The connectors under test talk real HTTP (httpx over a socket) to a Werkzeug server in a thread. Each
exchange is validated with openapi-core; problems are collected in ``violations`` (and returned to the client
as a 599 for requests, so a test cannot miss them). Fault injection (``add_fault``) produces the failures the
connectors must survive: 401, 404, 429 with Retry-After, 5xx, slow answers (timeouts), and "applied, then
failed" writes whose success was lost on the way back.

Status codes a document does not list for an operation (Atlassian and Zendesk document few error codes) are
still checked when listed; an unlisted injected error is recorded in ``undocumented`` rather than as a
violation, since every HTTP API may answer 401/429/5xx.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

__all__ = ["ContractServer", "Fault", "Handler", "json_response"]

Handler = Callable[[Request], Response]
logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per call drowns test output


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type="application/json")


@dataclass
class Fault:
    """Answer requests whose ``"METHOD /path"`` matches ``pattern`` with ``status`` (``times`` times).

    The first ``skip`` matching requests pass untouched. ``delay`` sleeps (longer than the client timeout =
    a timeout): before the handler, or after it with ``after_apply``, which lets the real handler run before
    answering late or with the fault (the write happened, the client never hears of it).
    """

    pattern: str
    status: int = 503
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    after_apply: bool = False
    skip: int = 0
    hits: int = 0
    seen: int = 0


class _ValidatedRequest(WerkzeugOpenAPIRequest):
    """Maps Zendesk's optional ``.json`` suffix onto the documented path."""

    def __init__(self, request: Request, strip_json: bool) -> None:
        super().__init__(request)
        self._strip = strip_json

    @property
    def path(self) -> str:
        p = super().path
        return re.sub(r"\.json$", "", p) if self._strip else p


class ContractServer:
    """Run ``handler`` on 127.0.0.1 with validation; use as a context manager."""

    def __init__(
        self,
        handler: Handler,
        openapi: OpenAPI | None,
        *,
        strip_json: bool = False,
        waivers: tuple[tuple[str, str, str], ...] = (),
    ) -> None:
        self.handler = handler
        self.waivers = waivers
        self.waived: list[str] = []
        self.openapi = openapi
        self.strip_json = strip_json
        self.violations: list[str] = []
        self.undocumented: list[str] = []
        self.calls: list[tuple[str, str, int]] = []
        self.validated = 0
        self.responses_validated = 0
        self.validate_responses = True
        self.validate_every = 1  # benchmarks may sample responses; tests check every one
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ContractServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def add_fault(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def _take_fault(self, line: str) -> Fault | None:
        with self._lock:
            for f in self._faults:
                if f.hits < f.times and re.search(f.pattern, line):
                    f.seen += 1
                    if f.seen <= f.skip:
                        continue
                    f.hits += 1
                    return f
        return None

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        request.get_data(cache=True)
        line = f"{request.method} {request.path}"
        op = _ValidatedRequest(request, self.strip_json)
        if self.openapi is not None:
            found = (_short(e) for e in self.openapi.iter_request_errors(op))
            req_errors = [e for e in found if not self._waive(line, e)]
            with self._lock:
                self.validated += 1
                self.violations.extend(f"request {line}: {e}" for e in req_errors)
            if req_errors:
                return json_response({"errors": req_errors}, status=599)(environ, start_response)
        fault = self._take_fault(line)
        if fault is not None and fault.delay and not fault.after_apply:
            time.sleep(fault.delay)
        if fault is not None and not fault.after_apply:
            response = json_response(
                fault.body or {"error": f"injected {fault.status}"}, fault.status, fault.headers
            )
        else:
            response = self.handler(request)
            if fault is not None and fault.delay:  # applied, then the answer is slow: a lost success
                time.sleep(fault.delay)
            if fault is not None and fault.status >= 400:  # a 2xx "fault" only delays the real answer
                response = json_response(fault.body or {"error": "injected"}, fault.status, fault.headers)
        request.close()  # multipart uploads are spooled to temporary files
        self._check_response(op, response, line)
        with self._lock:
            self.calls.append((request.method, request.path, response.status_code))
        return response(environ, start_response)

    def _waive(self, line: str, error: str) -> bool:
        """A known defect of the vendor's document (see the waiver's reason) is recorded, not failed."""
        for line_pattern, error_pattern, reason in self.waivers:
            if re.search(line_pattern, line) and re.search(error_pattern, error):
                with self._lock:
                    self.waived.append(f"{line}: {reason}")
                return True
        return False

    def _check_response(self, op: _ValidatedRequest, response: Response, line: str) -> None:
        if self.openapi is None or not self.validate_responses:
            return
        with self._lock:
            n = len(self.calls)
        if n % self.validate_every:
            return
        with self._lock:
            self.responses_validated += 1
        wrapped = WerkzeugOpenAPIResponse(response)
        errors = []
        for e in self.openapi.iter_response_errors(op, wrapped):
            name = type(e).__name__
            if name == "ResponseNotFound" and response.status_code >= 400:
                with self._lock:
                    self.undocumented.append(f"{line} -> {response.status_code}")
                continue
            errors.append(f"{name}: {_short(e)}")
        with self._lock:
            self.violations.extend(f"response {line} -> {response.status_code}: {e}" for e in errors)


def _short(error: Exception) -> str:
    """openapi-core's message repeats the whole value; keep the schema errors at its end."""
    text = str(error)
    cause = error.__cause__
    details = getattr(cause, "schema_errors", None)
    if details:
        text = f"{type(cause).__name__}: " + "; ".join(getattr(d, "message", str(d))[:200] for d in details)
    return text if len(text) <= 600 else text[:300] + " … " + text[-300:]
