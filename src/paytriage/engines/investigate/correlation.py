"""Correlation: from a case's tickets to its transactions, their lifecycle, the logs around them and
the log templates involved, each with its current rate against its baseline.

Transactions are found by id first (ticket fields, Tier-1 notes, pasted text), then fuzzily by
customer or merchant, amount and time. Logs are found by transaction, request, merchant and
customer id (indexed columns, filled at ingest from free text too) in windows around the focus
time. Every query goes through the :class:`~paytriage.engines.investigate.evidence.EvidenceSource`
port, so it is bounded and indexed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from paytriage.domain import LogEvent, LogLevel, Transaction
from paytriage.engines.investigate.clues import (
    ID_PATTERN,
    PROBLEM_STATUSES,
    Clues,
    add_unique,
    clues_from_tickets,
    status_as_of,
)
from paytriage.engines.investigate.evidence import EvidenceSource, LogQuery, TxnQuery, level_at_least
from paytriage.engines.logmining import TemplateMiner

__all__ = [
    "PROBLEM_STATUSES",
    "Clues",
    "Correlation",
    "Correlator",
    "TemplateRate",
    "clues_from_tickets",
    "effective_level",
    "status_as_of",
    "stored_template_id",
]


@dataclass(slots=True)
class TemplateRate:
    """One log template seen around the case: its rate now against the same window on earlier days."""

    template_id: str
    http_status: int | None
    template: str
    service: str | None
    level: str
    current: int
    baseline: float
    baseline_days: int
    first_seen: datetime | None
    samples: list[LogEvent] = field(default_factory=list)
    own: list[LogEvent] = field(default_factory=list)  # the case's own lines of this template

    @property
    def ratio(self) -> float:
        return (self.current + 1.0) / (self.baseline + 1.0)


@dataclass(slots=True)
class Correlation:
    """Everything found for one case."""

    clues: Clues
    focus: datetime
    window: tuple[datetime, datetime]
    transactions: list[Transaction] = field(default_factory=list)
    matched_by: dict[str, str] = field(default_factory=dict)
    related: list[Transaction] = field(default_factory=list)
    logs: list[LogEvent] = field(default_factory=list)
    templates: list[TemplateRate] = field(default_factory=list)
    baseline_days: list[int] = field(default_factory=list)

    @property
    def merchant_ids(self) -> list[str]:
        out = list(self.clues.merchant_ids)
        for t in self.transactions:
            add_unique(out, t.merchant_id)
        return out

    @property
    def customer_ids(self) -> list[str]:
        out = list(self.clues.customer_ids)
        for t in self.transactions:
            add_unique(out, t.customer_id)
        return out


class Correlator:
    """Finds a case's evidence. Parameters are windows and limits; nothing is learnt.

    lookback_days: how far before the ticket a customer's transactions are searched.
    window_before/after: the "current" window around the focus time, where the case's neighbours
    are looked for; template_window: how far back a template's rate is counted (up to the window
    end), compared with the same span on each of ``baseline_days`` earlier days (days without any
    log data are left out). template_sample: rows read per template (counts are index-only);
    window_sample: rows mined per window when the logs have no stored template ids.
    """

    def __init__(
        self,
        *,
        lookback_days: int = 14,
        window_before: timedelta = timedelta(hours=1),
        window_after: timedelta = timedelta(hours=1),
        template_window: timedelta = timedelta(hours=6),
        baseline_days: int = 7,
        log_limit: int = 300,
        max_templates: int = 8,
        template_sample: int = 500,
        window_sample: int = 2000,
    ) -> None:
        self.lookback_days = lookback_days
        self.window_before = window_before
        self.window_after = window_after
        self.template_window = template_window
        self.baseline_days = baseline_days
        self.log_limit = log_limit
        self.max_templates = max_templates
        self.template_sample = template_sample
        self.window_sample = window_sample

    def correlate(
        self,
        clues: Clues,
        source: EvidenceSource,
        miner: TemplateMiner | None = None,
        *,
        sample_when: Callable[[TemplateRate], bool] | None = None,
    ) -> Correlation:
        """``sample_when``: given a rate with exact counts but no sample, whether its rows are worth
        reading (only a possible spike is; the rest keep just the case's own lines). None: always."""
        anchors, matched_by = self._find_transactions(clues, source)
        related = self._related(anchors, source, clues.as_of)
        if not anchors:  # the merchant's own recent money movements: context, never the focus
            for mid in clues.merchant_ids[:2]:
                for kind in ("refund", "payout"):
                    q = TxnQuery(
                        merchant_id=mid, kind=kind, start=clues.opened_at - timedelta(days=2), end=clues.as_of
                    )
                    related += source.transactions(q, limit=3)
        focus = self._focus(clues, anchors, source)
        start = focus - self.window_before
        focus = min(focus, clues.as_of)
        end = min(focus + self.window_after, _after(clues.as_of))
        corr = Correlation(
            clues=clues,
            focus=focus,
            window=(start, end),
            transactions=anchors,
            matched_by=matched_by,
            related=related,
        )
        corr.logs = self._logs(corr, source)
        corr.baseline_days = [  # one row is enough to know a day has log data: never a count
            d
            for d in range(1, self.baseline_days + 1)
            if source.logs(
                LogQuery(start=end - self.template_window - timedelta(days=d), end=end - timedelta(days=d)),
                limit=1,
            )
        ]
        corr.templates = self._templates(corr, source, miner or TemplateMiner(), sample_when)
        return corr

    # -- transactions -------------------------------------------------------------------------------
    def _find_transactions(
        self, clues: Clues, source: EvidenceSource
    ) -> tuple[list[Transaction], dict[str, str]]:
        if clues.ids:
            found = source.transactions(TxnQuery(ids=tuple(clues.ids), end=_after(clues.as_of)), limit=20)
            if found:
                return found, {t.external_id: "id in ticket" for t in found}
        start = clues.opened_at - timedelta(days=self.lookback_days)
        candidates: list[tuple[float, str, Transaction]] = []
        for cid in clues.customer_ids[:3]:
            for t in source.transactions(TxnQuery(customer_id=cid, start=start, end=clues.as_of), limit=50):
                score, why = self._score(t, clues)
                candidates.append((score, why, t))
        for mid in clues.merchant_ids[:3]:
            for amt in clues.amounts[:3]:
                q = TxnQuery(
                    merchant_id=mid,
                    amount_minor=amt.minor_units,
                    currency=amt.currency,
                    start=clues.opened_at - timedelta(days=3),
                    end=clues.as_of,
                )
                for t in source.transactions(q, limit=5):
                    candidates.append((3.0, "merchant + amount", t))
        best: dict[str, tuple[float, str, Transaction]] = {}
        for score, why, t in candidates:
            if score >= 1.0 and (t.external_id not in best or best[t.external_id][0] < score):
                best[t.external_id] = (score, why, t)
        ranked = sorted(best.values(), key=lambda x: (x[0], x[2].created_at), reverse=True)[:3]
        return [t for _, _, t in ranked], {t.external_id: f"fuzzy: {why}" for _, why, t in ranked}

    def _score(self, t: Transaction, clues: Clues) -> tuple[float, str]:
        score, why = 0.0, ["customer"]
        age_days = (clues.opened_at - t.created_at).total_seconds() / 86400
        if any(a == t.amount for a in clues.amounts):
            score += 2.0
            why.append("amount")
        if age_days <= 3 and (
            status_as_of(t, clues.as_of) in PROBLEM_STATUSES or t.kind.value in ("refund", "chargeback")
        ):
            score += 1.0
            why.append("status")
        if t.response_code and t.response_code in clues.codes:
            score += 1.0
            why.append("code")
        score += max(0.0, 0.5 - age_days / self.lookback_days)
        return score, " + ".join(why)

    def _related(
        self, anchors: Sequence[Transaction], source: EvidenceSource, as_of: datetime
    ) -> list[Transaction]:
        if not anchors:
            return []
        ids = tuple(t.external_id for t in anchors)
        seen = set(ids)
        out: list[Transaction] = []
        parents = tuple(t.parent_id for t in anchors if t.parent_id)
        found = source.transactions(TxnQuery(ids=parents, end=_after(as_of)), limit=10) if parents else []
        found += source.transactions(TxnQuery(parent_ids=ids, end=_after(as_of)), limit=20)
        for t in anchors:
            if t.merchant_id and t.card_last4:
                found += source.transactions(
                    TxnQuery(
                        merchant_id=t.merchant_id,
                        card_last4=t.card_last4,
                        amount_minor=t.amount.minor_units,
                        start=t.created_at - timedelta(minutes=10),
                        end=min(t.created_at + timedelta(minutes=10), _after(as_of)),
                    ),
                    limit=10,
                )
        for t in found:
            if t.external_id not in seen:
                seen.add(t.external_id)
                out.append(t)
        return out

    def _focus(self, clues: Clues, anchors: Sequence[Transaction], source: EvidenceSource) -> datetime:
        if anchors:
            return max(t.created_at for t in anchors)
        if clues.merchant_ids or clues.customer_ids:
            for hours in (6, 24):
                hits = source.logs(
                    LogQuery(
                        start=clues.opened_at - timedelta(hours=hours),
                        end=clues.as_of,
                        merchant_ids=tuple(clues.merchant_ids[:3]),
                        customer_ids=tuple(clues.customer_ids[:3]),
                        levels=level_at_least("warning"),
                    ),
                    limit=1,
                )
                if hits:
                    return hits[0].timestamp
        return clues.opened_at

    # -- logs ---------------------------------------------------------------------------------------
    def _logs(self, corr: Correlation, source: EvidenceSource) -> list[LogEvent]:
        txns = corr.transactions + corr.related
        txn_ids = tuple(t.external_id for t in txns)
        found: dict[str, LogEvent] = {}

        def keep(events: Iterable[LogEvent]) -> None:
            for e in events:
                found.setdefault(e.fingerprint or f"{e.timestamp}{e.message}", e)

        # Ids named only in free text were put in the id columns at ingest: every lookup is a seek.
        day = timedelta(days=1)
        ids = tuple(dict.fromkeys(txn_ids + tuple(corr.clues.ids)))
        if ids:
            keep(
                source.logs(
                    LogQuery(
                        start=corr.focus - 3 * day,
                        end=min(corr.focus + 3 * day, _after(corr.clues.as_of)),
                        transaction_ids=ids,
                        request_ids=tuple(corr.clues.ids),
                    ),
                    limit=self.log_limit,
                )
            )
        merchants = tuple(corr.merchant_ids[:3])
        customers = tuple(corr.customer_ids[:3])
        if merchants or customers:
            keep(
                source.logs(
                    LogQuery(
                        start=corr.window[0],
                        end=corr.window[1],
                        merchant_ids=merchants,
                        customer_ids=customers,
                        levels=level_at_least("warning"),
                    ),
                    limit=self.log_limit,
                )
            )
        shared = _shared_params(found.values())
        if shared:  # warnings elsewhere naming the same bank, file type, BIN … as the case's own lines
            near = source.logs(
                LogQuery(
                    start=corr.window[1] - self.template_window,
                    end=corr.window[1],
                    mentions=shared,
                    levels=level_at_least("warning"),
                ),
                limit=self.log_limit,
            )
            keep(e for e in near if effective_level(e) in _NOISY)
        return sorted(found.values(), key=lambda e: e.timestamp)[: self.log_limit]

    # -- templates ----------------------------------------------------------------------------------
    def _templates(
        self,
        corr: Correlation,
        source: EvidenceSource,
        miner: TemplateMiner,
        sample_when: Callable[[TemplateRate], bool] | None = None,
    ) -> list[TemplateRate]:
        """Rates of the warning-or-worse templates among the case's logs."""
        noisy = [e for e in corr.logs if effective_level(e) in _NOISY]
        if not noisy:
            return []
        stored = all(e.template_id for e in noisy)
        end = corr.window[1]
        start = min(corr.window[0], end - self.template_window)
        levels = level_at_least("warning")

        def tid(e: LogEvent) -> str:
            if stored and e.template_id:
                return _live_id(miner, e.template_id)
            return f"E{miner.add_line(e.message)}"

        # A template splits by HTTP status where the log has one ("POST <*>" answered 402 vs 429).
        key_t = tuple[str, int | None]
        groups: dict[key_t, list[LogEvent]] = {}
        for e in noisy:
            groups.setdefault((tid(e), e.http_status), []).append(e)
        chosen = sorted(groups.items(), key=lambda kv: len(kv[1]), reverse=True)[: self.max_templates]
        rates: list[TemplateRate] = []
        if stored:
            for (template_id, status), events in chosen:
                ids = _aliases(miner, template_id)
                # Ids stored with their HTTP status need no row lookups: the count is index-only.
                status_filter = None if "/" in template_id else status
                now = LogQuery(start=start, end=end, template_ids=ids, http_status=status_filter)
                base = [
                    source.count_logs(
                        LogQuery(
                            start=start - timedelta(days=d),
                            end=end - timedelta(days=d),
                            template_ids=ids,
                            http_status=status_filter,
                        )
                    )
                    for d in corr.baseline_days
                ]
                # Counts and the first time are index-only; only a sample of rows is read, and with
                # ``sample_when`` only for a rate that could be a spike.
                if sample_when is None:
                    samples = source.logs(now, limit=self.template_sample)
                    full = len(samples) >= self.template_sample
                    count = source.count_logs(now) if full else len(samples)
                    first = source.first_time(now) if full else None
                else:
                    samples, count = [], source.count_logs(now)
                    first = source.first_time(now) if count else None
                rate = self._rate(template_id, status, miner, events, samples, base, count=count, first=first)
                if sample_when is not None and count:
                    rate.current, rate.first_seen = count, first  # exact, as a full sample would give
                    if sample_when(rate):
                        samples = source.logs(now, limit=self.template_sample)
                        rate = self._rate(
                            template_id, status, miner, events, samples, base, count=count, first=first
                        )
                rates.append(rate)
            return rates

        # No stored template ids: mine the windows themselves (bounded by ``window_sample``).
        def window_counts(s: datetime, e: datetime) -> dict[key_t, list[LogEvent]]:
            events = source.logs(LogQuery(start=s, end=e, levels=levels), limit=self.window_sample)
            by: dict[key_t, list[LogEvent]] = {}
            for ev in events:
                by.setdefault((tid(ev), ev.http_status), []).append(ev)
            return by

        current_by = window_counts(start, end)
        base_by = [
            window_counts(start - timedelta(days=d), end - timedelta(days=d)) for d in corr.baseline_days
        ]
        for (template_id, status), events in chosen:
            live = _live_id(miner, template_id)

            def same(k: key_t, live: str = live, status: int | None = status) -> bool:
                return k[1] == status and _live_id(miner, k[0]) == live

            current = [ev for k, evs in current_by.items() if same(k) for ev in evs]
            base = [sum(len(v) for k, v in by.items() if same(k)) for by in base_by]
            rates.append(self._rate(live, status, miner, events, current, base))
        return rates

    @staticmethod
    def _rate(
        template_id: str,
        http_status: int | None,
        miner: TemplateMiner,
        events: list[LogEvent],
        current: list[LogEvent],
        base: list[int],
        *,
        count: int | None = None,
        first: datetime | None = None,
    ) -> TemplateRate:
        """``current`` is the window's events or a sample of them (then ``count`` and ``first`` say
        how many there are and when the first was)."""
        current = current or events
        samples = sorted(current, key=lambda e: e.timestamp)
        if count is not None and count > len(samples):  # the case's own lines belong in the sample
            have = {e.fingerprint for e in samples}
            samples = sorted(
                samples + [e for e in events if e.fingerprint not in have], key=lambda e: e.timestamp
            )
        try:
            text = miner.resolve(_split(template_id)[0]).text
        except (KeyError, ValueError):
            text = events[0].message.split("\n")[0]
        return TemplateRate(
            template_id=template_id,
            http_status=http_status,
            template=text,
            service=events[0].service,
            level=effective_level(events[0]),
            current=max(count or 0, len(current)),
            baseline=sum(base) / len(base) if base else 0.0,
            baseline_days=len(base),
            first_seen=min([e.timestamp for e in current] + ([first] if first else [])),
            samples=samples,
            own=events,
        )


_NOISY = frozenset(level_at_least("warning"))
_LOGFMT_LEVEL = re.compile(r"^\s*(?:level|severity|lvl)=\"?([A-Za-z]+)")
_STRUCTURAL = frozenset({"level", "severity", "lvl", "service", "logger", "thread", "msg", "message"})


def effective_level(e: LogEvent) -> str:
    """The stored level, or a logfmt ``level=`` key at the start of the message when that is higher."""
    m = _LOGFMT_LEVEL.match(e.message)
    if m is None:
        return e.level.value
    parsed = LogLevel.parse(m.group(1)).value
    return parsed if _ORDER.index(parsed) > _ORDER.index(e.level.value) else e.level.value


_ORDER = ("debug", "info", "warning", "error", "critical")
_KV = re.compile(r"\b([a-z_]{2,20})=([A-Za-z][^\s,;\"']{3,60})")


def _shared_params(events: Iterable[LogEvent], limit: int = 4) -> tuple[str, ...]:
    """``key=value`` tokens of the case's lines whose value is a name, not an id or a number."""
    counts: Counter[str] = Counter()
    for e in events:
        for k, v in _KV.findall(e.message):
            if (
                k not in _STRUCTURAL
                and not ID_PATTERN.fullmatch(v)
                and sum(ch.isdigit() for ch in v) <= len(v) // 2
            ):
                counts[f"{k}={v}"] += 1
    return tuple(kv for kv, _ in counts.most_common(limit))


def _after(t: datetime) -> datetime:
    """An exclusive end that still includes ``t`` itself."""
    return t + timedelta(milliseconds=1)


def stored_template_id(template_id: int, http_status: int | None) -> str:
    """How a template id is stored on a log event: ``E12``, or ``E12/429`` when the event has an HTTP
    status — so "POST <*>" answered 429 and 402 are counted apart by the template index alone."""
    return f"E{template_id}" + (f"/{http_status}" if http_status is not None else "")


def _split(template_id: str) -> tuple[int, str]:
    head, _, status = template_id.lstrip("E").partition("/")
    return int(head), (f"/{status}" if status else "")


def _live_id(miner: TemplateMiner, template_id: str) -> str:
    try:
        num, suffix = _split(template_id)
        return f"E{miner.resolve(num).id}{suffix}"
    except (KeyError, ValueError):
        return template_id


def _aliases(miner: TemplateMiner, template_id: str) -> tuple[str, ...]:
    """Every stored id that now means this template (merged templates keep their old ids)."""
    live = _live_id(miner, template_id)
    suffix = template_id.partition("/")[2]
    suffix = f"/{suffix}" if suffix else ""
    ids = {template_id, live}
    for t in miner.templates_.values():
        if t.merged_into is not None and _live_id(miner, f"E{t.id}{suffix}") == live:
            ids.add(f"E{t.id}{suffix}")
    return tuple(sorted(ids))
