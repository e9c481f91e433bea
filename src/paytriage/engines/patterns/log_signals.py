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
(transactions, merchants, customers, ``prefix_id`` style), shared ``key=value`` values (a BIN, a
response code, a client version, a partner name) and shared words between the templates and the
problem's keys and top terms. :func:`link_weight` counts each shared token by how specific it is
(``1 / number of log incidents holding it``), so words every incident shares (``post``, ``eur``)
cannot tie a ticket problem to an unrelated incident that merely happened earlier.

A slow incident (a partner bank's settlement run stuck, a file type rejected) may log one line an
hour: no rate test can pass on one line, yet its first line is a warning the service never wrote
before. Like an error tracker's "first seen" issue, such a line raises an alert on its own when the
service has logged for ``novelty_warmup_hours`` and new warning templates are not routine in it
(Good–Turing: the share of its warning lines whose template was seen only once so far, the
estimated chance that the next line is new, is at most ``novelty_max_share``).

Amounts are watched too (:mod:`.value_shift`): a unit bug moves the amounts one kind of line
carries in one currency by a power of ten without changing any rate, usually in INFO lines, so
those lines are fed to the value detector whatever their level (:attr:`LogSignalDetector.value_keys`
names the fields, for a store to select the lines that carry them).

Evidence is gathered from an incident's specific signals (templates, statuses, error codes); its
bare ``level`` signals, which carry every warning line of the service, only when nothing more
specific burst.
"""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from paytriage.engines.patterns.bursts import Burst, KeyBurstDetector
from paytriage.engines.patterns.concepts import Concepts, load_concepts

if TYPE_CHECKING:
    from paytriage.engines.patterns.value_shift import ValueShiftDetector

__all__ = [
    "FirstSeenWatcher",
    "LogIncident",
    "LogLine",
    "LogSignalDetector",
    "first_link",
    "key_tokens",
    "line_evidence",
    "line_signals",
    "line_values",
    "link_score",
    "link_weight",
    "log_template",
    "novelty_key",
    "service_name",
    "token_weights",
]

#: the levels whose lines are warnings: they have templates and rates, and can be first seen
ALERT_LEVELS = frozenset({"warn", "warning", "error", "err", "critical", "fatal", "severe"})
_TOKEN = re.compile(r"\S+")
_ID = re.compile(r"\b[a-z]{1,4}_[0-9a-z]{6,}\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z][a-z_]{2,}")
_SERVICE_SUFFIX = re.compile(r"[-_]\d+$")
_PAIR = re.compile(r"\b([a-z][a-z0-9_.]{0,40})=\"?([^\s\";,]+)", re.IGNORECASE)
_VALUE_SPLIT = re.compile(r"[/@\s]+|\s*\(version\s*|\)")
#: (time, identifiers, template words, named values) of one log line
_Evidence = tuple[datetime, set[str], set[str], set[str]]
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
    #: identifiers stored with the line (transaction, merchant, customer), beyond those in the text
    ids: tuple[str, ...] = ()
    #: structured fields stored with the line (``{"client": "ios-sdk/5.4.0"}``); string values count
    attributes: Mapping[str, object] | None = None


def _split_value(value: str) -> set[str]:
    """``ios-sdk/5.4.0`` → {ios-sdk/5.4.0, ios-sdk, 5.4.0, ios-sdk@5.4.0}; lower case."""
    v = value.strip().strip("'\".,;:").lower()
    if not v or len(v) > 80:
        return set()
    parts = [x for x in _VALUE_SPLIT.split(v) if x]
    out = {v, *parts}
    if len(parts) == 2:
        out.add(f"{parts[0]}@{parts[1]}")
    return out


def line_values(message: str, attributes: Mapping[str, object] | None = None) -> set[str]:
    """The values a message's ``key=value`` pairs and string attributes name, lower case."""
    out: set[str] = set()
    for _key, value in _PAIR.findall(message[:500]):
        out |= _split_value(value)
    for value in (attributes or {}).values():
        if isinstance(value, str):
            out |= _split_value(value)
    return out


def _line_values(line: LogLine) -> set[str]:
    """The values a line names: ``key=value`` pairs, status, error code, string attributes."""
    out = line_values(line.message, line.attributes)
    if line.http_status is not None:
        out.add(str(line.http_status))
    if line.error_code:
        out |= _split_value(line.error_code)
    return out


def key_tokens(keys: Iterable[str]) -> set[str]:
    """Entity keys as the values a log line would name: ``plugin:ios-sdk@5.4.0`` → {ios-sdk@5.4.0,
    ios-sdk, 5.4.0}, ``bank:hanse handelsbank`` → {hanse handelsbank, hanse, handelsbank}."""
    out: set[str] = set()
    for key in keys:
        _kind, _, value = key.partition(":")
        if value:
            out |= _split_value(value)
    return out


@dataclass(slots=True)
class LogIncident:
    """Overlapping alerts of one service: one candidate problem raised from logs alone."""

    service: str
    alerts: list[Burst] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)
    #: values its lines name (``bin=465901`` → ``465901``, statuses, error codes, client versions)
    values: set[str] = field(default_factory=set)
    #: per alert (same order as ``alerts``), each token of the lines behind that alert alone and
    #: when it was first logged (so a live reader can ask what was known at a given moment)
    alert_tokens: list[dict[str, datetime]] = field(default_factory=list)

    @property
    def tokens(self) -> set[str]:
        """Everything a ticket problem can share with it."""
        return self.ids | self.words | self.values

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


def _names_amount(line: LogLine, keys: Sequence[str]) -> bool:
    """Whether a line may carry an amount the value-shift detector reads (a cheap pre-check)."""
    text = line.message[:500].lower()
    return any(k in text for k in keys) or any(
        k in str(a).lower() for a in (line.attributes or {}) for k in keys
    )


def service_name(name: str) -> str:
    """``payments-core-2`` → ``payments-core``: replicas of one service are one signal source."""
    return _SERVICE_SUFFIX.sub("", name.strip().lower()) or "unknown"


def _signals(line: LogLine, svc: str, template: str | None) -> list[str]:
    out = []
    if line.http_status is not None and line.http_status >= 400:
        out.append(f"log:{svc}:status:{line.http_status}")
    if line.error_code:
        out.append(f"log:{svc}:error:{line.error_code.lower()}")
    if template is not None:
        out.append(f"log:{svc}:level:{line.level.lower()}")
        out.append(f"log:{svc}:template:{template}")
    return out


def line_signals(line: LogLine) -> list[str]:
    """The rate signals one log line feeds: its HTTP error status and error code, and for a warning
    or error its level and template (``log:payments-core:template:auth declined bin=<*>``). The
    same names as the streaming detector's, for batch jobs (hourly rates on Spark) over raw lines."""
    template = log_template(line.message) if line.level.lower() in ALERT_LEVELS else None
    return _signals(line, service_name(line.service), template)


def novelty_key(template: str) -> str:
    """A template with every ``key=value`` value and short upper-case word (``EUR``, ``POST``) masked
    too: a known line with another currency or reason is not a new kind of warning."""
    out = []
    for tok in template.split(" "):
        key, eq, _value = tok.partition("=")
        if eq and key:
            tok = f"{key}=<*>"
        elif 2 <= len(tok) <= 4 and tok.isalpha() and tok.isupper():
            tok = "<*>"
        out.append(tok)
    return " ".join(out)


@dataclass(slots=True)
class _Novelty:
    """One service's warning templates so far (Good–Turing bookkeeping)."""

    since: datetime
    lines: int = 0
    once: int = 0
    seen: Counter[str] = field(default_factory=Counter)

    def observe(self, template: str) -> bool:
        """Count a line; True when its template was never seen before."""
        n = self.seen[template] = self.seen[template] + 1
        self.lines += 1
        self.once += 1 if n == 1 else -1 if n == 2 else 0
        return n == 1

    def variant(self, template: str, span: int) -> bool:
        """Whether a known template differs from this one in one run of at most ``span`` words
        on each side (the reason a rejection names, a decline code's name) — one word, or a run
        that keeps at least as many words (not wildcards) as it changes: the same kind of warning
        with another reason."""
        if span <= 0:
            return False
        new = template.split(" ")
        for known in self.seen:
            if known == template:
                continue
            old = known.split(" ")
            if abs(len(old) - len(new)) > span:
                continue
            head = 0
            for a, b in zip(new, old, strict=False):
                if a != b:
                    break
                head += 1
            tail = 0
            for a, b in zip(reversed(new[head:]), reversed(old[head:]), strict=False):
                if a != b:
                    break
                tail += 1
            changed = max(len(new), len(old)) - head - tail
            # one word swapped is a parameter (Drain's rule: a decline code's name); a longer run
            # needs as many real words kept, as wildcards say nothing ("<*> Served block <*> to <*>"
            # and "<*> exception while serving <*> to <*>" keep one word, not four)
            kept = sum(1 for w in new[:head] + new[len(new) - tail :] if w != "<*>")
            if changed <= span and head + tail > 0 and (changed == 1 or kept >= changed):
                return True
        return False


class FirstSeenWatcher:
    """First-seen alerts (see the module docstring): a warning template a service never logged
    before, once the service has logged for ``warmup_hours`` and new warning templates are rare in
    it (Good–Turing share ≤ ``max_share``). Feed lines oldest first; state is per service, so a
    batch job can run one watcher per service. ``since``: when each service began logging at any
    level, when the lines fed are only its warnings; lines below warning level also mark it."""

    def __init__(
        self,
        *,
        warmup_hours: float = 24.0,
        max_share: float = 0.05,
        since: Mapping[str, datetime] | None = None,
        variant_span: int = 4,
    ) -> None:
        self.warmup_hours = warmup_hours
        self.max_share = max_share
        self.since = since
        self.variant_span = variant_span
        self.reset()

    def reset(self) -> FirstSeenWatcher:
        self.since_: dict[str, datetime] = {service_name(k): v for k, v in (self.since or {}).items()}
        self.state_: dict[str, _Novelty] = {}
        return self

    def observe(self, line_id: str, line: LogLine, template: str | None = None) -> Burst | None:
        """The first-seen alert this line raises, or None. ``template``: the line's, when the
        caller has it (only warning and error lines have one)."""
        svc = service_name(line.service)
        if template is None:
            if line.level.lower() not in ALERT_LEVELS:
                self.since_.setdefault(svc, line.timestamp)
                return None
            template = log_template(line.message)
        if self.max_share <= 0:
            return None
        state = self.state_.get(svc)
        if state is None:
            start = self.since_.get(svc, line.timestamp)
            state = self.state_[svc] = _Novelty(min(start, line.timestamp))
        share = state.once / state.lines if state.lines else 0.0  # chance the next line is new
        key = novelty_key(template)
        if not state.observe(key):
            return None
        if line.timestamp - state.since < timedelta(hours=self.warmup_hours) or share > self.max_share:
            return None
        routine = state.variant(key, self.variant_span)
        return Burst(
            signal=f"log:{svc}:template:{template}",
            detected_at=line.timestamp,
            window_hours=1.0,
            observed=1,
            expected=share,
            p_value=share,
            ticket_ids=(line_id,),
            note=f"first seen: a warning {svc} never logged in {state.lines - 1} earlier warning lines"
            + (" (a known warning with another reason)" if routine else ""),
            routine=routine,
        )


class LogSignalDetector:
    """Log lines (time order) → per-signal bursts → deduplicated :class:`LogIncident` s.

    ``min_count``: the lines a rate alert needs (besides p ≤ ``alpha`` against the service's
    baseline). 4, not 5: an issuer outage's first customers write within minutes, often before its
    fifth decline line (measured in bench/RESULTS.md, "eighth session").
    """

    def __init__(
        self,
        *,
        detector: KeyBurstDetector | None = None,
        min_count: int = 4,
        alpha: float = 1e-6,
        merge_hours: float = 6.0,
        max_ids: int = 5000,
        novelty_warmup_hours: float = 24.0,
        novelty_max_share: float = 0.05,
        values: ValueShiftDetector | bool | None = True,
        concepts: Concepts | None = None,
    ) -> None:
        self.detector = detector
        self.min_count = min_count
        self.alpha = alpha
        self.merge_hours = merge_hours
        self.max_ids = max_ids
        self.novelty_warmup_hours = novelty_warmup_hours
        self.novelty_max_share = novelty_max_share
        self.values = values
        self.concepts = concepts

    def value_detector(self) -> ValueShiftDetector | None:
        """The amount watcher the lines go through (None: amounts are not watched)."""
        if self.values is True:
            from paytriage.engines.patterns.value_shift import ValueShiftDetector

            return ValueShiftDetector()
        return self.values or None

    @property
    def value_keys(self) -> tuple[str, ...]:
        """Words amount fields contain (``amount``): lines naming them are read at every level."""
        watcher = self.value_detector()
        return watcher.keys if watcher is not None else ()

    def rate_detector(self) -> KeyBurstDetector:
        """The streaming rate test the lines' signals go through (fresh: no state)."""
        if self.detector is not None:
            return self.detector.reset()
        return KeyBurstDetector(windows_hours=(1, 3, 6), alpha=self.alpha, min_customers=self.min_count)

    def first_seen_watcher(self, service_since: Mapping[str, datetime] | None = None) -> FirstSeenWatcher:
        """The first-seen test the warning lines go through (fresh: no state)."""
        return FirstSeenWatcher(
            warmup_hours=self.novelty_warmup_hours, max_share=self.novelty_max_share, since=service_since
        )

    def detect(
        self, lines: Iterable[LogLine], *, service_since: Mapping[str, datetime] | None = None
    ) -> list[LogIncident]:
        """Log incidents, oldest detection first.

        ``service_since``: when each service began logging at any level (the lines given here are
        usually only its warnings); without it a service's history starts at its first line here,
        whatever its level."""
        detector = self.rate_detector()
        watcher = self.value_detector()
        if watcher is not None:
            watcher.reset()
        novelty = self.first_seen_watcher(service_since)
        bursts: list[Burst] = []
        evidence: dict[str, list[_Evidence]] = {}
        concepts = self.concepts if self.concepts is not None else load_concepts()
        tagged: dict[tuple[str, frozenset[str]], set[str]] = {}  # one set per template and concepts
        # the latest lines naming an amount: a value alert's lines include some logged before its
        # stream had a baseline to call them off, and they are its evidence too
        amounts: OrderedDict[str, _Evidence] = OrderedDict()
        keys = tuple(k.lower() for k in watcher.keys) if watcher is not None else ()
        for n, line in enumerate(sorted(lines, key=lambda x: x.timestamp)):
            svc = service_name(line.service)
            template = log_template(line.message) if line.level.lower() in ALERT_LEVELS else None
            sigs = _signals(line, svc, template)
            alerts: list[Burst] = []
            if watcher is not None:
                shifted, alerts = watcher.observe(str(n), line.timestamp, svc, line.message, line.attributes)
                bursts.extend(alerts)
            else:
                shifted = []
            named = bool(keys) and _names_amount(line, keys)
            if template is None:
                novelty.since_.setdefault(svc, line.timestamp)  # any line starts a service's history
            if not sigs and not shifted and not named:
                continue
            if sigs:
                bursts.extend(detector.observe(str(n), line.timestamp, sigs))
            if template is not None:
                first = novelty.observe(str(n), line, template)
                if first is not None:
                    bursts.append(first)
            item = line_evidence(line, template, concepts, tagged)
            for sig in sigs + shifted:
                evidence.setdefault(sig, []).append(item)
            if named:
                amounts[str(n)] = item
                if len(amounts) > self.max_ids:
                    amounts.popitem(last=False)
            for alert in alerts:
                known = evidence.setdefault(alert.signal, [])
                mine = {id(x) for x in known}
                known.extend(
                    amounts[i] for i in alert.ticket_ids if i in amounts and id(amounts[i]) not in mine
                )
                known.sort(key=lambda x: x[0])
        return self.incidents(bursts, evidence)

    def _merged(self, bursts: Iterable[Burst]) -> list[LogIncident]:
        """Alerts of one service less than ``merge_hours`` apart as one incident (no evidence yet)."""
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
            inc.alerts.sort(key=lambda a: (a.detected_at, a.signal))
        return out

    def _evidence_windows(self, inc: LogIncident) -> list[tuple[datetime, datetime] | None]:
        """Per alert, the span of its signal's lines that are its evidence (None: the alert is a
        bare level one in an incident with more specific signals, and gathers none)."""
        gap = timedelta(hours=self.merge_hours)
        specific = {s for s in inc.signals if ":level:" not in s}
        return [
            None
            if specific and a.signal not in specific
            else (a.detected_at - timedelta(hours=a.window_hours), inc.last_alert_at + gap)
            for a in inc.alerts
        ]

    def evidence_windows(self, bursts: Iterable[Burst]) -> list[tuple[str, datetime, datetime]]:
        """``(signal, from, to)``: the lines a batch engine must gather as evidence for these
        alerts (the same spans :meth:`detect` reads)."""
        return [
            (alert.signal, *span)
            for inc in self._merged(bursts)
            for alert, span in zip(inc.alerts, self._evidence_windows(inc), strict=True)
            if span is not None
        ]

    def incidents(
        self, bursts: Sequence[Burst], evidence: Mapping[str, Sequence[_Evidence]]
    ) -> list[LogIncident]:
        """The incidents these alerts make, with the evidence of their lines: ``evidence`` holds,
        per signal in time order, ``(time, identifiers, words, values)`` of its lines (at least
        those inside :meth:`evidence_windows`; see :func:`line_evidence`)."""
        out = self._merged(bursts)
        for inc in out:
            for alert, span in zip(inc.alerts, self._evidence_windows(inc), strict=True):
                mine: dict[str, datetime] = {}
                inc.alert_tokens.append(mine)
                if span is None:
                    continue
                lo, hi = span
                for when, found, words, values in evidence.get(alert.signal, []):
                    if lo <= when <= hi and len(inc.ids) + len(inc.values) < self.max_ids:
                        inc.ids |= found
                        inc.words |= words
                        inc.values |= values
                        if not alert.routine:
                            for tok in found | words | values:
                                mine.setdefault(tok, when)
        return sorted(out, key=lambda i: (i.detected_at, i.service))


def line_evidence(
    line: LogLine,
    template: str | None,
    concepts: Concepts,
    cache: dict[tuple[str, frozenset[str]], set[str]] | None = None,
) -> _Evidence:
    """What one log line can share with a ticket: ``(time, identifiers, words, values)``, the words
    being its template's (``template``, or the message's own for a line below warning level) and
    the concepts its text names. ``cache`` shares one word set among lines alike."""
    found = {m.lower() for m in _ID.findall(line.message)} | {i.lower() for i in line.ids if i}
    shape = template if template is not None else log_template(line.message)
    tags = frozenset(concepts.tags(line.message))
    words = cache.get((shape, tags)) if cache is not None else None
    if words is None:
        words = {w for w in _WORD.findall(shape.lower()) if w not in _QUIET_WORDS} | tags
        if cache is not None and len(cache) < 100_000:
            cache[(shape, tags)] = words
    return (line.timestamp, found, words, _line_values(line))


def link_score(incident: LogIncident, ids: Iterable[str], words: Iterable[str]) -> int:
    """How many identifiers, values and words a log incident shares with a ticket problem."""
    wanted = {w.lower() for w in words}
    return len(incident.ids & {i.lower() for i in ids}) + len((incident.words | incident.values) & wanted)


def token_weights(incidents: Iterable[LogIncident]) -> dict[str, float]:
    """Each token's specificity: 1 / the number of incidents holding it."""
    df: Counter[str] = Counter()
    for inc in incidents:
        df.update(inc.tokens)
    return {t: 1.0 / n for t, n in df.items()}


def link_weight(incident: LogIncident, tokens: Iterable[str], weights: Mapping[str, float]) -> float:
    """Shared tokens, each counted by its specificity (see :func:`token_weights`)."""
    shared = incident.tokens & {t.lower() for t in tokens}
    return sum(weights.get(t, 1.0) for t in shared)


def first_link(
    incident: LogIncident,
    tokens: Iterable[str],
    weights: Mapping[str, float],
    min_link: float,
    until: datetime | None = None,
) -> tuple[datetime, float] | None:
    """When the incident's alerts first tied it to a ticket problem (up to ``until``), and the
    weight of that evidence: the earliest moment an alert had been raised and its own lines, as
    logged by then, shared evidence worth ``min_link`` with the problem. Alerts of one service
    merged into one incident can be unrelated (an idempotency spike, then an issuer outage): the
    link is timed by the alert that explains the problem, not by the incident's first; and by the
    lines that explain it, not by an earlier alert whose window later lines fell into."""
    wanted = {t.lower() for t in tokens}
    best: tuple[datetime, float] | None = None
    for alert, mine in zip(incident.alerts, incident.alert_tokens, strict=False):
        if until is not None and alert.detected_at > until:
            break
        if best is not None and alert.detected_at >= best[0]:
            break
        shared = sorted(
            (mine[t], weights.get(t, 1.0))
            for t in wanted.intersection(mine)
            if until is None or mine[t] <= until
        )
        weight = 0.0
        for when, w in shared:
            weight += w
            if weight >= min_link:
                at = max(alert.detected_at, when)
                if (until is None or at <= until) and (best is None or at < best[0]):
                    best = (at, sum(x for _t, x in shared))
                break
    return best
