"""Anomaly detectors: amounts off by the currency's exponent, and duplicate submissions (same card,
amount and merchant seconds apart), each checked platform-wide before it is called systemic."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from itertools import pairwise

from paytriage.domain import Transaction, TransactionStatus
from paytriage.domain.money import currency_exponent
from paytriage.engines.investigate.detectors import (
    DetectorContext,
    add_release_evidence,
    fmt_time,
)
from paytriage.engines.investigate.evidence import TxnQuery
from paytriage.engines.investigate.hypotheses import (
    Evidence,
    EvidenceKind,
    Hypothesis,
    HypothesisKind,
    Scope,
)

__all__ = ["amount_anomaly", "duplicates"]


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
        events=False,
    )
    parents = {
        p.external_id: p
        for p in ctx.source.transactions(
            TxnQuery(ids=tuple(t.parent_id for t in peers if t.parent_id)),
            limit=ctx.config.txn_limit,
            events=False,
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
            f"{len(bad)} {cur} {child.kind.value}s off by the same factor since {fmt_time(since)} "
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
        add_release_evidence(ctx, h, [child.kind.value])
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
        q = TxnQuery(kind="payment", start=start, end=end)
        txns = ctx.source.transactions(q, limit=cfg.txn_limit, events=False)
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
        add_release_evidence(ctx, h, [h.segment.get("integration", "")])
    return [h]
