"""A tiny template grammar: ``[a|b|]`` alternatives (nestable, empty = optional), ``{slot}`` fillers.

Ticket text is expanded from these templates and then roughened (typos, case, punctuation) so no two
tickets read alike and no category is recoverable from a fixed keyword.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from functools import lru_cache

__all__ = ["Grammar", "expand", "roughen"]

# A compiled template is a list (sequence) of str literals, ("slot", name) markers and tuples of alternatives.


def _parse(text: str, i: int, stop: str) -> tuple[list[object], int]:
    seq: list[object] = []
    buf: list[str] = []
    while i < len(text):
        ch = text[i]
        if ch in stop:
            break
        if ch == "[":
            if buf:
                seq.append("".join(buf))
                buf = []
            alts: list[list[object]] = []
            i += 1
            while True:
                sub, i = _parse(text, i, "|]")
                alts.append(sub)
                if i >= len(text) or text[i] == "]":
                    i += 1
                    break
                i += 1  # skip "|"
            seq.append(tuple(alts))
            continue
        if ch == "{":
            end = text.index("}", i)
            if buf:
                seq.append("".join(buf))
                buf = []
            seq.append(("slot", text[i + 1 : end]))
            i = end + 1
            continue
        buf.append(ch)
        i += 1
    if buf:
        seq.append("".join(buf))
    return seq, i


@lru_cache(maxsize=4096)
def _compile(template: str) -> tuple[object, ...]:
    seq, _ = _parse(template, 0, "")
    return tuple(seq)


def _render(
    seq: tuple[object, ...] | list[object], rng: random.Random, slots: Mapping[str, str], out: list[str]
) -> None:
    for node in seq:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, tuple) and len(node) == 2 and node[0] == "slot" and isinstance(node[1], str):
            out.append(slots.get(node[1], ""))
        elif isinstance(node, tuple):
            _render(node[rng.randrange(len(node))], rng, slots, out)  # type: ignore[arg-type]


def expand(template: str, rng: random.Random, slots: Mapping[str, str]) -> str:
    """One random expansion of ``template``; unknown slots expand to nothing; spaces tidied."""
    out: list[str] = []
    _render(_compile(template), rng, slots, out)
    text = "".join(out)
    while "  " in text:
        text = text.replace("  ", " ")
    return text.replace(" ,", ",").replace(" .", ".").strip()


class Grammar:
    """Named template lists; ``{@name}`` inside a template expands a random entry of another list."""

    def __init__(self, rules: Mapping[str, list[str]]) -> None:
        self.rules = dict(rules)

    def say(self, name: str, rng: random.Random, slots: Mapping[str, str]) -> str:
        options = self.rules.get(name)
        if not options:
            return ""
        text = expand(options[rng.randrange(len(options))], rng, _Lazy(self, rng, slots))
        return text


class _Lazy(dict[str, str]):
    """Slot mapping that resolves ``@rule`` slots by expanding the rule on demand."""

    def __init__(self, grammar: Grammar, rng: random.Random, slots: Mapping[str, str]) -> None:
        super().__init__(slots)
        self._g = grammar
        self._rng = rng
        self._slots = slots

    def get(self, key: str, default: str | None = None) -> str:  # type: ignore[override]
        if key.startswith("@"):
            return self._g.say(key[1:], self._rng, self._slots)
        return super().get(key, default or "")


_NEIGHBOURS = {
    "a": "sq",
    "e": "wr",
    "i": "uo",
    "o": "ip",
    "n": "mb",
    "t": "ry",
    "r": "et",
    "s": "ad",
    "h": "gj",
    "l": "k",
    "d": "sf",
    "c": "xv",
    "m": "n",
    "u": "yi",
    "p": "o",
    "g": "fh",
    "y": "tu",
    "b": "vn",
}


def roughen(text: str, rng: random.Random, level: float) -> str:
    """Human noise: typos, dropped apostrophes and capitals, doubled letters; ``level`` in [0, 1]."""
    if level <= 0:
        return text
    words = text.split(" ")
    for k, w in enumerate(words):
        if len(w) < 4 or not w.isalpha() or rng.random() > level * 0.12:
            continue
        j = rng.randrange(1, len(w) - 1)
        op = rng.randrange(4)
        if op == 0:
            w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        elif op == 1:
            w = w[:j] + w[j + 1 :]
        elif op == 2:
            w = w[:j] + w[j] + w[j:]
        else:
            near = _NEIGHBOURS.get(w[j].lower())
            if near:
                w = w[:j] + rng.choice(near) + w[j + 1 :]
        words[k] = w
    text = " ".join(words)
    if rng.random() < level * 0.5:
        text = text.replace("'", "")
    if rng.random() < level * 0.35:
        text = text.lower()
    if rng.random() < level * 0.2:
        text = text.replace(". ", " ").replace(", ", " ")
    return text
