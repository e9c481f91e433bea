"""Log signals: template, status, error-code and error-level rates, alerting before tickets arrive.

Why: a broken issuer, bank feed or release usually shows in the platform's own logs minutes to
hours before customers write in. Each warning/error line is reduced to a *template* (tokens with
digits masked, so ``bin=465901 stan=123`` and ``bin=411111 stan=9`` are one template) and counted
per service, together with HTTP error statuses and error codes. Each line feeds the same
streaming :class:`KeyBurstDetector` the tickets use (seasonal volume baseline, the signal's own
share of it, Poisson tail, minimum evidence, one burst per episode), so an alert is known at the
log line that completed it; bursts of one service less than ``merge_hours`` apart are one
:class:`LogIncident` (deduplicated).

:func:`link_score` says how well a log incident explains a ticket problem: shared identifiers
(transactions, merchants, customers, ``prefix_id`` style) and shared words between the
templates and the problem's keys and top terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from paytriage.engines.patterns.bursts import Burst, KeyBurstDetector

__all__ = ["LogIncident", "LogLine", "LogSignalDetector", "link_score", "log_template"]

_ALERT_LEVELS = frozenset({"warn", "warning", "error", "err", "critical", "fatal", "severe"})
_TOKEN = re.compile(r"\S+")
_ID = re.compile(r"\b[a-z]{1,4}_[0-9a-z]{6,}\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z][a-z_]{2,}")
_SERVICE_SUFFIX = re.compile(r"[-_]\d+$")
_QUIET_WORDS = frozenset({"the", "and", "for", "from", "with", "not", "level", "service", "msg", "org"})


def log_template(message: str) -> str:
    """The message with every token holding a digit masked as ``<*>`` (``key=`` prefixes kept)."""
    out = []
    for tok in _TOKEN.findall(message[:300]):
        if any(c.isdigit() for c in tok):
            key, eq, _value = tok.partition("=")
            tok = f"{key}=<*>" if eq and not any(c.isdigit() for c in key) else "<*>"
        out.append(tok)
    return " ".join(out)


@dataclass(frozen=True, slots=True)
class LogLine:
    """One stored log event as the log-signal detector sees it."""

    timestamp: datetime
    service: str
    level: str
    message: str
    http_status: int | None = None
    error_code: str | None = None


@dataclass(slots=True)
class LogIncident:
    """Overlapping alerts of one service: one candidate problem raised from logs alone."""

    service: str
    alerts: list[Burst] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)

    @property
    def start(self) -> datetime:
        """Beginning of the first burst's window."""
        return min(a.detected_at - timedelta(hours=a.window_hours) for a in self.alerts)

    @property
    def detected_at(self) -> datetime:
        return min(a.detected_at for a in self.alerts)

    @property
    def last_alert_at(self) -> datetime:
        return max(a.detected_at for a in self.alerts)

    @property
    def signals(self) -> list[str]:
        return [a.signal for a in sorted(self.alerts, key=lambda a: (a.detected_at, a.signal))]


def _service(name: str) -> str:
    return _SERVICE_SUFFIX.sub("", name.strip().lower()) or "unknown"


def _signals(line: LogLine) -> list[str]:
    svc = _service(line.service)
    out = []
    if line.http_status is not None and line.http_status >= 400:
        out.append(f"log:{svc}:status:{line.http_status}")
    if line.error_code:
        out.append(f"log:{svc}:error:{line.error_code.lower()}")
    if line.level.lower() in _ALERT_LEVELS:
        out.append(f"log:{svc}:level:{line.level.lower()}")
        out.append(f"log:{svc}:template:{log_template(line.message)}")
    return out


class LogSignalDetector:
    """Log lines (time order) → per-signal bursts → deduplicated :class:`LogIncident` s."""

    def __init__(
        self,
        *,
        detector: KeyBurstDetector | None = None,
        min_count: int = 5,
        alpha: float = 1e-6,
        merge_hours: float = 6.0,
        max_ids: int = 5000,
    ) -> None:
        self.detector = detector
        self.min_count = min_count
        self.alpha = alpha
        self.merge_hours = merge_hours
        self.max_ids = max_ids

    def detect(self, lines: Iterable[LogLine]) -> list[LogIncident]:
        """Log incidents, oldest detection first."""
        detector = self.detector or KeyBurstDetector(
            windows_hours=(1, 3, 6), alpha=self.alpha, min_customers=self.min_count
        )
        detector.reset()
        bursts: list[Burst] = []
        evidence: dict[str, list[tuple[datetime, set[str], set[str]]]] = {}
        for n, line in enumerate(sorted(lines, key=lambda x: x.timestamp)):
            sigs = _signals(line)
            if not sigs:
                continue
            bursts.extend(detector.observe(str(n), line.timestamp, sigs))
            found = {m.lower() for m in _ID.findall(line.message)}
            words = {w for w in _WORD.findall(log_template(line.message).lower()) if w not in _QUIET_WORDS}
            for sig in sigs:
                evidence.setdefault(sig, []).append((line.timestamp, found, words))
        return self._incidents(bursts, evidence)

    def _incidents(
        self, bursts: Sequence[Burst], evidence: dict[str, list[tuple[datetime, set[str], set[str]]]]
    ) -> list[LogIncident]:
        out: list[LogIncident] = []
        latest: dict[str, LogIncident] = {}
        gap = timedelta(hours=self.merge_hours)
        for b in sorted(bursts, key=lambda x: (x.detected_at, x.signal)):
            svc = b.signal.split(":", 2)[1]
            inc = latest.get(svc)
            if inc is not None and b.detected_at - inc.last_alert_at <= gap:
                inc.alerts.append(b)
                continue
            inc = latest[svc] = LogIncident(svc, [b])
            out.append(inc)
        for inc in out:
            lo, hi = inc.start, inc.last_alert_at + gap
            for sig in set(inc.signals):
                for when, found, words in evidence.get(sig, []):
                    if lo <= when <= hi and len(inc.ids) < self.max_ids:
                        inc.ids |= found
                        inc.words |= words
        return sorted(out, key=lambda i: (i.detected_at, i.service))


def link_score(incident: LogIncident, ids: Iterable[str], words: Iterable[str]) -> int:
    """How many identifiers and words a log incident shares with a ticket problem."""
    return len(incident.ids & {i.lower() for i in ids}) + len(incident.words & {w.lower() for w in words})
