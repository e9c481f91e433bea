"""Failed requests found in correlated log lines become replayable reproduction steps."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.engines.escalate.helpers import T0, make_input

from paytriage.domain import LogEvent, LogLevel
from paytriage.engines.escalate.logged_requests import logged_requests
from paytriage.engines.escalate.package import build_package
from paytriage.engines.investigate.correlation import Correlation


def _ev(msg: str, level: LogLevel = LogLevel.INFO, **kw: object) -> LogEvent:
    return LogEvent(timestamp=T0, message=msg, service="identity", level=level, **kw)  # type: ignore[arg-type]


SAML_FAIL = _ev(
    "saml assertion validation failed request_id=req_1a2b3c org=m_7 check=signature "
    "cert_not_after=2026-01-07T10:00:00Z",
    LogLevel.ERROR,
)
SAML_401 = _ev("POST /sso/saml/acs status=401 request_id=req_1a2b3c org=m_7 duration_ms=12", LogLevel.WARNING)


def test_free_text_access_line_with_its_reason() -> None:
    [r] = logged_requests([SAML_401, SAML_FAIL])
    assert (r.method, r.path, r.status, r.request_id, r.who) == (
        "POST",
        "/sso/saml/acs",
        401,
        "req_1a2b3c",
        "m_7",
    )
    assert "cert_not_after=2026-01-07T10:00:00Z" in r.why
    assert "req_1a2b3c" in r.step() and "HTTP 401" in r.step()


def test_json_columns_and_attributes() -> None:
    e = LogEvent(
        timestamp=T0,
        message="POST /v1/payments 429",
        service="api-gateway",
        request_id="req_9",
        merchant_id="m_2",
        http_status=429,
        attributes={"method": "POST", "endpoint": "/v1/payments?expand=x"},
    )
    [r] = logged_requests([e])
    assert (r.method, r.path, r.status, r.who) == ("POST", "/v1/payments", 429, "m_2")


@pytest.mark.parametrize(
    "msg",
    [
        "POST /sso/saml/acs status=302 request_id=req_1 org=m_7",  # succeeded
        "POST /sso/saml/acs status=401 org=m_7",  # no request id to cite
        "saml login rejected org=m_7 status=401 request_id=req_1",  # no method or path
        "login ok org=m_7 method=saml",
    ],
)
def test_lines_that_are_not_a_failed_request(msg: str) -> None:
    assert logged_requests([_ev(msg, LogLevel.WARNING)]) == []


def test_one_step_per_method_path_status_and_a_limit() -> None:
    lines = [_ev(f"POST /sso/saml/acs status=401 request_id=req_{k}", LogLevel.WARNING) for k in range(5)] + [
        _ev("GET /v1/events status=500 request_id=req_x"),
        _ev("PUT /v1/a status=404 request_id=req_y"),
    ]
    found = logged_requests(lines, limit=2)
    assert [(r.path, r.request_id) for r in found] == [("/sso/saml/acs", "req_0"), ("/v1/events", "req_x")]


def test_reason_is_redacted() -> None:
    why = _ev("validation failed request_id=req_1 card=4111111111111111", LogLevel.ERROR)
    [r] = logged_requests([_ev("POST /x status=400 request_id=req_1"), why])
    assert r.why and "4111111111111111" not in r.step()


@given(st.text(alphabet="abc =_-:/", max_size=40), st.text(alphabet="abc =_-:/", max_size=40))
def test_a_card_number_in_the_reason_never_leaks(before: str, after: str) -> None:
    why = _ev(f"failed request_id=req_1 {before} 4111111111111111 {after}", LogLevel.ERROR)
    for r in logged_requests([_ev("POST /p status=400 request_id=req_1"), why]):
        assert "4111111111111111" not in r.step()


def test_package_uses_logged_request_when_nothing_else_reproduces() -> None:
    inp = make_input()
    inv = inp.investigation
    assert inv is not None
    corr: Correlation = replace(inv.correlation, transactions=[], logs=[SAML_FAIL, SAML_401])
    pkg = build_package(replace(inp, investigation=replace(inv, correlation=corr)))
    sec = pkg.sections["reproduction_steps"]
    assert sec.filled and "failed requests in the correlated logs" in sec.sources
    assert any("POST /sso/saml/acs" in s for s in sec.value)
    assert "api_request" not in sec.missing


def test_no_logged_request_leaves_reproduction_missing() -> None:
    inp = make_input()
    inv = inp.investigation
    assert inv is not None
    corr = replace(inv.correlation, transactions=[], logs=[SAML_FAIL])
    pkg = build_package(replace(inp, investigation=replace(inv, correlation=corr)))
    assert not pkg.sections["reproduction_steps"].filled
    assert "reproduction_steps" in pkg.completeness.ask_for


def test_timestamp_order_decides_which_request_is_quoted() -> None:
    late = replace(SAML_401, timestamp=T0 + timedelta(minutes=5), request_id="req_late")
    early = replace(SAML_401, message=SAML_401.message.replace("req_1a2b3c", "req_early"))
    [r] = logged_requests([late, early])
    assert r.request_id == "req_early"
