"""``POST /api/triage``: batched answers equal one-at-a-time triage; the JSON equals the schema's own."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from paytriage.adapters.storage.database import Database
from paytriage.adapters.web import triage_api
from paytriage.adapters.web.app import create_app
from paytriage.adapters.web.triage_api import TriagePublic, get_batcher, public_json
from paytriage.adapters.web.triage_batcher import TriageBatcher
from paytriage.domain import Channel, Ticket, utcnow
from paytriage.engines.triage import Triager

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from triage import synthetic

TEXTS = [
    *synthetic(24, seed=3),
    "",
    "   ",
    "<html><body><p>Refund <b>€1.234,56</b> missing since 2026-11-02</p></body></html>",
    "\x00\x01\x02 binary \xff\xfe garbage",
    "Hola, mi pago con tarjeta fue rechazado. Also my payout of JPY 5000 is missing.",
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    db = Database(f"sqlite:///{tmp_path_factory.mktemp('api') / 'api.db'}")
    yield create_app(database=db)
    db.dispose()


def _ticket(i: int, text: str) -> Ticket:
    return Ticket(
        external_id=f"T-{i}",
        source="api",
        created_at=utcnow(),
        description=text,
        subject="",
        channel=Channel.API,
        requester_id=f"cus_{i}",
    )


def _old_json(triager: Triager, ticket: Ticket) -> dict[str, Any]:
    """What the endpoint answered before batching: the result validated through ``TriagePublic``."""
    d = triager.triage(ticket).to_dict()
    core = {k: d.pop(k) for k in list(TriagePublic.model_fields) if k in d}
    return TriagePublic(**core, extra=d).model_dump(mode="json")


def _without_clock(doc: dict[str, Any]) -> dict[str, Any]:
    """Drop the SLA factor wording, which depends on ``created_at`` (now) when it is not given."""
    return {**doc, "extra": {k: v for k, v in doc["extra"].items() if k != "priority_factors"}}


def test_concurrent_requests_are_batched_and_equal_one_at_a_time(app: FastAPI) -> None:
    created = "2026-11-05T10:00:00Z"
    bodies = [
        {"id": f"T-{i}", "description": t, "requester_id": f"cus_{i}", "created_at": created}
        for i, t in enumerate(TEXTS)
    ]

    async def post_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.post("/api/triage", json=bodies[0])  # builds the triager
            return list(await asyncio.gather(*(client.post("/api/triage", json=b) for b in bodies)))

    batcher = get_batcher(app)
    before_batches, before_tickets = batcher.batches, batcher.tickets
    responses = asyncio.run(post_all())
    assert [r.status_code for r in responses] == [200] * len(bodies)
    assert batcher.tickets - before_tickets == len(bodies) + 1
    assert batcher.batches - before_batches < len(bodies)  # some requests shared a batch
    triager = batcher.triager
    for b, r in zip(bodies, responses, strict=True):
        ticket = Ticket(
            external_id=str(b["id"]),
            source="api",
            created_at=datetime.fromisoformat(created),
            description=str(b["description"]),
            channel=Channel.API,
            requester_id=str(b["requester_id"]),
        )
        assert r.json() == _old_json(triager, ticket)


def test_json_equals_the_schema_serialisation(app: FastAPI) -> None:
    triager = get_batcher(app).triager
    for i, text in enumerate(TEXTS):
        ticket = _ticket(i, text)
        assert _without_clock(json.loads(public_json(triager.triage(ticket)))) == _without_clock(
            _old_json(triager, ticket)
        )


def test_json_without_orjson_is_the_same(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    result = get_batcher(app).triager.triage(_ticket(1, TEXTS[0]))
    fast = public_json(result)
    monkeypatch.setattr(triage_api, "orjson", None)
    assert json.loads(public_json(result)) == json.loads(fast)


def test_amount_beyond_64_bits_still_answers(app: FastAPI) -> None:
    with TestClient(app) as client:
        r = client.post(
            "/api/triage", json={"description": "I was charged EUR 99999999999999999999999 twice"}
        )
    assert r.status_code == 200, r.text
    assert r.json()["category"]


def test_bad_input_is_a_422_or_an_answer(app: FastAPI) -> None:
    with TestClient(app) as client:
        assert client.post("/api/triage", json={"subject": "no description"}).status_code == 422
        assert client.post("/api/triage", content=b"\xff\xfe not json").status_code == 422
        empty = client.post("/api/triage", json={"description": ""})
        assert empty.status_code == 200 and empty.json()["category"] == "other"
        big = client.post("/api/triage", json={"description": "card 4111-1111-1111-1111 declined " * 25_000})
        assert big.status_code == 200 and "4111-1111-1111-1111" not in big.text
        too_big = client.post("/api/triage", json={"description": "4111 1111 1111 1111 " * 60_000})
        assert too_big.status_code == 422 and "4111 1111 1111 1111" not in too_big.text  # input not echoed


def test_openapi_still_documents_the_response() -> None:
    schema = create_app(database=Database("sqlite://")).openapi()
    ok = schema["paths"]["/api/triage"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/TriagePublic")


def _echo_triager(texts: list[str]) -> Triager:
    class _Echo:
        def triage_many(self, tickets: list[Ticket]) -> list[str]:
            texts.append(f"batch of {len(tickets)}")
            return [t.external_id for t in tickets]

    return _Echo()  # type: ignore[return-value]


def test_batcher_caps_batch_size_and_keeps_order() -> None:
    log: list[str] = []
    batcher = TriageBatcher(lambda: _echo_triager(log), max_batch=3)

    async def run() -> list[object]:
        return list(await asyncio.gather(*(batcher.triage(_ticket(i, "x")) for i in range(10))))

    assert asyncio.run(run()) == [f"T-{i}" for i in range(10)]
    assert batcher.tickets == 10 and batcher.batches == len(log) >= 4
    assert all(int(entry.rsplit(" ", 1)[1]) <= 3 for entry in log)


def test_batcher_failure_reaches_every_waiting_request_and_it_recovers() -> None:
    calls = {"n": 0}

    def flaky() -> Triager:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("model directory unreadable")
        return _echo_triager([])

    batcher = TriageBatcher(flaky)

    async def run() -> list[object]:
        return list(
            await asyncio.gather(*(batcher.triage(_ticket(i, "x")) for i in range(5)), return_exceptions=True)
        )

    first = asyncio.run(run())
    assert first and all(isinstance(r, RuntimeError) for r in first)
    assert asyncio.run(run()) == [f"T-{i}" for i in range(5)]


def test_batcher_rejects_empty_batches() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        TriageBatcher(lambda: _echo_triager([]), max_batch=0)
