"""Score a pipeline's predictions against a sandbox's ground truth (pure functions, no database).

Every metric is ``None`` when its stage made no predictions, so a missing stage never reads as 0 %.
A detected incident is matched to the true incident holding most of its tickets (at least half);
each true incident counts once, for its earliest detection — later duplicates are false positives.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from paytriage.domain.clock import ensure_utc

__all__ = ["DetectedIncident", "TicketPrediction", "load_ground_truth", "macro_f1", "score"]

_RANK = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}


@dataclass(frozen=True, slots=True)
class TicketPrediction:
    """What the pipeline said about one ticket; ``None`` where that stage did not run."""

    category: str | None = None
    route: str | None = None
    priority: str | None = None
    escalation_needed: bool | None = None
    incident_id: str | None = None  # id of a DetectedIncident this ticket was attributed to


@dataclass(frozen=True, slots=True)
class DetectedIncident:
    """A problem/incident the pipeline raised, when, and from which tickets."""

    id: str
    detected_at: datetime
    ticket_ids: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class _Truth:
    category: str
    route: str
    priority: str
    incident_id: str
    needed: bool
    created_at: datetime | None


def load_ground_truth(directory: Path) -> tuple[dict[str, _Truth], dict[str, dict[str, Any]]]:
    """Tickets (by id) and incidents (by id) from ``ground_truth/``."""
    tickets: dict[str, _Truth] = {}
    with (directory / "tickets.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            created = row.get("created_at") or ""
            tickets[row["ticket_id"]] = _Truth(
                row["category"],
                row["route"],
                row["priority"],
                row.get("incident_id") or "",
                row["escalation_needed"].strip().lower() == "true",
                ensure_utc(datetime.fromisoformat(created.replace("Z", "+00:00"))) if created else None,
            )
    doc = json.loads((directory / "incidents.json").read_text(encoding="utf-8"))
    incidents = {i["id"]: i for i in doc.get("incidents", [])}
    return tickets, incidents


def macro_f1(y_true: Sequence[str], y_pred: Sequence[str]) -> float:
    """Unweighted mean F1 over every label seen in truth or prediction (0 where undefined)."""
    labels = sorted(set(y_true) | set(y_pred))
    if not labels:
        return 0.0
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for t, p in zip(y_true, y_pred, strict=True):
        if t == p:
            tp[t] += 1
        else:
            fp[p] += 1
            fn[t] += 1
    total = 0.0
    for lab in labels:
        denom = 2 * tp[lab] + fp[lab] + fn[lab]
        total += (2 * tp[lab] / denom) if denom else 0.0
    return total / len(labels)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _match(detected: Sequence[DetectedIncident], truth: Mapping[str, _Truth]) -> dict[str, str]:
    """detected id -> true incident id, one detection per true incident (the earliest)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for det in sorted(detected, key=lambda d: (ensure_utc(d.detected_at), d.id)):
        votes = Counter(truth[t].incident_id for t in det.ticket_ids if t in truth)
        if not det.ticket_ids or not votes:
            continue
        best, n = votes.most_common(1)[0]
        if best and n * 2 >= len(det.ticket_ids) and best not in taken:
            out[det.id] = best
            taken.add(best)
    return out


def score(
    ground_truth_dir: Path,
    predictions: Mapping[str, TicketPrediction],
    detected_incidents: Sequence[DetectedIncident] | None = None,
) -> dict[str, Any]:
    """Every sandbox metric; see the module docstring for how incidents are matched."""
    truth, incidents = load_ground_truth(ground_truth_dir)
    preds = {k: v for k, v in predictions.items() if k in truth}
    res: dict[str, Any] = {"tickets": len(truth), "predicted": len(preds)}

    cat = [(truth[k].category, p.category) for k, p in preds.items() if p.category is not None]
    res["category_accuracy"] = _ratio(sum(t == p for t, p in cat), len(cat))
    res["category_macro_f1"] = macro_f1([t for t, _ in cat], [p for _, p in cat]) if cat else None  # type: ignore[misc]
    route = [(truth[k].route, p.route) for k, p in preds.items() if p.route is not None]
    res["route_accuracy"] = _ratio(sum(t == p for t, p in route), len(route))
    prio = [
        (_RANK[truth[k].priority], _RANK.get(p.priority, 9))
        for k, p in preds.items()
        if p.priority is not None
    ]
    res["priority_exact"] = _ratio(sum(t == p for t, p in prio), len(prio))
    res["priority_within_one"] = _ratio(sum(abs(t - p) <= 1 for t, p in prio), len(prio))

    esc = [
        (truth[k].needed, p.escalation_needed) for k, p in preds.items() if p.escalation_needed is not None
    ]
    for name, positive in (("escalation_needed", True), ("not_needed", False)):
        tp = sum(t == positive and p == positive for t, p in esc)
        res[f"{name}_precision"] = _ratio(tp, sum(p == positive for _, p in esc)) if esc else None
        res[f"{name}_recall"] = _ratio(tp, sum(t == positive for t, _ in esc)) if esc else None

    real = {i for i, inc in incidents.items() if inc.get("ticket_ids")} | {
        t.incident_id for t in truth.values() if t.incident_id
    }
    res["incidents"] = len(real)
    if detected_incidents is None:
        res.update(incident_precision=None, incident_recall=None, time_to_detect=None)
        res.update(incidents_called=None, incidents_called_right=None)
        mapping: dict[str, str] | None = None
    else:
        mapping = _match(detected_incidents, truth)
        # the counts behind the ratios: pooled over many sandboxes, and false alarms in
        # incident-free ones (where precision is 0 or undefined) are read from them
        res["incidents_called"] = len(detected_incidents)
        res["incidents_called_right"] = len(mapping)
        res["incident_precision"] = _ratio(len(mapping), len(detected_incidents))
        res["incident_recall"] = _ratio(len(set(mapping.values())), len(real))
        res["time_to_detect"] = _time_to_detect(detected_incidents, mapping, truth, incidents)

    attributed = [(truth[k].incident_id, p.incident_id or "") for k, p in preds.items()]
    if mapping is None and not any(p for _, p in attributed):
        res["attribution_accuracy"] = None
    else:
        rel = [
            (t, (mapping.get(p, "?" + p) if mapping is not None and p else p))
            for t, p in attributed
            if t or p
        ]
        res["attribution_accuracy"] = _ratio(sum(t == p for t, p in rel), len(rel))
    return res


def _time_to_detect(
    detected: Sequence[DetectedIncident],
    mapping: Mapping[str, str],
    truth: Mapping[str, _Truth],
    incidents: Mapping[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    out = []
    for det in detected:
        inc_id = mapping.get(det.id)
        if inc_id is None or inc_id not in incidents:
            continue
        start = ensure_utc(datetime.fromisoformat(incidents[inc_id]["start"].replace("Z", "+00:00")))
        at = ensure_utc(det.detected_at)
        seen = sum(
            1
            for t in truth.values()
            if t.incident_id == inc_id and t.created_at is not None and t.created_at <= at
        )
        out.append(
            {
                "incident_id": inc_id,
                "kind": incidents[inc_id].get("kind"),
                "detected_as": det.id,
                "minutes": round((at - start).total_seconds() / 60.0, 1),
                "tickets_seen": seen,
            }
        )
    return sorted(out, key=lambda r: r["incident_id"])
