"""TemplateMiner: a streaming, persistent log template miner (the job of Drain/Drain3).

How a line is placed:

1. it is split on whitespace and every token masked (:mod:`.masking`), so ids and numbers become
   ``<*>`` before anything is compared;
2. lines are bucketed by token count and first token (Drain's prefix tree at depth 1) and join the
   most similar *cluster* of their bucket when at least ``sim_threshold`` of the positions agree, or
   else a cluster of the same length whose template fits them everywhere (a template of variables
   only fits nothing with words), or else one they fit everywhere but at the first token, when at
   least three words agree (logs that open with a program or user name);
3. inside a cluster, a position only becomes a variable (``<*>``) once it has shown
   ``variable_after`` (5) distinct values, or a value that masking marked as variable. Until then
   each combination of its values is a template of its own: ``SCREEN_ON``/``SCREEN_OFF``,
   ``failure``/``failures``, ``GET``/``POST``/``DELETE`` or a state machine's ``Started``/``Paused``/
   ``Resumed``/``Stopped`` stay apart, while user names, hosts and ids soon turn into ``<*>``.
   Waiting costs no grouping in the end: the templates a flip merges resolve to one id.
   When a position flips, the templates it separated merge; the merged ids stay as aliases
   (:meth:`TemplateMiner.resolve`), so an id once handed out always leads to a live template;
4. templates are also indexed by *shape* (each run of variable-only tokens collapsed to one
   ``<*>``): templates of different lengths with one shape (a list of one or five ids, a
   timestamp in one or two tokens) merge the same way, and show the shape as their text.

Placement is a pure function of the learnt state (the per-bucket memo is dropped whenever anything
it depends on changes), so a miner saved and loaded, or fed the same lines in one call or many,
hands out the same ids.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paytriage.engines.logmining import tokens as tk
from paytriage.engines.logmining.masking import PLACEHOLDER, Masker

__all__ = ["STATE_FORMAT", "STATE_VERSION", "Cluster", "Match", "StateError", "Template", "TemplateMiner"]

_WILD = PLACEHOLDER
_KNOWN_LIMIT = 100_000  # distinct values remembered as seen at variable positions
_TAIL_WORDS = 3  # words the rest of a line must share with a cluster it joins despite its first token
STATE_FORMAT = "paytriage.logmining.state"
STATE_VERSION = 2  # 2: known_values, multi_length (version 1 states load unchanged)


class StateError(ValueError):
    """A saved miner state that cannot be loaded (wrong format, newer version, broken file)."""


@dataclass(frozen=True, slots=True)
class Match:
    """Where one line went: its template id, the template text, the values of its ``<*>`` slots."""

    template_id: int
    template: str
    params: tuple[str, ...]
    is_new: bool


@dataclass(slots=True)
class Template:
    """One template. ``merged_into`` names the survivor once a variable position merged it away.

    ``multi_length`` is set once templates of other token counts joined it (a list of ids that
    is sometimes one token long, sometimes five): its text then shows each run of variable tokens
    as one ``<*>``, so it fits every line of the group.
    """

    id: int
    tokens: list[str]
    cluster: int
    size: int = 0
    merged_into: int | None = None
    multi_length: bool = False

    @property
    def text(self) -> str:
        return " ".join(tk.shape(self.tokens) if self.multi_length else self.tokens)


@dataclass(slots=True)
class Cluster:
    """Lines of one shape (Drain's log group): ``values[i]`` is None once position ``i`` is variable."""

    id: int
    tokens: list[str]
    values: list[set[str] | None]
    members: list[int] = field(default_factory=list)
    size: int = 0


@dataclass(slots=True)
class _Bucket:
    clusters: list[Cluster] = field(default_factory=list)
    memo: dict[tuple[str, ...], int] = field(default_factory=dict)


class TemplateMiner:
    """Learns templates from lines, one at a time (:meth:`add`) or in bulk (:meth:`fit`).

    Parameters follow scikit-learn: ``__init__`` only stores them, learnt state ends in ``_``.

    sim_threshold: share of positions that must agree for a line to join a cluster.
    variable_after: distinct values after which a position counts as a variable.
    masking: path of a masking table (YAML); None uses the packaged ``config/log_masking.yaml``.
    """

    def __init__(
        self, *, sim_threshold: float = 0.5, variable_after: int = 5, masking: str | Path | None = None
    ) -> None:
        self.sim_threshold = sim_threshold
        self.variable_after = variable_after
        self.masking = masking
        self._reset()

    def _reset(self) -> None:
        self.masker_ = Masker.from_file(self.masking)
        self.templates_: dict[int, Template] = {}
        self.clusters_: dict[int, Cluster] = {}
        self.n_lines_ = 0
        self.known_values_: set[str] = set()
        self._fine: dict[tuple[int, tuple[str, ...]], int] = {}
        self._buckets: dict[tuple[int, str], _Bucket] = {}
        self._by_length: dict[int, list[Cluster]] = {}
        self._buckets_by_length: dict[int, list[_Bucket]] = {}
        self._shapes: dict[tuple[str, ...], set[int]] = {}

    # -- public API --------------------------------------------------------------------------------

    def fit(self, lines: Iterable[str]) -> TemplateMiner:
        """Learn from ``lines``, continuing from the current state; returns self."""
        mask = self.masker_.mask_tokens
        learn = self._learn
        for line in lines:
            learn(mask(line.split()))
        return self

    def fit_predict(self, lines: Iterable[str]) -> list[int]:
        """Learn from ``lines``; each line's template id as of the end (merges resolved)."""
        mask = self.masker_.mask_tokens
        learn = self._learn
        ids = [learn(mask(line.split()))[0].id for line in lines]
        return [self.resolve(i).id for i in ids]

    def add(self, line: str) -> Match:
        """Learn one line and say where it went."""
        raw = line.split()
        own, is_new = self._learn(self.masker_.mask_tokens(raw))
        live = self.resolve(own.id)
        return Match(live.id, live.text, tk.params(own.tokens, raw), is_new and live is own)

    def add_line(self, line: str) -> int:
        """:meth:`add` without building a :class:`Match`: the template id only (bulk use)."""
        return self.resolve(self._learn(self.masker_.mask_tokens(line.split()))[0].id).id

    def match(self, line: str) -> Match | None:
        """The template ``line`` fits, learning nothing; None when no template fits."""
        raw = line.split()
        own = self._lookup(self.masker_.mask_tokens(raw))
        if own is None:
            return None
        live = self.resolve(own.id)
        return Match(live.id, live.text, tk.params(own.tokens, raw), False)

    def predict(self, lines: Iterable[str]) -> list[int | None]:
        """Template id of each line without learning (None when no template fits)."""
        out: list[int | None] = []
        for line in lines:
            tpl = self._lookup(self.masker_.mask_tokens(line.split()))
            out.append(None if tpl is None else self.resolve(tpl.id).id)
        return out

    def resolve(self, template_id: int) -> Template:
        """The live template behind an id (following merges). KeyError for an id never handed out."""
        tpl = self.templates_[template_id]
        while tpl.merged_into is not None:
            tpl = self.templates_[tpl.merged_into]
        return tpl

    def templates(self) -> Iterator[Template]:
        """Live templates (merged ones excluded), in id order."""
        return (t for t in self.templates_.values() if t.merged_into is None)

    def rule_hits(self) -> dict[str, int]:
        """How often each masking rule fired since this miner started (not persisted)."""
        return dict(self.masker_.hits)

    # -- persistence -------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The learnt state as plain JSON data (versioned; no pickle)."""
        return {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "params": {
                "sim_threshold": self.sim_threshold,
                "variable_after": self.variable_after,
                "masking": None if self.masking is None else str(self.masking),
            },
            "masking_version": self.masker_.version,
            "n_lines": self.n_lines_,
            "known_values": sorted(self.known_values_),
            "clusters": [
                {
                    "id": c.id,
                    "tokens": c.tokens,
                    "size": c.size,
                    "members": c.members,
                    "values": [None if v is None else sorted(v) for v in c.values],
                }
                for c in self.clusters_.values()
            ],
            "templates": [
                {
                    "id": t.id,
                    "tokens": t.tokens,
                    "cluster": t.cluster,
                    "size": t.size,
                    "merged_into": t.merged_into,
                    **({"multi_length": True} if t.multi_length else {}),
                }
                for t in self.templates_.values()
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TemplateMiner:
        """Rebuild a miner from :meth:`to_dict` output; placement continues exactly where it stopped."""
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise StateError(f"not a miner state (expected format {STATE_FORMAT!r})")
        version = data.get("version")
        if not isinstance(version, int) or version > STATE_VERSION:
            raise StateError(
                f"miner state version {version!r} is newer than this code reads ({STATE_VERSION})"
            )
        try:
            params = data["params"]
            miner = cls(
                sim_threshold=float(params["sim_threshold"]),
                variable_after=int(params["variable_after"]),
                masking=params.get("masking"),
            )
            miner.n_lines_ = int(data.get("n_lines", 0))
            miner.known_values_ = {str(v) for v in data.get("known_values", ())}
            for row in sorted(data["templates"], key=lambda r: int(r["id"])):
                tpl = Template(
                    id=int(row["id"]),
                    tokens=[str(t) for t in row["tokens"]],
                    cluster=int(row["cluster"]),
                    size=int(row["size"]),
                    merged_into=row.get("merged_into"),
                    multi_length=bool(row.get("multi_length", False)),
                )
                miner.templates_[tpl.id] = tpl
            for row in sorted(data["clusters"], key=lambda r: int(r["id"])):
                tokens = [str(t) for t in row["tokens"]]
                cluster = Cluster(
                    id=int(row["id"]),
                    tokens=tokens,
                    values=[None if v is None else set(v) for v in row["values"]],
                    members=[int(m) for m in row["members"]],
                    size=int(row["size"]),
                )
                if len(cluster.values) != len(tokens):
                    raise StateError(
                        f"cluster {cluster.id}: {len(tokens)} tokens but {len(cluster.values)} values"
                    )
                miner.clusters_[cluster.id] = cluster
                miner._bucket(tokens).clusters.append(cluster)
                miner._by_length.setdefault(len(tokens), []).append(cluster)
                for tid in cluster.members:
                    miner._fine[(cluster.id, tuple(miner.templates_[tid].tokens))] = tid
                    miner._shapes.setdefault(tk.shape(miner.templates_[tid].tokens), set()).add(tid)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, StateError):
                raise
            raise StateError(f"broken miner state: {exc!r}") from exc
        return miner

    def save(self, path: str | Path) -> None:
        """Write the state as JSON, atomically (a crash never leaves half a file)."""
        target = Path(path)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(
            json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )
        os.replace(tmp, target)

    @classmethod
    def load(cls, path: str | Path) -> TemplateMiner:
        """Read a state written by :meth:`save`."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise StateError(f"{path}: cannot read miner state: {exc}") from exc
        return cls.from_dict(data)

    # -- learning ----------------------------------------------------------------------------------

    def _bucket(self, tokens: list[str]) -> _Bucket:
        key = (len(tokens), tk.route(tokens))
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket()
            self._buckets_by_length.setdefault(len(tokens), []).append(bucket)
        return bucket

    def _forget(self, n: int) -> None:
        """Something that placement of length-``n`` lines depends on changed: drop their memos."""
        for bucket in self._buckets_by_length.get(n, ()):
            bucket.memo.clear()

    def _learn(self, tokens: list[str]) -> tuple[Template, bool]:
        self.n_lines_ += 1
        bucket = self._bucket(tokens)
        key = tuple(tokens)
        tid = bucket.memo.get(key)
        if tid is not None:
            tpl = self.templates_[tid]
            (tpl if tpl.merged_into is None else self.resolve(tid)).size += 1
            self.clusters_[tpl.cluster].size += 1
            return tpl, False
        cluster = self._search(bucket, tokens)
        if cluster is None:
            cluster = self._new_cluster(tokens, bucket)
        else:
            self._absorb(cluster, tokens)
        cluster.size += 1
        values = cluster.values
        ctoks = cluster.tokens
        fine = tuple([ctoks[i] if values[i] is None else tok for i, tok in enumerate(tokens)])
        tid = self._fine.get((cluster.id, fine))
        is_new = tid is None
        if tid is None:
            tid = len(self.templates_) + 1
            self.templates_[tid] = Template(id=tid, tokens=list(fine), cluster=cluster.id)
            self._fine[(cluster.id, fine)] = tid
            cluster.members.append(tid)
            self._reshape(self.templates_[tid], None)
        tpl = self.templates_[tid]
        (tpl if tpl.merged_into is None else self.resolve(tid)).size += 1
        bucket.memo[key] = tid
        return tpl, is_new

    def _new_cluster(self, tokens: list[str], bucket: _Bucket) -> Cluster:
        cid = len(self.clusters_) + 1
        cluster = Cluster(id=cid, tokens=list(tokens), values=[None if _WILD in t else {t} for t in tokens])
        self.clusters_[cid] = cluster
        bucket.clusters.append(cluster)
        self._by_length.setdefault(len(tokens), []).append(cluster)
        self._forget(len(tokens))
        return cluster

    def _absorb(self, cluster: Cluster, tokens: list[str]) -> None:
        """Widen the cluster to cover ``tokens``; re-key its templates when a position turned variable."""
        ctoks = cluster.tokens
        values = cluster.values
        limit = self.variable_after
        known = self.known_values_
        changed = False
        for i, tok in enumerate(tokens):
            a = ctoks[i]
            if a != tok and a != _WILD:
                ctoks[i] = tk.generalise(a, tok)
                changed = changed or values[i] is None
            seen = values[i]
            if seen is None:
                if a == _WILD and _WILD not in tok and len(known) < _KNOWN_LIMIT:
                    known.add(tok)
            elif tok not in seen:
                if len(seen) + 1 >= limit or _WILD in tok or (tok in known and not known.isdisjoint(seen)):
                    # Values of a position that proved variable are remembered: met again together
                    # at a constant-looking position elsewhere, they make it a variable at once.
                    # (Added at every flip so that absorbing a line twice never changes the state.)
                    if len(known) < _KNOWN_LIMIT:
                        known.update(seen)
                        if _WILD not in tok:
                            known.add(tok)
                    values[i] = None
                    changed = True
                else:
                    seen.add(tok)
        if changed:
            self._rekey(cluster)
            self._forget(len(tokens))

    def _rekey(self, cluster: Cluster) -> None:
        """Templates of ``cluster`` after positions turned variable: equal ones merge into the oldest."""
        values = cluster.values
        ctoks = cluster.tokens
        survivors: dict[tuple[str, ...], Template] = {}
        for tid in cluster.members:
            tpl = self.templates_[tid]
            old = tuple(tpl.tokens)
            new = tuple([ctoks[i] if values[i] is None else t for i, t in enumerate(old)])
            del self._fine[(cluster.id, old)]
            self._unshape(tpl)
            keep = survivors.get(new)
            if keep is None:
                tpl.tokens = list(new)
                survivors[new] = tpl
            else:
                self._merge(keep, tpl)
        for key, tpl in survivors.items():
            self._fine[(cluster.id, key)] = tpl.id
        cluster.members = [t.id for t in survivors.values()]
        for tpl in survivors.values():
            self._reshape(tpl, cluster.id)

    def _merge(self, a: Template, b: Template) -> None:
        """Join the groups of ``a`` and ``b``: the younger live template points at the older."""
        a, b = self.resolve(a.id), self.resolve(b.id)
        if a is b:
            return
        old, young = (a, b) if a.id < b.id else (b, a)
        young.merged_into = old.id
        old.size += young.size
        old.multi_length = old.multi_length or young.multi_length or len(old.tokens) != len(young.tokens)

    def _unshape(self, tpl: Template) -> None:
        ids = self._shapes.get(tk.shape(tpl.tokens))
        if ids is not None:
            ids.discard(tpl.id)

    def _reshape(self, tpl: Template, cluster_id: int | None) -> None:
        """Index ``tpl`` by its shape; templates of other lengths with the same shape join its group.

        A shape is the template with every run of variable tokens collapsed to one ``<*>``: lines
        that differ only in how many variable tokens they carry (lists of ids, multi-token values)
        land in clusters of different lengths but mean the same event.
        """
        key = tk.shape(tpl.tokens)
        ids = self._shapes.setdefault(key, set())
        others = [i for i in ids if self.templates_[i].cluster != tpl.cluster]
        ids.add(tpl.id)
        for i in sorted(others):
            self._merge(self.templates_[i], tpl)

    def _search(self, bucket: _Bucket, tokens: list[str]) -> Cluster | None:
        best: Cluster | None = None
        best_score = -1.0
        n = len(tokens) or 1
        for cluster in bucket.clusters:
            same = wild = 0
            for a, b in zip(cluster.tokens, tokens, strict=True):
                if a == b:
                    same += 1
                elif a == _WILD:
                    wild += 1
            score = same / n if same + wild < n else 1.0 + same / n  # fitting everywhere wins
            if score > best_score:
                best, best_score = cluster, score
        if best is not None and best_score >= self.sim_threshold:
            return best
        literal = any(_WILD not in t for t in tokens)
        for cluster in self._by_length.get(len(tokens), ()):
            # A template of variables only fits any line of its length: it may not swallow a line
            # with words of its own (``closeNotification`` is not ``<*>``).
            if tk.fits(cluster.tokens, tokens) and (
                not literal or any(_WILD not in t for t in cluster.tokens)
            ):
                return cluster
        if len(tokens) > _TAIL_WORDS:
            # Only the first token differs (a program or user name opening the line) and the rest
            # carries enough words to be sure it is the same sentence: join the cluster; the first
            # position then keeps templates apart until it proves variable (``variable_after``).
            for cluster in self._by_length.get(len(tokens), ()):
                tail = cluster.tokens[1:]
                if sum(_WILD not in t for t in tail) >= _TAIL_WORDS and tk.fits(tail, tokens[1:]):
                    return cluster
        return None

    def _lookup(self, tokens: list[str]) -> Template | None:
        """The template a line would join, without learning: it must fit the template everywhere."""
        bucket = self._buckets.get((len(tokens), tk.route(tokens)))
        if bucket is not None and (tid := bucket.memo.get(tuple(tokens))) is not None:
            return self.resolve(tid)
        for cluster in self._by_length.get(len(tokens), ()):
            for tid in cluster.members:
                tpl = self.templates_[tid]
                if tk.fits(tpl.tokens, tokens):
                    return tpl
        return None
