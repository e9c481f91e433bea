"""WeightedTable must draw exactly what random.choices draws, so seeds keep their sandboxes."""

from __future__ import annotations

import random
from itertools import accumulate

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paytriage.sandbox.draws import WeightedTable


@given(
    st.lists(st.floats(min_value=0.01, max_value=1e6), min_size=1, max_size=30),
    st.integers(0, 2**32),
)
def test_same_picks_and_stream_as_choices(weights: list[float], seed: int) -> None:
    pop = list(range(len(weights)))
    a, b = random.Random(seed), random.Random(seed)
    table = WeightedTable(pop, weights)
    cum = WeightedTable(pop, list(accumulate(weights)), cum=True)
    for _ in range(20):
        expected = a.choices(pop, weights=weights)[0]
        assert table.draw(b) == expected
        assert cum.draw(a) == b.choices(pop, cum_weights=list(accumulate(weights)))[0]
    assert a.random() == b.random()


@pytest.mark.parametrize(("pop", "weights"), [([], []), ([1, 2], [1.0]), ([1], [0.0]), ([1], [float("inf")])])
def test_bad_tables_are_refused(pop: list[int], weights: list[float]) -> None:
    with pytest.raises(ValueError):
        WeightedTable(pop, weights)
