"""Incremental problem grouping: a new ticket joins the best-matching open problem or opens one.

Why single-pass and candidate-indexed: grouping must keep up with a live queue and scale to a
million tickets on two cores, so a ticket is compared only with problems reachable through its
entity keys (BIN, error code, plugin version, ...) or its rarest words, never with all problems.
The match score mixes three kinds of evidence, each visible in the :class:`Explanation`:

    score = (text_weight * cosine(ticket words, problem words) + sum(shared key weights))
            * exp(-hours since the problem's last ticket / time_scale_hours)

A key's weight is its kind's weight (``KEY_WEIGHTS``) discounted by how common the key is, like
IDF for words: a decline code carried by one ticket in five (``05``, ``51``) says little about
"same problem", a rare one (an issuer's ``91`` burst, one plugin version) says a lot. Without the
discount a million tickets collapse into a few problems per common code.

People correct the result with :meth:`ProblemGrouper.merge`, ``split``, ``rename`` and
``reject``; rejections are remembered so a refused pairing is never proposed again.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from operator import mul

from paytriage.domain.errors import InputError, NotFoundError
from paytriage.engines.patterns.features import KEY_WEIGHTS, TicketFeatures, tokenize
from paytriage.engines.patterns.problem_state import ProblemState

__all__ = ["Assignment", "Explanation", "MergeSuggestion", "ProblemGrouper"]

Vector = dict[str, float]
_KIND_WEIGHT = {k.value: w for k, w in KEY_WEIGHTS.items()}
#: Keys weaker than this (merchant, country) add to a score but never make a ticket a candidate.
_INDEXED_KEY_WEIGHT = 0.2
#: Upper bound of a cosine between unit vectors, with room for rounding: a candidate whose score
#: could not beat the best so far even at this similarity is not compared word by word.
_COS_BOUND = 1.0 + 1e-9


def _strong(key: str) -> bool:
    return _KIND_WEIGHT.get(key.split(":", 1)[0], 0.0) >= _INDEXED_KEY_WEIGHT


def _cosine(vec: Vector, p: ProblemState) -> float:
    """``ProblemState.cosine`` with the same summation order, without a Python-level generator."""
    if p.norm2 <= 0.0:
        return 0.0
    c = p.centroid
    dot: float = sum(map(mul, vec.values(), map(c.get, vec.keys(), repeat(0.0))))
    return dot / math.sqrt(p.norm2)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a ticket went where it went: the evidence behind the score."""

    text_similarity: float
    shared_terms: tuple[str, ...]
    shared_keys: tuple[str, ...]
    time_factor: float
    reason: str


@dataclass(frozen=True, slots=True)
class Assignment:
    """Outcome of :meth:`ProblemGrouper.add` for one ticket."""

    ticket_id: str
    problem_id: int
    is_new: bool
    score: float
    explanation: Explanation


@dataclass(frozen=True, slots=True)
class MergeSuggestion:
    """Two problems that look like one; a person accepts (merge) or rejects it."""

    problem_a: int
    problem_b: int
    score: float
    shared_terms: tuple[str, ...]
    shared_keys: tuple[str, ...]


@dataclass(slots=True)
class _Index:
    """Key or term → most recently active problems (LRU of bounded size)."""

    size: int
    table: dict[str, OrderedDict[int, None]] = field(default_factory=dict)

    def touch(self, key: str, pid: int) -> None:
        lru = self.table.get(key)
        if lru is None:
            lru = self.table[key] = OrderedDict()
        lru[pid] = None
        lru.move_to_end(pid)
        if len(lru) > self.size:
            lru.popitem(last=False)

    def get(self, key: str) -> Iterable[int]:
        lru = self.table.get(key)
        return () if lru is None else lru.keys()


class ProblemGrouper:
    """Groups tickets into problems, one ticket at a time (``add``) or a batch (``fit``).

    Parameters are stored untouched (scikit-learn style); learned state ends in ``_``.
    ``join_threshold`` is the score at which a ticket joins a problem rather than opening one.
    ``key_common_share``: a key carried by at most this share of the tickets seen keeps its full
    weight; a more common one is discounted by log-rarity (``log(n/df) / log(1/share)``), once
    ``key_warmup`` tickets have been seen (0 share turns the discount off).
    ``conflict_weight``: how much a contradicting key counts against a problem — the ticket names
    a plugin version, error code, BIN, endpoint, bank or file type and the problem is characterised
    by a different one of that kind (0 turns it off).
    """

    def __init__(
        self,
        *,
        join_threshold: float = 0.45,
        text_weight: float = 0.7,
        time_scale_hours: float = 72.0,
        key_min_share: float = 0.3,
        index_terms: int = 4,
        candidates_per_key: int = 8,
        max_candidates: int = 8,
        max_terms: int = 60,
        key_common_share: float = 0.02,
        key_warmup: int = 500,
        conflict_weight: float = 1.0,
    ) -> None:
        self.join_threshold = join_threshold
        self.text_weight = text_weight
        self.time_scale_hours = time_scale_hours
        self.key_min_share = key_min_share
        self.index_terms = index_terms
        self.candidates_per_key = candidates_per_key
        self.max_candidates = max_candidates
        self.max_terms = max_terms
        self.key_common_share = key_common_share
        self.key_warmup = key_warmup
        self.conflict_weight = conflict_weight
        self.reset()

    # -- state ---------------------------------------------------------------------------------
    def reset(self) -> ProblemGrouper:
        """Forget every problem, ticket and rejection."""
        self.problems_: dict[int, ProblemState] = {}
        self.assignments_: dict[str, int] = {}
        self.df_: Counter[str] = Counter()
        self.n_seen_: int = 0
        self.key_df_: Counter[str] = Counter()
        self.aliases_: dict[int, int] = {}
        self.rejected_tickets_: set[tuple[str, int]] = set()
        self.rejected_merges_: set[tuple[int, int]] = set()
        self.frozen_: set[int] = set()
        self.next_id_: int = 1
        self._keys = _Index(self.candidates_per_key)
        self._terms = _Index(self.candidates_per_key)
        return self

    def resolve(self, problem_id: int) -> int:
        """The live id of a problem that may since have been merged into another."""
        seen = problem_id
        while seen in self.aliases_:
            seen = self.aliases_[seen]
        return seen

    def problem(self, problem_id: int) -> ProblemState:
        pid = self.resolve(problem_id)
        try:
            return self.problems_[pid]
        except KeyError:
            raise NotFoundError(f"no problem {problem_id}") from None

    # -- text ----------------------------------------------------------------------------------
    def _vector(self, text: str, *, learn: bool, counts: Mapping[str, int] | None = None) -> Vector:
        """Unit-length TF-IDF vector with document frequencies learned as tickets arrive.

        ``counts`` are the text's word counts when a feature worker already took them."""
        tf = Counter(tokenize(text)) if counts is None else counts
        if learn:
            self.n_seen_ += 1
            self.df_.update(tf.keys())
        n = self.n_seen_ + 1
        df = self.df_
        vec = {t: c * (math.log(n / (df.get(t, 0) + 1)) + 1.0) for t, c in tf.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    def _key_weight(self, key: str) -> float:
        """The kind's weight, discounted when the key is common among the tickets seen so far."""
        base = _KIND_WEIGHT.get(key.split(":", 1)[0], 0.0)
        n = self.n_seen_
        share = self.key_common_share
        if base <= 0.0 or share <= 0.0 or n < self.key_warmup:
            return base
        df = self.key_df_.get(key, 0)
        if df <= 0 or df <= share * n:
            return base
        return base * max(0.0, math.log(n / df) / math.log(1.0 / share))

    def _kind_weights(self, weighted: Sequence[tuple[str, float]]) -> dict[str, float]:
        """Per strong key kind the ticket carries, its heaviest key's (discounted) weight."""
        out: dict[str, float] = {}
        for k, w in weighted:
            if _strong(k):
                kind = k.split(":", 1)[0]
                out[kind] = max(w, out.get(kind, 0.0))
        return out

    def _conflict(self, kinds: Mapping[str, float], shared: Sequence[str], p: ProblemState) -> float:
        """Evidence against: for each strong kind the ticket names, the problem is characterised by
        another key of that kind and shares none of the ticket's (``2.4.1`` is not ``2.4.2``)."""
        if not kinds or self.conflict_weight <= 0.0:
            return 0.0
        agreed = {k.split(":", 1)[0] for k in shared}
        against = sum(
            w
            for kind, w in kinds.items()
            if kind not in agreed and p.has_characteristic_kind(kind, self.key_min_share)
        )
        return self.conflict_weight * against

    def _rare_terms(self, vec: Vector) -> list[str]:
        return sorted(vec, key=vec.__getitem__, reverse=True)[: self.index_terms]

    # -- scoring -------------------------------------------------------------------------------
    def _score(
        self, vec: Vector, keys: frozenset[str], when: datetime, p: ProblemState
    ) -> tuple[float, float, float, list[str]]:
        cos = p.cosine(vec)
        shared = p.characteristic(keys, self.key_min_share)
        key_score = min(1.0, sum(self._key_weight(k) for k in shared))
        key_score -= self._conflict(self._kind_weights([(k, self._key_weight(k)) for k in keys]), shared, p)
        gap_h = max(0.0, (when - p.last_seen).total_seconds() / 3600.0)
        time_factor = math.exp(-gap_h / self.time_scale_hours) if self.time_scale_hours > 0 else 1.0
        return (self.text_weight * cos + key_score) * time_factor, cos, time_factor, shared

    def _candidates(self, rare: list[str], keys: frozenset[str], ticket_id: str) -> list[int]:
        """Problems reachable through a strong key or a rare word, most hits first, at most
        ``max_candidates``: this cap is what keeps ``add`` constant-time as problems pile up."""
        hits: Counter[int] = Counter()
        for k in sorted(keys):  # sorted: ties in most_common keep first-seen order, so no hash order
            if _strong(k):
                hits.update(self._keys.get(k))
        for t in rare:
            hits.update(self._terms.get(t))
        if not hits:
            return []
        rejected = self.rejected_tickets_
        frozen = self.frozen_
        problems = self.problems_
        return [
            pid
            for pid, _ in hits.most_common(self.max_candidates + len(frozen))
            if pid in problems and pid not in frozen and (not rejected or (ticket_id, pid) not in rejected)
        ][: self.max_candidates]

    def _best(
        self, vec: Vector, keys: frozenset[str], when: datetime, candidates: list[int]
    ) -> tuple[int, tuple[float, float, float, list[str]] | None]:
        """The best-scoring candidate (ties to the lower id), exactly as scoring every one would.

        Key and time evidence are cheap, the word cosine is not: candidates are visited by their
        best possible score (cosine 1) and the walk stops once that cannot beat the best so far."""
        bounds: list[tuple[float, int, float, float, list[str]]] = []
        scale = self.time_scale_hours
        text_weight = self.text_weight
        min_share = self.key_min_share
        weighted = [(k, self._key_weight(k)) for k in sorted(keys)]
        kinds = self._kind_weights(weighted)
        for pid in candidates:
            p = self.problems_[pid]
            # = p.characteristic(keys, min_share) and its summed weights, in one pass
            floor = min_share * (len(p.ticket_ids) or 1)
            counts = p.key_counts
            shared = [k for k, _ in weighted if counts.get(k, 0) >= floor]
            key_score = min(1.0, sum(w for k, w in weighted if counts.get(k, 0) >= floor)) if shared else 0.0
            key_score -= self._conflict(kinds, shared, p)
            gap_h = max(0.0, (when - p.last_seen).total_seconds() / 3600.0)
            time_factor = math.exp(-gap_h / scale) if scale > 0 else 1.0
            bound = (text_weight * _COS_BOUND + key_score) * time_factor
            bounds.append((bound, pid, key_score, time_factor, shared))
        bounds.sort(key=lambda b: (-b[0], b[1]))
        best: tuple[float, float, float, list[str]] | None = None
        best_pid = -1
        for bound, pid, key_score, time_factor, shared in bounds:
            if best is not None and bound < best[0]:
                break
            cos = _cosine(vec, self.problems_[pid])
            score = (text_weight * cos + key_score) * time_factor
            if best is None or score > best[0] or (score == best[0] and pid < best_pid):
                best, best_pid = (score, cos, time_factor, shared), pid
        return best_pid, best

    # -- public API ----------------------------------------------------------------------------
    def add(self, ticket: TicketFeatures) -> Assignment:
        """Assign one ticket: join the best candidate above ``join_threshold`` or open a problem."""
        if ticket.ticket_id in self.assignments_:
            raise InputError(f"ticket {ticket.ticket_id!r} is already grouped", field="ticket_id")
        vec = self._vector(ticket.text, learn=True, counts=ticket.term_counts)
        self.key_df_.update(ticket.keys)
        rare = self._rare_terms(vec)
        candidates = self._candidates(rare, ticket.keys, ticket.ticket_id)
        best_pid, best = self._best(vec, ticket.keys, ticket.created_at, candidates)
        if best is not None and best[0] >= self.join_threshold:
            score, cos, tf, shared = best
            p = self.problems_[best_pid]
            terms = p.shared_terms(vec, 5)
            parts = [f"text similarity {cos:.2f}"]
            if shared:
                parts.append("shares " + ", ".join(shared))
            explanation = Explanation(round(cos, 4), terms, tuple(shared), round(tf, 4), "; ".join(parts))
            self._attach(best_pid, ticket, vec, rare)
            return Assignment(ticket.ticket_id, best_pid, False, round(score, 4), explanation)
        pid = self._open(ticket, vec, rare)
        reason = "no open problem matched" if best is None else f"best match scored {best[0]:.2f}"
        explanation = Explanation(0.0, (), (), 1.0, reason)
        return Assignment(ticket.ticket_id, pid, True, 1.0, explanation)

    def fit(self, tickets: Iterable[TicketFeatures]) -> ProblemGrouper:
        """Group a batch from scratch, oldest first (ties by ticket id) so the result is reproducible."""
        self.reset()
        for t in sorted(tickets, key=lambda x: (x.created_at, x.ticket_id)):
            self.add(t)
        return self

    def partial_fit(self, tickets: Iterable[TicketFeatures]) -> list[Assignment]:
        """Add a batch to the existing problems (incremental), oldest first."""
        return [self.add(t) for t in sorted(tickets, key=lambda x: (x.created_at, x.ticket_id))]

    def _open(self, ticket: TicketFeatures, vec: Vector, rare: list[str] | None = None) -> int:
        pid = self.next_id_
        self.next_id_ += 1
        self.problems_[pid] = ProblemState(pid, ticket.created_at, ticket.created_at)
        self._attach(pid, ticket, vec, rare)
        return pid

    def _attach(self, pid: int, ticket: TicketFeatures, vec: Vector, rare: list[str] | None = None) -> None:
        p = self.problems_[pid]
        p.add(ticket, vec, self.max_terms)
        self.assignments_[ticket.ticket_id] = pid
        for k in ticket.keys:
            if _strong(k):
                self._keys.touch(k, pid)
        for t in self._rare_terms(vec) if rare is None else rare:
            self._terms.touch(t, pid)

    # -- corrections (remembered) --------------------------------------------------------------
    def merge(self, into: int, other: int) -> int:
        """Fold ``other`` into ``into``; ``other``'s id keeps resolving to the survivor."""
        a, b = self.resolve(into), self.resolve(other)
        if a == b:
            return a
        pa, pb = self.problem(a), self.problems_.pop(b)
        pa.absorb(pb, self.max_terms)
        self.aliases_[b] = a
        for tid in pb.ticket_ids:
            self.assignments_[tid] = a
        for k in pb.key_counts:
            if _strong(k):
                self._keys.touch(k, a)
        for t in pa.top_terms(self.index_terms):
            self._terms.touch(t, a)
        return a

    def split(self, problem_id: int, tickets: Sequence[TicketFeatures]) -> int:
        """Move ``tickets`` out of a problem into a new one; the two are never re-merged and the
        moved tickets are never proposed for the old problem again."""
        pid = self.resolve(problem_id)
        p = self.problem(pid)
        moving = [t for t in tickets if self.assignments_.get(t.ticket_id) == pid]
        if not moving or len(moving) == p.size:
            raise InputError("split needs some, but not all, of the problem's tickets")
        new_pid = self.next_id_
        self.next_id_ += 1
        start = min(t.created_at for t in moving)
        self.problems_[new_pid] = ProblemState(new_pid, start, start)
        for t in sorted(moving, key=lambda x: (x.created_at, x.ticket_id)):
            vec = self._vector(t.text, learn=False, counts=t.term_counts)
            p.remove(t, vec)
            self.rejected_tickets_.add((t.ticket_id, pid))
            self._attach(new_pid, t, vec)
        self.rejected_merges_.add((min(pid, new_pid), max(pid, new_pid)))
        return new_pid

    def freeze(self, problem_id: int) -> None:
        """Stop ``add`` from joining tickets to this problem; only :meth:`move` adds to it now
        (a systemic problem whose membership another component decides)."""
        self.frozen_.add(self.resolve(problem_id))

    def similarity(self, ticket: TicketFeatures, problem_id: int) -> float:
        """Cosine between a ticket's words and a problem's word profile (no state changes)."""
        vec = self._vector(ticket.text, learn=False, counts=ticket.term_counts)
        return self.problem(problem_id).cosine(vec)

    def move(self, tickets: Sequence[TicketFeatures], problem_id: int | None = None) -> int:
        """Put already-grouped ``tickets`` into ``problem_id`` (a new problem when None), taking them
        out of wherever they were; problems left empty disappear. Returns the receiving id.

        Used when other evidence (a burst on a shared key) says these tickets are one problem."""
        moving = [t for t in tickets if t.ticket_id in self.assignments_]
        if not moving:
            raise InputError("move needs tickets that are already grouped", field="tickets")
        target = None if problem_id is None else self.resolve(problem_id)
        if target is not None and target not in self.problems_:
            raise NotFoundError(f"no problem {problem_id}")
        for t in sorted(moving, key=lambda x: (x.created_at, x.ticket_id)):
            current = self.resolve(self.assignments_[t.ticket_id])
            if current == target:
                continue
            vec = self._vector(t.text, learn=False, counts=t.term_counts)
            old = self.problems_[current]
            if old.size > 1:
                old.remove(t, vec)
            else:
                del self.problems_[current]
            if target is None:
                target = self.next_id_
                self.next_id_ += 1
                self.problems_[target] = ProblemState(target, t.created_at, t.created_at)
            self._attach(target, t, vec)
        assert target is not None
        return target

    def reject(self, problem_id: int, ticket: TicketFeatures) -> Assignment:
        """The ticket does not belong to the problem: take it out and regroup it elsewhere."""
        pid = self.resolve(problem_id)
        p = self.problem(pid)
        if self.assignments_.get(ticket.ticket_id) != pid:
            raise InputError(f"ticket {ticket.ticket_id!r} is not in problem {pid}", field="ticket_id")
        self.rejected_tickets_.add((ticket.ticket_id, pid))
        if p.size > 1:
            p.remove(ticket, self._vector(ticket.text, learn=False, counts=ticket.term_counts))
        else:
            del self.problems_[pid]
        del self.assignments_[ticket.ticket_id]
        self.n_seen_ -= 1
        self.df_.subtract(set(tokenize(ticket.text)))
        self.key_df_.subtract(ticket.keys)
        return self.add(ticket)

    def reject_merge(self, a: int, b: int) -> None:
        """Remember that two problems are different, so :meth:`suggest_merges` stays quiet."""
        x, y = self.resolve(a), self.resolve(b)
        self.rejected_merges_.add((min(x, y), max(x, y)))

    def rename(self, problem_id: int, title: str) -> None:
        """Give a problem a human title that automatic titling never overwrites."""
        if not title.strip():
            raise InputError("title must not be empty", field="title")
        self.problem(problem_id).title = title.strip()

    def suggest_merges(self, *, min_score: float | None = None) -> list[MergeSuggestion]:
        """Pairs of problems whose word profiles and characteristic keys match; best first."""
        threshold = self.join_threshold if min_score is None else min_score
        out: list[MergeSuggestion] = []
        for a, pa in self.problems_.items():
            vec = pa.unit_centroid()
            keys = frozenset(pa.characteristic(pa.key_counts.keys(), self.key_min_share))
            cands: set[int] = set()
            for k in keys:
                if _strong(k):
                    cands.update(self._keys.get(k))
            for t in self._rare_terms(vec):
                cands.update(self._terms.get(t))
            for b in cands:
                if b <= a or b not in self.problems_ or (a, b) in self.rejected_merges_:
                    continue
                pb = self.problems_[b]
                when = max(pa.last_seen, pb.last_seen)
                score, _cos, _tf, shared = self._score(vec, keys, when, pb)
                if score >= threshold:
                    terms = pb.shared_terms(vec, 5)
                    out.append(MergeSuggestion(a, b, round(score, 4), terms, tuple(shared)))
        return sorted(out, key=lambda s: (-s.score, s.problem_a, s.problem_b))
