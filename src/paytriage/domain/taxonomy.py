"""Routes and priorities (fixed vocabularies) and the category taxonomy (editable data).

Categories are strings validated against a loaded :class:`Taxonomy` because teams replace
the default list; routes and priorities drive workflow and therefore are enums.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Category", "Priority", "Route", "Taxonomy"]


class Route(StrEnum):
    """Where a case goes after triage."""

    TIER2 = "tier2"
    ENGINEERING = "engineering"
    PAYMENTS_OPS = "payments_ops"
    RISK_COMPLIANCE = "risk_compliance"
    TIER1 = "tier1"


class Priority(StrEnum):
    """P1 is an outage with money at stake; P4 a question."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def rank(self) -> int:
        return int(self.value[1])


@dataclass(frozen=True, slots=True)
class Category:
    """One category of the taxonomy, with what a zero-config classifier may learn from."""

    name: str
    description: str = ""
    default_route: Route = Route.TIER2
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(slots=True)
class Taxonomy:
    """A versioned list of categories."""

    version: str
    categories: list[Category] = field(default_factory=list)

    def names(self) -> list[str]:
        return [c.name for c in self.categories]

    def get(self, name: str) -> Category:
        for c in self.categories:
            if c.name == name:
                return c
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.categories)
