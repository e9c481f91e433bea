"""Streaming burst detection on ticket signals: is this key far above its own seasonal baseline?

Why: a problem is *systemic* not because several tickets look alike (everyday questions do) but
because tickets sharing one specific key (a BIN range, a response code, a plugin version, a bank,
a country within a category) arrive much faster than that key's history says they should. Each
arriving ticket updates the signals it carries; for each, the number of distinct customers in the
trailing windows is tested against

    expected = share of the signal in its trailing history (with a small prior)
               * expected ticket volume in the window

where the volume is the seasonal Poisson GLM of total ticket volume from :mod:`.detection`
(hour-of-day and weekday effects), or, when larger, what the other tickets in the same window
imply (so a busy hour never makes a common key look unusual). The tail is the detection engine's
Poisson one. Counting customers instead of tickets keeps one persistent writer from being a burst.

Windows run from 15 minutes to a day: an outage's first customers often write within minutes of
each other, and waiting for an hour-long window to fill costs tickets; a slow incident needs the
day. A burst must pass a minimum-evidence rule (p-value, customers, ratio) and opens an episode for its
signal; no second burst for that signal until the episode has gone quiet (the signal's rate in the
longest window is back under ``min_ratio`` times its baseline).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
from scipy import stats

from paytriage.domain.errors import InputError
from paytriage.engines.patterns.detection import HOUR, count_tail, fit_baseline

__all__ = ["Burst", "KeyBurstDetector", "epoch_us", "from_epoch_us"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HOUR_US = 3_600_000_000


def epoch_us(t: datetime) -> int:
    """Microseconds since the Unix epoch (a naive time is taken as UTC): exact, unlike a float."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return (t - _EPOCH) // timedelta(microseconds=1)


def from_epoch_us(us: int) -> datetime:
    """The UTC time ``us`` microseconds after the Unix epoch."""
    return _EPOCH + timedelta(microseconds=us)


def _floor_hour_us(us: int) -> int:
    return us - us % _HOUR_US


@dataclass(frozen=True, slots=True)
class Burst:
    """One signal crossing the line: the evidence at the moment it did."""

    signal: str
    detected_at: datetime
    window_hours: float
    observed: int
    expected: float
    p_value: float
    ticket_ids: tuple[str, ...]
    #: the significance level it passed (lower than the detector's own when corroborated)
    alpha: float | None = None
    #: why a looser level applied, e.g. the log alert that corroborates the tickets
    note: str = ""
    #: kept for the record, never evidence for a ticket: a first-seen line that only varies a known
    #: warning (another rejection reason)
    routine: bool = False

    @property
    def ratio(self) -> float:
        return self.observed / max(self.expected, 1e-9)

    @property
    def purity(self) -> float:
        """Estimated share of the window's tickets that are excess over the baseline."""
        return max(0.0, 1.0 - self.expected / max(self.observed, 1))

    @property
    def score(self) -> float:
        return round(-math.log10(max(self.p_value, 1e-300)), 2)

    def describe(self) -> str:
        """The evidence in words, for people and for logs."""
        unit = "line" if self.signal.startswith("log:") else "customer"
        unit += "" if self.observed == 1 else "s"
        if self.signal.startswith("alert:"):
            unit += f" linked to {self.signal[6:]}'s log alerts"
        if self.note.startswith("first seen"):
            # a single line has no rate to test: its evidence is that the service's warnings are
            # rarely new (Good-Turing share), not a p-value
            share = f"new templates: {self.p_value:.1%} of them"
            return f"{self.signal}: {self.observed} {unit}; {self.note} ({share})"
        text = (
            f"{self.signal}: {self.observed} {unit} in {self.window_hours:g} h where "
            f"{self.expected:.2f} expected (p={self.p_value:.1e})"
        )
        return f"{text}; {self.note}" if self.note else text


@dataclass(slots=True)
class _Signal:
    times: list[datetime] = field(default_factory=list)  # every arrival (history counts by bisect)
    recent: deque[tuple[datetime, str, str]] = field(default_factory=deque)  # (time, ticket, customer)
    hot: bool = False
    prior: tuple[float, float] | None = None  # this signal's own (share, weight) prior, if any


class KeyBurstDetector:
    """Per-signal burst test as tickets arrive, oldest first (see the module docstring).

    Parameters are stored untouched (scikit-learn style); state ends in ``_``.
    """

    def __init__(
        self,
        *,
        windows_hours: Sequence[float] = (0.25, 0.5, 1, 3, 6, 24),
        history_hours: int = 28 * 24,
        alpha: float = 1e-6,
        min_customers: int = 3,
        min_ratio: float = 3.0,
        prior_share: float = 0.05,
        prior_weight: float = 10.0,
        refit_hours: int = 24,
        min_history_hours: int = 24,
        share_quantile: float = 0.9,
    ) -> None:
        self.windows_hours = windows_hours
        self.history_hours = history_hours
        self.alpha = alpha
        self.min_customers = min_customers
        self.min_ratio = min_ratio
        self.prior_share = prior_share
        self.prior_weight = prior_weight
        self.refit_hours = refit_hours
        self.min_history_hours = min_history_hours
        self.share_quantile = share_quantile
        self.reset()

    def reset(self) -> KeyBurstDetector:
        self.signals_: dict[str, _Signal] = {}
        self.times_: list[datetime] = []
        self._volume_fit_at: datetime | None = None
        self._baseline: object | None = None
        # a volume fixed in advance (use_volume): every arrival in µs since the epoch, how many of
        # them have arrived, and the refit schedule walked so far (last fit, next due)
        self._fixed: np.ndarray | None = None
        self._upto = 0
        self._fit_index: int | None = None
        self._fit_next: int | None = None
        return self

    def use_volume(self, times_us: np.ndarray) -> KeyBurstDetector:
        """Fix every arrival's time in advance: ``times_us`` in µs since the Unix epoch (UTC),
        oldest first. Each ``observe`` then names its arrival's position (``index``) and sees the
        volume up to it, so the bursts equal those of the whole stream even when this detector is
        fed only some signals' arrivals: a batch engine (Spark) runs groups of signals apart,
        each group seeing the whole volume."""
        arr = np.asarray(times_us, dtype=np.int64)
        if arr.ndim != 1 or (arr.size > 1 and bool(np.any(np.diff(arr) < 0))):
            raise InputError("the volume must be one time-ordered array", field="times_us")
        self.reset()
        self._fixed = arr
        if arr.size and self.history_hours >= 24:
            self._fit_next = int(np.searchsorted(arr, _floor_hour_us(int(arr[0])) + 24 * _HOUR_US))
        return self

    def _check(self) -> None:
        if not self.windows_hours or min(self.windows_hours) <= 0:
            raise InputError("windows_hours must be positive", field="windows_hours")
        if not 0 < self.alpha < 1:
            raise InputError("alpha must be between 0 and 1", field="alpha")
        if not 0.5 <= self.share_quantile < 1:
            raise InputError("share_quantile must be in [0.5, 1)", field="share_quantile")
        if not 0 < self.prior_share < 1:
            raise InputError("prior_share must be between 0 and 1", field="prior_share")

    # -- baseline ------------------------------------------------------------------------------
    def _refit(self, now: datetime) -> None:
        """Refit the seasonal volume model on whole hours of trailing history, once per day."""
        if self._volume_fit_at is not None and now - self._volume_fit_at < self.refit_hours * HOUR:
            return
        hour = now.replace(minute=0, second=0, microsecond=0)
        lo = max(self.times_[0], hour - self.history_hours * HOUR).replace(minute=0, second=0, microsecond=0)
        n = int((hour - lo) // HOUR)
        if n < 24:
            return
        i0 = bisect.bisect_left(self.times_, lo)
        i1 = bisect.bisect_left(self.times_, hour)
        idx = [int((t - lo) // HOUR) for t in self.times_[i0:i1]]
        counts = np.bincount(np.asarray(idx, dtype=np.int64), minlength=n).astype(np.float64)[:n]
        self._baseline = fit_baseline([lo + i * HOUR for i in range(n)], counts)
        self._volume_fit_at = now

    def _refit_fixed(self) -> None:
        """The fit the stream would hold after the latest arrival: walk the once-a-day schedule
        (``_refit``'s rule) and fit only at its last point reached."""
        arr = self._fixed
        assert arr is not None
        last = self._upto - 1
        step = int(self.refit_hours * _HOUR_US)
        at = self._fit_index
        while self._fit_next is not None and self._fit_next <= last:
            at = self._fit_next
            self._fit_next = int(np.searchsorted(arr, arr[at] + step))
        if at is None or at == self._fit_index:
            return
        self._fit_index = at
        now = from_epoch_us(int(arr[at]))
        hour_us = _floor_hour_us(int(arr[at]))
        lo_us = _floor_hour_us(max(int(arr[0]), hour_us - self.history_hours * _HOUR_US))
        n = (hour_us - lo_us) // _HOUR_US
        i0, i1 = np.searchsorted(arr, [lo_us, hour_us])
        counts = np.bincount((arr[i0:i1] - lo_us) // _HOUR_US, minlength=n).astype(np.float64)[:n]
        lo = from_epoch_us(lo_us)
        self._baseline = fit_baseline([lo + i * HOUR for i in range(n)], counts)
        self._volume_fit_at = now

    def _expected_volume(self, now: datetime, hours: float) -> float:
        """Seasonal expected ticket volume in the ``hours`` before ``now`` (0 before the first fit);
        each clock hour counts by the fraction of it inside the window."""
        base = self._baseline
        if base is None:
            return 0.0
        start = now - timedelta(hours=hours)
        first = start.replace(minute=0, second=0, microsecond=0)
        grid = [first + i * HOUR for i in range(int((now - first) // HOUR) + 1)]
        mu = base.mean(grid)  # type: ignore[attr-defined]
        inside = [max(0.0, (min(h + HOUR, now) - max(h, start)) / HOUR) for h in grid]
        return float(np.dot(mu, inside))

    def _count(self, times: list[datetime], lo: datetime, hi: datetime) -> int:
        return bisect.bisect_left(times, hi) - bisect.bisect_left(times, lo)

    def _before(self, t: datetime) -> int:
        """How many arrivals so far came before ``t``."""
        if self._fixed is None:
            return bisect.bisect_left(self.times_, t)
        return int(np.searchsorted(self._fixed[: self._upto], epoch_us(t)))

    def _count_all(self, lo: datetime, hi: datetime) -> int:
        return self._before(hi) - self._before(lo)

    def _first(self) -> datetime:
        return self.times_[0] if self._fixed is None else from_epoch_us(int(self._fixed[0]))

    # -- stream --------------------------------------------------------------------------------
    def observe(
        self,
        ticket_id: str,
        when: datetime,
        signals: Iterable[str],
        customer: str | None = None,
        *,
        alphas: Mapping[str, float] | None = None,
        notes: Mapping[str, str] | None = None,
        index: int | None = None,
        priors: Mapping[str, tuple[float, float]] | None = None,
    ) -> list[Burst]:
        """Record one ticket; the bursts it completes (one per signal whose episode it opens).

        ``alphas`` overrides the significance level of some signals for this test (e.g. looser
        where independent evidence, a log alert, corroborates them); ``notes`` says why.
        ``index``: this arrival's position in a volume fixed by :meth:`use_volume` (required
        then, ignored otherwise)."""
        self._check()
        if self._fixed is not None:
            if index is None or not self._upto <= index < len(self._fixed):
                raise InputError("each arrival must name its next position in the volume", field="index")
            if int(self._fixed[index]) != epoch_us(when):
                raise InputError(f"arrival {index} is not at {when.isoformat()}", field="index")
            self._upto = index + 1
            self._refit_fixed()
        else:
            if self.times_ and when < self.times_[-1]:
                raise InputError("tickets must arrive in time order", field="created_at")
            self.times_.append(when)
            self._refit(when)
        who = customer or f"ticket:{ticket_id}"
        longest = max(self.windows_hours) * HOUR
        out: list[Burst] = []
        for name in sorted(set(signals)):
            sig = self.signals_.get(name)
            if sig is None:
                sig = self.signals_[name] = _Signal()
            if priors is not None and name in priors:
                sig.prior = priors[name]
            sig.times.append(when)
            sig.recent.append((when, ticket_id, who))
            while sig.recent and sig.recent[0][0] <= when - longest:
                sig.recent.popleft()
            alpha = self.alpha if alphas is None else alphas.get(name, self.alpha)
            burst = self._test(name, sig, when, alpha, (notes or {}).get(name, ""))
            if sig.hot:
                if burst is None and self._quiet(sig, when):
                    sig.hot = False
                continue
            if burst is not None:
                sig.hot = True
                out.append(burst)
        return out

    def is_hot(self, signal: str) -> bool:
        """Whether the signal is inside a burst episode (as of the last ticket that carried it)."""
        sig = self.signals_.get(signal)
        return sig is not None and sig.hot

    def excess_share(self, signal: str, when: datetime) -> float:
        """Now, the estimated share of this signal's recent customers that are above its baseline
        (best window with at least ``min_customers``): the chance one of its tickets belongs to
        the burst rather than to the everyday background. 0 when it is not in a burst."""
        sig = self.signals_.get(signal)
        if sig is None or not sig.hot:
            return 0.0
        best = 0.0
        for w in self.windows_hours:
            _tickets, customers, others = self._window(sig, when, w)
            if customers >= self.min_customers:
                best = max(best, 1.0 - self._expected(sig, when, w, others) / customers)
        return best

    def share(self, signal: str, when: datetime) -> float:
        """The signal's share of all tickets in the trailing history before ``when`` (0 if unseen):
        how common the key is, whatever is bursting now."""
        sig = self.signals_.get(signal)
        if sig is None:
            return 0.0
        lo = when - self.history_hours * HOUR
        n_all = self._count_all(lo, when)
        return self._count(sig.times, lo, when) / n_all if n_all else 0.0

    def _expected(self, sig: _Signal, when: datetime, w: float, others: int) -> float:
        lo = when - self.history_hours * HOUR
        cut = when - w * HOUR
        n_sig = self._count(sig.times, lo, cut)
        n_all = self._count_all(lo, cut)
        # Gamma posterior of the signal's share; its upper quantile, not its mean, so that a short
        # history (few tickets to learn the share from) makes the baseline cautious, not naive.
        prior_share, prior_weight = sig.prior or (self.prior_share, self.prior_weight)
        a = n_sig + prior_share * prior_weight
        share = min(0.999, float(stats.gamma.ppf(self.share_quantile, a, scale=1.0 / (n_all + prior_weight))))
        seasonal = share * self._expected_volume(when, w)
        conditional = share / (1.0 - share) * others if share < 1.0 else float("inf")
        return max(seasonal, conditional)

    def _window(self, sig: _Signal, when: datetime, w: float) -> tuple[list[str], int, int]:
        lo = when - w * HOUR
        inside = [(tid, who) for t, tid, who in sig.recent if t > lo]
        total = self._count_all(lo + timedelta(microseconds=1), when + timedelta(microseconds=1))
        return [tid for tid, _ in inside], len({who for _, who in inside}), total - len(inside)

    def _test(self, name: str, sig: _Signal, when: datetime, alpha: float, note: str = "") -> Burst | None:
        best: Burst | None = None
        span = when - self._first()
        for w in self.windows_hours:
            if span < (self.min_history_hours + w) * HOUR:
                continue  # the baseline needs min_history_hours before the window: a new queue
                # cannot tell a burst from its normal
            tickets, customers, others = self._window(sig, when, w)
            if customers < self.min_customers:
                continue
            exp = self._expected(sig, when, w, others)
            if customers < self.min_ratio * exp:
                continue
            p = count_tail(customers, exp)
            if p <= alpha and (best is None or p < best.p_value):
                best = Burst(
                    name, when, w, customers, round(exp, 4), p, tuple(tickets), alpha,
                    note if p > self.alpha else "",
                )  # fmt: skip
        return best

    def _quiet(self, sig: _Signal, when: datetime) -> bool:
        w = max(self.windows_hours)
        _tickets, customers, others = self._window(sig, when, w)
        return customers < self.min_ratio * self._expected(sig, when, w, others)
