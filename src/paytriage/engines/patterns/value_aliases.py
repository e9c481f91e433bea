"""Aliases between the values logs name and the values tickets and records name, learned from data.

Why: a connector logs a partner bank by its BIC (``bank=HANSDEFFXXX``) while merchants, tickets and
the transaction records name it (``Hanse Handelsbank``); a log alert about that bank then shares no
token with the tickets it explains. No directory is needed to connect them: every log line that
names a stored transaction pairs the line's values with that transaction's own (its partner bank),
and a pair that holds nearly every time in both directions is an alias. Scoped to the record
fields given (banks by default), so common values (currencies, statuses) never become aliases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

__all__ = ["ValueAliases"]


class ValueAliases:
    """Learns ``log value <-> record value`` aliases from co-occurrence; scikit-learn style.

    A log value ``v`` is an alias of record value ``w`` when they appear together at least
    ``min_count`` times, ``v`` appears with ``w`` in at least ``min_share`` of ``v``'s lines (a
    status or currency every bank's lines carry fails this), and ``v`` is named by at least
    ``min_reverse`` of the lines about ``w`` (a merchant id, always with its one bank but on few
    of the bank's lines, fails this: sandbox BICs are on 87-100 % of their bank's lines, merchant
    ids on under 10 %). An alias is a second name, so a record value that would gain more than
    ``max_aliases`` is a hub, not a name, and gains none.
    """

    def __init__(
        self, *, min_count: int = 5, min_share: float = 0.9, min_reverse: float = 0.3, max_aliases: int = 3
    ) -> None:
        self.min_count = min_count
        self.min_share = min_share
        self.min_reverse = min_reverse
        self.max_aliases = max_aliases

    def fit(self, pairs: Iterable[tuple[Iterable[str], str]]) -> ValueAliases:
        """``pairs``: (the values one log line names, the record value of its transaction)."""
        together: Counter[tuple[str, str]] = Counter()
        per_value: Counter[str] = Counter()
        per_record: Counter[str] = Counter()
        for values, record in pairs:
            w = record.strip().lower()
            if not w:
                continue
            per_record[w] += 1
            for v in {v.lower() for v in values if v and v.lower() != w}:
                per_value[v] += 1
                together[(v, w)] += 1
        found: dict[str, set[str]] = {}
        for (v, w), n in together.items():
            if (
                n >= self.min_count
                and n >= self.min_share * per_value[v]
                and n >= self.min_reverse * per_record[w]
            ):
                found.setdefault(w, set()).add(v)
        self.aliases_: dict[str, set[str]] = {}
        for w, vs in found.items():
            if len(vs) > self.max_aliases:
                continue
            self.aliases_.setdefault(w, set()).update(vs)
            for v in vs:
                self.aliases_.setdefault(v, set()).add(w)
        return self

    def expand(self, tokens: Iterable[str]) -> set[str]:
        """The aliases of ``tokens`` (lower case), not including the tokens themselves."""
        table = getattr(self, "aliases_", {})
        have = {t.lower() for t in tokens}
        return {a for t in have for a in table.get(t, ())} - have
