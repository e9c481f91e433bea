"""TemplateMiner: a streaming, persistent log template miner (the job of Drain/Drain3).

How a line is placed:

1. it is split on whitespace and every token masked (:mod:`.masking`), so ids and numbers become
   ``<*>`` before anything is compared;
2. lines are bucketed by token count and first token (Drain's prefix tree, depth 1), and the line
   joins the most similar template in its bucket when enough positions agree (``sim_threshold``);
3. failing that, any template of the same length that already matches it everywhere (``<*>`` matching
   anything) takes it, so a wildcard learnt in one bucket serves the others;
4. :meth:`TemplateMiner.consolidate` (run at the end of :meth:`fit`) merges templates of equal length
   that differ in one position only, when that position has taken many different values: that is a
   variable, whatever bucket its first value landed in.

Placement of a line is a pure function of the current templates (the per-bucket memo is dropped when
a bucket changes), so a miner saved and loaded, or fed the same lines in one call or many, gives the
same template ids. Merged templates keep their id as an alias of the survivor.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from paytriage.engines.logmining.masking import PLACEHOLDER, Masker

__all__ = ["Match", "Template", "TemplateMiner"]

_WILD = PLACEHOLDER


@dataclass(frozen=True, slots=True)
class Match:
    """Where one line went: its template id, the template text, the values of its ``<*>`` slots."""

    template_id: int
    template: str
    params: tuple[str, ...]
    is_new: bool
    template_changed: bool = False


@dataclass(slots=True)
class Template:
    """One learnt template. ``merged_into`` points to the survivor when consolidation merged it."""

    id: int
    tokens: list[str]
    size: int = 0
    merged_into: int | None = None

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


@dataclass(slots=True)
class _Bucket:
    templates: list[Template] = field(default_factory=list)
    memo: dict[tuple[str, ...], int] = field(default_factory=dict)


def _route(tokens: list[str]) -> str:
    """The bucket key's token: the first token unless it is (or carries) a variable."""
    if not tokens:
        return ""
    first = tokens[0]
    return _WILD if _WILD in first else first


class TemplateMiner:
    """Learns templates from lines, one at a time (:meth:`add`) or in bulk (:meth:`fit`).

    Parameters follow scikit-learn: ``__init__`` only stores them, learnt state ends in ``_``.

    sim_threshold: share of positions that must agree for a line to join a template.
    merge_min_values: distinct values a position needs before :meth:`consolidate` calls it a variable.
    masking: path of a masking table (YAML); None uses the packaged ``config/log_masking.yaml``.
    """

    def __init__(self, *, sim_threshold: float = 0.5, merge_min_values: int = 3,
                 masking: str | Path | None = None) -> None:
        self.sim_threshold = sim_threshold
        self.merge_min_values = merge_min_values
        self.masking = masking
        self._reset()

    # -- state -------------------------------------------------------------------------------------

    def _reset(self) -> None:
        self.masker_ = Masker.from_file(self.masking)
        self.templates_: dict[int, Template] = {}
        self._buckets: dict[tuple[int, str], _Bucket] = {}
        self._by_length: dict[int, list[Template]] = defaultdict(list)
        self.n_lines_ = 0

    @property
    def masking_version_(self) -> str:
        return self.masker_.version

    # -- learning ----------------------------------------------------------------------------------

    def fit(self, lines: Iterable[str]) -> TemplateMiner:
        """Learn from ``lines`` (continuing from the current state) and consolidate; returns self."""
        for line in lines:
            self._learn(self.masker_.mask_tokens(line.split()))
        self.consolidate()
        return self

    def fit_predict(self, lines: Iterable[str]) -> list[int]:
        """Learn from ``lines`` and return each line's final template id (after consolidation)."""
        ids = [self._learn(self.masker_.mask_tokens(line.split()))[0].id for line in lines]
        self.consolidate()
        return [self.resolve(i).id for i in ids]

    def add(self, line: str) -> Match:
        """Learn one line; returns where it went (ids of merged templates resolve to the survivor)."""
        raw = line.split()
        tpl, is_new, changed = self._learn(self.masker_.mask_tokens(raw))
        return Match(tpl.id, tpl.text, self._params(tpl.tokens, raw), is_new, changed or is_new)

    def match(self, line: str) -> Match | None:
        """The template ``line`` fits without learning anything, or None."""
        raw = line.split()
        tokens = self.masker_.mask_tokens(raw)
        tpl = self._lookup(tokens, strict=True)
        if tpl is None:
            return None
        return Match(tpl.id, tpl.text, self._params(tpl.tokens, raw), False)

    def predict(self, lines: Iterable[str]) -> list[int | None]:
        """Template id of each line without learning (None when no template fits)."""
        out: list[int | None] = []
        for line in lines:
            tpl = self._lookup(self.masker_.mask_tokens(line.split()), strict=True)
            out.append(None if tpl is None else tpl.id)
        return out

    def resolve(self, template_id: int) -> Template:
        """The live template behind an id (following merges)."""
        tpl = self.templates_[template_id]
        while tpl.merged_into is not None:
            tpl = self.templates_[tpl.merged_into]
        return tpl

    def templates(self) -> Iterator[Template]:
        """Live templates (merged ones excluded), in id order."""
        return (t for t in self.templates_.values() if t.merged_into is None)

    # -- core --------------------------------------------------------------------------------------

    def _bucket(self, tokens: list[str]) -> _Bucket:
        key = (len(tokens), _route(tokens))
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket()
        return bucket

    def _learn(self, tokens: list[str]) -> tuple[Template, bool, bool]:
        self.n_lines_ += 1
        bucket = self._bucket(tokens)
        key = tuple(tokens)
        tid = bucket.memo.get(key)
        if tid is not None:
            tpl = self.templates_[tid]
            tpl.size += 1
            return tpl, False, False
        tpl_or_none = self._search(bucket, tokens)
        if tpl_or_none is None:
            tpl = Template(id=len(self.templates_) + 1, tokens=list(tokens), size=1)
            self._insert(tpl, bucket)
            bucket.memo[key] = tpl.id
            return tpl, True, False
        tpl = tpl_or_none
        tpl.size += 1
        changed = False
        ttoks = tpl.tokens
        for i, (a, b) in enumerate(zip(ttoks, tokens, strict=True)):
            if a != b and a != _WILD:
                ttoks[i] = _WILD
                changed = True
        if changed:
            self._invalidate(tpl)
        bucket.memo[key] = tpl.id
        return tpl, False, changed

    def _insert(self, tpl: Template, bucket: _Bucket) -> None:
        self.templates_[tpl.id] = tpl
        bucket.templates.append(tpl)
        bucket.memo.clear()
        self._by_length[len(tpl.tokens)].append(tpl)

    def _invalidate(self, tpl: Template) -> None:
        """A template changed: memos of every bucket of its length may now be stale."""
        n = len(tpl.tokens)
        for (length, _), bucket in self._buckets.items():
            if length == n:
                bucket.memo.clear()

    def _search(self, bucket: _Bucket, tokens: list[str]) -> Template | None:
        best: Template | None = None
        best_score = -1.0
        n = len(tokens) or 1
        for tpl in bucket.templates:
            same = 0
            wild = 0
            for a, b in zip(tpl.tokens, tokens, strict=True):
                if a == b:
                    same += 1
                elif a == _WILD:
                    wild += 1
            sim = same / n
            if same + wild == n:
                sim = 1.0 + same / n  # fits everywhere: prefer over partial agreement
            if sim > best_score:
                best, best_score = tpl, sim
        if best is not None and best_score >= self.sim_threshold:
            return best
        return self._fits_any(tokens)

    def _fits_any(self, tokens: list[str]) -> Template | None:
        """A template of the same length in another bucket that fits the line everywhere."""
        for tpl in self._by_length.get(len(tokens), ()):
            if tpl.merged_into is None and _fits(tpl.tokens, tokens):
                return tpl
        return None

    def _lookup(self, tokens: list[str], *, strict: bool) -> Template | None:
        bucket = self._buckets.get((len(tokens), _route(tokens)))
        if bucket is not None:
            tid = bucket.memo.get(tuple(tokens))
            if tid is not None:
                return self.resolve(tid)
            for tpl in bucket.templates:
                if _fits(tpl.tokens, tokens):
                    return tpl
        return self._fits_any(tokens) if strict else None

    # -- consolidation -----------------------------------------------------------------------------

    def consolidate(self) -> int:
        """Merge same-length templates differing in one position with many values; returns merges."""
        merges = 0
        for n, group in list(self._by_length.items()):
            live = [t for t in group if t.merged_into is None]
            if len(live) < self.merge_min_values:
                continue
            for pos in range(n):
                families: dict[tuple[str, ...], list[Template]] = defaultdict(list)
                for t in live:
                    if t.merged_into is None:
                        families[(*t.tokens[:pos], *t.tokens[pos + 1 :])].append(t)
                for members in families.values():
                    values = {t.tokens[pos] for t in members}
                    if len(values) < self.merge_min_values and _WILD not in values:
                        continue
                    if len(members) < 2:
                        continue
                    survivor = min(members, key=lambda t: t.id)
                    survivor.tokens[pos] = _WILD
                    for t in members:
                        if t is not survivor:
                            t.merged_into = survivor.id
                            survivor.size += t.size
                            merges += 1
            if merges:
                self._rebuild_length(n)
        return merges

    def _rebuild_length(self, n: int) -> None:
        """Buckets of length ``n`` rebuilt from the live templates, in id order (as :meth:`load` does)."""
        self._by_length[n] = sorted((t for t in self._by_length[n] if t.merged_into is None), key=lambda t: t.id)
        for (length, _), bucket in self._buckets.items():
            if length == n:
                bucket.templates = []
                bucket.memo.clear()
        for t in self._by_length[n]:
            self._bucket(t.tokens).templates.append(t)

    # -- parameters --------------------------------------------------------------------------------

    @staticmethod
    def _params(template: list[str], raw: list[str]) -> tuple[str, ...]:
        return tuple(_extract(t, r) for t, r in zip(template, raw, strict=False) if _WILD in t)


def _fits(template: list[str], tokens: list[str]) -> bool:
    for a, b in zip(template, tokens, strict=True):
        if a != b and a != _WILD:
            return False
    return True


def _extract(template_token: str, raw_token: str) -> str:
    """The raw text under a template token's ``<*>`` slots (whole token when it is just ``<*>``)."""
    if template_token == _WILD:
        return raw_token
    head, _, tail = template_token.partition(_WILD)
    if raw_token.startswith(head) and raw_token.endswith(tail.split(_WILD)[-1]):
        end = len(raw_token) - len(tail.split(_WILD)[-1])
        return raw_token[len(head) : end]
    return raw_token
