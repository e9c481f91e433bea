"""Category classification: the ``Classifier`` port and the zero-config model built from the taxonomy.

The zero-config model needs no labelled history. It learns from each category's description,
keywords and example phrasings (TF-IDF over word and character n-grams, multinomial logistic
regression), adds keyword-phrase evidence with simple negation handling ("not a refund"), and
is calibrated by temperature scaling fitted on cross-validated predictions over the examples.
A model trained on a team's own tickets plugs in through :class:`Classifier`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize_scalar
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from paytriage.domain.taxonomy import Taxonomy
from paytriage.engines.triage.trie import trie_pattern
from paytriage.engines.triage.vectorize import FastTfidf, hstack_csr

__all__ = ["Classifier", "Prediction", "ZeroConfigClassifier", "normalize_for_model"]

MAX_MODEL_CHARS = 4000
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_NUMBERISH = re.compile(r"\d+(?:[.,:/-]\d+)*")
_NEGATION = re.compile(
    r"\b(?:not|no|never|without|isn't|wasn't|aren't|didn't|don't|doesn't|nor)\s+(?:\w+\s+){0,2}$"
)


@runtime_checkable
class Classifier(Protocol):
    """Anything with ``classes_`` and ``predict_proba(texts)``: rows sum to 1, columns follow ``classes_``."""

    classes_: Any

    def predict_proba(self, texts: Sequence[str]) -> Any: ...


@dataclass(frozen=True, slots=True)
class Prediction:
    """The top category, its calibrated probability, runner-up and the evidence behind it."""

    category: str
    confidence: float
    runner_up: str | None
    runner_up_confidence: float
    reasons: tuple[str, ...]


def _lower(text: str) -> str:
    text = text[:MAX_MODEL_CHARS]
    if "\u2019" in text or "\u2018" in text or "`" in text or "\u00b4" in text:
        text = text.translate(_APOSTROPHES)
    return text.lower()


def normalize_for_model(text: str) -> str:
    """Lower-case, unify apostrophes, numbers to one token; long text is cut (the start says the most)."""
    return _NUMBERISH.sub(" 0 ", _lower(text))


def _decision(model: LogisticRegression, x: csr_matrix) -> NDArray[np.float64]:
    """Per-class scores, shape (n, n_classes) also for two classes (where sklearn returns one column).

    Computed as ``decision_function`` does (``x @ coef_.T + intercept_``) without its per-call
    input validation, which costs milliseconds when one ticket is triaged at a time.
    """
    z = np.asarray(x @ model.coef_.T + model.intercept_, dtype=np.float64)
    if z.shape[1] == 1:
        z = z.ravel()
    return np.column_stack([np.zeros_like(z), z]) if z.ndim == 1 else z


def _softmax(z: NDArray[np.float64]) -> NDArray[np.float64]:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: NDArray[np.float64] = e / e.sum(axis=1, keepdims=True)
    return out


class ZeroConfigClassifier:
    """Learns only from a :class:`Taxonomy`; ``fit(taxonomy)`` then ``predict_proba(texts)``.

    Parameters follow scikit-learn conventions: stored in ``__init__``, learned state ends in ``_``.
    """

    def __init__(
        self, *, c: float = 8.0, keyword_weight: float = 1.5, calibrate: bool = True, random_state: int = 0
    ) -> None:
        self.c = c
        self.keyword_weight = keyword_weight
        self.calibrate = calibrate
        self.random_state = random_state

    # -- training ---------------------------------------------------------------------------
    def _documents(self, taxonomy: Taxonomy) -> tuple[list[str], list[int]]:
        docs: list[str] = []
        labels: list[int] = []
        for idx, cat in enumerate(taxonomy.categories):
            parts = [*cat.examples, *(s for s in re.split(r"(?<=[.;:])\s+", cat.description) if s)]
            parts += [" ".join(cat.keywords[i : i + 4]) for i in range(0, len(cat.keywords), 4)]
            parts.append(cat.name.replace("_", " "))
            for p in parts:
                docs.append(p)
                labels.append(idx)
        return docs, labels

    def _vectorizers(self) -> tuple[TfidfVectorizer, TfidfVectorizer]:
        word = TfidfVectorizer(
            analyzer="word",
            ngram_range=(1, 2),
            sublinear_tf=True,
            min_df=1,
            token_pattern=r"(?u)\b\w[\w']*\b",
            dtype=np.float32,
        )
        char = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(4, 4), sublinear_tf=True, min_df=1, dtype=np.float32
        )
        return word, char

    def _fit_core(
        self, docs: list[str], y: NDArray[np.int64]
    ) -> tuple[TfidfVectorizer, TfidfVectorizer, LogisticRegression]:
        word, char = self._vectorizers()
        x = hstack([word.fit_transform(docs), char.fit_transform(docs)]).tocsr()
        model = LogisticRegression(C=self.c, max_iter=500, solver="newton-cg")
        with threadpool_limits(1):  # tiny problem: BLAS threads only contend on a shared 2-core box
            model.fit(x, y)
        return word, char, model

    def fit(self, taxonomy: Taxonomy) -> ZeroConfigClassifier:
        """Learn from the taxonomy's descriptions, keywords and examples; returns ``self``."""
        if not taxonomy.categories:
            raise ValueError("taxonomy has no categories")
        raw, labels = self._documents(taxonomy)
        docs = [normalize_for_model(d) for d in raw]
        raw = [_lower(d) for d in raw]
        y = np.asarray(labels, dtype=np.int64)
        self.classes_ = np.asarray(taxonomy.names())
        self.taxonomy_version_ = taxonomy.version
        self.keyword_classes_: dict[str, list[int]] = {}
        for idx, cat in enumerate(taxonomy.categories):
            for kw in cat.keywords:
                self.keyword_classes_.setdefault(_lower(kw).strip(), []).append(idx)
        self.keyword_pattern_ = re.compile(rf"(?<!\w){trie_pattern(self.keyword_classes_)}(?!\w)")
        self.temperature_ = 1.0
        if self.calibrate and len(set(labels)) > 1:
            self.temperature_ = self._fit_temperature(docs, raw, y)
        self.word_, self.char_, self.model_ = self._fit_core(docs, y)
        self._fast = (FastTfidf(self.word_), FastTfidf(self.char_))
        self.n_word_ = len(self.word_.vocabulary_)
        self.feature_names_ = np.asarray(self.word_.get_feature_names_out())
        self.phrase_shown_ = np.asarray(
            [
                "0" not in (toks := str(name).split()) and not all(t in ENGLISH_STOP_WORDS for t in toks)
                for name in self.feature_names_
            ],
            dtype=bool,
        )
        return self

    def _fit_temperature(self, docs: list[str], raw: list[str], y: NDArray[np.int64]) -> float:
        """Temperature that minimises cross-validated log loss on the taxonomy's own phrasings."""
        counts = np.bincount(y)
        if counts[counts > 0].min() < 6:  # too few phrasings per category to say anything about calibration
            return 1.0
        folds = 3
        logits = np.zeros((len(docs), int(y.max()) + 1))
        for train, test in StratifiedKFold(folds, shuffle=True, random_state=self.random_state).split(
            docs, y
        ):
            word, char, model = self._fit_core([docs[i] for i in train], y[train])
            test_docs = [docs[i] for i in test]
            x = hstack([word.transform(test_docs), char.transform(test_docs)]).tocsr()
            z = np.full((len(test), logits.shape[1]), -30.0)
            z[:, model.classes_] = _decision(model, x)
            z += self.keyword_weight * self._keyword_hits([raw[i] for i in test], logits.shape[1])[0]
            logits[test] = z

        def loss(t: float) -> float:
            p = _softmax(logits / t)
            return float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean())

        res = minimize_scalar(loss, bounds=(0.2, 10.0), method="bounded")
        return float(res.x)

    # -- inference --------------------------------------------------------------------------
    def _keyword_hits(
        self, docs: Sequence[str], n_classes: int
    ) -> tuple[NDArray[np.float64], list[dict[int, list[str]]]]:
        """Keyword phrases per doc and class (negated ones skipped): ``log1p(count)`` scores, phrases."""
        scores = np.zeros((len(docs), n_classes))
        hits: list[dict[int, list[str]]] = []
        for i, doc in enumerate(docs):
            found: dict[int, list[str]] = {}
            for m in self.keyword_pattern_.finditer(doc):
                start, kw = m.start(), m.group(0)
                # _NEGATION ends in whitespace: only a keyword after whitespace can be negated.
                if start and doc[start - 1].isspace() and _NEGATION.search(doc[max(0, start - 30) : start]):
                    continue
                for c in self.keyword_classes_[kw]:
                    if c < n_classes:
                        seen = found.setdefault(c, [])
                        if kw not in seen:
                            scores[i, c] += 1.0
                            seen.append(kw)
            hits.append(found)
        return np.log1p(scores), hits

    def _transform(self, docs: list[str]) -> csr_matrix:
        fast = getattr(self, "_fast", None)
        if fast is None or fast[0].vectorizer is not self.word_ or fast[1].vectorizer is not self.char_:
            fast = self._fast = (FastTfidf(self.word_), FastTfidf(self.char_))
        return hstack_csr(fast[0].transform(docs), fast[1].transform(docs))

    def _logits(
        self, texts: Sequence[str]
    ) -> tuple[NDArray[np.float64], csr_matrix, list[dict[int, list[str]]]]:
        lowered = [_lower(t) for t in texts]
        x = self._transform([_NUMBERISH.sub(" 0 ", t) for t in lowered])  # = normalize_for_model
        z = _decision(self.model_, x)
        kw, hits = self._keyword_hits(lowered, len(self.classes_))
        return z + self.keyword_weight * kw, x, hits

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        """Calibrated probabilities, one row per text, columns in ``classes_`` order."""
        z, _, _ = self._logits(texts)
        return _softmax(z / self.temperature_)

    def predict(self, texts: Sequence[str]) -> NDArray[np.str_]:
        out: NDArray[np.str_] = self.classes_[self.predict_proba(texts).argmax(axis=1)]
        return out

    def explain(self, texts: Sequence[str], *, top_features: int = 4) -> list[Prediction]:
        """Predictions with the keyword phrases and the n-grams that pushed the top class up."""
        z, x, hits = self._logits(texts)
        proba = _softmax(z / self.temperature_)
        coef = self.model_.coef_[:, : self.n_word_]
        if coef.shape[0] == 1:
            coef = np.vstack([-coef, coef])
        n = len(texts)
        order = np.argsort(-proba, axis=1)[:, :2]
        top = order[:, 0]
        # Word-feature contributions to each row's top class, for the whole batch at once.
        rows = np.repeat(np.arange(n), np.diff(x.indptr))
        keep = x.indices < self.n_word_
        rows, cols, vals = rows[keep], x.indices[keep], x.data[keep]
        contrib = vals * coef[top[rows], cols]
        shown = (contrib > 0.05) & self.phrase_shown_[cols]
        bounds = np.searchsorted(rows, np.arange(n + 1))
        any_shown = np.bincount(rows[shown], minlength=n) > 0
        out: list[Prediction] = []
        for i in range(n):
            t = int(top[i])
            second = int(order[i, 1]) if order.shape[1] > 1 else None
            reasons = [f"keyword '{k}'" for k in hits[i].get(t, ())]
            lo, hi = bounds[i], bounds[i + 1]
            if any_shown[i]:
                # Same order as ranking the row's every word feature (ties included), then filtering.
                ranked = np.argsort(-contrib[lo:hi])
                best = ranked[shown[lo:hi][ranked]][:top_features]
                reasons += [f"phrase '{self.feature_names_[cols[lo + j]]}'" for j in best]
            out.append(
                Prediction(
                    category=str(self.classes_[t]),
                    confidence=float(proba[i, t]),
                    runner_up=str(self.classes_[second]) if second is not None else None,
                    runner_up_confidence=float(proba[i, second]) if second is not None else 0.0,
                    reasons=tuple(dict.fromkeys(reasons)),
                )
            )
        return out
