"""Time to detect with and without logs, and wrong (too early) log links, worked out by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from paytriage.sandbox.scoring import TicketPrediction
from paytriage.services.evaluation import _detection_summary
from paytriage.services.problems import DetectedProblem, ProblemRun

ROWS = [
    ("T1", "2026-01-05T10:10:00Z", "INC-1"),
    ("T2", "2026-01-05T10:20:00Z", "INC-1"),
    ("T3", "2026-01-05T10:40:00Z", "INC-1"),
    ("T4", "2026-01-07T09:10:00Z", "INC-2"),
    ("T5", "2026-01-07T09:20:00Z", "INC-2"),
]
INCIDENTS = [
    {
        "id": "INC-1",
        "kind": "issuer_outage",
        "start": "2026-01-05T10:00:00Z",
        "ticket_ids": ["T1", "T2", "T3"],
    },
    {"id": "INC-2", "kind": "payout_delay", "start": "2026-01-07T09:00:00Z", "ticket_ids": ["T4", "T5"]},
]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_log_detection_counts_only_when_it_follows_the_incident_start(tmp_path: Path) -> None:
    gt = tmp_path / "ground_truth"
    gt.mkdir()
    lines = ["ticket_id,created_at,category,route,priority,incident_id,escalation_needed"]
    lines += [f"{t},{at},refund,tier2,P3,{inc},true" for t, at, inc in ROWS]
    (gt / "tickets.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (gt / "incidents.json").write_text(json.dumps({"incidents": INCIDENTS}), encoding="utf-8")
    run = ProblemRun()
    # INC-1: tickets find it at T3 (3 seen), the logs at 10:05, before its first ticket
    run.systemic.append(
        DetectedProblem(
            1,
            _at("2026-01-05T10:40:00"),
            "a",
            ["T1", "T2", "T3"],
            [],
            log_detected_at=_at("2026-01-05T10:05:00"),
        )
    )
    # INC-2: tickets find it at T5 (2 seen); its log link is a day before it began: wrong
    run.systemic.append(
        DetectedProblem(
            2, _at("2026-01-07T09:20:00"), "b", ["T4", "T5"], [], log_detected_at=_at("2026-01-06T09:00:00")
        )
    )
    preds = {t: TicketPrediction(incident_id=str(1 if inc == "INC-1" else 2)) for t, _at_, inc in ROWS}
    out = _detection_summary(tmp_path, preds, run)
    assert out["time_to_detect_median_tickets"] == 2.5  # 3 and 2
    assert out["time_to_detect_median_minutes"] == 30.0  # 40 and 20
    assert out["detected_from_logs_before_first_ticket"] == 1
    assert out["log_links_before_incident_start"] == 1
    # with logs: INC-1 at 10:05 (0 tickets, 5 min), INC-2 keeps its ticket detection (2, 20 min)
    assert out["time_to_detect_with_logs_median_tickets"] == 1.0
    assert out["time_to_detect_with_logs_median_minutes"] == 12.5
