"""Escalation completeness on a generated sandbox (JSON on stdout).

For every case holding a ticket of a ground-truth incident: is every package section filled from
evidence, and how many fields would an engineer still ask for?  Usage::

    .venv/bin/paytriage sandbox generate --seed 7 --tickets 600 --days 10 --out /tmp/sb_esc
    .venv/bin/python bench/escalation.py /tmp/sb_esc [--db sqlite:////tmp/sb_esc.db]

Without ``--db`` (or with an empty one) the sandbox is ingested and triaged first (run_pipeline).
Packages are built as of each case's newest ticket (``now``), so SLA exposure reads as it did then.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import CaseTicketRow, TicketRow
from paytriage.engines.escalate.package import build_package
from paytriage.engines.investigate.investigator import Investigator
from paytriage.services.escalation import load_input
from paytriage.services.evaluation import run_pipeline


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("sandbox", type=Path)
    ap.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="esc_bench_")
    db = Database(args.db or f"sqlite:///{tmp}/bench.db")
    db.migrate()
    with db.session() as s:
        have = s.scalar(select(func.count()).select_from(TicketRow)) or 0
    if not have:
        run_pipeline(db, args.sandbox)
    with (args.sandbox / "ground_truth" / "tickets.csv").open(encoding="utf-8") as f:
        incident = {r["ticket_id"]: r["incident_id"] for r in csv.DictReader(f) if r["incident_id"]}
    investigator = Investigator()
    complete = 0
    asks: list[int] = []
    missing: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    t0 = time.perf_counter()
    with db.session() as s:
        rows = s.execute(
            select(CaseTicketRow.case_id, TicketRow.external_id, TicketRow.created_at)
            .join(TicketRow, TicketRow.id == CaseTicketRow.ticket_id)
            .where(TicketRow.external_id.in_(list(incident)))
        ).all()
        newest: dict[int, object] = {}
        for cid, _, at in rows:
            newest[cid] = max(newest.get(cid, at), at)  # type: ignore[call-overload]
        for cid in sorted(newest):
            inp = load_input(s, cid, investigator=investigator, now=newest[cid])  # type: ignore[arg-type]
            pkg = build_package(inp)
            c = pkg.completeness
            complete += c.complete
            asks.append(len(c.ask_for))
            missing.update(c.ask_for)
            verdicts[pkg.decision.verdict.value] += 1
    n = len(asks)
    print(
        json.dumps(
            {
                "sandbox": str(args.sandbox),
                "incident_cases": n,
                "complete_share": round(complete / n, 3) if n else None,
                "mean_fields_to_ask": round(statistics.fmean(asks), 2) if n else None,
                "max_fields_to_ask": max(asks, default=0),
                "most_asked": dict(missing.most_common(8)),
                "verdicts": dict(verdicts),
                "seconds": round(time.perf_counter() - t0, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
