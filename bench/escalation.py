"""Escalation completeness on a generated sandbox (JSON on stdout).

For every ground-truth incident, the stored problem holding most of its tickets is escalated: is
every package section filled from evidence, and how many fields would an engineer still ask for?
``--cases`` also measures the case packages of every case holding an incident ticket (the earlier
figure). Usage::

    .venv/bin/paytriage sandbox generate --seed 7 --tickets 600 --days 10 --out /tmp/sbD
    .venv/bin/python bench/escalation.py /tmp/sbD [--db sqlite:////tmp/sbD.db] [--cases]

Without ``--db`` (or with an empty one) the sandbox is ingested, triaged and grouped into problems
first (run_pipeline). Packages are built as of their newest ticket (``now``), so SLA exposure reads
as it did then. Times are process CPU seconds (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import CaseRow, CaseTicketRow, ProblemRow, TicketRow
from paytriage.engines.escalate.package import EscalationPackage, build_package
from paytriage.engines.escalate.problem import build_problem_package
from paytriage.engines.investigate.investigator import Investigator
from paytriage.services.escalation import load_input
from paytriage.services.evaluation import run_pipeline
from paytriage.services.problem_escalation import load_problem_input


def _score(packages: list[tuple[str, EscalationPackage]]) -> dict[str, Any]:
    asks = [len(p.completeness.ask_for) for _, p in packages]
    missing: Counter[str] = Counter(a for _, p in packages for a in p.completeness.ask_for)
    n = len(packages)
    return {
        "packages": n,
        "complete_share": round(sum(p.completeness.complete for _, p in packages) / n, 3) if n else None,
        "mean_fields_to_ask": round(statistics.fmean(asks), 2) if n else None,
        "total_fields_to_ask": sum(asks),
        "max_fields_to_ask": max(asks, default=0),
        "most_asked": dict(missing.most_common(8)),
        "verdicts": dict(Counter(p.decision.verdict.value for _, p in packages)),
        "incomplete": {k: p.completeness.ask_for for k, p in packages if p.completeness.ask_for},
    }


def _incidents(sandbox: Path) -> dict[str, dict[str, Any]]:
    data = json.loads((sandbox / "ground_truth" / "incidents.json").read_text(encoding="utf-8"))
    return {str(i["id"]): i for i in data["incidents"]}


def _base(name: str) -> str:
    return name.lower().removesuffix("s").split("-")[0]


def _attribution(truth: dict[str, Any], pkg: EscalationPackage) -> dict[str, Any]:
    """Does the package name the true component and release (when the incident had one)?"""
    comp = str(pkg.sections["suspected_component"].value or "")
    rel = str(pkg.sections["suspected_release"].value or "")
    out: dict[str, Any] = {
        "component": comp,
        "true_component": truth["component"],
        "component_ok": bool(comp) and _base(comp) == _base(str(truth["component"])),
        "verdict": pkg.decision.verdict.value,
    }
    if truth.get("release"):
        component, version = truth["release"]
        out["release_ok"] = f"{component} {version}" in rel or f"{component}@{version}" in rel
    else:
        out["release_ok"] = rel.startswith(("none", "not our release"))  # says plainly: no release of ours
    return out


def _problems(s: Session, incidents: dict[str, list[str]]) -> dict[str, int]:
    """Incident → the stored problem holding most of its tickets (incidents no problem holds are left out)."""
    out: dict[str, int] = {}
    for inc, tickets in incidents.items():
        rows = s.execute(
            select(CaseRow.problem_id, func.count())
            .join(CaseTicketRow, CaseTicketRow.case_id == CaseRow.id)
            .join(TicketRow, TicketRow.id == CaseTicketRow.ticket_id)
            .where(TicketRow.external_id.in_(tickets), CaseRow.problem_id.is_not(None))
            .group_by(CaseRow.problem_id)
        ).all()
        if rows:
            out[inc] = max(rows, key=lambda r: (r[1], -r[0]))[0]
    return out


def _newest(s: Session, problem_id: int) -> datetime:
    at = s.scalar(
        select(func.max(TicketRow.created_at))
        .join(CaseTicketRow, CaseTicketRow.ticket_id == TicketRow.id)
        .join(CaseRow, CaseRow.id == CaseTicketRow.case_id)
        .where(CaseRow.problem_id == problem_id)
    )
    assert at is not None
    return at


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("sandbox", type=Path)
    ap.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    ap.add_argument("--cases", action="store_true", help="also score every incident case's own package")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="esc_bench_")
    db = Database(args.db or f"sqlite:///{tmp}/bench.db")
    db.migrate()
    with db.session() as s:
        have = s.scalar(select(func.count()).select_from(TicketRow)) or 0
        problems = s.scalar(select(func.count()).select_from(ProblemRow)) or 0
    if not have or not problems:
        run_pipeline(db, args.sandbox)
    truth = _incidents(args.sandbox)
    incidents = {k: [str(t) for t in v["ticket_ids"]] for k, v in truth.items()}
    investigator = Investigator()
    out: dict[str, Any] = {"sandbox": str(args.sandbox), "incidents": len(incidents)}
    t0 = time.process_time()
    with db.session() as s:
        matched = _problems(s, incidents)
        pkgs = []
        for inc, pid in sorted(matched.items()):
            inp = load_problem_input(s, pid, investigator=investigator, now=_newest(s, pid))
            pkgs.append((f"{inc}→P{pid}", build_problem_package(inp)))
        out["incidents_with_a_problem"] = len(matched)
        out["distinct_problems"] = len(set(matched.values()))  # incidents grouped together share one
        out["problems"] = _score(pkgs)
        out["problems"]["cpu_seconds"] = round(time.process_time() - t0, 1)
        attributions = {k.split("→")[0]: _attribution(truth[k.split("→")[0]], p) for k, p in pkgs}
        out["problems"]["component_right"] = sum(a["component_ok"] for a in attributions.values())
        out["problems"]["release_right"] = sum(a["release_ok"] for a in attributions.values())
        out["problems"]["attribution"] = attributions
        if args.cases:
            t1 = time.process_time()
            wanted = [t for ts in incidents.values() for t in ts]
            rows = s.execute(
                select(CaseTicketRow.case_id, TicketRow.created_at)
                .join(TicketRow, TicketRow.id == CaseTicketRow.ticket_id)
                .where(TicketRow.external_id.in_(wanted))
            ).all()
            newest: dict[int, datetime] = {}
            for cid, at in rows:
                newest[cid] = max(newest.get(cid, at), at)
            cases = [
                (f"case {cid}", build_package(load_input(s, cid, investigator=investigator, now=newest[cid])))
                for cid in sorted(newest)
            ]
            out["cases"] = _score(cases)
            out["cases"].pop("incomplete")
            out["cases"]["cpu_seconds"] = round(time.process_time() - t1, 1)
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
