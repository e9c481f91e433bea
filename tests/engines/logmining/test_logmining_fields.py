"""Ids, level and service pulled out of log lines (table-driven, plus properties for any text)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytriage.adapters.connectors.rows import log_from_text
from paytriage.domain import LogEvent, LogLevel
from paytriage.engines.logmining.fields import enrich_event, extract_fields, parse_logfmt, split_logger

# (message, transaction_id, request_id, merchant_id, customer_id)
CASES = [
    ("auth declined txn=pay_00009532a9a79b merchant=m_001218c90 bin=518653 rc=05", "pay_00009532a9a79b", None,
     "m_001218c90", None),
    ("Refund re_00001156369f2c created for payment pay_00000756339748 requested_by=m_001519f85",
     "re_00001156369f2c", None, "m_001519f85", None),
    ('level=warn service=payouts msg="no settlement payout_id=po_00004719bf29d7 bank=HANSDEFFXXX"',
     "po_00004719bf29d7", None, None, None),
    ("document stored account=cus_002684 mime=application/pdf", None, None, None, "cus_002684"),
    ("login ok org=m_001001047 method=password", None, None, "m_001001047", None),
    ("request_id=3f2b8c1e-9a4d-4e0f-8b7a-1c2d3e4f5a6b status=500", None,
     "3f2b8c1e-9a4d-4e0f-8b7a-1c2d3e4f5a6b", None, None),
    ("GET /v1/payouts/po_1234abcd gave 404 for acct_1Hx9kLm2", "po_1234abcd", None, "acct_1Hx9kLm2", None),
    ("charge ch_3MtwBwLkdIwHu7ix28a3tqPa failed: card_declined customer cus_NffrFeUfNV2Hib",
     "ch_3MtwBwLkdIwHu7ix28a3tqPa", None, None, "cus_NffrFeUfNV2Hib"),
    ("payment_id=A1B2C3D4E5 order=ord_77 amount=100", "A1B2C3D4E5", None, None, None),
    ("topup tu_0000a91c22f3 status=pending method=bank_transfer", "tu_0000a91c22f3", None, None, None),
    ("deposit_id=DEP-2291-77 credited late", "DEP-2291-77", None, None, None),
    ("retry scheduled attempt=3 delay_ms=400", None, None, None, None),  # numbers, not ids
    ("card_declined insufficient_funds", None, None, None, None),  # snake words without digits
]  # fmt: skip


@pytest.mark.parametrize(("message", "txn", "req", "merchant", "customer"), CASES)
def test_ids_from_text(
    message: str, txn: str | None, req: str | None, merchant: str | None, customer: str | None
) -> None:
    got = extract_fields(message)
    assert (got.transaction_id, got.request_id, got.merchant_id, got.customer_id) == (
        txn,
        req,
        merchant,
        customer,
    )


def test_logfmt_quotes_escapes_and_nested_pairs() -> None:
    pairs = parse_logfmt('a=1 b="x \\"y\\" z" c= d=e, msg="k=v q=\\"r s\\""')
    assert pairs == [
        ("a", "1"),
        ("b", 'x "y" z'),
        ("c", ""),
        ("d", "e"),
        ("msg", 'k=v q="r s"'),
        ("k", "v"),
        ("q", "r s"),
    ]


def test_logfmt_level_and_service() -> None:
    got = extract_fields('level=error svc=ledger msg="write failed"')
    assert (got.level, got.service) == ("error", "ledger")


def _text(line: str, service: str | None = None) -> LogEvent:
    return enrich_event(
        log_from_text(line, line=1, source="t", service=service), text_line=True, default_service=service
    )


def test_logback_thread_first_gets_logger_as_service() -> None:
    e = _text("2026-11-23 10:00:01.123 [http-nio-8080-exec-7] ERROR c.p.gateway.Client - msg")
    assert e.service == "c.p.gateway.Client"
    assert e.level is LogLevel.ERROR
    assert e.attributes["thread"] == "http-nio-8080-exec-7"
    assert e.message == "c.p.gateway.Client - msg"


def test_logback_level_first_gets_logger_as_service() -> None:
    e = _text(
        "2026-01-23 19:59:38.164  WARN [kyc-upload-2] c.p.kyc.DocumentService - rejected account=cus_002251"
    )
    assert (e.service, e.level, e.customer_id) == ("c.p.kyc.DocumentService", LogLevel.WARNING, "cus_002251")
    assert e.attributes["thread"] == "kyc-upload-2"


def test_bracketed_service_without_logger_is_kept() -> None:
    e = _text("2026-01-29T01:15:21.915Z INFO [payments-core] auth approved txn=pay_00015871e55295")
    assert (e.service, e.transaction_id) == ("payments-core", "pay_00015871e55295")


def test_python_logging_layout() -> None:
    e = _text("2026-01-20 12:29:42,785 WARNING acs_connector.challenge: ACS timeout txn=pay_0001021290d268")
    assert (e.service, e.level, e.transaction_id) == (
        "acs_connector.challenge",
        LogLevel.WARNING,
        "pay_0001021290d268",
    )


def test_logfmt_line_level_and_service() -> None:
    e = _text(
        '2026-01-06T05:22:13Z level=warn service=payouts msg="no settlement payout_id=po_00004719bf29d7"'
    )
    assert (e.level, e.service, e.transaction_id) == (LogLevel.WARNING, "payouts", "po_00004719bf29d7")


def test_explicit_service_option_is_not_replaced() -> None:
    e = _text("2026-01-23 19:59:38.164 INFO c.p.kyc.DocumentService - stored", service="kyc")
    assert e.service == "kyc"


def test_record_values_are_never_overwritten() -> None:
    e = LogEvent(
        timestamp=datetime(2026, 1, 1, tzinfo=UTC), message="txn=pay_00000001aa", transaction_id="pay_X1"
    )
    enrich_event(e, text_line=False)
    assert e.transaction_id == "pay_X1"


def test_split_logger_without_logger() -> None:
    assert split_logger("plain message - with dash") == (None, None, "plain message - with dash")


@given(st.text(max_size=300))
def test_any_text_gives_single_token_ids(text: str) -> None:
    got = extract_fields(text)
    for value in (got.transaction_id, got.request_id, got.merchant_id, got.customer_id):
        assert value is None or (len(value) <= 128 and not any(c.isspace() or c == '"' for c in value))


@given(st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), st.text(max_size=20), max_size=5))
def test_logfmt_round_trip(pairs: dict[str, str]) -> None:
    line = " ".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in pairs.items()
    )
    got = parse_logfmt(line, nested=False)
    assert got == list(pairs.items())
