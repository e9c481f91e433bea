"""Completeness of an escalation package: which sections are filled from evidence, what is still missing.

A section counts as filled only when it has a value *and* names the evidence it came from. Each section
also lists the fields an engineer would still have to ask for (``environment.region``, ...); their count
is the figure we drive to zero, because every one of them is a round trip between Engineering and Tier 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SECTIONS", "Completeness", "Section", "assess"]

#: Every section of a package, in reading order.
SECTIONS = (
    "title",
    "summary",
    "impact",
    "severity",
    "environment",
    "reproduction_steps",
    "log_excerpts",
    "timeline",
    "related_tickets",
    "suspected_component",
    "suspected_release",
    "customer_context",
    "ruled_out",
)


@dataclass(slots=True)
class Section:
    """One section: its value, the evidence it came from, and the fields still missing from it."""

    name: str
    value: Any
    sources: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def filled(self) -> bool:
        return self.value not in (None, "", [], {}) and bool(self.sources)


@dataclass(slots=True)
class Completeness:
    score: float
    filled: list[str]
    missing_sections: list[str]
    ask_for: list[str]

    @property
    def complete(self) -> bool:
        return not self.missing_sections

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 3),
            "filled": self.filled,
            "missing_sections": self.missing_sections,
            "ask_for": self.ask_for,
        }


def assess(sections: Mapping[str, Section]) -> Completeness:
    """Score = share of :data:`SECTIONS` filled; ``ask_for`` = missing fields, an empty section counting
    as its own name."""
    filled = [n for n in SECTIONS if n in sections and sections[n].filled]
    missing = [n for n in SECTIONS if n not in filled]
    ask: list[str] = []
    for name in SECTIONS:
        sec = sections.get(name)
        if sec is None or not sec.filled:
            ask.append(name)
        else:
            ask.extend(f"{name}.{m}" for m in sec.missing)
    return Completeness(
        score=len(filled) / len(SECTIONS), filled=filled, missing_sections=missing, ask_for=ask
    )
