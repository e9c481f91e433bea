"""Detectors and ranking on in-memory worlds: each systemic pattern found, lone cases left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.engines.investigate.test_correlation import T0, background, issuer_outage, log, pay, ticket, world

from paytriage.domain import LogLevel, Release, TransactionKind, TransactionStatus
from paytriage.engines.investigate.hypotheses import (
    Evidence,
    EvidenceKind,
    Hypothesis,
    HypothesisKind,
    rank,
    template_family,
)
from paytriage.engines.investigate.investigator import Investigator


@pytest.fixture(scope="module")
def investigator() -> Investigator:
    return Investigator()


def test_issuer_outage_is_a_decline_spike_on_the_bin(investigator: Investigator) -> None:
    txns, logs = issuer_outage()
    src = world(background(), (txns, logs))
    inv = investigator.investigate([ticket(f"card declined, payment {txns[-1].external_id}")], src)
    top = inv.systemic_cause
    assert top is not None and top.kind is HypothesisKind.DECLINE_SPIKE
    assert top.segment.get("card_bin") == "465901" or any("465901" in e.text for e in top.evidence)
    assert top.route == "payments_ops"
    assert any(e.kind is EvidenceKind.CODE and "91" in e.text for e in inv.top.evidence if inv.top)
    assert top.scope.transactions >= 10 and sum(top.scope.money_minor_by_currency.values()) >= 10_000
    assert "no related release" in top.summary


def test_single_insufficient_funds_has_no_systemic_cause(investigator: Investigator) -> None:
    mine = pay(T0 - timedelta(minutes=30), code="51", customer="cus_000051")
    src = world(background(), ([mine], [log(mine.created_at, f"auth declined txn={mine.external_id} rc=51")]))
    inv = investigator.investigate([ticket(f"why was {mine.external_id} declined?")], src)
    assert inv.systemic_cause is None
    assert inv.top is not None and inv.top.kind is HypothesisKind.CUSTOMER_SIDE
    assert "customer" in (inv.top.party or "")


def test_zero_decimal_refunds_off_by_100_after_a_release(investigator: Investigator) -> None:
    txns = []
    for k in range(6):
        p = pay(
            T0 - timedelta(hours=2, minutes=k), amount=5000 + k, currency="JPY", merchant=f"m_{k % 3:07d}"
        )
        r = pay(
            T0 - timedelta(hours=1, minutes=k),
            amount=(5000 + k) * 100,
            currency="JPY",
            kind=TransactionKind.REFUND,
            status=TransactionStatus.SUCCEEDED,
            parent=p.external_id,
            merchant=p.merchant_id or "",
        )
        txns += [p, r]
    rel = Release("refund-service", "5.5.0", T0 - timedelta(hours=3), "Faster polling")
    src = world(background(), (txns, []), releases=[rel])
    inv = investigator.investigate([ticket(f"refund {txns[-1].external_id} is far too large")], src)
    top = inv.systemic_cause
    assert top is not None and top.kind is HypothesisKind.AMOUNT_ANOMALY
    assert top.component == "refund-service" and top.route == "engineering"
    assert top.scope.transactions == 6


def test_duplicates_across_merchants_without_idempotency(investigator: Investigator) -> None:
    txns, logs = [], []
    for k in range(6):
        at = T0 - timedelta(minutes=10 * k)
        a = pay(
            at,
            amount=2000 + k,
            last4=f"{k:04d}",
            merchant=f"m_{k % 3:07d}",
            attrs={"integration": "ios-sdk/5.4.0"},
        )
        b = pay(
            at + timedelta(seconds=20),
            amount=2000 + k,
            last4=f"{k:04d}",
            merchant=a.merchant_id or "",
            attrs={"integration": "ios-sdk/5.4.0"},
        )
        txns += [a, b]
        logs.append(
            log(b.created_at, "POST /v1/payments 200", txn=b.external_id, attrs={"idempotency_key": False})
        )
    src = world(background(), (txns, logs))
    inv = investigator.investigate([ticket(f"charged twice: {txns[1].external_id}")], src)
    top = inv.systemic_cause
    assert top is not None and top.kind is HypothesisKind.DUPLICATE_SUBMISSION
    assert top.segment.get("integration") == "ios-sdk/5.4.0"
    assert any("idempotency" in e.text for e in top.evidence)


def test_sign_in_errors_across_organisations(investigator: Investigator) -> None:
    logs = [
        log(
            T0 - timedelta(minutes=3 * k),
            f"saml login rejected org=m_{k % 6:07d} idp=okta error=signature_invalid",
            level=LogLevel.ERROR,
            service="identity",
        )
        for k in range(15)
    ]
    src = world(background(), ([], logs))
    inv = investigator.investigate([ticket("nobody can log in with SSO", merchant_id="m_0000002")], src)
    top = inv.systemic_cause
    assert top is not None and top.kind is HypothesisKind.AUTH_ERRORS
    assert top.scope.merchants == 6


def test_a_quiet_how_to_question_stays_individual(investigator: Investigator) -> None:
    src = world(background())
    inv = investigator.investigate([ticket("How do I export my transactions to CSV?")], src)
    assert inv.systemic_cause is None
    assert inv.top is not None and inv.top.kind is HypothesisKind.NO_EVIDENCE


@pytest.mark.parametrize(
    ("service", "status", "template", "kind"),
    [
        ("api-gateway", 429, "POST <*>", HypothesisKind.RATE_LIMITING),
        (
            "webhook-dispatcher",
            401,
            "webhook <*> delivery attempt <*>: HTTP <*>",
            HypothesisKind.WEBHOOK_FAILURES,
        ),
        ("identity", None, "oauth token refresh failed invalid_grant org=<*>", HypothesisKind.AUTH_ERRORS),
        ("kyc", None, "upload failed account=<*> mime=image/heic", HypothesisKind.UPLOAD_FAILURES),
        (None, None, "no settlement confirmation payout_id=<*> bank=<*>", HypothesisKind.PAYOUT_DELAY),
        ("acs", None, "challenge result txn=<*> status=timeout", HypothesisKind.AUTHENTICATION_SPIKE),
        ("ledger", None, "balance mismatch account=<*>", HypothesisKind.ERROR_SPIKE),
    ],
)
def test_template_families(
    service: str | None, status: int | None, template: str, kind: HypothesisKind
) -> None:
    assert template_family(service, status, template) is kind


def test_rank_orders_by_confidence_and_deduplicates() -> None:
    a = Hypothesis(HypothesisKind.INDIVIDUAL, False, "a", "", 0.4)
    b = Hypothesis(
        HypothesisKind.DECLINE_SPIKE, True, "b", "", 0.9, evidence=[Evidence(EvidenceKind.COUNT, "n")]
    )
    b2 = Hypothesis(HypothesisKind.DECLINE_SPIKE, True, "b", "", 0.7)
    assert [h.title for h in rank([a, b2, b])] == ["b", "a"]
    assert rank([a, b2, b])[0].confidence == 0.9
    assert rank([b])[0].to_dict()["evidence"][0]["text"] == "n"
