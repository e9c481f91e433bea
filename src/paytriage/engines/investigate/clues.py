"""Clues: what a case's tickets say — ids, amounts, codes, software, when — and transaction states as of
a moment (a lifecycle replayed), the two inputs every correlation starts from."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from paytriage.domain import Money, Ticket, Transaction, TransactionStatus
from paytriage.engines.triage.entities import EntityExtractor, EntityKind

__all__ = ["ID_PATTERN", "PROBLEM_STATUSES", "Clues", "add_unique", "clues_from_tickets", "status_as_of"]

PROBLEM_STATUSES = frozenset(
    {
        TransactionStatus.DECLINED,
        TransactionStatus.FAILED,
        TransactionStatus.PENDING,
        TransactionStatus.CREATED,
        TransactionStatus.RETURNED,
        TransactionStatus.REVERSED,
        TransactionStatus.DISPUTED,
    }
)
#: Prefixed ids (``pay_…``, ``req_…``, ``m_…``) anywhere in a ticket: tried as transaction, request
#: and merchant ids (all indexed lookups, so a wrong guess costs nothing).
ID_PATTERN = re.compile(r"\b[a-z]{1,5}_[A-Za-z0-9]{6,40}\b")
_ID_FIELDS = ("transaction_id", "payment_id", "payout_id", "refund_id", "request_id", "order_id")


@dataclass(slots=True)
class Clues:
    """What the tickets of a case say: ids, amounts, codes, and when."""

    opened_at: datetime
    as_of: datetime
    ids: list[str] = field(default_factory=list)
    merchant_ids: list[str] = field(default_factory=list)
    customer_ids: list[str] = field(default_factory=list)
    amounts: list[Money] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    http_statuses: list[int] = field(default_factory=list)
    software: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


def add_unique(items: list[str], value: object) -> None:
    if isinstance(value, str) and value.strip() and value.strip() not in items:
        items.append(value.strip())


def clues_from_tickets(
    tickets: Sequence[Ticket], *, extractor: EntityExtractor | None = None, as_of: datetime | None = None
) -> Clues:
    """Collect ids, amounts and codes from ticket fields and (redacted) text."""
    if not tickets:
        raise ValueError("a case without tickets has nothing to investigate")
    ex = extractor or EntityExtractor()
    opened = min(t.created_at for t in tickets)
    clues = Clues(opened_at=opened, as_of=as_of or max(t.created_at for t in tickets))
    for t in tickets:
        cf = t.custom_fields or {}
        for name in _ID_FIELDS:
            add_unique(clues.ids, cf.get(name))
        add_unique(clues.merchant_ids, cf.get("merchant_id"))
        add_unique(clues.customer_ids, cf.get("customer_id"))
        if t.requester_id and "@" not in t.requester_id:
            add_unique(clues.customer_ids, t.requester_id)
        add_unique(clues.software, cf.get("integration"))
        text = "\n".join(
            x for x in (t.subject, t.description, t.tier1_notes, *(c.body for c in t.comments)) if x
        )
        clues.texts.append(text)
        for m in ID_PATTERN.finditer(text):
            add_unique(clues.ids, m.group(0))
        for e in ex.extract(text):
            if e.kind is EntityKind.TRANSACTION_ID:
                add_unique(clues.ids, e.value)
            elif e.kind is EntityKind.MERCHANT_ID:
                add_unique(clues.merchant_ids, e.value)
            elif e.kind is EntityKind.CUSTOMER_ID:
                add_unique(clues.customer_ids, e.value)
            elif e.kind is EntityKind.AMOUNT and isinstance(e.value, Money):
                clues.amounts.append(e.value)
            elif e.kind is EntityKind.DECLINE_CODE:
                add_unique(clues.codes, str(e.value))
            elif e.kind is EntityKind.HTTP_STATUS and str(e.value).isdigit():
                clues.http_statuses.append(int(e.value))
            elif e.kind is EntityKind.SOFTWARE and isinstance(e.value, dict):
                add_unique(clues.software, f"{e.value.get('name')} {e.value.get('version') or ''}".strip())
    return clues


def status_as_of(txn: Transaction, at: datetime) -> TransactionStatus:
    """The status a transaction had at ``at`` (its lifecycle replayed; the stored one without events)."""
    if not txn.events:
        return txn.status
    status = None
    for e in sorted(txn.events, key=lambda e: e.at):
        if e.at > at:
            break
        status = e.status
    return status or TransactionStatus.CREATED
