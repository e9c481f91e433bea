"""Regex alternations of many literal phrases, written as a trie so the regex engine stays fast.

Python's ``re`` tries every alternative of ``a|b|c…`` at every position; with hundreds of keywords
that dominates a scan. The trie form (``ca(?:rd(?: declined)?|sh)``) tries one branch per
character instead and matches exactly what the longest-first alternation
(``sorted(words, key=len, reverse=True)``) matches: at each position the longest phrase that lets
the rest of the pattern match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["trie_pattern"]


def trie_pattern(words: Iterable[str]) -> str:
    """A regex source matching the same as ``"|".join(map(re.escape, longest_first(words)))``.

    Empty strings are ignored; no words gives a pattern that never matches.
    """
    root: dict[str, dict[str, object]] = {}
    for word in words:
        if not word:
            continue
        node = root
        for ch in word:
            node = node.setdefault(ch, {})  # type: ignore[assignment]
        node[""] = {}
    if not root:
        return "(?!x)x"
    return "(?:" + _emit(root) + ")"


def _emit(node: dict[str, dict[str, object]]) -> str:
    alts = [re.escape(ch) + _emit(child) for ch, child in sorted(node.items()) if ch]  # type: ignore[arg-type]
    if not alts:
        return ""
    body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
    # Greedy "?" tries the longer continuation first, like the longest-first alternation.
    return f"(?:{body})?" if "" in node else body
