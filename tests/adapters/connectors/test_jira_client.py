"""Jira connector against a loopback Jira that validates every exchange with Atlassian's OpenAPI document."""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import pytest
from tests.contract.fixtures import JIRA_TOKEN, JiraEnv, jira_env
from tests.contract.server import Fault

from paytriage.adapters.connectors.adf import check_adf, plain_text
from paytriage.adapters.connectors.http import (
    AuthError,
    ConnectorError,
    ConnectorTimeoutError,
    RateLimitedError,
    RemoteNotFoundError,
    RemoteServerError,
)
from paytriage.adapters.connectors.jira import EscalationAction, JiraCredentials, TicketLink

__all__ = ["jira_env"]

PACKAGE: dict[str, Any] = {
    "id": "problem-17",
    "title": "Refunds stuck in pending after PSP timeout on Adyen",
    "summary": "Since the 10:00 deploy, refunds above EUR 500 stay pending; the PSP call times out.",
    "impact": {"customers": 41, "merchants": 7, "money_at_stake": "EUR 52,310.00", "trend": "rising"},
    "severity": "P2",
    "severity_reason": "money movement blocked for 7 merchants",
    "environment": {"api_version": "2024-06-01", "sdk": "php 3.2.1", "region": "eu-west-1"},
    "reproduction_steps": ["POST /v1/refunds amount=60000", "observe status=pending after 30 s"],
    "log_excerpts": ["2026-01-05T10:02:11Z ERROR [refunds] psp timeout after 30000ms txn=t_1"],
    "timeline": [{"at": "10:00", "event": "deploy 4.12"}, {"at": "10:02", "event": "first timeout"}],
    "related_tickets": ["ZD-101", "ZD-102"],
    "suspected_component": "refunds",
    "ruled_out": ["merchant configuration", "card network outage"],
    "priority": "P2",
}
TICKETS = [TicketLink("https://acme.zendesk.com/agent/tickets/101", "ZD-101", "Refund pending")]


def test_creates_issue_with_adf_labels_components_and_mapped_priority(
    jira_env: JiraEnv, tmp_path: Path
) -> None:
    evidence = tmp_path / "refunds.log"
    evidence.write_text("10:02 ERROR psp timeout\n", encoding="utf-8")
    out = jira_env.client.escalate(PACKAGE, tickets=TICKETS, attachments=[evidence])
    assert out.action is EscalationAction.CREATED
    assert out.key is not None and out.url == f"{jira_env.server.url}/browse/{out.key}"
    fields = jira_env.fake.create_requests[0]["fields"]
    assert fields["summary"] == PACKAGE["title"]
    assert fields["priority"] == {"name": "Critical"}  # P2 through the configured map
    assert fields["components"] == [{"name": "Payments"}, {"name": "refunds"}]
    assert set(fields["labels"]) == {"paytriage", "paytriage-problem-17"}
    assert check_adf(fields["description"]) == []
    kinds = {n["type"] for n in fields["description"]["content"]}
    assert {"heading", "paragraph", "table", "orderedList", "bulletList", "codeBlock"} <= kinds
    assert "psp timeout after 30000ms" in plain_text(fields["description"])
    links = jira_env.fake.remote_links[out.key]
    assert [v["object"]["url"] for v in links.values()] == [TICKETS[0].url]
    assert [a["filename"] for a in jira_env.fake.attachments[out.key]] == ["refunds.log"]
    assert out.remote_links == 1 and out.attachments == ["refunds.log"]


def test_open_duplicate_gets_a_comment_instead_of_a_new_issue(jira_env: JiraEnv) -> None:
    jira_env.fake.add_issue("Card declines with code 05 on Visa debit")
    existing = jira_env.fake.add_issue("Refunds stuck pending after PSP timeout (Adyen)")
    out = jira_env.client.escalate(PACKAGE, tickets=TICKETS)
    assert out.action is EscalationAction.COMMENTED and out.key == existing
    assert out.duplicate_score is not None and out.duplicate_score >= 80
    assert jira_env.fake.create_requests == []
    comment = jira_env.fake.comments[existing][0]
    assert check_adf(comment["body"]) == []
    assert "similarity" in plain_text(comment["body"])
    assert len(jira_env.fake.remote_links[existing]) == 1


def test_resolved_duplicate_is_not_reused(jira_env: JiraEnv) -> None:
    old = jira_env.fake.add_issue("Refunds stuck pending after PSP timeout (Adyen)")
    jira_env.fake.resolve(old)
    out = jira_env.client.escalate(PACKAGE)
    assert out.action is EscalationAction.CREATED and out.key != old


def test_dissimilar_open_issue_is_not_a_duplicate(jira_env: JiraEnv) -> None:
    jira_env.fake.add_issue("Dashboard export to CSV misses the currency column")
    assert jira_env.client.find_duplicate(PACKAGE) is None


def test_dry_run_files_nothing(jira_env: JiraEnv) -> None:
    out = jira_env.client.escalate(PACKAGE, dry_run=True)
    assert out.action is EscalationAction.DRY_RUN and out.key is None
    assert out.fields["priority"] == {"name": "Critical"}
    assert jira_env.fake.issues == {}


def test_rerun_links_and_attachments_are_not_doubled(jira_env: JiraEnv, tmp_path: Path) -> None:
    evidence = tmp_path / "e.txt"
    evidence.write_text("x", encoding="utf-8")
    first = jira_env.client.escalate(PACKAGE, tickets=TICKETS, attachments=[evidence])
    second = jira_env.client.escalate(PACKAGE, tickets=TICKETS, attachments=[evidence])
    assert second.action is EscalationAction.COMMENTED and second.key == first.key
    assert first.key is not None
    assert len(jira_env.fake.remote_links[first.key]) == 1
    assert len(jira_env.fake.attachments[first.key]) == 1


def test_sync_status_reads_status_and_resolution_and_skips_missing(jira_env: JiraEnv) -> None:
    a = jira_env.fake.add_issue("one")
    b = jira_env.fake.add_issue("two")
    jira_env.fake.resolve(b, "Won't Fix")
    states = jira_env.client.sync_status([a, b.lower(), "PAY-999"])
    assert set(states) == {a, b}
    assert (states[a].status_category, states[a].resolution) == ("new", None)
    assert (states[b].status, states[b].resolution) == ("Done", "Won't Fix")
    assert states[b].resolved_at is not None
    with pytest.raises(ConnectorError, match="not a Jira issue key"):
        jira_env.client.sync_status(["PAY-1) OR project = X"])


def test_wrong_token_is_an_auth_error(jira_env: JiraEnv) -> None:
    with pytest.raises(AuthError) as info:
        jira_env.client_with(token="wrong").myself()
    assert info.value.status == 401
    assert "authenticated" in str(info.value)


def test_unknown_issue_is_not_found(jira_env: JiraEnv) -> None:
    with pytest.raises(RemoteNotFoundError):
        jira_env.client.add_remote_link("PAY-404", TICKETS[0])


def test_429_waits_retry_after_then_succeeds(jira_env: JiraEnv) -> None:
    jira_env.server.add_fault(Fault(r"^GET /rest/api/3/myself$", 429, times=2, headers={"Retry-After": "7"}))
    assert jira_env.client.myself()["displayName"] == "paytriage bot"
    assert jira_env.sleeps == [7.0, 7.0]


def test_429_beyond_the_patience_limit_raises_with_the_hint(jira_env: JiraEnv) -> None:
    jira_env.server.add_fault(Fault(r"myself", 429, headers={"Retry-After": "3600"}))
    with pytest.raises(RateLimitedError) as info:
        jira_env.client.myself()
    assert info.value.retry_after == 3600.0 and jira_env.sleeps == []


def test_5xx_is_retried_with_backoff_then_gives_up(jira_env: JiraEnv) -> None:
    jira_env.server.add_fault(Fault(r"myself", 502, times=1))
    assert jira_env.client.myself()
    jira_env.server.add_fault(Fault(r"myself", 503, times=10))
    with pytest.raises(RemoteServerError):
        jira_env.client.myself()
    assert len(jira_env.sleeps) == 1 + 3


def test_timeout_is_retried_then_reported(jira_env: JiraEnv) -> None:
    client = jira_env.client_with(timeout=0.3)
    jira_env.server.add_fault(Fault(r"myself", 200, delay=0.8, after_apply=True, times=10))
    with pytest.raises(ConnectorTimeoutError):
        client.myself()


def test_create_that_landed_but_answered_503_is_not_repeated(jira_env: JiraEnv) -> None:
    jira_env.server.add_fault(Fault(r"^POST /rest/api/3/issue$", 503, after_apply=True))
    ref = jira_env.client.create_issue(PACKAGE)
    assert len(jira_env.fake.issues) == 1 and ref.key in jira_env.fake.issues


def test_comment_that_landed_but_timed_out_is_not_repeated(jira_env: JiraEnv) -> None:
    key = jira_env.fake.add_issue("x")
    client = jira_env.client_with(timeout=0.3)
    jira_env.server.add_fault(
        Fault(r"^POST /rest/api/3/issue/[^/]+/comment$", 201, delay=0.6, after_apply=True)
    )
    body = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hi"}]}],
    }
    cid = client.add_comment(key, body, idempotency_key="k-1")
    assert len(jira_env.fake.comments[key]) == 1 and cid == jira_env.fake.comments[key][0]["id"]


def test_token_never_appears_in_logs_errors_or_reprs(
    jira_env: JiraEnv, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    basic = base64.b64encode(f"bot@example.com:{JIRA_TOKEN}".encode()).decode()
    jira_env.server.add_fault(Fault(r"myself", 429, headers={"Retry-After": "1"}))
    jira_env.server.add_fault(Fault(r"myself", 500))
    seen: list[str] = [
        repr(jira_env.client),
        repr(jira_env.client.http),
        repr(jira_env.client.http.client.auth),
    ]
    jira_env.client.myself()
    assert jira_env.client.escalate(PACKAGE).key
    for bad in (
        lambda: jira_env.client_with(token="nope").myself(),
        lambda: jira_env.client.add_comment("PAY-9", {}, idempotency_key="z"),
    ):
        with pytest.raises(ConnectorError) as info:
            bad()
        seen += [str(info.value), repr(info.value), repr(info.value.args)]
    monkeypatch.setenv("PAYTRIAGE_JIRA_URL", "https://acme.atlassian.net")
    monkeypatch.setenv("PAYTRIAGE_JIRA_EMAIL", "bot@example.com")
    monkeypatch.setenv("PAYTRIAGE_JIRA_TOKEN", JIRA_TOKEN)
    creds = JiraCredentials.load()
    seen += [repr(creds), str(creds)]
    seen += [r.getMessage() for r in caplog.records] + [caplog.text]
    assert caplog.records, "the test must see some log lines"
    for text in seen:
        assert JIRA_TOKEN not in text and basic not in text
    assert creds.token.get_secret_value() == JIRA_TOKEN
