"""Problem: many tickets that share one systemic cause."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = ["Problem", "ProblemStatus"]


class ProblemStatus(StrEnum):
    CANDIDATE = "candidate"
    CONFIRMED = "confirmed"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    #: its defect was resolved and a new ticket joined it
    REGRESSED = "regressed"


@dataclass(slots=True)
class Problem:
    title: str
    first_seen: datetime
    last_seen: datetime
    summary: str = ""
    status: ProblemStatus = ProblemStatus.CANDIDATE
    suspected_root_cause: str | None = None
    affected_customers: int = 0
    affected_merchants: int = 0
    affected_transactions: int = 0
    money_minor_by_currency: dict[str, int] = field(default_factory=dict)
    ticket_ids: list[int] = field(default_factory=list)
    defect_id: int | None = None
    id: int | None = None
