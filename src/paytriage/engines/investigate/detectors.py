"""Detectors: generic checks that turn a correlation into root-cause hypotheses.

Each detector compares the case's slice of data with the same slice elsewhere — the same segment on
earlier days, other merchants, the parent payment — never with words of the ticket. Thresholds are
parameters of :class:`DetectorConfig`.

* :func:`segment_spike` — the anchor transaction's outcome (response code, failure reason, still
  pending) concentrated in one segment (BIN, country, partner bank, integration, …) vs baseline.
* :func:`template_spike` — an error log template of the case well above its baseline, across many
  merchants/accounts; its family (429s, webhooks, sign-in, uploads, …) from a rule table.
* :func:`amount_anomaly` — refunds off by the currency's exponent against their payment.
* :func:`duplicates` — same card, amount and merchant seconds apart, platform-wide.
* :func:`individual` — no systemic cause: the code book decodes the case's own outcome.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from paytriage.domain import LogEvent, Release, Transaction, TransactionStatus
from paytriage.domain.money import currency_exponent
from paytriage.engines.investigate.codes import CodeBook, CodeInfo
from paytriage.engines.investigate.correlation import Correlation, TemplateRate, status_as_of
from paytriage.engines.investigate.evidence import EvidenceSource, TxnQuery
from paytriage.engines.investigate.hypotheses import (
    Evidence,
    EvidenceKind,
    Hypothesis,
    HypothesisKind,
    Scope,
    template_family,
)

__all__ = [
    "DETECTORS",
    "DetectorConfig",
    "DetectorContext",
    "amount_anomaly",
    "duplicates",
    "individual",
    "segment_spike",
    "template_spike",
]

_KV = re.compile(r"\b([a-z_]{2,20})=([^\s,;\"']+)")
_IDLIKE = re.compile(r"^[a-z]{1,5}_[A-Za-z0-9]{5,}$")
_AUTH_STEP = re.compile(r"(?i)3ds|authenticat|challenge")
_DIMS = ("card_bin", "country", "currency", "processor", "merchant_id")
_ATTR_DIMS = ("partner_bank", "integration", "method", "issuer", "bank")


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    min_count: int = 4  # events in the current window before anything is a spike
    min_ratio: float = 3.0  # current / baseline (both +1)
    min_share: float = 0.25  # share of the segment's traffic with the outcome
    min_entities: int = 2  # merchants/accounts sharing a log spike
    txn_limit: int = 5000
    release_lookback: timedelta = timedelta(hours=6)


@dataclass(slots=True)
class DetectorContext:
    corr: Correlation
    source: EvidenceSource
    codes: CodeBook
    config: DetectorConfig

    def windows(self, before: timedelta, after: timedelta) -> list[tuple[datetime, datetime, int]]:
        """The current window (day 0) and the same window on each baseline day."""
        f, as_of = self.corr.focus, max(self.corr.clues.as_of, self.corr.focus)
        start, end = f - before, min(f + after, as_of)
        out = [(start, end, 0)]
        out += [(start - timedelta(days=d), end - timedelta(days=d), d) for d in self.corr.baseline_days]
        return out


def _fmt(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t else "?"


def _outcome(t: Transaction, at: datetime) -> tuple[str, str | None]:
    status = status_as_of(t, at)
    if status is TransactionStatus.DECLINED:
        return status.value, t.response_code or t.decline_reason
    if status is TransactionStatus.FAILED:
        return status.value, t.decline_reason or t.response_code
    return status.value, None


def _dim(t: Transaction, name: str) -> str | None:
    if name == "currency":
        return t.amount.currency
    v = getattr(t, name) if name in _DIMS else t.attributes.get(name)
    return None if v in (None, "") else str(v)


def _decode(ctx: DetectorContext, code: str | None) -> CodeInfo | None:
    if not code:
        return None
    info = ctx.codes.get(code, "iso8583") or ctx.codes.get(code)
    return info


_WORD = re.compile(r"[a-z0-9]+")
#: Words too common in component names to relate two of them.
_GENERIC = frozenset({"service", "api", "server", "connector", "sdk", "app", "core", "web", "worker", "main"})


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in _GENERIC and not w.isdigit()}


def _releases(ctx: DetectorContext, onset: datetime, hints: Sequence[str]) -> list[Release]:
    """Releases before the onset whose component shares a word with the hints (services, integrations)."""
    found = ctx.source.releases(onset - ctx.config.release_lookback, onset + timedelta(minutes=5))
    keys: set[str] = set()
    for h in hints:
        if h:
            keys |= _words(h.split("/")[0])
    return [r for r in found if _words(r.component) & keys]


def _release_evidence(ctx: DetectorContext, h: Hypothesis, hints: Sequence[str]) -> None:
    if h.since is None:
        return
    rels = _releases(ctx, h.since, hints)
    if rels:
        r = rels[-1]
        h.component = r.component
        h.route, h.party = "engineering", "us"
        h.confidence = min(0.97, h.confidence + 0.1)
        h.evidence.append(
            Evidence(
                EvidenceKind.RELEASE,
                f"release {r.component} {r.version} at {_fmt(r.released_at)}, before the onset"
                + (f" ({r.notes})" if r.notes else ""),
                r.released_at,
                f"{r.component}@{r.version}",
            )
        )
        h.summary += f"; follows release {r.component} {r.version}"
    else:
        h.summary += "; no related release in the prior hours"


def _kind_for(t: Transaction, outcome: tuple[str, str | None]) -> HypothesisKind:
    status, code = outcome
    if status == "pending":
        return HypothesisKind.PAYOUT_DELAY if t.kind.value == "payout" else HypothesisKind.PENDING_SPIKE
    steps = " ".join(f"{e.code or ''} {e.detail or ''}" for e in t.events) + f" {code or ''}"
    if _AUTH_STEP.search(steps) and status == "failed":
        return HypothesisKind.AUTHENTICATION_SPIKE
    return HypothesisKind.DECLINE_SPIKE


def segment_spike(ctx: DetectorContext) -> list[Hypothesis]:
    cfg, corr = ctx.config, ctx.corr
    out: list[Hypothesis] = []
    for anchor in corr.transactions[:3]:
        outcome = _outcome(anchor, corr.clues.as_of)
        if outcome[0] not in ("declined", "failed", "pending"):
            continue
        windows = ctx.windows(timedelta(hours=3), timedelta(hours=1))
        fetched: list[tuple[int, datetime, list[Transaction]]] = []
        for start, end, day in windows:
            q = TxnQuery(start=start, end=end, kind=anchor.kind.value)
            fetched.append(
                (day, corr.clues.as_of - timedelta(days=day), ctx.source.transactions(q, limit=cfg.txn_limit))
            )
        best: tuple[float, str, str, list[Transaction], float, int] | None = None
        dims = [d for d in (*_DIMS, *_ATTR_DIMS) if _dim(anchor, d) is not None]
        for dim in dims:
            value = _dim(anchor, dim)
            cur_bad: list[Transaction] = []
            cur_total = 0
            base_bad: list[int] = []
            for day, at, txns in fetched:
                seg = [t for t in txns if _dim(t, dim) == value]
                bad = [t for t in seg if _outcome(t, at) == outcome]
                if day == 0:
                    cur_bad, cur_total = bad, len(seg)
                else:
                    base_bad.append(len(bad))
            base = sum(base_bad) / len(base_bad) if base_bad else 0.0
            ratio = (len(cur_bad) + 1) / (base + 1)
            share = len(cur_bad) / cur_total if cur_total else 0.0
            if len(cur_bad) < cfg.min_count or ratio < cfg.min_ratio or share < cfg.min_share:
                continue
            if dim == "merchant_id" and len({t.customer_id for t in cur_bad}) < 3:
                continue
            score = math.log(ratio) * share
            if best is None or score > best[0]:
                best = (score, dim, str(value), cur_bad, base, cur_total)
        if best is None or not corr.baseline_days:
            continue
        score, dim, value, bad, base, total = best
        kind = _kind_for(anchor, outcome)
        info = _decode(ctx, outcome[1])
        label = info.label if info else (outcome[1] or outcome[0])
        since = min(t.created_at for t in bad)
        h = Hypothesis(
            kind=kind,
            systemic=True,
            title=f"{label} concentrated in {dim} {value}",
            summary=(
                f"{len(bad)} {anchor.kind.value}s {outcome[0]}"
                + (f" with {outcome[1]}" if outcome[1] else "")
                + f" in {dim} {value} since {_fmt(since)} ({len(bad)}/{total} of that segment; "
                f"baseline {base:.1f} in the same window on earlier days)"
            ),
            confidence=min(0.95, 0.55 + 0.1 * math.log2(1 + score * 4)),
            route=info.route.value if info else "payments_ops",
            party=", ".join(p.value for p in info.fixable_by) if info else None,
            since=since,
            segment={dim: value},
            scope=Scope.of(bad),
        )
        if info:
            h.evidence.append(
                Evidence(EvidenceKind.CODE, f"{info.label}: {info.meaning} Action: {info.action}")
            )
        h.evidence.append(
            Evidence(
                EvidenceKind.COUNT, f"{len(bad)} of {total} {dim}={value} {outcome[0]}; baseline {base:.1f}"
            )
        )
        h.evidence += [
            Evidence(
                EvidenceKind.TRANSACTION,
                f"{t.external_id} {t.amount} {outcome[0]}",
                t.created_at,
                t.external_id,
            )
            for t in bad[:5]
        ]
        _release_evidence(ctx, h, [(dim == "integration" and value) or "", anchor.processor or ""])
        out.append(h)
    return out


def _entities(events: Sequence[LogEvent]) -> tuple[str, set[str]]:
    """The entity a spike spreads over: merchants (column) or the id-valued key with most values."""
    merchants = {e.merchant_id for e in events if e.merchant_id}
    per_key: dict[str, set[str]] = {}
    for e in events:
        for k, v in _KV.findall(e.message):
            if _IDLIKE.match(v):
                per_key.setdefault(k, set()).add(v)
    if per_key:
        key, values = max(per_key.items(), key=lambda kv: len(kv[1]))
        if len(values) > len(merchants):
            return key, values
    return "merchant", merchants


def _concentrated(events: Sequence[LogEvent]) -> dict[str, str]:
    """``key=value`` pairs shared by ≥ 80 % of the spike's lines (the segment), ids excluded."""
    counts: Counter[tuple[str, str]] = Counter()
    for e in events:
        counts.update({(k, v) for k, v in _KV.findall(e.message) if not _IDLIKE.match(v)})
    n = len(events)
    return {k: v for (k, v), c in counts.most_common(12) if n >= 3 and c >= 0.8 * n and not v.isdigit()}


def _outside(rate: TemplateRate, anchor_ids: set[str]) -> bool:
    """True when the case's own lines sit outside the spike's segment (a lone rc=51 during a burst of
    rc=91 on one BIN): for a categorical key of the spike (top value ≥ 50 %), the case's value is rare."""
    values: dict[str, Counter[str]] = {}
    for e in rate.samples:
        for k, v in _KV.findall(e.message):
            values.setdefault(k, Counter())[v] += 1
    mine = [
        e for e in rate.samples if e.transaction_id in anchor_ids or any(a in e.message for a in anchor_ids)
    ]
    for e in mine or rate.own:
        for k, v in _KV.findall(e.message):
            c = values.get(k)
            if not c:
                continue
            n = sum(c.values())
            if c.most_common(1)[0][1] >= 0.5 * n and c[v] < 0.1 * n:
                return True
    return False


def template_spike(ctx: DetectorContext) -> list[Hypothesis]:
    cfg, corr = ctx.config, ctx.corr
    out: list[Hypothesis] = []
    anchor_ids = {t.external_id for t in corr.transactions}
    for rate in corr.templates:
        new_warning = rate.baseline == 0 and rate.current >= 2  # never seen on any baseline day
        new_error_after_release = (
            rate.baseline == 0
            and rate.level in ("error", "critical")
            and rate.first_seen is not None
            and bool(_releases(ctx, rate.first_seen, [rate.service or "", rate.template]))
        )
        if not (new_warning or new_error_after_release) and (
            rate.current < cfg.min_count or rate.ratio < cfg.min_ratio
        ):
            continue
        if rate.baseline_days == 0 or _outside(rate, anchor_ids):
            continue  # nothing to compare with, or the case is not part of the burst
        key, ents = _entities(rate.samples)
        platform_level = not ents and not any(
            _IDLIKE.match(v) for e in rate.samples for _, v in _KV.findall(e.message)
        )
        if len(ents) < cfg.min_entities and not platform_level and not new_error_after_release:
            continue
        kind = template_family(rate.service, rate.http_status, rate.template)
        mentions_anchor = any(
            e.transaction_id in anchor_ids or any(a in e.message for a in anchor_ids)
            for e in rate.samples[:200]
        )
        failing = [t for t in corr.transactions if _outcome(t, corr.clues.as_of)[0] in ("declined", "failed")]
        if failing and not mentions_anchor:
            continue  # the case's own failure is explained by its own lines, not by a neighbour's burst
        if mentions_anchor and kind is HypothesisKind.ERROR_SPIKE:
            anchor = corr.transactions[0]
            outcome = _outcome(anchor, corr.clues.as_of)
            if outcome[0] in ("declined", "failed", "pending"):
                kind = _kind_for(anchor, outcome)
        segment = _concentrated(rate.samples)
        h = Hypothesis(
            kind=kind,
            systemic=True,
            title=f"{rate.service or 'logs'}: {rate.template[:90]}"
            + (f" (HTTP {rate.http_status})" if rate.http_status else ""),
            summary=(
                f"{rate.current} × '{rate.template[:80]}' ({rate.level}) since {_fmt(rate.first_seen)} "
                f"from {len(ents)} {key}s, vs {rate.baseline:.1f} in the same window on "
                f"{rate.baseline_days} earlier days"
            ),
            confidence=min(0.93, 0.5 + 0.08 * math.log2(rate.ratio) + 0.02 * min(len(ents), 5)),
            component=rate.service,
            since=rate.first_seen,
            segment=segment,
        )
        for m in ctx.codes.find_in_text(rate.samples[0].message)[:2]:
            h.evidence.append(Evidence(EvidenceKind.CODE, f"{m.info.label}: {m.info.meaning}"))
            h.route = h.route or m.info.route.value
        h.evidence.append(
            Evidence(
                EvidenceKind.COUNT,
                f"template E{rate.template_id.lstrip('E')}: {rate.current} now, "
                f"baseline {rate.baseline:.1f}/day-window, "
                f"ratio {rate.ratio:.1f}; {len(ents)} distinct {key}s",
            )
        )
        h.evidence += [
            Evidence(EvidenceKind.LOG, e.message.split("\n")[0][:240], e.timestamp, e.fingerprint)
            for e in rate.samples[:3]
        ]
        merchants = {e.merchant_id for e in rate.samples if e.merchant_id}
        integ = _integrations(ctx, sorted(merchants)[:15])
        if integ:
            top, n = integ.most_common(1)[0]
            if n >= 2 and n >= 0.8 * sum(integ.values()):
                h.segment["integration"] = top
                h.evidence.append(
                    Evidence(EvidenceKind.COUNT, f"{n} of {sum(integ.values())} merchants run {top}")
                )
        h.scope = Scope(merchants=len(merchants) or (len(ents) if key in ("org", "merchant") else 0))
        if key in ("account", "customer", "user"):
            h.scope.customers = len(ents)
        _release_evidence(ctx, h, [rate.service or "", rate.template, h.segment.get("integration", "")])
        out.append(h)
    return out


def _integrations(ctx: DetectorContext, merchants: Sequence[str]) -> Counter[str]:
    out: Counter[str] = Counter()
    for m in merchants:
        txns = ctx.source.transactions(
            TxnQuery(merchant_id=m, end=ctx.corr.clues.as_of, start=ctx.corr.focus - timedelta(days=7)),
            limit=1,
        )
        if txns and txns[0].attributes.get("integration"):
            out[str(txns[0].attributes["integration"])] += 1
    return out


def _minor_factor(currency: str) -> float | None:
    """How far off an amount is when a system assumes two decimals for this currency."""
    try:
        exp = currency_exponent(currency)
    except Exception:
        return None
    return None if exp == 2 else float(10 ** (2 - exp))


def _off_by(child: Transaction, parent: Transaction) -> float | None:
    factor = _minor_factor(child.amount.currency)
    if factor is None or parent.amount.minor_units <= 0 or child.amount.currency != parent.amount.currency:
        return None
    ratio = child.amount.minor_units / parent.amount.minor_units
    for f in (factor, 1 / factor):
        if abs(ratio / f - 1) < 0.02:
            return f
    return None


def amount_anomaly(ctx: DetectorContext) -> list[Hypothesis]:
    corr = ctx.corr
    everything = {t.external_id: t for t in corr.transactions + corr.related}
    missing = tuple(
        {t.parent_id for t in everything.values() if t.parent_id and t.parent_id not in everything}
    )
    if missing:
        everything.update(
            {p.external_id: p for p in ctx.source.transactions(TxnQuery(ids=missing), limit=50)}
        )
    pairs = [
        (c, everything[c.parent_id])
        for c in everything.values()
        if c.parent_id in everything and _off_by(c, everything[c.parent_id]) is not None
    ]
    if not pairs:
        return []
    child, parent = pairs[0]
    factor = _off_by(child, parent)
    cur = child.amount.currency
    peers = ctx.source.transactions(
        TxnQuery(
            kind=child.kind.value,
            currency=cur,
            start=child.created_at - timedelta(hours=12),
            end=corr.clues.as_of,
        ),
        limit=ctx.config.txn_limit,
    )
    parents = {
        p.external_id: p
        for p in ctx.source.transactions(
            TxnQuery(ids=tuple(t.parent_id for t in peers if t.parent_id)), limit=ctx.config.txn_limit
        )
    }
    bad = [t for t in peers if t.parent_id in parents and _off_by(t, parents[t.parent_id]) == factor]
    systemic = len(bad) >= ctx.config.min_count and len({t.merchant_id for t in bad}) >= 2
    since = min((t.created_at for t in bad), default=child.created_at)
    direction = "larger" if (factor or 1) > 1 else "smaller"
    h = Hypothesis(
        kind=HypothesisKind.AMOUNT_ANOMALY,
        systemic=systemic,
        title=(
            f"{child.kind.value}s in {cur} booked {max(factor or 1, 1 / (factor or 1)):.0f}× {direction} "
            "than their payment"
        ),
        summary=(
            f"{child.external_id} is {child.amount} against {parent.amount} on {parent.external_id}; "
            f"{len(bad)} {cur} {child.kind.value}s off by the same factor since {_fmt(since)} "
            f"({cur} has {currency_exponent(cur)} decimals: amounts handled as two-decimal)"
        ),
        confidence=0.9 if systemic else 0.6,
        route="engineering",
        party="us",
        since=since,
        segment={"currency": cur, "kind": child.kind.value},
        scope=Scope.of(bad or [child]),
    )
    h.evidence += [
        Evidence(
            EvidenceKind.TRANSACTION,
            f"{t.external_id} {t.amount} vs payment {parents[t.parent_id].amount}",
            t.created_at,
            t.external_id,
        )
        for t in bad[:5]
        if t.parent_id in parents
    ]
    if systemic:
        _release_evidence(ctx, h, [child.kind.value])
    return [h]


def _dupe_key(t: Transaction) -> tuple[str | None, str | None, str | None, int, str]:
    return (t.merchant_id, t.card_bin, t.card_last4, t.amount.minor_units, t.amount.currency)


def _dupe_pairs(txns: Sequence[Transaction], gap: timedelta) -> list[tuple[Transaction, Transaction]]:
    ok = {
        TransactionStatus.CAPTURED,
        TransactionStatus.AUTHORIZED,
        TransactionStatus.SUCCEEDED,
        TransactionStatus.REFUNDED,
    }
    by: dict[tuple[str | None, str | None, str | None, int, str], list[Transaction]] = {}
    for t in txns:
        if t.card_last4 and t.status in ok:
            by.setdefault(_dupe_key(t), []).append(t)
    pairs = []
    for group in by.values():
        group.sort(key=lambda t: t.created_at)
        pairs += [(a, b) for a, b in pairwise(group) if b.created_at - a.created_at <= gap]
    return pairs


def duplicates(ctx: DetectorContext) -> list[Hypothesis]:
    corr, cfg = ctx.corr, ctx.config
    mine = _dupe_pairs(corr.transactions + corr.related, timedelta(seconds=120))
    if not mine:
        return []
    first, second = mine[0]
    counts: list[int] = []
    cur_pairs: list[tuple[Transaction, Transaction]] = []
    for start, end, day in ctx.windows(timedelta(hours=6), timedelta(hours=1))[:4]:
        txns = ctx.source.transactions(TxnQuery(kind="payment", start=start, end=end), limit=cfg.txn_limit)
        pairs = _dupe_pairs(txns, timedelta(seconds=120))
        if day == 0:
            cur_pairs = pairs
        else:
            counts.append(len(pairs))
    base = sum(counts) / len(counts) if counts else 0.0
    merchants = {a.merchant_id for a, _ in cur_pairs}
    systemic = (
        len(cur_pairs) >= cfg.min_count
        and (len(cur_pairs) + 1) / (base + 1) >= cfg.min_ratio
        and len(merchants) >= 2
    )
    integ = Counter(
        str(a.attributes.get("integration")) for a, _ in cur_pairs if a.attributes.get("integration")
    )
    gap = (second.created_at - first.created_at).total_seconds()
    h = Hypothesis(
        kind=HypothesisKind.DUPLICATE_SUBMISSION,
        systemic=systemic,
        title="duplicate payments: same card, amount and merchant seconds apart",
        summary=(
            f"{first.external_id} and {second.external_id}: {first.amount}, "
            f"card {first.card_bin}…{first.card_last4}, "
            f"{gap:.0f} s apart; {len(cur_pairs)} such pairs at {len(merchants)} merchants in the window "
            f"(baseline {base:.1f})"
        ),
        confidence=0.88 if systemic else 0.55,
        route="engineering" if systemic else "tier2",
        party="us" if systemic else "merchant",
        since=min((a.created_at for a, _ in cur_pairs), default=first.created_at),
        scope=Scope.of([b for _, b in cur_pairs] or [second]),
    )
    if integ:
        top, n = integ.most_common(1)[0]
        if n >= 0.6 * sum(integ.values()):
            h.segment["integration"] = top
            h.evidence.append(
                Evidence(EvidenceKind.COUNT, f"{n} of {sum(integ.values())} duplicate pairs from {top}")
            )
    no_key = [e for e in corr.logs if e.attributes.get("idempotency_key") is False]
    if no_key:
        h.evidence.append(
            Evidence(
                EvidenceKind.LOG,
                f"{len(no_key)} request(s) without an idempotency key: {no_key[0].message}",
                no_key[0].timestamp,
                no_key[0].fingerprint,
            )
        )
    h.evidence += [
        Evidence(
            EvidenceKind.TRANSACTION,
            f"{t.external_id} {t.amount} {t.status.value}",
            t.created_at,
            t.external_id,
        )
        for t in (first, second)
    ]
    if systemic:
        _release_evidence(ctx, h, [h.segment.get("integration", "")])
    return [h]


def individual(ctx: DetectorContext) -> list[Hypothesis]:
    """The case's own outcome, decoded: never systemic."""
    corr = ctx.corr
    out: list[Hypothesis] = []
    for t in corr.transactions[:3]:
        status, code = _outcome(t, corr.clues.as_of)
        info = _decode(ctx, code)
        if info is not None and info.code != "00":
            parties = {p.value for p in info.fixable_by}
            kind = (
                HypothesisKind.CUSTOMER_SIDE
                if parties & {"customer", "issuer"} and "us" not in parties
                else HypothesisKind.INDIVIDUAL
            )
            out.append(
                Hypothesis(
                    kind=kind,
                    systemic=False,
                    title=f"{t.external_id}: {info.label}",
                    summary=f"{info.meaning} {info.action}",
                    confidence=0.6,
                    route=info.route.value,
                    party=", ".join(sorted(parties)) or None,
                    since=t.created_at,
                    evidence=[
                        Evidence(EvidenceKind.CODE, f"{info.label}: {info.customer_message}"),
                        Evidence(
                            EvidenceKind.TRANSACTION,
                            f"{t.external_id} {t.amount} {status}",
                            t.created_at,
                            t.external_id,
                        ),
                    ],
                    scope=Scope.of([t]),
                )
            )
        else:
            last = max(t.events, key=lambda e: e.at) if t.events else None
            out.append(
                Hypothesis(
                    kind=HypothesisKind.INDIVIDUAL,
                    systemic=False,
                    title=f"{t.external_id}: {t.kind.value} {status}",
                    summary=f"{t.kind.value} {t.amount} created {_fmt(t.created_at)}, "
                    f"{status} as of {_fmt(corr.clues.as_of)}"
                    + (f" (last step {last.status.value} {_fmt(last.at)})" if last else ""),
                    confidence=0.4,
                    since=t.created_at,
                    evidence=[
                        Evidence(
                            EvidenceKind.TRANSACTION, f"{t.external_id} {status}", t.created_at, t.external_id
                        )
                    ],
                    scope=Scope.of([t]),
                )
            )
    merchant_fail = [
        e
        for e in corr.logs
        if e.http_status and e.http_status >= 500 and e.merchant_id and "url" in e.attributes
    ]
    if merchant_fail:
        e = merchant_fail[-1]
        out.append(
            Hypothesis(
                kind=HypothesisKind.MERCHANT_SIDE,
                systemic=False,
                title=f"merchant endpoint answers HTTP {e.http_status}",
                summary=f"{len(merchant_fail)} deliveries to the merchant's endpoint failed with 5xx; "
                "nothing similar elsewhere",
                confidence=0.45,
                route="tier2",
                party="merchant",
                evidence=[Evidence(EvidenceKind.LOG, e.message, e.timestamp, e.fingerprint)],
            )
        )
    if not out and not corr.logs:
        out.append(
            Hypothesis(
                kind=HypothesisKind.NO_EVIDENCE,
                systemic=False,
                title="no stored transaction or log matches the case",
                summary="Ask for a transaction id, the time and the amount.",
                confidence=0.2,
            )
        )
    return out


DETECTORS: tuple[Callable[[DetectorContext], list[Hypothesis]], ...] = (
    segment_spike,
    template_spike,
    amount_anomaly,
    duplicates,
    individual,
)
