"""API schema family per entity (Create / Update / Public / list wrapper), separate from ORM and domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from paytriage.domain import CaseStatus

__all__ = [
    "CasePublic",
    "CaseUpdate",
    "CasesPublic",
    "CommentCreate",
    "CommentPublic",
    "ErrorPublic",
    "HistoryPublic",
    "TicketPublic",
    "TicketsPublic",
]


class ErrorPublic(BaseModel):
    detail: str
    line: int | None = None
    field: str | None = None


class CommentPublic(BaseModel):
    author: str
    body: str
    public: bool
    created_at: datetime


class TicketPublic(BaseModel):
    id: int
    external_id: str
    source: str
    created_at: datetime
    channel: str
    status: str
    priority: str | None
    subject: str
    description: str
    requester_id: str | None
    requester_email: str | None
    organization: str | None
    tags: list[str]
    custom_fields: dict[str, Any]
    tier1_agent: str | None
    tier1_notes: str | None
    comments: list[CommentPublic] = []


class TicketsPublic(BaseModel):
    data: list[TicketPublic]
    count: int


class HistoryPublic(BaseModel):
    at: datetime
    old: str
    new: str
    actor: str


class CasePublic(BaseModel):
    id: int
    title: str
    status: CaseStatus
    assignee: str | None
    category: str | None
    route: str | None
    priority: str | None
    created_at: datetime
    ticket_ids: list[int]
    first_response_due: datetime
    resolution_remaining_seconds: int
    sla_breached: bool
    history: list[HistoryPublic] = []
    triage: dict[str, Any] | None = None


class CasesPublic(BaseModel):
    data: list[CasePublic]
    count: int


class CaseUpdate(BaseModel):
    status: CaseStatus | None = None
    category: str | None = Field(
        default=None, max_length=64, description="A person's label (trains the model)."
    )
    assignee: str | None = Field(default=None, max_length=128)
    actor: str = Field(default="api", max_length=128)


class CommentCreate(BaseModel):
    author: str = Field(min_length=1, max_length=128)
    body: str = Field(min_length=1, max_length=100_000)
    public: bool = False
