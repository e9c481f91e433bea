"""Root-cause hypotheses: what a finding claims, the evidence it cites, how sure it is, and its scope.

A hypothesis is *systemic* when the case shares its cause with other customers or merchants (a
spike, a release, a partner outage); otherwise it explains the case on its own (a customer-side
decline, a merchant endpoint failing, one transaction's state). Kinds are an enum; which kinds
correspond to which incident families is stated in ``docs/investigation.md`` and ``bench/investigate.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from paytriage.domain import Transaction

__all__ = [
    "TEMPLATE_FAMILIES",
    "Evidence",
    "EvidenceKind",
    "Hypothesis",
    "HypothesisKind",
    "Scope",
    "rank",
    "template_family",
]

#: Version of the detector rules; every investigation carries it.
RULES_VERSION = "2026-11-23"


class HypothesisKind(StrEnum):
    DECLINE_SPIKE = "decline_spike"  # one response code concentrated in a BIN / country / issuer
    AUTHENTICATION_SPIKE = "authentication_spike"  # 3-D Secure failures concentrated in a segment
    PENDING_SPIKE = "pending_spike"  # transactions stuck pending through one partner or method
    PAYOUT_DELAY = "payout_delay"  # payouts not settled through one partner bank
    WEBHOOK_FAILURES = "webhook_failures"  # deliveries rejected across merchants of one integration
    AMOUNT_ANOMALY = "amount_anomaly"  # amounts off by the currency's exponent
    AUTH_ERRORS = "auth_errors"  # SSO / OAuth sign-in errors across organisations
    RATE_LIMITING = "rate_limiting"  # 429s across merchants
    DUPLICATE_SUBMISSION = "duplicate_submission"  # same card, amount, merchant seconds apart
    UPLOAD_FAILURES = "upload_failures"  # uploads of one file type failing
    ERROR_SPIKE = "error_spike"  # any other error template well above its baseline
    CUSTOMER_SIDE = "customer_side"  # the code says the customer or their issuer must act
    MERCHANT_SIDE = "merchant_side"  # the merchant's own system fails
    INDIVIDUAL = "individual"  # one transaction's own state explains the ticket
    NO_EVIDENCE = "no_evidence"  # nothing stored matches the case


class EvidenceKind(StrEnum):
    COUNT = "count"
    LOG = "log"
    CODE = "code"
    RELEASE = "release"
    TRANSACTION = "transaction"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One cited fact; ``ref`` points at the stored record (transaction, log fingerprint, release)."""

    kind: EvidenceKind
    text: str
    at: datetime | None = None
    ref: str | None = None


@dataclass(slots=True)
class Scope:
    """Who and how much share the cause (counted over what was fetched, so a lower bound)."""

    customers: int = 0
    merchants: int = 0
    transactions: int = 0
    money_minor_by_currency: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, txns: list[Transaction], *, merchants: set[str] | None = None) -> Scope:
        money: dict[str, int] = {}
        for t in txns:
            money[t.amount.currency] = money.get(t.amount.currency, 0) + t.amount.minor_units
        ms = {t.merchant_id for t in txns if t.merchant_id} | (merchants or set())
        return cls(
            customers=len({t.customer_id for t in txns if t.customer_id}),
            merchants=len(ms),
            transactions=len(txns),
            money_minor_by_currency=dict(sorted(money.items())),
        )


@dataclass(slots=True)
class Hypothesis:
    kind: HypothesisKind
    systemic: bool
    title: str
    summary: str
    confidence: float
    route: str | None = None
    party: str | None = None
    component: str | None = None
    since: datetime | None = None
    segment: dict[str, str] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    scope: Scope = field(default_factory=Scope)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "systemic": self.systemic,
            "title": self.title,
            "summary": self.summary,
            "confidence": round(self.confidence, 3),
            "route": self.route,
            "party": self.party,
            "component": self.component,
            "since": self.since.isoformat() if self.since else None,
            "segment": self.segment,
            "evidence": [
                {"kind": e.kind.value, "text": e.text, "at": e.at.isoformat() if e.at else None, "ref": e.ref}
                for e in self.evidence
            ],
            "scope": {
                "customers": self.scope.customers,
                "merchants": self.scope.merchants,
                "transactions": self.scope.transactions,
                "money_minor_by_currency": self.scope.money_minor_by_currency,
            },
        }


def rank(hypotheses: list[Hypothesis]) -> list[Hypothesis]:
    """Most confident first; one hypothesis per (kind, title).

    A generic error spike that starts within the hour of a specific systemic finding is read as its
    symptom, not a rival cause: its lines join the specific finding's evidence and it ranks below.
    """
    best: dict[tuple[HypothesisKind, str], Hypothesis] = {}
    for h in hypotheses:
        key = (h.kind, h.title)
        if key not in best or best[key].confidence < h.confidence:
            best[key] = h
    found = list(best.values())
    specific = [h for h in found if h.systemic and h.kind is not HypothesisKind.ERROR_SPIKE and h.since]
    for g in found:
        if g.kind is not HypothesisKind.ERROR_SPIKE or g.since is None:
            continue
        near = [h for h in specific if h.since and abs((h.since - g.since).total_seconds()) <= 3600]
        if near:
            top = max(near, key=lambda h: h.confidence)
            top.evidence += [e for e in g.evidence if e.kind is EvidenceKind.LOG][:2]
            g.confidence = min(g.confidence, top.confidence - 0.01)
    return sorted(found, key=lambda h: (-h.confidence, not h.systemic, h.title))


#: Families of error log templates, tried in order on ``"<service> <http status> <template>"``.
#: Named, commented regexes over generic payments-platform vocabulary (never a sandbox word).
TEMPLATE_FAMILIES: tuple[tuple[HypothesisKind, re.Pattern[str]], ...] = (
    # HTTP 429 or a rate-limit error code.
    (HypothesisKind.RATE_LIMITING, re.compile(r"(?i)\b429\b|rate[ _-]?limit|too many requests")),
    # Webhook / event delivery to merchants.
    (HypothesisKind.WEBHOOK_FAILURES, re.compile(r"(?i)webhook|event delivery|callback")),
    # Sign-in: SAML, OAuth/OIDC, SSO, identity providers.
    (
        HypothesisKind.AUTH_ERRORS,
        re.compile(r"(?i)\b(?:saml|oauth|oidc|sso|idp|login|sign[ -]?in|identity)\b"),
    ),
    # Document / file uploads (KYC), media types.
    (HypothesisKind.UPLOAD_FAILURES, re.compile(r"(?i)upload|mime|media ?type|\b415\b|file ?type")),
    # Payout settlement with partner banks.
    (HypothesisKind.PAYOUT_DELAY, re.compile(r"(?i)payout|settlement")),
    # 3-D Secure / ACS challenges.
    (HypothesisKind.AUTHENTICATION_SPIKE, re.compile(r"(?i)\b(?:3ds|acs|challenge)\b|authenticat")),
    # Incoming funds (top-ups, credit feeds) pending.
    (HypothesisKind.PENDING_SPIKE, re.compile(r"(?i)credit feed|incoming|top-?up")),
    # Issuer / scheme responses; HTTP 402 is the API convention for a declined card.
    (HypothesisKind.DECLINE_SPIKE, re.compile(r"(?i)\bissuer\b|\bscheme\b|declined|\brc=|^\S* 402\b")),
)


def template_family(service: str | None, http_status: int | None, template: str) -> HypothesisKind:
    text = f"{service or ''} {http_status or ''} {template}"
    for kind, pattern in TEMPLATE_FAMILIES:
        if pattern.search(text):
            return kind
    return HypothesisKind.ERROR_SPIKE
