"""Problems as people read them: the list, one problem's full story, and recounting its facts.

Stored problems carry counts from the grouper; the detail view adds what only the member cases
know (trend, top terms, shared entities, examples) so the CLI, API and page show the same thing.
``recount`` rebuilds a problem's facts from its cases after a person merged or split it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paytriage.adapters.storage.orm import (
    CaseRow,
    CaseTicketRow,
    DefectRow,
    LogAlertRow,
    ProblemRow,
    TicketRow,
    TransactionRow,
)
from paytriage.domain import NotFoundError, ProblemStatus
from paytriage.engines.patterns.features import tokenize
from paytriage.engines.patterns.problem_state import Trend

__all__ = [
    "LogAlertListing",
    "LogAlertPage",
    "ProblemDetail",
    "ProblemListing",
    "ProblemPage",
    "get_problem",
    "list_log_alerts",
    "list_problems",
    "members_by_problem",
    "recount",
]

#: Entity kinds that identify a person or one payment, not a shared cause.
#: Entity kinds that identify a person or one payment, or say when, not what: never "shared evidence".
_PRIVATE_KINDS = {
    "transaction_id",
    "customer_id",
    "merchant_id",
    "email",
    "phone",
    "iban",
    "card_last4",
    "amount",
    "date",
    "time",
}
#: Ticket fields and stored-transaction columns that describe the environment a problem shares.
_TICKET_FIELDS = {"integration": "software", "country": "country"}
_TXN_COLUMNS = {
    "card_bin": "card_bin",
    "response_code": "response_code",
    "processor": "acquirer",
    "country": "country",
}
_TREND_DAYS = 7


@dataclass(frozen=True, slots=True)
class ProblemListing:
    """One row of the problems list."""

    id: int
    title: str
    status: ProblemStatus
    first_seen: datetime
    last_seen: datetime
    cases: int
    affected_customers: int
    affected_merchants: int
    affected_transactions: int
    money_minor_by_currency: dict[str, int]
    defect_id: int | None


@dataclass(frozen=True, slots=True)
class ProblemPage:
    data: list[ProblemListing]
    count: int


@dataclass(frozen=True, slots=True)
class LogAlertListing:
    """A log incident of the last detection run: the early warning, with the problem it explains."""

    id: int
    detected_at: datetime
    service: str
    signal: str
    first_alert: str
    alerts: int
    signals: list[str]
    examples: list[str]
    problem_id: int | None


@dataclass(frozen=True, slots=True)
class LogAlertPage:
    data: list[LogAlertListing]
    count: int


@dataclass(frozen=True, slots=True)
class ProblemDetail:
    """Everything the detail view shows; ``trend`` compares the last 7 days with the 7 before."""

    problem: ProblemListing
    summary: str
    trend: Trend
    trend_ratio: float
    daily_cases: dict[str, int]
    top_terms: list[str]
    shared_entities: list[dict[str, Any]]
    examples: list[dict[str, Any]]
    case_ids: list[int]
    suspected_root_cause: str | None
    root_cause_source: str | None
    defect: dict[str, Any] | None = None
    #: how the last detection run found it systemic (bursts, explaining log alerts); {} if it did not
    detection: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def members_by_problem(session: Session, problem_ids: Iterable[int] | None = None) -> dict[int, list[int]]:
    """Problem id → its member case ids (ascending)."""
    stmt = select(CaseRow.problem_id, CaseRow.id).where(CaseRow.problem_id.is_not(None))
    if problem_ids is not None:
        stmt = stmt.where(CaseRow.problem_id.in_(list(problem_ids)))
    out: dict[int, list[int]] = {}
    for pid, cid in session.execute(stmt.order_by(CaseRow.id)):
        if pid is not None:
            out.setdefault(int(pid), []).append(int(cid))
    return out


def _listing(row: ProblemRow, cases: int) -> ProblemListing:
    return ProblemListing(
        id=row.id,
        title=row.title,
        status=ProblemStatus(row.status),
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        cases=cases,
        affected_customers=row.affected_customers,
        affected_merchants=row.affected_merchants,
        affected_transactions=row.affected_transactions,
        money_minor_by_currency={str(k): int(v) for k, v in (row.money_minor_by_currency or {}).items()},
        defect_id=row.defect_id,
    )


def list_problems(
    session: Session,
    *,
    statuses: Sequence[ProblemStatus] | None = None,
    q: str | None = None,
    min_cases: int = 0,
    limit: int = 50,
    offset: int = 0,
) -> ProblemPage:
    """Problems, most recently active first; ``q`` matches the title (case-insensitive)."""
    counts = (
        select(CaseRow.problem_id.label("pid"), func.count(CaseRow.id).label("n"))
        .where(CaseRow.problem_id.is_not(None))
        .group_by(CaseRow.problem_id)
        .subquery()
    )
    n = func.coalesce(counts.c.n, 0)
    stmt = select(ProblemRow, n).outerjoin(counts, counts.c.pid == ProblemRow.id)
    if statuses:
        stmt = stmt.where(ProblemRow.status.in_([s.value for s in statuses]))
    if q:
        stmt = stmt.where(func.lower(ProblemRow.title).contains(q.lower(), autoescape=True))
    if min_cases > 0:
        stmt = stmt.where(n >= min_cases)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(
        stmt.order_by(ProblemRow.last_seen.desc(), ProblemRow.id.desc()).limit(limit).offset(offset)
    ).all()
    return ProblemPage([_listing(r, int(c)) for r, c in rows], int(total))


def list_log_alerts(
    session: Session, *, unexplained: bool = False, limit: int = 50, offset: int = 0
) -> LogAlertPage:
    """The last run's log alerts, newest first; ``unexplained``: only those no problem matches yet."""
    stmt = select(LogAlertRow)
    if unexplained:
        stmt = stmt.where(LogAlertRow.problem_id.is_(None))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(LogAlertRow.detected_at.desc(), LogAlertRow.id.desc()).limit(limit).offset(offset)
    )
    data = [
        LogAlertListing(
            r.id,
            r.detected_at,
            r.service,
            r.signal,
            r.first_alert,
            r.alerts,
            [str(x) for x in r.signals],
            [str(x) for x in r.examples],
            r.problem_id,
        )
        for r in rows
    ]
    return LogAlertPage(data, int(total))


def _first_tickets(session: Session, case_ids: Sequence[int]) -> dict[int, TicketRow]:
    out: dict[int, TicketRow] = {}
    for start in range(0, len(case_ids), 500):
        chunk = list(case_ids[start : start + 500])
        firsts = (
            select(CaseTicketRow.case_id, func.min(CaseTicketRow.ticket_id).label("tid"))
            .where(CaseTicketRow.case_id.in_(chunk))
            .group_by(CaseTicketRow.case_id)
            .subquery()
        )
        for cid, ticket in session.execute(
            select(firsts.c.case_id, TicketRow).join(TicketRow, TicketRow.id == firsts.c.tid)
        ):
            out[int(cid)] = ticket
    return out


def _cases(session: Session, case_ids: Sequence[int]) -> list[CaseRow]:
    rows: list[CaseRow] = []
    for start in range(0, len(case_ids), 500):
        rows.extend(session.scalars(select(CaseRow).where(CaseRow.id.in_(case_ids[start : start + 500]))))
    return sorted(rows, key=lambda c: (c.created_at, c.id))


def _entities(case: CaseRow) -> list[dict[str, Any]]:
    return list((case.triage or {}).get("entities") or [])


def _entity_label(e: dict[str, Any]) -> str:
    value = e.get("value")
    if isinstance(value, dict):
        name, version = value.get("name"), value.get("version")
        value = f"{name} {version}" if name and version else (value.get("display") or name or e.get("text"))
    elif isinstance(value, list):
        value = " ".join(str(v) for v in value if v)
    return str(value if value not in (None, "") else e.get("text", "")).strip()


def _trend(created: Sequence[datetime], now: datetime) -> tuple[Trend, float, dict[str, int]]:
    daily = Counter(c.date() for c in created)
    today = now.date()
    window = timedelta(days=_TREND_DAYS)
    recent = sum(n for d, n in daily.items() if today - window < d <= today)
    before = sum(n for d, n in daily.items() if today - 2 * window < d <= today - window)
    ratio = (recent + 1) / (before + 1)
    if recent == 0:
        trend = Trend.QUIET
    elif before == 0 and created and min(created).date() > today - window:
        trend = Trend.NEW
    elif ratio >= 1.5:
        trend = Trend.RISING
    elif ratio <= 1 / 1.5:
        trend = Trend.FALLING
    else:
        trend = Trend.STEADY
    return trend, round(ratio, 3), {d.isoformat(): n for d, n in sorted(daily.items())}


def _transaction_facts(session: Session, ids_by_case: dict[int, set[str]]) -> dict[int, set[tuple[str, str]]]:
    """(kind, value) facts per case from the stored transactions its tickets name."""
    wanted = sorted({i for ids in ids_by_case.values() for i in ids})
    by_txn: dict[str, set[tuple[str, str]]] = {}
    cols = [getattr(TransactionRow, c) for c in _TXN_COLUMNS]
    for start in range(0, len(wanted), 500):
        for row in session.execute(
            select(TransactionRow.external_id, *cols).where(
                TransactionRow.external_id.in_(wanted[start : start + 500])
            )
        ):
            facts = {(kind, str(v)) for kind, v in zip(_TXN_COLUMNS.values(), row[1:], strict=True) if v}
            by_txn.setdefault(row[0], set()).update(facts)
    return {cid: set().union(*(by_txn.get(i, set()) for i in ids)) for cid, ids in ids_by_case.items()}


def _shared_entities(
    session: Session, cases: Sequence[CaseRow], tickets: dict[int, TicketRow]
) -> list[dict[str, Any]]:
    """Facts in at least two cases and a fifth of them, most shared first.

    Facts come from the triage entities, the ticket's environment fields (integration, country)
    and the stored transactions the case names (BIN, response code, acquirer, country).
    """
    if not cases:
        return []
    facts: dict[int, set[tuple[str, str]]] = {}
    txn_ids: dict[int, set[str]] = {}
    for case in cases:
        found = {
            (str(e.get("kind")), _entity_label(e))
            for e in _entities(case)
            if e.get("kind") not in _PRIVATE_KINDS
        }
        ids = {
            str(e.get("value"))
            for e in _entities(case)
            if e.get("kind") == "transaction_id" and e.get("value")
        }
        ticket = tickets.get(case.id)
        fields = (ticket.custom_fields or {}) if ticket is not None else {}
        for name, kind in _TICKET_FIELDS.items():
            if isinstance(fields.get(name), str) and fields[name].strip():
                found.add((kind, fields[name].strip()))
        if isinstance(fields.get("transaction_id"), str):
            ids.add(fields["transaction_id"])
        facts[case.id] = found
        txn_ids[case.id] = ids
    for cid, more in _transaction_facts(session, txn_ids).items():
        facts[cid] |= more
    seen: Counter[tuple[str, str]] = Counter()
    for found in facts.values():
        seen.update({(k, v.casefold() if k == "software" else v) for k, v in found if v})
    floor = max(2, len(cases) / 5)
    return [
        {"kind": kind, "value": value, "cases": n, "share": round(n / len(cases), 3)}
        for (kind, value), n in seen.most_common(10)
        if n >= floor
    ]


def _top_terms(texts: Sequence[str], k: int = 8) -> list[str]:
    """Words in the most member tickets (stop words and numbers already dropped by ``tokenize``)."""
    df: Counter[str] = Counter()
    for text in texts:
        df.update(set(tokenize(text)))
    return [t for t, n in sorted(df.items(), key=lambda x: (-x[1], x[0]))[:k] if n >= min(2, len(texts))]


def get_problem(session: Session, problem_id: int, *, now: datetime | None = None) -> ProblemDetail:
    """One problem with its evidence; ``now`` defaults to the newest case in the queue."""
    row = session.get(ProblemRow, problem_id)
    if row is None:
        raise NotFoundError(f"problem {problem_id} not found")
    case_ids = members_by_problem(session, [problem_id]).get(problem_id, [])
    cases = _cases(session, case_ids)
    tickets = _first_tickets(session, case_ids)
    latest = session.scalar(select(func.max(CaseRow.created_at)))
    trend, ratio, daily = _trend([c.created_at for c in cases], now or latest or datetime.now(UTC))
    shared = _shared_entities(session, cases, tickets)
    examples = [
        {
            "case_id": c.id,
            "ticket": tickets[c.id].external_id if c.id in tickets else None,
            "created_at": c.created_at,
            "title": c.title,
            "status": c.status,
        }
        for c in cases[:5]
    ]
    cause, source = row.suspected_root_cause, "investigation" if row.suspected_root_cause else None
    if cause is None and shared:
        top = shared[0]
        cause = f"{top['kind']} {top['value']} shared by {top['cases']} of {len(cases)} cases"
        source = "shared evidence"
    defect = None
    if row.defect_id is not None:
        d = session.get(DefectRow, row.defect_id)
        if d is not None:
            defect = {"id": d.id, "title": d.title, "status": d.status, "key": d.external_key,
                      "url": d.external_url}  # fmt: skip
    return ProblemDetail(
        problem=_listing(row, len(case_ids)),
        summary=row.summary,
        trend=trend,
        trend_ratio=ratio,
        daily_cases=daily,
        top_terms=_top_terms([f"{t.subject} {t.description}" for t in tickets.values()]),
        shared_entities=shared,
        examples=examples,
        case_ids=case_ids,
        suspected_root_cause=cause,
        root_cause_source=source,
        defect=defect,
        detection=dict(row.detection or {}),
    )


def recount(session: Session, row: ProblemRow) -> None:
    """Rebuild first/last seen and affected parties, transactions and money from the member cases."""
    case_ids = members_by_problem(session, [row.id]).get(row.id, [])
    cases = _cases(session, case_ids)
    if not cases:
        return
    tickets = _first_tickets(session, case_ids)
    row.first_seen = cases[0].created_at
    row.last_seen = max(c.created_at for c in cases)
    customers = {t.requester_id or t.requester_email for t in tickets.values()} - {None}
    merchants = {t.organization or (t.custom_fields or {}).get("merchant_id") for t in tickets.values()}
    txns: set[str] = set()
    money: Counter[str] = Counter()
    for case in cases:
        for e in _entities(case):
            value = e.get("value")
            if e.get("kind") == "transaction_id" and value:
                txns.add(str(value))
            elif e.get("kind") == "amount" and isinstance(value, dict) and value.get("currency"):
                money[str(value["currency"])] += int(value.get("minor_units") or 0)
    row.affected_customers = len(customers)
    row.affected_merchants = len(merchants - {None, ""})
    row.affected_transactions = len(txns)
    row.money_minor_by_currency = dict(sorted(money.items()))
