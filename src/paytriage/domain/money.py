"""Money as integer minor units plus an ISO 4217 currency code, never floats.

Zero-decimal currencies (JPY, KRW, ...) and three-decimal ones (BHD, KWD, ...) are why the
exponent table exists: a refund of ``JPY 5000`` is 5000 minor units, ``EUR 50.00`` is 5000 too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from paytriage.domain.errors import InputError

__all__ = ["CURRENCY_EXPONENTS", "Money", "currency_exponent"]

#: ISO 4217 minor-unit exponents that differ from 2, plus the common two-decimal codes we accept.
_ZERO = {
    "BIF",
    "CLP",
    "DJF",
    "GNF",
    "ISK",
    "JPY",
    "KMF",
    "KRW",
    "PYG",
    "RWF",
    "UGX",
    "UYI",
    "VND",
    "VUV",
    "XAF",
    "XOF",
    "XPF",
}
_THREE = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
_TWO = {
    "AED",
    "ARS",
    "AUD",
    "BGN",
    "BRL",
    "CAD",
    "CHF",
    "CNY",
    "COP",
    "CZK",
    "DKK",
    "EGP",
    "EUR",
    "GBP",
    "HKD",
    "HUF",
    "IDR",
    "ILS",
    "INR",
    "KES",
    "MAD",
    "MXN",
    "MYR",
    "NGN",
    "NOK",
    "NZD",
    "PEN",
    "PHP",
    "PKR",
    "PLN",
    "RON",
    "RSD",
    "RUB",
    "SAR",
    "SEK",
    "SGD",
    "THB",
    "TRY",
    "TWD",
    "UAH",
    "USD",
    "ZAR",
}
CURRENCY_EXPONENTS: dict[str, int] = {
    **{c: 2 for c in _TWO},
    **{c: 0 for c in _ZERO},
    **{c: 3 for c in _THREE},
}


def currency_exponent(currency: str) -> int:
    """Minor-unit exponent of an ISO 4217 code; unknown codes raise :class:`InputError`."""
    try:
        return CURRENCY_EXPONENTS[currency.upper()]
    except KeyError:
        raise InputError(f"unknown ISO 4217 currency code {currency!r}", field="currency") from None


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in integer minor units of ``currency``."""

    minor_units: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor_units, bool) or not isinstance(self.minor_units, int):
            raise InputError("amount must be integer minor units", field="amount")
        currency_exponent(self.currency)
        object.__setattr__(self, "currency", self.currency.upper())

    @classmethod
    def from_decimal(cls, amount: str | Decimal | int, currency: str) -> Money:
        """Build from a major-unit decimal string such as ``"12.50"``; rejects excess precision."""
        exp = currency_exponent(currency)
        try:
            value = Decimal(str(amount))
        except InvalidOperation:
            raise InputError(f"not a decimal amount: {amount!r}", field="amount") from None
        scaled = value.scaleb(exp)
        if scaled != scaled.to_integral_value():
            raise InputError(f"{amount} has more decimals than {currency} allows", field="amount")
        return cls(int(scaled), currency)

    def to_decimal(self) -> Decimal:
        """Major units as an exact :class:`Decimal`."""
        return Decimal(self.minor_units).scaleb(-currency_exponent(self.currency))

    def __str__(self) -> str:
        exp = currency_exponent(self.currency)
        return f"{self.currency} {self.to_decimal():,.{exp}f}"
