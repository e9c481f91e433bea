"""Server-rendered problem pages: the list (/problems) and one problem (/problems/{id}).

The detail page also takes a person's rename and confirm/reject as plain form posts (no script),
recorded through the same feedback service as the API so they survive re-runs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from paytriage.adapters.web.deps import SessionDep
from paytriage.adapters.web.pages import templates
from paytriage.domain import ProblemStatus
from paytriage.services.problem_catalog import get_problem, list_log_alerts, list_problems
from paytriage.services.problem_feedback import rename_problem, set_problem_status

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/problems", response_class=HTMLResponse)
def problems_page(
    request: Request,
    session: SessionDep,
    status: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    """Problems, most recently active first; rejected ones only when asked for."""
    known = {s.value for s in ProblemStatus}
    statuses = (
        [ProblemStatus(status)]
        if status in known
        else [s for s in ProblemStatus if s is not ProblemStatus.REJECTED]
    )
    found = list_problems(
        session, statuses=statuses, q=q or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return templates.TemplateResponse(
        request,
        "problems.html",
        {
            "problems": found.data,
            "total": found.count,
            "page": page,
            "pages": max(1, -(-found.count // PAGE_SIZE)),
            "status": status if status in known else "",
            "q": q or "",
            "statuses": sorted(known),
            "log_alerts": list_log_alerts(session, limit=10),
        },
    )


@router.get("/problems/{problem_id}", response_class=HTMLResponse)
def problem_page(request: Request, problem_id: int, session: SessionDep) -> HTMLResponse:
    """One problem with its evidence, example tickets and the way to escalate it."""
    detail = get_problem(session, problem_id)
    return templates.TemplateResponse(
        request,
        "problem.html",
        {"d": detail, "p": detail.problem, "statuses": [s.value for s in ProblemStatus]},
    )


@router.post("/problems/{problem_id}/rename")
def rename_form(
    problem_id: int, session: SessionDep, title: Annotated[str, Form(min_length=1, max_length=512)]
) -> RedirectResponse:
    rename_problem(session, problem_id=problem_id, title=title, actor="web")
    return RedirectResponse(f"/problems/{problem_id}", status_code=303)


@router.post("/problems/{problem_id}/status")
def status_form(
    problem_id: int, session: SessionDep, status: Annotated[ProblemStatus, Form()]
) -> RedirectResponse:
    set_problem_status(session, problem_id=problem_id, status=status, actor="web")
    return RedirectResponse(f"/problems/{problem_id}", status_code=303)
