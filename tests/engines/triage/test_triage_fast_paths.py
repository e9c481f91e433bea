"""The speed-ups must be exact: fast TF-IDF equals scikit-learn, trie regexes equal plain alternations."""

from __future__ import annotations

import pickle
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from paytriage.domain.errors import ConfigurationError
from paytriage.engines.triage.classifier import _decision
from paytriage.engines.triage.dates import _DATE, _TIME
from paytriage.engines.triage.entities import _ERROR_QUOTED, PATTERNS, EntityExtractor, EntityKind
from paytriage.engines.triage.lowered import FOLD_SPECIAL, lowercase_twin
from paytriage.engines.triage.routing import Router, RoutingInputs
from paytriage.engines.triage.signals import read_signals
from paytriage.engines.triage.triager import _OUTAGE, _mentions_outage
from paytriage.engines.triage.trie import trie_pattern
from paytriage.engines.triage.vectorize import FastTfidf, hstack_csr

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
    _fitted(ngram_range=(1, 2), stop_words="english"),
    _fitted(analyzer="char", ngram_range=(2, 3)),  # not covered: falls back
]


def test_modes() -> None:
    assert [FastTfidf(v).mode for v in VECTORIZERS] == [
        "char_wb",
        "char_wb",
        "word12",
        "word12",
        "word12",
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


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(TEXTS, TEXT), min_size=1, max_size=6))
def test_hstack_and_decision_equal_scipy_and_sklearn(docs: list[str]) -> None:
    a, b = FastTfidf(VECTORIZERS[2]).transform(docs), FastTfidf(VECTORIZERS[0]).transform(docs)
    got, want = hstack_csr(a, b), hstack([a, b], format="csr")
    assert np.array_equal(got.indptr, want.indptr)
    assert np.array_equal(got.indices, want.indices) and np.array_equal(got.data, want.data)
    model = (
        LogisticRegression().fit(hstack([a, b], format="csr"), [i % 3 for i in range(len(docs))])
        if len(docs) >= 3
        else None
    )
    if model is not None:
        assert np.array_equal(_decision(model, got), model.decision_function(want))


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


def test_fold_special_lists_every_character_where_lowering_and_ignorecase_disagree() -> None:
    ascii_letter = re.compile("[a-z]", re.IGNORECASE)
    word, digit, space = re.compile(r"\w"), re.compile(r"\d"), re.compile(r"\s")
    disagree = []
    for cp in range(0x30000):
        c = chr(cp)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        low = c.lower()
        same = (
            len(low) == 1
            and bool(word.match(c)) == bool(word.match(low))
            and bool(digit.match(c)) == bool(digit.match(low))
            and bool(space.match(c)) == bool(space.match(low))
            and bool(ascii_letter.match(c)) == ("a" <= low <= "z")
            and (not ascii_letter.match(c) or re.match(low, c, re.IGNORECASE) is not None)
        )
        if not same:
            disagree.append(c)
    assert set(disagree) == set(FOLD_SPECIAL.pattern.strip("[]"))


ENTITY_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("0123456789 -_/:.,'\"#=*@+€$£TZXabcdefghijklmnopqrstuvwxyzAEIOUNST\n")),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=80,
)
WORDS_FOR_ENTITIES = st.sampled_from(
    [
        "Transaction ID",
        "ORDER #",
        "Code 05",
        "HTTP 502",
        "returned 404",
        "Merchant ID",
        "Customer no.",
        "ending in",
        "BIN",
        "Phone:",
        "WooCommerce plugin",
        "SDK v",
        "Nov 5th",
        "Yesterday",
        "12 PM",
        "Error: ",
        "Do Not Honor",
        "INSUFFICIENT FUNDS",
        "2026-11-05T10:00",
        "/V1/Payments/x",
        "said 'Card Declined'",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(WORDS_FOR_ENTITIES, ENTITY_TEXT), max_size=8).map(" ".join))
def test_lowercase_twins_match_the_same_spans(text: str) -> None:
    patterns = [p for _, p, _, _ in PATTERNS] + [_DATE, _TIME, _ERROR_QUOTED]
    lowered = None if FOLD_SPECIAL.search(text) else text.lower()
    for p in patterns:
        twin = lowercase_twin(p)
        if twin is None or lowered is None:
            continue
        want = [(m.span(), m.groupdict()) for m in p.finditer(text)]
        got = [(m.span(), m.groupdict()) for m in twin.finditer(lowered)]
        assert [s for s, _ in got] == [s for s, _ in want], p.pattern[:60]
        for (_, g1), (_, g2) in zip(got, want, strict=True):
            assert {k: v.lower() if v else v for k, v in g2.items()} == g1


def test_twins_exist_for_the_case_insensitive_patterns() -> None:
    assert all(lowercase_twin(p) is not None for _, p, _, _ in PATTERNS if p.flags & re.IGNORECASE)
    assert lowercase_twin(re.compile("abc")) is None  # case-sensitive: runs on the original text
    assert lowercase_twin(re.compile(r"(?i)abc", re.IGNORECASE)) is None  # inline flags
    assert lowercase_twin(re.compile(r"\u00c9t\xe9", re.IGNORECASE)) is None  # named characters
    assert lowercase_twin(re.compile("été", re.IGNORECASE)) is None  # non-ASCII letters
    twin = lowercase_twin(re.compile(r"(?P<Code>[A-Z]\d)\b", re.IGNORECASE))
    assert twin is not None and twin.pattern == r"(?P<Code>[a-z]\d)\b"


def test_extractor_values_keep_the_original_case() -> None:
    ents = EntityExtractor().extract("Merchant ID MID-0098AB said 'Card Declined'")
    assert {e.text for e in ents} >= {"MID-0098AB", "Card Declined"}


def test_results_survive_pickling_for_worker_pools() -> None:
    from paytriage.engines.triage import Triager

    text = "Charged twice €45,00 on 2026-11-05 for order ORD-778812, code 05! I will call my lawyer"
    result = Triager.from_config().triage(text)
    again = pickle.loads(pickle.dumps(result))
    assert again == result and again.to_dict() == result.to_dict() and again.entities


OUTAGE_TEXT = st.lists(
    st.one_of(
        st.sampled_from(["all", "ALL", "every", "None of", "our", "payments", "is down", "OUTAGE", "went"]),
        st.sampled_from(["ſ", "K", "ı", "İ", "cards", "the", "of", "webhooks", "been"]),
        st.text(max_size=6),
    ),
    max_size=12,
).map(" ".join)


@settings(max_examples=400, deadline=None)
@given(OUTAGE_TEXT)
def test_outage_gate_agrees_with_the_full_scan(text: str) -> None:
    assert _mentions_outage(text) == (_OUTAGE.search(text[:5000]) is not None)


ROUTING = {
    "rules": [
        {"name": "cat", "when": {"category": ["refund"], "min_confidence": "0.5"}, "route": "tier2"},
        {"name": "str", "when": {"category": "card_payment_declined"}, "route": "payments_ops"},
        {"name": "codes", "when": {"codes_any": ["ac04", 5]}, "route": "payments_ops"},
        {"name": "kinds", "when": {"entities_any": ["iban"], "customers_affected_min": 3}, "route": "tier2"},
        {"name": "http", "when": {"http_status_min": "500", "text_any": ["WEBHOOK"]}, "route": "engineering"},
        {"name": "sig", "when": {"signals_any": ["legal_threat"]}, "route": "risk_compliance"},
    ]
}


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["refund", "card_payment_declined", "other", "card"]),
    st.floats(0, 1),
    st.lists(
        st.sampled_from(["AC04 returned", "code 5", "http 502", "webhook", "GB82 WEST **** 32"]), max_size=4
    ),
    st.integers(0, 5),
)
def test_compiled_rules_decide_like_the_rule_text(
    category: str, confidence: float, parts: list[str], customers: int
) -> None:
    router = Router(ROUTING)
    text = " ".join(parts)
    entities = EntityExtractor().extract(text)
    x = RoutingInputs(category, confidence, entities, read_signals(text), text, customers)
    got = router.route(x)
    expected = next((r for r in router.rules if _holds_as_written(r.when, x)), None)
    assert (got.rule if got else None) == (expected.name if expected else None)


def _holds_as_written(when: dict[str, Any], x: RoutingInputs) -> bool:
    """The rule semantics spelled out directly from the YAML dict (the reference for the compiled form)."""
    kinds = {e.kind.value for e in x.entities}
    codes = {str(e.value).upper() for e in x.entities if e.kind is EntityKind.DECLINE_CODE}
    statuses = [int(e.value) for e in x.entities if e.kind is EntityKind.HTTP_STATUS]
    checks = {
        "category": lambda v: x.category in v,
        "min_confidence": lambda v: x.confidence >= float(v),
        "codes_any": lambda v: bool(codes & {str(c).upper() for c in v}),
        "entities_any": lambda v: bool(kinds & set(v)),
        "http_status_min": lambda v: any(s >= int(v) for s in statuses),
        "signals_any": lambda v: any(getattr(x.signals, s) for s in v),
        "text_any": lambda v: any(str(p).lower() in x.text.lower() for p in v),
        "customers_affected_min": lambda v: x.customers_affected >= int(v),
    }
    return all(checks[k](v) for k, v in when.items())


def test_rule_with_a_bad_number_is_a_configuration_error() -> None:
    bad = {"rules": [{"name": "x", "when": {"http_status_min": "five hundred"}, "route": "tier2"}]}
    with pytest.raises(ConfigurationError, match=r"rules\[0\]\.when\.http_status_min"):
        Router(bad)
