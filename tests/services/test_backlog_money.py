"""Backlog money stays in integer minor units per currency (JPY has no decimals, KWD three)."""

from __future__ import annotations

from paytriage.services.backlog import _major_total, _money_from_text


def test_money_text_to_minor_units() -> None:
    assert _money_from_text("EUR 1,234.50; JPY 5,000; KWD 1.250") == {"EUR": 123450, "JPY": 5000, "KWD": 1250}
    assert _money_from_text("no amount") == {}
    assert _money_from_text("XYZ 12.00") == {}


def test_major_total_respects_exponents() -> None:
    assert _major_total({"JPY": 5000, "EUR": 1250}) == 5012.5
