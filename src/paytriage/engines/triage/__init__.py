"""Triage engine: category, route, priority, needs-info, entities, signals and duplicates for a ticket.

``Triager.from_config().triage(ticket)`` is the whole API; the parts are importable for reuse.
"""

from paytriage.engines.triage.classifier import Classifier, Prediction, ZeroConfigClassifier
from paytriage.engines.triage.duplicates import DuplicateCandidate, DuplicateMatch, find_duplicate
from paytriage.engines.triage.entities import Entity, EntityExtractor, EntityKind
from paytriage.engines.triage.priority import PriorityFactor
from paytriage.engines.triage.result import TriageContext, TriageResult
from paytriage.engines.triage.signals import Signals, detect_language, read_signals
from paytriage.engines.triage.triager import Triager

__all__ = [
    "Classifier",
    "DuplicateCandidate",
    "DuplicateMatch",
    "Entity",
    "EntityExtractor",
    "EntityKind",
    "Prediction",
    "PriorityFactor",
    "Signals",
    "TriageContext",
    "TriageResult",
    "Triager",
    "ZeroConfigClassifier",
    "detect_language",
    "find_duplicate",
    "read_signals",
]
