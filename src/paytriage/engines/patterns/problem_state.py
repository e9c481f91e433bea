"""What the grouper knows about one problem, and the summary a person reads.

Kept apart from the grouping loop so the bookkeeping (word profile, key counts, affected parties,
money, daily volume) can be merged, split and summarised without touching the matching logic.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from paytriage.domain.problem import Problem, ProblemStatus
from paytriage.engines.patterns.features import TicketFeatures

__all__ = ["ProblemState", "ProblemSummary", "Trend"]


class Trend(StrEnum):
    """Direction of a problem's daily ticket volume, last window against the one before."""

    NEW = "new"
    RISING = "rising"
    STEADY = "steady"
    FALLING = "falling"
    QUIET = "quiet"


@dataclass(frozen=True, slots=True)
class ProblemSummary:
    """A problem as shown to people: what, since when, who and how much, where it is heading."""

    problem_id: int
    title: str
    status: ProblemStatus
    first_seen: datetime
    last_seen: datetime
    tickets: int
    affected_customers: int
    affected_merchants: int
    affected_transactions: int
    money_minor_by_currency: dict[str, int]
    trend: Trend
    trend_ratio: float
    top_terms: tuple[str, ...]
    top_keys: tuple[tuple[str, float], ...]
    example_ticket_ids: tuple[str, ...]


@dataclass(slots=True)
class ProblemState:
    """Running aggregate of one problem's tickets.

    ``centroid`` is the sum of the tickets' unit word vectors, pruned to the heaviest terms;
    ``norm2`` its squared length, so a cosine costs one pass over the ticket's own words.
    """

    id: int
    first_seen: datetime
    last_seen: datetime = datetime.min
    title: str | None = None
    status: ProblemStatus = ProblemStatus.CANDIDATE
    centroid: dict[str, float] = field(default_factory=dict)
    norm2: float = 0.0
    key_counts: Counter[str] = field(default_factory=Counter)
    #: per key kind (``"plugin"``, ``"error"`` ...), the count of its most frequent key: whether
    #: the problem has a characteristic key of a kind, without walking every key it ever saw
    kind_top: dict[str, int] = field(default_factory=dict)
    ticket_ids: list[str] = field(default_factory=list)
    customers: set[str] = field(default_factory=set)
    merchants: set[str] = field(default_factory=set)
    transactions: set[str] = field(default_factory=set)
    money: Counter[str] = field(default_factory=Counter)
    daily: Counter[date] = field(default_factory=Counter)

    @property
    def size(self) -> int:
        return len(self.ticket_ids)

    def cosine(self, vec: dict[str, float]) -> float:
        if self.norm2 <= 0.0:
            return 0.0
        c = self.centroid
        return sum(w * c.get(t, 0.0) for t, w in vec.items()) / math.sqrt(self.norm2)

    def _recount_kinds(self) -> None:
        top: dict[str, int] = {}
        for k, n in self.key_counts.items():
            kind = k.split(":", 1)[0]
            if n > top.get(kind, 0):
                top[kind] = n
        self.kind_top = top

    def has_characteristic_kind(self, kind: str, min_share: float) -> bool:
        """Whether at least ``min_share`` of the tickets carry one same key of ``kind``."""
        return self.kind_top.get(kind, 0) >= min_share * (len(self.ticket_ids) or 1)

    def characteristic(self, keys: Iterable[str], min_share: float) -> list[str]:
        """The given keys that at least ``min_share`` of this problem's tickets carry."""
        floor = min_share * (len(self.ticket_ids) or 1)
        counts = self.key_counts
        return sorted(k for k in keys if counts.get(k, 0) >= floor)

    def shared_terms(self, vec: dict[str, float], k: int) -> tuple[str, ...]:
        c = self.centroid
        both = [(w * c[t], t) for t, w in vec.items() if t in c]
        return tuple(t for _, t in sorted(both, reverse=True)[:k])

    def top_terms(self, k: int) -> list[str]:
        return sorted(self.centroid, key=self.centroid.__getitem__, reverse=True)[:k]

    def unit_centroid(self) -> dict[str, float]:
        n = math.sqrt(self.norm2) or 1.0
        return {t: w / n for t, w in self.centroid.items()}

    # -- updates -------------------------------------------------------------------------------
    def _add_vec(self, vec: dict[str, float], sign: float, max_terms: int) -> None:
        c = self.centroid
        for t, w in vec.items():
            v = c.get(t, 0.0) + sign * w
            if v > 1e-9:
                c[t] = v
            else:
                c.pop(t, None)
        if len(c) > 4 * max_terms:
            keep = sorted(c, key=c.__getitem__, reverse=True)[:max_terms]
            self.centroid = c = {t: c[t] for t in keep}
        self.norm2 = sum(v * v for v in c.values())

    def add(self, t: TicketFeatures, vec: dict[str, float], max_terms: int) -> None:
        self._add_vec(vec, 1.0, max_terms)
        counts, top = self.key_counts, self.kind_top
        for k in t.keys:
            n = counts[k] = counts[k] + 1
            kind = k.split(":", 1)[0]
            if n > top.get(kind, 0):
                top[kind] = n
        self.ticket_ids.append(t.ticket_id)
        self.first_seen = min(self.first_seen, t.created_at)
        self.last_seen = max(self.last_seen, t.created_at)
        if t.customer_id:
            self.customers.add(t.customer_id)
        if t.merchant_id:
            self.merchants.add(t.merchant_id)
        self.transactions.update(t.transaction_ids)
        self.money.update(t.amounts_minor)
        self.daily[t.created_at.date()] += 1

    def remove(self, t: TicketFeatures, vec: dict[str, float]) -> None:
        """Take one ticket out; sets of affected parties are recounted only approximately
        (a customer with another ticket in the problem stays counted)."""
        self._add_vec(vec, -1.0, 10**9)
        self.key_counts.subtract(t.keys)
        self.key_counts = +self.key_counts
        self._recount_kinds()
        self.ticket_ids.remove(t.ticket_id)
        self.transactions.difference_update(t.transaction_ids)
        self.money.subtract(t.amounts_minor)
        self.money = +self.money
        self.daily[t.created_at.date()] -= 1
        self.daily = +self.daily

    def absorb(self, other: ProblemState, max_terms: int) -> None:
        self._add_vec(other.centroid, 1.0, max_terms)
        self.key_counts.update(other.key_counts)
        self._recount_kinds()
        self.ticket_ids.extend(other.ticket_ids)
        self.first_seen = min(self.first_seen, other.first_seen)
        self.last_seen = max(self.last_seen, other.last_seen)
        self.customers |= other.customers
        self.merchants |= other.merchants
        self.transactions |= other.transactions
        self.money.update(other.money)
        self.daily.update(other.daily)

    # -- reading -------------------------------------------------------------------------------
    def trend(self, now: datetime, days: int = 7) -> tuple[Trend, float]:
        """Tickets in the last ``days`` against the ``days`` before, as a label and a ratio."""
        today = now.date()
        recent = sum(n for d, n in self.daily.items() if today - timedelta(days=days) < d <= today)
        before = sum(
            n
            for d, n in self.daily.items()
            if today - timedelta(days=2 * days) < d <= today - timedelta(days=days)
        )
        ratio = (recent + 1) / (before + 1)
        if recent == 0:
            return Trend.QUIET, ratio
        if before == 0 and self.first_seen.date() > today - timedelta(days=days):
            return Trend.NEW, ratio
        if ratio >= 1.5:
            return Trend.RISING, ratio
        if ratio <= 1 / 1.5:
            return Trend.FALLING, ratio
        return Trend.STEADY, ratio

    def auto_title(self) -> str:
        """Top key plus top words, e.g. ``bin:411111 · declined · 3ds · timeout``."""
        keys = [k for k, n in self.key_counts.most_common(3) if n / (self.size or 1) >= 0.5]
        return " · ".join([*keys[:1], *self.top_terms(3)]) or f"problem {self.id}"

    def summary(self, now: datetime | None = None, *, examples: int = 5) -> ProblemSummary:
        when = now or self.last_seen
        trend, ratio = self.trend(when)
        n = self.size or 1
        return ProblemSummary(
            problem_id=self.id,
            title=self.title or self.auto_title(),
            status=self.status,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            tickets=self.size,
            affected_customers=len(self.customers),
            affected_merchants=len(self.merchants),
            affected_transactions=len(self.transactions),
            money_minor_by_currency=dict(sorted(self.money.items())),
            trend=trend,
            trend_ratio=round(ratio, 3),
            top_terms=tuple(self.top_terms(8)),
            top_keys=tuple((k, round(c / n, 3)) for k, c in self.key_counts.most_common(5)),
            example_ticket_ids=tuple(self.ticket_ids[:examples]),
        )

    def to_problem(self) -> Problem:
        """The domain object storage keeps (ticket ids as integers where they are)."""
        s = self.summary()
        return Problem(
            title=s.title,
            first_seen=s.first_seen,
            last_seen=s.last_seen,
            summary=f"{s.tickets} tickets; top terms: {', '.join(s.top_terms[:5])}",
            status=s.status,
            affected_customers=s.affected_customers,
            affected_merchants=s.affected_merchants,
            affected_transactions=s.affected_transactions,
            money_minor_by_currency=s.money_minor_by_currency,
            ticket_ids=[int(t) for t in self.ticket_ids if t.isdigit()],
        )
