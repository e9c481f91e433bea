"""People's corrections to problems — rename, status (incl. reject), merge, split — remembered.

``detect_problems`` rebuilds problem rows from scratch, so row ids do not survive a re-run. Each
correction is therefore stored with the *member cases* of the problems it touched, and
:func:`apply_feedback` replays every correction, oldest first, onto whichever current problem holds
most of those cases. Containment (the share of the remembered cases a problem now holds) rather
than plain Jaccard decides the match, because a problem that grew from 5 to 50 tickets is still
the problem a person renamed; Jaccard only breaks ties. Call ``apply_feedback`` right after every
``detect_problems``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from paytriage.adapters.storage.orm import CaseRow, ProblemFeedbackRow, ProblemRow
from paytriage.domain import InputError, NotFoundError, ProblemStatus
from paytriage.services.problem_catalog import members_by_problem, recount

__all__ = [
    "FeedbackAction",
    "FeedbackReplay",
    "apply_feedback",
    "match_problem",
    "merge_problems",
    "rename_problem",
    "set_problem_status",
    "split_problem",
]

#: A remembered case set matches a current problem holding at least this share of it.
MIN_SHARE = 0.5


class FeedbackAction(StrEnum):
    RENAME = "rename"
    STATUS = "status"
    MERGE = "merge"
    SPLIT = "split"


@dataclass(slots=True)
class FeedbackReplay:
    """What :func:`apply_feedback` did: applied per action, and corrections no problem matched."""

    applied: dict[str, int] = field(default_factory=dict)
    unmatched: list[int] = field(default_factory=list)


def match_problem(
    members: dict[int, list[int]], case_ids: Sequence[int], *, min_share: float = MIN_SHARE
) -> int | None:
    """The problem holding the largest share (≥ ``min_share``) of ``case_ids``; Jaccard breaks ties."""
    wanted = {int(c) for c in case_ids}
    if not wanted:
        return None
    best: tuple[float, float, int] | None = None
    for pid, cases in members.items():
        have = set(cases)
        inter = len(wanted & have)
        if not inter:
            continue
        key = (inter / len(wanted), inter / len(wanted | have), -pid)
        if best is None or key > best:
            best = key
    if best is None or best[0] < min_share:
        return None
    return -best[2]


def _row(session: Session, problem_id: int) -> ProblemRow:
    row = session.get(ProblemRow, problem_id)
    if row is None:
        raise NotFoundError(f"problem {problem_id} not found")
    return row


def _members(session: Session, problem_id: int) -> list[int]:
    return members_by_problem(session, [problem_id]).get(problem_id, [])


def _remember(
    session: Session,
    action: FeedbackAction,
    case_ids: Sequence[int],
    *,
    actor: str,
    value: str | None = None,
    other: Sequence[int] = (),
) -> None:
    session.add(
        ProblemFeedbackRow(
            at=datetime.now(UTC),
            actor=actor[:128],
            action=action.value,
            case_ids=sorted(int(c) for c in case_ids),
            other_case_ids=sorted(int(c) for c in other),
            value=value,
        )
    )


def rename_problem(session: Session, *, problem_id: int, title: str, actor: str) -> ProblemRow:
    """Give a problem a person's title (kept across re-runs)."""
    title = " ".join(title.split())
    if not title:
        raise InputError("title must not be empty", field="title")
    if not title.isprintable():
        raise InputError("title must not contain control characters", field="title")
    row = _row(session, problem_id)
    row.title = title[:512]
    _remember(session, FeedbackAction.RENAME, _members(session, problem_id), actor=actor, value=row.title)
    session.flush()
    return row


def set_problem_status(session: Session, *, problem_id: int, status: ProblemStatus, actor: str) -> ProblemRow:
    """Confirm, reject, mitigate or resolve a problem (kept across re-runs)."""
    row = _row(session, problem_id)
    row.status = status.value
    members = _members(session, problem_id)
    _remember(session, FeedbackAction.STATUS, members, actor=actor, value=status.value)
    session.flush()
    return row


def _move(session: Session, case_ids: Sequence[int], problem_id: int) -> None:
    ids = list(case_ids)
    for start in range(0, len(ids), 500):
        session.execute(
            update(CaseRow).where(CaseRow.id.in_(ids[start : start + 500])).values(problem_id=problem_id)
        )


def _merge_rows(session: Session, source: ProblemRow, target: ProblemRow, cases: Sequence[int]) -> None:
    _move(session, cases, target.id)
    if target.defect_id is None:
        target.defect_id = source.defect_id
    session.flush()
    recount(session, target)
    session.delete(source)
    session.flush()


def merge_problems(session: Session, *, problem_id: int, into_id: int, actor: str) -> ProblemRow:
    """Move every case of ``problem_id`` into ``into_id`` and drop the emptied problem."""
    if problem_id == into_id:
        raise InputError("a problem cannot be merged into itself", field="into")
    source, target = _row(session, problem_id), _row(session, into_id)
    if source.defect_id is not None and target.defect_id not in (None, source.defect_id):
        raise InputError("both problems are linked to different defects; unlink one first", field="into")
    moved, kept = _members(session, problem_id), _members(session, into_id)
    _remember(session, FeedbackAction.MERGE, moved, actor=actor, other=kept)
    _merge_rows(session, source, target, moved)
    return target


def _split_rows(session: Session, row: ProblemRow, moved: Sequence[int], title: str | None) -> ProblemRow:
    new = ProblemRow(
        title=(title or f"Split from: {row.title}")[:512],
        summary="",
        status=ProblemStatus.CANDIDATE.value,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
        money_minor_by_currency={},
    )
    session.add(new)
    session.flush()
    _move(session, moved, new.id)
    session.flush()
    recount(session, new)
    recount(session, row)
    session.flush()
    return new


def split_problem(
    session: Session, *, problem_id: int, case_ids: Sequence[int], actor: str, title: str | None = None
) -> ProblemRow:
    """Move ``case_ids`` out of a problem into a new candidate problem; returns the new one."""
    row = _row(session, problem_id)
    members = _members(session, problem_id)
    moved = sorted({int(c) for c in case_ids})
    foreign = sorted(set(moved) - set(members))
    if not moved:
        raise InputError("name at least one case to split out", field="case_ids")
    if foreign:
        raise InputError(f"cases {foreign[:10]} are not in problem {problem_id}", field="case_ids")
    if len(moved) == len(members):
        raise InputError("a split must leave at least one case behind", field="case_ids")
    _remember(session, FeedbackAction.SPLIT, members, actor=actor, other=moved, value=title)
    return _split_rows(session, row, moved, title)


def apply_feedback(session: Session, *, min_share: float = MIN_SHARE) -> FeedbackReplay:
    """Replay every remembered correction onto the current problems, oldest first."""
    replay = FeedbackReplay()
    members = members_by_problem(session)
    for fb in session.scalars(
        select(ProblemFeedbackRow).order_by(ProblemFeedbackRow.at, ProblemFeedbackRow.id)
    ):
        pid = match_problem(members, fb.case_ids, min_share=min_share)
        if pid is None:
            replay.unmatched.append(fb.id)
            continue
        row = session.get(ProblemRow, pid)
        if row is None:  # pragma: no cover - members come from the same session
            continue
        action = FeedbackAction(fb.action)
        if action is FeedbackAction.RENAME and fb.value:
            row.title = fb.value
        elif action is FeedbackAction.STATUS and fb.value:
            row.status = ProblemStatus(fb.value).value
        elif action is FeedbackAction.MERGE:
            target_id = match_problem(members, fb.other_case_ids, min_share=min_share)
            if target_id is None:
                replay.unmatched.append(fb.id)
                continue
            if target_id != pid:
                target = session.get(ProblemRow, target_id)
                if target is None:  # pragma: no cover
                    continue
                moved = members.pop(pid)
                _merge_rows(session, row, target, moved)
                members[target_id] = sorted([*members[target_id], *moved])
        elif action is FeedbackAction.SPLIT:
            current = set(members[pid])
            moved = sorted(current & {int(c) for c in fb.other_case_ids})
            if moved and len(moved) < len(current):
                new = _split_rows(session, row, moved, fb.value)
                members[pid] = sorted(current - set(moved))
                members[new.id] = moved
        replay.applied[action.value] = replay.applied.get(action.value, 0) + 1
    session.flush()
    return replay
