"""Weighted draws that consume the random stream exactly as :meth:`random.Random.choices` does.

``choices`` re-validates and re-accumulates its weights on every call; the simulation makes millions of
single draws from fixed tables, so the cumulative table is built once here. Same stream, same picks, so
a seed still gives byte-identical sandboxes.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Generic, TypeVar

__all__ = ["WeightedTable"]

T = TypeVar("T")


class WeightedTable(Generic[T]):
    """A population with fixed weights; ``draw(rng)`` equals ``rng.choices(population, weights)[0]``.

    Pass ``cum=True`` when ``weights`` are already cumulative (``choices(cum_weights=...)``).
    """

    __slots__ = ("_cum", "_hi", "_total", "population")

    def __init__(self, population: Sequence[T], weights: Sequence[float], *, cum: bool = False) -> None:
        if not population or len(weights) != len(population):
            raise ValueError("one weight per member of a non-empty population is needed")
        self.population = tuple(population)
        self._cum = list(weights) if cum else list(accumulate(weights))
        self._total = self._cum[-1] + 0.0
        if not 0.0 < self._total < float("inf"):
            raise ValueError("weights must sum to a positive finite total")
        self._hi = len(self.population) - 1

    def draw(self, rng: random.Random) -> T:
        """One weighted pick, using one ``rng.random()`` call just as ``choices`` does."""
        return self.population[bisect_right(self._cum, rng.random() * self._total, 0, self._hi)]
