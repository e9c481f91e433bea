"""Defect: a bug filed with Engineering (e.g. a Jira issue) linked to problems and tickets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = ["Defect", "DefectStatus"]


class DefectStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    WONT_FIX = "wont_fix"
    #: resolved, then new tickets of its problem arrived: the fix did not hold
    REGRESSED = "regressed"


@dataclass(slots=True)
class Defect:
    title: str
    created_at: datetime
    status: DefectStatus = DefectStatus.OPEN
    external_key: str | None = None
    external_url: str | None = None
    component: str | None = None
    problem_ids: list[int] = field(default_factory=list)
    resolved_at: datetime | None = None
    id: int | None = None
