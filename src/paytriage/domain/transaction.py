"""Transaction: a payment, refund, payout, transfer, chargeback or payment-method binding.

Amounts are integer minor units plus ISO 4217 currency (see :mod:`paytriage.domain.money`).
Only the card BIN (first six) and last four are ever held: PCI-DSS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from paytriage.domain.money import Money

__all__ = ["StatusEvent", "Transaction", "TransactionKind", "TransactionStatus"]


class TransactionKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    PAYOUT = "payout"
    TRANSFER = "transfer"
    TOPUP = "topup"
    CHARGEBACK = "chargeback"
    BINDING = "binding"


class TransactionStatus(StrEnum):
    CREATED = "created"
    PENDING = "pending"
    AUTHORIZED = "authorized"
    CAPTURED = "captured"
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    FAILED = "failed"
    REVERSED = "reversed"
    REFUNDED = "refunded"
    RETURNED = "returned"
    CANCELLED = "cancelled"
    DISPUTED = "disputed"


@dataclass(slots=True)
class StatusEvent:
    """One step of a transaction's lifecycle."""

    at: datetime
    status: TransactionStatus
    code: str | None = None
    detail: str | None = None


@dataclass(slots=True)
class Transaction:
    """A money movement. ``(source, external_id)`` identifies it across imports."""

    external_id: str
    source: str
    kind: TransactionKind
    amount: Money
    status: TransactionStatus
    created_at: datetime
    merchant_id: str | None = None
    customer_id: str | None = None
    processor: str | None = None
    card_bin: str | None = None
    card_last4: str | None = None
    response_code: str | None = None
    decline_reason: str | None = None
    parent_id: str | None = None
    country: str | None = None
    events: list[StatusEvent] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
