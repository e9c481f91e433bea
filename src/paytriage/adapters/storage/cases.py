"""Case queue queries and updates: list with filters and pagination, get, change status/assignee, comment."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from paytriage.adapters.storage.batch import write_audit
from paytriage.adapters.storage.mapping import apply_case, case_from_row, ticket_from_row
from paytriage.adapters.storage.orm import CaseHistoryRow, CaseRow, CaseTicketRow, CommentRow, TicketRow
from paytriage.domain import AuditEvent, Case, CaseStatus, NotFoundError, Ticket, utcnow
from paytriage.engines.redaction import redact

__all__ = ["CaseFilters", "CaseRepository"]

_OPEN = [s.value for s in CaseStatus if s not in {CaseStatus.RESOLVED, CaseStatus.CLOSED}]


@dataclass(slots=True)
class CaseFilters:
    status: list[str] | None = None
    open_only: bool = False
    priority: str | None = None
    category: str | None = None
    route: str | None = None
    assignee: str | None = None
    query: str | None = None


class CaseRepository:
    """All case reads and writes go through here, with an audit event per change."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def search(self, filters: CaseFilters, *, limit: int = 50, offset: int = 0) -> tuple[list[Case], int]:
        stmt = select(CaseRow)
        if filters.status:
            stmt = stmt.where(CaseRow.status.in_(filters.status))
        elif filters.open_only:
            stmt = stmt.where(CaseRow.status.in_(_OPEN))
        for col, value in (
            (CaseRow.priority, filters.priority),
            (CaseRow.category, filters.category),
            (CaseRow.route, filters.route),
            (CaseRow.assignee, filters.assignee),
        ):
            if value:
                stmt = stmt.where(col == value)
        if filters.query:
            like = f"%{filters.query.lower()}%"
            sub = (
                select(CaseTicketRow.case_id)
                .join(TicketRow, TicketRow.id == CaseTicketRow.ticket_id)
                .where(
                    or_(
                        func.lower(TicketRow.subject).like(like),
                        func.lower(TicketRow.description).like(like),
                        TicketRow.external_id == filters.query,
                    )
                )
            )
            stmt = stmt.where(or_(func.lower(CaseRow.title).like(like), CaseRow.id.in_(sub)))
        total = self.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        prio_order = sql_case({"P1": 1, "P2": 2, "P3": 3, "P4": 4}, value=CaseRow.priority, else_=5)
        rows = self.session.scalars(
            stmt.options(selectinload(CaseRow.tickets), selectinload(CaseRow.history))
            .order_by(prio_order, CaseRow.created_at, CaseRow.id)
            .limit(limit)
            .offset(offset)
        ).all()
        return [case_from_row(r) for r in rows], total

    def _row(self, case_id: int) -> CaseRow:
        row = self.session.get(
            CaseRow, case_id, options=[selectinload(CaseRow.tickets), selectinload(CaseRow.history)]
        )
        if row is None:
            raise NotFoundError(f"case {case_id} not found")
        return row

    def get(self, case_id: int) -> Case:
        return case_from_row(self._row(case_id))

    def triage_of(self, case_id: int) -> dict[str, Any] | None:
        return self._row(case_id).triage

    def tickets(self, case: Case) -> list[Ticket]:
        rows = self.session.scalars(
            select(TicketRow)
            .options(selectinload(TicketRow.comments))
            .where(TicketRow.id.in_(case.ticket_ids))
            .order_by(TicketRow.created_at)
        )
        out = []
        for r in rows:
            t = ticket_from_row(r)
            t.id = r.id
            out.append(t)
        return out

    def update(
        self,
        case_id: int,
        *,
        actor: str,
        status: CaseStatus | None = None,
        assignee: str | None = None,
        clear_assignee: bool = False,
        category: str | None = None,
    ) -> Case:
        row = self._row(case_id)
        case = case_from_row(row)
        now = utcnow()
        changes: dict[str, Any] = {}
        if status is not None and status != case.status:
            old = case.status
            case.transition(status, at=now, actor=actor)
            row.history.append(CaseHistoryRow(at=now, old=old.value, new=status.value, actor=actor))
            changes["status"] = [old.value, status.value]
        if clear_assignee or (assignee is not None and assignee != case.assignee):
            changes["assignee"] = [case.assignee, None if clear_assignee else assignee]
            case.assignee = None if clear_assignee else assignee
        if category is not None and (category != case.category or row.category_source != "human"):
            changes["category"] = [case.category, category]
            case.category = category
            row.category_source = "human"
        if changes:
            apply_case(case, row)
            row.updated_at = now
            write_audit(
                self.session,
                AuditEvent(
                    at=now,
                    actor=actor,
                    action="case.update",
                    object_type="case",
                    object_id=str(case_id),
                    details=changes,
                ),
            )
            self.session.flush()
        return case_from_row(row)

    def add_comment(self, case_id: int, *, author: str, body: str, public: bool) -> None:
        row = self._row(case_id)
        if not row.tickets:
            raise NotFoundError(f"case {case_id} has no ticket to comment on")
        now = utcnow()
        result = redact(body)
        self.session.add(
            CommentRow(
                ticket_id=row.tickets[0].ticket_id,
                author=author,
                body=result.text,
                public=public,
                created_at=now,
            )
        )
        if public and row.frt_stopped_at is None:
            row.frt_stopped_at = now
        row.updated_at = now
        write_audit(
            self.session,
            AuditEvent(
                at=now,
                actor=author,
                action="case.comment",
                object_type="case",
                object_id=str(case_id),
                details={"public": public, "masked": result.counts},
            ),
        )
        self.session.flush()

    def labelled_examples(self) -> Iterator[tuple[str, str]]:
        """(text, category) of cases a person labelled: the team's own training data."""
        rows = self.session.execute(
            select(CaseRow.id, CaseRow.category, TicketRow.subject, TicketRow.description)
            .join(CaseTicketRow, CaseTicketRow.case_id == CaseRow.id)
            .join(TicketRow, TicketRow.id == CaseTicketRow.ticket_id)
            .where(CaseRow.category_source == "human", CaseRow.category.is_not(None))
            .order_by(CaseRow.id, TicketRow.created_at, TicketRow.id)
        )
        seen: set[int] = set()
        for case_id, category, subject, description in rows:
            if case_id not in seen:
                seen.add(case_id)
                yield (f"{subject}\n{description}".strip() if subject else description), str(category)

    def status_counts(self) -> dict[str, int]:
        return {
            s: n
            for s, n in self.session.execute(select(CaseRow.status, func.count()).group_by(CaseRow.status))
        }
