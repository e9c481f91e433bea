"""Problems API: list and read problems; rename, confirm/reject, merge and split them.

Every correction is remembered by its member cases (``services.problem_feedback``), so it
survives the next ``detect_problems`` re-run even though problem ids change.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from paytriage.adapters.web.deps import SessionDep
from paytriage.domain import InputError, ProblemStatus
from paytriage.services.problem_catalog import (
    ProblemDetail,
    ProblemListing,
    get_problem,
    list_log_alerts,
    list_problems,
)
from paytriage.services.problem_feedback import (
    merge_problems,
    rename_problem,
    set_problem_status,
    split_problem,
)

__all__ = [
    "ProblemDetailPublic",
    "ProblemMerge",
    "ProblemPublic",
    "ProblemSplit",
    "ProblemUpdate",
    "ProblemsPublic",
    "router",
]

router = APIRouter(prefix="/api", tags=["problems"])


class ProblemPublic(BaseModel):
    id: int
    title: str
    status: ProblemStatus
    first_seen: datetime
    last_seen: datetime
    cases: int
    affected_customers: int
    affected_merchants: int
    affected_transactions: int
    money_minor_by_currency: dict[str, int]
    defect_id: int | None


class ProblemsPublic(BaseModel):
    data: list[ProblemPublic]
    count: int


class ProblemDetailPublic(ProblemPublic):
    summary: str
    trend: str
    trend_ratio: float
    daily_cases: dict[str, int]
    top_terms: list[str]
    shared_entities: list[dict[str, Any]]
    examples: list[dict[str, Any]]
    case_ids: list[int]
    suspected_root_cause: str | None
    root_cause_source: str | None
    defect: dict[str, Any] | None
    detection: dict[str, Any] = Field(
        description="How it was found systemic: detected_at, burst signals and evidence, and under "
        "`log` the log alerts that explain it (detected_at, service, signals, evidence); {} if not."
    )
    escalation_url: str


class LogAlertPublic(BaseModel):
    id: int
    detected_at: datetime
    service: str
    signal: str
    first_alert: str = Field(description="The incident's first alert in words (counts, p-value, note).")
    alerts: int
    signals: list[str]
    examples: list[str] = Field(description="A few identifiers its lines name (transactions, merchants).")
    problem_id: int | None = Field(description="The problem it explains; null: raised from logs alone.")


class LogAlertsPublic(BaseModel):
    data: list[LogAlertPublic]
    count: int


class ProblemUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=512)
    status: ProblemStatus | None = None
    actor: str = Field(default="api", min_length=1, max_length=128)


class ProblemMerge(BaseModel):
    into: int = Field(description="The problem that receives this problem's cases.")
    actor: str = Field(default="api", min_length=1, max_length=128)


class ProblemSplit(BaseModel):
    case_ids: list[int] = Field(min_length=1, max_length=10_000)
    title: str | None = Field(default=None, min_length=1, max_length=512)
    actor: str = Field(default="api", min_length=1, max_length=128)


def problem_public(p: ProblemListing) -> ProblemPublic:
    return ProblemPublic(
        id=p.id,
        title=p.title,
        status=p.status,
        first_seen=p.first_seen,
        last_seen=p.last_seen,
        cases=p.cases,
        affected_customers=p.affected_customers,
        affected_merchants=p.affected_merchants,
        affected_transactions=p.affected_transactions,
        money_minor_by_currency=p.money_minor_by_currency,
        defect_id=p.defect_id,
    )


def detail_public(d: ProblemDetail) -> ProblemDetailPublic:
    return ProblemDetailPublic(
        **problem_public(d.problem).model_dump(),
        summary=d.summary,
        trend=d.trend.value,
        trend_ratio=d.trend_ratio,
        daily_cases=d.daily_cases,
        top_terms=d.top_terms,
        shared_entities=d.shared_entities,
        examples=d.examples,
        case_ids=d.case_ids,
        suspected_root_cause=d.suspected_root_cause,
        root_cause_source=d.root_cause_source,
        defect=d.defect,
        detection=d.detection,
        escalation_url=f"/problems/{d.problem.id}/escalation",
    )


@router.get("/problems", response_model=ProblemsPublic)
def problems(
    session: SessionDep,
    status: Annotated[list[ProblemStatus] | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    min_cases: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ProblemsPublic:
    """Problems, most recently active first; filter by status (repeatable), title text, size."""
    page = list_problems(session, statuses=status, q=q, min_cases=min_cases, limit=limit, offset=offset)
    return ProblemsPublic(data=[problem_public(p) for p in page.data], count=page.count)


@router.get("/log-alerts", response_model=LogAlertsPublic)
def log_alerts(
    session: SessionDep,
    unexplained: Annotated[bool, Query(description="Only alerts no problem explains yet.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> LogAlertsPublic:
    """Log alerts of the last detection run, newest first (early warnings before the tickets)."""
    page = list_log_alerts(session, unexplained=unexplained, limit=limit, offset=offset)
    return LogAlertsPublic(data=[LogAlertPublic(**asdict(a)) for a in page.data], count=page.count)


@router.get("/problems/{problem_id}", response_model=ProblemDetailPublic)
def problem(problem_id: int, session: SessionDep) -> ProblemDetailPublic:
    """One problem: facts, trend, top terms, shared entities, example tickets, root cause, defect."""
    return detail_public(get_problem(session, problem_id))


@router.patch("/problems/{problem_id}", response_model=ProblemDetailPublic)
def update_problem(problem_id: int, body: ProblemUpdate, session: SessionDep) -> ProblemDetailPublic:
    """Rename and/or set the status (``rejected`` rejects); remembered across re-runs."""
    if body.title is None and body.status is None:
        raise InputError("give a title or a status", field="title")
    if body.title is not None:
        rename_problem(session, problem_id=problem_id, title=body.title, actor=body.actor)
    if body.status is not None:
        set_problem_status(session, problem_id=problem_id, status=body.status, actor=body.actor)
    return detail_public(get_problem(session, problem_id))


@router.post("/problems/{problem_id}/merge", response_model=ProblemDetailPublic)
def merge(problem_id: int, body: ProblemMerge, session: SessionDep) -> ProblemDetailPublic:
    """Merge this problem into ``into``; returns the merged problem."""
    target = merge_problems(session, problem_id=problem_id, into_id=body.into, actor=body.actor)
    return detail_public(get_problem(session, target.id))


@router.post("/problems/{problem_id}/split", response_model=ProblemDetailPublic, status_code=201)
def split(problem_id: int, body: ProblemSplit, session: SessionDep) -> ProblemDetailPublic:
    """Move the named cases out into a new candidate problem; returns the new problem."""
    new = split_problem(
        session, problem_id=problem_id, case_ids=body.case_ids, actor=body.actor, title=body.title
    )
    return detail_public(get_problem(session, new.id))
