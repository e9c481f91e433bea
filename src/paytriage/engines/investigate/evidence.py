"""The evidence port: the few read-only questions an investigation asks of stored data.

The engines only see this interface; :class:`MemoryEvidence` answers it from lists (unit tests, small
tools) and ``paytriage.adapters.storage.evidence.SqlEvidence`` from the database with its indexes.
Both must give the same answers: the service tests run one scenario through each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from paytriage.domain import LogEvent, Release, Transaction

__all__ = [
    "EvidenceSource",
    "LogQuery",
    "MemoryEvidence",
    "TxnQuery",
    "level_at_least",
    "log_matches",
    "txn_matches",
]

_LEVELS = ("debug", "info", "warning", "error", "critical")


def level_at_least(level: str) -> tuple[str, ...]:
    """Levels at or above ``level`` (``warning`` → warning, error, critical)."""
    return _LEVELS[_LEVELS.index(level) :]


@dataclass(frozen=True, slots=True)
class TxnQuery:
    """Transactions created in ``[start, end)`` matching every given filter (empty = any)."""

    start: datetime | None = None
    end: datetime | None = None
    ids: tuple[str, ...] = ()
    parent_ids: tuple[str, ...] = ()
    kind: str | None = None
    merchant_id: str | None = None
    customer_id: str | None = None
    card_bin: str | None = None
    card_last4: str | None = None
    currency: str | None = None
    amount_minor: int | None = None


@dataclass(frozen=True, slots=True)
class LogQuery:
    """Log events in ``[start, end)``; ``transaction_ids``/``request_ids``/``merchant_ids``/
    ``customer_ids``/``mentions`` are alternatives (an event matches when it carries any of them), the
    other filters must all hold. Ids are indexed columns (filled at ingest from the message too);
    ``mentions`` is a substring search of the message, a scan of the window: keep it short."""

    start: datetime | None = None
    end: datetime | None = None
    transaction_ids: tuple[str, ...] = ()
    request_ids: tuple[str, ...] = ()
    merchant_ids: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    customer_ids: tuple[str, ...] = ()
    template_ids: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    http_status: int | None = None
    service: str | None = None


class EvidenceSource(Protocol):
    """Read-only access to transactions, logs and releases."""

    def transactions(self, query: TxnQuery, *, limit: int, events: bool = True) -> list[Transaction]:
        """Newest first; ``events=False`` may leave lifecycles empty (cheaper for bulk counts)."""
        ...

    def logs(self, query: LogQuery, *, limit: int) -> list[LogEvent]:
        """Newest first."""
        ...

    def count_logs(self, query: LogQuery) -> int: ...

    def first_time(self, query: LogQuery) -> datetime | None:
        """The timestamp of the oldest matching event."""
        ...

    def releases(self, start: datetime, end: datetime) -> list[Release]:
        """Releases in ``[start, end)``, oldest first."""
        ...


def _in(t: datetime, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or t >= start) and (end is None or t < end)


def txn_matches(t: Transaction, q: TxnQuery) -> bool:
    """The reference semantics of :class:`TxnQuery`."""
    return (
        _in(t.created_at, q.start, q.end)
        and (not q.ids or t.external_id in q.ids)
        and (not q.parent_ids or t.parent_id in q.parent_ids)
        and (q.kind is None or t.kind.value == q.kind)
        and (q.merchant_id is None or t.merchant_id == q.merchant_id)
        and (q.customer_id is None or t.customer_id == q.customer_id)
        and (q.card_bin is None or t.card_bin == q.card_bin)
        and (q.card_last4 is None or t.card_last4 == q.card_last4)
        and (q.currency is None or t.amount.currency == q.currency)
        and (q.amount_minor is None or t.amount.minor_units == q.amount_minor)
    )


def log_matches(e: LogEvent, q: LogQuery) -> bool:
    """The reference semantics of :class:`LogQuery`."""
    if not _in(e.timestamp, q.start, q.end):
        return False
    if q.template_ids and e.template_id not in q.template_ids:
        return False
    if q.levels and e.level.value not in q.levels:
        return False
    if q.http_status is not None and e.http_status != q.http_status:
        return False
    if q.service is not None and e.service != q.service:
        return False
    if q.transaction_ids or q.request_ids or q.merchant_ids or q.customer_ids or q.mentions:
        return (
            (e.transaction_id is not None and e.transaction_id in q.transaction_ids)
            or (e.request_id is not None and e.request_id in q.request_ids)
            or (e.merchant_id is not None and e.merchant_id in q.merchant_ids)
            or (e.customer_id is not None and e.customer_id in q.customer_ids)
            or any(m in e.message for m in q.mentions)
        )
    return True


class MemoryEvidence:
    """An :class:`EvidenceSource` over in-memory lists."""

    def __init__(
        self,
        transactions: Iterable[Transaction] = (),
        logs: Iterable[LogEvent] = (),
        releases: Iterable[Release] = (),
    ) -> None:
        self._txns = sorted(transactions, key=lambda t: t.created_at, reverse=True)
        self._logs = sorted(logs, key=lambda e: e.timestamp, reverse=True)
        self._releases = sorted(releases, key=lambda r: r.released_at)

    def transactions(self, query: TxnQuery, *, limit: int, events: bool = True) -> list[Transaction]:
        return [t for t in self._txns if txn_matches(t, query)][:limit]

    def logs(self, query: LogQuery, *, limit: int) -> list[LogEvent]:
        return [e for e in self._logs if log_matches(e, query)][:limit]

    def count_logs(self, query: LogQuery) -> int:
        return sum(1 for e in self._logs if log_matches(e, query))

    def first_time(self, query: LogQuery) -> datetime | None:
        return min((e.timestamp for e in self._logs if log_matches(e, query)), default=None)

    def releases(self, start: datetime, end: datetime) -> list[Release]:
        return [r for r in self._releases if start <= r.released_at < end]
