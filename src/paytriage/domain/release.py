"""Release: a deployment of one component, the usual suspect behind a new problem."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

__all__ = ["Release"]


@dataclass(slots=True)
class Release:
    component: str
    version: str
    released_at: datetime
    notes: str = ""
    id: int | None = None
