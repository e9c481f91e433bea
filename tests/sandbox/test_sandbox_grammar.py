"""The template grammar: alternatives, optional parts, slots, nesting, determinism; roughening."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from paytriage.sandbox.grammar import Grammar, expand, roughen


def test_alternatives_cover_every_option() -> None:
    rng = random.Random(0)
    seen = {expand("I [was|got] charged [twice|two times]", rng, {}) for _ in range(200)}
    assert seen == {
        "I was charged twice",
        "I got charged twice",
        "I was charged two times",
        "I got charged two times",
    }


def test_optional_and_nested_and_slots() -> None:
    rng = random.Random(1)
    seen = {expand("pay [{amount} [now|later]|] ok", rng, {"amount": "€5"}) for _ in range(200)}
    assert seen == {"pay €5 now ok", "pay €5 later ok", "pay ok"}


def test_unknown_slot_is_empty_and_spaces_tidied() -> None:
    assert expand("a {nope} b .", random.Random(0), {}) == "a b."


def test_fragment_reference_expands_other_rule() -> None:
    g = Grammar({"greet": ["Hi {name}"], "body": ["{@greet}, help"]})
    assert g.say("body", random.Random(0), {"name": "Ann"}) == "Hi Ann, help"


def test_same_seed_same_text() -> None:
    t = "[a|b|c] [d|e] [f|g|h|i]"
    assert [expand(t, random.Random(5), {}) for _ in range(3)] == [expand(t, random.Random(5), {})] * 3


@given(text=st.text(alphabet="abcdefghij ", min_size=0, max_size=80), seed=st.integers(0, 1000))
def test_roughen_level_zero_is_identity(text: str, seed: int) -> None:
    assert roughen(text, random.Random(seed), 0.0) == text


def test_roughen_changes_some_text() -> None:
    text = "I have been waiting for my refund since last Tuesday, please check the payment status"
    outs = {roughen(text, random.Random(s), 1.0) for s in range(50)}
    assert len(outs) > 10 and text in outs | {text}
