"""The problems API on SQLite and PostgreSQL: list, detail, rename/reject, merge, split, errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from tests.services.problem_seed import regroup, seed_cases

from paytriage.adapters.storage.database import Database
from paytriage.adapters.web.app import create_app
from paytriage.services.problem_feedback import apply_feedback


@pytest.fixture
def seeded(db: Database, tmp_path: Path) -> Iterator[tuple[TestClient, Database, list[int]]]:
    cases = seed_cases(db, tmp_path)
    regroup(db, [cases[:3], cases[3:4], cases[4:]])
    with TestClient(create_app(database=db)) as c:
        yield c, db, cases


def _ids(client: TestClient, **params: object) -> list[int]:
    return [p["id"] for p in client.get("/api/problems", params=params).json()["data"]]


def test_list_filters_and_pages(seeded: tuple[TestClient, Database, list[int]]) -> None:
    client, _, _ = seeded
    body = client.get("/api/problems", params={"limit": 2}).json()
    assert body["count"] == 3 and len(body["data"]) == 2
    assert not set(_ids(client, limit=2)) & set(_ids(client, limit=2, offset=2))
    assert len(_ids(client, min_cases=3)) == 2
    assert client.get("/api/problems", params={"status": "confirmed"}).json()["count"] == 0
    assert client.get("/api/problems", params={"status": "bogus"}).status_code == 422
    assert client.get("/api/problems", params={"limit": 0}).status_code == 422


def test_detail_and_escalation_link(seeded: tuple[TestClient, Database, list[int]]) -> None:
    client, _, cases = seeded
    pid = next(p for p in _ids(client) if client.get(f"/api/problems/{p}").json()["case_ids"] == cases[:3])
    d = client.get(f"/api/problems/{pid}").json()
    assert d["cases"] == 3 and d["escalation_url"] == f"/problems/{pid}/escalation"
    assert [e["ticket"] for e in d["examples"]] == ["T0", "T1", "T2"]
    assert d["trend"] in {"new", "rising", "steady", "falling", "quiet"}
    assert client.get("/api/problems/999999").status_code == 404


def test_rename_reject_survive_rerun(seeded: tuple[TestClient, Database, list[int]]) -> None:
    client, db, cases = seeded
    pid = next(p for p in _ids(client) if client.get(f"/api/problems/{p}").json()["case_ids"] == cases[4:])
    r = client.patch(
        f"/api/problems/{pid}", json={"title": "Payouts late", "status": "rejected", "actor": "ana"}
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected" and r.json()["title"] == "Payouts late"
    assert client.patch(f"/api/problems/{pid}", json={}).status_code == 422
    assert client.patch(f"/api/problems/{pid}", json={"status": "bogus"}).status_code == 422
    regroup(db, [cases[:4], cases[4:]])
    with db.session() as s:
        apply_feedback(s)
    found = [client.get(f"/api/problems/{p}").json() for p in _ids(client, status="rejected")]
    assert [(f["title"], f["case_ids"]) for f in found] == [("Payouts late", cases[4:])]


def test_merge_and_split(seeded: tuple[TestClient, Database, list[int]]) -> None:
    client, _, cases = seeded
    by_cases = {tuple(client.get(f"/api/problems/{p}").json()["case_ids"]): p for p in _ids(client)}
    small, big = by_cases[(cases[3],)], by_cases[tuple(cases[:3])]
    r = client.post(f"/api/problems/{small}/merge", json={"into": big})
    assert r.status_code == 200 and r.json()["case_ids"] == cases[:4] and r.json()["affected_customers"] == 4
    assert client.get(f"/api/problems/{small}").status_code == 404
    assert client.post(f"/api/problems/{big}/merge", json={"into": big}).status_code == 422
    r = client.post(f"/api/problems/{big}/split", json={"case_ids": [cases[3]], "title": "Odd one out"})
    assert r.status_code == 201 and r.json()["case_ids"] == [cases[3]] and r.json()["title"] == "Odd one out"
    bad = client.post(f"/api/problems/{big}/split", json={"case_ids": [cases[7]]})
    assert bad.status_code == 422 and bad.json()["field"] == "case_ids"
    assert client.post(f"/api/problems/{big}/split", json={"case_ids": []}).status_code == 422


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    title=st.one_of(
        st.text(min_size=1, max_size=60), st.sampled_from(["<script>x</script>", 'O\'Hara & "co"'])
    )
)
def test_any_title_is_stored_clean_or_refused_and_escaped_on_the_page(
    seeded: tuple[TestClient, Database, list[int]], title: str
) -> None:
    client, _, _ = seeded
    pid = _ids(client)[0]
    r = client.patch(f"/api/problems/{pid}", json={"title": title})
    clean = " ".join(title.split())
    if not clean or not clean.isprintable():
        assert r.status_code == 422 and r.json()["field"] == "title"
        return
    assert r.status_code == 200 and r.json()["title"] == clean
    page = client.get(f"/problems/{pid}").text
    assert str(escape(clean)) in page
    assert "<script>" not in page


def test_detail_shows_how_the_problem_was_detected(seeded: tuple[TestClient, Database, list[int]]) -> None:
    from paytriage.adapters.storage.orm import ProblemRow

    client, db, cases = seeded
    pid = next(p for p in _ids(client) if client.get(f"/api/problems/{p}").json()["case_ids"] == cases[:3])
    assert client.get(f"/api/problems/{pid}").json()["detection"] == {}
    assert "How it was detected" not in client.get(f"/problems/{pid}").text
    record = {
        "detected_at": "2026-11-02T14:12:00+00:00",
        "signals": ["bin:453912", "error:91"],
        "evidence": "bin:453912: 3 customers in 0.5 h where 0.01 expected (p=1.0e-07)",
        "log": {
            "detected_at": "2026-11-02T14:03:00+00:00",
            "service": "api-gateway",
            "signals": ["log:api-gateway:status:502"],
            "evidence": ["log:api-gateway:status:502: 6 lines in 1 h where 0.02 expected (p=3.0e-12) <b>"],
        },
    }
    with db.session() as s:
        s.get(ProblemRow, pid).detection = record  # type: ignore[union-attr]
    assert client.get(f"/api/problems/{pid}").json()["detection"] == record
    page = client.get(f"/problems/{pid}").text
    assert "How it was detected" in page and "2026-11-02T14:03" in page and "api-gateway" in page
    assert "bin:453912, error:91" in page
    assert str(escape("(p=3.0e-12) <b>")) in page  # log text is escaped, never markup


def test_log_alerts_list_newest_first_and_show_on_the_problems_page(
    seeded: tuple[TestClient, Database, list[int]],
) -> None:
    from datetime import UTC, datetime

    from paytriage.adapters.storage.orm import LogAlertRow

    client, db, _ = seeded
    assert client.get("/api/log-alerts").json() == {"data": [], "count": 0}
    assert "No log alerts" in client.get("/problems").text
    pid = _ids(client)[0]
    with db.session() as s:
        for hour, problem in ((9, pid), (11, None)):
            s.add(LogAlertRow(detected_at=datetime(2026, 11, 2, hour, tzinfo=UTC), service="refund-service",
                              signal="log:refund-service:value:amount:JPY:Refund <*>", alerts=1,
                              first_alert=f"amount in JPY about 100× smaller <script>{hour}</script>",
                              signals=["log:refund-service:value:amount:JPY:Refund <*>"],
                              examples=["re_000101"], problem_id=problem))  # fmt: skip
    body = client.get("/api/log-alerts").json()
    assert body["count"] == 2 and [a["problem_id"] for a in body["data"]] == [None, pid]
    assert body["data"][0]["detected_at"].startswith("2026-11-02T11:00")
    only = client.get("/api/log-alerts", params={"unexplained": True}).json()
    assert only["count"] == 1 and only["data"][0]["problem_id"] is None
    assert client.get("/api/log-alerts", params={"limit": 0}).status_code == 422
    page = client.get("/problems").text
    assert "Log alerts" in page and f'href="/problems/{pid}"' in page and "none yet" in page
    assert "<script>11</script>" not in page and str(escape("<script>11</script>")) in page
