"""Tiny synthetic ticket corpus and a fake encoder, so classifier tests run in seconds without torch."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import pytest
from numpy.typing import NDArray

TOPICS = {
    "card_declined": [
        "card declined at checkout",
        "payment refused by the bank",
        "my card was declined again",
    ],
    "refund_missing": ["refund not received yet", "where is my refund", "refund still missing after a week"],
    "transfer_pending": [
        "transfer is still pending",
        "bank transfer stuck pending",
        "pending transfer not done",
    ],
}


def make_corpus(per_class: int = 8, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    fillers = ["please help", "today", "urgent", "thanks", "again", "hello", "why", "asap"]
    texts: list[str] = []
    labels: list[str] = []
    for label, phrases in TOPICS.items():
        for i in range(per_class):
            texts.append(f"{phrases[i % len(phrases)]} {rng.choice(fillers)} {rng.choice(fillers)}")
            labels.append(label)
    return texts, labels


class FakeEncoder:
    """Hashes words into 16 dimensions: deterministic, torch-free stand-in for a sentence model."""

    name = "fake"

    def encode(
        self, texts: Sequence[str], *, progress: Callable[[str, int, int], None] | None = None
    ) -> NDArray[np.float32]:
        out = np.zeros((len(texts), 16), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % 16] += 1.0
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        if progress:
            progress("embedding", len(texts), len(texts))
        return out


@pytest.fixture
def corpus() -> tuple[list[str], list[str]]:
    return make_corpus()
