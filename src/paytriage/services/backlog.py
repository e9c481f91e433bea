"""Backlog review: open defects ranked by customer impact, for prioritisation meetings.

A defect's cases are those of its problems (``cases.problem_id → problems.defect_id``), those
escalated to it (audit ``escalated`` events) and those linked in ``case_defects`` (by escalation, a
person, or a regression). Impact = tickets, distinct merchants, money at stake
(from the problems and the escalation packages), SLA risk (cases past or within a day of their
resolution target) and trend (tickets in the last 7 days against the 7 before). The score is a
weighted sum of log-scaled factors, stated in :data:`WEIGHTS` so the ranking can be argued with.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from paytriage.adapters.storage.mapping import case_from_row
from paytriage.adapters.storage.orm import (
    AuditRow,
    CaseDefectRow,
    CaseRow,
    CaseTicketRow,
    DefectRow,
    ProblemRow,
    TicketRow,
)
from paytriage.domain import InputError, Money, utcnow
from paytriage.domain.defect import DefectStatus
from paytriage.domain.money import CURRENCY_EXPONENTS

__all__ = ["WEIGHTS", "BacklogItem", "backlog", "write_csv"]

#: Points per unit of log1p(factor); SLA risk and a rising trend weigh most.
WEIGHTS = {"tickets": 1.0, "merchants": 1.5, "money_major": 0.5, "sla_risk": 2.0, "trend": 1.0}
_MONEY = re.compile(r"([A-Z]{3}) ([\d,]+(?:\.\d+)?)")


@dataclass(slots=True)
class BacklogItem:
    defect_id: int
    key: str | None
    title: str
    status: str
    component: str | None
    cases: int = 0
    tickets: int = 0
    merchants: int = 0
    #: Money at stake in integer minor units per ISO 4217 currency (never floats; JPY has no decimals).
    money: dict[str, int] = field(default_factory=dict)
    sla_risk: int = 0
    tickets_last_7d: int = 0
    tickets_prior_7d: int = 0
    score: float = 0.0

    @property
    def trend(self) -> str:
        a, b = self.tickets_last_7d, self.tickets_prior_7d
        return "rising" if a > b else "falling" if a < b else "flat"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["trend"] = self.trend
        d["score"] = round(self.score, 2)
        return d


def _money_from_text(text: str) -> dict[str, int]:
    """``"EUR 1,234.50; JPY 5,000"`` (the package's rendering) back to minor units per currency."""
    out: dict[str, int] = {}
    for ccy, amount in _MONEY.findall(text or ""):
        try:
            minor = Money.from_decimal(amount.replace(",", ""), ccy).minor_units
        except InputError:
            continue
        out[ccy] = out.get(ccy, 0) + minor
    return out


def _add(into: dict[str, int], more: Mapping[str, int]) -> None:
    for k, v in more.items():
        into[k] = into.get(k, 0) + int(v)


def _major_total(money: Mapping[str, int]) -> float:
    """Sum of major units across currencies: only a rough size for the log-scaled score."""
    return float(sum(Money(v, c).to_decimal() for c, v in money.items() if c in CURRENCY_EXPONENTS))


def backlog(
    session: Session, *, now: datetime | None = None, include_resolved: bool = False
) -> list[BacklogItem]:
    """Defects ranked by :data:`WEIGHTS` (highest first)."""
    when = now or utcnow()
    q = select(DefectRow)
    if not include_resolved:
        q = q.where(DefectRow.status.not_in([DefectStatus.RESOLVED.value, DefectStatus.WONT_FIX.value]))
    items: list[BacklogItem] = []
    for d in session.scalars(q.order_by(DefectRow.id)):
        item = BacklogItem(d.id, d.external_key, d.title, d.status, d.component)
        problems = session.scalars(select(ProblemRow).where(ProblemRow.defect_id == d.id)).all()
        case_ids = set(
            session.scalars(select(CaseRow.id).where(CaseRow.problem_id.in_([p.id for p in problems]))).all()
        )
        for p in problems:
            _add(item.money, p.money_minor_by_currency or {})
        for a in session.scalars(
            select(AuditRow).where(AuditRow.action == "escalated", AuditRow.object_type == "case")
        ):
            if (a.details or {}).get("defect_id") == d.id and a.object_id and a.object_id.isdigit():
                if int(a.object_id) not in case_ids and not problems:
                    _add(
                        item.money,
                        _money_from_text(str((a.details.get("impact") or {}).get("money_at_stake"))),
                    )
                case_ids.add(int(a.object_id))
        case_ids.update(session.scalars(select(CaseDefectRow.case_id).where(CaseDefectRow.defect_id == d.id)))
        _measure(session, item, case_ids, when)
        items.append(item)
    for it in items:
        money_major = _major_total(it.money)
        it.score = (
            WEIGHTS["tickets"] * math.log1p(it.tickets)
            + WEIGHTS["merchants"] * math.log1p(it.merchants)
            + WEIGHTS["money_major"] * math.log1p(money_major)
            + WEIGHTS["sla_risk"] * math.log1p(it.sla_risk)
            + WEIGHTS["trend"] * math.log1p(max(it.tickets_last_7d - it.tickets_prior_7d, 0))
        )
    return sorted(items, key=lambda i: (-i.score, i.defect_id))


def _measure(session: Session, item: BacklogItem, case_ids: set[int], now: datetime) -> None:
    if not case_ids:
        return
    cases = session.scalars(select(CaseRow).where(CaseRow.id.in_(case_ids))).all()
    item.cases = len(cases)
    for row in cases:
        clock = case_from_row(row).resolution_sla
        if row.status not in ("resolved", "closed") and clock.remaining(now) < timedelta(hours=24):
            item.sla_risk += 1
    tickets = session.execute(
        select(TicketRow.created_at, TicketRow.custom_fields, TicketRow.organization)
        .join(CaseTicketRow, CaseTicketRow.ticket_id == TicketRow.id)
        .where(CaseTicketRow.case_id.in_(case_ids))
    ).all()
    item.tickets = len(tickets)
    merchants = {(cf or {}).get("merchant_id") or org for _, cf, org in tickets}
    item.merchants = len({m for m in merchants if m})
    latest = max((at for at, _, _ in tickets), default=now)
    item.tickets_last_7d = sum(1 for at, _, _ in tickets if at > latest - timedelta(days=7))
    item.tickets_prior_7d = sum(
        1 for at, _, _ in tickets if latest - timedelta(days=14) < at <= latest - timedelta(days=7)
    )


CSV_COLUMNS = (
    "rank",
    "defect_id",
    "key",
    "title",
    "status",
    "component",
    "score",
    "cases",
    "tickets",
    "merchants",
    "money",
    "sla_risk",
    "trend",
    "tickets_last_7d",
    "tickets_prior_7d",
)


def write_csv(items: Iterable[BacklogItem], path: Path) -> int:
    """One row per defect in rank order; money as ``EUR 12.00; USD 3.00``. Returns the row count."""
    n = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=CSV_COLUMNS)
        w.writeheader()
        for n, it in enumerate(items, start=1):
            d = it.to_dict()
            d["rank"] = n
            d["money"] = "; ".join(str(Money(v, c)) for c, v in sorted(it.money.items()))
            w.writerow({k: d[k] for k in CSV_COLUMNS})
    return n
