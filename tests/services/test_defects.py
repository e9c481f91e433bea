"""Defects on SQLite and PostgreSQL: links, resolution drafts one notice per requester, regressions reopen."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from paytriage.adapters.connectors.jira import IssueState, defect_status
from paytriage.adapters.storage.cases import CaseRepository
from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import (
    AuditRow,
    CaseHistoryRow,
    CaseRow,
    CaseTicketRow,
    DefectRow,
    ProblemRow,
    TicketRow,
)
from paytriage.domain import CaseStatus, InputError, NotFoundError, ProblemStatus
from paytriage.domain.defect import DefectStatus
from paytriage.engines.redaction import redact
from paytriage.services import defect_notices as notices
from paytriage.services import defects
from paytriage.services.ingest import IngestKind, ingest_file

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FIXED = datetime(2026, 11, 2, 10, 45, tzinfo=UTC)  # after EX-1001..1004, before EX-1005..1008


def _load(db: Database) -> dict[str, int]:
    """Example tickets as cases; returns ticket external id → case id."""
    ex = Path(str(resources.files("paytriage") / "examples"))
    ingest_file(db, ex / "tickets.csv", IngestKind.TICKETS, source="ex")
    with db.session() as s:
        rows = s.execute(
            select(TicketRow.external_id, CaseTicketRow.case_id).join(
                CaseTicketRow, CaseTicketRow.ticket_id == TicketRow.id
            )
        ).all()
    return {ext: cid for ext, cid in rows}


def _problem(db: Database, case_ids: list[int]) -> int:
    with db.session() as s:
        p = ProblemRow(
            title="declines", status="confirmed", first_seen=T0, last_seen=T0, money_minor_by_currency={}
        )
        s.add(p)
        s.flush()
        for cid in case_ids:
            row = s.get(CaseRow, cid)
            assert row is not None
            row.problem_id = p.id
        return p.id


def test_link_resolve_drafts_one_notice_per_requester(db: Database) -> None:
    cases = _load(db)
    with db.session() as s:
        did = defects.create_defect(s, title="Issuer declines on retry", key="PAY-7", now=T0)
        with pytest.raises(InputError):
            defects.create_defect(s, title="again", key="PAY-7")
    pid = _problem(db, [cases["EX-1001"], cases["EX-1002"]])
    with db.session() as s:
        assert defects.link_problem(s, did, pid) == sorted([cases["EX-1001"], cases["EX-1002"]])
        assert defects.link_cases(s, did, [cases["EX-1003"], cases["EX-1001"]]) == [cases["EX-1003"]]
        with pytest.raises(NotFoundError):
            defects.link_cases(s, did, [999_999])
    with db.session() as s:
        view = defects.defect_view(s, did)
        assert view.case_ids == sorted(cases[e] for e in ("EX-1001", "EX-1002", "EX-1003"))
        assert view.problem_ids == [pid]
        drafted = defects.resolve_defect(s, did, now=FIXED)
        assert len(drafted) == 3  # three requesters
        assert defects.resolve_defect(s, did, now=FIXED) == []  # idempotent
    with db.session() as s:
        rows = notices.list_notifications(s, defect_id=did)
        assert {r["requester"] for r in rows} == {"cus_881", "cus_302", "cus_119"}
        for r in rows:
            assert r["status"] == "draft" and r["ticket_ids"][0] in r["body"]
            assert "PAY-7" not in r["body"] and "Issuer declines" not in r["body"]  # customer-safe
            assert redact(r["body"]).text == r["body"]  # nothing left to redact
            assert r["template"].startswith(notices.TEMPLATE_VERSION)
        out = notices.export_notifications(rows, "csv")
        assert len(list(csv.DictReader(io.StringIO(out)))) == 3
        assert [json.loads(x)["id"] for x in notices.export_notifications(rows, "jsonl").splitlines()] == [
            r["id"] for r in rows
        ]
        notices.mark_notification(s, rows[0]["id"], "sent", now=FIXED)
        with pytest.raises(InputError):
            notices.mark_notification(s, rows[1]["id"], "draft")
    with db.session() as s:
        assert len(notices.list_notifications(s, defect_id=did)) == 2
        assert len(notices.list_notifications(s, defect_id=did, status=None)) == 3
        assert s.scalars(select(AuditRow).where(AuditRow.action == "defect.resolved")).one().object_id == str(
            did
        )


def test_problem_comes_back_regresses_and_reopens(db: Database) -> None:
    cases = _load(db)
    early, late = cases["EX-1001"], cases["EX-1005"]
    with db.session() as s:
        did = defects.create_defect(s, title="declines", now=T0)
    pid = _problem(db, [early])
    with db.session() as s:
        defects.link_problem(s, did, pid)
        CaseRepository(s).update(early, actor="t2", status=CaseStatus.RESOLVED)
        defects.resolve_defect(s, did, now=FIXED)
        assert defects.check_regressions(s) == []  # nothing new yet
    with db.session() as s:  # the ticket of EX-1005 (after the fix) joins the problem
        row = s.get(CaseRow, late)
        assert row is not None
        row.problem_id = pid
    with db.session() as s:
        found = defects.check_regressions(s)
        assert [r.to_dict() for r in found] == [
            {
                "defect_id": did,
                "problems": [pid],
                "new_cases": [late],
                "reopened_cases": [early],
                "withdrawn_notices": 1,
            }
        ]
    with db.session() as s:
        d, p, c = s.get(DefectRow, did), s.get(ProblemRow, pid), s.get(CaseRow, early)
        assert d is not None and d.status == DefectStatus.REGRESSED.value
        assert p is not None and p.status == ProblemStatus.REGRESSED.value
        assert c is not None and c.status == CaseStatus.REOPENED.value
        hist = s.scalars(select(CaseHistoryRow).where(CaseHistoryRow.case_id == early)).all()
        assert [(h.old, h.new) for h in hist][-1] == ("resolved", "reopened")
        assert late in defects.affected_case_ids(s, did)
        assert defects.check_regressions(s) == []  # already flagged


def test_jira_sync_resolves_once_and_respects_regression(db: Database) -> None:
    cases = _load(db)
    with db.session() as s:
        did = defects.create_defect(s, title="declines", key="PAY-9", now=T0)
        defects.link_cases(s, did, [cases["EX-1001"]])
        done = defects.TrackerState(DefectStatus.RESOLVED, "Fixed", FIXED)
        assert defects.sync_states(s, {"PAY-9": defects.TrackerState(DefectStatus.IN_PROGRESS)}) == [did]
        assert defects.sync_states(s, {"PAY-9": done, "NOPE-1": done}) == [did]
        assert defects.sync_states(s, {"PAY-9": done}) == []
        d = s.get(DefectRow, did)
        assert d is not None and d.status == "resolved" and d.resolved_at == FIXED
        d.status = DefectStatus.REGRESSED.value
        assert defects.sync_states(s, {"PAY-9": done}) == []  # Jira still shows the overturned fix
        later = defects.TrackerState(DefectStatus.RESOLVED, "Fixed", datetime(2026, 11, 5, tzinfo=UTC))
        assert defects.sync_states(s, {"PAY-9": later}) == [did]
        assert len(notices.list_notifications(s, defect_id=did)) == 2  # one per resolution


@pytest.mark.parametrize(
    ("category", "resolution", "when", "expected"),
    [
        ("done", "Done", "2026-11-02T10:45:00.000+0000", DefectStatus.RESOLVED),
        ("done", "Won't Do", None, DefectStatus.WONT_FIX),
        ("done", "Duplicate", None, DefectStatus.WONT_FIX),
        ("indeterminate", None, None, DefectStatus.IN_PROGRESS),
        ("new", None, None, DefectStatus.OPEN),
    ],
)
def test_jira_state_mapping(
    category: str, resolution: str | None, when: str | None, expected: DefectStatus
) -> None:
    status, at = defect_status(IssueState("PAY-1", "x", category, resolution, when))
    assert status == expected
    assert (at == FIXED) if when else at is None


@settings(max_examples=40, deadline=None)
@given(
    subject=st.text(max_size=120),
    org=st.one_of(st.none(), st.text(min_size=1, max_size=40)),
    pan=st.sampled_from(["4242 4242 4242 4242", "5555555555554444", ""]),
)
def test_notice_body_never_carries_a_card_number(subject: str, org: str | None, pan: str) -> None:
    r = notices._Requester("cus_1", None, org, {1}, [("T-1", f"{subject} {pan}", None)])
    _, body, _ = notices._compose(r, FIXED)
    assert "4242 4242 4242 4242" not in body and "5555555555554444" not in body
    assert "T-1" in body


def test_backlog_counts_linked_cases_and_jira_sync_drafts(db: Database) -> None:
    import httpx
    from pydantic import SecretStr

    from paytriage.adapters.connectors.jira import JiraClient, JiraCredentials
    from paytriage.services.backlog import backlog

    cases = _load(db)
    with db.session() as s:
        did = defects.create_defect(s, title="declines", key="PAY-11", now=T0)
        defects.link_cases(s, did, [cases["EX-1001"], cases["EX-1002"]])
        [item] = backlog(s)
        assert item.defect_id == did and item.cases == 2 and item.tickets == 2

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path.endswith("/search/jql")
        issue = {
            "key": "PAY-11",
            "fields": {
                "status": {"name": "Done", "statusCategory": {"key": "done"}},
                "resolution": {"name": "Fixed"},
                "resolutiondate": "2026-11-02T10:45:00.000+0000",
            },
        }
        return httpx.Response(200, json={"issues": [issue]})

    creds = JiraCredentials(url="https://jira.test", email="a@b.test", token=SecretStr("x"))
    client = JiraClient(creds, transport=httpx.MockTransport(handler), sleep=lambda _: None)
    with db.session() as s:
        assert defects.sync_jira(s, client) == [did]
        assert defects.sync_jira(s, client) == []  # nothing new
    with db.session() as s:
        d = s.get(DefectRow, did)
        assert d is not None and d.status == "resolved" and d.resolved_at == FIXED
        assert len(notices.list_notifications(s, defect_id=did)) == 2
        assert backlog(s) == []  # resolved defects leave the backlog
