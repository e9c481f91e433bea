"""Aliases between log values and record values, learned from lines that name a transaction."""

from __future__ import annotations

from paytriage.engines.patterns.value_aliases import ValueAliases


def _lines(bic: str, bank: str, n: int, *extra: str) -> list[tuple[list[str], str]]:
    return [([bic, "accp", "eur", f"e2e{bank[:3]}{i}", *extra], bank) for i in range(n)]


def test_a_bic_becomes_an_alias_of_the_bank_name_and_back() -> None:
    pairs = _lines("HANSDEFFXXX", "Hanse Handelsbank", 20) + _lines("ADRIITMMXXX", "Banca Adriatica", 20)
    aliases = ValueAliases().fit(pairs)
    assert aliases.expand(["hanse handelsbank"]) == {"hansdeffxxx"}
    assert aliases.expand(["HANSDEFFXXX"]) == {"hanse handelsbank"}
    # values every bank's lines carry (status, currency) and one-off ids are no aliases
    assert aliases.expand(["accp", "eur", "e2ehan0"]) == set()


def test_too_few_lines_or_a_shared_value_make_no_alias() -> None:
    few = ValueAliases(min_count=5).fit(_lines("HANSDEFFXXX", "Hanse Handelsbank", 4))
    assert few.expand(["hanse handelsbank"]) == set()
    # the same code logged for two banks half the time each: not a name of either
    shared = _lines("X1", "Bank A", 10) + _lines("X1", "Bank B", 10)
    assert ValueAliases().fit(shared).expand(["bank a", "x1"]) == set()


def test_a_hub_with_many_exclusive_values_gains_none() -> None:
    # a processor whose lines each name one of many BINs only it processes is not renamed by them
    pairs = [([f"4{b:05d}"], "acq-eu") for b in range(5) for _ in range(10)]
    aliases = ValueAliases(max_aliases=2).fit(pairs)
    assert aliases.expand(["acq-eu"]) == set()
    assert aliases.expand(["400000"]) == set()


def test_unfitted_expands_to_nothing() -> None:
    assert ValueAliases().expand(["anything"]) == set()
