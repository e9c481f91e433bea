"""Zendesk Support connector: resumable incremental ticket import, comments, notes, replies, tags, status.

Import uses the cursor-based incremental export (``GET /api/v2/incremental/tickets/cursor.json``): each page
carries ``after_cursor``; the cursor is persisted in a small JSON file only *after* the page's tickets are
safely written, together with the output file's length at that point. A run killed anywhere therefore
resumes by truncating the output to the last committed length and asking for the committed cursor again:
nothing lost, nothing doubled (the bench kills an import mid-way to prove it).

Writes go through ``PUT /api/v2/tickets/{id}`` (Zendesk has no comment POST). Setting tags/status is
naturally idempotent and retried freely; adding a comment is not, so before any retry after an ambiguous
failure (timeout, 5xx) the ticket's newest comments are read and the post is skipped when ours is there.
Tickets are yielded as the raw Zendesk dicts that
:func:`paytriage.adapters.connectors.rows.ticket_from_zendesk` reads, with their comments under
``"comments"`` when asked for.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from paytriage.adapters.connectors.http import (
    ConnectorError,
    CredentialsError,
    RetryingTransport,
    RetryPolicy,
    read_secret_values,
)

__all__ = [
    "CursorFile",
    "ImportState",
    "TicketPage",
    "TicketStatus",
    "ZendeskClient",
    "ZendeskCredentials",
    "import_to_jsonl",
]

logger = logging.getLogger("paytriage.connectors.zendesk")
_SERVICE = "zendesk"
EXPORT_PATH = "/api/v2/incremental/tickets/cursor.json"


class TicketStatus(enum.StrEnum):
    """The statuses an agent can set through the API (``new`` and ``closed`` are Zendesk's own)."""

    OPEN = "open"
    PENDING = "pending"
    HOLD = "hold"
    SOLVED = "solved"


@dataclass(frozen=True)
class ZendeskCredentials:
    """Base URL, agent e-mail and API token (sent as ``email/token:TOKEN`` basic auth)."""

    base_url: str
    email: str
    token: SecretStr

    @classmethod
    def load(
        cls, *, subdomain: str | None = None, base_url: str | None = None, secrets_file: Path | None = None
    ) -> ZendeskCredentials:
        """E-mail and token from ``PAYTRIAGE_ZENDESK_EMAIL``/``PAYTRIAGE_ZENDESK_TOKEN`` (or the secrets
        file); the site from ``base_url``, ``subdomain`` or ``PAYTRIAGE_ZENDESK_URL``/``…_SUBDOMAIN``."""
        values = read_secret_values(
            {"email": "PAYTRIAGE_ZENDESK_EMAIL", "token": "PAYTRIAGE_ZENDESK_TOKEN"},
            service=_SERVICE,
            secrets_file=secrets_file,
        )
        url = base_url or os.environ.get("PAYTRIAGE_ZENDESK_URL")
        sub = subdomain or os.environ.get("PAYTRIAGE_ZENDESK_SUBDOMAIN")
        if not url:
            if not sub:
                raise CredentialsError(
                    "give --subdomain or set PAYTRIAGE_ZENDESK_SUBDOMAIN", service=_SERVICE
                )
            if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", sub):
                raise CredentialsError(f"not a Zendesk subdomain: {sub!r}", service=_SERVICE)
            url = f"https://{sub}.zendesk.com"
        if not re.match(r"^https?://", url):
            raise CredentialsError("the Zendesk URL must start with https://", service=_SERVICE)
        return cls(base_url=url.rstrip("/"), email=values["email"].get_secret_value(), token=values["token"])


@dataclass(frozen=True)
class TicketPage:
    tickets: list[dict[str, Any]]
    after_cursor: str | None
    end_of_stream: bool


@dataclass(frozen=True)
class ImportState:
    """What the cursor file holds. ``out_offset`` is the output length when ``after_cursor`` was saved."""

    start_time: int = 0
    after_cursor: str | None = None
    pages: int = 0
    tickets: int = 0
    out_offset: int = 0
    end_of_stream: bool = False
    updated_at: str | None = None


class CursorFile:
    """The persisted import position, replaced atomically (write, fsync, rename) so a kill never tears it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> ImportState | None:
        if not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return ImportState(**{k: data[k] for k in ImportState.__dataclass_fields__ if k in data})
        except (OSError, ValueError, TypeError) as exc:
            raise ConnectorError(
                f"cursor file {self.path} is unreadable ({type(exc).__name__}); delete it to restart",
                service=_SERVICE,
            ) from None

    def save(self, state: ImportState) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".cursor-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(asdict(state), f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


class ZendeskClient:
    """One Zendesk account. ``transport``/``sleep`` are for tests; ``policy`` sets retries."""

    def __init__(
        self,
        credentials: ZendeskCredentials,
        *,
        policy: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = credentials.base_url
        client = httpx.Client(
            base_url=credentials.base_url,
            auth=httpx.BasicAuth(f"{credentials.email}/token", credentials.token.get_secret_value()),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"Accept": "application/json", "User-Agent": "paytriage-zendesk"},
            transport=transport,
        )
        self.http = RetryingTransport(client, service=_SERVICE, policy=policy, sleep=sleep)

    def __repr__(self) -> str:
        return f"ZendeskClient(url={self.base_url!r})"

    def close(self) -> None:
        self.http.client.close()

    def __enter__(self) -> ZendeskClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def me(self) -> dict[str, Any]:
        """``GET /api/v2/users/me``: checks the credentials."""
        data: dict[str, Any] = self.http.request("GET", "/api/v2/users/me.json").json().get("user") or {}
        return data

    def export_pages(
        self, *, start_time: int = 0, cursor: str | None = None, per_page: int = 1000
    ) -> Iterator[TicketPage]:
        """Pages of the incremental export from ``cursor`` (or ``start_time`` on the first run).

        Stops after the page with ``end_of_stream``; that page's ``after_cursor`` is where the next
        incremental run starts.
        """
        while True:
            params: dict[str, Any] = {"per_page": per_page}
            if cursor:
                params["cursor"] = cursor
            else:
                params["start_time"] = start_time
            data = self.http.request("GET", EXPORT_PATH, params=params).json()
            tickets = data.get("tickets")
            if not isinstance(tickets, list):
                raise ConnectorError("export page has no 'tickets' list", service=_SERVICE, path=EXPORT_PATH)
            after = data.get("after_cursor") or cursor
            end = bool(data.get("end_of_stream", True))
            yield TicketPage(tickets=tickets, after_cursor=after, end_of_stream=end)
            if end or not data.get("after_cursor"):
                return
            cursor = after

    def comments(
        self, ticket_id: int | str, *, newest_first: bool = False, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """``GET /api/v2/tickets/{id}/comments`` with cursor pagination (100 a page)."""
        out: list[dict[str, Any]] = []
        params: dict[str, Any] = {"page[size]": 100}
        if newest_first:
            params["sort_order"] = "desc"
        path = f"/api/v2/tickets/{int(ticket_id)}/comments.json"
        while True:
            data = self.http.request("GET", path, params=params).json()
            out.extend(data.get("comments") or [])
            meta = data.get("meta") or {}
            if (
                (limit is not None and len(out) >= limit)
                or not meta.get("has_more")
                or not meta.get("after_cursor")
            ):
                return out[:limit] if limit is not None else out
            params = {**params, "page[after]": meta["after_cursor"]}

    def update_ticket(
        self,
        ticket_id: int | str,
        *,
        status: TicketStatus | str | None = None,
        tags: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Set status and/or the full tag list (``PUT /api/v2/tickets/{id}``): idempotent, so retried."""
        ticket: dict[str, Any] = {}
        if status is not None:
            ticket["status"] = TicketStatus(status).value
        if tags is not None:
            ticket["tags"] = _tags(tags)
        if not ticket:
            raise ConnectorError("nothing to update: give a status or tags", service=_SERVICE)
        data: dict[str, Any] = self.http.request(
            "PUT", f"/api/v2/tickets/{int(ticket_id)}.json", json={"ticket": ticket}
        ).json()
        return data.get("ticket") or {}

    def add_comment(
        self,
        ticket_id: int | str,
        body: str,
        *,
        public: bool,
        status: TicketStatus | str | None = None,
        tags: Sequence[str] | None = None,
    ) -> bool:
        """Post an internal note (``public=False``) or a public reply, once.

        Returns True when this call posted it, False when a retry found it already there (Zendesk
        accepted an earlier attempt whose answer was lost).
        """
        text = body.strip()
        if not text:
            raise ConnectorError("comment body is empty", service=_SERVICE)
        ticket: dict[str, Any] = {"comment": {"body": text, "public": public}}
        if status is not None:
            ticket["status"] = TicketStatus(status).value
        if tags is not None:
            ticket["tags"] = _tags(tags)
        started = datetime.now(UTC) - timedelta(minutes=5)

        def posted() -> bool:
            for c in self.comments(ticket_id, newest_first=True, limit=100):
                same = _norm(c.get("plain_body") or c.get("body") or "") == _norm(text)
                if same and bool(c.get("public")) == public and _after(c.get("created_at"), started):
                    return True
            return False

        response = self.http.request_effect(
            "PUT", f"/api/v2/tickets/{int(ticket_id)}.json", json={"ticket": ticket}, already_applied=posted
        )
        return response is not None


def _tags(tags: Sequence[str]) -> list[str]:
    """Zendesk tags are lower-case words; spaces would split one tag into several."""
    out = []
    for t in tags:
        tag = re.sub(r"\s+", "_", t.strip().lower())
        if tag and tag not in out:
            out.append(tag)
    return out


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def _after(value: Any, when: datetime) -> bool:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) >= when
    except ValueError:
        return True  # an unparseable timestamp must not hide a duplicate


def import_to_jsonl(
    client: ZendeskClient,
    *,
    cursor_file: Path,
    out: Path,
    start_time: int = 0,
    per_page: int = 1000,
    with_comments: bool = False,
    on_page: Callable[[ImportState, int], None] | None = None,
) -> ImportState:
    """Import (or resume importing) tickets into ``out`` as JSON lines; returns the final state.

    The cursor file owns the output: on resume the output is cut back to the committed length, which
    drops a page written by a run that died before committing it. A fresh import (no cursor file)
    refuses to append to a non-empty output, since its tickets could not be told apart.
    """
    store = CursorFile(cursor_file)
    state = store.load()
    if state is None:
        if out.exists() and out.stat().st_size > 0:
            raise ConnectorError(
                f"{out} is not empty but {cursor_file} does not exist; remove it or give its cursor file",
                service=_SERVICE,
            )
        state = ImportState(start_time=start_time)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.touch(exist_ok=True)
    with open(out, "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        if size < state.out_offset:
            raise ConnectorError(
                f"{out} is shorter than {cursor_file} says ({size} < {state.out_offset} bytes); "
                "it was changed outside the import",
                service=_SERVICE,
            )
        if size > state.out_offset:
            logger.warning("zendesk: dropping %d uncommitted bytes from %s", size - state.out_offset, out)
            f.truncate(state.out_offset)
        f.seek(state.out_offset)
        for page in client.export_pages(
            start_time=state.start_time, cursor=state.after_cursor, per_page=per_page
        ):
            chunk = []
            for ticket in page.tickets:
                if with_comments and ticket.get("id") is not None:
                    ticket = {**ticket, "comments": client.comments(ticket["id"])}
                chunk.append(json.dumps(ticket, ensure_ascii=False, separators=(",", ":")))
            if chunk:
                f.write(("\n".join(chunk) + "\n").encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
            state = replace(
                state,
                after_cursor=page.after_cursor,
                pages=state.pages + 1,
                tickets=state.tickets + len(page.tickets),
                out_offset=f.tell(),
                end_of_stream=page.end_of_stream,
                updated_at=datetime.now(UTC).isoformat(timespec="seconds"),
            )
            store.save(state)
            if on_page is not None:
                on_page(state, len(page.tickets))
    return state
