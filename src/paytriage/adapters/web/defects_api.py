"""Defects API: list, show, record, link, resolve, regressions, and the customer notices drafted after fixes.

Schema family at the edge (``DefectCreate``, ``DefectLinks``, ``DefectResolve``, ``NoticeUpdate``);
the services own the rules. Notices are drafts for a person to send: listed as JSON or exported as
CSV/JSONL, then marked ``sent`` or ``discarded``.
"""

from __future__ import annotations

import enum
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from paytriage.adapters.web.deps import SessionDep
from paytriage.domain.defect import DefectStatus
from paytriage.services import defect_notices as notices
from paytriage.services import defects as svc

__all__ = ["DefectCreate", "DefectLinks", "DefectResolve", "NoticeUpdate", "router"]

router = APIRouter(prefix="/api", tags=["defects"])


class DefectCreate(BaseModel):
    title: str = Field(min_length=1, max_length=512)
    key: str | None = Field(default=None, max_length=64)
    url: str | None = Field(default=None, max_length=512)
    component: str | None = Field(default=None, max_length=128)


class DefectLinks(BaseModel):
    case_ids: list[int] = Field(default_factory=list, max_length=10_000)
    problem_ids: list[int] = Field(default_factory=list, max_length=1_000)
    actor: str = Field(default="api", max_length=128)


class DefectResolve(BaseModel):
    resolution: str | None = Field(default=None, max_length=500)
    actor: str = Field(default="api", max_length=128)


class NoticeMark(enum.StrEnum):
    SENT = "sent"
    DISCARDED = "discarded"


class NoticeUpdate(BaseModel):
    status: NoticeMark


class NoticeFormat(enum.StrEnum):
    JSON = "json"
    CSV = "csv"
    JSONL = "jsonl"


@router.get("/defects")
def list_defects(session: SessionDep, status: DefectStatus | None = None) -> dict[str, Any]:
    """Defects, newest first, with their linked cases and problems."""
    rows = [d.to_dict() for d in svc.list_defects(session, status=status.value if status else None)]
    return {"data": rows, "count": len(rows)}


@router.get("/defects/{defect_id}")
def show_defect(defect_id: int, session: SessionDep) -> dict[str, Any]:
    return svc.defect_view(session, defect_id).to_dict()


@router.post("/defects", status_code=201)
def create_defect(body: DefectCreate, session: SessionDep) -> dict[str, Any]:
    """Record a defect by hand (e.g. one Engineering filed already)."""
    new_id = svc.create_defect(
        session, title=body.title, key=body.key, url=body.url, component=body.component
    )
    return svc.defect_view(session, new_id).to_dict()


@router.post("/defects/{defect_id}/links")
def link_defect(defect_id: int, body: DefectLinks, session: SessionDep) -> dict[str, Any]:
    """Link cases and every case of the given problems; returns the cases newly linked."""
    added = svc.link_cases(session, defect_id, body.case_ids, actor=body.actor)
    for pid in body.problem_ids:
        added += svc.link_problem(session, defect_id, pid, actor=body.actor)
    return {"defect_id": defect_id, "linked_cases": sorted(set(added))}


@router.post("/defects/{defect_id}/resolve")
def resolve_defect(defect_id: int, body: DefectResolve, session: SessionDep) -> dict[str, Any]:
    """Mark it resolved and draft one notice per affected customer (nothing is sent)."""
    drafted = svc.resolve_defect(session, defect_id, actor=body.actor, resolution=body.resolution)
    return {"defect_id": defect_id, "drafted_notices": len(drafted), "notice_ids": drafted}


@router.post("/defects/regressions")
def regressions(session: SessionDep) -> dict[str, Any]:
    """Flag resolved defects whose problem came back and reopen their resolved cases."""
    found = [r.to_dict() for r in svc.check_regressions(session, actor="api")]
    return {"data": found, "count": len(found)}


@router.get("/defect-notices", response_model=None)
def list_notices(
    session: SessionDep,
    defect_id: int | None = None,
    status: Annotated[str, Query(pattern="^(draft|sent|discarded|all)$")] = "draft",
    format: NoticeFormat = NoticeFormat.JSON,
) -> dict[str, Any] | Response:
    """Notices drafted after fixes, as JSON or exported as CSV / JSONL for sending."""
    rows = notices.list_notifications(
        session, defect_id=defect_id, status=None if status == "all" else status
    )
    if format == NoticeFormat.JSON:
        return {"data": rows, "count": len(rows)}
    media = "text/csv" if format == NoticeFormat.CSV else "application/x-ndjson"
    return PlainTextResponse(notices.export_notifications(rows, format.value), media_type=media)


@router.post("/defect-notices/{notice_id}")
def mark_notice(notice_id: int, body: NoticeUpdate, session: SessionDep) -> dict[str, Any]:
    """Record that a person sent (or discarded) the draft."""
    notices.mark_notification(session, notice_id, body.status.value)
    return {"id": notice_id, "status": body.status.value}
