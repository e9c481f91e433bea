from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from paytriage.domain import Case, CaseStatus, InvalidTransitionError, SlaClock

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def make_case() -> Case:
    return Case(
        title="x",
        created_at=T0,
        first_response_sla=SlaClock(timedelta(hours=4), T0),
        resolution_sla=SlaClock(timedelta(hours=72), T0),
    )


def test_happy_path_and_history() -> None:
    c = make_case()
    for i, s in enumerate(
        [
            CaseStatus.TRIAGED,
            CaseStatus.INVESTIGATING,
            CaseStatus.WAITING_ON_ENGINEERING,
            CaseStatus.RESOLVED,
            CaseStatus.CLOSED,
        ]
    ):
        c.transition(s, at=T0 + timedelta(hours=i + 1), actor="ana")
    assert c.status == CaseStatus.CLOSED
    assert [h.new for h in c.history][-1] == CaseStatus.CLOSED
    assert c.resolution_sla.stopped_at == T0 + timedelta(hours=4)


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (CaseStatus.NEW, CaseStatus.CLOSED),
        (CaseStatus.NEW, CaseStatus.WAITING_ON_CUSTOMER),
        (CaseStatus.CLOSED, CaseStatus.INVESTIGATING),
        (CaseStatus.RESOLVED, CaseStatus.TRIAGED),
    ],
)
def test_forbidden_transitions(start: CaseStatus, target: CaseStatus) -> None:
    c = make_case()
    c.status = start
    with pytest.raises(InvalidTransitionError):
        c.transition(target, at=T0, actor="ana")


def test_resolution_clock_pauses_while_waiting_on_customer() -> None:
    c = make_case()
    c.transition(CaseStatus.TRIAGED, at=T0 + timedelta(hours=1), actor="a")
    c.transition(CaseStatus.WAITING_ON_CUSTOMER, at=T0 + timedelta(hours=2), actor="a")
    assert c.resolution_sla.elapsed(T0 + timedelta(hours=30)) == timedelta(hours=2)
    c.transition(CaseStatus.INVESTIGATING, at=T0 + timedelta(hours=30), actor="a")
    assert c.resolution_sla.elapsed(T0 + timedelta(hours=31)) == timedelta(hours=3)
    assert not c.resolution_sla.breached(T0 + timedelta(hours=31))


def test_waiting_on_engineering_does_not_pause() -> None:
    c = make_case()
    c.transition(CaseStatus.TRIAGED, at=T0, actor="a")
    c.transition(CaseStatus.WAITING_ON_ENGINEERING, at=T0, actor="a")
    assert c.resolution_sla.elapsed(T0 + timedelta(hours=80)) == timedelta(hours=80)
    assert c.resolution_sla.breached(T0 + timedelta(hours=80))


def test_reopen_restarts_resolution_clock() -> None:
    c = make_case()
    c.transition(CaseStatus.RESOLVED, at=T0 + timedelta(hours=1), actor="a")
    c.transition(CaseStatus.REOPENED, at=T0 + timedelta(hours=5), actor="a")
    assert c.resolution_sla.stopped_at is None
    assert c.resolution_sla.elapsed(T0 + timedelta(hours=6)) == timedelta(hours=6)
