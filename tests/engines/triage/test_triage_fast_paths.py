"""The speed-ups must be exact: fast TF-IDF equals scikit-learn, trie regexes equal plain alternations."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from paytriage.engines.triage.trie import trie_pattern
from paytriage.engines.triage.vectorize import FastTfidf

TRAIN = [
    "card declined at the shop",
    "refund not received after 14 days",
    "can't log in, 2fa code never arrives",
    "transfer to my bank account is pending",
    "webhook returns http 500 on /v1/payments",
    "i was charged twice for the same order",
]
# Text drawn from the training vocabulary plus noise, so that hits, misses and repeats all occur.
WORDS = st.sampled_from([*" ".join(TRAIN).split(), "Déjà", "naïve", "x", "ÄÖÜ", "2026", "'s", "--"])
TEXTS = st.lists(st.one_of(WORDS, st.text(max_size=8)), max_size=40).map(lambda ws: " ".join(ws))
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60)


def _fitted(**kw: object) -> TfidfVectorizer:
    return TfidfVectorizer(**kw).fit(TRAIN)  # type: ignore[arg-type]


VECTORIZERS = [
    _fitted(analyzer="char_wb", ngram_range=(4, 4), sublinear_tf=True, dtype=np.float32),
    _fitted(analyzer="char_wb", ngram_range=(3, 3)),
    _fitted(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w[\w']*\b", dtype=np.float32),
    _fitted(ngram_range=(1, 2)),
    _fitted(ngram_range=(1, 2), stop_words="english"),  # not covered: falls back to scikit-learn
    _fitted(analyzer="char", ngram_range=(2, 3)),  # not covered: falls back
]


def test_modes() -> None:
    assert [FastTfidf(v).mode for v in VECTORIZERS] == [
        "char_wb",
        "char_wb",
        "word12",
        "word12",
        "sklearn",
        "sklearn",
    ]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(TEXTS, TEXT), min_size=1, max_size=6))
def test_fast_tfidf_equals_sklearn(docs: list[str]) -> None:
    for v in VECTORIZERS:
        fast = FastTfidf(v)
        for _ in range(2):  # the second pass is served from the per-word cache
            got, want = fast.transform(docs), v.transform(docs)
            assert got.shape == want.shape and got.dtype == want.dtype
            assert (got != want).nnz == 0


def test_fast_tfidf_on_empty_batch_and_empty_text() -> None:
    fast = FastTfidf(VECTORIZERS[0])
    assert fast.transform([]).shape == (0, len(VECTORIZERS[0].vocabulary_))
    assert fast.transform(["", "   "]).nnz == 0


def _alternation(words: list[str]) -> re.Pattern[str]:
    alts = "|".join(re.escape(w) for w in sorted({w for w in words if w}, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alts})(?!\w)" if alts else r"(?!x)x")


PHRASES = st.lists(st.text(alphabet="ab -'c", min_size=0, max_size=6), max_size=12)


@settings(max_examples=300, deadline=None)
@given(PHRASES, st.text(alphabet="ab -'c\nd", max_size=50))
def test_trie_matches_like_longest_first_alternation(words: list[str], text: str) -> None:
    trie = re.compile(rf"(?<!\w){trie_pattern(words)}(?!\w)")
    plain = _alternation(words)
    assert [m.span() for m in trie.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_trie_of_nothing_never_matches() -> None:
    assert re.search(trie_pattern(["", ""]), "anything") is None
    assert re.fullmatch(trie_pattern(["card", "card declined", "cash"]), "card declined")
