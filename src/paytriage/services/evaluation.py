"""End-to-end evaluation on a generated sandbox: ingest through the normal door, run the pipeline, score.

Stages that do not exist yet report ``None``. Every figure comes from the stored decisions, so what
is scored is exactly what an analyst would see in the queue.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import CaseRow, CaseTicketRow, TicketRow
from paytriage.domain import InputError
from paytriage.engines.triage.triager import Triager
from paytriage.sandbox.scoring import DetectedIncident, TicketPrediction, score
from paytriage.services.ingest import IngestKind, IngestReport, ingest_file
from paytriage.services.problems import ProblemRun, detect_problems
from paytriage.services.triage import TriageRunReport, build_triager, triage_cases

__all__ = ["PipelineRun", "ingest_sandbox", "predictions_from_db", "run_pipeline", "sandbox_files"]

Step = Callable[[str], None]


@dataclass(slots=True)
class PipelineRun:
    ingest: list[IngestReport] = field(default_factory=list)
    triage: TriageRunReport | None = None
    problems: ProblemRun | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)


def sandbox_files(directory: Path) -> list[tuple[Path, IngestKind]]:
    """What a sandbox directory holds for ingest, in dependency order."""
    if not (directory / "tickets.jsonl").exists():
        raise InputError(
            f"{directory} is not a sandbox directory (no tickets.jsonl); run 'paytriage sandbox generate'"
        )
    files: list[tuple[Path, IngestKind]] = [
        (directory / "releases.csv", IngestKind.RELEASES),
        (directory / "transactions.jsonl", IngestKind.TRANSACTIONS),
    ]
    files += [
        (p, IngestKind.LOGS) for p in sorted((directory / "logs").glob("*")) if p.suffix in {".jsonl", ".log"}
    ]
    files.append((directory / "tickets.jsonl", IngestKind.TICKETS))
    return [(p, k) for p, k in files if p.exists()]


def ingest_sandbox(
    db: Database,
    directory: Path,
    *,
    on_step: Step | None = None,
    frt_target_s: int = 4 * 3600,
    res_target_s: int = 72 * 3600,
) -> list[IngestReport]:
    reports = []
    for path, kind in sandbox_files(directory):
        if on_step:
            on_step(f"ingest {kind.value} {path.name}")
        reports.append(
            ingest_file(
                db, path, kind, source="sandbox", frt_target_s=frt_target_s, res_target_s=res_target_s
            )
        )
    return reports


def predictions_from_db(db: Database) -> dict[str, TicketPrediction]:
    """Each ticket's prediction is its case's stored triage (duplicates share their case's decision)."""
    out: dict[str, TicketPrediction] = {}
    with db.session() as s:
        rows = s.execute(
            select(TicketRow.external_id, CaseRow.category, CaseRow.route, CaseRow.priority)
            .join(CaseTicketRow, CaseTicketRow.ticket_id == TicketRow.id)
            .join(CaseRow, CaseRow.id == CaseTicketRow.case_id)
            .where(CaseRow.triage.is_not(None))
        )
        for ext_id, category, route, priority in rows:
            out[ext_id] = TicketPrediction(
                category=category,
                route=route,
                priority=priority,
                escalation_needed=None if route is None else route != "tier1",
            )
    return out


#: how long before an incident's recorded start its first log symptom may plausibly come
_LOG_LEAD_TOLERANCE_MIN = 60.0


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _detection_summary(
    directory: Path, predictions: dict[str, TicketPrediction], problems: ProblemRun
) -> dict[str, Any]:
    """Medians of time to detect from tickets, and with logs (each incident at the earlier of its
    ticket detection and the log incident that explains it, when one does). A log detection more than an hour
    before the incident began is a wrong link by construction: counted apart, never as early."""
    from_logs = [
        DetectedIncident(
            id=str(d.problem_id),
            detected_at=min(d.detected_at, d.log_detected_at or d.detected_at),
            ticket_ids=tuple(d.ticket_ids),
        )
        for d in problems.systemic
    ]
    with_logs = {str(d.problem_id) for d in problems.systemic if d.log_detected_at is not None}
    earliest = score(directory / "ground_truth", predictions, from_logs)["time_to_detect"] or []
    log_rows = [r for r in earliest if r["detected_as"] in with_logs]
    ticket_rows = (
        score(
            directory / "ground_truth",
            predictions,
            [
                DetectedIncident(
                    id=str(d.problem_id), detected_at=d.detected_at, ticket_ids=tuple(d.ticket_ids)
                )
                for d in problems.systemic
            ],
        )["time_to_detect"]
        or []
    )
    # each incident at the earlier of its ticket and log detection (a wrong log link does not count)
    by_tickets = {r["incident_id"]: r for r in ticket_rows}
    tol = _LOG_LEAD_TOLERANCE_MIN
    combined = [by_tickets.get(r["incident_id"], r) if r["minutes"] < -tol else r for r in earliest]
    return {
        "time_to_detect_median_minutes": _median([r["minutes"] for r in ticket_rows]),
        "time_to_detect_median_tickets": _median([r["tickets_seen"] for r in ticket_rows]),
        "time_to_detect_with_logs_median_minutes": _median([r["minutes"] for r in combined]),
        "time_to_detect_with_logs_median_tickets": _median([r["tickets_seen"] for r in combined]),
        "log_incidents": len(problems.log_incidents),
        "systemic_with_log_evidence": len(with_logs),
        "time_to_detect_logs": log_rows,
        "detected_from_logs_before_first_ticket": sum(
            r["tickets_seen"] == 0 and r["minutes"] >= -_LOG_LEAD_TOLERANCE_MIN for r in log_rows
        ),
        "log_links_before_incident_start": sum(r["minutes"] < -_LOG_LEAD_TOLERANCE_MIN for r in log_rows),
    }


def run_pipeline(
    db: Database,
    directory: Path,
    *,
    triager: Triager | None = None,
    on_step: Step | None = None,
    frt_target_s: int = 4 * 3600,
    res_target_s: int = 72 * 3600,
    intents: Any | None = None,
    min_customers: int = 3,
    alpha: float = 1e-6,
) -> PipelineRun:
    """Ingest the sandbox, triage every case as of its arrival, and score against ground truth.
    ``intents`` (a text clusterer fitted on past tickets), ``min_customers`` and ``alpha`` go to
    problem detection (:func:`detect_problems`)."""
    run = PipelineRun()
    t0 = time.perf_counter()
    run.ingest = ingest_sandbox(
        db, directory, on_step=on_step, frt_target_s=frt_target_s, res_target_s=res_target_s
    )
    run.seconds["ingest"] = round(time.perf_counter() - t0, 2)
    if on_step:
        on_step("triage")
    t0 = time.perf_counter()
    triager = triager or build_triager()
    run.triage = triage_cases(db, triager, as_of_arrival=True)
    run.seconds["triage"] = round(time.perf_counter() - t0, 2)
    if on_step:
        on_step("problems")
    t0 = time.perf_counter()
    run.problems = detect_problems(db, intents=intents, min_customers=min_customers, alpha=alpha)
    run.seconds["problems"] = round(time.perf_counter() - t0, 2)
    if on_step:
        on_step("score")
    predictions = predictions_from_db(db)
    for ext_id, pid in run.problems.attribution.items():
        if ext_id in predictions:
            predictions[ext_id] = replace(predictions[ext_id], incident_id=str(pid))
    detected = [
        DetectedIncident(id=str(d.problem_id), detected_at=d.detected_at, ticket_ids=tuple(d.ticket_ids))
        for d in run.problems.systemic
    ]
    run.metrics = score(directory / "ground_truth", predictions, detected)
    run.metrics.update(_detection_summary(directory, predictions, run.problems))
    run.metrics["model_version"] = triager.model_version
    run.metrics["ruleset_version"] = triager.ruleset_version
    return run
