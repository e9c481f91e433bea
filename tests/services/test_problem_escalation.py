"""Problem escalation on SQLite and PostgreSQL: the package from stored data, filing links every case."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from paytriage.adapters.connectors.jira import JiraClient, JiraCredentials
from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import CaseDefectRow, CaseRow, ProblemRow
from paytriage.domain import NotFoundError
from paytriage.engines.escalate.completeness import SECTIONS
from paytriage.engines.investigate.investigator import Investigator
from paytriage.services.ingest import IngestKind, ingest_file
from paytriage.services.problem_escalation import escalate_problem, problem_package

NOW = datetime(2026, 11, 2, 13, 0, tzinfo=UTC)


def _fake_jira(calls: list[str]) -> JiraClient:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.url.path.endswith("/search/jql"):
            return httpx.Response(200, json={"issues": []})
        if request.url.path == "/rest/api/3/issue":
            body = json.loads(request.content)
            assert "paytriage-problem-" in " ".join(body["fields"]["labels"])
            return httpx.Response(201, json={"id": "10002", "key": "PAY-2"})
        return httpx.Response(404, json={})

    creds = JiraCredentials(url="https://jira.test", email="a@b.test", token=SecretStr("x"))
    return JiraClient(creds, transport=httpx.MockTransport(handler), sleep=lambda _: None)


def _problem(db: Database) -> tuple[int, list[int]]:
    ex = Path(str(resources.files("paytriage") / "examples"))
    for name, kind in (("transactions.csv", IngestKind.TRANSACTIONS), ("releases.csv", IngestKind.RELEASES),
                       ("logs.jsonl", IngestKind.LOGS), ("tickets.csv", IngestKind.TICKETS)):  # fmt: skip
        ingest_file(db, ex / name, kind, source="ex")
    with db.session() as s:
        cases = list(s.scalars(select(CaseRow).order_by(CaseRow.id)))[:3]
        p = ProblemRow(
            title="payments failing", status="confirmed", first_seen=NOW.replace(hour=9),
            last_seen=NOW, money_minor_by_currency={},
        )  # fmt: skip
        s.add(p)
        s.flush()
        for c in cases:
            c.problem_id = p.id
        return p.id, [c.id for c in cases]


def test_problem_package_and_filing(db: Database) -> None:
    pid, case_ids = _problem(db)
    inv = Investigator()
    with db.session() as s:
        pkg = problem_package(s, pid, investigator=inv, now=NOW)
        with pytest.raises(NotFoundError):
            problem_package(s, 999, investigator=inv, now=NOW)
    d = pkg.to_dict()
    assert pkg.id == f"problem-{pid}"
    assert d["impact"]["tickets"] == 3 and d["impact"]["cases"] == 3
    assert {r["ticket"] for r in d["related_tickets"]} == {"EX-1001", "EX-1002", "EX-1003"}
    assert any(q.startswith("SELECT count(*)") for q in d["queries"])
    assert any("FROM releases" in q for q in d["queries"])
    assert d["suspected_release"]  # a suspect, or the releases checked said plainly
    assert set(pkg.completeness.filled) | set(pkg.completeness.missing_sections) == set(SECTIONS)
    calls: list[str] = []
    dry = escalate_problem(db, pid, investigator=inv, jira=_fake_jira(calls), dry_run=True, now=NOW)
    assert dry.defect_id is None and "POST /rest/api/3/issue" not in calls
    filed = escalate_problem(db, pid, investigator=inv, jira=_fake_jira(calls), now=NOW)
    assert filed.defect_id is not None and filed.outcome is not None and filed.outcome.key == "PAY-2"
    with db.session() as s:
        links = s.scalars(select(CaseDefectRow).where(CaseDefectRow.defect_id == filed.defect_id)).all()
        assert sorted(link.case_id for link in links) == case_ids
        assert {link.reason for link in links} == {"escalated"}
        p = s.get(ProblemRow, pid)
        assert p is not None and p.defect_id == filed.defect_id
