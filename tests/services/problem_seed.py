"""Stored cases and hand-made problem rows for the problems interface tests.

``regroup`` stands in for a ``detect_problems`` re-run: it drops every problem not linked to a
defect and writes fresh rows (new ids) for the given groups, so tests of people's feedback do
not depend on how well the grouper does today.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from sqlalchemy import select, update

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import CaseRow, ProblemRow
from paytriage.domain import ProblemStatus
from paytriage.engines.triage.triager import Triager
from paytriage.services.ingest import IngestKind, ingest_file
from paytriage.services.triage import triage_cases

__all__ = ["attach_problem", "case_ids", "ingest_examples", "regroup", "seed_cases"]


def seed_cases(db: Database, tmp_path: Path, *, n: int = 8) -> list[int]:
    """``n`` triaged cases: the first half about BIN 453912 declines, the rest about payouts."""
    tickets = []
    for i in range(n):
        if i < n // 2:
            text = f"card 453912 declined with code 91 at checkout again, order {i}, please help"
        else:
            text = f"our payout for last week never arrived in the bank account, merchant m{i}"
        tickets.append(
            {
                "id": f"T{i}",
                "created_at": f"2026-11-02T14:{10 + i:02d}:00Z",
                "requester_id": f"cus_{i}",
                "organization": f"merchant-{i}",
                "subject": text[:40],
                "description": text,
            }
        )
    (tmp_path / "tickets.jsonl").write_text("\n".join(json.dumps(t) for t in tickets) + "\n")
    ingest_file(db, tmp_path / "tickets.jsonl", IngestKind.TICKETS)
    triage_cases(db, Triager.from_config(), as_of_arrival=True)
    return case_ids(db)


def case_ids(db: Database) -> list[int]:
    with db.session() as s:
        return list(s.scalars(select(CaseRow.id).order_by(CaseRow.id)))


def regroup(
    db: Database, groups: Sequence[Sequence[int]], *, status: ProblemStatus = ProblemStatus.CANDIDATE
) -> list[int]:
    """Replace the problems with one fresh row per group (as a re-run would); returns the new ids."""
    ids = []
    with db.session() as s:
        s.execute(update(CaseRow).values(problem_id=None))
        for old in s.scalars(select(ProblemRow).where(ProblemRow.defect_id.is_(None))):
            s.delete(old)
        s.flush()
        for n, group in enumerate(groups):
            created = list(s.scalars(select(CaseRow.created_at).where(CaseRow.id.in_(group))))
            row = ProblemRow(
                title=f"auto title {n}",
                summary="grouper summary",
                status=status.value,
                first_seen=min(created),
                last_seen=max(created),
                affected_customers=len(group),
                money_minor_by_currency={},
            )
            s.add(row)
            s.flush()
            s.execute(update(CaseRow).where(CaseRow.id.in_(list(group))).values(problem_id=row.id))
            ids.append(row.id)
    return ids


def ingest_examples(db: Database, *, transactions: bool = True) -> None:
    """The packaged example tickets (and transactions) through the normal ingest door."""
    ex = Path(str(resources.files("paytriage") / "examples"))
    if transactions:
        ingest_file(db, ex / "transactions.csv", IngestKind.TRANSACTIONS, source="ex")
    ingest_file(db, ex / "tickets.csv", IngestKind.TICKETS, source="ex")


def attach_problem(db: Database, n_cases: int) -> tuple[int, list[int]]:
    """A confirmed "declines" problem holding the first ``n_cases`` stored cases: (problem id, case ids)."""
    seen = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    with db.session() as s:
        cases = list(s.scalars(select(CaseRow).order_by(CaseRow.id)))[:n_cases]
        p = ProblemRow(
            title="declines", status="confirmed", first_seen=seen, last_seen=seen, money_minor_by_currency={}
        )
        s.add(p)
        s.flush()
        for c in cases:
            c.problem_id = p.id
        ids = p.id, [c.id for c in cases]
        s.commit()
    return ids
