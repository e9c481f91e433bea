"""Escalation API: ``GET /api/cases/{id}/escalation`` (the package) and ``GET /api/backlog`` (defects)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from paytriage.adapters.web.deps import SessionDep
from paytriage.adapters.web.investigation_api import get_investigator
from paytriage.engines.escalate.render import to_json, to_markdown
from paytriage.services.backlog import backlog
from paytriage.services.escalation import case_package

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["escalation"])


@router.get("/cases/{case_id}/escalation")
def case_escalation(case_id: int, request: Request, session: SessionDep) -> dict[str, Any]:
    """The escalation package: summary, impact, severity, environment, repro steps, evidence, completeness."""
    package = case_package(session, case_id, investigator=get_investigator(request))
    result: dict[str, Any] = json.loads(to_json(package, indent=None))
    return result


@router.get("/cases/{case_id}/escalation.md", response_class=PlainTextResponse)
def case_escalation_markdown(case_id: int, request: Request, session: SessionDep) -> str:
    """The same package as Markdown, ready to paste into a ticket."""
    return to_markdown(case_package(session, case_id, investigator=get_investigator(request)))


@router.get("/backlog")
def defect_backlog(session: SessionDep, include_resolved: bool = False) -> dict[str, Any]:
    """Open defects ranked by customer impact (tickets, merchants, money, SLA risk, trend)."""
    items = backlog(session, include_resolved=include_resolved)
    return {"data": [i.to_dict() for i in items], "count": len(items)}
