"""Text clustering: obvious groups are found, k is estimated, save/load round-trips without pickle."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from paytriage.domain.errors import InputError
from paytriage.engines.patterns.intents import TextClusterer, estimate_k, smooth_labels
from paytriage.engines.patterns.intents_io import ClustererLoadError, load_clusterer, save_clusterer

GROUPS = {
    "card": [
        "my card has not arrived",
        "card still not delivered",
        "where is my new card",
        "card delivery late",
    ],
    "refund": [
        "refund not received yet",
        "I want my refund back",
        "refund still missing",
        "when will refund come",
    ],
    "fx": [
        "exchange rate was wrong",
        "bad exchange rate applied",
        "exchange rate fee too high",
        "wrong fx rate",
    ],
}
TEXTS = [t for ts in GROUPS.values() for t in ts]
TRUTH = [g for g, ts in GROUPS.items() for _ in ts]


@pytest.mark.parametrize("algorithm", ["kmeans", "ward", "spectral"])
def test_recovers_obvious_groups(algorithm: str) -> None:
    model = TextClusterer(3, features="tfidf", algorithm=algorithm, n_neighbors=3).fit(TEXTS)  # type: ignore[arg-type]
    assert adjusted_rand_score(TRUTH, model.labels_) == pytest.approx(1.0)
    assert model.n_clusters_ == 3 and model.algorithm_used_ == algorithm


def test_top_terms_name_the_group() -> None:
    model = TextClusterer(3, features="tfidf", algorithm="kmeans").fit(TEXTS)
    named = {model.top_terms_[model.labels_[TEXTS.index(GROUPS[g][0])]][0] for g in GROUPS}
    firsts = {w.split()[0] for w in named}
    assert {"card", "refund"} <= firsts and firsts & {"exchange", "rate", "fx"}


def test_k_estimated_by_silhouette() -> None:
    from sklearn.datasets import make_blobs

    x, _ = make_blobs(300, centers=4, cluster_std=0.3, random_state=0)
    k, scores = estimate_k(x, k_max=12)
    assert k == 4 and scores[4] == max(scores.values())


def test_save_load_round_trip(tmp_path: Path) -> None:
    model = TextClusterer(3, features="tfidf", algorithm="kmeans").fit(TEXTS)
    save_clusterer(model, tmp_path / "m")
    again = load_clusterer(tmp_path / "m")
    new = ["card not arrived", "refund please", "exchange rate"]
    assert again.predict(new).tolist() == model.predict(new).tolist()
    assert again.top_terms_ == model.top_terms_


def test_load_refuses_other_format(tmp_path: Path) -> None:
    save_clusterer(TextClusterer(2, features="tfidf", algorithm="kmeans").fit(TEXTS), tmp_path / "m")
    manifest = tmp_path / "m" / "manifest.json"
    doc = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**doc, "format": "paytriage-text-clusterer/0"}))
    with pytest.raises(ClustererLoadError, match="refit"):
        load_clusterer(tmp_path / "m")


@pytest.mark.parametrize(
    ("texts", "kw", "match"),
    [([], {}, "no texts"), (["a", 3], {}, "not a string"), (["a b", "c d"], {"n_clusters": 5}, "n_clusters")],
)
def test_bad_input(texts: list[object], kw: dict[str, int], match: str) -> None:
    with pytest.raises(InputError, match=match):
        TextClusterer(features="tfidf", **kw).fit(texts)  # type: ignore[arg-type]


@settings(max_examples=15, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=30), min_size=3, max_size=12))
def test_any_texts_get_a_label_each(texts: list[str]) -> None:
    cleaned = [t if t.strip() else "(empty)" for t in texts]  # what fit does with blank texts
    if not any(c.isalnum() for t in cleaned for c in t):
        with pytest.raises(InputError, match="no words"):
            TextClusterer(2, features="tfidf", algorithm="kmeans", n_init=1).fit(texts)
        return
    model = TextClusterer(2, features="tfidf", algorithm="kmeans", n_init=1).fit(texts)
    assert len(model.labels_) == len(texts)
    assert set(np.unique(model.labels_)) <= set(range(model.n_clusters_))


def test_embeddings_hybrid_when_installed() -> None:
    from paytriage.engines.classifier.encoder import embeddings_available

    if not embeddings_available():
        pytest.skip("embeddings extra not installed")
    model = TextClusterer(3, features="hybrid", algorithm="kmeans").fit(TEXTS)
    assert model.features_used_ == "hybrid"
    assert adjusted_rand_score(TRUTH, model.labels_) >= 0.6


def test_smoothing_gives_a_stray_point_its_neighbours_label() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    x = np.vstack([c + 0.05 * rng.standard_normal((20, 3)) for c in centres])
    labels = np.array([0] * 20 + [1] * 20, dtype=np.int64)
    labels[3] = 1  # a boundary text the cut put on the wrong side
    fixed = smooth_labels(x, labels, 5)
    assert fixed.tolist() == [0] * 20 + [1] * 20
    assert smooth_labels(x, labels, 0).tolist() == labels.tolist()


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=1, max_value=30).flatmap(
        lambda n: st.tuples(
            st.lists(st.lists(st.floats(-1, 1), min_size=3, max_size=3), min_size=n, max_size=n),
            st.lists(st.integers(0, 4), min_size=n, max_size=n),
            st.integers(0, 12),
        )
    )
)
def test_smoothing_only_uses_existing_labels(data: tuple[list[list[float]], list[int], int]) -> None:
    rows, labels, k = data
    x = np.asarray(rows) + 1e-3  # cosine needs non-zero rows
    out = smooth_labels(x, np.asarray(labels, dtype=np.int64), k)
    assert out.shape == (len(labels),)
    assert set(out.tolist()) <= set(labels)


def test_smoothing_is_a_saved_parameter(tmp_path: Path) -> None:
    model = TextClusterer(3, features="tfidf", algorithm="kmeans", smooth_neighbors=2).fit(TEXTS)
    save_clusterer(model, tmp_path / "m")
    assert load_clusterer(tmp_path / "m").smooth_neighbors == 2


def test_estimated_k_is_capped_at_the_square_root_of_the_input() -> None:
    assert TextClusterer()._k_cap(10_003) == 101
    assert TextClusterer()._k_cap(100) == 10
    assert TextClusterer()._k_cap(3) == 2
    assert TextClusterer()._k_cap(1_000_000) == 200
    assert TextClusterer(k_max=40)._k_cap(10_003) == 40
