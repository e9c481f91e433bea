"""Component and release attribution: strongest evidence first, loggers named by their component."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.engines.escalate.helpers import T0, hypothesis

from paytriage.engines.escalate.attribution import ReleaseSuspect, attribute, canonical
from paytriage.engines.escalate.completeness import Section
from paytriage.engines.investigate.hypotheses import Evidence, EvidenceKind, HypothesisKind

KNOWN = ["kyc-service", "refund-service", "identity", "webhook-dispatcher", "3ds-server"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("c.p.kyc.UploadController", "kyc-service (c.p.kyc.UploadController)"),
        ("c.p.refunds.RefundService", "refund-service (c.p.refunds.RefundService)"),
        ("identity", "identity"),
        ("webhook-dispatcher-2", "webhook-dispatcher (webhook-dispatcher-2)"),
        ("acs_connector.challenge", "acs_connector.challenge"),  # no known component matches
        ("payments-core", "payments-core"),
    ],
)
def test_canonical(name: str, expected: str) -> None:
    assert canonical(name, KNOWN) == expected


def _release(component: str, p: float) -> ReleaseSuspect:
    return ReleaseSuspect(component, "1.0", T0 - timedelta(hours=2), "errors", 0, 30, 60.0, p)


def test_hypothesis_component_beats_an_unrelated_release_rise() -> None:
    h = hypothesis(HypothesisKind.WEBHOOK_FAILURES, component="webhook-dispatcher")
    h.evidence.append(
        Evidence(EvidenceKind.RELEASE, "release webhook-dispatcher 2.2.0", ref="webhook-dispatcher@2.2.0")
    )
    comp, rel = attribute([(5, h)], releases=[_release("identity", 1e-12)], known=KNOWN)
    assert comp.value == "webhook-dispatcher" and rel.value == "webhook-dispatcher@2.2.0"
    assert comp.sources == [f"hypothesis '{h.title}' (case 5)"]


def test_release_of_the_hypothesis_component_from_release_impact() -> None:
    h = hypothesis(HypothesisKind.UPLOAD_FAILURES, component="c.p.kyc.UploadController")
    comp, rel = attribute(
        [(1, h)], releases=[_release("identity", 1e-9), _release("kyc-service", 1e-6)], known=KNOWN
    )
    assert comp.value == "kyc-service (c.p.kyc.UploadController)"
    assert str(rel.value).startswith("kyc-service 1.0")


def test_partner_segment_when_no_component() -> None:
    h = hypothesis(HypothesisKind.PENDING_SPIKE, party="partner_bank", segment={"partner_bank": "Hanse"})
    comp, rel = attribute([(1, h)], releases=[_release("identity", 1e-9)], known=KNOWN)
    assert comp.value == "partner partner_bank: partner_bank=Hanse"
    assert str(rel.value).startswith("not our release")


def test_release_impact_then_case_fallback_then_nothing() -> None:
    weak = hypothesis(HypothesisKind.INDIVIDUAL, systemic=False)
    comp, rel = attribute([(1, weak)], releases=[_release("identity", 1e-9)], known=KNOWN, seen={"identity"})
    assert comp.value == "identity" and str(rel.value).startswith("identity 1.0")
    comp, rel = attribute(  # a rise of a component never seen around the cases is not blamed
        [(1, weak)],
        releases=[_release("kyc-service", 1e-9)],
        known=KNOWN,
        seen={"identity"},
        releases_checked="none",
    )
    assert not comp.filled and rel.value == "none"
    fb = Section("suspected_component", "c.p.refunds.RefundService", ["error template"])
    comp, rel = attribute(
        [(1, weak)], fallback_components=[fb], known=KNOWN, releases_checked="none found: 3 checked"
    )
    assert comp.value == "refund-service (c.p.refunds.RefundService)"
    assert rel.value == "none found: 3 checked"
    comp, rel = attribute([])
    assert not comp.filled and not rel.filled
