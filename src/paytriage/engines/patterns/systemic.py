"""Systemic problems: ticket bursts on specific keys, deduplicated into one problem per incident.

Why a separate step from grouping: the grouper answers "which tickets look like one problem", which
everyday questions also satisfy. This tracker answers "is something broken": it feeds each ticket's
*signals* (its specific keys, its category alone and combined with a key, and its text group) to a
:class:`KeyBurstDetector`, and only a burst, a key far above its own seasonal baseline from several
customers, makes a problem systemic. Several keys of one incident burst within minutes of each
other (BIN, response code, bank, the category); a burst whose tickets already mostly sit in a
systemic problem, or that repeats a signal of one seen within ``dedupe_hours``, adds to that
problem instead of opening another. While a systemic problem is active, a new ticket carrying one
of its signals (with estimated purity ≥ ``join_purity``) joins it: that is attribution.

Signals are plain strings, e.g. ``bin:465901``, ``category:refund``, ``category:refund|currency:jpy``,
``group:17``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from paytriage.domain.errors import InputError
from paytriage.engines.patterns.bursts import Burst, KeyBurstDetector
from paytriage.engines.patterns.features import KeyKind, TicketFeatures
from paytriage.engines.patterns.grouping import Assignment, ProblemGrouper

__all__ = ["SIGNAL_KINDS", "SystemicProblem", "SystemicTracker", "ticket_signals"]

#: Key kinds specific enough to be a signal on their own.
SIGNAL_KINDS: frozenset[str] = frozenset(
    k.value
    for k in (
        KeyKind.ERROR_CODE,
        KeyKind.BIN,
        KeyKind.PLUGIN,
        KeyKind.ENDPOINT,
        KeyKind.BANK,
        KeyKind.FILE_TYPE,
    )
)
#: Key kinds that are a signal only together with the ticket's category (a country alone is not).
CATEGORY_KINDS: frozenset[str] = SIGNAL_KINDS | {KeyKind.COUNTRY.value, KeyKind.CURRENCY.value}


def ticket_signals(
    keys: Iterable[str],
    category: str | None,
    *,
    group: int | None = None,
    signal_kinds: frozenset[str] = SIGNAL_KINDS,
    category_kinds: frozenset[str] = CATEGORY_KINDS,
) -> set[str]:
    """The signals one ticket carries (see the module docstring)."""
    out: set[str] = set()
    for key in keys:
        kind = key.split(":", 1)[0]
        if kind in signal_kinds:
            out.add(key)
        if category and kind in category_kinds:
            out.add(f"category:{category}|{key}")
    if category:
        out.add(f"category:{category}")
    if group is not None:
        out.add(f"group:{group}")
    return out


def _atoms(signal: str) -> frozenset[str]:
    """``category:refund|currency:jpy`` → {category:refund, currency:jpy}."""
    head, _, rest = signal.partition("|")
    return frozenset([head, *rest.split("|")]) if rest else frozenset([head])


def _broad(signal: str) -> bool:
    """A bare category (``category:refund``) says little about one ticket on its own."""
    return signal.startswith("category:") and "|" not in signal


@dataclass(slots=True)
class SystemicProblem:
    """One systemic problem: the grouper problem holding it, when and why it was called."""

    problem_id: int
    detected_at: datetime
    bursts: list[Burst] = field(default_factory=list)
    last_seen: datetime | None = None
    ticket_ids: set[str] = field(default_factory=set)

    @property
    def signals(self) -> dict[str, Burst]:
        return {b.signal: b for b in self.bursts}

    @property
    def first_burst(self) -> Burst:
        return self.bursts[0]


class SystemicTracker:
    """Groups tickets (``grouper``) and decides which problems are systemic (``detector``).

    ``min_tickets``: a burst must hold this many tickets to open a problem. ``overlap``: share of
    a burst's tickets already in a systemic problem that makes the burst part of it.
    ``active_hours``: how long after its last ticket a systemic problem still attracts tickets.
    """

    def __init__(
        self,
        *,
        grouper: ProblemGrouper | None = None,
        detector: KeyBurstDetector | None = None,
        min_tickets: int = 3,
        overlap: float = 0.34,
        join_purity: float = 0.6,
        min_text_similarity: float = 0.25,
        active_hours: float = 24.0,
        dedupe_hours: float = 72.0,
        group_signals: bool = False,
    ) -> None:
        self.grouper = grouper
        self.detector = detector
        self.min_tickets = min_tickets
        self.overlap = overlap
        self.join_purity = join_purity
        self.min_text_similarity = min_text_similarity
        self.active_hours = active_hours
        self.dedupe_hours = dedupe_hours
        self.group_signals = group_signals
        self.reset()

    def reset(self) -> SystemicTracker:
        self.grouper_ = self.grouper if self.grouper is not None else ProblemGrouper()
        self.detector_ = self.detector if self.detector is not None else KeyBurstDetector()
        self.problems_: list[SystemicProblem] = []
        self.features_: dict[str, TicketFeatures] = {}
        self.owner_: dict[str, SystemicProblem] = {}
        return self

    def add(self, ticket: TicketFeatures, *, category: str | None = None) -> Assignment:
        """Group one ticket, update the burst signals, and open, extend or join systemic problems."""
        if not 0 < self.overlap <= 1:
            raise InputError("overlap must be in (0, 1]", field="overlap")
        assignment = self.grouper_.add(ticket)
        self.features_[ticket.ticket_id] = ticket
        group = self.grouper_.resolve(assignment.problem_id) if self.group_signals else None
        signals = ticket_signals(ticket.keys, category, group=group)
        bursts = self.detector_.observe(ticket.ticket_id, ticket.created_at, signals, ticket.customer_id)
        self._join(ticket, signals)
        for burst in bursts:
            self._on_burst(burst)
        return assignment

    def _active(self, now: datetime, hours: float) -> list[SystemicProblem]:
        edge = now - timedelta(hours=hours)
        return [p for p in self.problems_ if p.last_seen is not None and p.last_seen >= edge]

    def _join(self, ticket: TicketFeatures, signals: set[str]) -> None:
        """Join the active systemic problem whose hot signal explains this ticket best. A bare
        category is too broad to explain a ticket alone: the words must match the problem too."""
        best: tuple[float, SystemicProblem] | None = None
        for p in self._active(ticket.created_at, self.active_hours):
            for name in p.signals:
                if name not in signals:
                    continue
                purity = self.detector_.excess_share(name, ticket.created_at)
                if purity < self.join_purity or (best is not None and purity <= best[0]):
                    continue
                if _broad(name) and self.grouper_.similarity(ticket, p.problem_id) < self.min_text_similarity:
                    continue
                best = (purity, p)
        if best is not None:
            self._take(best[1], [ticket.ticket_id], ticket.created_at)

    def _on_burst(self, burst: Burst) -> None:
        members = [t for t in burst.ticket_ids if t in self.features_]
        target: SystemicProblem | None = None
        recent = self._active(burst.detected_at, self.dedupe_hours)
        for p in recent:
            if burst.signal in p.signals:
                target = p
                break
        if target is None:
            # a refinement (or generalisation) of a signal that is bursting right now in a problem,
            # e.g. category:refund|currency:jpy next to category:refund: the same incident
            atoms = _atoms(burst.signal)
            for p in recent:
                if any(
                    (atoms < _atoms(s) or _atoms(s) < atoms) and self.detector_.is_hot(s) for s in p.signals
                ):
                    target = p
                    break
        if target is None:
            # the same incident seen through another key: the burst's tickets and the problem's
            # overlap by at least ``overlap`` of the smaller of the two
            held: dict[int, int] = {}
            for t in members:
                owner = self.owner_.get(t)
                if owner is not None:
                    held[id(owner)] = held.get(id(owner), 0) + 1
            for p in recent:
                shared = held.get(id(p), 0)
                if shared and shared >= self.overlap * min(len(members), len(p.ticket_ids)):
                    target = p
                    break
        if target is None:
            free = [t for t in members if t not in self.owner_]
            if len(free) < self.min_tickets:
                return
            pid = self.grouper_.move([self.features_[t] for t in free])
            self.grouper_.freeze(pid)
            target = SystemicProblem(pid, burst.detected_at)
            self.problems_.append(target)
            members = free
        target.bursts.append(burst)
        self._take(target, [t for t in members if t not in self.owner_], burst.detected_at)

    def _take(self, p: SystemicProblem, ticket_ids: Sequence[str], when: datetime) -> None:
        if ticket_ids:
            p.problem_id = self.grouper_.move([self.features_[t] for t in ticket_ids], p.problem_id)
        for t in ticket_ids:
            self.owner_[t] = p
            p.ticket_ids.add(t)
        p.last_seen = when if p.last_seen is None else max(p.last_seen, when)

    def systemic(self) -> list[SystemicProblem]:
        """Systemic problems, oldest detection first, with their current grouper ids."""
        for p in self.problems_:
            p.problem_id = self.grouper_.resolve(p.problem_id)
        return sorted(self.problems_, key=lambda p: (p.detected_at, p.problem_id))
