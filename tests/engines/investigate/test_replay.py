"""API replay: curl and raw HTTP parsing, expected responses, redaction, and a real replay on loopback."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.engines.investigate.test_correlation import T0

from paytriage.domain import LogEvent
from paytriage.engines.investigate.replay import (
    ExpectedResponse,
    ReplayError,
    ReplayRequest,
    diff_responses,
    find_expected,
    find_request,
    parse_curl,
    parse_raw_http,
    replay,
    request_from_log,
)

CURL = """curl -X POST 'https://api.example.com/v1/refunds?expand=charge' \\
  -H "Authorization: Bearer sk_live_51SECRETsecret" \\
  -H 'Content-Type: application/json' \\
  --data-raw '{"payment": "pay_1", "amount": 500}'"""


@pytest.mark.parametrize(
    ("command", "method", "target", "body"),
    [
        (CURL, "POST", "/v1/refunds?expand=charge", '{"payment": "pay_1", "amount": 500}'),
        ("curl https://api.x.io/v1/payments/pay_1", "GET", "/v1/payments/pay_1", None),
        (
            "curl -d amount=100 -d currency=eur api.x.io/v1/payments",
            "POST",
            "/v1/payments",
            "amount=100&currency=eur",
        ),
        ("curl -G -d limit=3 https://api.x.io/v1/payments", "GET", "/v1/payments?limit=3", None),
        ("curl --request=DELETE --url=https://api.x.io/v1/hooks/1 -s -k", "DELETE", "/v1/hooks/1", None),
        ("curl -I https://api.x.io/health", "HEAD", "/health", None),
        ("curl --json '{\"a\":1}' https://api.x.io/v1/x", "POST", "/v1/x", '{"a":1}'),
    ],
)
def test_parse_curl(command: str, method: str, target: str, body: str | None) -> None:
    r = parse_curl(command)
    assert (r.method, r.target, r.body) == (method, target, body)


def test_curl_user_becomes_basic_auth_and_is_redacted() -> None:
    r = parse_curl("curl -u sk_test_abcdef123456: https://api.x.io/v1/balance")
    assert r.headers[0][0] == "Authorization" and r.headers[0][1].startswith("Basic ")
    assert r.redacted()["headers"] == [["Authorization", "[REDACTED]"]]


@pytest.mark.parametrize(
    "bad", ["curl", "curl -H", "curl 'unterminated", "wget https://x", "curl -H novalue https://x"]
)
def test_bad_curl_is_a_named_error(bad: str) -> None:
    with pytest.raises(ReplayError):
        parse_curl(bad)


def test_raw_http_and_find_in_ticket_text() -> None:
    text = 'Hi,\nwe send\n\nPOST /v1/payments HTTP/1.1\nHost: api.x.io\nX-Api-Key: k_123\n\n{"amount": 5}\n'
    r = find_request(text)
    assert r is not None and (r.method, r.target, r.body) == ("POST", "/v1/payments", '{"amount": 5}')
    assert ("X-Api-Key", "k_123") in r.headers
    assert find_request("Hello, our checkout fails since this morning") is None
    assert parse_raw_http("GET /v1/x HTTP/2\n").method == "GET"
    cmd = find_request("we run:\n$ " + CURL + "\nand it fails")
    assert cmd is not None and cmd.target == "/v1/refunds?expand=charge"


def test_find_expected_response() -> None:
    exp = find_expected(
        'got this:\nHTTP/1.1 402 Payment Required\n\n{"error": {"code": "card_declined"}} thanks'
    )
    assert exp is not None and exp.status == 402 and exp.body == {"error": {"code": "card_declined"}}
    assert find_expected("nothing here") is None


def test_request_from_gateway_log() -> None:
    e = LogEvent(
        timestamp=T0,
        message="POST /v1/payments 429",
        attributes={"method": "POST", "endpoint": "/v1/payments"},
    )
    r = request_from_log(e)
    assert r is not None and (r.method, r.target, r.origin) == ("POST", "/v1/payments", "log")
    assert request_from_log(LogEvent(timestamp=T0, message="x")) is None


def test_diff_ignores_volatile_fields_and_extras() -> None:
    exp = ExpectedResponse(402, {"error": {"code": "card_declined", "request_id": "req_1"}})
    assert (
        diff_responses(exp, 402, {"error": {"code": "card_declined", "request_id": "req_2", "extra": 1}})
        == []
    )
    d = diff_responses(exp, 200, {"error": {"code": "expired_card"}})
    assert [x.path for x in d] == ["status", "error.code"]


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_curl_parser_never_crashes_on_any_text(text: str) -> None:
    with contextlib.suppress(ReplayError):
        parse_curl("curl " + text)


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_finding_requests_in_any_ticket_text_never_raises(text: str) -> None:
    find_request(text)
    find_request("POST " + text + " HTTP/1.1\n\n" + text)
    find_expected(text)


@given(  # URL delimiters left out: a credential in a query string is percent-encoded ('&' would end it)
    st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="'\"\\&#?/%+=;"),
        min_size=8,
    )
)
@settings(max_examples=100, deadline=None)
def test_redacted_request_never_shows_the_credential(secret: str) -> None:
    r = parse_curl(f"curl -H 'Authorization: Bearer {secret}' https://api.x.io/v1/p?api_key={secret[:6]}x")
    shown = json.dumps(r.redacted())
    assert secret not in shown and f"{secret[:6]}x" not in shown


class _Handler(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        _Handler.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        payload = json.dumps({"error": {"code": "expired_card", "request_id": "req_zz"}}).encode()
        self.send_response(402)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_replay_against_loopback_sandbox(sandbox_url: str) -> None:
    _Handler.seen.clear()
    req = parse_curl(CURL)
    expected = ExpectedResponse(402, {"error": {"code": "card_declined"}})
    result = replay(req, base_url=sandbox_url, expected=expected, auth_header="Bearer sk_test_sandbox")
    sent = _Handler.seen[0]
    assert sent["path"] == "/v1/refunds?expand=charge"
    assert sent["headers"]["Authorization"] == "Bearer sk_test_sandbox"  # never the pasted live key
    assert json.loads(sent["body"]) == {"payment": "pay_1", "amount": 500}
    assert result.status == 402 and not result.reproduced
    assert [(d.path, d.expected, d.actual) for d in result.diff] == [
        ("error.code", "card_declined", "expired_card")
    ]
    shown = json.dumps(result.to_dict())
    assert "SECRET" not in shown and "sk_test_sandbox" not in shown


def test_replay_unreachable_sandbox_is_reported_not_raised() -> None:
    r = replay(ReplayRequest("GET", "/x"), base_url="http://127.0.0.1:9", timeout=0.5)
    assert r.error is not None and r.status is None


def test_replay_refuses_a_base_url_without_scheme() -> None:
    with pytest.raises(ReplayError):
        replay(ReplayRequest("GET", "/x"), base_url="sandbox.local")
