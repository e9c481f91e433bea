"""Detectors: shared context, thresholds and helpers, and the non-systemic :func:`individual` detector.

Each detector compares the case's slice of data with the same slice elsewhere — the same segment on
earlier days, other merchants, the parent payment — never with words of the ticket. Thresholds are
parameters of :class:`DetectorConfig`. The systemic detectors live in :mod:`.spikes`
(segment and template spikes) and :mod:`.anomalies` (amounts off by the currency exponent,
duplicate submissions); :data:`paytriage.engines.investigate.investigator.DETECTORS` lists them all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from paytriage.domain import Release, Transaction, TransactionStatus
from paytriage.engines.investigate.codes import CodeBook, CodeInfo
from paytriage.engines.investigate.correlation import Correlation, status_as_of
from paytriage.engines.investigate.evidence import EvidenceSource
from paytriage.engines.investigate.hypotheses import (
    Evidence,
    EvidenceKind,
    Hypothesis,
    HypothesisKind,
    Scope,
)

__all__ = [
    "ATTR_DIMS",
    "DIMS",
    "IDLIKE",
    "KV",
    "DetectorConfig",
    "DetectorContext",
    "add_release_evidence",
    "decode",
    "dim_value",
    "fmt_time",
    "individual",
    "kind_for",
    "outcome_of",
    "related_releases",
]

KV = re.compile(r"\b([a-z_]{2,20})=([^\s,;\"']+)")
IDLIKE = re.compile(r"^[a-z]{1,5}_[A-Za-z0-9]{5,}$")
_AUTH_STEP = re.compile(r"(?i)3ds|authenticat|challenge")
DIMS = ("card_bin", "country", "currency", "processor", "merchant_id")
ATTR_DIMS = ("partner_bank", "integration", "method", "issuer", "bank")


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    min_count: int = 4  # events in the current window before anything is a spike
    min_ratio: float = 3.0  # current / baseline (both +1)
    min_share: float = 0.25  # share of the segment's traffic with the outcome
    min_entities: int = 2  # merchants/accounts sharing a log spike
    min_baseline_days: int = 3  # earlier days with data before any rate is compared
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


def fmt_time(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M") if t else "?"


def outcome_of(t: Transaction, at: datetime) -> tuple[str, str | None]:
    status = status_as_of(t, at)
    if status is TransactionStatus.DECLINED:
        return status.value, t.response_code or t.decline_reason
    if status is TransactionStatus.FAILED:
        return status.value, t.decline_reason or t.response_code
    return status.value, None


def dim_value(t: Transaction, name: str) -> str | None:
    if name == "currency":
        return t.amount.currency
    v = getattr(t, name) if name in DIMS else t.attributes.get(name)
    return None if v in (None, "") else str(v)


def decode(ctx: DetectorContext, code: str | None) -> CodeInfo | None:
    if not code:
        return None
    info = ctx.codes.get(code, "iso8583") or ctx.codes.get(code)
    return info


_WORD = re.compile(r"[a-z0-9]+")
#: Words too common in component names to relate two of them.
_GENERIC = frozenset({"service", "api", "server", "connector", "sdk", "app", "core", "web", "worker", "main"})


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in _GENERIC and not w.isdigit()}


def related_releases(ctx: DetectorContext, onset: datetime, hints: Sequence[str]) -> list[Release]:
    """Releases before the onset whose component shares a word with the hints (services, integrations)."""
    found = ctx.source.releases(onset - ctx.config.release_lookback, onset + timedelta(minutes=5))
    keys: set[str] = set()
    for h in hints:
        if h:
            keys |= _words(h.split("/")[0])
    return [r for r in found if _words(r.component) & keys]


def add_release_evidence(ctx: DetectorContext, h: Hypothesis, hints: Sequence[str]) -> None:
    if h.since is None:
        return
    rels = related_releases(ctx, h.since, hints)
    if rels:
        r = rels[-1]
        h.component = r.component
        h.route, h.party = "engineering", "us"
        h.confidence = min(0.97, h.confidence + 0.1)
        h.evidence.append(
            Evidence(
                EvidenceKind.RELEASE,
                f"release {r.component} {r.version} at {fmt_time(r.released_at)}, before the onset"
                + (f" ({r.notes})" if r.notes else ""),
                r.released_at,
                f"{r.component}@{r.version}",
            )
        )
        h.summary += f"; follows release {r.component} {r.version}"
    else:
        h.summary += "; no related release in the prior hours"


def kind_for(t: Transaction, outcome: tuple[str, str | None]) -> HypothesisKind:
    status, code = outcome
    if status == "pending":
        return HypothesisKind.PAYOUT_DELAY if t.kind.value == "payout" else HypothesisKind.PENDING_SPIKE
    steps = " ".join(f"{e.code or ''} {e.detail or ''}" for e in t.events) + f" {code or ''}"
    if _AUTH_STEP.search(steps) and status == "failed":
        return HypothesisKind.AUTHENTICATION_SPIKE
    return HypothesisKind.DECLINE_SPIKE


def individual(ctx: DetectorContext) -> list[Hypothesis]:
    """The case's own outcome, decoded: never systemic."""
    corr = ctx.corr
    out: list[Hypothesis] = []
    for t in corr.transactions[:3]:
        status, code = outcome_of(t, corr.clues.as_of)
        info = decode(ctx, code)
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
                    summary=f"{t.kind.value} {t.amount} created {fmt_time(t.created_at)}, "
                    f"{status} as of {fmt_time(corr.clues.as_of)}"
                    + (f" (last step {last.status.value} {fmt_time(last.at)})" if last else ""),
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
