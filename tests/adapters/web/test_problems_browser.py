"""The problems pages in real headless Chromium: list → detail → rename and reject → Escalate link."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from tests.services.problem_seed import regroup, seed_cases

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import ProblemRow
from paytriage.adapters.web.app import create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium package not installed"),
]


@pytest.fixture
def server(sqlite_db: Database, tmp_path: Path) -> Iterator[str]:
    cases = seed_cases(sqlite_db, tmp_path)
    first, _ = regroup(sqlite_db, [cases[:4], cases[4:]])
    with sqlite_db.session() as s:  # as a detection run records it (services.problems.detection_record)
        s.get(ProblemRow, first).detection = {  # type: ignore[union-attr]
            "detected_at": "2026-11-02T14:12:00+00:00",
            "signals": ["error:91"],
            "evidence": "error:91: 3 customers in 0.5 h where 0.01 expected (p=1.0e-07)",
            "log": {"detected_at": "2026-11-02T14:03:00+00:00", "service": "api-gateway",
                    "signals": ["log:api-gateway:error:issuer_unavailable"],
                    "evidence": ["log:api-gateway:error:issuer_unavailable: 6 lines in 1 h"]},
        }  # fmt: skip
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


def test_problem_list_detail_rename_reject_and_escalate_link(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

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
            page.goto(server + "/")
            page.click("nav a[href='/problems']")
            page.wait_for_url("**/problems")
            assert page.locator("h1").inner_text() == "Problems"
            assert page.locator("#problems tbody tr").count() == 2
            expect(page.locator("#log-alerts")).to_contain_text("No log alerts")
            page.locator("#problems tbody tr", has_text="auto title 0").locator("a").click()
            page.wait_for_selector("#problem-status")
            assert page.locator("#problem-cases").inner_text() == "4"
            assert "91" in page.locator("#shared-entities").inner_text()
            assert page.locator("#examples tbody tr").count() == 4
            expect(page.locator("#log-detected-at")).to_have_text("2026-11-02T14:03")
            assert "issuer_unavailable: 6 lines" in page.locator("#log-evidence").inner_text()
            href = page.locator("#escalate").get_attribute("href")
            assert href is not None and href.endswith("/escalation") and href.startswith("/problems/")
            page.fill("#rename input[name=title]", "Issuer declines, code 91")
            # each form posts and redirects back: wait for that page before using the next form
            # (under CI load a click could land on the page the previous post was replacing)
            with page.expect_navigation():
                page.click("#rename button")
            page.wait_for_load_state()
            expect(page.locator("#problem-title")).to_contain_text("Issuer declines, code 91")
            page.select_option("#set-status select", "rejected")
            with page.expect_navigation():
                page.click("#set-status button")
            page.wait_for_load_state()
            expect(page.locator("#problem-status")).to_have_text("rejected")
            page.screenshot(path=str(tmp_path / "problem.png"))
            page.goto(server + "/problems")
            assert page.locator("#problems tbody tr").count() == 1  # rejected ones are hidden by default
            page.select_option("#filters select[name=status]", "rejected")
            page.click("#filters button")
            page.wait_for_url("**status=rejected**")
            assert "Issuer declines, code 91" in page.locator("#problems").inner_text()
            assert all(u.startswith(server) for u in requests), "page fetched something not served locally"
        finally:
            browser.close()
