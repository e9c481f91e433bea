"""GET /api/cases/{id}/investigation and the case page's investigation panel, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.engines.investigate.test_correlation import T0, background, issuer_outage, ticket
from tests.services.test_investigation import _case_of, _store

from paytriage.adapters.storage.database import Database
from paytriage.adapters.web.app import create_app


@pytest.fixture
def setup(db: Database, tmp_path: Path) -> Iterator[tuple[TestClient, int, int]]:
    bg_t, bg_l = background()
    out_t, out_l = issuer_outage()
    incident = ticket(f"card declined: {out_t[-1].external_id}")
    how_to = ticket("How do I add a team member?", at=T0 - timedelta(hours=1))
    _store(db, [*bg_t, *out_t], [*bg_l, *out_l], [incident, how_to])
    app = create_app(database=db)
    app.state.templates_path = tmp_path / "no-state-yet.json"
    with TestClient(app) as client:
        yield client, _case_of(db, incident.external_id), _case_of(db, how_to.external_id)


def test_investigation_endpoint(setup: tuple[TestClient, int, int]) -> None:
    client, incident, how_to = setup
    r = client.get(f"/api/cases/{incident}/investigation")
    assert r.status_code == 200
    body = r.json()
    assert body["case_id"] == incident
    top = body["hypotheses"][0]
    assert top["kind"] == "decline_spike" and top["systemic"] is True
    assert top["evidence"] and top["scope"]["transactions"] >= 10
    assert body["systemic_cause"] == top["title"]
    assert any(e["kind"] == "transaction" for e in body["timeline"])
    assert body["transactions"][0]["matched_by"] == "id in ticket"
    quiet = client.get(f"/api/cases/{how_to}/investigation").json()
    assert quiet["systemic_cause"] is None


def test_as_of_before_the_outage_sees_no_outage(setup: tuple[TestClient, int, int]) -> None:
    client, incident, _ = setup
    early = (T0 - timedelta(hours=2)).isoformat()
    body = client.get(f"/api/cases/{incident}/investigation", params={"as_of": early}).json()
    assert body["as_of"].startswith((T0 - timedelta(hours=2)).isoformat()[:16])
    assert body["systemic_cause"] is None


def test_unknown_case_and_bad_as_of(setup: tuple[TestClient, int, int]) -> None:
    client, _, _ = setup
    assert client.get("/api/cases/999999/investigation").status_code == 404
    assert client.get("/api/cases/1/investigation", params={"as_of": "yesterday"}).status_code == 422


def test_case_page_shows_hypotheses_timeline_and_evidence(setup: tuple[TestClient, int, int]) -> None:
    client, incident, _ = setup
    html = client.get(f"/cases/{incident}").text
    assert 'id="investigation"' in html
    assert "decline_spike" in html and "Timeline" in html and "[count]" in html
