"""The Triager facade end to end: routing, needs-info, KB, priority, duplicates, bad input, purity."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from paytriage.domain.taxonomy import Priority, Route
from paytriage.domain.ticket import Ticket
from paytriage.engines.redaction import luhn_valid
from paytriage.engines.triage import DuplicateCandidate, TriageContext, Triager

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def ticket(text: str, **kw: Any) -> Ticket:
    return Ticket(
        external_id=kw.pop("id", "T1"),
        source="test",
        created_at=kw.pop("created_at", NOW),
        description=text,
        **kw,
    )


def test_result_fields_and_versions(triager: Triager) -> None:
    r = triager.triage(ticket("My card 4111 1111 1111 1111 was declined, code 05, €45,00 on 2026-11-05"))
    assert r.id == "T1"
    assert r.category == "card_payment_declined"
    assert 0 < r.category_confidence <= 1
    assert "411111******1111" in r.redacted_text and "4111 1111 1111 1111" not in r.redacted_text
    assert r.redaction_counts == {"card_number": 1}
    assert r.ruleset_version.startswith("redaction=") and "routing=" in r.ruleset_version
    assert r.model_version.startswith("zero-config/")
    assert r.reasons and r.reasons[0].startswith("category card_payment_declined")
    assert set(r.to_dict()) >= {
        "id",
        "category",
        "category_confidence",
        "route",
        "priority",
        "needs_info",
        "entities",
        "redacted_text",
        "reasons",
    }


def test_how_to_question_goes_back_to_tier1_with_article(triager: Triager) -> None:
    r = triager.triage("How do I reset my password?")
    assert r.route is Route.TIER1
    assert r.kb_article == "reset-password"
    assert r.tier1_feedback and "reset-password" in r.tier1_feedback
    assert not r.needs_info
    assert r.priority is Priority.P4


def test_incident_is_not_sent_to_tier1(triager: Triager) -> None:
    r = triager.triage("I reset my password but the login still fails with error 'invalid credentials'")
    assert r.route is not Route.TIER1


def test_needs_info_asks_the_exact_questions(triager: Triager) -> None:
    r = triager.triage("I was charged twice")
    assert r.needs_info
    assert any("transaction" in q for q in r.questions) and any("amount" in q for q in r.questions)
    full = triager.triage("I was charged twice: €45,00 on 2026-11-05 for order ORD-778812")
    assert not full.needs_info and full.questions == []


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("Our API returns HTTP 500 on POST /v1/payments", Route.ENGINEERING),
        ("Refund still missing. I will report you to the FCA and the ombudsman", Route.RISK_COMPLIANCE),
        ("Payment declined with response code 91 issuer unavailable", Route.PAYMENTS_OPS),
        ("We received a chargeback for order ORD-123456", Route.PAYMENTS_OPS),
        ("Somebody used my card without my permission on 2026-11-05", Route.RISK_COMPLIANCE),
    ],
)
def test_routing_rules(triager: Triager, text: str, route: Route) -> None:
    r = triager.triage(text)
    assert r.route is route, r.reasons


def test_priority_factors_are_explained(triager: Triager) -> None:
    ctx = TriageContext(
        customers_affected=150, similar_last_24h=60, merchant_tier="enterprise", sla_remaining_hours=1.0
    )
    r = triager.triage("All payments are failing at checkout, we lost EUR 25,000 in sales", ctx)
    assert r.priority is Priority.P1
    names = {f.name for f in r.priority_factors}
    assert {
        "money_at_stake",
        "affected_customers",
        "severity",
        "frequency_24h",
        "merchant_tier",
        "sla",
    } <= names
    assert r.route is Route.ENGINEERING
    calm = triager.triage("What fees do you charge for transfers?")
    assert calm.priority is Priority.P4


def test_duplicate_links_existing_case(triager: Triager) -> None:
    cands = (
        DuplicateCandidate(
            "C-1",
            NOW - timedelta(days=1),
            "something else",
            requester_id="u1",
            transaction_ids=("ch_3Nabcdefgh12",),
        ),
        DuplicateCandidate(
            "C-2", NOW - timedelta(days=30), "same", requester_id="u1", transaction_ids=("ch_3Nabcdefgh12",)
        ),
    )
    t = ticket("Payment ch_3Nabcdefgh12 was declined again", requester_id="u1")
    r = triager.triage(t, TriageContext(duplicate_candidates=cands))
    assert r.duplicate_of == "C-1"
    other = ticket("Payment ch_3Nabcdefgh12 was declined again", requester_id="u2")
    assert triager.triage(other, TriageContext(duplicate_candidates=cands)).duplicate_of is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "\x00\x01\x02\xff\ufffe garbage \ud800 \x7f" * 50,
        "<html><head><style>p{}</style></head><body><p>My card <b>4111111111111111</b> was declined&nbsp;"
        "</p><script>alert(1)</script></body></html>",
        "Meine Karte wurde abgelehnt. My card was declined. Ma carte a été refusée.",
        ("refund please 4111111111111111 " * 40_000)[:1_000_000],
    ],
)
def test_bad_input_gives_a_result(triager: Triager, text: str) -> None:
    r = triager.triage(text)
    assert r.category in triager.taxonomy
    assert "<script>" not in r.redacted_text
    for run in [w for w in r.redacted_text.split() if w.isdigit() and 12 <= len(w) <= 19]:
        assert not luhn_valid(run)


def test_html_and_language(triager: Triager) -> None:
    r = triager.triage("<p>Meine Karte wurde abgelehnt und ich habe kein Geld</p>")
    assert r.signals.language == "de"
    assert "<p>" not in r.redacted_text


def test_batch_equals_single(triager: Triager) -> None:
    texts = ["card declined", "where is my refund", "How do I change my PIN?"]
    batch = triager.triage_many(texts)
    assert [b.category for b in batch] == [triager.triage(t).category for t in texts]


class _Trained:
    """A stand-in for a model from the classifier issue."""

    classes_ = np.array(["refund", "other"])
    version = "trained-test-1"

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.tile([0.8, 0.2], (len(texts), 1))


def test_trained_classifier_plugs_in() -> None:
    t = Triager.from_config(classifier=_Trained())
    r = t.triage("anything at all")
    assert (r.category, r.category_confidence, r.model_version) == ("refund", 0.8, "trained-test-1")


def test_engine_imports_no_web_or_db() -> None:
    code = (
        "import sys, paytriage.engines.triage, paytriage.engines.redaction; "
        "bad = [m for m in ('fastapi', 'sqlalchemy', 'typer') if m in sys.modules]; print(bad); "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0
