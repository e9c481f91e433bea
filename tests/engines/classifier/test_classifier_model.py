"""The classifier learns, calibrates, abstains and follows scikit-learn conventions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)
from tests.engines.classifier.conftest import FakeEncoder, make_corpus

from paytriage.domain.errors import InputError
from paytriage.engines.classifier import TicketClassifier, few_shot_classifier


def test_learns_and_predicts(corpus: tuple[list[str], list[str]]) -> None:
    texts, labels = corpus
    model = TicketClassifier()
    assert model.fit(texts, labels) is model
    assert list(model.classes_) == sorted(set(labels))
    pred = model.predict(["my refund is missing", "the card got declined", "transfer pending forever"])
    assert list(pred) == ["refund_missing", "card_declined", "transfer_pending"]


def test_probabilities_are_distributions(corpus: tuple[list[str], list[str]]) -> None:
    texts, labels = corpus
    proba = TicketClassifier().fit(texts, labels).predict_proba(["refund", "zzz unrelated words"])
    assert proba.shape == (2, 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert (proba >= 0).all()


def test_abstains_under_threshold(corpus: tuple[list[str], list[str]]) -> None:
    texts, labels = corpus
    model = TicketClassifier(abstain_threshold=0.99).fit(texts, labels)
    results = model.predict_or_abstain(["qwerty asdf"])
    assert results[0].abstained and results[0].label is None
    assert results[0].best_guess in labels
    confident = model.predict_or_abstain(["qwerty asdf"], threshold=0.0)[0]
    assert confident.label == confident.best_guess


def test_uncalibrated_when_one_example_per_class() -> None:
    model = TicketClassifier().fit(["refund late", "card declined"], ["refund", "card"])
    assert model.calibrated_ is False
    proba = model.predict_proba(["refund late please"])
    assert np.allclose(proba.sum(), 1.0) and model.predict(["refund late please"])[0] == "refund"


@pytest.mark.parametrize("features", ["embeddings", "combined"])
def test_dense_features_with_injected_encoder(features: str, corpus: tuple[list[str], list[str]]) -> None:
    texts, labels = corpus
    model = TicketClassifier(features=features, encoder=FakeEncoder()).fit(texts, labels)
    assert (model.predict(texts) == np.asarray(labels, dtype=object)).mean() > 0.9


def test_fit_pairs_is_the_storage_hook(corpus: tuple[list[str], list[str]]) -> None:
    texts, labels = corpus
    a = TicketClassifier().fit_pairs(zip(texts, labels, strict=True))
    b = TicketClassifier().fit(texts, labels)
    assert np.allclose(a.predict_proba(texts), b.predict_proba(texts))


def test_few_shot_preset_falls_back_without_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("paytriage.engines.classifier.model.embeddings_available", lambda name: False)
    assert few_shot_classifier().features == "tfidf"
    monkeypatch.setattr("paytriage.engines.classifier.model.embeddings_available", lambda name: True)
    assert few_shot_classifier().features == "combined"
    texts, labels = make_corpus(per_class=5)
    model = few_shot_classifier(features="tfidf").fit(texts, labels)
    assert model.calibrated_


@pytest.mark.parametrize(
    ("texts", "labels", "message"),
    [
        (["a", "b"], ["x"], "2 texts but 1 labels"),
        (["a", "b"], ["x", "x"], "two distinct labels"),
        ([], [], "no texts"),
        (["a", 3], ["x", "y"], "text #2"),
        (["a", "b"], ["x", " "], "label #2 is empty"),
        ("just one string", ["x"], "one string"),
    ],
)
def test_bad_input_is_named(texts: object, labels: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        TicketClassifier().fit(texts, labels)  # type: ignore[arg-type]


def test_unknown_feature_set(corpus: tuple[list[str], list[str]]) -> None:
    with pytest.raises(InputError, match="features must be one of"):
        TicketClassifier(features="bert").fit(*corpus)


def test_scikit_learn_conventions(corpus: tuple[list[str], list[str]]) -> None:
    est = TicketClassifier(C=2.0)
    check_no_attributes_set_in_init("TicketClassifier", est)
    check_parameters_default_constructible("TicketClassifier", est)
    check_get_params_invariance("TicketClassifier", est)
    check_set_params("TicketClassifier", est)
    fitted = clone(est).fit(*corpus)
    assert clone(fitted).get_params() == est.get_params()
    assert not hasattr(clone(fitted), "model_")
