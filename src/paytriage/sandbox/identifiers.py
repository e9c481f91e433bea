"""Check-digit arithmetic for the sandbox: Luhn card numbers and ISO 13616 IBANs.

Fake data that fails a checksum is useless for testing redaction or bank-statement parsing, so
every PAN the sandbox prints is Luhn-valid and every IBAN passes the mod-97 check.
"""

from __future__ import annotations

import random
import string

__all__ = ["IBAN_FORMATS", "iban_valid", "luhn_check_digit", "luhn_valid", "make_iban", "make_pan"]

#: BBAN layout per country: a sequence of (kind, length), kind "n" digits or "a" upper-case letters.
IBAN_FORMATS: dict[str, tuple[tuple[str, int], ...]] = {
    "DE": (("n", 8), ("n", 10)),
    "FR": (("n", 5), ("n", 5), ("n", 11), ("n", 2)),
    "NL": (("a", 4), ("n", 10)),
    "ES": (("n", 4), ("n", 4), ("n", 2), ("n", 10)),
    "IT": (("a", 1), ("n", 5), ("n", 5), ("n", 12)),
    "GB": (("a", 4), ("n", 6), ("n", 8)),
    "IE": (("a", 4), ("n", 6), ("n", 8)),
    "BE": (("n", 3), ("n", 7), ("n", 2)),
    "AT": (("n", 5), ("n", 11)),
    "PL": (("n", 8), ("n", 16)),
    "SE": (("n", 3), ("n", 17)),
}


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum every payment card number satisfies."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_check_digit(partial: str) -> str:
    """The digit that makes ``partial + digit`` Luhn-valid."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = ord(ch) - 48
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def make_pan(rng: random.Random, bin6: str, length: int = 16) -> str:
    """A Luhn-valid card number starting with ``bin6``."""
    body = bin6 + "".join(rng.choices(string.digits, k=length - len(bin6) - 1))
    return body + luhn_check_digit(body)


def _iban_number(text: str) -> int:
    return int("".join(str(int(c, 36)) for c in text))


def make_iban(rng: random.Random, country: str) -> str:
    """A random IBAN for ``country`` with correct mod-97 check digits."""
    layout = IBAN_FORMATS[country]
    bban = "".join(
        "".join(rng.choices(string.digits if kind == "n" else string.ascii_uppercase, k=n))
        for kind, n in layout
    )
    check = 98 - _iban_number(bban + country + "00") % 97
    return f"{country}{check:02d}{bban}"


def iban_valid(iban: str) -> bool:
    """ISO 13616 mod-97 check (spaces ignored)."""
    s = iban.replace(" ", "").upper()
    if len(s) < 15 or not s[:2].isalpha() or not s[2:4].isdigit() or not s.isalnum():
        return False
    return _iban_number(s[4:] + s[:4]) % 97 == 1
