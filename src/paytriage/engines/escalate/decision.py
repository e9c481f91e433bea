"""Tier 2 vs Engineering: is the case a defect, a configuration issue, a partner's fault or user error?

Tier 2 exists to protect Engineering's focus, so a case goes to Engineering only when the evidence says
*our* system misbehaves. The decision is a small ordered rule table over what the investigation found
(the top hypothesis' kind, who can fix it, release evidence) with the triage route as a weak fallback;
every outcome carries the reasons it was chosen and why each alternative was ruled out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from paytriage.engines.investigate.hypotheses import EvidenceKind, Hypothesis, HypothesisKind

__all__ = ["DECISION_VERSION", "Decision", "Owner", "Verdict", "decide"]

#: Version of the rule table below; every decision carries it.
DECISION_VERSION = "2026-11-24"


class Verdict(StrEnum):
    DEFECT = "defect"  # our platform misbehaves: Engineering
    CONFIGURATION = "configuration"  # the merchant's setup or integration: Tier 2 fixes it with them
    PARTNER = "partner"  # issuer, scheme, acquirer, bank or ACS: payments ops chases the partner
    USER_ERROR = "user_error"  # the customer or card holder must act: Tier 2 / Tier 1 explain
    UNDETERMINED = "undetermined"  # not enough evidence: Tier 2 keeps investigating


class Owner(StrEnum):
    ENGINEERING = "engineering"
    TIER2 = "tier2"
    PAYMENTS_OPS = "payments_ops"


_OWNER = {
    Verdict.DEFECT: Owner.ENGINEERING,
    Verdict.CONFIGURATION: Owner.TIER2,
    Verdict.PARTNER: Owner.PAYMENTS_OPS,
    Verdict.USER_ERROR: Owner.TIER2,
    Verdict.UNDETERMINED: Owner.TIER2,
}

_K = HypothesisKind
#: Hypothesis kind → verdict, with the reason in words. Systemic kinds only count when systemic.
_KIND_RULES: dict[HypothesisKind, tuple[Verdict, str]] = {
    _K.AMOUNT_ANOMALY: (Verdict.DEFECT, "amounts are off by the currency exponent: our conversion code"),
    _K.DUPLICATE_SUBMISSION: (Verdict.DEFECT, "duplicate submissions across customers: our idempotency"),
    _K.WEBHOOK_FAILURES: (Verdict.DEFECT, "webhook deliveries fail across merchants of one integration"),
    _K.AUTH_ERRORS: (Verdict.DEFECT, "sign-in errors across organisations: our identity service"),
    _K.RATE_LIMITING: (Verdict.DEFECT, "429s across merchants: our limits or capacity"),
    _K.UPLOAD_FAILURES: (Verdict.DEFECT, "uploads of one file type fail for everyone"),
    _K.ERROR_SPIKE: (Verdict.DEFECT, "an error template of our service is far above its baseline"),
    _K.DECLINE_SPIKE: (
        Verdict.PARTNER,
        "declines concentrated in one issuer/BIN segment: the issuer answers",
    ),
    _K.AUTHENTICATION_SPIKE: (Verdict.PARTNER, "3-D Secure failures concentrated at one ACS"),
    _K.PENDING_SPIKE: (Verdict.PARTNER, "transactions stuck pending through one partner"),
    _K.PAYOUT_DELAY: (Verdict.PARTNER, "payouts not settled by one partner bank"),
    _K.CUSTOMER_SIDE: (Verdict.USER_ERROR, "the response code says the customer or issuer must act"),
    _K.MERCHANT_SIDE: (Verdict.CONFIGURATION, "the merchant's own endpoint or setup fails"),
    _K.INDIVIDUAL: (Verdict.CONFIGURATION, "one transaction's own state explains the ticket"),
}


@dataclass(slots=True)
class Decision:
    """The verdict, who owns the next step, why, and why every other verdict was ruled out."""

    verdict: Verdict
    owner: Owner
    confidence: float
    reasons: list[str] = field(default_factory=list)
    ruled_out: dict[str, str] = field(default_factory=dict)
    version: str = DECISION_VERSION

    @property
    def escalate(self) -> bool:
        return self.owner == Owner.ENGINEERING

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "owner": self.owner.value,
            "escalate_to_engineering": self.escalate,
            "confidence": round(self.confidence, 3),
            "reasons": self.reasons,
            "ruled_out": self.ruled_out,
            "version": self.version,
        }


def _verdict_of(h: Hypothesis) -> tuple[Verdict, str] | None:
    rule = _KIND_RULES.get(h.kind)
    if rule is None:
        return None
    verdict, why = rule
    if verdict == Verdict.DEFECT and not h.systemic:
        # One merchant's failure of a kind that is a defect when shared is that merchant's setup.
        return Verdict.CONFIGURATION, f"{h.kind.value} seen for this case only, not across merchants"
    if h.party and verdict == Verdict.PARTNER and "us" in h.party.split(", "):
        return Verdict.DEFECT, f"{why}, but the fixing party is us"
    return verdict, why


def decide(
    hypotheses: Sequence[Hypothesis],
    *,
    triage: Mapping[str, Any] | None = None,
) -> Decision:
    """Decide from the ranked hypotheses (best first); the triage route only breaks a tie of no evidence."""
    reasons: list[str] = []
    ruled_out: dict[str, str] = {}
    chosen: tuple[Verdict, str, Hypothesis] | None = None
    for h in hypotheses:
        found = _verdict_of(h)
        if found is None:
            continue
        verdict, why = found
        if chosen is None:
            chosen = (verdict, why, h)
        elif verdict != chosen[0] and verdict.value not in ruled_out:
            best = chosen[2]
            ruled_out[verdict.value] = (
                f"'{h.title}' ({h.confidence:.0%}) ranks below '{best.title}' ({best.confidence:.0%})"
            )
    route = str((triage or {}).get("route") or "")
    if chosen is None:
        if route == "engineering":
            verdict = Verdict.DEFECT
            reasons.append("no root-cause evidence found; triage routed it to engineering from the text")
            confidence = 0.3
        else:
            verdict = Verdict.UNDETERMINED
            reasons.append("no root-cause evidence found in transactions or logs; Tier 2 keeps it")
            confidence = 0.0
    else:
        verdict, why, top = chosen
        confidence = top.confidence
        reasons.append(f"{why} — '{top.title}' ({top.confidence:.0%})")
        if top.party:
            reasons.append(f"fixable by: {top.party}")
        releases = [e for e in top.evidence if e.kind == EvidenceKind.RELEASE]
        if releases and verdict != Verdict.DEFECT and top.systemic:
            reasons.append(f"a release coincides ({releases[0].text}): treated as a defect")
            ruled_out.setdefault(verdict.value, "a release of ours coincides with the onset")
            verdict = Verdict.DEFECT
        elif releases:
            reasons.append(f"coincides with {releases[0].text}")
        if route and route != _OWNER[verdict].value and route != "tier1":
            reasons.append(f"triage routed it to {route} from the text; the evidence overrides that")
    for other in Verdict:
        if other in (verdict, Verdict.UNDETERMINED) or other.value in ruled_out:
            continue
        ruled_out[other.value] = "no hypothesis points at it"
    return Decision(
        verdict=verdict, owner=_OWNER[verdict], confidence=confidence, reasons=reasons, ruled_out=ruled_out
    )
