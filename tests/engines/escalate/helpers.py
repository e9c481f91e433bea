"""Small hand-built investigations for the escalation engine tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from paytriage.domain import LogEvent, LogLevel, Ticket, Transaction
from paytriage.domain.money import Money
from paytriage.domain.transaction import TransactionKind, TransactionStatus
from paytriage.engines.escalate.package import EscalationInput, Subject
from paytriage.engines.investigate.clues import Clues
from paytriage.engines.investigate.correlation import Correlation
from paytriage.engines.investigate.hypotheses import Evidence, EvidenceKind, Hypothesis, HypothesisKind, Scope
from paytriage.engines.investigate.investigator import Investigation
from paytriage.engines.investigate.timeline import build_timeline

__all__ = ["T0", "hypothesis", "make_input"]

T0 = datetime(2026, 1, 7, 12, 0, tzinfo=UTC)


def hypothesis(
    kind: HypothesisKind,
    *,
    systemic: bool = True,
    confidence: float = 0.8,
    party: str | None = None,
    **kw: object,
) -> Hypothesis:
    return Hypothesis(
        kind=kind,
        systemic=systemic,
        title=f"{kind.value} finding",
        summary="what the detector saw",
        confidence=confidence,
        party=party,
        scope=Scope(customers=4, merchants=3, transactions=9, money_minor_by_currency={"EUR": 12345}),
        evidence=[Evidence(EvidenceKind.COUNT, "9 declines vs 1.0 baseline")],
        **kw,  # type: ignore[arg-type]
    )


def make_input(
    hypotheses: list[Hypothesis] | None = None,
    *,
    with_investigation: bool = True,
    triage: dict[str, object] | None = None,
    custom_fields: dict[str, object] | None = None,
) -> EscalationInput:
    ticket = Ticket(
        external_id="T-1",
        source="test",
        created_at=T0,
        subject="Payments failing",
        description="Card 4111 1111 1111 1111 declined on Chrome 120 for pay_abc123, please help",
        organization="Acme Ltd",
        requester_email="ops@acme.example",
        custom_fields=custom_fields
        if custom_fields is not None
        else {"merchant_id": "m_1", "merchant_tier": "enterprise", "integration": "woocommerce 3.2.1"},
        tier1_notes="Checked status: declined.",
    )
    txn = Transaction(
        external_id="pay_abc123",
        source="test",
        kind=TransactionKind.PAYMENT,
        amount=Money(2500, "EUR"),
        status=TransactionStatus.DECLINED,
        created_at=T0 - timedelta(minutes=5),
        merchant_id="m_1",
        customer_id="cus_1",
        response_code="05",
        decline_reason="do not honor",
        country="DE",
    )
    log = LogEvent(
        timestamp=T0 - timedelta(minutes=5),
        message="auth declined txn=pay_abc123 card=4111111111111111 rc=05",
        service="payments-core",
        level=LogLevel.ERROR,
        fingerprint="abc",
    )
    inv = None
    if with_investigation:
        clues = Clues(opened_at=T0, as_of=T0, ids=["pay_abc123"], merchant_ids=["m_1"])
        corr = Correlation(
            clues=clues,
            focus=T0 - timedelta(minutes=5),
            window=(T0 - timedelta(hours=1), T0 + timedelta(hours=1)),
            transactions=[txn],
            matched_by={"pay_abc123": "id"},
            logs=[log],
        )
        inv = Investigation(
            correlation=corr,
            hypotheses=hypotheses or [],
            timeline=build_timeline(tickets=[ticket], transactions=[txn], logs=[log]),
            rules_version="r",
            codes_version="c",
            elapsed_ms=1.0,
            case_id=1,
        )
    return EscalationInput(
        subject=Subject(
            kind="case", id=1, title="Payments failing", created_at=T0, priority="P2", category="x"
        ),
        tickets=[ticket],
        now=T0,
        triage=triage
        or {"route": "tier2", "priority": "P2", "priority_factors": [{"reason": "money at stake"}]},
        investigation=inv,
        daily_counts=[("d1", 1), ("d2", 1), ("d3", 5), ("d4", 6)],
    )
