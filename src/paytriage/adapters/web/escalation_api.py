"""Escalation API: packages of cases and problems, filing a problem in Jira, and the defect backlog.

``GET /api/cases/{id}/escalation`` and ``GET /api/problems/{id}/escalation`` (each also as ``.md``);
``POST /api/problems/{id}/escalation?to=jira&dry_run=true`` files the problem's package (or shows the
fields and any duplicate); ``GET /api/backlog`` ranks open defects. The Jira client is a dependency
(:func:`get_jira`) built from the environment's credentials, so tests and deployments can swap it.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import PlainTextResponse

from paytriage.adapters.connectors.http import ConnectorError
from paytriage.adapters.connectors.jira import JiraClient, JiraConfig, JiraCredentials
from paytriage.adapters.web.deps import SessionDep
from paytriage.adapters.web.investigation_api import get_investigator
from paytriage.domain.errors import ConfigurationError
from paytriage.engines.escalate.package import EscalationPackage
from paytriage.engines.escalate.render import to_json, to_markdown
from paytriage.services.backlog import backlog
from paytriage.services.escalation import case_package
from paytriage.services.problem_escalation import escalate_problem, problem_package

__all__ = ["JiraSetup", "JiraSetupDep", "Tracker", "get_jira", "get_jira_setup", "router"]

router = APIRouter(prefix="/api", tags=["escalation"])


class Tracker(enum.StrEnum):
    JIRA = "jira"


def get_jira() -> Iterator[JiraClient]:
    """A Jira client from PAYTRIAGE_JIRA_* (503 when Jira is not configured)."""
    try:
        client = JiraClient(JiraCredentials.load(), config=JiraConfig.load())
    except (ConnectorError, ConfigurationError) as exc:
        raise HTTPException(status_code=503, detail=f"Jira is not configured: {exc}") from None
    with client:
        yield client


JiraDep = Annotated[JiraClient, Depends(get_jira)]


@dataclass(frozen=True, slots=True)
class JiraSetup:
    """A configured client, or None with the reason (the pages then show a dry-run preview)."""

    client: JiraClient | None
    config: JiraConfig | None
    problem: str | None = None


def get_jira_setup() -> Iterator[JiraSetup]:
    """Like :func:`get_jira`, but a missing or broken Jira configuration is a value, not a 503."""
    try:
        config = JiraConfig.load()
    except ConfigurationError as exc:
        yield JiraSetup(None, None, str(exc))
        return
    try:
        client = JiraClient(JiraCredentials.load(), config=config)
    except (ConnectorError, ConfigurationError) as exc:
        yield JiraSetup(None, config, str(exc))
        return
    with client:
        yield JiraSetup(client, config)


JiraSetupDep = Annotated[JiraSetup, Depends(get_jira_setup)]


def _as_json(package: EscalationPackage) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(to_json(package, indent=None))
    return result


@router.get("/cases/{case_id}/escalation")
def case_escalation(case_id: int, request: Request, session: SessionDep) -> dict[str, Any]:
    """The escalation package: summary, impact, severity, environment, repro steps, evidence, completeness."""
    return _as_json(case_package(session, case_id, investigator=get_investigator(request)))


@router.get("/cases/{case_id}/escalation.md", response_class=PlainTextResponse)
def case_escalation_markdown(case_id: int, request: Request, session: SessionDep) -> str:
    """The same package as Markdown, ready to paste into a ticket."""
    return to_markdown(case_package(session, case_id, investigator=get_investigator(request)))


@router.get("/problems/{problem_id}/escalation")
def problem_escalation(problem_id: int, request: Request, session: SessionDep) -> dict[str, Any]:
    """A problem's package: impact summed over its cases (with the queries), environment mix, evidence
    from representative investigations, release impact, related tickets, completeness."""
    return _as_json(problem_package(session, problem_id, investigator=get_investigator(request)))


@router.get("/problems/{problem_id}/escalation.md", response_class=PlainTextResponse)
def problem_escalation_markdown(problem_id: int, request: Request, session: SessionDep) -> str:
    """The problem's package as Markdown."""
    return to_markdown(problem_package(session, problem_id, investigator=get_investigator(request)))


@router.post("/problems/{problem_id}/escalation")
def file_problem(
    problem_id: int,
    request: Request,
    jira: JiraDep,
    to: Tracker = Tracker.JIRA,
    dry_run: bool = True,
    ticket_url: str | None = None,
) -> dict[str, Any]:
    """File the problem's package in Jira (``dry_run`` defaults to true: nothing is created unless asked);
    a filed problem links every case to the recorded defect."""
    _ = to
    try:
        result = escalate_problem(
            request.app.state.db, problem_id, investigator=get_investigator(request), jira=jira,
            dry_run=dry_run, ticket_url=ticket_url,
        )  # fmt: skip
    except ConnectorError as exc:
        raise HTTPException(status_code=502, detail=str(exc)) from None
    return result.to_dict()


@router.get("/backlog")
def defect_backlog(session: SessionDep, include_resolved: bool = False) -> dict[str, Any]:
    """Open defects ranked by customer impact (tickets, merchants, money, SLA risk, trend)."""
    items = backlog(session, include_resolved=include_resolved)
    return {"data": [i.to_dict() for i in items], "count": len(items)}
