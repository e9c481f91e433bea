"""An in-memory Zendesk Support account behind :class:`~tests.contract.server.ContractServer`.

Tickets are made on demand from their index (so 100,000 cost no memory until touched); writes are kept as
overrides. Covers what the connector calls: users/me, the cursor-based incremental export, listing comments
(cursor pagination) and ``PUT /tickets/{id}`` (comment, tags, status).
"""

from __future__ import annotations

import base64
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.contract.server import json_response

__all__ = ["ZendeskFake"]

_EPOCH = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
_SUBJECTS = (
    "Card payment declined with code 05 for repeat customer",
    "Refund not received after 10 days",
    "Webhook payment.succeeded not delivered",
    "3DS challenge loops on mobile checkout",
    "Payout delayed for merchant account",
    "Duplicate charge on the same order",
)


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class ZendeskFake:
    """``n_tickets`` tickets with ``comments_per_ticket`` comments each; auth is ``email/token:token``."""

    def __init__(
        self,
        n_tickets: int = 50,
        *,
        comments_per_ticket: int = 2,
        email: str = "agent@example.com",
        token: str = "zd-test-token",
        base_url: str = "https://example.zendesk.com",
    ) -> None:
        self.n_tickets = n_tickets
        self.comments_per_ticket = comments_per_ticket
        self.base_url = base_url
        self._auth = "Basic " + base64.b64encode(f"{email}/token:{token}".encode()).decode()
        self._lock = threading.Lock()
        self.overrides: dict[int, dict[str, Any]] = {}
        self.added_comments: dict[int, list[dict[str, Any]]] = {}
        self._next_comment_id = 10_000_000

    # --- data ----------------------------------------------------------------------------------------
    def ticket(self, index: int) -> dict[str, Any]:
        tid = index + 1
        created = _EPOCH + timedelta(minutes=index)
        subject = _SUBJECTS[index % len(_SUBJECTS)]
        t: dict[str, Any] = {
            "id": tid,
            "url": f"{self.base_url}/api/v2/tickets/{tid}.json",
            "external_id": None,
            "via": {
                "channel": ("email", "web", "api")[index % 3],
                "source": {"from": {}, "to": {}, "rel": None},
            },
            "created_at": _iso(created),
            "updated_at": _iso(created + timedelta(minutes=5)),
            "generated_timestamp": int((created + timedelta(minutes=5)).timestamp()),
            "type": "incident",
            "subject": f"{subject} (#{tid})",
            "raw_subject": f"{subject} (#{tid})",
            "description": f"Merchant m_{index % 997:04d} reports: {subject.lower()}.",
            "priority": ("urgent", "high", "normal", "low")[index % 4],
            "status": "open",
            "requester_id": 500_000 + index % 5000,
            "submitter_id": 500_000 + index % 5000,
            "assignee_id": None,
            "organization_id": 9000 + index % 997,
            "group_id": 77,
            "tags": ["payments", f"psp_{index % 3}"],
            "custom_fields": [{"id": 360001, "value": f"m_{index % 997:04d}"}],
            "is_public": True,
            "has_incidents": False,
        }
        with self._lock:
            return {**t, **self.overrides.get(tid, {})}

    def comments_of(self, tid: int) -> list[dict[str, Any]]:
        index = tid - 1
        base = _EPOCH + timedelta(minutes=index)
        made = [
            {
                "id": tid * 100 + i,
                "type": "Comment",
                "author_id": 500_000 + index % 5000 if i == 0 else 42,
                "body": f"Comment {i + 1} on ticket {tid}",
                "html_body": f"<p>Comment {i + 1} on ticket {tid}</p>",
                "plain_body": f"Comment {i + 1} on ticket {tid}",
                "public": i == 0,
                "created_at": _iso(base + timedelta(minutes=i)),
                "attachments": [],
                "via": {"channel": "web", "source": {}},
                "metadata": {},
            }
            for i in range(self.comments_per_ticket)
        ]
        with self._lock:
            return made + list(self.added_comments.get(tid, []))

    # --- HTTP ----------------------------------------------------------------------------------------
    def __call__(self, request: Request) -> Response:
        if request.headers.get("Authorization") != self._auth:
            return json_response({"error": "Couldn't authenticate you"}, 401)
        path = re.sub(r"\.json$", "", request.path)
        if path == "/api/v2/users/me" and request.method == "GET":
            return json_response(
                {"user": {"id": 42, "name": "Agent", "email": "agent@example.com", "role": "admin"}}
            )
        if path == "/api/v2/incremental/tickets/cursor" and request.method == "GET":
            return self._export(request)
        m = re.fullmatch(r"/api/v2/tickets/(\d+)(/comments)?", path)
        if m:
            tid = int(m.group(1))
            if not 1 <= tid <= self.n_tickets:
                return json_response({"error": "RecordNotFound", "description": "Not found"}, 404)
            if m.group(2) and request.method == "GET":
                return self._comments(request, tid)
            if not m.group(2) and request.method == "PUT":
                return self._update(request, tid)
        return json_response({"error": "InvalidEndpoint", "description": "Not found"}, 404)

    def _export(self, request: Request) -> Response:
        per_page = min(int(request.args.get("per_page", 1000)), 1000)
        cursor = request.args.get("cursor")
        if cursor:
            try:
                start = int(base64.urlsafe_b64decode(cursor.encode()).decode().split(":", 1)[1])
            except (ValueError, IndexError):
                return json_response({"error": "InvalidCursor", "description": "cursor is invalid"}, 400)
        else:
            if request.args.get("start_time") is None:
                return json_response({"error": "InvalidValue", "description": "start_time is required"}, 400)
            start = 0
        end = min(start + per_page, self.n_tickets)
        after = base64.urlsafe_b64encode(f"idx:{end}".encode()).decode()
        before = base64.urlsafe_b64encode(f"idx:{start}".encode()).decode()
        return json_response(
            {
                "tickets": [self.ticket(i) for i in range(start, end)],
                "after_cursor": after,
                "before_cursor": before,
                "after_url": f"{self.base_url}/api/v2/incremental/tickets/cursor.json?cursor={after}",
                "before_url": None,
                "end_of_stream": end >= self.n_tickets,
            }
        )

    def _comments(self, request: Request, tid: int) -> Response:
        comments = self.comments_of(tid)
        if request.args.get("sort_order") == "desc":
            comments = comments[::-1]
        size = int(request.args.get("page[size]", 100))
        start = int(request.args.get("page[after]", "0") or 0)
        page = comments[start : start + size]
        more = start + size < len(comments)
        return json_response(
            {
                "comments": page,
                "meta": {
                    "has_more": more,
                    "after_cursor": str(start + size) if more else None,
                    "before_cursor": None,
                },
                "links": {"next": None, "prev": None},
            }
        )

    def _update(self, request: Request, tid: int) -> Response:
        body = request.get_json(silent=True) or {}
        ticket = body.get("ticket") or {}
        changes: dict[str, Any] = {}
        if "status" in ticket:
            changes["status"] = ticket["status"]
        if "tags" in ticket:
            changes["tags"] = list(ticket["tags"])
        now = _iso(datetime.now(UTC))
        with self._lock:
            if "comment" in ticket:
                c = ticket["comment"]
                self._next_comment_id += 1
                text = str(c.get("body") or "")
                self.added_comments.setdefault(tid, []).append(
                    {
                        "id": self._next_comment_id,
                        "type": "Comment",
                        "author_id": 42,
                        "body": text,
                        "html_body": f"<p>{text}</p>",
                        "plain_body": text,
                        "public": bool(c.get("public", True)),
                        "created_at": now,
                        "attachments": [],
                        "via": {"channel": "api", "source": {}},
                        "metadata": {},
                    }
                )
            self.overrides.setdefault(tid, {}).update({**changes, "updated_at": now})
        return json_response(
            {"ticket": self.ticket(tid - 1), "audit": {"id": 1, "ticket_id": tid, "events": []}}
        )
