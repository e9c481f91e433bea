"""The ``ensemble`` feature set: TF-IDF SVM plus one logistic regression per frozen encoder."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray
from tests.engines.classifier.conftest import FakeEncoder

from paytriage.domain.errors import InputError
from paytriage.engines.classifier import ModelLoadError, TicketClassifier, load_model, save_model
from paytriage.engines.classifier.model import few_shot_classifier, label_prompt


class SaltedEncoder(FakeEncoder):
    """A second fake encoder whose word buckets differ from :class:`FakeEncoder`'s."""

    name = "salted"

    def encode(
        self, texts: Sequence[str], *, progress: Callable[[str, int, int], None] | None = None
    ) -> NDArray[np.float32]:
        out = np.zeros((len(texts), 24), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, int(hashlib.sha1(b"salt" + w.encode()).hexdigest(), 16) % 24] += 1.0
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out


def _ensemble(**params: object) -> TicketClassifier:
    return TicketClassifier(features="ensemble", ensemble_encoders=[FakeEncoder(), SaltedEncoder()], **params)


def test_learns_one_member_per_encoder(corpus: tuple[list[str], list[str]]) -> None:
    texts, labels = corpus
    model = _ensemble().fit(texts, labels)
    assert model.dense_models_ is not None and len(model.dense_models_) == 2
    assert float(np.mean(model.predict(texts) == np.asarray(labels))) >= 0.9
    proba = model.predict_proba(texts)
    assert proba.shape == (len(texts), 3)
    assert np.allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_dense_share_moves_the_blend(share: float, corpus: tuple[list[str], list[str]]) -> None:
    texts, labels = corpus
    tfidf = TicketClassifier().fit(texts, labels).predict_proba(texts)
    blended = _ensemble(dense_share=share).fit(texts, labels).predict_proba(texts)
    assert np.allclose(blended, tfidf) == (share == 0.0)


def test_members_must_match_when_predicting(corpus: tuple[list[str], list[str]]) -> None:
    texts, labels = corpus
    model = _ensemble().fit(texts, labels)
    model.ensemble_encoders = [FakeEncoder()]
    with pytest.raises(InputError, match="differ"):
        model.predict_proba(texts)


def test_no_encoder_is_refused(corpus: tuple[list[str], list[str]]) -> None:
    with pytest.raises(InputError, match="at least one encoder"):
        TicketClassifier(features="ensemble", ensemble_encoders=" , ").fit(*corpus)


def test_round_trip_keeps_the_members(tmp_path: Path, corpus: tuple[list[str], list[str]]) -> None:
    # Loading checks that the libraries an ensemble needs are installed (torch, sentence-transformers).
    pytest.importorskip("torch")
    pytest.importorskip("sentence_transformers")
    texts, labels = corpus
    model = _ensemble(dense_share=0.5).fit(texts, labels)
    model.ensemble_encoders = "fake-a,fake-b"  # saved by name; the weights come from packages
    save_model(model, tmp_path / "m", texts=texts, labels=labels)
    loaded, info = load_model(tmp_path / "m")
    assert info.params["ensemble_encoders"] == "fake-a,fake-b" and info.params["dense_share"] == 0.5
    loaded.ensemble_encoders = [FakeEncoder(), SaltedEncoder()]
    model.ensemble_encoders = [FakeEncoder(), SaltedEncoder()]
    assert np.allclose(loaded.predict_proba(texts), model.predict_proba(texts))


def test_encoder_objects_cannot_be_saved(tmp_path: Path, corpus: tuple[list[str], list[str]]) -> None:
    texts, labels = corpus
    model = _ensemble().fit(texts, labels)
    with pytest.raises(ModelLoadError, match="packaged encoders"):
        save_model(model, tmp_path / "m", texts=texts, labels=labels)


def test_label_prompts_add_one_example_per_class(corpus: tuple[list[str], list[str]]) -> None:
    texts, labels = corpus
    seen: list[int] = []

    class Counting(FakeEncoder):
        def encode(
            self, texts: Sequence[str], *, progress: Callable[[str, int, int], None] | None = None
        ) -> NDArray[np.float32]:
            seen.append(len(texts))
            return super().encode(texts, progress=progress)

    model = TicketClassifier(features="ensemble", ensemble_encoders=[Counting()], label_prompts=True)
    model.fit(texts, labels)
    assert seen == [len(texts), 3]


@pytest.mark.parametrize(
    ("label", "phrase"),
    [("card_not_working", "card not working"), ("Refund-missing?", "Refund missing"), ("plain", "plain")],
)
def test_label_prompt(label: str, phrase: str) -> None:
    assert label_prompt(label) == phrase


@given(st.text(min_size=1, max_size=40))
def test_label_prompt_is_tidy(label: str) -> None:
    phrase = label_prompt(label)
    assert "_" not in phrase and phrase == phrase.strip() and "  " not in phrase


def test_few_shot_ensemble_leans_on_encoders() -> None:
    model = few_shot_classifier(features="ensemble")
    assert model.label_prompts and model.dense_share == 0.9
