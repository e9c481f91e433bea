"""Trainable ticket classifier: learns a team's taxonomy from labelled tickets (see docs/classifier.md)."""

from __future__ import annotations

from paytriage.engines.classifier.encoder import (
    DEFAULT_ENCODER,
    ENABLE_HINT,
    EmbeddingsUnavailableError,
    SentenceEncoder,
    embeddings_available,
)
from paytriage.engines.classifier.finetune import TransformerFineTuner
from paytriage.engines.classifier.model import FEATURE_SETS, Prediction, TicketClassifier, few_shot_classifier
from paytriage.engines.classifier.persistence import ModelInfo, ModelLoadError, load_model, save_model

__all__ = [
    "DEFAULT_ENCODER",
    "ENABLE_HINT",
    "FEATURE_SETS",
    "EmbeddingsUnavailableError",
    "ModelInfo",
    "ModelLoadError",
    "Prediction",
    "SentenceEncoder",
    "TicketClassifier",
    "TransformerFineTuner",
    "embeddings_available",
    "few_shot_classifier",
    "load_model",
    "save_model",
]
