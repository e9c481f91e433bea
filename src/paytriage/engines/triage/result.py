"""TriageResult: the decision a senior Tier-2 analyst would make, with its reasons and versions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from paytriage.domain.taxonomy import Priority, Route
from paytriage.engines.triage.duplicates import DuplicateCandidate
from paytriage.engines.triage.entities import Entity
from paytriage.engines.triage.priority import PriorityFactor
from paytriage.engines.triage.signals import Signals

__all__ = ["TriageContext", "TriageResult"]


@dataclass(frozen=True, slots=True)
class TriageContext:
    """What the caller knows beyond the ticket text (from storage, problems, SLA clocks)."""

    customers_affected: int = 0
    transactions_affected: int = 0
    related_tickets: int = 0
    similar_last_24h: int = 0
    merchant_tier: str | None = None
    sla_remaining_hours: float | None = None
    duplicate_candidates: tuple[DuplicateCandidate, ...] = ()
    now: datetime | None = None


@dataclass(slots=True)
class TriageResult:
    """One ticket's triage. ``entities`` spans refer to ``redacted_text``."""

    id: str
    category: str
    category_confidence: float
    route: Route
    priority: Priority
    needs_info: bool
    questions: list[str]
    entities: list[Entity]
    redacted_text: str
    reasons: list[str]
    signals: Signals
    duplicate_of: str | None
    ruleset_version: str
    model_version: str
    runner_up: str | None = None
    priority_factors: list[PriorityFactor] = field(default_factory=list)
    kb_article: str | None = None
    tier1_feedback: str | None = None
    redaction_counts: dict[str, int] = field(default_factory=dict)

    def __reduce__(self) -> tuple[Any, ...]:
        # Positional re-construction: faster to unpickle than the slots default (worker pools).
        return (TriageResult, tuple(getattr(self, name) for name in self.__dataclass_fields__))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (Money as ``{"minor_units", "currency"}``)."""
        return {
            "id": self.id,
            "category": self.category,
            "category_confidence": round(self.category_confidence, 4),
            "route": self.route.value,
            "priority": self.priority.value,
            "needs_info": self.needs_info,
            "questions": self.questions,
            "entities": [
                {
                    "kind": e.kind.value,
                    "text": e.text,
                    "start": e.start,
                    "end": e.end,
                    "value": _plain(e.value),
                    "confidence": e.confidence,
                }
                for e in self.entities
            ],
            "redacted_text": self.redacted_text,
            "reasons": self.reasons,
            "priority_factors": [
                {"name": f.name, "points": f.points, "reason": f.reason} for f in self.priority_factors
            ],
            "signals": {k: getattr(self.signals, k) for k in self.signals.__dataclass_fields__},
            "duplicate_of": self.duplicate_of,
            "kb_article": self.kb_article,
            "tier1_feedback": self.tier1_feedback,
            "runner_up": self.runner_up,
            "redaction_counts": self.redaction_counts,
            "ruleset_version": self.ruleset_version,
            "model_version": self.model_version,
        }


def _plain(value: Any) -> Any:
    if hasattr(value, "minor_units") and hasattr(value, "currency"):
        return {"minor_units": value.minor_units, "currency": value.currency, "display": str(value)}
    return value
