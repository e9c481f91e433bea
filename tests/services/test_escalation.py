"""Escalation service on SQLite and PostgreSQL: package from stored data, Jira filing records the defect."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import httpx
from pydantic import SecretStr
from sqlalchemy import select

from paytriage.adapters.connectors.jira import JiraClient, JiraCredentials
from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import AuditRow, CaseRow, DefectRow
from paytriage.engines.investigate.investigator import Investigator
from paytriage.services.backlog import backlog, write_csv
from paytriage.services.escalation import escalate_case
from paytriage.services.ingest import IngestKind, ingest_file


def _examples() -> Path:
    return Path(str(resources.files("paytriage") / "examples"))


def _fake_jira(calls: list[str]) -> JiraClient:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.url.path.endswith("/search/jql"):
            return httpx.Response(200, json={"issues": []})
        if request.url.path == "/rest/api/3/issue":
            body = json.loads(request.content)
            assert body["fields"]["summary"] and body["fields"]["description"]["type"] == "doc"
            return httpx.Response(201, json={"id": "10001", "key": "PAY-1"})
        return httpx.Response(404, json={})

    creds = JiraCredentials(url="https://jira.test", email="a@b.test", token=SecretStr("x"))
    return JiraClient(creds, transport=httpx.MockTransport(handler), sleep=lambda _: None)


def test_escalate_records_defect_and_backlog_ranks_it(db: Database, tmp_path: Path) -> None:
    ex = _examples()
    ingest_file(db, ex / "transactions.csv", IngestKind.TRANSACTIONS, source="ex")
    ingest_file(db, ex / "tickets.csv", IngestKind.TICKETS, source="ex")
    with db.session() as s:
        case_id = s.scalars(select(CaseRow.id).order_by(CaseRow.id)).first()
    assert case_id is not None
    inv = Investigator()
    plain = escalate_case(db, case_id, investigator=inv)
    assert plain.outcome is None and plain.defect_id is None
    assert plain.package.completeness.score > 0
    calls: list[str] = []
    dry = escalate_case(db, case_id, investigator=inv, jira=_fake_jira(calls), dry_run=True)
    assert dry.defect_id is None and "POST /rest/api/3/issue" not in calls
    with db.session() as s:
        assert s.scalars(select(DefectRow)).first() is None
    filed = escalate_case(db, case_id, investigator=inv, jira=_fake_jira(calls))
    assert filed.outcome is not None and filed.outcome.key == "PAY-1" and filed.defect_id is not None
    again = escalate_case(db, case_id, investigator=inv, jira=_fake_jira(calls))
    assert again.defect_id == filed.defect_id  # same Jira key, same defect
    with db.session() as s:
        assert len(s.scalars(select(DefectRow)).all()) == 1
        audits = s.scalars(select(AuditRow).where(AuditRow.action == "escalated")).all()
        assert {a.object_id for a in audits} == {str(case_id)}
        items = backlog(s)
    assert [i.key for i in items] == ["PAY-1"]
    assert items[0].cases == 1 and items[0].tickets >= 1 and items[0].score > 0
    out = tmp_path / "b.csv"
    assert write_csv(items, out) == 1
    assert out.read_text().splitlines()[0].startswith("rank,defect_id,key")
