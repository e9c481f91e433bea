"""AuditEvent: who did what to which object, when. Never carries a secret or card number."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["AuditEvent"]


@dataclass(slots=True)
class AuditEvent:
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
