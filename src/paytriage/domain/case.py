"""Case: the Tier-2 work item for one or more tickets, with its workflow and SLA clocks.

Workflow::

    new → triaged → investigating → waiting_on_engineering | waiting_on_customer | waiting_on_partner
        → resolved → closed          (resolved/closed → reopened → triaged/investigating ...)

The resolution SLA clock pauses while the case waits on the customer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from paytriage.domain.errors import InvalidTransitionError
from paytriage.domain.taxonomy import Priority, Route

__all__ = ["TRANSITIONS", "Case", "CaseStatus", "SlaClock", "StatusChange"]


class CaseStatus(StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    INVESTIGATING = "investigating"
    WAITING_ON_ENGINEERING = "waiting_on_engineering"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    WAITING_ON_PARTNER = "waiting_on_partner"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


_S = CaseStatus
_WAITING = {_S.WAITING_ON_ENGINEERING, _S.WAITING_ON_CUSTOMER, _S.WAITING_ON_PARTNER}
_WORKING = {_S.TRIAGED, _S.INVESTIGATING, *_WAITING}
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    _S.NEW: frozenset({_S.TRIAGED, _S.INVESTIGATING, _S.RESOLVED}),
    _S.TRIAGED: frozenset({_S.INVESTIGATING, *_WAITING, _S.RESOLVED}),
    _S.INVESTIGATING: frozenset({_S.TRIAGED, *_WAITING, _S.RESOLVED}),
    _S.WAITING_ON_ENGINEERING: frozenset({_S.INVESTIGATING, *_WAITING, _S.RESOLVED}),
    _S.WAITING_ON_CUSTOMER: frozenset({_S.INVESTIGATING, *_WAITING, _S.RESOLVED}),
    _S.WAITING_ON_PARTNER: frozenset({_S.INVESTIGATING, *_WAITING, _S.RESOLVED}),
    _S.RESOLVED: frozenset({_S.CLOSED, _S.REOPENED}),
    _S.CLOSED: frozenset({_S.REOPENED}),
    _S.REOPENED: frozenset(_WORKING | {_S.RESOLVED}),
}


@dataclass(slots=True)
class StatusChange:
    """One step of the case history."""

    at: datetime
    old: CaseStatus
    new: CaseStatus
    actor: str


@dataclass(slots=True)
class SlaClock:
    """Elapsed working time toward a target; paused intervals do not count."""

    target: timedelta
    started_at: datetime
    stopped_at: datetime | None = None
    paused_since: datetime | None = None
    paused_total: timedelta = timedelta(0)

    def elapsed(self, now: datetime) -> timedelta:
        end = self.stopped_at or now
        paused = self.paused_total
        if self.paused_since is not None:
            paused += end - self.paused_since
        return max(end - self.started_at - paused, timedelta(0))

    def remaining(self, now: datetime) -> timedelta:
        return self.target - self.elapsed(now)

    def breached(self, now: datetime) -> bool:
        return self.elapsed(now) > self.target

    def pause(self, at: datetime) -> None:
        if self.paused_since is None and self.stopped_at is None:
            self.paused_since = at

    def resume(self, at: datetime) -> None:
        if self.paused_since is not None:
            self.paused_total += at - self.paused_since
            self.paused_since = None

    def stop(self, at: datetime) -> None:
        self.resume(at)
        if self.stopped_at is None:
            self.stopped_at = at

    def restart(self) -> None:
        self.stopped_at = None


@dataclass(slots=True)
class Case:
    """The Tier-2 work item. Status changes go through :meth:`transition` only."""

    title: str
    created_at: datetime
    first_response_sla: SlaClock
    resolution_sla: SlaClock
    status: CaseStatus = CaseStatus.NEW
    assignee: str | None = None
    category: str | None = None
    route: Route | None = None
    priority: Priority | None = None
    ticket_ids: list[int] = field(default_factory=list)
    history: list[StatusChange] = field(default_factory=list)
    problem_id: int | None = None
    id: int | None = None

    def transition(self, new: CaseStatus, *, at: datetime, actor: str) -> None:
        """Move to ``new`` if the workflow allows it, updating the SLA clocks."""
        if new == self.status:
            return
        if new not in TRANSITIONS[self.status]:
            raise InvalidTransitionError(f"case cannot go from {self.status} to {new}")
        old = self.status
        if old == CaseStatus.WAITING_ON_CUSTOMER:
            self.resolution_sla.resume(at)
        if new == CaseStatus.WAITING_ON_CUSTOMER:
            self.resolution_sla.pause(at)
        if new in {CaseStatus.RESOLVED, CaseStatus.CLOSED}:
            self.resolution_sla.stop(at)
            self.first_response_sla.stop(at)
        if new == CaseStatus.REOPENED:
            self.resolution_sla.restart()
        self.status = new
        self.history.append(StatusChange(at=at, old=old, new=new, actor=actor))

    def record_first_response(self, at: datetime) -> None:
        """A public reply stops the first-response clock."""
        self.first_response_sla.stop(at)
