"""Release impact: did a deployment change ticket or error rates, and which alerts began after it?

Why whole days: comparing the ``window_days`` before a release with the ``window_days`` after it
covers every hour of the day equally on both sides, so daily seasonality cancels without a
model. The rate ratio is tested with the exact conditional Poisson test: given the total ``n``, the
after-count is Binomial(``n``, after-share of time) when the rate did not change, so the one-sided
p-value is an exact binomial tail (``scipy.stats.binomtest``). This is statsmodels'
``test_poisson_2indep(method="exact-cond")`` without its rate-ratio estimate, which divides by zero
(and warns) when nothing happened before the release — the common case for a new error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from scipy.stats import binomtest

from paytriage.domain.release import Release
from paytriage.engines.patterns.detection import Alert, CountSeries

__all__ = ["ReleaseReport", "SignalChange", "exact_rate_increase_p", "release_impact"]


@dataclass(frozen=True, slots=True)
class SignalChange:
    """One signal's rate before and after a release."""

    signal: str
    before: int
    after: int
    hours_before: int
    hours_after: int
    rate_ratio: float
    p_value: float
    significant: bool


@dataclass(frozen=True, slots=True)
class ReleaseReport:
    """A release, the signals whose rate changed, and the alerts that started after it."""

    component: str
    version: str
    released_at: str
    changes: tuple[SignalChange, ...]
    alerts_after: tuple[Alert, ...]


def exact_rate_increase_p(after: int, hours_after: float, before: int, hours_before: float) -> float:
    """One-sided p-value that the after-rate exceeds the before-rate (exact conditional test)."""
    if after < 0 or before < 0 or hours_after <= 0 or hours_before <= 0:
        raise ValueError("counts must be non-negative and exposures positive")
    n = after + before
    if n == 0:
        return 1.0
    share = hours_after / (hours_after + hours_before)
    return float(binomtest(after, n, share, alternative="greater").pvalue)


def _change(s: CountSeries, at: int, hours: int, alpha: float) -> SignalChange | None:
    lo, hi = max(0, at - hours), min(len(s.counts), at + hours)
    hb, ha = at - lo, hi - at
    if hb <= 0 or ha <= 0:
        return None
    before, after = int(np.sum(s.counts[lo:at])), int(np.sum(s.counts[at:hi]))
    ratio = ((after + 0.5) / ha) / ((before + 0.5) / hb)
    p = exact_rate_increase_p(after, ha, before, hb)
    return SignalChange(s.signal, before, after, hb, ha, round(ratio, 3), p, p <= alpha)


def release_impact(
    releases: Iterable[Release],
    series: Sequence[CountSeries],
    *,
    alerts: Sequence[Alert] = (),
    window_days: int = 1,
    alert_horizon_hours: int = 48,
    alpha: float = 0.01,
) -> list[ReleaseReport]:
    """For each release, rate changes of its component's signals (and of signals tied to no
    component) and the alerts whose episode started within ``alert_horizon_hours`` after it."""
    reports = []
    hours = 24 * window_days
    for rel in sorted(releases, key=lambda r: r.released_at):
        changes = []
        for s in series:
            if s.component not in (None, rel.component):
                continue
            change = _change(s, s.index(rel.released_at), hours, alpha)
            if change is not None:
                changes.append(change)
        horizon = rel.released_at + timedelta(hours=alert_horizon_hours)
        after = tuple(
            a
            for a in alerts
            if rel.released_at <= a.start <= horizon and a.component in (None, rel.component)
        )
        reports.append(
            ReleaseReport(
                rel.component,
                rel.version,
                rel.released_at.isoformat(),
                tuple(sorted(changes, key=lambda c: (c.p_value, c.signal))),
                after,
            )
        )
    return reports
