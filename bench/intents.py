"""Intent discovery benchmark: cluster BANKING77 ``train.csv`` texts WITHOUT labels, then score.

    .venv/bin/python bench/intents.py --data /work/shared/data/banking77

Reports NMI, ARI and accuracy (Hungarian matching) against the intent labels, for k given (77)
and k estimated by silhouette, plus wall time and peak memory, as JSON. Published anchors:
DEC NMI 67.8 / ARI 27.2 / ACC 41.3 (unsupervised); DeepAligned NMI ~79.6 (semi-supervised).
Embeddings are computed once and shared by the runs (a memo around the encoder), so the k-given
and k-estimated figures differ only in clustering.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

from paytriage.engines.patterns.intents import TextClusterer

__all__ = ["hungarian_accuracy", "main"]


def hungarian_accuracy(truth: Sequence[str], pred: Sequence[int]) -> float:
    """Share of texts whose cluster maps to their label under the best one-to-one matching."""
    table = contingency_matrix(truth, pred)
    rows, cols = linear_sum_assignment(-table)
    return float(table[rows, cols].sum() / len(truth))


class _MemoEncoder:
    """Encodes each distinct list of texts once; the name matches the packaged encoder."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, cache: Path | None = None) -> None:
        from paytriage.engines.classifier.encoder import load_encoder

        self._inner = load_encoder()
        self._cache: dict[int, Any] = {}
        self._file = cache
        self.seconds = 0.0
        self.from_file = False

    def encode(self, texts: Sequence[str], *, progress: Any = None) -> Any:
        key = hash(tuple(texts))
        if key not in self._cache and self._file is not None and self._file.exists():
            stored = np.load(self._file)
            if stored.shape[0] == len(texts):
                self._cache[key], self.from_file = stored, True
        if key not in self._cache:
            t0 = time.perf_counter()
            self._cache[key] = self._inner.encode(texts, progress=progress)
            self.seconds += time.perf_counter() - t0
            if self._file is not None:
                np.save(self._file, self._cache[key])
        return self._cache[key]


def _score(truth: list[str], pred: np.ndarray[Any, Any]) -> dict[str, float]:
    return {
        "nmi": round(100 * normalized_mutual_info_score(truth, pred), 2),
        "ari": round(100 * adjusted_rand_score(truth, pred), 2),
        "acc": round(100 * hungarian_accuracy(truth, pred.tolist()), 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="folder holding banking77 train.csv")
    ap.add_argument("--features", default="auto", choices=["auto", "tfidf", "embeddings", "hybrid"])
    ap.add_argument("--algorithm", default="auto", choices=["auto", "spectral", "ward", "kmeans"])
    ap.add_argument("--limit", type=int, default=0, help="use the first N rows only (0 = all)")
    ap.add_argument(
        "--embeddings-cache",
        type=Path,
        help="a .npy of this encoder's embeddings of these texts: read when present, else written",
    )
    ap.add_argument("--only-k-given", action="store_true", help="skip the estimated-k run")
    args = ap.parse_args(argv)
    with (args.data / "train.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if args.limit:
        rows = rows[: args.limit]
    texts, truth = [r["text"] for r in rows], [r["category"] for r in rows]
    encoder: _MemoEncoder | None = None
    if args.features != "tfidf":
        from paytriage.engines.classifier.encoder import embeddings_available

        if embeddings_available():
            encoder = _MemoEncoder(args.embeddings_cache)
        elif args.features != "auto":
            sys.exit("embeddings extra not installed")
    runs = []
    plan: list[tuple[str, int | None]] = [("k_given", len(set(truth))), ("k_estimated", None)]
    for label, k in plan[:1] if args.only_k_given else plan:
        t0 = time.perf_counter()
        model = TextClusterer(k, features=args.features, algorithm=args.algorithm, encoder=encoder)  # type: ignore[arg-type]
        pred = model.fit_predict(texts)
        runs.append(
            {
                "run": label,
                "n_clusters": model.n_clusters_,
                "features": model.features_used_,
                "algorithm": model.algorithm_used_,
                **_score(truth, pred),
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
    out = {
        "benchmark": "intent discovery, BANKING77 train.csv, unsupervised",
        "texts": len(texts),
        "intents": len(set(truth)),
        "embedding_seconds": None if encoder is None else round(encoder.seconds, 1),
        "embeddings_from_cache": encoder is not None and encoder.from_file,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "anchors": {"DEC": {"nmi": 67.8, "ari": 27.2, "acc": 41.3}, "DeepAligned (semi-sup.)": {"nmi": 79.6}},
        "runs": runs,
    }
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
