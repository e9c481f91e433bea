"""Duplicate detection: same requester and same transaction, or near-identical text, within a window.

A pure function over candidates the caller passes in (recent open cases of the same requester),
so storage decides how to fetch them and tests need no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rapidfuzz import fuzz

from paytriage.domain.clock import ensure_utc

__all__ = ["DuplicateCandidate", "DuplicateMatch", "find_duplicate"]


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    """An existing case (or ticket) the new ticket might repeat."""

    case_id: str
    created_at: datetime
    text: str
    requester_id: str | None = None
    requester_email: str | None = None
    transaction_ids: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    case_id: str
    reason: str
    similarity: float


def _same_requester(c: DuplicateCandidate, requester_id: str | None, requester_email: str | None) -> bool:
    if requester_id and c.requester_id and requester_id == c.requester_id:
        return True
    return bool(
        requester_email
        and c.requester_email
        and requester_email.strip().lower() == c.requester_email.strip().lower()
    )


def find_duplicate(
    *,
    text: str,
    created_at: datetime,
    requester_id: str | None,
    requester_email: str | None,
    transaction_ids: Iterable[str],
    candidates: Sequence[DuplicateCandidate],
    window: timedelta = timedelta(days=7),
    min_similarity: float = 90.0,
) -> DuplicateMatch | None:
    """The most recent matching candidate: same requester, within ``window``, same transaction or text."""
    created = ensure_utc(created_at)
    txns = {t.lower() for t in transaction_ids}
    best: tuple[datetime, DuplicateMatch] | None = None
    for c in candidates:
        when = ensure_utc(c.created_at)
        if abs(created - when) > window or not _same_requester(c, requester_id, requester_email):
            continue
        shared = txns & {t.lower() for t in c.transaction_ids}
        if shared:
            match = DuplicateMatch(c.case_id, f"same requester and transaction {sorted(shared)[0]}", 100.0)
        else:
            sim = float(fuzz.token_set_ratio(text[:2000].lower(), c.text[:2000].lower()))
            if sim < min_similarity:
                continue
            match = DuplicateMatch(c.case_id, f"same requester and near-identical text ({sim:.0f}%)", sim)
        if best is None or when > best[0]:
            best = (when, match)
    return best[1] if best else None
