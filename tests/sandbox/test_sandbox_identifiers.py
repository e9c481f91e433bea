"""Check digits: every generated card number passes Luhn, every IBAN passes mod-97."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytriage.sandbox.identifiers import (
    IBAN_FORMATS,
    iban_valid,
    luhn_check_digit,
    luhn_valid,
    make_iban,
    make_pan,
)


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("378282246310005", True),
        ("79927398713", True),
        ("79927398710", False),
    ],
)
def test_luhn_known_values(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


def test_luhn_check_digit_known() -> None:
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_check_digit("411111111111111") == "1"


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("DE89370400440532013000", True),
        ("GB82WEST12345698765432", True),
        ("GB82 WEST 1234 5698 7654 32", True),
        ("DE89370400440532013001", False),
        ("FR1420041010050500013M02606", True),
        ("XX00", False),
    ],
)
def test_iban_known_values(iban: str, valid: bool) -> None:
    assert iban_valid(iban) is valid


@given(
    seed=st.integers(0, 2**32), bin6=st.from_regex(r"\A[2-6][0-9]{5}\Z"), length=st.sampled_from([15, 16, 19])
)
def test_make_pan_is_luhn_valid(seed: int, bin6: str, length: int) -> None:
    pan = make_pan(random.Random(seed), bin6, length)
    assert len(pan) == length and pan.startswith(bin6) and luhn_valid(pan)
    broken = pan[:-1] + str((int(pan[-1]) + 1) % 10)
    assert not luhn_valid(broken)


@given(seed=st.integers(0, 2**32), country=st.sampled_from(sorted(IBAN_FORMATS)))
def test_make_iban_is_valid(seed: int, country: str) -> None:
    iban = make_iban(random.Random(seed), country)
    assert iban.startswith(country) and iban_valid(iban)
