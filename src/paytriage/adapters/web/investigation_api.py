"""``GET /api/cases/{id}/investigation``: evidence, ranked root-cause hypotheses and the timeline of a case.

Read-only: the API never replays requests (that has side effects on the sandbox); use the CLI's
``--replay-base-url`` for that.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from paytriage.adapters.web.deps import SessionDep
from paytriage.config.settings import get_settings
from paytriage.domain import ensure_utc
from paytriage.engines.investigate.investigator import Investigation, Investigator
from paytriage.services.investigation import investigate_case, load_miner

__all__ = [
    "EvidencePublic",
    "HypothesisPublic",
    "InvestigationPublic",
    "ScopePublic",
    "TimelineEntryPublic",
    "get_investigator",
    "investigation_of",
    "router",
]

router = APIRouter(prefix="/api", tags=["investigation"])
_lock = threading.Lock()


class EvidencePublic(BaseModel):
    kind: str
    text: str
    at: datetime | None
    ref: str | None


class ScopePublic(BaseModel):
    customers: int
    merchants: int
    transactions: int
    money_minor_by_currency: dict[str, int]


class HypothesisPublic(BaseModel):
    kind: str
    systemic: bool
    title: str
    summary: str
    confidence: float
    route: str | None
    party: str | None
    component: str | None
    since: datetime | None
    segment: dict[str, str]
    evidence: list[EvidencePublic]
    scope: ScopePublic


class TimelineEntryPublic(BaseModel):
    at: datetime
    kind: str
    text: str
    ref: str | None
    level: str | None


class InvestigationPublic(BaseModel):
    case_id: int | None
    focus: datetime
    window: list[datetime]
    as_of: datetime
    systemic_cause: str | None
    hypotheses: list[HypothesisPublic]
    transactions: list[dict[str, Any]]
    templates: list[dict[str, Any]]
    log_events: int
    timeline: list[TimelineEntryPublic]
    request: dict[str, Any] | None
    expected_response: dict[str, Any] | None
    replay: dict[str, Any] | None
    notes: list[str]
    rules_version: str
    codes_version: str
    elapsed_ms: float


def get_investigator(request: Request) -> Investigator:
    """Built once per app; the template miner state is read from the data directory when present."""
    inv: Investigator | None = getattr(request.app.state, "investigator", None)
    if inv is None:
        with _lock:
            inv = getattr(request.app.state, "investigator", None)
            if inv is None:
                path: Path = getattr(request.app.state, "templates_path", None) or (
                    get_settings().data_dir / "log_templates.json"
                )
                inv = Investigator(miner=load_miner(path))
                request.app.state.investigator = inv
    return inv


def investigation_of(
    request: Request, session: Any, case_id: int, as_of: datetime | None = None
) -> Investigation:
    return investigate_case(
        session, case_id, investigator=get_investigator(request), as_of=ensure_utc(as_of) if as_of else None
    )


@router.get("/cases/{case_id}/investigation", response_model=InvestigationPublic)
def case_investigation(
    case_id: int, request: Request, session: SessionDep, as_of: datetime | None = None
) -> InvestigationPublic:
    """The case's transactions, logs, templates vs baseline, ranked hypotheses with evidence, timeline."""
    return InvestigationPublic.model_validate(investigation_of(request, session, case_id, as_of).to_dict())
