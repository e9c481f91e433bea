"""JSON API: tickets and cases (list with filters and pagination, get, update, comment)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from paytriage.adapters.storage.cases import CaseFilters
from paytriage.adapters.storage.mapping import ticket_from_row
from paytriage.adapters.storage.orm import TicketRow
from paytriage.adapters.web.deps import CasesDep, SessionDep
from paytriage.adapters.web.schemas import (
    CasePublic,
    CasesPublic,
    CaseUpdate,
    CommentCreate,
    CommentPublic,
    HistoryPublic,
    TicketPublic,
    TicketsPublic,
)
from paytriage.domain import Case, CaseStatus, InputError, NotFoundError, Ticket, utcnow

__all__ = ["router"]

router = APIRouter(prefix="/api")


def case_public(case: Case, triage: dict[str, object] | None = None) -> CasePublic:
    assert case.id is not None
    now = utcnow()
    return CasePublic(
        id=case.id,
        title=case.title,
        status=case.status,
        assignee=case.assignee,
        category=case.category,
        route=case.route.value if case.route else None,
        priority=case.priority.value if case.priority else None,
        created_at=case.created_at,
        ticket_ids=case.ticket_ids,
        first_response_due=case.first_response_sla.started_at + case.first_response_sla.target,
        resolution_remaining_seconds=int(case.resolution_sla.remaining(now).total_seconds()),
        sla_breached=case.resolution_sla.breached(now),
        history=[
            HistoryPublic(at=h.at, old=h.old.value, new=h.new.value, actor=h.actor) for h in case.history
        ],
        triage=triage,
    )


def ticket_public(t: Ticket, row_id: int) -> TicketPublic:
    return TicketPublic(
        id=row_id,
        external_id=t.external_id,
        source=t.source,
        created_at=t.created_at,
        channel=t.channel.value,
        status=t.status,
        priority=t.priority,
        subject=t.subject,
        description=t.description,
        requester_id=t.requester_id,
        requester_email=t.requester_email,
        organization=t.organization,
        tags=t.tags,
        custom_fields=t.custom_fields,
        tier1_agent=t.tier1_agent,
        tier1_notes=t.tier1_notes,
        comments=[
            CommentPublic(author=c.author, body=c.body, public=c.public, created_at=c.created_at)
            for c in t.comments
        ],
    )


@router.get("/cases", response_model=CasesPublic, tags=["cases"])
def list_cases(
    cases: CasesDep,
    status: Annotated[list[CaseStatus] | None, Query()] = None,
    open_only: bool = False,
    priority: Annotated[str | None, Query(pattern="^P[1-4]$")] = None,
    category: str | None = None,
    route: str | None = None,
    assignee: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CasesPublic:
    """The queue, most urgent first."""
    found, total = cases.search(
        CaseFilters(
            status=[s.value for s in status] if status else None,
            open_only=open_only,
            priority=priority,
            category=category,
            route=route,
            assignee=assignee,
            query=q,
        ),
        limit=limit,
        offset=offset,
    )
    return CasesPublic(data=[case_public(c) for c in found], count=total)


@router.get("/cases/{case_id}", response_model=CasePublic, tags=["cases"])
def get_case(case_id: int, cases: CasesDep) -> CasePublic:
    return case_public(cases.get(case_id), cases.triage_of(case_id))


@router.patch("/cases/{case_id}", response_model=CasePublic, tags=["cases"])
def update_case(case_id: int, body: CaseUpdate, cases: CasesDep, request: Request) -> CasePublic:
    """Change status (workflow rules apply: 409 when not allowed) and/or assignee."""
    if body.category is not None and body.category not in request.app.state.category_names:
        raise InputError(f"unknown category {body.category!r}", field="category")
    case = cases.update(
        case_id, actor=body.actor, status=body.status, assignee=body.assignee, category=body.category
    )
    return case_public(case, cases.triage_of(case_id))


@router.post("/cases/{case_id}/comments", status_code=201, response_model=CasePublic, tags=["cases"])
def add_comment(case_id: int, body: CommentCreate, cases: CasesDep) -> CasePublic:
    """Add a public reply or internal note (card numbers are masked before storage)."""
    cases.add_comment(case_id, author=body.author, body=body.body, public=body.public)
    return case_public(cases.get(case_id), cases.triage_of(case_id))


@router.get("/tickets", response_model=TicketsPublic, tags=["tickets"])
def list_tickets(
    session: SessionDep,
    source: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TicketsPublic:
    stmt = select(TicketRow)
    if source:
        stmt = stmt.where(TicketRow.source == source)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.options(selectinload(TicketRow.comments))
        .order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return TicketsPublic(data=[ticket_public(ticket_from_row(r), r.id) for r in rows], count=total)


@router.get("/tickets/{ticket_id}", response_model=TicketPublic, tags=["tickets"])
def get_ticket(ticket_id: int, session: SessionDep) -> TicketPublic:
    row = session.get(TicketRow, ticket_id, options=[selectinload(TicketRow.comments)])
    if row is None:
        raise NotFoundError(f"ticket {ticket_id} not found")
    return ticket_public(ticket_from_row(row), row.id)
