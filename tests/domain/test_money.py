from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytriage.domain import InputError, Money


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("5000", "JPY", 5000),
        ("1.234", "KWD", 1234),
        ("0", "usd", 0),
        ("-3.10", "GBP", -310),
    ],
)
def test_from_decimal(amount: str, currency: str, minor: int) -> None:
    assert Money.from_decimal(amount, currency).minor_units == minor


@pytest.mark.parametrize(
    ("amount", "currency"), [("12.505", "EUR"), ("50.5", "JPY"), ("abc", "EUR"), ("1", "XYZ")]
)
def test_rejects(amount: str, currency: str) -> None:
    with pytest.raises(InputError):
        Money.from_decimal(amount, currency)


def test_floats_are_refused() -> None:
    with pytest.raises(InputError):
        Money(12.5, "EUR")  # type: ignore[arg-type]


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(["EUR", "JPY", "KWD", "USD"]))
def test_round_trip(minor: int, currency: str) -> None:
    m = Money(minor, currency)
    assert Money.from_decimal(m.to_decimal(), currency) == m
    assert isinstance(m.to_decimal(), Decimal)
