"""Spike detectors: an outcome concentrated in one segment of transactions, or an error log template
well above its baseline across many merchants or accounts (its family from a rule table)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from paytriage.domain import LogEvent, Transaction
from paytriage.engines.investigate.clues import ID_PATTERN
from paytriage.engines.investigate.correlation import TemplateRate
from paytriage.engines.investigate.detectors import (
    ATTR_DIMS,
    DIMS,
    IDLIKE,
    KV,
    DetectorConfig,
    DetectorContext,
    add_release_evidence,
    decode,
    dim_value,
    fmt_time,
    kind_for,
    outcome_of,
    related_releases,
)
from paytriage.engines.investigate.evidence import TxnQuery
from paytriage.engines.investigate.hypotheses import (
    Evidence,
    EvidenceKind,
    Hypothesis,
    HypothesisKind,
    Scope,
    template_family,
)

__all__ = ["could_spike", "segment_spike", "template_spike"]


def segment_spike(ctx: DetectorContext) -> list[Hypothesis]:
    cfg, corr = ctx.config, ctx.corr
    out: list[Hypothesis] = []
    for anchor in corr.transactions[:3]:
        outcome = outcome_of(anchor, corr.clues.as_of)
        if outcome[0] not in ("declined", "failed", "pending"):
            continue
        windows = ctx.windows(timedelta(hours=3), timedelta(hours=1))
        fetched: list[tuple[int, datetime, list[Transaction]]] = []
        lifecycle = outcome[0] == "pending"  # declines and failures are final within seconds
        for start, end, day in windows:
            q = TxnQuery(start=start, end=end, kind=anchor.kind.value)
            txns = ctx.source.transactions(q, limit=cfg.txn_limit, events=lifecycle)
            fetched.append((day, corr.clues.as_of - timedelta(days=day), txns))
        best: tuple[float, str, str, list[Transaction], float, int] | None = None
        dims = [d for d in (*DIMS, *ATTR_DIMS) if dim_value(anchor, d) is not None]
        for dim in dims:
            value = dim_value(anchor, dim)
            cur_bad: list[Transaction] = []
            cur_total = 0
            base_bad: list[int] = []
            for day, at, txns in fetched:
                seg = [t for t in txns if dim_value(t, dim) == value]
                bad = [t for t in seg if outcome_of(t, at) == outcome]
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
        if best is None or len(corr.baseline_days) < cfg.min_baseline_days:
            continue
        score, dim, value, bad, base, total = best
        kind = kind_for(anchor, outcome)
        info = decode(ctx, outcome[1])
        label = info.label if info else (outcome[1] or outcome[0])
        since = min(t.created_at for t in bad)
        h = Hypothesis(
            kind=kind,
            systemic=True,
            title=f"{label} concentrated in {dim} {value}",
            summary=(
                f"{len(bad)} {anchor.kind.value}s {outcome[0]}"
                + (f" with {outcome[1]}" if outcome[1] else "")
                + f" in {dim} {value} since {fmt_time(since)} ({len(bad)}/{total} of that segment; "
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
        add_release_evidence(ctx, h, [(dim == "integration" and value) or "", anchor.processor or ""])
        out.append(h)
    return out


def _entities(events: Sequence[LogEvent]) -> tuple[str, set[str]]:
    """The entity a spike spreads over: merchants (column) or the id-valued key with most values."""
    merchants = {e.merchant_id for e in events if e.merchant_id}
    per_key: dict[str, set[str]] = {}
    for e in events:
        for k, v in KV.findall(e.message):
            if IDLIKE.match(v):
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
        counts.update({(k, v) for k, v in KV.findall(e.message) if not IDLIKE.match(v)})
    n = len(events)
    return {k: v for (k, v), c in counts.most_common(12) if n >= 3 and c >= 0.8 * n and not v.isdigit()}


def _outside(rate: TemplateRate, anchor_ids: set[str]) -> bool:
    """True when the case's own lines sit outside the spike's segment (a lone rc=51 during a burst of
    rc=91 on one BIN): for a categorical key of the spike (top value ≥ 50 %), the case's value is rare."""
    values: dict[str, Counter[str]] = {}
    for e in rate.samples:
        for k, v in KV.findall(e.message):
            values.setdefault(k, Counter())[v] += 1
    mine = [
        e for e in rate.samples if e.transaction_id in anchor_ids or any(a in e.message for a in anchor_ids)
    ]
    for e in mine or rate.own:
        for k, v in KV.findall(e.message):
            c = values.get(k)
            if not c:
                continue
            n = sum(c.values())
            if c.most_common(1)[0][1] >= 0.5 * n and c[v] < 0.1 * n:
                return True
    return False


def could_spike(rate: TemplateRate, cfg: DetectorConfig) -> bool:
    """Whether :func:`template_spike` could report ``rate`` from its counts alone (enough history, and
    either never seen before or above both floors): only then are its rows worth reading."""
    if rate.baseline_days < cfg.min_baseline_days:
        return False
    return rate.baseline == 0 or (rate.current >= cfg.min_count and rate.ratio >= cfg.min_ratio)


def template_spike(ctx: DetectorContext) -> list[Hypothesis]:
    cfg, corr = ctx.config, ctx.corr
    out: list[Hypothesis] = []
    anchor_ids = {t.external_id for t in corr.transactions}
    for rate in corr.templates:
        if rate.baseline_days < cfg.min_baseline_days or _outside(rate, anchor_ids):
            continue  # too little history to compare with, or the case is not part of the burst
        never_seen = rate.baseline == 0
        releases = (
            related_releases(ctx, rate.first_seen, [rate.service or "", rate.template])
            if (never_seen and rate.first_seen is not None)
            else []
        )
        recent = [
            r for r in releases if rate.first_seen and rate.first_seen - r.released_at <= timedelta(hours=1)
        ]
        after_release = bool(releases) and (
            rate.current >= 2 or (rate.level in ("error", "critical") and bool(recent))
        )
        new_warning = never_seen and rate.current >= 3
        if not (new_warning or after_release) and (
            rate.current < cfg.min_count or rate.ratio < cfg.min_ratio
        ):
            continue
        key, ents = _entities(rate.samples)
        platform_level = not ents and not any(ID_PATTERN.search(e.message) for e in rate.samples)
        if len(ents) < cfg.min_entities and not platform_level and not after_release:
            continue
        kind = template_family(rate.service, rate.http_status, rate.template)
        mentions_anchor = any(
            e.transaction_id in anchor_ids or any(a in e.message for a in anchor_ids)
            for e in rate.samples[:200]
        )
        failing = [
            t for t in corr.transactions if outcome_of(t, corr.clues.as_of)[0] in ("declined", "failed")
        ]
        if failing and not mentions_anchor:
            continue  # the case's own failure is explained by its own lines, not by a neighbour's burst
        if mentions_anchor and kind is HypothesisKind.ERROR_SPIKE:
            anchor = corr.transactions[0]
            outcome = outcome_of(anchor, corr.clues.as_of)
            if outcome[0] in ("declined", "failed", "pending"):
                kind = kind_for(anchor, outcome)
        segment = _concentrated(rate.samples)
        h = Hypothesis(
            kind=kind,
            systemic=True,
            title=f"{rate.service or 'logs'}: {rate.template[:90]}"
            + (f" (HTTP {rate.http_status})" if rate.http_status else ""),
            summary=(
                f"{rate.current} × '{rate.template[:80]}' ({rate.level}) since {fmt_time(rate.first_seen)} "
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
        add_release_evidence(ctx, h, [rate.service or "", rate.template, h.segment.get("integration", "")])
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
