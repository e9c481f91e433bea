"""Value shifts: the amounts one kind of log line carries in one currency move by a power of ten.

Why: a unit bug — a zero-decimal currency (JPY, KRW) handled as two-decimal, cents logged as units,
a fee in basis points read as percent — leaves every line's level and rate as they were; only the
numbers change, by orders of magnitude. Rate, level and first-seen signals cannot see it, and the
lines are usually INFO. This detector keeps, per service, line template (values masked), amount
field and currency, the amounts of the last ``window_hours`` (at least the latest ``min_count``)
next to a baseline of earlier ones, on a log10 scale. A line whose amount is at least
``min_decades`` from the baseline median is evidence; it completes an alert when, for some run of
the latest ``m >= min_count`` amounts, the run's median is that far off too and a one-sided
Mann–Whitney U test (scipy, exact) puts the run beyond the baseline at ``alpha`` after a Bonferroni
correction for the run lengths tried (so usual amounts logged before the shift began do not dilute
it). At least ``min_baseline`` earlier amounts are needed. An alert opens an episode: the stream
alerts again only after its latest amounts came back within range.

A unit bug hits the rare currencies first (a European processor's JPY or KRW refunds), and their
streams log too few lines to build a baseline of their own. Until a stream has ``min_baseline``
earlier amounts it is tested against the amounts every other kind of line logged in the same field
and currency (what yen amounts look like here: payments, top-ups, payouts) — but only if it has a
history of its own of at least ``min_own`` amounts whose median sits within ``min_decades`` of that
pool's, and the run is that far from the pool's median and beyond every amount of that history: a
shift, not a new kind of line that simply carries smaller numbers (a tip, a verification charge) nor
a line whose amounts always spread wide (payouts).

Amount fields are ``key=value`` or ``key: value`` pairs (``amount=25030``, ``amount: 12.50 EUR``,
``"refund_amount": 12.5``) or numeric
structured attributes whose name contains one of ``keys``; the currency is a ``currency=`` /
``ccy=`` value, the ISO 4217 code right after the number (``amount=5000 EUR``) or the first ISO
4217 code in the line.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from scipy.stats import mannwhitneyu

from paytriage.domain.money import CURRENCY_EXPONENTS
from paytriage.engines.patterns.bursts import Burst
from paytriage.engines.patterns.log_signals import log_template, novelty_key

__all__ = ["AmountReading", "ValueShiftDetector", "amount_readings"]

_CODE = re.compile(r"\b[A-Z]{3}\b")
_CURRENCY_KEYS = ("currency", "ccy", "currency_code", "cur")


@dataclass(frozen=True, slots=True)
class AmountReading:
    """One amount a line names: its field, the currency it is in (``""`` when none), the value."""

    key: str
    currency: str
    value: float


def _pair_pattern(keys: Sequence[str]) -> re.Pattern[str]:
    words = "|".join(re.escape(k.lower()) for k in keys)
    # amount=1250, amount: 12.50 EUR, "amount": 1250 (JSON in the text), refund_amount="7"
    return re.compile(
        rf"(?<![\w.])\"?((?i:[a-z_]*(?:{words})[a-z_]*))\"?(?:=|:[ \t]*)"
        rf"\"?(-?\d+(?:\.\d+)?)(?![\d.]|[,:]\d)\"?(?:[ \t]+([A-Z]{{3}})\b)?"
    )


def _named_currency(message: str, attributes: Mapping[str, object] | None) -> str:
    for key in _CURRENCY_KEYS:
        value = (attributes or {}).get(key)
        if isinstance(value, str) and value.upper() in CURRENCY_EXPONENTS:
            return value.upper()
        m = re.search(rf"(?<![\w.])\"?{key}\"?(?:=|:[ \t]*)\"?([A-Za-z]{{3}})\b", message, re.IGNORECASE)
        if m and m.group(1).upper() in CURRENCY_EXPONENTS:
            return m.group(1).upper()
    for code in _CODE.findall(message):  # a str per match (no groups)
        if code in CURRENCY_EXPONENTS:
            return str(code)
    return ""


def amount_readings(
    message: str, attributes: Mapping[str, object] | None = None, keys: Sequence[str] = ("amount",)
) -> list[AmountReading]:
    """The positive amounts a line names (see the module docstring), at most one per field."""
    out: dict[str, AmountReading] = {}
    text = message[:500]
    default: str | None = None
    for key, number, code in _pair_pattern(keys).findall(text):
        value = float(number)
        if value <= 0 or key.lower() in out:
            continue
        if code and code in CURRENCY_EXPONENTS:
            currency = code
        else:
            default = _named_currency(text, attributes) if default is None else default
            currency = default
        out[key.lower()] = AmountReading(key.lower(), currency, value)
    for key, raw in (attributes or {}).items():
        name = str(key).lower()
        if name in out or not any(k.lower() in name for k in keys) or isinstance(raw, bool):
            continue
        try:
            value = float(raw) if isinstance(raw, int | float | str) else 0.0
        except ValueError:
            continue
        if value > 0 and math.isfinite(value):
            default = _named_currency(text, attributes) if default is None else default
            out[name] = AmountReading(name, default, value)
    return list(out.values())


@dataclass(slots=True)
class _Stream:
    baseline: deque[float]
    #: the field and currency the stream's amounts are in, e.g. ``amount:JPY`` (its pool)
    pool: str = ""
    #: (time, log10 value, line id) of the last ``window_hours``
    recent: deque[tuple[datetime, float, str]] = field(default_factory=deque)
    alerting: bool = False


def _amount(log_value: float) -> str:
    x = 10**log_value
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def _times(decades: float) -> str:
    """``2.03`` → ``about 100×``."""
    return f"about {10 ** round(abs(decades)):,}×"


class ValueShiftDetector:
    """Streaming detector of order-of-magnitude amount shifts; feed lines oldest first.

    Parameters are stored untouched (scikit-learn style); per-stream state lives in ``streams_``.
    """

    def __init__(
        self,
        *,
        keys: Sequence[str] = ("amount",),
        window_hours: float = 3.0,
        min_count: int = 5,
        min_baseline: int = 20,
        min_own: int = 2,
        max_baseline: int = 500,
        max_recent: int = 200,
        max_scan: int = 50,
        min_decades: float = 1.0,
        alpha: float = 1e-6,
    ) -> None:
        self.keys = tuple(keys)
        self.window_hours = window_hours
        self.min_count = min_count
        self.min_baseline = min_baseline
        self.min_own = min_own
        self.max_baseline = max_baseline
        self.max_recent = max_recent
        self.max_scan = max_scan
        self.min_decades = min_decades
        self.alpha = alpha
        self.streams_: dict[str, _Stream] = {}
        #: ``field:currency`` -> the latest baseline amounts of every stream in it
        self.pools_: dict[str, deque[float]] = {}

    def reset(self) -> None:
        self.streams_ = {}
        self.pools_ = {}

    def observe(
        self,
        line_id: str,
        when: datetime,
        service: str,
        message: str,
        attributes: Mapping[str, object] | None = None,
    ) -> tuple[list[str], list[Burst]]:
        """Feed one line; returns the value signals it is evidence for (its amount is already at
        least ``min_decades`` off its stream's baseline) and the alerts it completed."""
        readings = amount_readings(message, attributes, self.keys)
        if not readings:
            return [], []
        template = novelty_key(log_template(message))
        evidence: list[str] = []
        bursts: list[Burst] = []
        horizon = when - timedelta(hours=self.window_hours)
        for r in readings:
            signal = f"log:{service}:value:{r.key}:{r.currency or '-'}:{template}"
            st = self.streams_.get(signal)
            if st is None:
                st = _Stream(deque(maxlen=self.max_baseline), f"{r.key}:{r.currency}" if r.currency else "")
                self.streams_[signal] = st
            pool = self.pools_.setdefault(st.pool, deque(maxlen=self.max_baseline)) if st.pool else None
            # the window keeps at least min_count - 1 earlier amounts, so a stream logging a
            # few amounts a day can still be tested on its latest ones
            while len(st.recent) >= self.min_count and (
                st.recent[0][0] < horizon or len(st.recent) >= self.max_recent
            ):
                old = st.recent.popleft()[1]
                if st.alerting and self._quarantined(st, pool, old):
                    continue
                st.baseline.append(old)
                if pool is not None:
                    pool.append(old)
            value = math.log10(r.value)
            st.recent.append((when, value, line_id))
            base = self._baseline(st, pool)
            if base is None:
                continue
            centre = median(base)
            if abs(value - centre) >= self.min_decades:
                evidence.append(signal)
            burst = self._test(signal, st, base, when, centre, r)
            if burst is not None:
                bursts.append(burst)
        return evidence, bursts

    def _quarantined(self, st: _Stream, pool: deque[float] | None, value: float) -> bool:
        """During an episode found against the pool, the stream's far-off amounts stay out of its
        short history and the pool: a few of them would make the history disagree with the pool
        and hide the rest of the episode (the complaints that name those transactions come later)."""
        return (
            len(st.baseline) < self.min_baseline
            and pool is not None
            and len(pool) >= self.min_baseline
            and abs(value - median(pool)) >= self.min_decades
        )

    def _baseline(self, st: _Stream, pool: deque[float] | None) -> deque[float] | None:
        """The stream's own baseline once it is long enough, else its field and currency's pool
        when the stream's own shorter history agrees with that pool; None while neither will do."""
        if len(st.baseline) >= self.min_baseline:
            return st.baseline
        if pool is None or len(pool) < self.min_baseline or len(st.baseline) < self.min_own:
            return None
        if abs(median(st.baseline) - median(pool)) >= self.min_decades:
            return None  # this kind of line has always carried other amounts than the rest
        return pool

    def _test(
        self,
        signal: str,
        st: _Stream,
        baseline: deque[float],
        when: datetime,
        centre: float,
        r: AmountReading,
    ) -> Burst | None:
        values = [v for _t, v, _i in st.recent]
        if len(values) < self.min_count:
            return None
        if st.alerting:
            if abs(median(values[-self.min_count :]) - centre) < self.min_decades:
                st.alerting = False  # the latest amounts are back within range: the episode is over
            return None
        if abs(values[-1] - centre) < self.min_decades:
            return None  # only a line that is itself far off can complete an alert
        pooled = baseline is not st.baseline
        own = median(st.baseline) if pooled else centre
        low, high = (min(st.baseline), max(st.baseline)) if pooled else (centre, centre)
        # The shift began somewhere inside the window: test each run of the latest m amounts
        # (Bonferroni over the lengths tried), so usual amounts from before it do not dilute it.
        base = list(baseline)
        lengths = range(self.min_count, min(len(values), self.max_scan) + 1)
        best: tuple[float, int, float] | None = None
        for m in lengths:
            shift = median(values[-m:]) - centre
            # against the pool, the run must also lie beyond everything the stream itself logged
            edge = low if shift < 0 else high
            if abs(shift) < self.min_decades or (
                (median(values[-m:]) - edge) * math.copysign(1, shift) < self.min_decades
            ):
                continue
            side = "less" if shift < 0 else "greater"
            # exact: scipy's normal approximation (its choice when values tie) is far too
            # conservative in the extreme tail that matters here
            p = float(mannwhitneyu(values[-m:], base, alternative=side, method="exact").pvalue)
            if best is None or p < best[0]:
                best = (p, m, shift)
        if best is None or not best[0] * len(lengths) <= self.alpha:
            return None
        p, m, shift = best
        p = min(1.0, p * len(lengths))
        st.alerting = True
        sign = math.copysign(1, shift)
        tail = list(st.recent)[-m:]
        far = [i for _t, v, i in tail if (v - centre) * sign >= self.min_decades]
        share = sum(1 for v in base if (v - centre) * sign >= self.min_decades) / len(base)
        where = f" in {r.currency}" if r.currency else ""
        against = (
            f"{_amount(centre)} over {len(base)} earlier {r.currency} amounts of all kinds of line "
            f"(this one's {len(st.baseline)} earlier: {_amount(own)})"
            if pooled
            else f"{_amount(centre)} over {len(base)} earlier ones"
        )
        return Burst(
            signal=signal,
            detected_at=when,
            window_hours=max(self.window_hours, (when - tail[0][0]).total_seconds() / 3600),
            observed=len(far),
            expected=m * share,
            p_value=p,
            ticket_ids=tuple(far),
            alpha=self.alpha,
            note=(
                f"{r.key}{where} {_times(shift)} {'smaller' if shift < 0 else 'larger'} than usual: "
                f"median {_amount(median(values[-m:]))} over the last {m} lines against {against}"
            ),
        )
