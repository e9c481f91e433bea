"""Draft customer notifications after a defect is fixed: one per requester, stored for a person to send.

The text is customer-safe by construction: it quotes only what the customer wrote (their ticket
numbers and redacted subjects) and a fixed template (:data:`TEMPLATE`); no internal component,
tracker key or root-cause wording reaches it. When a knowledge article (``config/knowledge``) matches
the customer's tickets, the article is named at the end. Every draft records the template version.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from paytriage.adapters.storage.orm import CaseRow, CaseTicketRow, DefectNotificationRow, DefectRow, TicketRow
from paytriage.domain import InputError, NotFoundError, utcnow
from paytriage.engines.redaction import redact
from paytriage.engines.triage.config import DEFAULT_CONFIG_DIR
from paytriage.engines.triage.knowledge import KnowledgeMatcher, load_kb_entries

__all__ = [
    "EXPORT_COLUMNS",
    "TEMPLATE",
    "TEMPLATE_VERSION",
    "NoticeStatus",
    "draft_notifications",
    "export_notifications",
    "list_notifications",
    "mark_notification",
]

TEMPLATE_VERSION = "defect-resolved/2026-11-23"
TEMPLATE = (
    "Hello{greeting},\n\n"
    "Thank you for your patience. The issue behind {tickets} has been fixed on our side "
    "(fix confirmed {date}).\n\n"
    "If any payments or requests failed while the issue was active, you can now retry them; nothing "
    "else is needed from you. If you still see the problem, simply reply to this message and we will "
    "reopen your ticket straight away.{article}\n\n"
    "Kind regards,\nPayments Support"
)
MAX_SUBJECTS = 3


class NoticeStatus:
    DRAFT = "draft"
    SENT = "sent"
    DISCARDED = "discarded"
    ALL = (DRAFT, SENT, DISCARDED)


@dataclass(slots=True)
class _Requester:
    key: str
    email: str | None
    organization: str | None
    case_ids: set[int]
    tickets: list[tuple[str, str, str | None]]  # external id, subject, category


@lru_cache(maxsize=1)
def _matcher() -> KnowledgeMatcher:
    return KnowledgeMatcher(load_kb_entries(DEFAULT_CONFIG_DIR / "knowledge"))


def _requesters(session: Session, case_ids: Sequence[int]) -> list[_Requester]:
    by_key: dict[str, _Requester] = {}
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(
                CaseTicketRow.case_id, TicketRow.external_id, TicketRow.subject, TicketRow.requester_id,
                TicketRow.requester_email, TicketRow.organization, CaseRow.category,
            )
            .join(TicketRow, TicketRow.id == CaseTicketRow.ticket_id)
            .join(CaseRow, CaseRow.id == CaseTicketRow.case_id)
            .where(CaseTicketRow.case_id.in_(ids[start : start + 500]))
            .order_by(TicketRow.created_at)
        ).all()  # fmt: skip
        for cid, ext, subject, rid, email, org, category in rows:
            key = rid or email or org
            if not key:
                continue  # nobody to write to
            r = by_key.setdefault(key, _Requester(key, email, org, set(), []))
            r.email = r.email or email
            r.organization = r.organization or org
            r.case_ids.add(cid)
            r.tickets.append((ext, subject or "", category))
    return sorted(by_key.values(), key=lambda r: r.key)


def _compose(r: _Requester, fixed_at: datetime) -> tuple[str, str, str]:
    """Subject, body and template name for one requester."""
    numbers = [f"#{ext}" for ext, _, _ in r.tickets]
    quoted = [
        f"#{ext} (“{redact(s).text[:80]}”)" if s else f"#{ext}" for ext, s, _ in r.tickets[:MAX_SUBJECTS]
    ]
    more = len(r.tickets) - MAX_SUBJECTS
    tickets = ("your ticket " if len(r.tickets) == 1 else "your tickets ") + ", ".join(quoted)
    if more > 0:
        tickets += f" and {more} more"
    template = TEMPLATE_VERSION
    article = ""
    texts = [" ".join(s for _, s, _ in r.tickets)]
    cats = [next((c for _, _, c in r.tickets if c), "")]
    hit = _matcher().match(texts, cats)[0]
    if hit is not None:
        article = f"\n\nThis article may also help: “{hit.title}”."
        template += f"+kb:{hit.slug}"
    greeting = f" {r.organization}" if r.organization else ""
    body = TEMPLATE.format(greeting=greeting, tickets=tickets, date=f"{fixed_at:%Y-%m-%d}", article=article)
    subject = f"Resolved: {', '.join(numbers[:MAX_SUBJECTS])}" + (" …" if len(numbers) > MAX_SUBJECTS else "")
    return subject, body, template


def draft_notifications(
    session: Session, defect: DefectRow, case_ids: Sequence[int], *, now: datetime | None = None
) -> list[int]:
    """One draft per requester of ``case_ids`` for the defect's current resolution (idempotent)."""
    if defect.resolved_at is None:
        raise InputError(f"defect {defect.id} is not resolved", field="status")
    existing = set(
        session.scalars(
            select(DefectNotificationRow.requester).where(
                DefectNotificationRow.defect_id == defect.id,
                DefectNotificationRow.resolved_at == defect.resolved_at,
            )
        )
    )
    out = []
    for r in _requesters(session, case_ids):
        if r.key in existing:
            continue
        subject, body, template = _compose(r, defect.resolved_at)
        row = DefectNotificationRow(
            defect_id=defect.id, resolved_at=defect.resolved_at, requester=r.key[:320],
            requester_email=r.email, organization=r.organization, case_ids=sorted(r.case_ids),
            ticket_ids=[ext for ext, _, _ in r.tickets], subject=subject[:512], body=body,
            template=template[:128], status=NoticeStatus.DRAFT, created_at=now or utcnow(),
        )  # fmt: skip
        session.add(row)
        session.flush()
        out.append(row.id)
    return out


def _as_dict(n: DefectNotificationRow) -> dict[str, Any]:
    return {
        "id": n.id,
        "defect_id": n.defect_id,
        "status": n.status,
        "requester": n.requester,
        "requester_email": n.requester_email,
        "organization": n.organization,
        "case_ids": n.case_ids,
        "ticket_ids": n.ticket_ids,
        "subject": n.subject,
        "body": n.body,
        "template": n.template,
        "created_at": n.created_at.isoformat(),
        "sent_at": n.sent_at.isoformat() if n.sent_at else None,
    }


def list_notifications(
    session: Session, *, defect_id: int | None = None, status: str | None = NoticeStatus.DRAFT
) -> list[dict[str, Any]]:
    """Notifications (drafts by default), oldest first."""
    if status is not None and status not in NoticeStatus.ALL:
        raise InputError(f"unknown notification status {status!r}", field="status")
    q = select(DefectNotificationRow).order_by(DefectNotificationRow.id)
    if defect_id is not None:
        q = q.where(DefectNotificationRow.defect_id == defect_id)
    if status is not None:
        q = q.where(DefectNotificationRow.status == status)
    return [_as_dict(n) for n in session.scalars(q)]


def mark_notification(
    session: Session, notification_id: int, status: str, *, now: datetime | None = None
) -> None:
    """A person sent (or discarded) the draft."""
    if status not in (NoticeStatus.SENT, NoticeStatus.DISCARDED):
        raise InputError("a notification can only be marked sent or discarded", field="status")
    n = session.get(DefectNotificationRow, notification_id)
    if n is None:
        raise NotFoundError(f"notification {notification_id} not found")
    n.status = status
    n.sent_at = (now or utcnow()) if status == NoticeStatus.SENT else None


EXPORT_COLUMNS = ("id", "defect_id", "status", "requester", "requester_email", "organization",
                  "ticket_ids", "subject", "body", "template", "created_at")  # fmt: skip


def export_notifications(rows: Sequence[dict[str, Any]], fmt: str) -> str:
    """``csv`` (one row per draft, ticket ids joined by spaces) or ``jsonl``."""
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if fmt != "csv":
        raise InputError(f"unknown export format {fmt!r} (csv or jsonl)", field="format")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=EXPORT_COLUMNS, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({**r, "ticket_ids": " ".join(str(t) for t in r["ticket_ids"])})
    return buf.getvalue()
