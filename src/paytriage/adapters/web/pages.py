"""Server-rendered pages (Jinja2, local assets only): the Tier-2 queue, the case page, escalation.

The escalation page's "File in Jira" and "Preview" buttons post a plain form here and get a page back:
the created or commented issue (key and link), the dry-run preview of the fields that would be sent,
or the error. Without a Jira configuration every post is a dry run and the page says why.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from paytriage.adapters.cli.cases import case_summary
from paytriage.adapters.connectors import adf
from paytriage.adapters.connectors.http import ConnectorError
from paytriage.adapters.connectors.jira import EscalationAction, issue_fields
from paytriage.adapters.storage.cases import CaseFilters
from paytriage.adapters.web.deps import CasesDep, SessionDep
from paytriage.adapters.web.escalation_api import JiraSetup, JiraSetupDep
from paytriage.adapters.web.investigation_api import get_investigator, investigation_of
from paytriage.domain import CaseStatus, NotFoundError
from paytriage.engines.escalate.render import to_markdown
from paytriage.services.backlog import backlog
from paytriage.services.escalation import EscalationResult, case_package, escalate_case
from paytriage.services.problem_escalation import escalate_problem, problem_package

__all__ = ["router", "templates"]

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/", response_class=HTMLResponse)
def queue(
    request: Request,
    cases: CasesDep,
    status: str | None = None,
    priority: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    statuses = [status] if status in {s.value for s in CaseStatus} else None
    prio = priority if priority in {"P1", "P2", "P3", "P4"} else None
    found, total = cases.search(
        CaseFilters(status=statuses, open_only=statuses is None, priority=prio, query=q or None),
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    return templates.TemplateResponse(
        request,
        "queue.html",
        {
            "cases": [case_summary(c) for c in found],
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "status": status or "",
            "priority": prio or "",
            "q": q or "",
            "statuses": [s.value for s in CaseStatus],
            "counts": cases.status_counts(),
        },
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: int, cases: CasesDep, session: SessionDep) -> HTMLResponse:
    case = cases.get(case_id)
    return templates.TemplateResponse(
        request,
        "case.html",
        {
            "case": case_summary(case),
            "tickets": cases.tickets(case),
            "history": case.history,
            "triage": cases.triage_of(case_id),
            "statuses": [s.value for s in CaseStatus],
            "investigation": _investigation(request, session, case_id),
        },
    )


@router.get("/cases/{case_id}/escalation", response_class=HTMLResponse)
def escalation_page(request: Request, case_id: int, session: SessionDep) -> HTMLResponse:
    """The escalation package with the Tier 2 vs Engineering decision and what is still missing."""
    package = case_package(session, case_id, investigator=get_investigator(request))
    return templates.TemplateResponse(
        request, "escalation.html", {"case_id": case_id, "package": package, "markdown": to_markdown(package)}
    )


@router.get("/problems/{problem_id}/escalation", response_class=HTMLResponse)
def problem_escalation_page(request: Request, problem_id: int, session: SessionDep) -> HTMLResponse:
    """A problem's package (impact over all its cases) with a dry-run / file-in-Jira button."""
    package = problem_package(session, problem_id, investigator=get_investigator(request))
    return templates.TemplateResponse(
        request,
        "escalation.html",
        {"problem_id": problem_id, "package": package, "markdown": to_markdown(package)},
    )


@router.post("/cases/{case_id}/escalation/file", response_class=HTMLResponse)
def file_case_page(
    request: Request, case_id: int, jira: JiraSetupDep, dry_run: Annotated[bool, Form()] = True
) -> HTMLResponse:
    """File the case's package in Jira (or preview it) and show what happened."""
    return _file(request, "case", case_id, jira, dry_run=dry_run)


@router.post("/problems/{problem_id}/escalation/file", response_class=HTMLResponse)
def file_problem_page(
    request: Request, problem_id: int, jira: JiraSetupDep, dry_run: Annotated[bool, Form()] = True
) -> HTMLResponse:
    """File the problem's package in Jira (or preview it); a filed problem links all its cases."""
    return _file(request, "problem", problem_id, jira, dry_run=dry_run)


def _file(request: Request, kind: str, sid: int, jira: JiraSetup, *, dry_run: bool) -> HTMLResponse:
    ctx: dict[str, Any] = {
        "kind": kind,
        "sid": sid,
        "asked_to_file": not dry_run,
        "not_configured": jira.problem,
    }
    escalate = escalate_problem if kind == "problem" else escalate_case
    status = 200
    try:
        result = escalate(
            request.app.state.db, sid, investigator=get_investigator(request), jira=jira.client,
            dry_run=dry_run or jira.client is None,
        )  # fmt: skip
        ctx.update(_outcome(result, jira))
    except ConnectorError as exc:
        status = 502
        ctx["error"] = f"Jira did not accept the request: {exc}"
    return templates.TemplateResponse(request, "escalation_result.html", ctx, status_code=status)


def _outcome(result: EscalationResult, jira: JiraSetup) -> dict[str, Any]:
    """What the result page shows: the issue filed or commented on, or the fields a dry run would send."""
    out: dict[str, Any] = {"package": result.package, "defect_id": result.defect_id}
    o = result.outcome
    if o is not None and o.action != EscalationAction.DRY_RUN:
        out.update(action=o.action.value, key=o.key, url=o.url, score=o.duplicate_score, links=o.remote_links)
        return out
    out["action"] = EscalationAction.DRY_RUN.value
    if o is not None:
        out.update(key=o.key, url=o.url, score=o.duplicate_score)  # the open duplicate it would comment on
    fields = o.fields if o is not None and o.fields else None
    if fields is None and jira.config is not None:
        fields = issue_fields(jira.config, result.package.to_dict())
    if fields is not None:
        out["fields"] = fields
        out["description"] = adf.plain_text(fields.get("description") or {})
        out["fields_json"] = json.dumps(
            {k: v for k, v in fields.items() if k != "description"}, indent=2, ensure_ascii=False
        )
    return out


@router.get("/backlog", response_class=HTMLResponse)
def backlog_page(request: Request, session: SessionDep) -> HTMLResponse:
    """Defects ranked by customer impact, for the prioritisation meeting."""
    items = [i.to_dict() for i in backlog(session)]
    return templates.TemplateResponse(request, "backlog.html", {"items": items})


def _investigation(request: Request, session: Session, case_id: int) -> dict[str, Any] | None:
    """The investigation panel; a case without tickets simply has none."""
    try:
        return investigation_of(request, session, case_id).to_dict()
    except NotFoundError:
        return None
