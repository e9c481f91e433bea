"""Fast, exact ``transform`` for the fitted TF-IDF vectorizers the triage models use.

scikit-learn's ``TfidfVectorizer.transform`` builds every word bigram and every character n-gram
of every text as a Python string before looking it up, which is most of the classifier's time on
short tickets. :class:`FastTfidf` produces the *same* matrix (same counts, then the same
sublinear-tf, idf and l2 steps) with two shortcuts that cannot change the result:

* character ``char_wb`` n-grams never cross a word, so each distinct word's vocabulary hits are
  computed once and cached;
* a word bigram can only be in a vocabulary fitted without pruning if both of its words are, so
  bigrams of unknown words are never built.

Vectorizers with settings these shortcuts do not cover fall back to scikit-learn.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

try:
    from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2
except ImportError:  # pragma: no cover - the private helper moved
    inplace_csr_row_normalize_l2 = None

__all__ = ["FastTfidf", "hstack_csr"]

_CACHE_LIMIT = 200_000


class FastTfidf:
    """Wraps a *fitted* :class:`TfidfVectorizer`; ``transform(docs)`` equals its ``transform(docs)``."""

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        v = vectorizer
        self.vectorizer = v
        self.vocabulary: dict[str, int] = dict(v.vocabulary_)
        self.idf: NDArray[np.float64] = np.asarray(v.idf_) if v.use_idf else np.ones(len(self.vocabulary))
        self._words: dict[str, tuple[int, ...]] = {}
        self._token_re = re.compile(v.token_pattern or r"(?u)\b\w\w+\b")
        self._stop: frozenset[str] = frozenset(v.get_stop_words() or ())
        plain = (
            v.input == "content"
            and v.preprocessor is None
            and v.tokenizer is None
            and v.strip_accents is None
            and v.lowercase
            and v.vocabulary is None
            and v.min_df in (1, 1.0)
            and v.max_df in (1, 1.0)
            and v.max_features is None
            and not v.binary
            and v.norm == "l2"
        )
        if plain and v.analyzer == "char_wb" and v.ngram_range[0] == v.ngram_range[1]:
            self.mode = "char_wb"
        elif plain and v.analyzer == "word" and v.ngram_range == (1, 2) and v.stop_words in (None, "english"):
            self.mode = "word12" if re.compile(v.token_pattern).groups <= 1 else "sklearn"
        else:
            self.mode = "sklearn"

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_words": {}}  # the per-word cache is rebuilt, not shipped

    # -- analyzers ----------------------------------------------------------------------------
    def _char_word(self, word: str) -> tuple[int, ...]:
        """Vocabulary columns of one word's padded n-grams, in sklearn's order, repeats kept."""
        n = self.vectorizer.ngram_range[0]
        w = " " + word + " "
        vocab = self.vocabulary
        grams = [w] if len(w) <= n else [w[i : i + n] for i in range(len(w) - n + 1)]
        return tuple(vocab[g] for g in grams if g in vocab)

    def _char_counts(self, doc: str) -> Counter[int]:
        cols: list[int] = []
        cache = self._words
        for word in doc.lower().split():
            hit = cache.get(word)
            if hit is None:
                if len(cache) > _CACHE_LIMIT:
                    cache.clear()
                hit = cache[word] = self._char_word(word)
            cols += hit
        return Counter(cols)

    def _word_counts(self, doc: str) -> Counter[int]:
        vocab = self.vocabulary
        tokens = self._token_re.findall(doc.lower())
        if self._stop:  # removed before n-grams are formed, as scikit-learn does
            tokens = [t for t in tokens if t not in self._stop]
        ids = [vocab.get(t) for t in tokens]
        cols = [c for c in ids if c is not None]
        get = vocab.get
        for i in range(len(tokens) - 1):
            if ids[i] is not None and ids[i + 1] is not None:
                c = get(tokens[i] + " " + tokens[i + 1])
                if c is not None:
                    cols.append(c)
        return Counter(cols)

    # -- transform ----------------------------------------------------------------------------
    def transform(self, docs: Sequence[str]) -> csr_matrix:
        """Tf-idf matrix of ``docs``, identical to the wrapped vectorizer's ``transform``."""
        if self.mode == "sklearn" and docs:
            return csr_matrix(self.vectorizer.transform(docs))
        count = self._char_counts if self.mode == "char_wb" else self._word_counts
        indices: list[int] = []
        values: list[int] = []
        indptr = [0]
        for doc in docs:
            counts = count(doc)
            indices.extend(counts)
            values.extend(counts.values())
            indptr.append(len(indices))
        x = csr_matrix(
            (
                np.asarray(values, dtype=self.vectorizer.dtype),
                np.asarray(indices, dtype=np.int32),
                np.asarray(indptr, dtype=np.int32),
            ),
            shape=(len(docs), len(self.vocabulary)),
        )
        x.sort_indices()
        if not docs:
            return x
        if self.vectorizer.sublinear_tf:
            np.log(x.data, x.data)
            x.data += 1.0
        x.data *= self.idf[x.indices]
        if inplace_csr_row_normalize_l2 is None:  # pragma: no cover - older/newer scikit-learn
            out: csr_matrix = normalize(x, norm="l2", copy=False)
            return out
        inplace_csr_row_normalize_l2(x)  # what normalize() runs, without its per-call validation
        return x


def hstack_csr(a: csr_matrix, b: csr_matrix) -> csr_matrix:
    """``scipy.sparse.hstack([a, b], format="csr")`` (same entry order per row), without its overhead."""
    na, nb = np.diff(a.indptr), np.diff(b.indptr)
    rows = np.concatenate([np.repeat(np.arange(a.shape[0]), na), np.repeat(np.arange(b.shape[0]), nb)])
    order = np.argsort(rows, kind="stable")  # each row: a's entries, then b's
    data = np.concatenate([a.data, b.data])[order]
    indices = np.concatenate([a.indices, b.indices + a.shape[1]]).astype(np.int32)[order]
    indptr = (a.indptr + b.indptr).astype(np.int32)
    return csr_matrix((data, indices, indptr), shape=(a.shape[0], a.shape[1] + b.shape[1]))
