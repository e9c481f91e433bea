"""KnowledgeArticle: a how-to or runbook that can answer a ticket without Tier 2."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["KnowledgeArticle"]


@dataclass(slots=True)
class KnowledgeArticle:
    slug: str
    title: str
    body: str
    category: str | None = None
    audience: str = "customer"
    tags: list[str] = field(default_factory=list)
    updated_at: datetime | None = None
    id: int | None = None
