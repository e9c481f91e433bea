"""Incident detection pooled over many sandboxes: precision, recall, time to detect, false alarms.

python bench/detection.py --seeds 127 131 137 139 149 151 --work /tmp/det        # held-out sandboxes
python bench/detection.py --seeds 201 202 203 204 --incidents none --work /tmp/det  # false alarms

Why pooled: a 30-day sandbox holds ten incidents, so one chance alarm moves its precision from 1 to
0.909; the targets (precision and recall ≥ 0.95) are about the detector, which many sandboxes measure
better than any one. Per-sandbox figures are printed too, and how many sandboxes meet each target.

Each seed's sandbox is generated into ``WORK/sb<seed>`` (kept and reused: the same seed gives the same
files) and run end to end as ``paytriage eval sandbox`` runs it: ingest into a fresh SQLite, triage as of
each ticket's arrival, detect problems, score against the ground truth. One JSON line per sandbox, then
one with the pooled figures. With ``--incidents none`` every problem called is a false alarm: the
figure is false problems per 30 days of everyday traffic.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from paytriage.adapters.storage.database import Database
from paytriage.sandbox import SandboxConfig, generate
from paytriage.services.evaluation import run_pipeline


def sandbox(work: Path, seed: int, args: argparse.Namespace) -> Path:
    """The seed's sandbox, generated unless a complete one is already there."""
    out = work / f"sb{seed}{'-quiet' if args.incidents == 'none' else ''}"
    if not (out / "manifest.json").exists():
        cfg = SandboxConfig(seed=seed, tickets=args.tickets, days=args.days, incidents=args.incidents)
        generate(cfg, out)
    return out


def evaluate(directory: Path, work: Path, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    # a private database per run: several runs may share one work directory at once
    with tempfile.TemporaryDirectory(dir=work, prefix=f"eval{seed}-") as tmp:
        db = Database(f"sqlite:///{tmp}/eval.db")
        db.migrate()
        try:
            m = run_pipeline(db, directory, min_customers=args.min_customers, alpha=args.alpha).metrics
        finally:
            db.dispose()
    return {
        "seed": seed,
        "incidents": m["incidents"],
        "called": m["incidents_called"],
        "called_right": m["incidents_called_right"],
        "precision": m["incident_precision"],
        "recall": m["incident_recall"],
        "attribution": m["attribution_accuracy"],
        "median_tickets_to_detect": m["time_to_detect_median_tickets"],
        "log_linked": m["systemic_with_log_evidence"],
        "from_logs_before_first_ticket": m["detected_from_logs_before_first_ticket"],
        "seconds": round(time.perf_counter() - started, 1),
    }


def _meeting(rows: list[dict[str, Any]], key: str, target: float = 0.95) -> int:
    return sum(1 for r in rows if r[key] is not None and r[key] >= target)


def pooled(rows: list[dict[str, Any]], days: int) -> dict[str, Any]:
    incidents = sum(r["incidents"] for r in rows)
    called = sum(r["called"] for r in rows)
    right = sum(r["called_right"] for r in rows)
    medians = [r["median_tickets_to_detect"] for r in rows if r["median_tickets_to_detect"] is not None]
    attribution = [r["attribution"] for r in rows if r["attribution"] is not None]
    return {
        "sandboxes": len(rows),
        "incidents": incidents,
        "called": called,
        "called_right": right,
        "precision_pooled": round(right / called, 4) if called else None,
        "recall_pooled": round(right / incidents, 4) if incidents else None,
        "false_alarms": called - right,
        "false_alarms_per_30_days": round((called - right) / (len(rows) * days / 30), 3) if rows else None,
        "sandboxes_precision_ge_0.95": _meeting(rows, "precision"),
        "sandboxes_recall_ge_0.95": _meeting(rows, "recall"),
        "sandboxes_median_before_5th_ticket": sum(1 for m in medians if m < 5),
        "attribution_mean": round(statistics.mean(attribution), 4) if attribution else None,
        # problems whose tickets a log alert explains, and how many of those the logs had before
        # the incident's first ticket (the target for incidents that show in logs)
        "log_linked": sum(r["log_linked"] for r in rows),
        "from_logs_before_first_ticket": sum(r["from_logs_before_first_ticket"] for r in rows),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", required=True)
    ap.add_argument("--work", type=Path, required=True, help="where sandboxes are generated and kept")
    ap.add_argument("--tickets", type=int, default=2000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--incidents", default=None, help="'none' for everyday traffic only (default: all kinds)")
    ap.add_argument("--min-customers", type=int, default=3, help="a burst's minimum customers (default 3)")
    ap.add_argument("--alpha", type=float, default=1e-6, help="a burst's significance level (default 1e-6)")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for seed in args.seeds:
        row = evaluate(sandbox(args.work, seed, args), args.work, seed, args)
        rows.append(row)
        print(json.dumps(row), flush=True)
    setting = {"min_customers": args.min_customers, "alpha": args.alpha}
    print(json.dumps({"pooled": pooled(rows, args.days), "setting": setting}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
