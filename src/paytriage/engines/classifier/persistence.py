"""Save and load a trained classifier as a directory: ``manifest.json`` plus ``model.skops``.

A ``finetuned`` model adds ``finetuned.safetensors``: the fine-tuned encoder's trained tensors
(plain tensors, no code); the rest of the network is rebuilt from the weights package, whose
version must therefore match the one it was trained from.

No pickle: the fitted scikit-learn parts go through skops, which refuses any type not on
an allow-list (scikit-learn, NumPy and SciPy only). The manifest carries the format version,
labels, training-data hash, metrics and library versions; a model from another format or
scikit-learn release is refused with a message saying to retrain, never loaded half-right.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from paytriage.domain.errors import PaytriageError
from paytriage.engines.classifier.model import TicketClassifier

__all__ = [
    "FINETUNED",
    "FORMAT",
    "MANIFEST",
    "WEIGHTS",
    "ModelInfo",
    "ModelLoadError",
    "data_hash",
    "library_versions",
    "load_model",
    "read_info",
    "save_model",
]

FORMAT = "paytriage-classifier/1"
MANIFEST = "manifest.json"
WEIGHTS = "model.skops"
FINETUNED = "finetuned.safetensors"
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")
_PARAMS = (
    "features",
    "C",
    "embedding_weight",
    "calibration_cv",
    "abstain_threshold",
    "random_state",
    "finetune_weight",
    "finetune_epochs",
    "finetune_frozen_layers",
    "ensemble_encoders",
    "dense_share",
    "dense_C",
    "label_prompts",
)
# libraries a fine-tuned model also depends on (the weights package is added by name)
_DENSE_LIBS = ("torch", "transformers", "safetensors")


class ModelLoadError(PaytriageError):
    """A model directory that is missing, damaged, unsafe or from an incompatible version."""


@dataclass(slots=True)
class ModelInfo:
    """What ``manifest.json`` holds; ``paytriage model info`` prints it."""

    format: str
    created_at: str
    classes: list[str]
    params: dict[str, Any]
    encoder: str | None
    training_data_sha256: str
    n_train: int
    metrics: dict[str, Any] = field(default_factory=dict)
    libraries: dict[str, str] = field(default_factory=dict)

    @property
    def model_version(self) -> str:
        """What every triage result carries, e.g. ``trained/2026-05-01T10:00:00+00:00/3fa2c9d1e0``."""
        return f"trained/{self.created_at}/{self.training_data_sha256[:10]}"


def data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    """SHA-256 of the training pairs in order, so a model can be traced to its data."""
    h = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        h.update(json.dumps([text, label], ensure_ascii=False).encode())
        h.update(b"\n")
    return h.hexdigest()


def library_versions(extra: Sequence[str] = ()) -> dict[str, str]:
    """Versions that decide whether a saved model can be read back."""
    out = {"python": platform.python_version()}
    for dist in ("paytriage", "scikit-learn", "numpy", "scipy", "skops", *extra):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def save_model(
    model: TicketClassifier,
    directory: Path,
    *,
    texts: Sequence[str],
    labels: Sequence[str],
    metrics: dict[str, Any] | None = None,
) -> ModelInfo:
    """Write ``model`` (fitted on ``texts``/``labels``) into ``directory``."""
    import skops.io as sio

    if not hasattr(model, "model_"):
        raise ModelLoadError("the classifier is not fitted")
    directory.mkdir(parents=True, exist_ok=True)
    uses_encoder = model.features != "tfidf"
    if uses_encoder and not isinstance(model.encoder, str):
        raise ModelLoadError("only a packaged encoder (given by name) can be saved with the model")
    if model.features == "ensemble" and not isinstance(model.ensemble_encoders, str):
        raise ModelLoadError("only packaged encoders (given by name) can be saved with the model")
    info = ModelInfo(
        format=FORMAT,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        classes=[str(c) for c in model.classes_],
        params={p: getattr(model, p) for p in _PARAMS},
        encoder=str(model.encoder) if uses_encoder else None,
        training_data_sha256=data_hash(texts, labels),
        n_train=len(texts),
        metrics=metrics or {},
        libraries=library_versions(_dense_libs(model)),
    )
    state = {
        "vectorizer": model.vectorizer_,
        "model": model.model_,
        "calibrated": bool(model.calibrated_),
        "dense": list(model.dense_models_ or []),
    }
    sio.dump(state, directory / WEIGHTS)
    if model.finetuned_ is not None:
        model.finetuned_.save(directory / FINETUNED)
    elif (directory / FINETUNED).exists():
        (directory / FINETUNED).unlink()  # a stale file from an earlier model in this directory
    (directory / MANIFEST).write_text(json.dumps(_asdict(info), indent=2, ensure_ascii=False) + "\n")
    return info


def _dense_libs(model: TicketClassifier) -> tuple[str, ...]:
    """Libraries a model needs beyond the core install (none for ``tfidf``/``combined``)."""
    from paytriage.engines.classifier.packaged import PACKAGED_MODELS

    if model.finetuned_ is not None:
        return (*_DENSE_LIBS, *PACKAGED_MODELS[str(model.encoder)].pip_names)
    if model.dense_models_:
        names = [n.strip() for n in str(model.ensemble_encoders).split(",") if n.strip()]
        weights = [pip for n in names if n in PACKAGED_MODELS for pip in PACKAGED_MODELS[n].pip_names[:1]]
        return ("torch", "sentence-transformers", *weights)
    return ()


def _asdict(info: ModelInfo) -> dict[str, Any]:
    return {name: getattr(info, name) for name in ModelInfo.__slots__}  # type: ignore[attr-defined]


def read_info(directory: Path) -> ModelInfo:
    """The manifest, checked for format and library compatibility."""
    path = directory / MANIFEST
    if not path.is_file():
        raise ModelLoadError(f"{directory} is not a paytriage model directory (no {MANIFEST})")
    try:
        raw = json.loads(path.read_text())
        info = ModelInfo(**raw)
    except (ValueError, TypeError) as exc:
        raise ModelLoadError(f"{path}: damaged manifest ({exc})") from exc
    if info.format != FORMAT:
        raise ModelLoadError(
            f"{directory} was saved in format {info.format!r}; this paytriage reads {FORMAT!r}. "
            "Retrain it with `paytriage model train`."
        )
    dense = tuple(lib for lib in info.libraries if lib not in library_versions())
    here = library_versions(dense)
    for lib in ("scikit-learn", "skops", *dense):
        saved = info.libraries.get(lib, "unknown")
        if here[lib] == "unknown" and lib in dense:
            from paytriage.engines.classifier.encoder import ENABLE_HINT

            raise ModelLoadError(f"{directory} needs a library; {lib} is not installed: {ENABLE_HINT}")
        if _minor(saved) != _minor(here[lib]):
            raise ModelLoadError(
                f"{directory} was saved with {lib} {saved} but {here[lib]} is installed; "
                "retrain it with `paytriage model train` (or install the matching version)."
            )
    return info


def load_model(directory: Path, *, encoder: Any = None) -> tuple[TicketClassifier, ModelInfo]:
    """Rebuild a fitted classifier; ``encoder`` overrides the packaged one (tests, offline caches)."""
    import skops.io as sio

    info = read_info(directory)
    weights = directory / WEIGHTS
    if not weights.is_file():
        raise ModelLoadError(f"{directory}: {WEIGHTS} is missing")
    try:
        untrusted = sio.get_untrusted_types(file=weights)
    except Exception as exc:  # a truncated or foreign file: skops raises several kinds
        raise ModelLoadError(f"{weights}: unreadable ({exc})") from exc
    unsafe = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
    if unsafe:
        raise ModelLoadError(f"{weights} holds types outside the allow-list: {', '.join(unsafe)}")
    state = sio.load(weights, trusted=untrusted)
    params = dict(info.params)
    model = TicketClassifier(**params, encoder=encoder or info.encoder or "all-MiniLM-L6-v2")
    model.vectorizer_ = state["vectorizer"]
    model.model_ = state["model"]
    model.calibrated_ = bool(state["calibrated"])
    model.classes_ = _classes(model.model_.classes_, info.classes)
    model.dense_models_ = list(state.get("dense", [])) or None
    if model.features == "ensemble" and not model.dense_models_:
        raise ModelLoadError(f"{weights}: an ensemble model without its encoder members")
    if model.features == "finetuned":
        model.finetuned_ = _load_finetuned(directory, info)
    return model, info


def _load_finetuned(directory: Path, info: ModelInfo) -> Any:
    from paytriage.engines.classifier.finetune import TransformerFineTuner

    path = directory / FINETUNED
    if not path.is_file():
        raise ModelLoadError(f"{directory}: {FINETUNED} is missing")
    params = {
        "encoder": info.encoder or "all-MiniLM-L6-v2",
        "epochs": info.params.get("finetune_epochs", 2),
        "frozen_layers": info.params.get("finetune_frozen_layers", 2),
    }
    try:
        return TransformerFineTuner.load(path, classes=info.classes, params=params)
    except PaytriageError as exc:
        raise ModelLoadError(str(exc)) from exc


def _classes(learned: Iterable[Any], listed: list[str]) -> Any:
    import numpy as np

    classes = np.asarray(list(learned), dtype=object)
    if [str(c) for c in classes] != listed:
        raise ModelLoadError("manifest labels do not match the saved model")
    return classes
