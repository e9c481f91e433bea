"""Scoring against hand-made ground truth; every expected figure below was worked out by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from paytriage.sandbox.scoring import DetectedIncident, TicketPrediction, macro_f1, score

ROWS = [
    # ticket, created_at, category, route, priority, incident, needed
    ("T1", "2026-01-05T10:10:00Z", "refund", "tier2", "P3", "", "true"),
    ("T2", "2026-01-05T10:20:00Z", "refund", "engineering", "P1", "INC-1", "true"),
    ("T3", "2026-01-05T10:40:00Z", "card_payment_declined", "payments_ops", "P2", "INC-1", "true"),
    ("T4", "2026-01-05T11:00:00Z", "login_and_access", "tier1", "P4", "", "false"),
]
INCIDENTS = [
    {"id": "INC-1", "kind": "issuer_outage", "start": "2026-01-05T10:00:00Z", "ticket_ids": ["T2", "T3"]},
    {"id": "INC-2", "kind": "saml_cert_expired", "start": "2026-01-06T00:00:00Z", "ticket_ids": []},
]


@pytest.fixture()
def gt_dir(tmp_path: Path) -> Path:
    lines = ["ticket_id,created_at,category,route,priority,incident_id,escalation_needed"]
    lines += [",".join(r) for r in ROWS]
    (tmp_path / "tickets.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "incidents.json").write_text(json.dumps({"incidents": INCIDENTS}), encoding="utf-8")
    return tmp_path


def test_no_predictions_means_none_everywhere(gt_dir: Path) -> None:
    res = score(gt_dir, {})
    assert res["tickets"] == 4 and res["predicted"] == 0
    for key in (
        "category_accuracy",
        "category_macro_f1",
        "route_accuracy",
        "priority_exact",
        "priority_within_one",
        "escalation_needed_precision",
        "escalation_needed_recall",
        "incident_precision",
        "incident_recall",
        "incidents_called",
        "incidents_called_right",
        "attribution_accuracy",
        "time_to_detect",
    ):
        assert res[key] is None, key


def test_ticket_level_metrics(gt_dir: Path) -> None:
    preds = {
        "T1": TicketPrediction(category="refund", route="tier2", priority="P3", escalation_needed=True),
        "T2": TicketPrediction(
            category="incorrect_or_duplicate_charge",
            route="engineering",
            priority="P2",
            escalation_needed=True,
        ),
        "T3": TicketPrediction(
            category="card_payment_declined", route="tier2", priority="P4", escalation_needed=False
        ),
        "T4": TicketPrediction(
            category="login_and_access", route="tier1", priority="P4", escalation_needed=False
        ),
        "T9": TicketPrediction(category="refund"),  # not in ground truth: ignored
    }
    res = score(gt_dir, preds)
    assert res["predicted"] == 4
    assert res["category_accuracy"] == pytest.approx(3 / 4)
    # labels: refund F1 = 2*1/(2+0+1)=2/3; dup F1 = 0; declined 1; login 1 -> (2/3+0+1+1)/4 = 2/3
    assert res["category_macro_f1"] == pytest.approx(2 / 3)
    assert res["route_accuracy"] == pytest.approx(3 / 4)
    assert res["priority_exact"] == pytest.approx(2 / 4)  # T1, T4
    assert res["priority_within_one"] == pytest.approx(3 / 4)  # T3 is P2 vs P4: off by two
    # needed: predicted True for T1,T2 (both right); truly needed T1,T2,T3 -> P=1, R=2/3
    assert res["escalation_needed_precision"] == pytest.approx(1.0)
    assert res["escalation_needed_recall"] == pytest.approx(2 / 3)
    # not needed: predicted for T3,T4, right only T4 -> P=1/2, R=1/1
    assert res["not_needed_precision"] == pytest.approx(0.5)
    assert res["not_needed_recall"] == pytest.approx(1.0)
    assert res["incident_precision"] is None and res["attribution_accuracy"] is None


def test_incident_detection_attribution_and_time_to_detect(gt_dir: Path) -> None:
    detected = [
        DetectedIncident("P-7", datetime(2026, 1, 5, 10, 30, tzinfo=UTC), ("T2", "T3")),  # matches INC-1
        DetectedIncident("P-8", datetime(2026, 1, 5, 11, 0, tzinfo=UTC), ("T2",)),  # duplicate of INC-1
        DetectedIncident("P-9", datetime(2026, 1, 5, 12, 0, tzinfo=UTC), ("T1", "T4")),  # nothing real
    ]
    preds = {
        "T1": TicketPrediction(incident_id="P-9"),
        "T2": TicketPrediction(incident_id="P-7"),
        "T3": TicketPrediction(),
        "T4": TicketPrediction(),
    }
    res = score(gt_dir, preds, detected)
    assert res["incident_precision"] == pytest.approx(1 / 3)
    assert res["incident_recall"] == pytest.approx(1 / 1)  # INC-2 has no tickets, so it is not counted
    # the counts behind them, to pool many sandboxes or count false alarms where none is real
    assert (res["incidents"], res["incidents_called"], res["incidents_called_right"]) == (1, 3, 1)
    # relevant tickets: T1 (pred wrong), T2 (right), T3 (missed) -> 1/3; T4 neither side -> skipped
    assert res["attribution_accuracy"] == pytest.approx(1 / 3)
    assert res["time_to_detect"] == [
        {
            "incident_id": "INC-1",
            "kind": "issuer_outage",
            "detected_as": "P-7",
            "minutes": 30.0,
            "tickets_seen": 1,
        }
    ]


def test_macro_f1_hand_cases() -> None:
    assert macro_f1(["a", "a", "b"], ["a", "a", "b"]) == 1.0
    # a: tp1 fp0 fn1 -> 2/3 ; b: tp1 fp1 fn0 -> 2/3
    assert macro_f1(["a", "a", "b"], ["a", "b", "b"]) == pytest.approx(2 / 3)
    assert macro_f1([], []) == 0.0
