"""Read-only queries for investigation: the SQL implementation of the evidence port.

Every query is shaped to hit an index: transaction, request, merchant, customer and template ids
have their own (ids named only in a line's text are put in those columns at ingest), levels go with
time (``ix_log_events_level_time``), everything else is bounded by time (``ix_log_events_time``,
``ix_transactions_*_time``). An event that may match on several alternatives (id, request,
merchant, text mention) is found by one query per alternative, merged — an ``OR`` across columns
would make the planner give up its indexes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from paytriage.adapters.storage.mapping import log_from_row
from paytriage.adapters.storage.orm import LogEventRow, ReleaseRow, TransactionEventRow, TransactionRow
from paytriage.domain import (
    LogEvent,
    Money,
    Release,
    StatusEvent,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from paytriage.engines.investigate.evidence import LogQuery, TxnQuery

__all__ = ["SqlEvidence"]

_LOG = LogEventRow.__table__

#: Most ids a single ``IN`` list carries (SQLite's parameter limit is far above; plans stay simple).
_CHUNK = 500


class SqlEvidence:
    """An :class:`~paytriage.engines.investigate.evidence.EvidenceSource` over one open session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- transactions -------------------------------------------------------------------------------
    def transactions(self, query: TxnQuery, *, limit: int, events: bool = True) -> list[Transaction]:
        """Core rows, not ORM objects: detectors read thousands of them (ORM loading was 5× slower)."""
        t = TransactionRow.__table__
        conds = _txn_conditions(query)
        conn = self.session.connection()  # Core execution: the ORM layer adds nothing to plain rows
        rows: list[Any] = []
        if query.ids:
            for chunk in _chunks(query.ids):
                rows += conn.execute(select(t).where(t.c.external_id.in_(chunk), *conds)).all()
            rows.sort(key=lambda r: r.created_at, reverse=True)
            rows = rows[:limit]
        else:
            rows = list(conn.execute(select(t).where(*conds).order_by(t.c.created_at.desc()).limit(limit)))
        lifecycles: dict[int, list[StatusEvent]] = {}
        ev = TransactionEventRow.__table__
        ids = [r.id for r in rows] if events else []
        for k in range(0, len(ids), _CHUNK):
            for e in conn.execute(
                select(ev.c.transaction_id, ev.c.at, ev.c.status, ev.c.code, ev.c.detail)
                .where(ev.c.transaction_id.in_(ids[k : k + _CHUNK]))
                .order_by(ev.c.at)
            ):
                lifecycles.setdefault(e.transaction_id, []).append(
                    StatusEvent(at=e.at, status=TransactionStatus(e.status), code=e.code, detail=e.detail)
                )
        return [_transaction(r, lifecycles.get(r.id, [])) for r in rows]

    # -- logs ---------------------------------------------------------------------------------------
    def logs(self, query: LogQuery, *, limit: int) -> list[LogEvent]:
        """Core rows, not ORM objects (template samples read hundreds per case)."""
        rows: dict[int, Any] = {}
        conn = self.session.connection()
        for stmt in self._log_statements(select(_LOG), query):
            for r in conn.execute(stmt.order_by(_LOG.c.timestamp.desc()).limit(limit)):
                rows[r.id] = r
        ordered = sorted(rows.values(), key=lambda r: (r.timestamp, r.id), reverse=True)
        return [_log_event(r) for r in ordered[:limit]]

    def first_time(self, query: LogQuery) -> datetime | None:
        conn = self.session.connection()
        times = [
            conn.scalar(stmt) for stmt in self._log_statements(select(func.min(_LOG.c.timestamp)), query)
        ]
        found = [t for t in times if t is not None]
        return min(found) if found else None

    def count_logs(self, query: LogQuery) -> int:
        conn = self.session.connection()
        stmts = self._log_statements(select(_LOG.c.id), query)
        if len(stmts) == 1:
            return int(conn.scalar(select(func.count()).select_from(stmts[0].subquery())) or 0)
        ids: set[int] = set()
        for stmt in stmts:
            ids.update(conn.scalars(stmt))
        return len(ids)

    def _log_statements(self, base: Select[Any], q: LogQuery) -> list[Select[Any]]:
        c = _LOG.c  # Core columns: building a statement from ORM attributes costs several times more
        common: list[ColumnElement[bool]] = []
        if q.start is not None:
            common.append(c.timestamp >= q.start)
        if q.end is not None:
            common.append(c.timestamp < q.end)
        if q.template_ids:
            common.append(c.template_id.in_(q.template_ids))
        if q.http_status is not None:
            common.append(c.http_status == q.http_status)
        if q.service is not None:
            common.append(c.service == q.service)
        seeks: list[ColumnElement[bool]] = []  # alternatives an id index serves
        for chunk in _chunks(q.transaction_ids):
            seeks.append(c.transaction_id.in_(chunk))
        for chunk in _chunks(q.request_ids):
            seeks.append(c.request_id.in_(chunk))
        for chunk in _chunks(q.merchant_ids):
            seeks.append(c.merchant_id.in_(chunk))
        for chunk in _chunks(q.customer_ids):
            seeks.append(c.customer_id.in_(chunk))
        # An id's rows in a window are few: its index range is read once, levels tested on the rows.
        stmts = [base.where(a, *([c.level.in_(q.levels)] if q.levels else []), *common) for a in seeks]
        # No index serves text mentions: one scan of the time range tests them all.
        scanned = [c.message.contains(text, autoescape=True) for text in q.mentions]
        if not seeks and not scanned:
            scanned_alts: list[list[ColumnElement[bool]]] = [[]]
        else:
            scanned_alts = [[or_(*scanned)]] if scanned else []
        # One statement per level for a scan: ``level = ? AND timestamp BETWEEN`` is a range of
        # ix_log_events_level_time in time order; with ``level IN (…)`` the planner walks the whole
        # window on ix_log_events_time instead (14 s for one text search at 10M events).
        by_level: list[list[ColumnElement[bool]]] = (
            [[c.level == lv] for lv in dict.fromkeys(q.levels)] if q.levels else [[]]
        )
        return stmts + [base.where(*alt, *lv, *common) for alt in scanned_alts for lv in by_level]

    # -- releases -----------------------------------------------------------------------------------
    def releases(self, start: datetime, end: datetime) -> list[Release]:
        rows = self.session.scalars(
            select(ReleaseRow)
            .where(ReleaseRow.released_at >= start, ReleaseRow.released_at < end)
            .order_by(ReleaseRow.released_at)
        )
        return [
            Release(
                component=r.component, version=r.version, released_at=r.released_at, notes=r.notes, id=r.id
            )
            for r in rows
        ]


def _log_event(r: Any) -> LogEvent:
    """A Core row (selected columns, cheaper than ORM objects) carries the same attributes as the ORM row."""
    return log_from_row(r)


def _transaction(r: Any, events: list[StatusEvent]) -> Transaction:
    return Transaction(
        id=r.id,
        external_id=r.external_id,
        source=r.source,
        kind=TransactionKind(r.kind),
        amount=Money(r.amount_minor, r.currency),
        status=TransactionStatus(r.status),
        created_at=r.created_at,
        merchant_id=r.merchant_id,
        customer_id=r.customer_id,
        processor=r.processor,
        card_bin=r.card_bin,
        card_last4=r.card_last4,
        response_code=r.response_code,
        decline_reason=r.decline_reason,
        parent_id=r.parent_id,
        country=r.country,
        attributes=dict(r.attributes or {}),
        events=events,
    )


def _txn_conditions(q: TxnQuery) -> list[ColumnElement[bool]]:
    t = TransactionRow.__table__.c
    conds: list[ColumnElement[bool]] = []
    if q.start is not None:
        conds.append(t.created_at >= q.start)
    if q.end is not None:
        conds.append(t.created_at < q.end)
    if q.parent_ids:
        conds.append(t.parent_id.in_(q.parent_ids))
    pairs: list[tuple[Any, Any]] = [
        (t.kind, q.kind),
        (t.merchant_id, q.merchant_id),
        (t.customer_id, q.customer_id),
        (t.card_bin, q.card_bin),
        (t.card_last4, q.card_last4),
        (t.currency, q.currency),
        (t.amount_minor, q.amount_minor),
    ]
    conds += [col == value for col, value in pairs if value is not None]
    return conds


def _chunks(items: Iterable[str]) -> list[list[str]]:
    values = list(dict.fromkeys(items))
    return [values[k : k + _CHUNK] for k in range(0, len(values), _CHUNK)]
