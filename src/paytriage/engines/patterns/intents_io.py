"""Save and load a fitted :class:`TextClusterer` as a directory, never with pickle.

``manifest.json`` holds the format version, parameters, top terms and library versions;
``features.skops`` the fitted TF-IDF and LSA pipelines (skops refuses any type outside
scikit-learn, NumPy and SciPy); ``centers.npy`` the cluster centres (loaded with
``allow_pickle=False``). A directory from another format version is refused, not half-loaded.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from paytriage.domain.errors import PaytriageError
from paytriage.engines.patterns.intents import TextClusterer

__all__ = ["FORMAT", "ClustererLoadError", "load_clusterer", "save_clusterer"]

FORMAT = "paytriage-text-clusterer/1"
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")
_PARAMS = (
    "n_clusters", "features", "svd_components", "lsa_weight", "algorithm", "n_neighbors", "smooth_neighbors",
    "spectral_max", "n_init", "k_max", "min_df", "random_state",
)  # fmt: skip


class ClustererLoadError(PaytriageError):
    """A clusterer directory that is missing, damaged, unsafe or of another format."""


def _versions() -> dict[str, str]:
    out = {}
    for dist in ("scikit-learn", "numpy", "scipy", "skops"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


def save_clusterer(model: TextClusterer, path: Path) -> Path:
    """Write ``model`` (fitted) to directory ``path``; returns the path."""
    import skops.io as sio

    path.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "params": {p: getattr(model, p) for p in _PARAMS},
        "features_used": model.features_used_,
        "algorithm_used": model.algorithm_used_,
        "encoder": None if model.features_used_ == "tfidf" else "all-MiniLM-L6-v2",
        "n_clusters": model.n_clusters_,
        "k_scores": {str(k): v for k, v in model.k_scores_.items()},
        "top_terms": model.top_terms_,
        "libraries": _versions(),
    }
    sio.dump({"tfidf": model.tfidf_, "lsa": model.lsa_}, path / "features.skops")
    np.save(path / "centers.npy", model.cluster_centers_, allow_pickle=False)
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def load_clusterer(path: Path) -> TextClusterer:
    """Read a directory written by :func:`save_clusterer`, refusing foreign or unsafe content."""
    import skops.io as sio

    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClustererLoadError(f"{path}: cannot read manifest.json ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise ClustererLoadError(f"{path}: format {manifest.get('format')!r} is not {FORMAT}; refit")
    weights = path / "features.skops"
    try:
        untrusted = sio.get_untrusted_types(file=weights)
        unsafe = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
        if unsafe:
            raise ClustererLoadError(f"{weights}: refusing unexpected types {unsafe[:3]}")
        parts = sio.load(weights, trusted=untrusted)
        centers = np.load(path / "centers.npy", allow_pickle=False)
    except ClustererLoadError:
        raise
    except Exception as exc:  # skops and numpy raise many kinds on a damaged file
        raise ClustererLoadError(f"{path}: damaged model files ({exc})") from None
    model = TextClusterer(**{k: v for k, v in manifest["params"].items() if k in _PARAMS})
    model.tfidf_, model.lsa_ = parts["tfidf"], parts["lsa"]
    model.cluster_centers_ = centers
    model.features_used_ = manifest["features_used"]
    model.algorithm_used_ = manifest["algorithm_used"]
    model.n_clusters_ = int(manifest["n_clusters"])
    model.k_scores_ = {int(k): float(v) for k, v in manifest["k_scores"].items()}
    model.top_terms_ = manifest["top_terms"]
    model.n_features_in_ = 1
    return model
