"""The escalation pages' Jira buttons in real headless Chromium: preview, file, and the result pages."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from tests.services.problem_seed import regroup, seed_cases

from paytriage.adapters.connectors.jira import JiraClient, JiraConfig, JiraCredentials
from paytriage.adapters.storage.database import Database
from paytriage.adapters.web.app import create_app
from paytriage.adapters.web.escalation_api import JiraSetup, get_jira_setup

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium package not installed"),
]


def _jira(request: httpx.Request) -> httpx.Response:
    """Jira as seen by the server (in-process): no open duplicate, create answers PAY-3."""
    if request.url.path.endswith("/search/jql"):
        return httpx.Response(200, json={"issues": []})
    if request.url.path == "/rest/api/3/issue" and request.method == "POST":
        return httpx.Response(201, json={"id": "10003", "key": "PAY-3"})
    return httpx.Response(404, json={})


def _setup() -> Iterator[JiraSetup]:
    creds = JiraCredentials(url="https://jira.test", email="a@b.test", token=SecretStr("x"))
    with JiraClient(
        creds, config=JiraConfig(), transport=httpx.MockTransport(_jira), sleep=lambda _: None
    ) as c:
        yield JiraSetup(c, c.config)


@pytest.fixture
def server(sqlite_db: Database, tmp_path: Path) -> Iterator[tuple[str, int]]:
    cases = seed_cases(sqlite_db, tmp_path)
    [pid, _] = regroup(sqlite_db, [cases[:4], cases[4:]])
    app = create_app(database=sqlite_db)
    app.dependency_overrides[get_jira_setup] = _setup
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", pid
    srv.should_exit = True
    thread.join(timeout=10)


def test_preview_then_file_a_problem_in_jira(server: tuple[str, int], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    base, pid = server
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        )  # fmt: skip
        try:
            page = browser.new_page()
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(f"{base}/problems/{pid}")
            page.click("#escalate")
            page.wait_for_selector("#file-jira")
            page.click("#preview-jira")
            page.wait_for_selector("#jira-outcome")
            assert page.locator("#jira-outcome").inner_text() == "Dry run: nothing was sent to Jira"
            assert page.locator("#jira-summary").inner_text().strip()
            assert "Impact" in page.locator("#jira-description").inner_text()
            assert page.locator("header.top nav").count() == 1  # a page of the app, not a raw JSON response
            page.go_back()
            page.wait_for_selector("#file-in-jira")
            page.click("#file-in-jira")
            page.wait_for_selector("#jira-key")
            assert page.locator("#jira-key").inner_text() == "PAY-3"
            assert page.locator("#jira-key").get_attribute("href") == "https://jira.test/browse/PAY-3"
            assert "Recorded as defect #" in page.locator("main").inner_text()
            page.screenshot(path=str(tmp_path / "filed.png"))
            page.click("a[href='/backlog']")
            page.wait_for_selector("#backlog")
            assert "PAY-3" in page.locator("#backlog").inner_text()
            assert all(u.startswith(base) for u in requests), "page fetched something not served locally"
        finally:
            browser.close()
