"""``POST /api/triage``: one ticket in, the triage decision with its reasons out (no database write).

The endpoint is ``async`` and hands the ticket to a per-app :class:`TriageBatcher`, so concurrent
requests are triaged together in one worker thread instead of twenty threads contending for the
GIL; the JSON is written straight from the result (it is already plain) rather than validated again.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from paytriage.adapters.web.triage_batcher import TriageBatcher
from paytriage.domain import Channel, Ticket, utcnow
from paytriage.engines.triage.result import TriageResult
from paytriage.engines.triage.triager import Triager
from paytriage.services.triage import build_triager

try:
    import orjson
except ImportError:  # pragma: no cover - optional speed-up; the standard library gives the same JSON
    orjson = None  # type: ignore[assignment]

__all__ = ["TriagePublic", "TriageRequest", "get_batcher", "get_triager", "public_json", "router", "warm"]


class _Route(APIRoute):
    """Answers an unreadable body (bytes that are not UTF-8) with a plain 422, not a server error.

    FastAPI's default 422 handler echoes the offending input and fails to encode raw bytes.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                errors = [{k: v for k, v in e.items() if k != "input"} for e in exc.errors()]
                return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

        return route


router = APIRouter(prefix="/api", tags=["triage"], route_class=_Route)
_lock = threading.Lock()


class TriageRequest(BaseModel):
    id: str = Field(default="adhoc", max_length=128)
    subject: str = Field(default="", max_length=2_000)
    description: str = Field(
        max_length=1_000_000, description="The customer's text (may contain a pasted PAN)."
    )
    created_at: datetime | None = None
    requester_id: str | None = Field(default=None, max_length=128)
    requester_email: str | None = Field(default=None, max_length=320)
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class TriagePublic(BaseModel):
    id: str
    category: str
    category_confidence: float
    route: str
    priority: str
    needs_info: bool
    questions: list[str]
    entities: list[dict[str, Any]]
    redacted_text: str
    reasons: list[str]
    ruleset_version: str
    model_version: str
    extra: dict[str, Any] = Field(
        default_factory=dict, description="priority factors, signals, KB article ..."
    )


def get_batcher(app: FastAPI) -> TriageBatcher:
    """The app's batcher; its triager is built on first use (fitting the zero-config model takes ~1 s)."""
    batcher: TriageBatcher | None = getattr(app.state, "triage_batcher", None)
    if batcher is None:
        with _lock:
            batcher = getattr(app.state, "triage_batcher", None)
            if batcher is None:
                settings = app.state.settings
                batcher = TriageBatcher(lambda: build_triager(settings.triage_config_dir, settings.model_dir))
                app.state.triage_batcher = batcher
    return batcher


def get_triager(request: Request) -> Triager:
    """The triager behind ``POST /api/triage`` (built once per app)."""
    return get_batcher(request.app).triager


def warm(app: FastAPI) -> None:
    """Build the triager now (a server calls this at start-up so no request waits for it)."""
    get_batcher(app).triager.triage("warm-up: card declined with code 05, refund of EUR 12.50 missing")


def public_json(result: TriageResult) -> bytes:
    """The :class:`TriagePublic` JSON of a result: its fields in order, everything else under ``extra``."""
    d = result.to_dict()
    core = {k: d.pop(k) for k in _PUBLIC_FIELDS if k in d}
    core["extra"] = d
    if orjson is not None:
        with contextlib.suppress(TypeError):  # e.g. an amount beyond 64-bit minor units
            return orjson.dumps(core)
    return json.dumps(core, ensure_ascii=False, separators=(",", ":")).encode()


_PUBLIC_FIELDS = tuple(k for k in TriagePublic.model_fields if k != "extra")


@router.post("/triage", response_model=TriagePublic)
async def triage(body: TriageRequest, request: Request) -> Response:
    """Triage one ticket: category, route, priority, entities, missing facts and reasons, redacted."""
    ticket = Ticket(
        external_id=body.id,
        source="api",
        created_at=body.created_at or utcnow(),
        description=body.description,
        subject=body.subject,
        channel=Channel.API,
        requester_id=body.requester_id,
        requester_email=body.requester_email,
        custom_fields=body.custom_fields,
    )
    result = await get_batcher(request.app).triage(ticket)
    return Response(public_json(result), media_type="application/json")
