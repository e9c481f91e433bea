"""Pattern recognition: intent discovery, problem grouping, emerging-issue detection, release impact."""

from __future__ import annotations

from paytriage.engines.patterns.features import (
    KEY_WEIGHTS,
    KeyKind,
    TicketFeatures,
    entity_keys,
    features_from_ticket,
    tokenize,
)
from paytriage.engines.patterns.grouping import Assignment, Explanation, MergeSuggestion, ProblemGrouper
from paytriage.engines.patterns.problem_state import ProblemState, ProblemSummary, Trend

__all__ = [
    "KEY_WEIGHTS",
    "Assignment",
    "Explanation",
    "KeyKind",
    "MergeSuggestion",
    "ProblemGrouper",
    "ProblemState",
    "ProblemSummary",
    "TicketFeatures",
    "Trend",
    "entity_keys",
    "features_from_ticket",
    "tokenize",
]
