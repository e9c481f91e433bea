"""Zero-config classifier: sklearn-style API, calibrated probabilities, reasons, negation, the port."""

from __future__ import annotations

import numpy as np
import pytest

from paytriage.domain.taxonomy import Category, Taxonomy
from paytriage.engines.triage.classifier import Classifier, ZeroConfigClassifier
from paytriage.engines.triage.config import DEFAULT_CONFIG_DIR, load_taxonomy


@pytest.fixture(scope="module")
def clf() -> ZeroConfigClassifier:
    return ZeroConfigClassifier().fit(load_taxonomy(DEFAULT_CONFIG_DIR / "taxonomy.yaml"))


# Phrasings written for these tests, not copied from the taxonomy examples.
CASES = [
    ("the shop terminal refused my visa twice today", "card_payment_declined"),
    ("i see the same purchase billed to me two times", "incorrect_or_duplicate_charge"),
    ("still waiting for the money back from the store i returned shoes to", "refund"),
    ("our webhook endpoint gets a 503 and the plugin logs an exception", "api_integration"),
    ("somebody bought things with my card, it wasn't me", "fraud_and_security"),
    ("the customer opened a chargeback and we need to send evidence", "chargeback_dispute"),
    ("can't sign in, the sms code never shows up", "login_and_access"),
    ("what rate did you use to convert my dollars", "fees_and_exchange_rates"),
    ("the weekly settlement to our business bank account is missing", "payout_withdrawal"),
    ("you froze my account and want my passport", "account_verification_restriction"),
]


def test_fit_learns_classes_and_temperature(clf: ZeroConfigClassifier) -> None:
    assert len(clf.classes_) == 17
    assert 0.1 < clf.temperature_ < 10
    assert isinstance(clf, Classifier)


def test_init_only_stores_params() -> None:
    c = ZeroConfigClassifier(c=3.0, keyword_weight=0.5)
    assert (c.c, c.keyword_weight) == (3.0, 0.5)
    assert not hasattr(c, "classes_")


def test_probabilities_are_distributions(clf: ZeroConfigClassifier) -> None:
    p = clf.predict_proba(["hello", "", "x" * 100_000, "card declined"])
    assert p.shape == (4, 17)
    assert np.allclose(p.sum(axis=1), 1.0)
    assert (p >= 0).all()


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_unseen_phrasings(clf: ZeroConfigClassifier, text: str, expected: str) -> None:
    assert clf.predict([text])[0] == expected


def test_reasons_name_the_evidence(clf: ZeroConfigClassifier) -> None:
    pred = clf.explain(["I was charged twice for one order"])[0]
    assert pred.category == "incorrect_or_duplicate_charge"
    assert any("charged twice" in r for r in pred.reasons)
    assert pred.runner_up is not None and pred.runner_up_confidence < pred.confidence


def test_negated_keyword_is_not_evidence(clf: ZeroConfigClassifier) -> None:
    pred = clf.explain(["this is not about a refund, my card payment was declined"])[0]
    assert not any("keyword 'refund'" in r for r in pred.reasons)
    assert pred.category == "card_payment_declined"


def test_tiny_taxonomy_fits_without_calibration_folds() -> None:
    tax = Taxonomy("t", [Category("fruit", examples=("apples",)), Category("b", examples=("bananas",))])
    c = ZeroConfigClassifier().fit(tax)
    assert c.temperature_ == 1.0
    assert c.predict(["bananas"])[0] == "b"
