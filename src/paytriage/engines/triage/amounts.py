"""Money in any common notation: ``€1.234,56``, ``JPY 5000``, ``$12.50``, ``12,50 EUR``, ``40 euros``.

:func:`parse_amount` decides which separator is the decimal one from the currency's exponent and
the digits after the last separator, so ``1.234`` EUR is a thousand and ``1.234`` KWD (3 decimals)
is one dinar.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from paytriage.domain.errors import PaytriageError
from paytriage.domain.money import CURRENCY_EXPONENTS, Money
from paytriage.engines.triage.entity import Entity, EntityKind

__all__ = ["find_amounts", "parse_amount"]

_SYMBOLS = {
    "€": "EUR",
    "$": "USD",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "zł": "PLN",
    "kr": "SEK",
    "R$": "BRL",
    "A$": "AUD",
    "C$": "CAD",
    "US$": "USD",
    "CHF": "CHF",
    "₴": "UAH",
    "₪": "ILS",
    "฿": "THB",
    "₱": "PHP",
    "₦": "NGN",
}
_CODES = "|".join(sorted(CURRENCY_EXPONENTS))
_SYM = "|".join(re.escape(s) for s in sorted(_SYMBOLS, key=len, reverse=True))
_NUM = r"\d{1,3}(?:[.,\u00a0\u202f ' ]\d{3})+(?:[.,]\d{1,3})?|\d+(?:[.,]\d{1,3})?"
# The shared look-behind is tested once per position (before 2026-11: once per alternative).
_AMOUNT = re.compile(
    rf"(?<![\w.,])(?:(?:(?P<c1>{_CODES})\s?|(?P<s1>{_SYM})\s?)(?P<n1>-?(?:{_NUM}))(?![\d])"
    rf"|(?P<n2>{_NUM})\s?(?:(?P<c2>{_CODES})\b|(?P<s2>{_SYM})(?!\w)|(?P<w2>euros?|dollars?|pounds?|yen)\b))",
)
_WORD_CURRENCY = {
    "euro": "EUR",
    "euros": "EUR",
    "dollar": "USD",
    "dollars": "USD",
    "pound": "GBP",
    "pounds": "GBP",
    "yen": "JPY",
}


def parse_amount(number: str, currency: str) -> Money | None:
    """``"1.234,56"``/``"1,234.56"``/``"12,50"``/``"5000"`` in ``currency`` → :class:`Money`, or None."""
    s = re.sub(r"[\u00a0\u202f ' ]", "", number)
    exp = CURRENCY_EXPONENTS.get(currency, 2)
    last_dot, last_comma = s.rfind("."), s.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        dec = "." if last_dot > last_comma else ","
        s = s.replace("," if dec == "." else ".", "").replace(dec, ".")
    elif last_dot >= 0 or last_comma >= 0:
        sep = "." if last_dot >= 0 else ","
        tail = s.rsplit(sep, 1)[1]
        thousands = s.count(sep) > 1 or (len(tail) == 3 and exp != 3)
        s = s.replace(sep, "" if thousands else ".")
    try:
        value = Decimal(s)
        return Money.from_decimal(value.quantize(Decimal(1).scaleb(-exp)), currency)
    except (InvalidOperation, PaytriageError):
        return None


def find_amounts(text: str, low: str, lowered: str | None) -> list[Entity]:
    """Every amount with a currency (code, symbol or word); a bare number is not money."""
    out = []
    for m in _AMOUNT.finditer(text):
        g = m.groupdict()
        number = g["n1"] or g["n2"]
        sym = g["s1"] or g["s2"]
        cur = (
            g["c1"]
            or g["c2"]
            or (_SYMBOLS.get(sym) if sym else None)
            or _WORD_CURRENCY.get((g["w2"] or "").lower())
        )
        if not cur or not number:
            continue
        money = parse_amount(number.lstrip("-"), cur)
        if money is not None:
            conf = 0.9 if (g["c1"] or g["c2"]) else 0.8
            out.append(Entity(EntityKind.AMOUNT, m.group(0).strip(), m.start(), m.end(), money, conf))
    return out
