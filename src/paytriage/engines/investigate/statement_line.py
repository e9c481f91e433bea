"""One normalised bank-statement line, whatever the format it came from (MT940, BAI2, camt.053).

Statement parsers and the payout matcher meet here. Amounts are unsigned integer minor units with a
credit/debit mark (as banks book them); ``signed_minor_units`` gives the account-holder's view. Every
line keeps the file and line it came from so an analyst can open the evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from paytriage.domain.errors import InputError
from paytriage.domain.money import currency_exponent

__all__ = [
    "CreditDebit",
    "PaymentStatusLine",
    "StatementLine",
    "extract_return_reason",
    "minor_units",
    "safe_exponent",
]

#: ISO 20022 return/reject reason codes as they appear in bank narratives ("RETURN AC04", "/RTRN/MS03/").
_REASON_IN_TEXT = re.compile(
    r"(?i:\b(?:rtrn|return(?:ed)?|reject(?:ed)?|reason|rsn)\b)[^A-Za-z0-9]{0,3}"
    r"(?:[A-Za-z]{1,12}[^A-Za-z0-9]{1,3}){0,2}?"
    r"(?P<code>[A-Z]{2}\d{2}|NARR|FOCR|CUST|UPAY|FRAD|AGNT)\b"
)


class CreditDebit(StrEnum):
    """Booking side from the statement account's point of view."""

    CREDIT = "credit"
    DEBIT = "debit"


def safe_exponent(currency: str) -> int:
    """ISO 4217 minor-unit exponent; 2 for codes our table lacks (e.g. legacy DEM in old statements)."""
    try:
        return currency_exponent(currency)
    except InputError:
        return 2


def minor_units(text: str, currency: str, *, line: int | None = None, field_name: str = "amount") -> int:
    """``"1.234,56"``-free decimal text (``,`` or ``.`` as the separator) to integer minor units."""
    raw = text.strip().replace(",", ".")
    if raw.endswith("."):
        raw = raw[:-1]
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InputError(f"not an amount: {text!r}", line=line, field=field_name) from None
    if not value.is_finite() or value < 0:
        raise InputError(f"not an unsigned amount: {text!r}", line=line, field=field_name)
    scaled = value.scaleb(safe_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise InputError(f"{text!r} has more decimals than {currency} allows", line=line, field=field_name)
    return int(scaled)


def extract_return_reason(text: str | None) -> str | None:
    """A return reason code quoted in narrative text (``RETURN AC04``, ``/RTRN/MS03/``), if any."""
    if not text:
        return None
    m = _REASON_IN_TEXT.search(text)
    return m.group("code") if m else None


@dataclass(slots=True)
class StatementLine:
    """One booked (or pending) entry of a bank statement."""

    account: str
    amount: int
    currency: str
    credit_debit: CreditDebit
    booking_date: date | None = None
    value_date: date | None = None
    end_to_end_id: str | None = None
    bank_reference: str | None = None
    customer_reference: str | None = None
    other_references: tuple[str, ...] = ()
    counterparty_name: str | None = None
    counterparty_account: str | None = None
    remittance: str = ""
    return_reason: str | None = None
    reversal: bool = False
    status: str = "BOOK"
    transaction_code: str | None = None
    source_format: str = ""
    source_name: str = ""
    source_line: int | None = None
    parser: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def signed_minor_units(self) -> int:
        return self.amount if self.credit_debit is CreditDebit.CREDIT else -self.amount

    @property
    def is_return(self) -> bool:
        """A credit that gives back an earlier debit (return/reject reason or reversal)."""
        return self.credit_debit is CreditDebit.CREDIT and (self.return_reason is not None or self.reversal)

    @property
    def references(self) -> tuple[str, ...]:
        """Every non-empty reference on the line, most specific first."""
        refs = (self.end_to_end_id, self.customer_reference, self.bank_reference, *self.other_references)
        return tuple(dict.fromkeys(r for r in refs if r))

    @property
    def where(self) -> str:
        """``file:line`` for evidence."""
        return f"{self.source_name or '<input>'}:{self.source_line or '?'}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "amount_minor": self.amount,
            "currency": self.currency,
            "credit_debit": self.credit_debit.value,
            "booking_date": self.booking_date.isoformat() if self.booking_date else None,
            "value_date": self.value_date.isoformat() if self.value_date else None,
            "end_to_end_id": self.end_to_end_id,
            "bank_reference": self.bank_reference,
            "customer_reference": self.customer_reference,
            "other_references": list(self.other_references),
            "counterparty_name": self.counterparty_name,
            "counterparty_account": self.counterparty_account,
            "remittance": self.remittance,
            "return_reason": self.return_reason,
            "reversal": self.reversal,
            "status": self.status,
            "transaction_code": self.transaction_code,
            "source": self.where,
            "format": self.source_format,
            "parser": self.parser,
        }


@dataclass(slots=True)
class PaymentStatusLine:
    """One status from a pain.002 / pacs.002 report: accepted, pending or rejected with a reason."""

    status: str
    original_message_id: str | None = None
    original_payment_info_id: str | None = None
    original_instruction_id: str | None = None
    original_end_to_end_id: str | None = None
    reason_code: str | None = None
    additional_info: str = ""
    amount: int | None = None
    currency: str | None = None
    level: str = "transaction"
    source_format: str = ""
    source_name: str = ""
    source_line: int | None = None

    @property
    def references(self) -> tuple[str, ...]:
        refs = (
            self.original_end_to_end_id,
            self.original_instruction_id,
            self.original_payment_info_id,
            self.original_message_id,
        )
        return tuple(dict.fromkeys(r for r in refs if r))

    @property
    def where(self) -> str:
        return f"{self.source_name or '<input>'}:{self.source_line or '?'}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "level": self.level,
            "original_message_id": self.original_message_id,
            "original_payment_info_id": self.original_payment_info_id,
            "original_instruction_id": self.original_instruction_id,
            "original_end_to_end_id": self.original_end_to_end_id,
            "reason_code": self.reason_code,
            "additional_info": self.additional_info,
            "amount_minor": self.amount,
            "currency": self.currency,
            "source": self.where,
            "format": self.source_format,
        }
