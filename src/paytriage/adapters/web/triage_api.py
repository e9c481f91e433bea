"""``POST /api/triage``: one ticket in, the triage decision with its reasons out (no database write)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from paytriage.domain import Channel, Ticket, utcnow
from paytriage.engines.triage.triager import Triager
from paytriage.services.triage import build_triager

__all__ = ["TriagePublic", "TriageRequest", "router"]

router = APIRouter(prefix="/api", tags=["triage"])
_lock = threading.Lock()


class TriageRequest(BaseModel):
    id: str = Field(default="adhoc", max_length=128)
    subject: str = Field(default="", max_length=2_000)
    description: str = Field(
        max_length=1_000_000, description="The customer's text (may contain a pasted PAN)."
    )
    created_at: datetime | None = None
    requester_id: str | None = Field(default=None, max_length=128)
    requester_email: str | None = Field(default=None, max_length=320)
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class TriagePublic(BaseModel):
    id: str
    category: str
    category_confidence: float
    route: str
    priority: str
    needs_info: bool
    questions: list[str]
    entities: list[dict[str, Any]]
    redacted_text: str
    reasons: list[str]
    ruleset_version: str
    model_version: str
    extra: dict[str, Any] = Field(
        default_factory=dict, description="priority factors, signals, KB article ..."
    )


def get_triager(request: Request) -> Triager:
    """Built once per app (fitting the zero-config model takes about a second)."""
    triager: Triager | None = getattr(request.app.state, "triager", None)
    if triager is None:
        with _lock:
            triager = getattr(request.app.state, "triager", None)
            if triager is None:
                settings = request.app.state.settings
                triager = build_triager(settings.triage_config_dir, settings.model_dir)
                request.app.state.triager = triager
    return triager


@router.post("/triage", response_model=TriagePublic)
def triage(body: TriageRequest, request: Request) -> TriagePublic:
    """Triage one ticket: category, route, priority, entities, missing facts and reasons, redacted."""
    ticket = Ticket(
        external_id=body.id,
        source="api",
        created_at=body.created_at or utcnow(),
        description=body.description,
        subject=body.subject,
        channel=Channel.API,
        requester_id=body.requester_id,
        requester_email=body.requester_email,
        custom_fields=body.custom_fields,
    )
    d = get_triager(request).triage(ticket).to_dict()
    core = {k: d.pop(k) for k in list(TriagePublic.model_fields) if k in d}
    return TriagePublic(**core, extra=d)
