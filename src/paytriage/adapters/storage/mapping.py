"""Domain object ↔ ORM row conversion, and the content hashes that make ingest idempotent."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from paytriage.adapters.storage.orm import CaseRow, LogEventRow, TicketRow, TransactionRow
from paytriage.domain import (
    Case,
    CaseStatus,
    Channel,
    Comment,
    LogEvent,
    LogLevel,
    Money,
    Priority,
    Route,
    SlaClock,
    StatusChange,
    StatusEvent,
    Ticket,
    Transaction,
    TransactionKind,
    TransactionStatus,
)

__all__ = [
    "apply_case",
    "case_from_row",
    "content_hash",
    "log_from_row",
    "log_values",
    "ticket_from_row",
    "ticket_values",
    "transaction_from_row",
    "transaction_values",
]


def content_hash(values: dict[str, Any]) -> str:
    """Stable hash of a record's stored values: equal hash means re-import changes nothing."""
    blob = json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def ticket_values(t: Ticket) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source": t.source,
        "external_id": t.external_id,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "channel": t.channel.value,
        "status": t.status,
        "priority": t.priority,
        "subject": t.subject,
        "description": t.description,
        "requester_id": t.requester_id,
        "requester_email": t.requester_email,
        "organization": t.organization,
        "tags": list(t.tags),
        "custom_fields": dict(t.custom_fields),
        "tier1_agent": t.tier1_agent,
        "tier1_notes": t.tier1_notes,
    }
    comments = [[c.author, c.body, c.public, c.created_at.isoformat()] for c in t.comments]
    values["content_hash"] = content_hash({**values, "comments": comments})
    return values


def ticket_from_row(r: TicketRow) -> Ticket:
    return Ticket(
        id=r.id,
        external_id=r.external_id,
        source=r.source,
        created_at=r.created_at,
        updated_at=r.updated_at,
        description=r.description,
        subject=r.subject,
        channel=Channel(r.channel),
        status=r.status,
        priority=r.priority,
        requester_id=r.requester_id,
        requester_email=r.requester_email,
        organization=r.organization,
        tags=list(r.tags or []),
        custom_fields=dict(r.custom_fields or {}),
        comments=[
            Comment(author=c.author, body=c.body, created_at=c.created_at, public=c.public)
            for c in r.comments
        ],
        tier1_agent=r.tier1_agent,
        tier1_notes=r.tier1_notes,
    )


def transaction_values(t: Transaction) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source": t.source,
        "external_id": t.external_id,
        "kind": t.kind.value,
        "amount_minor": t.amount.minor_units,
        "currency": t.amount.currency,
        "status": t.status.value,
        "created_at": t.created_at,
        "merchant_id": t.merchant_id,
        "customer_id": t.customer_id,
        "processor": t.processor,
        "card_bin": t.card_bin,
        "card_last4": t.card_last4,
        "response_code": t.response_code,
        "decline_reason": t.decline_reason,
        "parent_id": t.parent_id,
        "country": t.country,
        "attributes": dict(t.attributes),
    }
    events = [[e.at.isoformat(), e.status.value, e.code, e.detail] for e in t.events]
    values["content_hash"] = content_hash({**values, "events": events})
    return values


def transaction_from_row(r: TransactionRow) -> Transaction:
    return Transaction(
        id=r.id,
        external_id=r.external_id,
        source=r.source,
        kind=TransactionKind(r.kind),
        amount=Money(r.amount_minor, r.currency),
        status=TransactionStatus(r.status),
        created_at=r.created_at,
        merchant_id=r.merchant_id,
        customer_id=r.customer_id,
        processor=r.processor,
        card_bin=r.card_bin,
        card_last4=r.card_last4,
        response_code=r.response_code,
        decline_reason=r.decline_reason,
        parent_id=r.parent_id,
        country=r.country,
        attributes=dict(r.attributes or {}),
        events=[
            StatusEvent(at=e.at, status=TransactionStatus(e.status), code=e.code, detail=e.detail)
            for e in r.events
        ],
    )


def log_values(e: LogEvent) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source": e.source,
        "timestamp": e.timestamp,
        "service": e.service,
        "level": e.level.value,
        "message": e.message,
        "transaction_id": e.transaction_id,
        "request_id": e.request_id,
        "merchant_id": e.merchant_id,
        "http_status": e.http_status,
        "error_code": e.error_code,
        "template_id": e.template_id,
        "attributes": dict(e.attributes),
    }
    values["fingerprint"] = e.fingerprint or content_hash(values)[:40]
    values["customer_id"] = e.customer_id  # after the hash: fingerprints of earlier ingests still match
    return values


def log_from_row(r: LogEventRow) -> LogEvent:
    return LogEvent(
        id=r.id,
        timestamp=r.timestamp,
        message=r.message,
        source=r.source,
        service=r.service,
        level=LogLevel(r.level),
        transaction_id=r.transaction_id,
        request_id=r.request_id,
        merchant_id=r.merchant_id,
        http_status=r.http_status,
        error_code=r.error_code,
        attributes=dict(r.attributes or {}),
        fingerprint=r.fingerprint,
        template_id=r.template_id,
        customer_id=r.customer_id,
    )


def case_from_row(r: CaseRow) -> Case:
    case = Case(
        id=r.id,
        title=r.title,
        created_at=r.created_at,
        status=CaseStatus(r.status),
        assignee=r.assignee,
        category=r.category,
        route=Route(r.route) if r.route else None,
        priority=Priority(r.priority) if r.priority else None,
        problem_id=r.problem_id,
        first_response_sla=SlaClock(
            target=timedelta(seconds=r.frt_target_s), started_at=r.frt_started_at, stopped_at=r.frt_stopped_at
        ),
        resolution_sla=SlaClock(
            target=timedelta(seconds=r.res_target_s),
            started_at=r.res_started_at,
            stopped_at=r.res_stopped_at,
            paused_since=r.res_paused_since,
            paused_total=timedelta(seconds=r.res_paused_total_s),
        ),
        ticket_ids=[t.ticket_id for t in r.tickets],
        history=[
            StatusChange(at=h.at, old=CaseStatus(h.old), new=CaseStatus(h.new), actor=h.actor)
            for h in r.history
        ],
    )
    return case


def apply_case(case: Case, r: CaseRow) -> None:
    """Write the mutable parts of a domain case back onto its row."""
    r.status = case.status.value
    r.assignee = case.assignee
    r.category = case.category
    r.route = case.route.value if case.route else None
    r.priority = case.priority.value if case.priority else None
    r.problem_id = case.problem_id
    r.frt_stopped_at = case.first_response_sla.stopped_at
    r.res_stopped_at = case.resolution_sla.stopped_at
    r.res_paused_since = case.resolution_sla.paused_since
    r.res_paused_total_s = int(case.resolution_sla.paused_total.total_seconds())
