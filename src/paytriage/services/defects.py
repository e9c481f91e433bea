"""Defects inside paytriage: which cases a defect affects, its resolution, and its regressions.

A defect's cases are the union of three links: ``case_defects`` rows (escalation, a person, a problem,
a regression), the cases of problems pointing at it (``problems.defect_id``) and the ``escalated``
audit events. Problems are regrouped from scratch, so ``case_defects`` is the link that lasts.

Resolving a defect (by hand or from Jira's status) drafts one customer notification per requester of
its cases (:mod:`~paytriage.services.defect_notices`); nothing is sent. A *regression* is a ticket that
arrives after the resolution in a problem or case of the defect: the defect and the problem are flagged
``regressed``, the defect's resolved or closed cases are reopened with a history entry, and the
unsent "fixed" drafts are discarded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paytriage.adapters.connectors.jira import JiraClient, defect_status
from paytriage.adapters.storage.cases import CaseRepository
from paytriage.adapters.storage.orm import (
    AuditRow,
    CaseDefectRow,
    CaseRow,
    CaseTicketRow,
    DefectNotificationRow,
    DefectRow,
    ProblemRow,
    TicketRow,
)
from paytriage.domain import CaseStatus, InputError, NotFoundError, ProblemStatus, utcnow
from paytriage.domain.defect import DefectStatus
from paytriage.services.defect_notices import draft_notifications

__all__ = [
    "DefectView",
    "LinkReason",
    "Regression",
    "TrackerState",
    "affected_case_ids",
    "check_regressions",
    "create_defect",
    "defect_view",
    "link_cases",
    "link_problem",
    "list_defects",
    "resolve_defect",
    "set_status",
    "sync_jira",
    "sync_states",
]

ACTOR = "paytriage"
_CLOSED = {DefectStatus.RESOLVED.value, DefectStatus.WONT_FIX.value}


class LinkReason:
    """Why a case is linked to a defect (stored as text in ``case_defects.reason``)."""

    ESCALATED = "escalated"
    MANUAL = "manual"
    PROBLEM = "problem"
    REGRESSION = "regression"


@dataclass(slots=True)
class DefectView:
    id: int
    title: str
    status: str
    created_at: datetime
    resolved_at: datetime | None
    key: str | None
    url: str | None
    component: str | None
    case_ids: list[int] = field(default_factory=list)
    problem_ids: list[int] = field(default_factory=list)
    drafts: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "key": self.key,
            "url": self.url,
            "component": self.component,
            "cases": self.case_ids,
            "problems": self.problem_ids,
            "draft_notifications": self.drafts,
        }


@dataclass(slots=True)
class Regression:
    """A resolved defect whose problem came back: the new cases and the cases reopened."""

    defect_id: int
    problem_ids: list[int]
    new_case_ids: list[int]
    reopened_case_ids: list[int]
    #: Draft "fixed" notices not sent yet, discarded because the fix did not hold.
    withdrawn_notices: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "defect_id": self.defect_id,
            "problems": self.problem_ids,
            "new_cases": self.new_case_ids,
            "reopened_cases": self.reopened_case_ids,
            "withdrawn_notices": self.withdrawn_notices,
        }


def _defect(session: Session, defect_id: int) -> DefectRow:
    row = session.get(DefectRow, defect_id)
    if row is None:
        raise NotFoundError(f"defect {defect_id} not found")
    return row


def affected_case_ids(session: Session, defect_id: int) -> list[int]:
    """Every case linked to the defect, by any of the three links."""
    ids = set(session.scalars(select(CaseDefectRow.case_id).where(CaseDefectRow.defect_id == defect_id)))
    ids.update(
        session.scalars(
            select(CaseRow.id)
            .join(ProblemRow, ProblemRow.id == CaseRow.problem_id)
            .where(ProblemRow.defect_id == defect_id)
        )
    )
    for object_id, details in session.execute(
        select(AuditRow.object_id, AuditRow.details).where(
            AuditRow.action == "escalated", AuditRow.object_type == "case"
        )
    ):
        if (details or {}).get("defect_id") == defect_id and object_id and object_id.isdigit():
            ids.add(int(object_id))
    return sorted(ids)


def _problem_ids(session: Session, defect_id: int, case_ids: Iterable[int]) -> list[int]:
    ids = set(session.scalars(select(ProblemRow.id).where(ProblemRow.defect_id == defect_id)))
    cases = list(case_ids)
    for start in range(0, len(cases), 500):
        ids.update(
            p
            for p in session.scalars(
                select(CaseRow.problem_id).where(CaseRow.id.in_(cases[start : start + 500]))
            )
            if p is not None
        )
    return sorted(ids)


def defect_view(session: Session, defect_id: int) -> DefectView:
    d = _defect(session, defect_id)
    cases = affected_case_ids(session, defect_id)
    drafts = session.scalar(
        select(func.count())
        .select_from(DefectNotificationRow)
        .where(DefectNotificationRow.defect_id == defect_id, DefectNotificationRow.status == "draft")
    )
    return DefectView(
        d.id, d.title, d.status, d.created_at, d.resolved_at, d.external_key, d.external_url, d.component,
        cases, _problem_ids(session, defect_id, cases), int(drafts or 0),
    )  # fmt: skip


def list_defects(session: Session, *, status: str | None = None) -> list[DefectView]:
    """Defects, newest first, optionally of one status."""
    if status is not None and status not in {s.value for s in DefectStatus}:
        raise InputError(f"unknown defect status {status!r}", field="status")
    q = select(DefectRow.id).order_by(DefectRow.id.desc())
    if status is not None:
        q = q.where(DefectRow.status == status)
    return [defect_view(session, i) for i in session.scalars(q)]


def create_defect(
    session: Session,
    *,
    title: str,
    key: str | None = None,
    url: str | None = None,
    component: str | None = None,
    now: datetime | None = None,
) -> int:
    """A defect entered by hand (e.g. an existing Jira issue); the key must be new."""
    if not title.strip():
        raise InputError("a defect needs a title", field="title")
    if key and session.scalars(select(DefectRow.id).where(DefectRow.external_key == key)).first():
        raise InputError(f"defect {key} already exists", field="key")
    row = DefectRow(
        title=title.strip()[:512], status=DefectStatus.OPEN.value, created_at=now or utcnow(),
        external_key=key, external_url=url, component=component,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row.id


def link_cases(
    session: Session,
    defect_id: int,
    case_ids: Iterable[int],
    *,
    actor: str = ACTOR,
    reason: str = LinkReason.MANUAL,
    now: datetime | None = None,
) -> list[int]:
    """Link cases to the defect (idempotent); returns the cases newly linked."""
    _defect(session, defect_id)
    when = now or utcnow()
    wanted = sorted(set(case_ids))
    have = set(session.scalars(select(CaseDefectRow.case_id).where(CaseDefectRow.defect_id == defect_id)))
    added = []
    for cid in wanted:
        if session.get(CaseRow, cid) is None:
            raise NotFoundError(f"case {cid} not found")
        if cid not in have:
            session.add(
                CaseDefectRow(case_id=cid, defect_id=defect_id, linked_at=when, actor=actor, reason=reason)
            )
            added.append(cid)
    session.flush()
    return added


def link_problem(
    session: Session, defect_id: int, problem_id: int, *, actor: str = ACTOR, now: datetime | None = None
) -> list[int]:
    """Point the problem at the defect and link each of its cases (the link outlives regrouping)."""
    _defect(session, defect_id)
    problem = session.get(ProblemRow, problem_id)
    if problem is None:
        raise NotFoundError(f"problem {problem_id} not found")
    if problem.defect_id not in (None, defect_id):
        raise InputError(
            f"problem {problem_id} is already linked to defect {problem.defect_id}", field="problem"
        )
    problem.defect_id = defect_id
    cases = session.scalars(select(CaseRow.id).where(CaseRow.problem_id == problem_id)).all()
    return link_cases(session, defect_id, cases, actor=actor, reason=LinkReason.PROBLEM, now=now)


def _audit(session: Session, action: str, defect_id: int, at: datetime, actor: str, **details: Any) -> None:
    session.add(
        AuditRow(
            at=at, actor=actor, action=action, object_type="defect", object_id=str(defect_id), details=details
        )
    )


def resolve_defect(
    session: Session,
    defect_id: int,
    *,
    actor: str = ACTOR,
    resolution: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Mark the defect resolved and draft one notification per affected requester (ids returned).

    Resolving an already resolved defect drafts nothing new.
    """
    d = _defect(session, defect_id)
    when = now or utcnow()
    if d.status == DefectStatus.RESOLVED.value and d.resolved_at is not None:
        return []
    d.status = DefectStatus.RESOLVED.value
    d.resolved_at = when
    session.flush()
    drafts = draft_notifications(session, d, affected_case_ids(session, defect_id), now=when)
    _audit(session, "defect.resolved", defect_id, when, actor, resolution=resolution, drafts=len(drafts))
    return drafts


def set_status(
    session: Session,
    defect_id: int,
    status: DefectStatus,
    *,
    actor: str = ACTOR,
    resolution: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Apply a status (from a person or Jira); resolving drafts the notifications. True if it changed."""
    d = _defect(session, defect_id)
    if d.status == status.value:
        return False
    when = now or utcnow()
    if status == DefectStatus.RESOLVED:
        resolve_defect(session, defect_id, actor=actor, resolution=resolution, now=when)
        return True
    old = d.status
    d.status = status.value
    if status != DefectStatus.WONT_FIX:
        d.resolved_at = None
    _audit(session, "defect.status", defect_id, when, actor, old=old, new=status.value, resolution=resolution)
    return True


@dataclass(frozen=True, slots=True)
class TrackerState:
    """A defect's state in the tracker (Jira): status, resolution name, when it was resolved there."""

    status: DefectStatus
    resolution: str | None = None
    resolved_at: datetime | None = None


def _stale(row: DefectRow, st: TrackerState) -> bool:
    """The tracker still shows the resolution that a regression already overturned."""
    if row.status != DefectStatus.REGRESSED.value or st.status not in (
        DefectStatus.RESOLVED,
        DefectStatus.WONT_FIX,
    ):
        return False
    return st.resolved_at is None or row.resolved_at is None or st.resolved_at <= row.resolved_at


def sync_states(session: Session, states: Mapping[str, TrackerState], *, actor: str = "jira") -> list[int]:
    """Apply the tracker's states (issue key → state) to the defects filed there; ids of those changed.

    A regressed defect stays regressed while the tracker still shows the old resolution; a newer
    resolution there resolves it again (and drafts a new round of notifications).
    """
    changed = []
    for key, st in states.items():
        row = session.scalars(select(DefectRow).where(DefectRow.external_key == key)).first()
        if row is None:
            continue
        if _stale(row, st):
            continue
        if set_status(session, row.id, st.status, actor=actor, resolution=st.resolution, now=st.resolved_at):
            changed.append(row.id)
    return changed


def sync_jira(session: Session, client: JiraClient) -> list[int]:
    """Read the status of every defect filed in Jira and apply it (resolutions draft notifications)."""
    keys = [
        k
        for k in session.scalars(select(DefectRow.external_key).where(DefectRow.external_key.is_not(None)))
        if k
    ]
    states = {}
    for key, st in client.sync_status(keys).items():
        status, resolved_at = defect_status(st)
        states[key] = TrackerState(status, st.resolution, resolved_at)
    return sync_states(session, states)


def _first_ticket_after(session: Session, case_ids: list[int], after: datetime) -> dict[int, datetime]:
    """Cases among ``case_ids`` holding a ticket created after ``after`` → that ticket's time."""
    out: dict[int, datetime] = {}
    for start in range(0, len(case_ids), 500):
        for cid, at in session.execute(
            select(CaseTicketRow.case_id, func.min(TicketRow.created_at))
            .join(TicketRow, TicketRow.id == CaseTicketRow.ticket_id)
            .where(CaseTicketRow.case_id.in_(case_ids[start : start + 500]), TicketRow.created_at > after)
            .group_by(CaseTicketRow.case_id)
        ):
            out[cid] = at
    return out


def check_regressions(
    session: Session, *, actor: str = ACTOR, now: datetime | None = None
) -> list[Regression]:
    """Find resolved defects whose problem (or case) got a ticket after the resolution, and act on it.

    New cases are linked (reason ``regression``), the problems and the defect flagged ``regressed``,
    and the defect's resolved or closed cases reopened (history entry and audit by the case store).
    """
    when = now or utcnow()
    found: list[Regression] = []
    resolved = session.scalars(
        select(DefectRow).where(
            DefectRow.status == DefectStatus.RESOLVED.value, DefectRow.resolved_at.is_not(None)
        )
    ).all()
    for d in resolved:
        assert d.resolved_at is not None
        linked = affected_case_ids(session, d.id)
        problems = _problem_ids(session, d.id, linked)
        members = sorted(
            set(session.scalars(select(CaseRow.id).where(CaseRow.problem_id.in_(problems))))
            if problems
            else set()
        )
        fresh = _first_ticket_after(session, sorted(set(members) | set(linked)), d.resolved_at)
        if not fresh:
            continue
        explicit = set(session.scalars(select(CaseDefectRow.case_id).where(CaseDefectRow.defect_id == d.id)))
        new_cases = sorted(c for c in fresh if c not in explicit)
        link_cases(session, d.id, new_cases, actor=actor, reason=LinkReason.REGRESSION, now=when)
        hit_problems = sorted(
            {p for p in session.scalars(select(CaseRow.problem_id).where(CaseRow.id.in_(list(fresh)))) if p}
        )
        for pid in hit_problems:
            p = session.get(ProblemRow, pid)
            if p is not None:
                p.status = ProblemStatus.REGRESSED.value
        d.status = DefectStatus.REGRESSED.value
        repo = CaseRepository(session)
        reopened = []
        for cid in linked:
            row = session.get(CaseRow, cid)
            if row is not None and row.status in (CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value):
                repo.update(cid, actor=actor, status=CaseStatus.REOPENED)
                reopened.append(cid)
        drafts = session.scalars(
            select(DefectNotificationRow).where(
                DefectNotificationRow.defect_id == d.id, DefectNotificationRow.status == "draft"
            )
        ).all()
        for n in drafts:
            n.status = "discarded"
        _audit(
            session, "defect.regressed", d.id, when, actor, problems=hit_problems, new_cases=new_cases,
            reopened=reopened, withdrawn_notices=len(drafts),
            first_new_ticket=min(fresh.values()).isoformat(),
        )  # fmt: skip
        found.append(Regression(d.id, hit_problems, new_cases, reopened, len(drafts)))
    session.flush()
    return found
