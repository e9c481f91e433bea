"""Problem escalation and defects over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from tests.services.problem_seed import attach_problem, ingest_examples

from paytriage.adapters.connectors.jira import JiraClient, JiraCredentials
from paytriage.adapters.storage.database import Database
from paytriage.adapters.web.app import create_app
from paytriage.adapters.web.escalation_api import get_jira


def _jira() -> Iterator[JiraClient]:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/search/jql"):
            return httpx.Response(200, json={"issues": []})
        if request.url.path == "/rest/api/3/issue":
            return httpx.Response(201, json={"id": "10003", "key": "PAY-3"})
        return httpx.Response(404, json={})

    creds = JiraCredentials(url="https://jira.test", email="a@b.test", token=SecretStr("x"))
    yield JiraClient(creds, transport=httpx.MockTransport(handler), sleep=lambda _: None)


@pytest.fixture
def setup(db: Database) -> Iterator[tuple[TestClient, int, list[int]]]:
    ingest_examples(db)
    pid, case_ids = attach_problem(db, 3)
    app = create_app(database=db)
    app.dependency_overrides[get_jira] = _jira
    with TestClient(app) as c:
        yield c, pid, case_ids


def test_problem_escalation_json_markdown_page_and_filing(setup: tuple[TestClient, int, list[int]]) -> None:
    client, pid, case_ids = setup
    r = client.get(f"/api/problems/{pid}/escalation")
    assert r.status_code == 200 and r.json()["id"] == f"problem-{pid}"
    assert r.json()["impact"]["cases"] == 3
    md = client.get(f"/api/problems/{pid}/escalation.md")
    assert md.status_code == 200 and md.text.startswith("# ")
    page = client.get(f"/problems/{pid}/escalation")
    assert page.status_code == 200
    assert f'action="/problems/{pid}/escalation/file"' in page.text and "File in Jira" in page.text
    assert f'href="/problems/{pid}"' in page.text
    case_page = client.get(f"/cases/{case_ids[0]}/escalation")
    assert case_page.status_code == 200 and f'action="/cases/{case_ids[0]}/escalation/file"' in case_page.text
    assert client.get("/api/problems/999999/escalation").status_code == 404
    dry = client.post(f"/api/problems/{pid}/escalation", params={"to": "jira"})
    assert dry.status_code == 200 and dry.json()["defect_id"] is None  # dry run by default
    filed = client.post(f"/api/problems/{pid}/escalation", params={"to": "jira", "dry_run": "false"})
    assert filed.status_code == 200 and filed.json()["jira"]["key"] == "PAY-3"
    defect = client.get(f"/api/defects/{filed.json()['defect_id']}").json()
    assert defect["cases"] == case_ids and defect["problems"] == [pid]


def test_defects_api_resolve_and_export_notices(setup: tuple[TestClient, int, list[int]]) -> None:
    client, pid, case_ids = setup
    created = client.post("/api/defects", json={"title": "Issuer declines", "key": "PAY-40"})
    assert created.status_code == 201
    did = created.json()["id"]
    assert client.post("/api/defects", json={"title": "dup", "key": "PAY-40"}).status_code == 422
    assert client.post("/api/defects", json={"title": ""}).status_code == 422
    linked = client.post(f"/api/defects/{did}/links", json={"problem_ids": [pid]})
    assert linked.json()["linked_cases"] == case_ids
    assert client.post(f"/api/defects/{did}/links", json={"case_ids": [999999]}).status_code == 404
    listed = client.get("/api/defects", params={"status": "open"}).json()
    assert listed["count"] == 1 and listed["data"][0]["key"] == "PAY-40"
    resolved = client.post(f"/api/defects/{did}/resolve", json={"resolution": "fixed in 5.8.3"})
    assert resolved.json()["drafted_notices"] == 3
    notices = client.get("/api/defect-notices", params={"defect_id": did}).json()
    assert notices["count"] == 3
    exported = client.get("/api/defect-notices", params={"defect_id": did, "format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(exported.text)))) == 3
    lines = client.get("/api/defect-notices", params={"format": "jsonl"}).text.splitlines()
    assert [json.loads(x)["defect_id"] for x in lines] == [did] * 3
    nid = notices["data"][0]["id"]
    assert client.post(f"/api/defect-notices/{nid}", json={"status": "sent"}).status_code == 200
    assert client.post(f"/api/defect-notices/{nid}", json={"status": "draft"}).status_code == 422
    assert client.get("/api/defect-notices", params={"status": "sent"}).json()["count"] == 1
    assert client.post("/api/defects/regressions").json() == {"data": [], "count": 0}
