"""Case-insensitive patterns run as case-sensitive ones over lower-cased text: same matches, ~2x faster.

Python's ``re.IGNORECASE`` folds every character it compares. Lower-casing the text once and
matching a lower-case twin of the pattern gives the same spans, because for every character
except three (``İ``, ``ı``, ``ſ``: see :data:`FOLD_SPECIAL`) ``c.lower()`` is one character with the
same ``\\w``/``\\d``/``\\s`` class, and it equals an ASCII letter exactly when ``IGNORECASE`` would
match that letter (checked over all of Unicode by the tests). Texts containing one of the three
take the original pattern. Values must be sliced from the original text with the match's span.
"""

from __future__ import annotations

import re

__all__ = ["FOLD_SPECIAL", "lowercase_twin", "required_twin"]

#: Characters for which lower-casing and ``IGNORECASE`` disagree (or whose lower case is longer).
FOLD_SPECIAL = re.compile("[\u0130\u0131\u017f]")
_INLINE_FLAGS = re.compile(r"(?<!\\)\(\?[aiLmsux-]")
_CHAR_ESCAPE = re.compile(r"(?<!\\)\\[xuUN0-7]")
_GROUP_NAME = re.compile(r"\(\?P[<=]\w+[>)]")


def lowercase_twin(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    """The case-sensitive twin of an ``IGNORECASE`` pattern for lower-cased text, or None.

    ASCII capitals outside escapes and group names are lower-cased (``[A-Z]`` becomes ``[a-z]``).
    Not derived when the source has inline flags, non-ASCII letters or escapes that name
    characters (``\\x``, ``\\u``, ``\\N``), where the twin could not be proved to match the same.
    """
    source = pattern.pattern
    if not pattern.flags & re.IGNORECASE or _INLINE_FLAGS.search(source) or _CHAR_ESCAPE.search(source):
        return None
    out: list[str] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            out.append(source[i : i + 2])
            i += 2
            continue
        name = _GROUP_NAME.match(source, i)
        if name:
            out.append(name.group(0))
            i = name.end()
            continue
        if ch.isalpha() and not ch.isascii():
            return None
        out.append(ch.lower() if "A" <= ch <= "Z" else ch)
        i += 1
    return re.compile("".join(out), pattern.flags & ~re.IGNORECASE)


def required_twin(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """:func:`lowercase_twin` for a pattern written to have one (a module-level maintenance check)."""
    twin = lowercase_twin(pattern)
    if twin is None:  # pragma: no cover - a maintenance error, caught by any test run
        raise RuntimeError(f"no lower-case twin for {pattern.pattern[:40]!r}")
    return twin
