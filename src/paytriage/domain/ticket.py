"""Ticket: one customer or merchant request as Tier 1 escalated it, from any source."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["Channel", "Comment", "Ticket"]


class Channel(StrEnum):
    """How the request reached support."""

    EMAIL = "email"
    WEB = "web"
    CHAT = "chat"
    PHONE = "phone"
    API = "api"
    SOCIAL = "social"
    OTHER = "other"

    @classmethod
    def parse(cls, value: str | None) -> Channel:
        """Lenient parse; Zendesk's ``via.channel`` values and unknowns map onto our set."""
        if not value:
            return cls.OTHER
        v = value.strip().lower()
        aliases = {
            "mail": "email",
            "e-mail": "email",
            "web_form": "web",
            "webform": "web",
            "form": "web",
            "messaging": "chat",
            "native_messaging": "chat",
            "voice": "phone",
            "twitter": "social",
            "facebook": "social",
        }
        v = aliases.get(v, v)
        try:
            return cls(v)
        except ValueError:
            return cls.OTHER


@dataclass(slots=True)
class Comment:
    """A comment on a ticket; internal ones are never shown to the customer."""

    author: str
    body: str
    created_at: datetime
    public: bool = True


@dataclass(slots=True)
class Ticket:
    """An escalated ticket. ``(source, external_id)`` identifies it across imports."""

    external_id: str
    source: str
    created_at: datetime
    description: str
    subject: str = ""
    channel: Channel = Channel.OTHER
    status: str = "open"
    priority: str | None = None
    requester_id: str | None = None
    requester_email: str | None = None
    organization: str | None = None
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)
    tier1_agent: str | None = None
    tier1_notes: str | None = None
    updated_at: datetime | None = None
    id: int | None = None

    @property
    def text(self) -> str:
        """Subject and description together: what triage reads."""
        return f"{self.subject}\n{self.description}".strip() if self.subject else self.description
