"""End-to-end fine-tuning of a packaged sentence encoder with a softmax head (optional extra).

Why: frozen embeddings + a linear model leave accuracy on the table, because the encoder was
never told which differences between tickets matter to *this* team's taxonomy. Fine-tuning
the transformer on the labelled tickets (AdamW, warm-up then linear decay, length-bucketed
batches so short tickets are not padded to long ones) fixes that on a CPU in minutes.

The starting weights come from the package that ships them (nothing is downloaded); the word
embedding table and the lowest ``frozen_layers`` stay as shipped, which halves the optimiser's
work and means only the trained tensors are saved. Saving writes ``safetensors`` (tensors
only, never pickle); loading rebuilds the network from the same package and refuses a file
whose tensors do not fit it. PyTorch is imported lazily: the core install never needs it.
"""

# ruff: noqa: N803  (X is scikit-learn's argument name)
from __future__ import annotations

import importlib
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from paytriage.domain.errors import InputError
from paytriage.engines.classifier.encoder import (
    _PACKAGED_MODELS,
    DEFAULT_ENCODER,
    ENABLE_HINT,
    EmbeddingsUnavailableError,
    embeddings_available,
)

__all__ = ["FineTuneLoadError", "TransformerFineTuner"]

ProgressFn = Callable[[str, int, int], None]


class FineTuneLoadError(InputError):
    """A fine-tuned weights file that does not fit the packaged network it claims to extend."""


def _torch() -> Any:
    try:
        return importlib.import_module("torch")
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise EmbeddingsUnavailableError(ENABLE_HINT) from exc


def _model_dir(name: str) -> Path:
    if not embeddings_available(name):
        if name not in _PACKAGED_MODELS:
            raise EmbeddingsUnavailableError(
                f"unknown encoder {name!r}; known: {', '.join(_PACKAGED_MODELS)}"
            )
        raise EmbeddingsUnavailableError(ENABLE_HINT)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    return _PACKAGED_MODELS[name].path()


def _build_network(name: str, n_classes: int) -> tuple[Any, Any]:
    """Packaged transformer body + mean pooling + dropout + linear head, and its tokenizer."""
    torch = _torch()
    from transformers import AutoModel, AutoTokenizer

    path = _model_dir(name)
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    body = AutoModel.from_pretrained(str(path))

    class Network(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.body = body
            self.dropout = torch.nn.Dropout(0.1)
            self.head = torch.nn.Linear(body.config.hidden_size, n_classes)

        def pooled(self, ids: Any, mask: Any) -> Any:
            hidden = self.body(input_ids=ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)

        def forward(self, ids: Any, mask: Any) -> Any:
            return self.head(self.dropout(self.pooled(ids, mask)))

    return Network(), tokenizer


class TransformerFineTuner:
    """Fine-tunes a packaged encoder on ``(text, label)`` pairs; scikit-learn style.

    Parameters
    ----------
    encoder: packaged encoder name (see :mod:`.encoder`).
    epochs: passes over the data; raised for small data sets so at least ``min_steps`` updates run.
    learning_rate: AdamW peak rate for the transformer (the head gets ten times more).
    frozen_layers: lowest transformer layers kept as shipped (their backward pass is skipped).
    max_length: tokens kept per ticket (support tickets' first 64 tokens carry the intent).
    threads: PyTorch CPU threads (process-wide); 1 wastes least on a machine other jobs share,
        because OpenMP threads spin while waiting for a core. ``None`` keeps PyTorch's default.
    """

    classes_: NDArray[Any]
    network_: Any
    tokenizer_: Any

    def __init__(
        self,
        encoder: str = DEFAULT_ENCODER,
        epochs: int = 3,
        learning_rate: float = 1e-4,
        batch_size: int = 32,
        max_length: int = 64,
        frozen_layers: int = 0,
        min_steps: int = 400,
        label_smoothing: float = 0.1,
        threads: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.encoder = encoder
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_length = max_length
        self.frozen_layers = frozen_layers
        self.min_steps = min_steps
        self.label_smoothing = label_smoothing
        self.threads = threads
        self.random_state = random_state

    # -- helpers ----------------------------------------------------------------------------
    def _tokenize(self, texts: Sequence[str]) -> Any:
        return self.tokenizer_(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )

    def _freeze(self) -> None:
        body = self.network_.body
        for p in body.embeddings.word_embeddings.parameters():
            p.requires_grad_(False)
        for layer in body.encoder.layer[: self.frozen_layers]:
            for p in layer.parameters():
                p.requires_grad_(False)
        if self.frozen_layers > 0:
            for p in body.embeddings.parameters():
                p.requires_grad_(False)

    def _batches(self, lengths: NDArray[np.int64], rng: np.random.Generator) -> list[NDArray[np.int64]]:
        """Shuffled batches of similar length: sort within shuffled pools of 50 batches."""
        order = rng.permutation(len(lengths))
        pool = self.batch_size * 50
        batches: list[NDArray[np.int64]] = []
        for start in range(0, len(order), pool):
            chunk = order[start : start + pool]
            chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
            batches.extend(chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size))
        return [batches[i] for i in rng.permutation(len(batches))]

    # -- scikit-learn API -------------------------------------------------------------------
    def fit(
        self, X: Sequence[str], y: Sequence[str], *, progress: ProgressFn | None = None
    ) -> TransformerFineTuner:
        """Fine-tune on texts ``X`` with labels ``y``; returns ``self``."""
        torch = _torch()
        if self.threads:
            torch.set_num_threads(self.threads)
        texts, labels = list(X), [str(v) for v in y]
        if len(texts) != len(labels) or not texts:
            raise InputError(f"{len(texts)} texts but {len(labels)} labels")
        self.classes_ = np.asarray(sorted(set(labels)), dtype=object)
        index = {c: i for i, c in enumerate(self.classes_)}
        target = torch.tensor([index[label] for label in labels])
        torch.manual_seed(self.random_state)
        rng = np.random.default_rng(self.random_state)
        self.network_, self.tokenizer_ = _build_network(self.encoder, len(self.classes_))
        self._freeze()
        lengths = np.asarray([len(ids) for ids in self.tokenizer_(texts, truncation=True)["input_ids"]])
        per_epoch = math.ceil(len(texts) / self.batch_size)
        epochs = max(self.epochs, math.ceil(self.min_steps / per_epoch))
        total = per_epoch * epochs
        head = list(self.network_.head.parameters())
        body = [p for p in self.network_.body.parameters() if p.requires_grad]
        optimiser = torch.optim.AdamW(
            [{"params": body, "lr": self.learning_rate}, {"params": head, "lr": self.learning_rate * 10}],
            weight_decay=0.01,
        )
        warmup = max(1, total // 10)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
        )
        loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=self.label_smoothing)
        self.network_.train()
        step = 0
        for _ in range(epochs):
            for batch in self._batches(lengths, rng):
                enc = self._tokenize([texts[i] for i in batch])
                logits = self.network_(enc["input_ids"], enc["attention_mask"])
                loss = loss_fn(logits, target[torch.as_tensor(batch)])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(body + head, 1.0)
                optimiser.step()
                schedule.step()
                step += 1
                if progress is not None:
                    progress("fine-tuning", step, total)
        self.network_.eval()
        return self

    def predict_proba(self, X: Sequence[str], *, progress: ProgressFn | None = None) -> NDArray[np.float64]:
        """Class probabilities (columns follow ``classes_``), computed in length-sorted batches."""
        torch = _torch()
        texts = list(X)
        out = np.zeros((len(texts), len(self.classes_)), dtype=np.float64)
        order = np.argsort([len(t) for t in texts], kind="stable")
        size = self.batch_size * 2
        with torch.inference_mode():
            for start in range(0, len(texts), size):
                idx = order[start : start + size]
                enc = self._tokenize([texts[i] for i in idx])
                logits = self.network_(enc["input_ids"], enc["attention_mask"])
                out[idx] = torch.softmax(logits.float(), dim=-1).numpy()
                if progress is not None:
                    progress("fine-tuned encoder", min(start + size, len(texts)), len(texts))
        return out

    # -- persistence ------------------------------------------------------------------------
    def trained_tensors(self) -> dict[str, Any]:
        """The tensors fitting changed (frozen ones are rebuilt from the package on load)."""
        frozen = {n for n, p in self.network_.named_parameters() if not p.requires_grad}
        return {n: t.detach().contiguous() for n, t in self.network_.state_dict().items() if n not in frozen}

    def save(self, path: Path) -> None:
        """Write the trained tensors as safetensors (no pickle)."""
        from safetensors.torch import save_file

        save_file(self.trained_tensors(), str(path), metadata={"encoder": self.encoder})

    @classmethod
    def load(cls, path: Path, *, classes: Sequence[str], params: dict[str, Any]) -> TransformerFineTuner:
        """Rebuild the network from the package and the saved tensors; refuse ones that do not fit."""
        from safetensors.torch import load_file

        model = cls(**params)
        model.classes_ = np.asarray(list(classes), dtype=object)
        model.network_, model.tokenizer_ = _build_network(model.encoder, len(model.classes_))
        model._freeze()
        try:
            tensors = load_file(str(path))
        except Exception as exc:  # safetensors raises its own error types for damaged files
            raise FineTuneLoadError(f"{path}: unreadable fine-tuned weights ({exc})") from exc
        expected = model.trained_tensors()
        if set(tensors) != set(expected):
            raise FineTuneLoadError(f"{path}: tensors do not match the {model.encoder} network")
        for name, tensor in tensors.items():
            if tuple(tensor.shape) != tuple(expected[name].shape):
                raise FineTuneLoadError(f"{path}: tensor {name} has shape {tuple(tensor.shape)}")
        model.network_.load_state_dict(tensors, strict=False)
        model.network_.eval()
        return model
