"""ORM tables. They stay in the storage adapter; the rest of paytriage sees domain dataclasses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = [
    "AuditRow",
    "Base",
    "CaseDefectRow",
    "CaseHistoryRow",
    "CaseRow",
    "CaseTicketRow",
    "CommentRow",
    "DefectNotificationRow",
    "DefectRow",
    "KnowledgeArticleRow",
    "LogEventRow",
    "ProblemFeedbackRow",
    "ProblemNotificationRow",
    "ProblemRow",
    "ReleaseRow",
    "TicketRow",
    "TransactionEventRow",
    "TransactionRow",
    "UTCDateTime",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware UTC datetimes; SQLite returns naive values, which are re-tagged as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: paytriage stores timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_requester", "requester_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str | None] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    requester_id: Mapped[str | None] = mapped_column(String(128))
    requester_email: Mapped[str | None] = mapped_column(String(320))
    organization: Mapped[str | None] = mapped_column(String(256))
    tags: Mapped[list[Any]]
    custom_fields: Mapped[dict[str, Any]]
    tier1_agent: Mapped[str | None] = mapped_column(String(128))
    tier1_notes: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    ingested_at: Mapped[datetime]

    comments: Mapped[list[CommentRow]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="CommentRow.created_at"
    )


class CommentRow(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]

    ticket: Mapped[TicketRow] = relationship(back_populates="comments")


class CaseRow(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_queue", "status", "priority", "created_at"),
        Index("ix_cases_assignee", "assignee"),
        Index("ix_cases_category", "category"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(32))
    assignee: Mapped[str | None] = mapped_column(String(128))
    category: Mapped[str | None] = mapped_column(String(64))
    #: "triage" or "human": people's labels are kept by re-triage and train the classifier (--from-db).
    category_source: Mapped[str | None] = mapped_column(String(16))
    route: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[str | None] = mapped_column(String(4))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    problem_id: Mapped[int | None] = mapped_column(ForeignKey("problems.id"), index=True)
    # SLA clocks: targets in seconds, start/stop/pause bookkeeping.
    frt_target_s: Mapped[int] = mapped_column(Integer)
    frt_started_at: Mapped[datetime]
    frt_stopped_at: Mapped[datetime | None]
    res_target_s: Mapped[int] = mapped_column(Integer)
    res_started_at: Mapped[datetime]
    res_stopped_at: Mapped[datetime | None]
    res_paused_since: Mapped[datetime | None]
    res_paused_total_s: Mapped[int] = mapped_column(Integer, default=0)
    triage: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    tickets: Mapped[list[CaseTicketRow]] = relationship(cascade="all, delete-orphan")
    history: Mapped[list[CaseHistoryRow]] = relationship(
        cascade="all, delete-orphan", order_by="CaseHistoryRow.at"
    )


class CaseTicketRow(Base):
    __tablename__ = "case_tickets"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CaseHistoryRow(Base):
    __tablename__ = "case_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    old: Mapped[str] = mapped_column(String(32))
    new: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))


class TransactionRow(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_transactions_merchant_time", "merchant_id", "created_at"),
        Index("ix_transactions_customer_time", "customer_id", "created_at"),
        Index("ix_transactions_bin_time", "card_bin", "created_at"),
        Index("ix_transactions_code_time", "response_code", "created_at"),
        Index("ix_transactions_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    merchant_id: Mapped[str | None] = mapped_column(String(128))
    customer_id: Mapped[str | None] = mapped_column(String(128))
    processor: Mapped[str | None] = mapped_column(String(64))
    card_bin: Mapped[str | None] = mapped_column(String(8))
    card_last4: Mapped[str | None] = mapped_column(String(4))
    response_code: Mapped[str | None] = mapped_column(String(32))
    decline_reason: Mapped[str | None] = mapped_column(String(128))
    parent_id: Mapped[str | None] = mapped_column(String(128), index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    attributes: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))

    events: Mapped[list[TransactionEventRow]] = relationship(
        cascade="all, delete-orphan", order_by="TransactionEventRow.at"
    )


class TransactionEventRow(Base):
    __tablename__ = "transaction_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)


class LogEventRow(Base):
    __tablename__ = "log_events"
    __table_args__ = (
        Index("ix_log_events_txn", "transaction_id"),
        Index("ix_log_events_request", "request_id"),
        Index("ix_log_events_time", "timestamp"),
        Index("ix_log_events_service_time", "service", "timestamp"),
        Index("ix_log_events_template_time", "template_id", "timestamp"),
        # Ids pulled out of free-text/logfmt lines at ingest: investigations seek them, never scan.
        Index("ix_log_events_merchant_time", "merchant_id", "timestamp"),
        Index("ix_log_events_customer_time", "customer_id", "timestamp"),
        Index("ix_log_events_level_time", "level", "timestamp"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(40), unique=True)
    source: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[datetime]
    service: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    transaction_id: Mapped[str | None] = mapped_column(String(128))
    request_id: Mapped[str | None] = mapped_column(String(128))
    merchant_id: Mapped[str | None] = mapped_column(String(128))
    customer_id: Mapped[str | None] = mapped_column(String(128))
    http_status: Mapped[int | None] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(64))
    template_id: Mapped[str | None] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]]


class ReleaseRow(Base):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("component", "version"), Index("ix_releases_at", "released_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    component: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(64))
    released_at: Mapped[datetime]
    notes: Mapped[str] = mapped_column(Text, default="")


class ProblemRow(Base):
    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(512))
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    suspected_root_cause: Mapped[str | None] = mapped_column(Text)
    affected_customers: Mapped[int] = mapped_column(Integer, default=0)
    affected_merchants: Mapped[int] = mapped_column(Integer, default=0)
    affected_transactions: Mapped[int] = mapped_column(Integer, default=0)
    money_minor_by_currency: Mapped[dict[str, Any]]
    defect_id: Mapped[int | None] = mapped_column(ForeignKey("defects.id"))
    #: how the last detection run found it systemic: its bursts and the log alerts that explain it
    #: (``{}`` for a candidate); see ``services.problems.detection_record``
    detection: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")


class LogAlertRow(Base):
    """A log incident of the last detection run (rewritten by each run, like the problems)."""

    __tablename__ = "log_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    detected_at: Mapped[datetime] = mapped_column(index=True)
    service: Mapped[str] = mapped_column(String(128))
    signal: Mapped[str] = mapped_column(Text)
    first_alert: Mapped[str] = mapped_column(Text)
    alerts: Mapped[int] = mapped_column(Integer)
    signals: Mapped[list[Any]]
    examples: Mapped[list[Any]]
    #: the problem it explains (None: raised from the logs alone); ids change every run, as do these
    problem_id: Mapped[int | None] = mapped_column(Integer)


class ProblemFeedbackRow(Base):
    """A person's merge/split/rename/status on a problem, keyed by its member cases (row ids change)."""

    __tablename__ = "problem_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))
    #: member case ids of the problem acted on, when the person acted
    case_ids: Mapped[list[Any]]
    #: merge: the target problem's cases; split: the cases moved out
    other_case_ids: Mapped[list[Any]]
    value: Mapped[str | None] = mapped_column(Text)


class ProblemNotificationRow(Base):
    """A notification sent (or given up) for a problem at a level, so it is sent once."""

    __tablename__ = "problem_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    level: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(512))
    case_ids: Mapped[list[Any]]
    error: Mapped[str | None] = mapped_column(Text)


class DefectRow(Base):
    __tablename__ = "defects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(512))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    external_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    external_url: Mapped[str | None] = mapped_column(String(512))
    component: Mapped[str | None] = mapped_column(String(128))


class CaseDefectRow(Base):
    """Which cases a defect affects, besides ``problems.defect_id`` (problems are regrouped; links stay)."""

    __tablename__ = "case_defects"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    defect_id: Mapped[int] = mapped_column(
        ForeignKey("defects.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    #: "escalated", "manual", "problem" or "regression"
    reason: Mapped[str] = mapped_column(String(32))


class DefectNotificationRow(Base):
    """A draft customer notification after a defect's fix, one per requester, for a person to send."""

    __tablename__ = "defect_notifications"
    __table_args__ = (UniqueConstraint("defect_id", "requester", "resolved_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    defect_id: Mapped[int] = mapped_column(ForeignKey("defects.id", ondelete="CASCADE"), index=True)
    #: The resolution this draft announces (a regressed defect resolved again gets new drafts).
    resolved_at: Mapped[datetime]
    requester: Mapped[str] = mapped_column(String(320))
    requester_email: Mapped[str | None] = mapped_column(String(320))
    organization: Mapped[str | None] = mapped_column(String(256))
    case_ids: Mapped[list[Any]]
    ticket_ids: Mapped[list[Any]]
    subject: Mapped[str] = mapped_column(String(512))
    body: Mapped[str] = mapped_column(Text)
    #: The knowledge article or built-in template the text came from.
    template: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class KnowledgeArticleRow(Base):
    __tablename__ = "knowledge_articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(String(512))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(String(64))
    audience: Mapped[str] = mapped_column(String(32))
    tags: Mapped[list[Any]]
    updated_at: Mapped[datetime | None]


class AuditRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]]
