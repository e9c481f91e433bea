"""Triage of stored cases: decisions stored, context from the stream, duplicates linked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import AuditRow, CaseRow, CaseTicketRow
from paytriage.engines.triage.triager import Triager
from paytriage.services.ingest import IngestKind, ingest_file
from paytriage.services.triage import triage_cases


@pytest.fixture(scope="module")
def triager() -> Triager:
    return Triager.from_config()


def _tickets(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_triage_stores_decision_and_links_duplicate(db: Database, tmp_path: Path, triager: Triager) -> None:
    rows = [
        {
            "id": "1",
            "created_at": "2026-11-02T09:00:00Z",
            "requester_id": "cus_1",
            "description": "charged twice for order 1234, payment pi_3NxQ2bLkd8 shows two times",
        },
        {
            "id": "2",
            "created_at": "2026-11-02T11:00:00Z",
            "requester_id": "cus_1",
            "description": "still charged twice, payment pi_3NxQ2bLkd8, please refund one",
        },
        {
            "id": "3",
            "created_at": "2026-11-02T12:00:00Z",
            "requester_id": "cus_2",
            "description": "How do I change the email address on my account?",
        },
    ]
    ingest_file(db, _tickets(tmp_path, rows), IngestKind.TICKETS)
    report = triage_cases(db, triager, as_of_arrival=True)
    assert report.triaged == 2 and report.duplicates_linked == 1
    with db.session() as s:
        cases = s.scalars(select(CaseRow).order_by(CaseRow.id)).all()
        assert len(cases) == 2
        assert all(c.status == "triaged" and c.category and c.route and c.priority for c in cases)
        assert cases[0].triage is not None and cases[0].triage["reasons"]
        linked = s.scalar(
            select(func.count()).select_from(CaseTicketRow).where(CaseTicketRow.case_id == cases[0].id)
        )
        assert linked == 2
        assert s.scalar(
            select(func.count()).select_from(AuditRow).where(AuditRow.action == "case.link_duplicate")
        )
    again = triage_cases(db, triager)
    assert again.triaged == 0
