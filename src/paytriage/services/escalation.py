"""Escalation of stored cases: load a case, investigate it, build its package, optionally file it in Jira.

Filing (``to_jira`` without ``dry_run``) records a :class:`DefectRow` keyed by the Jira issue and links it
to the case: through the case's problem (``problems.defect_id``) when it has one, and always through an
audit event ``escalated`` on the case whose details keep the defect id and the package's impact figures
(the backlog reads them), and a ``case_defects`` link. Escalating the same case again reuses the defect
of the same Jira key.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from paytriage.adapters.connectors.jira import EscalationAction, EscalationOutcome, JiraClient, TicketLink
from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.mapping import case_from_row
from paytriage.adapters.storage.orm import AuditRow, CaseRow, CaseTicketRow, DefectRow, ProblemRow, TicketRow
from paytriage.domain import NotFoundError, utcnow
from paytriage.domain.defect import DefectStatus
from paytriage.engines.escalate.package import (
    EscalationInput,
    EscalationPackage,
    RelatedTicket,
    Subject,
    build_package,
)
from paytriage.engines.investigate.investigator import Investigator
from paytriage.services.defects import LinkReason, link_cases
from paytriage.services.investigation import case_tickets, investigate_case

__all__ = ["EscalationResult", "case_package", "escalate_case", "load_input"]

TREND_DAYS = 7
ESCALATED = "escalated"


@dataclass(slots=True)
class EscalationResult:
    package: EscalationPackage
    outcome: EscalationOutcome | None = None
    defect_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"package": self.package.to_dict(), "defect_id": self.defect_id}
        if self.outcome is not None:
            o = self.outcome
            out["jira"] = {
                "action": o.action.value,
                "key": o.key,
                "url": o.url,
                "duplicate_score": o.duplicate_score,
                "remote_links": o.remote_links,
            }
        return out


def _related(session: Session, case: CaseRow) -> list[RelatedTicket]:
    """Tickets of the other cases of the same problem."""
    if case.problem_id is None:
        return []
    rows = session.execute(
        select(TicketRow.external_id, TicketRow.subject, TicketRow.created_at, CaseRow.id)
        .join(CaseTicketRow, CaseTicketRow.ticket_id == TicketRow.id)
        .join(CaseRow, CaseRow.id == CaseTicketRow.case_id)
        .where(CaseRow.problem_id == case.problem_id, CaseRow.id != case.id)
        .order_by(TicketRow.created_at)
        .limit(200)
    ).all()
    return [
        RelatedTicket(ext, subj, at, cid, reason=f"problem {case.problem_id}") for ext, subj, at, cid in rows
    ]


def _daily_counts(session: Session, case: CaseRow, until: datetime) -> list[tuple[str, int]]:
    """Tickets per day over :data:`TREND_DAYS` up to ``until``: of the case's problem, else its category."""
    since = until - timedelta(days=TREND_DAYS)
    q = (
        select(TicketRow.created_at)
        .join(CaseTicketRow, CaseTicketRow.ticket_id == TicketRow.id)
        .join(CaseRow, CaseRow.id == CaseTicketRow.case_id)
        .where(TicketRow.created_at > since, TicketRow.created_at <= until)
    )
    if case.problem_id is not None:
        q = q.where(CaseRow.problem_id == case.problem_id)
    elif case.category:
        q = q.where(CaseRow.category == case.category)
    else:
        return []
    counts = Counter(f"{at:%Y-%m-%d}" for at in session.scalars(q))
    days = [f"{until - timedelta(days=i):%Y-%m-%d}" for i in range(TREND_DAYS - 1, -1, -1)]
    return [(d, counts.get(d, 0)) for d in days]


def load_input(
    session: Session,
    case_id: int,
    *,
    investigator: Investigator,
    now: datetime | None = None,
    replay_base_url: str | None = None,
) -> EscalationInput:
    """Everything :func:`build_package` needs for one case (read-only)."""
    row = session.get(CaseRow, case_id)
    if row is None:
        raise NotFoundError(f"case {case_id} not found")
    tickets = case_tickets(session, case_id)
    if not tickets:
        raise NotFoundError(f"case {case_id} has no tickets")
    inv = investigate_case(session, case_id, investigator=investigator, replay_base_url=replay_base_url)
    when = now or utcnow()
    case = case_from_row(row)
    latest = max(t.created_at for t in tickets)
    return EscalationInput(
        subject=Subject(
            kind="case",
            id=case_id,
            title=row.title,
            created_at=row.created_at,
            status=row.status,
            priority=row.priority,
            route=row.route,
            category=row.category,
            sla_remaining_hours=case.resolution_sla.remaining(when).total_seconds() / 3600,
        ),
        tickets=tickets,
        now=when,
        triage=row.triage,
        investigation=inv,
        related=_related(session, row),
        daily_counts=_daily_counts(session, row, latest),
    )


def case_package(
    session: Session, case_id: int, *, investigator: Investigator, now: datetime | None = None
) -> EscalationPackage:
    return build_package(load_input(session, case_id, investigator=investigator, now=now))


def _record_defect(
    session: Session, case_id: int, package: EscalationPackage, outcome: EscalationOutcome, *, at: datetime
) -> int:
    defect = None
    if outcome.key:
        defect = session.scalars(select(DefectRow).where(DefectRow.external_key == outcome.key)).first()
    if defect is None:
        defect = DefectRow(
            title=package.title,
            status=DefectStatus.OPEN.value,
            created_at=at,
            external_key=outcome.key,
            external_url=outcome.url,
            component=package.sections["suspected_component"].value,
        )
        session.add(defect)
        session.flush()
    case = session.get(CaseRow, case_id)
    if case is not None and case.problem_id is not None:
        problem = session.get(ProblemRow, case.problem_id)
        if problem is not None and problem.defect_id is None:
            problem.defect_id = defect.id
    link_cases(session, defect.id, [case_id], reason=LinkReason.ESCALATED, now=at)
    session.add(
        AuditRow(
            at=at,
            actor="paytriage",
            action=ESCALATED,
            object_type="case",
            object_id=str(case_id),
            details={
                "defect_id": defect.id,
                "jira": outcome.action.value,
                "key": outcome.key,
                "impact": package.sections["impact"].value,
                "verdict": package.decision.verdict.value,
            },
        )
    )
    return defect.id


def escalate_case(
    db: Database,
    case_id: int,
    *,
    investigator: Investigator,
    jira: JiraClient | None = None,
    dry_run: bool = False,
    ticket_url: str | None = None,
    now: datetime | None = None,
) -> EscalationResult:
    """Build the package; with ``jira`` file it (or comment on its duplicate) and record the defect.

    ``ticket_url`` is a template such as ``https://support.example/tickets/{id}`` for the remote links.
    """
    with db.session() as s:
        package = case_package(s, case_id, investigator=investigator, now=now)
        if jira is None:
            return EscalationResult(package)
        links = (
            [
                TicketLink(url=ticket_url.format(id=r["ticket"]), title=str(r["ticket"]))
                for r in package.sections["related_tickets"].value
            ]
            if ticket_url
            else []
        )
        outcome = jira.escalate(package.to_dict(), tickets=links, dry_run=dry_run)
        if dry_run or outcome.action == EscalationAction.DRY_RUN:
            return EscalationResult(package, outcome)
        defect_id = _record_defect(s, case_id, package, outcome, at=now or utcnow())
        s.commit()
        return EscalationResult(package, outcome, defect_id)
