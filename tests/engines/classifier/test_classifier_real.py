"""Against the real packaged encoder and the real BANKING77 file; each skips cleanly when absent."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from paytriage.engines.classifier import TicketClassifier, embeddings_available
from paytriage.engines.classifier.dataset import read_table
from paytriage.engines.classifier.encoder import SentenceEncoder

BANKING77 = (
    Path(os.environ.get("PAYTRIAGE_SHARED_DATA", Path(__file__).resolve().parents[4] / "shared" / "data"))
    / "banking77"
    / "train.csv"
)


@pytest.mark.slow
@pytest.mark.skipif(not embeddings_available(), reason="paytriage[embeddings] not installed")
def test_packaged_encoder_loads_offline() -> None:
    vecs = SentenceEncoder().encode(
        ["my card was declined", "card payment refused", "how do I open an account"]
    )
    assert vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]
    assert os.environ.get("HF_HUB_OFFLINE") == "1"


@pytest.mark.slow
@pytest.mark.skipif(not BANKING77.is_file(), reason="shared BANKING77 data absent")
def test_banking77_subset_is_learned() -> None:
    table = read_table(BANKING77, text_column="text", label_column="category")
    assert table.labels is not None
    texts, labels = np.asarray(table.texts, dtype=object), np.asarray(table.labels, dtype=object)
    rng = np.random.default_rng(0)
    train, test = [], []
    for label in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == label))
        train += list(idx[:20])
        test += list(idx[20:26])
    model = TicketClassifier().fit(list(texts[train]), list(labels[train]))
    assert len(model.classes_) == 77
    assert (model.predict(list(texts[test])) == labels[test]).mean() > 0.7
