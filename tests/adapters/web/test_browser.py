"""The queue page in real headless Chromium (Debian package), driven by Playwright."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
import uvicorn

from paytriage.adapters.storage.database import Database
from paytriage.adapters.web.app import create_app
from paytriage.services.ingest import IngestKind, ingest_file

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium package not installed"),
]


@pytest.fixture
def server(sqlite_db: Database) -> Iterator[str]:
    examples = Path(str(resources.files("paytriage") / "examples"))
    ingest_file(sqlite_db, examples / "tickets.csv", IngestKind.TICKETS, source="demo")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(
        uvicorn.Config(create_app(database=sqlite_db), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_queue_filter_and_open_case(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        try:
            page = browser.new_page()
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(server + "/")
            assert page.locator("h1").inner_text() == "Tier-2 queue"
            assert page.locator("#queue tbody tr").count() == 8
            page.fill("input[name=q]", "webhook")
            page.click("button[type=submit]")
            page.wait_for_url("**q=webhook**")
            assert page.locator("#queue tbody tr").count() == 1
            page.click("#queue tbody tr a")
            page.wait_for_selector("#case-status")
            assert "Webhooks failing" in page.locator("h1").inner_text()
            assert page.locator("#case-status").inner_text() == "new"
            page.screenshot(path=str(tmp_path / "case.png"))
            assert all(u.startswith(server) for u in requests), "page fetched something not served locally"
        finally:
            browser.close()
