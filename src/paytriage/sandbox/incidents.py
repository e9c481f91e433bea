"""The incident catalogue: what can break, who it hits, what it looks like in the data, who must fix it.

Each :class:`Incident` carries its affected segment; the traffic simulator asks :meth:`Incident.hits`
whether a transaction falls in it, and records what it touched so ground truth is exact.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from paytriage.domain.errors import InputError
from paytriage.sandbox.catalog import INTEGRATIONS, ISSUERS, PARTNER_BANKS
from paytriage.sandbox.world import World

__all__ = ["KINDS", "Incident", "IncidentKind", "parse_spec", "release_component", "schedule"]


@dataclass(frozen=True, slots=True)
class IncidentKind:
    """One kind of incident and its ground-truth labels."""

    name: str
    category: str
    situation: str
    route: str
    priority: str
    component: str
    hours: tuple[float, float]
    ticket_weight: float
    description: str


KINDS: dict[str, IncidentKind] = {
    k.name: k
    for k in (
        IncidentKind(
            "issuer_outage",
            "card_payment_declined",
            "decline",
            "payments_ops",
            "P2",
            "issuer-connectivity",
            (1.0, 5.0),
            1.3,
            "One issuer's authorization host is down: its BIN range answers 91/96.",
        ),
        IncidentKind(
            "acs_timeout",
            "card_payment_declined",
            "threeds",
            "payments_ops",
            "P2",
            "3ds-server",
            (2.0, 8.0),
            1.0,
            "3-D Secure ACS challenges for cards of one country time out.",
        ),
        IncidentKind(
            "webhook_signature",
            "api_integration",
            "webhooks",
            "engineering",
            "P2",
            "webhook-dispatcher",
            (24.0, 72.0),
            1.0,
            "A release changes the webhook signature header; a plugin's older "
            "versions reject every event, so orders stay pending.",
        ),
        IncidentKind(
            "payout_delay",
            "payout_withdrawal",
            "payout",
            "payments_ops",
            "P2",
            "payouts",
            (24.0, 96.0),
            1.0,
            "Payouts through one partner bank are acknowledged but not settled.",
        ),
        IncidentKind(
            "jpy_refund_minor_units",
            "refund",
            "refund",
            "engineering",
            "P1",
            "refund-service",
            (8.0, 48.0),
            0.8,
            "After a release, JPY refunds are scaled by 100 (zero-decimal currency treated as two-decimal).",
        ),
        IncidentKind(
            "saml_cert_expired",
            "login_and_access",
            "login",
            "engineering",
            "P2",
            "identity",
            (3.0, 12.0),
            0.6,
            "The SAML signing certificate expired; enterprise SSO logins fail.",
        ),
        IncidentKind(
            "api_rate_limit",
            "api_integration",
            "api_error",
            "engineering",
            "P2",
            "api-gateway",
            (2.0, 10.0),
            0.9,
            "A gateway config release sets one plan's rate limit far too low: 429s.",
        ),
        IncidentKind(
            "duplicate_charge_retry",
            "incorrect_or_duplicate_charge",
            "double_charge",
            "engineering",
            "P2",
            "ios-sdk",
            (24.0, 96.0),
            1.0,
            "An SDK version retries timed-out payment calls without an "
            "idempotency key, so some customers are charged twice.",
        ),
        IncidentKind(
            "kyc_upload_filetype",
            "account_verification_restriction",
            "kyc",
            "engineering",
            "P3",
            "kyc-service",
            (24.0, 72.0),
            0.8,
            "KYC document uploads of one file type fail after a release.",
        ),
        IncidentKind(
            "topup_pending",
            "payment_pending",
            "pending",
            "payments_ops",
            "P2",
            "bank-transfer-connector",
            (4.0, 24.0),
            0.7,
            "Bank-transfer top-ups through one partner bank stay pending.",
        ),
    )
}


@dataclass(slots=True)
class Incident:
    """One scheduled incident with its segment and the ground truth gathered while simulating."""

    id: str
    kind: IncidentKind
    start: float
    end: float
    segment: dict[str, Any]
    root_cause: str
    release: tuple[str, str] | None = None
    n_tickets: int = 0
    ticket_ids: list[str] = field(default_factory=list)
    merchants: set[str] = field(default_factory=set)
    transactions: list[str] = field(default_factory=list)
    money: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def active(self, t: float) -> bool:
        return self.start <= t < self.end

    def record(self, tx: dict[str, Any], minor: int) -> None:
        """Note a transaction the incident touched."""
        self.transactions.append(tx["id"])
        if tx.get("merchant_id"):
            self.merchants.add(tx["merchant_id"])
        self.money[tx["currency"]] += minor


def parse_spec(spec: str | None, days: int) -> dict[str, int]:
    """``"issuer_outage=2,acs_timeout"``, ``"all"`` (default, one of each per 30 days) or ``"none"``."""
    per = max(1, round(days / 30))
    if spec is None or spec.strip() in ("", "all", "default"):
        return {k: per for k in KINDS}
    if spec.strip() == "none":
        return {}
    counts: dict[str, int] = {}
    for part in spec.split(","):
        name, _, n = part.strip().partition("=")
        if name not in KINDS:
            raise InputError(f"unknown incident kind {name!r}; known: {', '.join(KINDS)}", field="incidents")
        try:
            counts[name] = int(n) if n else per
        except ValueError:
            raise InputError(f"incident count must be an integer, got {n!r}", field="incidents") from None
        if counts[name] < 0:
            raise InputError("incident count must not be negative", field="incidents")
    return counts


def _segment(kind: str, rng: random.Random, world: World) -> tuple[dict[str, Any], str]:
    """Pick the affected segment and write the root cause an engineer would eventually find."""
    if kind == "issuer_outage":
        issuers = [i for i in ISSUERS if any(c.issuer is i for c in world.customers[:2000])]
        iss = rng.choice(issuers or list(ISSUERS))
        return (
            {"issuer": iss.name, "bins": list(iss.bins), "country": iss.country},
            f"Authorization host of {iss.name} unreachable from the scheme; issuer returns 91/96.",
        )
    if kind == "acs_timeout":
        country = rng.choice(("FR", "DE", "ES", "IT", "GB", "NL"))
        return (
            {"card_country": country},
            f"ACS provider used by {country} issuers responds after the 10 s 3DS timeout.",
        )
    if kind == "webhook_signature":
        integ = rng.choice([x for x in INTEGRATIONS if x[0] == "plugin" and len(x[2]) >= 3])
        cutoff = integ[2][len(integ[2]) // 2]
        return (
            {"integration": integ[1], "versions_below": cutoff},
            f"webhook-dispatcher release switched to v2 signatures; {integ[1]} plugins older than "
            f"{cutoff} only verify v1 and reject every event.",
        )
    if kind == "payout_delay":
        bank = rng.choice(PARTNER_BANKS)
        return (
            {"partner_bank": bank.name, "currency": bank.currency},
            f"{bank.name} acknowledges payout files but its settlement run is stuck; payouts not booked.",
        )
    if kind == "jpy_refund_minor_units":
        factor = rng.choice((100, -100))
        how = "100x too large" if factor > 0 else "100x too small"
        return (
            {"currency": "JPY", "factor": factor},
            f"refund-service treats JPY amounts as two-decimal: refunds are {how}.",
        )
    if kind == "saml_cert_expired":
        return (
            {"merchant_tier": "enterprise", "sso": "saml"},
            "SAML signing certificate of the dashboard service provider expired; IdP assertions rejected.",
        )
    if kind == "api_rate_limit":
        plan = rng.choice(("growth", "standard"))
        return (
            {"plan": plan, "limit_rps": 5},
            f"api-gateway config release set the '{plan}' plan limit to 5 req/s instead of 100.",
        )
    if kind == "duplicate_charge_retry":
        sdk = rng.choice(("ios-sdk", "android-sdk"))
        version = next(x[2][-1] for x in INTEGRATIONS if x[1] == sdk)
        return (
            {"integration": sdk, "version": version},
            f"{sdk} {version} retries timed-out POST /v1/payments without an Idempotency-Key header.",
        )
    if kind == "kyc_upload_filetype":
        ftype = rng.choice(("HEIC", "PDF"))
        return (
            {"file_type": ftype},
            f"kyc-service release dropped {ftype} from the accepted MIME types; uploads fail with 415.",
        )
    if kind == "topup_pending":
        bank = rng.choice([b for b in PARTNER_BANKS if b.currency in ("EUR", "GBP")])
        return (
            {"partner_bank": bank.name, "currency": bank.currency},
            f"Incoming-payment notifications from {bank.name} delayed; top-ups not matched.",
        )
    raise AssertionError(kind)


_RELEASE_KINDS = {
    "webhook_signature": "webhook-dispatcher",
    "jpy_refund_minor_units": "refund-service",
    "api_rate_limit": "api-gateway",
    "duplicate_charge_retry": "sdk",
    "kyc_upload_filetype": "kyc-service",
}


def schedule(
    counts: dict[str, int], rng: random.Random, world: World, start: float, hours: int, incident_tickets: int
) -> list[Incident]:
    """Place incidents in the horizon (never in the first or last day) and share the incident tickets."""
    out: list[Incident] = []
    names = [n for n in KINDS for _ in range(counts.get(n, 0))]
    rng.shuffle(names)
    lo = 24.0 if hours > 72 else hours * 0.1
    hi = hours - 24.0 if hours > 72 else hours * 0.8
    for k, name in enumerate(names, start=1):
        kind = KINDS[name]
        dur = rng.uniform(*kind.hours)
        begin = start + rng.uniform(lo, max(lo, hi - min(dur, hi - lo) * 0.5)) * 3600.0
        end = min(begin + dur * 3600.0, start + hours * 3600.0)
        segment, cause = _segment(name, rng, world)
        inc = Incident(
            id=f"INC-{k:03d}",
            kind=kind,
            start=round(begin),
            end=round(end),
            segment=segment,
            root_cause=cause,
        )
        out.append(inc)
    weights = [i.kind.ticket_weight * rng.uniform(0.6, 1.4) for i in out]
    total = sum(weights) or 1.0
    for inc, w in zip(out, weights, strict=True):
        inc.n_tickets = max(2, round(incident_tickets * w / total)) if incident_tickets else 0
    out.sort(key=lambda i: i.start)
    for k, inc in enumerate(out, start=1):
        inc.id = f"INC-{k:03d}"
    return out


def release_component(kind: str) -> str | None:
    """Component whose release triggers this kind (None: no release involved)."""
    return _RELEASE_KINDS.get(kind)
