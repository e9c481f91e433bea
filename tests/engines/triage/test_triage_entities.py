"""Entity extraction: a table of realistic snippets, money notations, and never-crash properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paytriage.domain.money import Money
from paytriage.engines.triage.entities import EntityExtractor, EntityKind, parse_amount

EX = EntityExtractor(extra_id_patterns={"transaction_id": [r"\bACME-\d{6}\b"]})


def values(text: str, kind: EntityKind) -> list[object]:
    return [e.value for e in EX.extract(text) if e.kind is kind]


@pytest.mark.parametrize(
    ("text", "money"),
    [
        ("paid €1.234,56 yesterday", Money(123456, "EUR")),
        ("a refund of JPY 5000", Money(5000, "JPY")),
        ("only $12.50", Money(1250, "USD")),
        ("12,50 EUR were taken", Money(1250, "EUR")),
        ("charged 1,234.56 USD", Money(123456, "USD")),
        ("£3 fee", Money(300, "GBP")),
        ("about 40 euros", Money(4000, "EUR")),
        ("KWD 1.250", Money(1250, "KWD")),
    ],
)
def test_amounts(text: str, money: Money) -> None:
    assert values(text, EntityKind.AMOUNT) == [money]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("txn ch_3NabcDEFgh12 failed", EntityKind.TRANSACTION_ID, "ch_3NabcDEFgh12"),
        ("order id: ORD-778812", EntityKind.TRANSACTION_ID, "ORD-778812"),
        ("see ACME-123456", EntityKind.TRANSACTION_ID, "ACME-123456"),
        ("merchant id M12345", EntityKind.MERCHANT_ID, "M12345"),
        ("customer cus_Ab12Cd34Ef", EntityKind.CUSTOMER_ID, "cus_Ab12Cd34Ef"),
        ("it said code 05", EntityKind.DECLINE_CODE, "05"),
        ("declined: do not honor", EntityKind.DECLINE_CODE, "05"),
        ("insufficient funds again", EntityKind.DECLINE_CODE, "51"),
        ("decline_code=generic_decline", EntityKind.DECLINE_CODE, "generic_decline"),
        ("returned with AC04", EntityKind.DECLINE_CODE, "AC04"),
        ("HTTP 502 from the API", EntityKind.HTTP_STATUS, 502),
        ("we get 401 Unauthorized", EntityKind.HTTP_STATUS, 401),
        ("POST /v1/refunds hangs", EntityKind.API_ENDPOINT, "POST /v1/refunds"),
        ("mail me at a.b@example.com", EntityKind.EMAIL, "a.b@example.com"),
        ("call +44 20 7946 0958", EntityKind.PHONE, "+44 20 7946 0958"),
        ("card 411111******1111", EntityKind.CARD_BIN, "411111"),
        ("declines on cards starting 429330 only", EntityKind.CARD_BIN, "429330"),
        ("cards that begin with 45717360 fail", EntityKind.CARD_BIN, "45717360"),
        ("BIN range 535522 is hit", EntityKind.CARD_BIN, "535522"),
        ("API returns error code E4280 from the gateway", EntityKind.DECLINE_CODE, "E4280"),
        ("processor response code 2046 on every sale", EntityKind.DECLINE_CODE, "2046"),
        ("card ending in 4242", EntityKind.CARD_LAST4, "4242"),
        ("IBAN DE****************3000", EntityKind.IBAN, "DE****************3000"),
        ("on 2026-11-05 at 14:02", EntityKind.DATE, "2026-11-05"),
        ("on 5 Nov 2026", EntityKind.DATE, "2026-11-05"),
        ("on 25/11/2026", EntityKind.DATE, "2026-11-25"),
        ("on 2026-11-05 at 14:02", EntityKind.TIME, "14:02"),
        (
            "the app shows 'Payment could not be processed'",
            EntityKind.ERROR_MESSAGE,
            "Payment could not be processed",
        ),
    ],
)
def test_entity_table(text: str, kind: EntityKind, value: object) -> None:
    assert value in values(text, kind)


def test_software_with_version() -> None:
    sw = values("after the WooCommerce plugin 8.2.1 update", EntityKind.SOFTWARE)
    assert {"name": "WooCommerce", "version": "8.2.1"} in sw


def test_software_version_after_to() -> None:
    sw = values("since we upgraded WooCommerce plugin to 7.6.2 nothing works", EntityKind.SOFTWARE)
    assert {"name": "WooCommerce", "version": "7.6.2"} in sw


@pytest.mark.parametrize("text", ["error code 2 minutes later", "gateway error code 3.5 seconds"])
def test_no_gateway_code_from_durations(text: str) -> None:
    assert values(text, EntityKind.DECLINE_CODE) == []


def test_spans_point_into_text() -> None:
    text = "Refund of €1.234,56 for order ORD-778812 on 2026-11-05"
    for e in EX.extract(text):
        assert text[e.start : e.end] == e.text
        assert 0 < e.confidence <= 1


@pytest.mark.parametrize("text", ["the year 2026 and 15 items", "version 2.3", "call me at 5pm", "room 404"])
def test_no_amount_without_currency(text: str) -> None:
    assert values(text, EntityKind.AMOUNT) == []


@given(st.integers(0, 10**9), st.sampled_from(["EUR", "USD", "JPY", "GBP"]), st.booleans())
def test_parse_amount_roundtrip(minor: int, currency: str, european: bool) -> None:
    money = Money(minor, currency)
    shown = f"{money.to_decimal():,}"
    if european:
        shown = shown.replace(",", "_").replace(".", ",").replace("_", ".")
    assert parse_amount(shown, currency) == money


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_extract_never_crashes(text: str) -> None:
    for e in EX.extract(text):
        assert text[e.start : e.end] == e.text
