"""The pure domain core: no web framework, no database, no CLI imports (a test checks)."""

from paytriage.domain.audit import AuditEvent
from paytriage.domain.case import Case, CaseStatus, SlaClock, StatusChange
from paytriage.domain.clock import ensure_utc, utcnow
from paytriage.domain.defect import Defect, DefectStatus
from paytriage.domain.errors import (
    ConfigurationError,
    InputError,
    InvalidTransitionError,
    NotFoundError,
    PaytriageError,
    RowError,
)
from paytriage.domain.knowledge import KnowledgeArticle
from paytriage.domain.log_event import LogEvent, LogLevel
from paytriage.domain.money import Money
from paytriage.domain.problem import Problem, ProblemStatus
from paytriage.domain.release import Release
from paytriage.domain.taxonomy import Category, Priority, Route, Taxonomy
from paytriage.domain.ticket import Channel, Comment, Ticket
from paytriage.domain.transaction import StatusEvent, Transaction, TransactionKind, TransactionStatus

__all__ = [
    "AuditEvent",
    "Case",
    "CaseStatus",
    "Category",
    "Channel",
    "Comment",
    "ConfigurationError",
    "Defect",
    "DefectStatus",
    "InputError",
    "InvalidTransitionError",
    "KnowledgeArticle",
    "LogEvent",
    "LogLevel",
    "Money",
    "NotFoundError",
    "PaytriageError",
    "Priority",
    "Problem",
    "ProblemStatus",
    "Release",
    "Route",
    "RowError",
    "SlaClock",
    "StatusChange",
    "StatusEvent",
    "Taxonomy",
    "Ticket",
    "Transaction",
    "TransactionKind",
    "TransactionStatus",
    "ensure_utc",
    "utcnow",
]
