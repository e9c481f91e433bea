"""Saved models round-trip; foreign, damaged or unsafe model directories are refused clearly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
from tests.engines.classifier.conftest import FakeEncoder

from paytriage.engines.classifier import ModelLoadError, TicketClassifier, load_model, save_model
from paytriage.engines.classifier.persistence import MANIFEST, WEIGHTS, data_hash, read_info


@pytest.fixture
def saved(tmp_path: Path, corpus: tuple[list[str], list[str]]) -> tuple[Path, TicketClassifier]:
    texts, labels = corpus
    model = TicketClassifier(abstain_threshold=0.4).fit(texts, labels)
    save_model(model, tmp_path / "m", texts=texts, labels=labels, metrics={"accuracy": 0.5})
    return tmp_path / "m", model


def test_round_trip(saved: tuple[Path, TicketClassifier], corpus: tuple[list[str], list[str]]) -> None:
    path, model = saved
    loaded, info = load_model(path)
    texts, labels = corpus
    assert np.allclose(loaded.predict_proba(texts), model.predict_proba(texts))
    assert info.classes == sorted(set(labels))
    assert info.training_data_sha256 == data_hash(texts, labels)
    assert info.metrics == {"accuracy": 0.5}
    assert info.params["abstain_threshold"] == 0.4 and loaded.abstain_threshold == 0.4
    assert {"scikit-learn", "numpy", "skops", "python"} <= set(info.libraries)


def test_data_hash_depends_on_labels() -> None:
    assert data_hash(["a"], ["x"]) != data_hash(["a"], ["y"])


def _edit_manifest(path: Path, **changes: object) -> None:
    raw = json.loads((path / MANIFEST).read_text())
    for key, value in changes.items():
        if key == "sklearn":
            raw["libraries"]["scikit-learn"] = value
        else:
            raw[key] = value
    (path / MANIFEST).write_text(json.dumps(raw))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "paytriage-classifier/0"}, "format 'paytriage-classifier/0'.*Retrain"),
        ({"sklearn": "0.24.2"}, "scikit-learn 0.24.2 but .* installed; retrain"),
        ({"classes": ["a", "b", "c"]}, "labels do not match"),
    ],
)
def test_incompatible_models_are_refused(
    saved: tuple[Path, TicketClassifier], change: dict[str, object], message: str
) -> None:
    path, _ = saved
    _edit_manifest(path, **change)
    with pytest.raises(ModelLoadError, match=message):
        load_model(path)


def test_missing_and_damaged(tmp_path: Path, saved: tuple[Path, TicketClassifier]) -> None:
    with pytest.raises(ModelLoadError, match="not a paytriage model directory"):
        read_info(tmp_path)
    path, _ = saved
    (path / WEIGHTS).write_bytes(b"not a zip")
    with pytest.raises(ModelLoadError, match="unreadable"):
        load_model(path)
    (path / MANIFEST).write_text("{")
    with pytest.raises(ModelLoadError, match="damaged manifest"):
        load_model(path)


class Evil:
    """A type outside the allow-list: loading must refuse it rather than construct it."""


def test_types_outside_allow_list_are_refused(saved: tuple[Path, TicketClassifier]) -> None:
    path, _ = saved
    sio.dump({"vectorizer": None, "model": Evil(), "calibrated": True}, path / WEIGHTS)
    with pytest.raises(ModelLoadError, match=r"outside the allow-list.*Evil"):
        load_model(path)


def test_dense_model_saves_encoder_name_only(tmp_path: Path, corpus: tuple[list[str], list[str]]) -> None:
    texts, labels = corpus
    model = TicketClassifier(features="combined", encoder=FakeEncoder()).fit(texts, labels)
    with pytest.raises(ModelLoadError, match="packaged encoder"):
        save_model(model, tmp_path / "m", texts=texts, labels=labels)
    model.encoder = "all-MiniLM-L6-v2"  # as if trained with the packaged model
    info = save_model(model, tmp_path / "m", texts=texts, labels=labels)
    assert info.encoder == "all-MiniLM-L6-v2"
    loaded, _ = load_model(tmp_path / "m", encoder=FakeEncoder())
    assert np.allclose(
        loaded.predict_proba(texts),
        TicketClassifier(features="combined", encoder=FakeEncoder()).fit(texts, labels).predict_proba(texts),
    )


def test_loaded_model_plugs_into_triage(saved: tuple[Path, TicketClassifier]) -> None:
    from paytriage.engines.triage.classifier import Classifier

    loaded, info = load_model(saved[0])
    plugged: Classifier = loaded
    assert isinstance(plugged, Classifier)
    assert info.model_version.startswith("trained/") and info.training_data_sha256[:10] in info.model_version
    assert plugged.predict_proba(["refund missing"]).shape == (1, len(plugged.classes_))
