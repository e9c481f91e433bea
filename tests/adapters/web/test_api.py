"""The JSON API on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paytriage.adapters.storage.database import Database
from paytriage.adapters.web.app import create_app
from paytriage.services.ingest import IngestKind, ingest_file


@pytest.fixture
def client(db: Database) -> Iterator[TestClient]:
    examples = Path(str(resources.files("paytriage") / "examples"))
    ingest_file(db, examples / "tickets.csv", IngestKind.TICKETS, source="demo")
    with TestClient(create_app(database=db)) as c:
        yield c


def test_list_filter_paginate(client: TestClient) -> None:
    r = client.get("/api/cases", params={"limit": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 8 and len(body["data"]) == 3
    page2 = client.get("/api/cases", params={"limit": 3, "offset": 3}).json()["data"]
    assert not {c["id"] for c in body["data"]} & {c["id"] for c in page2}
    assert client.get("/api/cases", params={"q": "webhook"}).json()["count"] == 1
    assert client.get("/api/cases", params={"status": "resolved"}).json()["count"] == 0
    assert client.get("/api/cases", params={"priority": "P9"}).status_code == 422


def test_get_update_and_workflow_conflict(client: TestClient) -> None:
    case_id = client.get("/api/cases").json()["data"][0]["id"]
    r = client.patch(f"/api/cases/{case_id}", json={"status": "triaged", "assignee": "ana", "actor": "ana"})
    assert r.status_code == 200
    assert r.json()["status"] == "triaged" and r.json()["assignee"] == "ana"
    assert [h["new"] for h in r.json()["history"]][-1] == "triaged"
    bad = client.patch(f"/api/cases/{case_id}", json={"status": "closed"})
    assert bad.status_code == 409
    assert "cannot go from triaged to closed" in bad.json()["detail"]
    assert client.get("/api/cases/999999").status_code == 404
    assert client.patch(f"/api/cases/{case_id}", json={"status": "bogus"}).status_code == 422


def test_comment_is_masked(client: TestClient) -> None:
    case_id = client.get("/api/cases").json()["data"][0]["id"]
    r = client.post(
        f"/api/cases/{case_id}/comments",
        json={"author": "ana", "body": "customer gave 4111 1111 1111 1111 cvv 737", "public": True},
    )
    assert r.status_code == 201
    case = client.get(f"/api/cases/{case_id}").json()
    ticket = client.get(f"/api/tickets/{case['ticket_ids'][0]}").json()
    bodies = [c["body"] for c in ticket["comments"]]
    assert any("411111******1111" in b for b in bodies)
    assert not any("4111 1111 1111 1111" in b or "737" in b for b in bodies)


def test_tickets_and_openapi(client: TestClient) -> None:
    tickets = client.get("/api/tickets", params={"limit": 100}).json()
    assert tickets["count"] == 8
    assert all("4111111111111111" not in t["description"] for t in tickets["data"])
    spec = client.get("/openapi.json").json()
    assert {"/api/cases", "/api/cases/{case_id}", "/api/tickets"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200


def test_queue_page(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "Tier-2 queue" in page.text and "8 cases" in page.text
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    case_id = client.get("/api/cases").json()["data"][0]["id"]
    assert client.get(f"/cases/{case_id}").status_code == 200
    assert client.get("/static/app.css").status_code == 200


def test_post_triage(client: TestClient) -> None:
    r = client.post(
        "/api/triage", json={"description": "My card 4111 1111 1111 1111 was declined, code 05 do not honor"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["category"] == "card_payment_declined"
    assert "4111 1111 1111 1111" not in body["redacted_text"] and "411111******1111" in body["redacted_text"]
    assert body["reasons"] and body["model_version"] and body["ruleset_version"]
    assert client.post("/api/triage", json={"subject": "no description"}).status_code == 422


def test_escalation_and_backlog(client: TestClient) -> None:
    case_id = client.get("/api/cases", params={"q": "webhook"}).json()["data"][0]["id"]
    pkg = client.get(f"/api/cases/{case_id}/escalation")
    assert pkg.status_code == 200, pkg.text
    body = pkg.json()
    assert body["decision"]["verdict"] and "score" in body["completeness"]
    md = client.get(f"/api/cases/{case_id}/escalation.md")
    assert md.status_code == 200 and md.text.startswith("#")
    page = client.get(f"/cases/{case_id}/escalation")
    assert page.status_code == 200 and "Tier 2 or Engineering?" in page.text
    assert client.get("/api/backlog").json() == {"data": [], "count": 0}
    assert "No open defects" in client.get("/backlog").text
    assert client.get("/api/cases/999999/escalation").status_code == 404


def test_invalid_bodies_get_a_422_that_never_echoes_the_input(client: TestClient) -> None:
    case_id = client.get("/api/cases").json()["data"][0]["id"]
    # a wrong type next to a pasted card number: the error names the field, not the value
    r = client.post(f"/api/cases/{case_id}/comments", json={"author": "ana", "body": ["4111 1111 1111 1111"]})
    assert r.status_code == 422
    assert "4111" not in r.text
    assert any(e["loc"][-1] == "body" for e in r.json()["detail"])
    # bytes that are not UTF-8: a client error, never a server error
    r = client.patch(
        f"/api/cases/{case_id}",
        content=b'{"assignee": "\xff\xfe"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code in (400, 422)
