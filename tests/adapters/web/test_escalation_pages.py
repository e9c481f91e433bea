"""The escalation pages' Jira buttons: a result page for filed, commented, dry-run and failed, never JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from tests.services.problem_seed import attach_problem, ingest_examples

from paytriage.adapters.connectors.http import RetryPolicy
from paytriage.adapters.connectors.jira import JiraClient, JiraConfig, JiraCredentials
from paytriage.adapters.storage.database import Database
from paytriage.adapters.web.app import create_app
from paytriage.adapters.web.escalation_api import JiraSetup, get_jira_setup

Handler = Callable[[httpx.Request], httpx.Response]


def creating(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/search/jql"):
        return httpx.Response(200, json={"issues": []})
    if request.url.path == "/rest/api/3/issue" and request.method == "POST":
        return httpx.Response(201, json={"id": "10003", "key": "PAY-3"})
    return httpx.Response(404, json={})


def with_duplicate(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/search/jql"):
        return httpx.Response(200, json={"issues": [{"key": "PAY-7", "fields": {"summary": "anything"}}]})
    return httpx.Response(404, json={})


def unauthorised(request: httpx.Request) -> httpx.Response:
    return httpx.Response(401, json={"errorMessages": ["Client must be authenticated"]})


def _setup(handler: Handler | None, config: JiraConfig) -> Callable[[], Iterator[JiraSetup]]:
    def dep() -> Iterator[JiraSetup]:
        if handler is None:
            yield JiraSetup(None, config, "PAYTRIAGE_JIRA_URL is not set")
            return
        creds = JiraCredentials(url="https://jira.test", email="a@b.test", token=SecretStr("secret-token"))
        client = JiraClient(
            creds,
            config=config,
            transport=httpx.MockTransport(handler),
            sleep=lambda _: None,
            policy=RetryPolicy(max_attempts=1),
        )
        with client:
            yield JiraSetup(client, client.config)

    return dep


@pytest.fixture
def seeded(db: Database) -> tuple[Database, int, list[int]]:
    ingest_examples(db)
    pid, case_ids = attach_problem(db, 3)
    return db, pid, case_ids


def _client(db: Database, handler: Handler | None, config: JiraConfig | None = None) -> TestClient:
    app = create_app(database=db)
    app.dependency_overrides[get_jira_setup] = _setup(handler, config or JiraConfig())
    return TestClient(app)


def test_filing_a_problem_shows_the_issue_and_the_defect(seeded: tuple[Database, int, list[int]]) -> None:
    db, pid, _ = seeded
    with _client(db, creating) as client:
        r = client.post(f"/problems/{pid}/escalation/file", data={"dry_run": "false"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'id="jira-key" href="https://jira.test/browse/PAY-3">PAY-3<' in r.text
    assert "Recorded as defect #" in r.text and "linked to every case" in r.text
    assert "secret-token" not in r.text


def test_dry_run_previews_the_fields_and_names_the_duplicate(seeded: tuple[Database, int, list[int]]) -> None:
    db, _, case_ids = seeded
    with _client(db, with_duplicate, JiraConfig(min_similarity=0)) as client:
        r = client.post(f"/cases/{case_ids[0]}/escalation/file", data={"dry_run": "true"})
    assert r.status_code == 200
    assert "Dry run: nothing was sent to Jira" in r.text
    assert 'id="jira-duplicate"' in r.text and "PAY-7" in r.text
    assert 'id="jira-summary"' in r.text and 'id="jira-description"' in r.text
    assert "Recorded as defect" not in r.text


def test_without_jira_every_post_is_a_preview(seeded: tuple[Database, int, list[int]]) -> None:
    db, pid, _ = seeded
    with _client(db, None) as client:
        r = client.post(f"/problems/{pid}/escalation/file", data={"dry_run": "false"})
        listed = client.get("/api/defects").json()
    assert r.status_code == 200
    assert "Jira is not configured (PAYTRIAGE_JIRA_URL is not set), so this is a preview" in r.text
    assert "Filing would create a new Bug in project PAY" in r.text
    assert 'id="file-for-real"' not in r.text
    assert listed["count"] == 0  # nothing recorded


def test_jira_refusing_is_an_error_page_not_a_traceback(seeded: tuple[Database, int, list[int]]) -> None:
    db, pid, _ = seeded
    with _client(db, unauthorised) as client:
        r = client.post(f"/problems/{pid}/escalation/file", data={"dry_run": "false"})
        listed = client.get("/api/defects").json()
    assert r.status_code == 502 and r.headers["content-type"].startswith("text/html")
    assert 'id="jira-error"' in r.text and "Jira did not accept the request" in r.text
    assert "secret-token" not in r.text
    assert listed["count"] == 0


def test_unknown_problem_is_404(seeded: tuple[Database, int, list[int]]) -> None:
    db, _, _ = seeded
    with _client(db, creating) as client:
        assert client.post("/problems/999999/escalation/file", data={"dry_run": "true"}).status_code == 404
