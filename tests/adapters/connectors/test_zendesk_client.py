"""Zendesk connector against a loopback Zendesk validating every exchange with Zendesk's OpenAPI document.

Skipped when ``../shared/data/api_specs/zendesk/oas.yaml`` is absent (its licence does not let us copy it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.contract.fixtures import ZendeskEnv, zendesk_env
from tests.contract.server import Fault

from paytriage.adapters.connectors.http import (
    AuthError,
    ConnectorError,
    ConnectorTimeoutError,
    RemoteNotFoundError,
)
from paytriage.adapters.connectors.rows import is_zendesk_ticket, ticket_from_zendesk
from paytriage.adapters.connectors.zendesk import CursorFile, TicketStatus, import_to_jsonl

__all__ = ["zendesk_env"]


def _ids(path: Path) -> list[int]:
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


def test_full_import_yields_tickets_ingest_understands(zendesk_env: ZendeskEnv, tmp_path: Path) -> None:
    out, cur = tmp_path / "t.jsonl", tmp_path / "cursor.json"
    state = import_to_jsonl(zendesk_env.client, cursor_file=cur, out=out, per_page=100)
    ids = _ids(out)
    assert ids == list(range(1, zendesk_env.fake.n_tickets + 1))
    assert state.end_of_stream and state.pages == 3 and state.tickets == 250
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert is_zendesk_ticket(first)
    ticket = ticket_from_zendesk(first, line=1)
    assert ticket.external_id == "1" and ticket.subject.startswith("Card payment declined")


def test_comments_are_attached_when_asked(zendesk_env: ZendeskEnv, tmp_path: Path) -> None:
    zendesk_env.fake.n_tickets = 3
    out = tmp_path / "t.jsonl"
    import_to_jsonl(zendesk_env.client, cursor_file=tmp_path / "c.json", out=out, with_comments=True)
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [len(r["comments"]) for r in rows] == [2, 2, 2]
    assert rows[0]["comments"][0]["body"] == "Comment 1 on ticket 1"


def test_rerun_after_end_of_stream_adds_nothing(zendesk_env: ZendeskEnv, tmp_path: Path) -> None:
    out, cur = tmp_path / "t.jsonl", tmp_path / "c.json"
    import_to_jsonl(zendesk_env.client, cursor_file=cur, out=out, per_page=100)
    again = import_to_jsonl(zendesk_env.client, cursor_file=cur, out=out, per_page=100)
    assert len(_ids(out)) == 250 and again.tickets == 250


def test_failure_mid_sync_resumes_without_loss_or_duplicates(zendesk_env: ZendeskEnv, tmp_path: Path) -> None:
    out, cur = tmp_path / "t.jsonl", tmp_path / "c.json"
    # the first page goes through, then every attempt at the second page fails
    zendesk_env.server.add_fault(Fault(r"incremental/tickets/cursor", 500, times=4, skip=1))
    with pytest.raises(ConnectorError):
        import_to_jsonl(zendesk_env.client, cursor_file=cur, out=out, per_page=100)
    assert CursorFile(cur).load() is not None and len(_ids(out)) == 100
    # a crash between writing a page and saving its cursor leaves extra bytes: resume must drop them
    with out.open("ab") as f:
        f.write(b'{"id": 101, "partial": tr')
    state = import_to_jsonl(zendesk_env.client, cursor_file=cur, out=out, per_page=100)
    ids = _ids(out)
    assert ids == list(range(1, 251)) and len(set(ids)) == len(ids)
    assert state.tickets == 250 and state.end_of_stream


def test_fresh_import_refuses_to_append_to_unknown_output(zendesk_env: ZendeskEnv, tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    out.write_text('{"id": 1}\n', encoding="utf-8")
    with pytest.raises(ConnectorError, match="does not exist"):
        import_to_jsonl(zendesk_env.client, cursor_file=tmp_path / "c.json", out=out)


def test_429_on_export_waits_retry_after(zendesk_env: ZendeskEnv, tmp_path: Path) -> None:
    zendesk_env.server.add_fault(Fault(r"incremental", 429, headers={"Retry-After": "12"}))
    import_to_jsonl(
        zendesk_env.client, cursor_file=tmp_path / "c.json", out=tmp_path / "t.jsonl", per_page=100
    )
    assert zendesk_env.sleeps == [12.0]


def test_internal_note_and_public_reply_with_tags_and_status(zendesk_env: ZendeskEnv) -> None:
    c = zendesk_env.client
    assert c.add_comment(7, "Checked PSP logs: timeout at 10:02.", public=False)
    assert c.add_comment(7, "We found the cause and are fixing it.", public=True, status="pending")
    added = zendesk_env.fake.added_comments[7]
    assert [(x["body"], x["public"]) for x in added] == [
        ("Checked PSP logs: timeout at 10:02.", False),
        ("We found the cause and are fixing it.", True),
    ]
    ticket = c.update_ticket(7, status=TicketStatus.HOLD, tags=["Escalated To Eng", "refunds", "refunds"])
    assert ticket["status"] == "hold" and ticket["tags"] == ["escalated_to_eng", "refunds"]
    with pytest.raises(ValueError):
        c.update_ticket(7, status="deleted")


def test_comment_whose_answer_was_lost_is_not_posted_twice(zendesk_env: ZendeskEnv) -> None:
    zendesk_env.server.add_fault(Fault(r"^PUT /api/v2/tickets/9", 502, after_apply=True))
    posted = zendesk_env.client.add_comment(9, "Note once", public=False)
    assert posted is False  # the retry found the first attempt's comment
    assert [x["body"] for x in zendesk_env.fake.added_comments[9]] == ["Note once"]


def test_comment_refused_by_5xx_is_retried_and_lands_once(zendesk_env: ZendeskEnv) -> None:
    zendesk_env.server.add_fault(Fault(r"^PUT /api/v2/tickets/9", 503, times=2))
    assert zendesk_env.client.add_comment(9, "Reply", public=True) is True
    assert len(zendesk_env.fake.added_comments[9]) == 1


def test_comment_timeout_then_check_finds_it(zendesk_env: ZendeskEnv) -> None:
    client = zendesk_env.client_with(timeout=0.3)
    zendesk_env.server.add_fault(Fault(r"^PUT /api/v2/tickets/4", 200, delay=0.6, after_apply=True))
    assert client.add_comment(4, "slow", public=False) is False
    assert len(zendesk_env.fake.added_comments[4]) == 1


def test_export_timeouts_exhaust_into_an_error(zendesk_env: ZendeskEnv) -> None:
    client = zendesk_env.client_with(timeout=0.2)
    zendesk_env.server.add_fault(Fault(r"incremental", 200, delay=0.4, after_apply=True, times=10))
    with pytest.raises(ConnectorTimeoutError):
        next(client.export_pages())


def test_auth_failure_and_not_found(zendesk_env: ZendeskEnv) -> None:
    with pytest.raises(AuthError, match="authenticate"):
        zendesk_env.client_with(token="bad").me()
    with pytest.raises(RemoteNotFoundError):
        zendesk_env.client.add_comment(999_999, "x", public=False)
    assert zendesk_env.client.me()["id"] == 42


def test_contract_validator_catches_a_bad_request(zendesk_env: ZendeskEnv) -> None:
    """The validator is live: a non-integer ticket id breaks the documented path parameter."""
    r = zendesk_env.client.http.client.put("/api/v2/tickets/abc.json", json={"ticket": {}})
    assert r.status_code == 599
    assert any("ticket_id" in v or "abc" in v for v in zendesk_env.server.violations)
    zendesk_env.server.violations.clear()
