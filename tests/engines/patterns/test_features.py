"""Ticket features: stored triage entities, batch building in workers, and the grouper's fast path."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from paytriage.domain.ticket import Ticket
from paytriage.engines.patterns import ProblemGrouper, TicketFeatures
from paytriage.engines.patterns.features import (
    features_from_ticket,
    keys_from_entities,
    map_features,
    tokenize,
    with_intents,
)
from paytriage.engines.triage.entities import EntityExtractor
from paytriage.engines.triage.result import _plain

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)

TEXTS = [
    "Card 4111 1111 1111 1111 declined with code 05 on WooCommerce 8.2.1",
    "POST /v1/payments returns HTTP 502 since this morning, merchant id M-1234",
    "Refund not arrived, bank statement camt.053 attached as PDF",
    "Apple Pay button disappeared after upgrading Magento plugin to 2.4.6",
    "hello, nothing to see here",
]


def _ticket(i: int, text: str) -> Ticket:
    return Ticket(
        source="t", external_id=f"x{i}", subject="", description=text, created_at=T0, organization="shop-1"
    )


def _stored(text: str) -> list[dict[str, Any]]:
    """Entities as triage stores them with a case (``TriageResult.to_dict()``)."""
    return [
        {"kind": e.kind.value, "text": e.text, "value": _plain(e.value), "confidence": e.confidence}
        for e in EntityExtractor().extract(text)
    ]


def test_stored_entities_give_the_keys_extraction_gives() -> None:
    for i, text in enumerate(TEXTS):
        t = _ticket(i, text)
        assert features_from_ticket(t, entities=_stored(text)).keys == features_from_ticket(t).keys


def test_stored_entities_are_used_not_the_text() -> None:
    t = _ticket(0, "card declined")
    stored = [{"kind": "decline_code", "value": "51"}, {"kind": "software", "value": ["shopify", "2.1"]}]
    keys = features_from_ticket(t, entities=stored).keys
    assert {"error:51", "plugin:shopify@2.1", "merchant:shop-1"} <= keys
    assert not any(k.startswith("error:") for k in features_from_ticket(t, entities=[]).keys)


def test_count_terms_matches_tokenize_in_order() -> None:
    f = features_from_ticket(_ticket(0, TEXTS[0]), entities=[], count_terms=True)
    assert f.term_counts == Counter(tokenize(f.text))
    assert list(f.term_counts or {}) == list(dict.fromkeys(tokenize(f.text)))


_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(
    st.text(max_size=60),
    st.lists(st.dictionaries(st.sampled_from(["kind", "value", "text", "x"]), _JSONISH), max_size=5),
)
def test_keys_from_any_stored_json_never_raise(text: str, entities: list[dict[str, Any]]) -> None:
    keys = keys_from_entities(text, entities)
    assert set(keys) <= {"error", "bin", "plugin", "endpoint", "merchant", "file"}
    assert all(isinstance(v, str) for values in keys.values() for v in values)


def _build(item: tuple[int, str]) -> TicketFeatures:
    i, text = item
    return features_from_ticket(_ticket(i, text), entities=_stored(text), count_terms=True)


def test_map_features_in_workers_equals_serial_in_order() -> None:
    items = [(i, TEXTS[i % len(TEXTS)] + f" order {i}") for i in range(23)]
    serial = [_build(x) for x in items]
    assert list(map_features(_build, items, workers=2, chunk_size=4)) == serial
    assert list(map_features(_build, items, workers=0)) == serial
    assert list(map_features(_build, [], workers=2)) == []


class _Exhaustive(ProblemGrouper):
    """Reference: scores every candidate with ``_score`` (no pruning)."""

    def _best(self, vec: Any, keys: frozenset[str], when: datetime, candidates: list[int]) -> Any:
        best, best_pid = None, -1
        for pid in candidates:
            scored = self._score(vec, keys, when, self.problems_[pid])
            if best is None or scored[0] > best[0] or (scored[0] == best[0] and pid < best_pid):
                best, best_pid = scored, pid
        return best_pid, best


_WORDS = ["card", "declined", "refund", "payout", "webhook", "late", "twice", "checkout", "timeout"]
_KEYS = ["bin:411111", "bin:522222", "error:05", "plugin:woo@1", "merchant:m1", "country:de", "bank:b1"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(_WORDS), min_size=1, max_size=6),
            st.sets(st.sampled_from(_KEYS), max_size=3),
            st.floats(min_value=0, max_value=300),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_pruned_scoring_assigns_exactly_like_scoring_every_candidate(
    rows: list[tuple[list[str], set[str], float]],
) -> None:
    tickets = [
        TicketFeatures(f"t{i}", " ".join(words), T0 + timedelta(hours=h), frozenset(keys))
        for i, (words, keys, h) in enumerate(rows)
    ]
    fast, slow = ProblemGrouper(), _Exhaustive()
    got = fast.partial_fit(tickets)
    want = slow.partial_fit(tickets)
    assert got == want


def test_precounted_terms_group_like_raw_text() -> None:
    tickets = [
        features_from_ticket(_ticket(i, TEXTS[i % 4] + " again"), entities=[], count_terms=c)
        for c in (False, True)
        for i in range(8)
    ]
    plain, counted = tickets[:8], tickets[8:]
    a = ProblemGrouper().fit(plain).assignments_
    b = ProblemGrouper().fit(counted).assignments_
    assert a == b


def test_with_intents_adds_each_tickets_intent_group_in_one_batch() -> None:
    class Clusterer:
        calls: list[list[str]] = []

        def predict(self, texts: list[str]) -> list[int]:
            self.calls.append(list(texts))
            return [len(t) % 3 for t in texts]

    at = datetime(2026, 3, 2, tzinfo=UTC)
    feats = [TicketFeatures("a", "abc", at, frozenset({"bin:411111"})), TicketFeatures("b", "abcd", at)]
    clusterer = Clusterer()
    with_intents(feats, clusterer)
    assert clusterer.calls == [["abc", "abcd"]]
    assert feats[0].keys == {"bin:411111", "intent:0"} and feats[1].keys == {"intent:1"}
    with_intents([], clusterer)  # nothing to predict: the clusterer is not called
    assert len(clusterer.calls) == 1
