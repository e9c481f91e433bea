"""Emerging-issue detection on hourly counts (tickets, log templates, decline codes, errors).

Why this design: support volume and payment traffic swing by hour of day and weekday, so a raw
threshold either floods at lunch or sleeps at night. Each day the baseline is refitted as a
Poisson GLM (statsmodels) with hour-of-day and weekday effects on the trailing history, leaving
out hours already inside an alert episode so an incident does not teach the baseline to expect
itself. Each hour, sums over short windows (1, 3, 6 h by default) are tested against the baseline
with an exact Poisson tail, or a negative binomial one when the history is overdispersed.

An alert must pass a minimum-evidence rule (p-value, observed count, excess over baseline and
ratio, all configurable) and opens an *episode*; no second alert for the signal until the
episode's last ``cooldown_hours`` fit the baseline again. The episode's start is placed at the change point
that ``ruptures`` finds in the recent standardised residuals, so "since when" is not simply
"when the test first crossed the line".
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import ruptures as rpt
from numpy.typing import NDArray
from scipy import stats

from paytriage.domain.errors import InputError

__all__ = [
    "HOUR",
    "Alert",
    "CountSeries",
    "EmergingIssueDetector",
    "count_tail",
    "fit_baseline",
    "hourly_counts",
]

HOUR = timedelta(hours=1)
#: An episode ends once its last ``cooldown_hours`` are consistent with the baseline at this level.
_QUIET_P = 0.05


@dataclass(frozen=True, slots=True)
class CountSeries:
    """Hourly counts of one signal from ``start`` (hour-aligned); ``component`` ties it to releases."""

    signal: str
    start: datetime
    counts: NDArray[np.float64]
    component: str | None = None

    def time(self, i: int) -> datetime:
        return self.start + i * HOUR

    def index(self, when: datetime) -> int:
        return int((when - self.start) // HOUR)


@dataclass(frozen=True, slots=True)
class Alert:
    """One episode of a signal running above its seasonal baseline."""

    signal: str
    start: datetime
    detected_at: datetime
    window_hours: int
    observed: int
    expected: float
    ratio: float
    p_value: float
    score: float
    ended_at: datetime | None = None
    peak_ratio: float = 0.0
    component: str | None = None


def hourly_counts(
    events: Iterable[tuple[str, datetime]],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    components: dict[str, str] | None = None,
) -> list[CountSeries]:
    """Bucket ``(signal, time)`` events into one hourly series per signal over a shared range."""
    by_signal: dict[str, list[datetime]] = {}
    for signal, when in events:
        by_signal.setdefault(signal, []).append(when)
    if not by_signal:
        return []
    first = start or min(min(v) for v in by_signal.values())
    first = first.replace(minute=0, second=0, microsecond=0)
    last = end or max(max(v) for v in by_signal.values())
    n = int((last - first) // HOUR) + 1
    out = []
    for signal in sorted(by_signal):
        idx = np.array([int((t - first) // HOUR) for t in by_signal[signal]], dtype=np.int64)
        idx = idx[(idx >= 0) & (idx < n)]
        counts = np.bincount(idx, minlength=n).astype(np.float64)
        out.append(CountSeries(signal, first, counts, (components or {}).get(signal)))
    return out


def _design(times: Sequence[datetime], weekday: bool) -> NDArray[np.float64]:
    hours = np.array([t.hour for t in times])
    cols = [np.ones(len(times))] + [(hours == h).astype(float) for h in range(1, 24)]
    if weekday:
        days = np.array([t.weekday() for t in times])
        cols += [(days == d).astype(float) for d in range(1, 7)]
    return np.column_stack(cols)


@dataclass(slots=True)
class _Baseline:
    design_weekday: bool
    params: NDArray[np.float64]
    dispersion: float

    def mean(self, times: Sequence[datetime]) -> NDArray[np.float64]:
        return np.exp(_design(times, self.design_weekday) @ self.params)


def _counts(s: CountSeries) -> NDArray[np.float64]:
    x = np.asarray(s.counts, dtype=np.float64)
    if np.any(x < 0) or not np.all(np.isfinite(x)):
        raise InputError(f"{s.signal}: counts must be finite and non-negative", field="counts")
    return x


def fit_baseline(times: Sequence[datetime], counts: NDArray[np.float64]) -> _Baseline:
    """Poisson GLM (statsmodels) with hour and, given two weeks, weekday effects.

    One pseudo-observation at the overall mean per hour and weekday keeps an hour that was
    always zero from driving its coefficient to minus infinity.
    """
    import statsmodels.api as sm

    weekday = (max(times) - min(times)) >= timedelta(days=13)
    mean = max(float(np.mean(counts)), 0.05)
    anchor = min(times)
    pseudo = [anchor + timedelta(hours=h, days=d) for d in range(7 if weekday else 1) for h in range(24)]
    x = _design([*times, *pseudo], weekday)
    y = np.concatenate([counts, np.full(len(pseudo), mean)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.GLM(y, x, family=sm.families.Poisson()).fit()
        mu = res.mu[: len(times)]
    dof = max(1, len(times) - x.shape[1])
    dispersion = float(np.sum((counts - mu) ** 2 / np.maximum(mu, 1e-9)) / dof)
    return _Baseline(weekday, np.asarray(res.params, dtype=np.float64), max(1.0, dispersion))


def count_tail(observed: float, expected: float, dispersion: float = 1.0) -> float:
    """P(X >= observed) under Poisson, or negative binomial with variance ``dispersion * mean``."""
    if observed <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    if dispersion <= 1.2:
        return float(stats.poisson.sf(observed - 1, expected))
    n = expected / (dispersion - 1.0)
    return float(stats.nbinom.sf(observed - 1, n, 1.0 / dispersion))


@dataclass(slots=True)
class _Episode:
    alert: Alert
    peak: float = 0.0


class EmergingIssueDetector:
    """Seasonal count-anomaly detector with minimum evidence and one alert per episode."""

    def __init__(
        self,
        *,
        history_hours: int = 28 * 24,
        min_history_hours: int = 7 * 24,
        windows: Sequence[int] = (1, 3, 6),
        alpha: float = 1e-4,
        min_count: int = 5,
        min_excess: float = 4.0,
        min_ratio: float = 2.0,
        cooldown_hours: int = 6,
        changepoint_lookback: int = 48,
    ) -> None:
        self.history_hours = history_hours
        self.min_history_hours = min_history_hours
        self.windows = windows
        self.alpha = alpha
        self.min_count = min_count
        self.min_excess = min_excess
        self.min_ratio = min_ratio
        self.cooldown_hours = cooldown_hours
        self.changepoint_lookback = changepoint_lookback

    def _check(self) -> None:
        if not self.windows or min(self.windows) < 1:
            raise InputError("windows must be positive hour counts", field="windows")
        if not 0 < self.alpha < 1:
            raise InputError("alpha must be between 0 and 1", field="alpha")
        if self.min_history_hours < 24:
            raise InputError("min_history_hours must be at least 24", field="min_history_hours")

    def expected(self, series: CountSeries) -> NDArray[np.float64]:
        """Baseline mean for every hour (NaN during warm-up), fitted on all hours before each day."""
        return self._run(series)[1]

    def detect(self, series: CountSeries) -> list[Alert]:
        """All alert episodes in ``series``, oldest first."""
        self._check()
        if _counts(series).sum() < self.min_count:
            return []  # no window can hold min_count events: skip the baseline fits
        return self._run(series)[0]

    def detect_many(self, many: Iterable[CountSeries]) -> list[Alert]:
        alerts = [a for s in many for a in self.detect(s)]
        return sorted(alerts, key=lambda a: (a.detected_at, a.signal))

    def _run(self, s: CountSeries) -> tuple[list[Alert], NDArray[np.float64]]:
        self._check()
        x = _counts(s)
        n = len(x)
        times = [s.time(i) for i in range(n)]
        mu = np.full(n, np.nan)
        excluded = np.zeros(n, dtype=bool)
        alerts: list[Alert] = []
        episode: _Episode | None = None
        base: _Baseline | None = None
        known = 0  # mu is computed up to here, a day's hours in one call after each (re)fit
        for t in range(n):
            if t >= self.min_history_hours and (base is None or times[t].hour == 0):
                lo = max(0, t - self.history_hours)
                keep = np.flatnonzero(~excluded[lo:t]) + lo
                if len(keep) >= 24:
                    base = fit_baseline([times[i] for i in keep], x[keep])
                    known = t
            if base is None:
                continue
            if t >= known:
                end = t + 1
                while end < n and times[end].hour != 0:
                    end += 1
                mu[t:end] = base.mean(times[t:end])
                known = end
            best: tuple[float, int, float, float] | None = None
            for w in self.windows:
                if t - w + 1 < 0 or np.isnan(mu[t - w + 1]):
                    continue
                obs, exp = float(x[t - w + 1 : t + 1].sum()), float(mu[t - w + 1 : t + 1].sum())
                p = count_tail(obs, exp, base.dispersion)
                if best is None or p < best[0]:
                    best = (p, w, obs, exp)
            if best is None:
                continue
            p, w, obs, exp = best
            hot = (
                p <= self.alpha
                and obs >= self.min_count
                and obs - exp >= self.min_excess
                and obs >= self.min_ratio * exp
            )
            if episode is not None:
                excluded[t] = True
                episode.peak = max(episode.peak, obs / max(exp, 1e-9))
                c0 = t - self.cooldown_hours + 1
                if c0 > s.index(episode.alert.detected_at):
                    obs_c, exp_c = float(x[c0 : t + 1].sum()), float(mu[c0 : t + 1].sum())
                    if count_tail(obs_c, exp_c, base.dispersion) > _QUIET_P:
                        alerts.append(self._close(episode, times[c0]))
                        episode = None
                continue
            if hot:
                start = self._start(x, mu, t, w)
                excluded[start : t + 1] = True
                alert = Alert(
                    signal=s.signal,
                    start=times[start],
                    detected_at=times[t],
                    window_hours=w,
                    observed=int(obs),
                    expected=round(exp, 3),
                    ratio=round(obs / max(exp, 1e-9), 3),
                    p_value=p,
                    score=round(-math.log10(max(p, 1e-300)), 2),
                    component=s.component,
                )
                episode = _Episode(alert, peak=alert.ratio)
        if episode is not None:
            alerts.append(self._close(episode, None))
        return alerts, mu

    @staticmethod
    def _close(ep: _Episode, ended: datetime | None) -> Alert:
        a = ep.alert
        return Alert(
            a.signal, a.start, a.detected_at, a.window_hours, a.observed, a.expected, a.ratio,
            a.p_value, a.score, ended, round(ep.peak, 3), a.component,
        )  # fmt: skip

    def _start(self, x: NDArray[np.float64], mu: NDArray[np.float64], t: int, w: int) -> int:
        """Change point (ruptures, binary segmentation on Anscombe residuals) in the lookback;
        the triggering window's first hour when no upward change is found."""
        lo = t - self.changepoint_lookback + 1
        while lo <= t and (lo < 0 or np.isnan(mu[lo])):
            lo += 1
        default = t - w + 1
        if t - lo < 4:
            return default
        seg = slice(lo, t + 1)
        z = 2 * (np.sqrt(x[seg] + 0.375) - np.sqrt(mu[seg] + 0.375))
        try:
            cp = rpt.Binseg(model="l2", min_size=1, jump=1).fit(z.reshape(-1, 1)).predict(n_bkps=1)[0]
        except rpt.exceptions.BadSegmentationParameters:
            return default
        start = lo + int(cp)
        if start > t or z[cp:].mean() <= z[:cp].mean():
            return default
        return start
