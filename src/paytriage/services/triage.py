"""Triage the stored cases: batch the untriaged ones, give the triager its context, store decisions.

Context a lone ticket cannot know comes from the stream: how many tickets of the same category
arrived in the previous 24 hours, the requester's recent cases (duplicates are linked to the
existing case instead of opening another), merchant tier and SLA time left.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from paytriage.adapters.storage.batch import write_audit
from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.mapping import ticket_from_row
from paytriage.adapters.storage.orm import CaseHistoryRow, CaseRow, CaseTicketRow, TicketRow
from paytriage.domain import AuditEvent, Ticket, utcnow
from paytriage.engines.triage.duplicates import DuplicateCandidate, DuplicateMatch, find_duplicate
from paytriage.engines.triage.entities import EntityKind
from paytriage.engines.triage.result import TriageContext, TriageResult
from paytriage.engines.triage.triager import Triager

__all__ = ["TriageRunReport", "build_triager", "triage_cases"]

WINDOW = timedelta(hours=24)
DUPLICATE_WINDOW = timedelta(days=7)


@dataclass(slots=True)
class TriageRunReport:
    triaged: int = 0
    duplicates_linked: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    by_route: dict[str, int] = field(default_factory=dict)
    by_priority: dict[str, int] = field(default_factory=dict)
    needs_info: int = 0
    model_version: str = ""
    ruleset_version: str = ""


class _Stream:
    """Sliding state over tickets in arrival order: category counts and per-requester recent cases."""

    def __init__(self) -> None:
        self.recent: dict[str, deque[datetime]] = defaultdict(deque)
        self.by_requester: dict[str, deque[DuplicateCandidate]] = defaultdict(deque)

    def similar(self, category: str, at: datetime) -> int:
        q = self.recent[category]
        while q and at - q[0] > WINDOW:
            q.popleft()
        return sum(1 for t in q if t <= at)

    def candidates(self, ticket: Ticket) -> tuple[DuplicateCandidate, ...]:
        key = _requester_key(ticket)
        if key is None:
            return ()
        q = self.by_requester[key]
        while q and ticket.created_at - q[0].created_at > DUPLICATE_WINDOW:
            q.popleft()
        return tuple(q)

    def remember(self, ticket: Ticket, case_id: int, result: TriageResult) -> None:
        self.recent[result.category].append(ticket.created_at)
        key = _requester_key(ticket)
        if key is not None:
            txns = tuple(str(e.value) for e in result.entities if e.kind is EntityKind.TRANSACTION_ID)
            self.by_requester[key].append(
                DuplicateCandidate(
                    case_id=str(case_id),
                    created_at=ticket.created_at,
                    text=result.redacted_text[:2000],
                    requester_id=ticket.requester_id,
                    requester_email=ticket.requester_email,
                    transaction_ids=txns,
                )
            )


def _requester_key(ticket: Ticket) -> str | None:
    if ticket.requester_id:
        return f"id:{ticket.requester_id}"
    if ticket.requester_email:
        return f"email:{ticket.requester_email.strip().lower()}"
    return None


def _details(result: TriageResult) -> dict[str, Any]:
    d = result.to_dict()
    d.pop("redacted_text", None)
    return d


def build_triager(config_dir: Path | None = None, model_dir: Path | None = None) -> Triager:
    """The zero-config triager, or one whose category model was trained on the team's labels."""
    if model_dir is None:
        return Triager.from_config(config_dir)
    from paytriage.engines.classifier.persistence import load_model

    model, info = load_model(model_dir)
    return Triager.from_config(config_dir, classifier=model, model_version=info.model_version)


def _link_duplicate(session: Session, *, dup_case: int, into_case: int, reason: str) -> None:
    session.execute(update(CaseTicketRow).where(CaseTicketRow.case_id == dup_case).values(case_id=into_case))
    session.execute(delete(CaseHistoryRow).where(CaseHistoryRow.case_id == dup_case))
    session.execute(delete(CaseRow).where(CaseRow.id == dup_case))
    write_audit(
        session,
        AuditEvent(
            at=utcnow(),
            actor="triage",
            action="case.link_duplicate",
            object_type="case",
            object_id=str(into_case),
            details={"merged_case": dup_case, "reason": reason},
        ),
    )


def triage_cases(
    db: Database,
    triager: Triager,
    *,
    retriage: bool = False,
    as_of_arrival: bool = False,
    batch_size: int = 500,
    on_progress: Callable[[int], None] | None = None,
) -> TriageRunReport:
    """Triage cases in arrival order (untriaged ones, or all with ``retriage``).

    ``as_of_arrival`` evaluates SLA time left at the moment each ticket arrived (replaying history,
    as the sandbox evaluation does) instead of now.
    """
    report = TriageRunReport(model_version=triager.model_version, ruleset_version=triager.ruleset_version)
    stream = _Stream()
    now = utcnow()
    last_key: tuple[datetime, int] | None = None
    while True:
        with db.session() as session:
            stmt = (
                select(CaseRow)
                .options(selectinload(CaseRow.tickets))
                .order_by(CaseRow.created_at, CaseRow.id)
                .limit(batch_size)
            )
            if not retriage:
                stmt = stmt.where(CaseRow.triage.is_(None))
            if last_key is not None:
                stmt = stmt.where(
                    (CaseRow.created_at > last_key[0])
                    | ((CaseRow.created_at == last_key[0]) & (CaseRow.id > last_key[1]))
                )
            cases = list(session.scalars(stmt))
            if not cases:
                break
            last_key = (cases[-1].created_at, cases[-1].id)
            ticket_ids = [ct.ticket_id for c in cases for ct in c.tickets]
            rows = {
                r.id: r
                for r in session.scalars(
                    select(TicketRow)
                    .options(selectinload(TicketRow.comments))
                    .where(TicketRow.id.in_(ticket_ids))
                )
            }
            pairs: list[tuple[CaseRow, Ticket]] = []
            for c in cases:
                if not c.tickets:
                    continue
                first = min((rows[ct.ticket_id] for ct in c.tickets), key=lambda r: (r.created_at, r.id))
                pairs.append((c, ticket_from_row(first)))
            tickets = [t for _, t in pairs]
            first_pass = triager.triage_many(tickets)
            contexts = []
            for (case, ticket), pre in zip(pairs, first_pass, strict=True):
                at = ticket.created_at if as_of_arrival else now
                remaining = case.res_target_s - max((at - case.res_started_at).total_seconds(), 0)
                candidates = stream.candidates(ticket)
                dup = _duplicate(ticket, pre, candidates) if candidates else None
                contexts.append(
                    TriageContext(
                        similar_last_24h=stream.similar(pre.category, ticket.created_at),
                        merchant_tier=_text(ticket.custom_fields.get("merchant_tier")),
                        sla_remaining_hours=remaining / 3600,
                        duplicate_candidates=candidates,
                        now=at,
                    )
                )
                stream.remember(ticket, int(dup.case_id) if dup else case.id, pre)
            results = triager.triage_many(tickets, contexts)
            for (case, _ticket), result in zip(pairs, results, strict=True):
                if result.duplicate_of is not None and int(result.duplicate_of) != case.id:
                    _link_duplicate(
                        session,
                        dup_case=case.id,
                        into_case=int(result.duplicate_of),
                        reason=result.reasons[-1],
                    )
                    report.duplicates_linked += 1
                    continue
                if case.category_source != "human":  # a person's label outranks the model
                    case.category, case.category_source = result.category, "triage"
                case.route, case.priority = result.route.value, result.priority.value
                case.triage = _details(result)
                if case.status == "new":
                    case.history.append(CaseHistoryRow(at=now, old="new", new="triaged", actor="triage"))
                    case.status = "triaged"
                case.updated_at = now
                report.triaged += 1
                for bucket, key in (
                    (report.by_category, result.category),
                    (report.by_route, result.route.value),
                    (report.by_priority, result.priority.value),
                ):
                    bucket[key] = bucket.get(key, 0) + 1
                report.needs_info += int(result.needs_info)
            if on_progress is not None:
                on_progress(len(cases))
    return report


def _duplicate(
    ticket: Ticket, pre: TriageResult, candidates: tuple[DuplicateCandidate, ...]
) -> DuplicateMatch | None:
    return find_duplicate(
        text=pre.redacted_text,
        created_at=ticket.created_at,
        requester_id=ticket.requester_id,
        requester_email=ticket.requester_email,
        transaction_ids=[str(e.value) for e in pre.entities if e.kind is EntityKind.TRANSACTION_ID],
        candidates=candidates,
    )


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
