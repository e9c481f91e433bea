from __future__ import annotations

import pytest
from tests.engines.escalate.helpers import hypothesis

from paytriage.engines.escalate.decision import Owner, Verdict, decide
from paytriage.engines.investigate.hypotheses import Evidence, EvidenceKind, HypothesisKind

K = HypothesisKind

# (top hypothesis kind, systemic, party, expected verdict)
CASES = [
    (K.AMOUNT_ANOMALY, True, "us", Verdict.DEFECT),
    (K.WEBHOOK_FAILURES, True, None, Verdict.DEFECT),
    (K.WEBHOOK_FAILURES, False, "merchant", Verdict.CONFIGURATION),
    (K.DECLINE_SPIKE, True, "issuer", Verdict.PARTNER),
    (K.PAYOUT_DELAY, True, "partner bank", Verdict.PARTNER),
    (K.PENDING_SPIKE, True, "us, partner", Verdict.DEFECT),
    (K.CUSTOMER_SIDE, False, "customer", Verdict.USER_ERROR),
    (K.MERCHANT_SIDE, False, "merchant", Verdict.CONFIGURATION),
    (K.INDIVIDUAL, False, None, Verdict.CONFIGURATION),
]


@pytest.mark.parametrize(("kind", "systemic", "party", "expected"), CASES)
def test_rule_table(kind: HypothesisKind, systemic: bool, party: str | None, expected: Verdict) -> None:
    d = decide([hypothesis(kind, systemic=systemic, party=party)])
    assert d.verdict == expected
    assert d.reasons and kind.value in d.reasons[0]
    assert expected.value not in d.ruled_out
    # every other verdict is explained away
    assert set(d.ruled_out) == {v.value for v in Verdict} - {expected.value, Verdict.UNDETERMINED.value}


def test_only_defects_go_to_engineering() -> None:
    assert decide([hypothesis(K.RATE_LIMITING)]).owner == Owner.ENGINEERING
    assert decide([hypothesis(K.DECLINE_SPIKE)]).owner == Owner.PAYMENTS_OPS
    assert not decide([hypothesis(K.CUSTOMER_SIDE, systemic=False)]).escalate


def test_release_on_a_partner_looking_spike_makes_it_a_defect() -> None:
    h = hypothesis(K.PENDING_SPIKE)
    h.evidence.append(Evidence(EvidenceKind.RELEASE, "payouts 5.14.0 an hour before", ref="payouts@5.14.0"))
    d = decide([h])
    assert d.verdict == Verdict.DEFECT
    assert "release" in d.ruled_out[Verdict.PARTNER.value]


def test_lower_ranked_alternative_is_named() -> None:
    d = decide([hypothesis(K.AMOUNT_ANOMALY, confidence=0.9), hypothesis(K.CUSTOMER_SIDE, confidence=0.4)])
    assert d.verdict == Verdict.DEFECT
    assert "ranks below" in d.ruled_out[Verdict.USER_ERROR.value]


def test_no_evidence_falls_back_on_route() -> None:
    assert decide([]).verdict == Verdict.UNDETERMINED
    assert decide([], triage={"route": "engineering"}).verdict == Verdict.DEFECT
    assert decide([], triage={"route": "engineering"}).confidence < 0.5
