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

Log corroboration (:meth:`SystemicTracker.use_logs`): the platform's own logs often show an incident
before or while the first tickets arrive. A ticket whose identifiers, key values or words match
what an active log alert's lines named *by then* (each token weighted by its specificity, see
:func:`~paytriage.engines.patterns.log_signals.link_weight`) is corroborated by that alert; once
``min_corroborated`` customers carrying a signal are corroborated by the same log incident, that
signal's burst test runs at ``corroborated_alpha`` instead of the detector's own level, also for
later tickets carrying it whose link to that incident reaches only ``min_backed_link`` (a customer
who writes "my card was declined" shares fewer words with the log lines than a developer who pastes
the error, yet is the same outage once the signal is corroborated). Two
independent sources agreeing need less evidence from each; the other minimum-evidence rules
(customers, ratio over baseline) stay. A value-shift alert's lines are only those whose own amount
is off, so a ticket naming one of their transactions is linked by that alone (a refund 100× too
small is the customer's complaint, whatever words they use).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from paytriage.domain.errors import InputError
from paytriage.engines.patterns.bursts import Burst, KeyBurstDetector
from paytriage.engines.patterns.concepts import Concepts, load_concepts
from paytriage.engines.patterns.features import KeyKind, TicketFeatures, tokenize
from paytriage.engines.patterns.grouping import Assignment, ProblemGrouper
from paytriage.engines.patterns.log_signals import LogIncident, key_tokens

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
        KeyKind.PROCESSOR,
        KeyKind.FILE_TYPE,
        KeyKind.INTENT,
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


def _nested(a: frozenset[str], b: frozenset[str]) -> bool:
    return a < b or b < a


def _direct(signal: str) -> bool:
    """A value-shift alert: its lines are only those whose own amount is off (see value_shift)."""
    return signal.startswith("log:") and ":value:" in signal


def _intent(signal: str) -> bool:
    """A signal on an intent group (``intent:7``, ``category:refund|intent:7``)."""
    return any(a.startswith("intent:") for a in _atoms(signal))


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
    #: how many of its tickets link to each log alert (incident index, alert signal)
    links: Counter[tuple[int, str]] = field(default_factory=Counter)

    @property
    def signals(self) -> dict[str, Burst]:
        return {b.signal: b for b in self.bursts}

    @property
    def first_burst(self) -> Burst:
        return self.bursts[0]


class SystemicTracker:
    """Groups tickets (``grouper``) and decides which problems are systemic (``detector``).

    ``min_tickets``: a burst must hold this many tickets to open a problem. ``overlap``: share of
    a burst's tickets already in a systemic problem that makes the burst part of it. ``bridge_hours``:
    problems detected this close together that one burst bridges are merged.
    ``active_hours``: how long after its last ticket a systemic problem still attracts tickets.
    Log corroboration (see the module docstring): ``corroborated_alpha``, ``min_corroborated``,
    ``min_log_link`` (specificity-weighted shared tokens), ``min_backed_link`` (the lesser link a
    later ticket needs to an incident that already backs one of its signals) and
    ``log_active_hours`` (how long after an alert it corroborates tickets); ``concepts`` (default:
    the packaged payments vocabulary) tags tickets as the log lines are tagged, so "3D Secure page
    never loads" can meet "ACS did not answer CReq".
    ``broad_share``: a key on at least this share of all tickets (an acquirer, a big country) is
    as common as a category; a ticket joins a problem through it, like through a bare category,
    only when its words match the problem too (during an outage at one acquirer, another
    incident's tickets processed there are not part of it).
    ``watched_kinds`` / ``silent_factor``: a partner bank or an acquirer is the platform's own
    counterparty, and its connector logs every file, acknowledgement, authorisation and
    notification exchanged with it; when tickets naming one burst while no log alert backs them,
    that silence is evidence against an outage on its side, so such a signal is tested at
    ``silent_factor`` times the detector's level (only when logs are given at all: no logs, no
    silence).
    ``episode_similarity``: a signal bursting again in a problem
    without a burst for ``active_hours`` joins it only when the new tickets' mean word similarity
    to the problem reaches this (a processor key bursts for unrelated outages days apart).
    """

    def __init__(
        self,
        *,
        grouper: ProblemGrouper | None = None,
        detector: KeyBurstDetector | None = None,
        min_tickets: int = 3,
        overlap: float = 1 / 3,
        bridge_hours: float = 6.0,
        join_purity: float = 0.6,
        min_text_similarity: float = 0.25,
        active_hours: float = 24.0,
        dedupe_hours: float = 72.0,
        group_signals: bool = False,
        corroborated_alpha: float = 1e-3,
        min_corroborated: int = 2,
        min_log_link: float = 2.0,
        log_active_hours: float = 6.0,
        episode_similarity: float = 0.5,
        min_backed_link: float = 1.5,
        concepts: Concepts | None = None,
        alert_signals: bool = True,
        broad_share: float = 0.05,
        watched_kinds: frozenset[str] = frozenset({KeyKind.BANK.value, KeyKind.PROCESSOR.value}),
        silent_factor: float = 0.1,
        category_prior_weight: float = 50.0,
    ) -> None:
        self.grouper = grouper
        self.detector = detector
        self.min_tickets = min_tickets
        self.overlap = overlap
        self.bridge_hours = bridge_hours
        self.join_purity = join_purity
        self.min_text_similarity = min_text_similarity
        self.active_hours = active_hours
        self.dedupe_hours = dedupe_hours
        self.group_signals = group_signals
        self.corroborated_alpha = corroborated_alpha
        self.min_corroborated = min_corroborated
        self.min_log_link = min_log_link
        self.log_active_hours = log_active_hours
        self.episode_similarity = episode_similarity
        self.min_backed_link = min_backed_link
        self.concepts = concepts
        self.alert_signals = alert_signals
        self.broad_share = broad_share
        self.watched_kinds = watched_kinds
        self.silent_factor = silent_factor
        self.category_prior_weight = category_prior_weight
        self.reset()

    def reset(self) -> SystemicTracker:
        self.grouper_ = self.grouper if self.grouper is not None else ProblemGrouper()
        self.detector_ = self.detector if self.detector is not None else KeyBurstDetector()
        self.concepts_ = self.concepts if self.concepts is not None else load_concepts()
        self.problems_: list[SystemicProblem] = []
        self.features_: dict[str, TicketFeatures] = {}
        self.category_: dict[str, str] = {}
        self.owner_: dict[str, SystemicProblem] = {}
        self.logs_: list[LogIncident] = []
        self._known = 0  # log incidents detected so far (``logs_`` is in detection order)
        self._df: Counter[str] = Counter()
        self._backing: dict[str, deque[tuple[datetime, int, str]]] = {}
        self._weights: dict[int, float] = {}
        self._alert_of: dict[int, str] = {}  # log incident -> its alert the ticket links to best
        self.links_: dict[str, frozenset[tuple[int, str]]] = {}  # ticket -> (log incident, alert)
        self._categories: set[str] = set()
        return self

    def use_logs(self, incidents: Iterable[LogIncident]) -> SystemicTracker:
        """Log incidents that may corroborate tickets; each is used only from its detection on."""
        self.logs_ = sorted(incidents, key=lambda i: i.detected_at)
        self._known = 0
        self._df = Counter()
        self._backing = {}
        return self

    def _corroborating(self, ticket: TicketFeatures) -> tuple[int, str] | None:
        """The known log incident (index, alert signal) whose active alert's lines, as logged by
        now, share evidence worth ``min_log_link`` with this ticket; the strongest."""
        now = ticket.created_at
        while self._known < len(self.logs_) and self.logs_[self._known].detected_at <= now:
            self._df.update(self.logs_[self._known].tokens)
            self._known += 1
        self._weights = {}
        self._alert_of = {}
        if not self._known:
            return None
        txns = {t.lower() for t in ticket.transaction_ids}
        tokens = set(txns)
        tokens |= {x.lower() for x in (ticket.customer_id, ticket.merchant_id) if x}
        # one key is one fact however many tokens it reads as (plugin:magento@2.4.1 is "magento",
        # "2.4.1" and "magento@2.4.1" in log lines): its tokens count once, by the most specific
        groups = [g for g in (frozenset(key_tokens([k])) for k in ticket.keys) if g]
        grouped = frozenset().union(*groups) if groups else frozenset()
        tokens |= set(tokenize(ticket.text)) | self.concepts_.tags(ticket.text)
        tokens -= grouped
        edge = now - timedelta(hours=self.log_active_hours)
        best: tuple[float, int, str] | None = None
        for idx in range(self._known - 1, -1, -1):
            inc = self.logs_[idx]
            if inc.detected_at < edge - timedelta(days=7):
                break  # incidents are in detection order; nothing older can still be active
            for alert, mine in zip(inc.alerts, inc.alert_tokens, strict=False):
                if alert.detected_at > now:
                    break
                if alert.detected_at < edge:
                    continue
                # the ticket's own payment in the lines counts whole: an identifier names one payment
                # however many services logged it (its df counts those services, not other payments)
                weight = sum(self._specificity(t, mine, now) for t in tokens - txns)
                weight += sum(1.0 for t in txns if t in mine and mine[t] <= now)
                weight += sum(max(self._specificity(t, mine, now) for t in g) for g in groups)
                if _direct(alert.signal):
                    # the ticket's own transaction logged an amount orders of magnitude off: that
                    # line is the anomaly itself, not a bystander in a busy template's window
                    weight += self.min_log_link * sum(1 for t in txns if t in mine and mine[t] <= now)
                if weight > self._weights.get(idx, 0.0):
                    self._weights[idx] = weight
                    self._alert_of[idx] = alert.signal
                if weight >= self.min_log_link and (best is None or weight > best[0]):
                    best = (weight, idx, alert.signal)
        return None if best is None else (best[1], best[2])

    def _specificity(self, token: str, mine: dict[str, datetime], now: datetime) -> float:
        """1 / (known log incidents holding the token) if the alert's lines named it by now."""
        when = mine.get(token)
        df = self._df[token] if when is not None and when <= now else 0
        return 1.0 / df if df else 0.0

    def _corroborated(self, ticket: TicketFeatures, signals: set[str]) -> dict[str, str]:
        """Signals now backed by one log incident for ``min_corroborated`` customers → why."""
        if not self.logs_:
            return {}
        hit = self._corroborating(ticket)
        now = ticket.created_at
        window = timedelta(hours=max(self.detector_.windows_hours))
        who = ticket.customer_id or f"ticket:{ticket.ticket_id}"
        out: dict[str, str] = {}
        for name in signals:
            backing = self._backing.get(name)
            if hit is not None:
                backing = self._backing.setdefault(name, deque())
                backing.append((now, hit[0], who))
            if backing is None:
                continue
            while backing and backing[0][0] <= now - window:
                backing.popleft()
            by_incident: dict[int, set[str]] = {}
            for _t, idx, c in backing:
                by_incident.setdefault(idx, set()).add(c)
            # the ticket's own log incident first; else one that already backs the signal and that
            # the ticket shares evidence worth min_backed_link with
            floor = self.min_backed_link
            weak = [i for i in sorted(by_incident, reverse=True) if self._weights.get(i, 0.0) >= floor]
            order = ([hit[0]] if hit is not None else []) + weak
            chosen = next((i for i in order if len(by_incident.get(i, ())) >= self.min_corroborated), None)
            if chosen is not None:
                inc = self.logs_[chosen]
                alert = hit[1] if hit is not None and chosen == hit[0] else inc.signals[0]
                out[name] = (
                    f"corroborated by log alert {alert} ({inc.service}, {inc.detected_at:%Y-%m-%d %H:%M})"
                )
        return out

    def add(self, ticket: TicketFeatures, *, category: str | None = None) -> Assignment:
        """Group one ticket, update the burst signals, and open, extend or join systemic problems."""
        if not 0 < self.overlap <= 1:
            raise InputError("overlap must be in (0, 1]", field="overlap")
        assignment = self.grouper_.add(ticket)
        self.features_[ticket.ticket_id] = ticket
        if category:
            self.category_[ticket.ticket_id] = category
        group = self.grouper_.resolve(assignment.problem_id) if self.group_signals else None
        signals = ticket_signals(ticket.keys, category, group=group)
        notes = self._corroborated(ticket, signals)
        if self.alert_signals:
            linked = frozenset(
                (i, self._alert_of[i]) for i, w in self._weights.items() if w >= self.min_log_link
            )
            if linked:
                self.links_[ticket.ticket_id] = linked
                signals |= {f"alert:{self.logs_[i].service}" for i, _ in linked}
        bursts = self.detector_.observe(
            ticket.ticket_id,
            ticket.created_at,
            signals,
            ticket.customer_id,
            alphas=self._alphas(signals, notes),
            notes=notes,
            priors=self._priors(signals, category),
        )
        self._join(ticket, signals)
        for burst in bursts:
            self._on_burst(burst)
        return assignment

    def _priors(self, signals: set[str], category: str | None) -> dict[str, tuple[float, float]]:
        """A bare category's prior share: one over the categories seen so far, worth
        ``category_prior_weight`` tickets (a queue's first days say little about a category's share)."""
        if category is not None:
            self._categories.add(category)
        if not self.category_prior_weight or not self._categories:
            return {}
        share = 1.0 / max(2, len(self._categories))
        return {s: (share, self.category_prior_weight) for s in signals if _broad(s)}

    def _alphas(self, signals: set[str], notes: dict[str, str]) -> dict[str, float]:
        """Per-signal significance levels: looser where a log alert corroborates the tickets,
        stricter (``silent_factor``) where they name a key the platform's own logs watch
        (``watched_kinds``) and no alert backs them — only when logs were given at all."""
        base = self.detector_.alpha
        out: dict[str, float] = {}
        if self.logs_ and self.silent_factor < 1:
            for name in signals - notes.keys():
                if any(a.partition(":")[0] in self.watched_kinds for a in _atoms(name)):
                    out[name] = base * self.silent_factor
        out.update({name: max(self.corroborated_alpha, base) for name in notes})
        return out

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
                if (
                    self._common(name, ticket.created_at)
                    and self.grouper_.similarity(ticket, p.problem_id) < self.min_text_similarity
                ):
                    continue
                if name.startswith("alert:") and not any(
                    p.links[k] >= self.min_corroborated for k in self.links_.get(ticket.ticket_id, ())
                ):
                    continue  # linked to another alert of that service than the problem's tickets are
                best = (purity, p)
        if best is not None:
            self._take(best[1], [ticket.ticket_id], ticket.created_at)

    def _common(self, name: str, when: datetime) -> bool:
        """A signal too common to place tickets alone: a bare category, or a key on at least
        ``broad_share`` of all tickets."""
        return _broad(name) or self.detector_.share(name, when) >= self.broad_share

    def _within(self, signal: str, atoms: frozenset[str], when: datetime) -> bool:
        """Whether a burst on ``atoms`` refines ``signal`` while that signal is still mostly excess
        (``join_purity``): its tickets are a slice of the excess under way (the Italian customers
        of a login outage), whatever words they chose. Not the other way round: a category
        bursting says nothing about one plugin's refinement of it being hot in a problem."""
        return _atoms(signal) < atoms and self.detector_.excess_share(signal, when) >= self.join_purity

    def _alike(self, p: SystemicProblem, members: Sequence[str]) -> bool:
        """Whether these tickets read like the problem (mean word similarity ≥ min_text_similarity):
        what a burst on a common signal needs to join it (the top-ups pending at one bank are filed
        like the pending orders of a webhook outage the evening before)."""
        sims = [self.grouper_.similarity(self.features_[t], p.problem_id) for t in members]
        return bool(sims) and sum(sims) / len(sims) >= self.min_text_similarity

    def _on_burst(self, burst: Burst) -> None:
        members = [t for t in burst.ticket_ids if t in self.features_]
        target: SystemicProblem | None = None
        recent = self._active(burst.detected_at, self.dedupe_hours)
        incident = self._shared_incident(members)
        for p in recent:
            if (
                burst.signal in p.signals
                and self._same_episode(p, burst, members)
                and (not self._common(burst.signal, burst.detected_at) or self._alike(p, members))
            ):
                if burst.signal.startswith("alert:") and (
                    incident is None or self._linked_to(p, incident) < self.min_corroborated
                ):
                    continue  # another incident of the same service
                target = p
                break
        if target is None and incident is not None:
            # tickets linked to the log incident that tickets of a problem already link to: the
            # same outage, whatever key or category each group happened to burst on
            counts = [(self._linked_to(p, incident), p) for p in recent]
            best = max(counts, key=lambda x: (x[0], x[1].detected_at), default=None)
            if best is not None and best[0] >= self.min_corroborated:
                target = best[1]
        if target is None and burst.signal.startswith("alert:"):
            target = self._explained(burst, members, recent)
        if target is None:
            # a refinement (or generalisation) of a signal that is bursting right now in a problem,
            # e.g. category:refund|currency:jpy next to category:refund: the same incident
            # A burst that bridges several problems this way (category:pending|bank:x while both
            # category:pending and bank:x burst in two problems) shows they are one incident seen
            # first through different keys: they are merged into the earliest (when both were
            # detected within ``bridge_hours``; a long-hot common key must not chain incidents).
            # Either side being common (a bare category, a broad key) asks for alike words: a
            # category burst is no more specific for having a hot refinement in some problem.
            atoms = _atoms(burst.signal)
            broad = self._common(burst.signal, burst.detected_at)
            bridged = [
                p
                for p in recent
                if any(
                    _nested(atoms, _atoms(s))
                    and self.detector_.is_hot(s)
                    and (
                        not (broad or self._common(s, burst.detected_at))
                        or self._within(s, atoms, burst.detected_at)
                        or self._alike(p, members)
                    )
                    for s in p.signals
                )
                and self._same_episode(p, burst, members)
            ]
            if len(bridged) > 1:
                # one burst refining signals of two problems proves them one incident only if its
                # tickets read like both: an issuer outage and a rate-limit incident starting minutes
                # apart share a popular API version's key and the category of the other
                alike = [p for p in bridged if self._alike(p, members)]
                bridged = alike or bridged
            else:
                alike = bridged
            if bridged:
                # the problem bursting most recently is the incident under way now
                target = max(bridged, key=lambda p: p.bursts[-1].detected_at)
                for other in alike:
                    if other is target:
                        continue
                    if abs(other.detected_at - target.detected_at) <= timedelta(
                        hours=self.bridge_hours
                    ) and self._alike(target, sorted(other.ticket_ids)):
                        self._merge(target, other)
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
                if shared >= max(2, self.overlap * min(len(members), len(p.ticket_ids))):
                    target = p
                    break
        if target is None and _intent(burst.signal):
            # an unsupervised clusterer may cut one intent in two neighbouring groups: a burst on
            # one of them whose tickets read like a problem called within bridge_hours is that problem
            near = [
                p
                for p in recent
                if abs(burst.detected_at - p.detected_at) <= timedelta(hours=self.bridge_hours)
                and self._alike(p, members)
            ]
            target = max(near, key=lambda p: p.bursts[-1].detected_at, default=None)
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

    def _explained(
        self, burst: Burst, members: Sequence[str], recent: Sequence[SystemicProblem]
    ) -> SystemicProblem | None:
        """The problem detected within ``bridge_hours`` whose hot signals most of these log-linked
        tickets carry: the tickets behind a category burst often name nothing the logs do, so
        the log-linked ones that follow are the same outage seen through the logs."""
        best: tuple[int, SystemicProblem] | None = None
        for p in recent:
            if abs(burst.detected_at - p.detected_at) > timedelta(hours=self.bridge_hours):
                continue
            hot = {s for s in p.signals if not s.startswith("alert:") and self.detector_.is_hot(s)}
            n = sum(1 for t in members if hot & ticket_signals(self.features_[t].keys, self.category_.get(t)))
            if 2 * n > len(members) and (best is None or n > best[0]):
                best = (n, p)
        return None if best is None else best[1]

    def _shared_incident(self, members: Sequence[str]) -> tuple[int, str] | None:
        """The log alert (incident, alert signal) most of these tickets link to best, if
        ``min_corroborated`` of them do. The alert, not only the incident: one busy service's
        alerts merge into a days-long incident (rate limits, then authentication failures)."""
        counts = Counter(k for t in members for k in self.links_.get(t, ()))
        if not counts:
            return None
        key, n = max(counts.items(), key=lambda x: (x[1], x[0]))
        return key if n >= self.min_corroborated else None

    def _linked_to(self, p: SystemicProblem, incident: tuple[int, str]) -> int:
        return p.links[incident]

    def _same_episode(self, p: SystemicProblem, burst: Burst, members: list[str]) -> bool:
        """A signal bursting again in a problem that has gone quiet for ``active_hours`` (no burst)
        is the same problem only if the new tickets read like it: a processor or country key
        bursts for unrelated outages days apart."""
        if not p.bursts:
            return True
        if burst.detected_at - p.bursts[-1].detected_at <= timedelta(hours=self.active_hours):
            return True
        sims = [self.grouper_.similarity(self.features_[t], p.problem_id) for t in members]
        return bool(sims) and sum(sims) / len(sims) >= self.episode_similarity

    def _merge(self, into: SystemicProblem, other: SystemicProblem) -> None:
        """One incident found twice: ``other``'s bursts and tickets join ``into`` (the earlier)."""
        self._take(into, sorted(other.ticket_ids), other.last_seen or other.detected_at)
        into.bursts = sorted(into.bursts + other.bursts, key=lambda b: (b.detected_at, b.signal))
        into.detected_at = min(into.detected_at, other.detected_at)
        self.problems_.remove(other)

    def _take(self, p: SystemicProblem, ticket_ids: Sequence[str], when: datetime) -> None:
        if ticket_ids:
            p.problem_id = self.grouper_.move([self.features_[t] for t in ticket_ids], p.problem_id)
        for t in ticket_ids:
            self.owner_[t] = p
            if t not in p.ticket_ids:
                p.ticket_ids.add(t)
                p.links.update(self.links_.get(t, ()))
        p.last_seen = when if p.last_seen is None else max(p.last_seen, when)

    def systemic(self) -> list[SystemicProblem]:
        """Systemic problems, oldest detection first, with their current grouper ids."""
        for p in self.problems_:
            p.problem_id = self.grouper_.resolve(p.problem_id)
        return sorted(self.problems_, key=lambda p: (p.detected_at, p.problem_id))
