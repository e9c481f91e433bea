"""Emerging-issue detection on real customer wording: BANKING77 queries as a ticket stream.

The sandbox scores detection on our own generated tickets; this bench scores it on people's own words.
Each run builds a month of tickets from BANKING77 texts (real banking-app queries): a background with a
daily and weekly rhythm, drawn from every intent in proportion to the corpus, plus incidents, each a
surge of one failure intent's queries ("my top-up is still pending") from distinct customers over a few
hours, on top of that intent's own everyday share. Incident texts are held out of the background, so
a surge is never the same sentence repeated. The texts are triaged by the product's zero-config model
(nothing is trained on BANKING77) and fed, oldest first, to :class:`SystemicTracker` exactly as
``paytriage problems detect`` does (entities from the text, the triaged category); no logs.

Scored with the sandbox scorer (``paytriage.sandbox.scoring``): incident precision and recall, median
tickets seen and minutes at detection, attribution accuracy. The peer in the same run is a per-category
volume alert (the same seasonal burst test on the triaged category alone, no text, no entities: what a
helpdesk's volume alert per tag does), each alert holding the category's tickets while it is hot.

Usage: ``python bench/emerging.py --data ../shared/data/banking77 --seeds 1 2 3 4 5`` (prints JSON).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from paytriage.domain.ticket import Channel, Ticket
from paytriage.engines.patterns.bursts import KeyBurstDetector
from paytriage.engines.patterns.features import features_from_ticket
from paytriage.engines.patterns.grouping import ProblemGrouper
from paytriage.engines.patterns.intents import TextClusterer
from paytriage.engines.patterns.systemic import SystemicTracker
from paytriage.engines.triage import Triager
from paytriage.sandbox.scoring import DetectedIncident, TicketPrediction, score

HERE = Path(__file__).resolve().parent

#: BANKING77 intents that read as something broken (a surge of them is an incident, not curiosity)
FAILURE_INTENTS = (
    "card_not_working", "contactless_not_working", "pending_top_up", "pending_cash_withdrawal",
    "transfer_not_received_by_recipient", "top_up_reverted", "unable_to_verify_identity",
    "declined_cash_withdrawal", "pending_card_payment", "declined_transfer", "Refund_not_showing_up",
    "declined_card_payment", "pending_transfer", "transaction_charged_twice", "failed_transfer",
    "virtual_card_not_working", "top_up_failed", "balance_not_updated_after_bank_transfer",
    "card_payment_not_recognised", "extra_charge_on_statement", "wrong_amount_of_cash_received",
    "apple_pay_or_google_pay", "card_linking", "cash_withdrawal_not_recognised",
    "direct_debit_payment_not_recognised", "balance_not_updated_after_cheque_or_cash_deposit",
)  # fmt: skip

#: relative ticket volume by hour of day (UTC) and by weekday (Monday first)
HOURLY = np.array([0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 0.8, 1.2, 1.6, 1.8, 1.8, 1.7,
                   1.6, 1.7, 1.7, 1.6, 1.5, 1.4, 1.3, 1.2, 1.0, 0.8, 0.6, 0.4])  # fmt: skip
WEEKDAY = np.array([1.1, 1.05, 1.0, 1.0, 1.0, 0.7, 0.6])
START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def load_texts(data: Path) -> dict[str, list[str]]:
    by_intent: dict[str, list[str]] = defaultdict(list)
    with (data / "train.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            by_intent[row["category"]].append(row["text"])
    return dict(by_intent)


def load_mapping(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["intent"]: r["category"] for r in csv.DictReader(fh)}


def build_stream(
    by_intent: dict[str, list[str]], rng: np.random.Generator, *, days: int, per_day: int, incidents: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Tickets (id, created_at, text, intent, customer, incident) oldest first, the incidents, and the
    texts left over (the team's past tickets, to fit intent groups on)."""
    pools = {k: list(rng.permutation(v)) for k, v in by_intent.items()}
    chosen = rng.choice([i for i in FAILURE_INTENTS if i in pools], size=incidents, replace=False)
    rows: list[dict[str, Any]] = []
    truth: list[dict[str, Any]] = []
    customer = 0
    for n, intent in enumerate(chosen, 1):
        size = int(rng.integers(8, 31))
        size = min(size, len(pools[intent]) // 2)
        texts = [pools[intent].pop() for _ in range(size)]
        start = START + timedelta(hours=float(rng.uniform(3 * 24, (days - 2) * 24)))
        spread_h = float(rng.uniform(1.0, 10.0))
        offsets = np.sort(rng.gamma(1.5, spread_h / 3.0, size=size))
        inc_id = f"INC-{n:03d}"
        truth.append({"id": inc_id, "kind": intent, "start": start.isoformat(), "ticket_ids": []})
        for text, off in zip(texts, offsets, strict=True):
            customer += 1
            rows.append({"created_at": start + timedelta(hours=float(off)), "text": text, "intent": intent,
                         "customer": f"cus_{customer:06d}", "incident": inc_id})  # fmt: skip
    # background: hours weighted by the daily and weekly rhythm, texts in corpus proportion
    hours = np.array([HOURLY[h % 24] * WEEKDAY[(h // 24) % 7] for h in range(days * 24)])
    total = days * per_day
    counts = rng.multinomial(total, hours / hours.sum())
    remaining = [(k, t) for k, v in pools.items() for t in v]
    picks = rng.choice(len(remaining), size=min(total, len(remaining)), replace=False)
    i = 0
    for h, c in enumerate(counts):
        for _ in range(c):
            if i >= len(picks):
                break
            intent, text = remaining[picks[i]]
            i += 1
            customer += 1
            when = START + timedelta(hours=h + float(rng.random()))
            rows.append({"created_at": when, "text": text, "intent": intent,
                         "customer": f"cus_{customer:06d}", "incident": ""})  # fmt: skip
    used = set(picks.tolist())
    history = [t for j, (_k, t) in enumerate(remaining) if j not in used]
    rows.sort(key=lambda r: r["created_at"])
    for k, r in enumerate(rows, 1):
        r["ticket_id"] = f"T-{k:06d}"
        r["created_at"] = r["created_at"].replace(microsecond=0)
    for inc in truth:
        inc["ticket_ids"] = [r["ticket_id"] for r in rows if r["incident"] == inc["id"]]
    return rows, truth, history


def write_truth(directory: Path, rows: list[dict[str, Any]], truth: list[dict[str, Any]],
                mapping: dict[str, str]) -> None:  # fmt: skip
    """The sandbox's ground-truth layout, so the sandbox scorer applies unchanged."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "tickets.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ticket_id", "created_at", "category", "route", "priority", "incident_id",
                    "escalation_needed"])  # fmt: skip
        for r in rows:
            w.writerow([r["ticket_id"], r["created_at"].isoformat(), mapping.get(r["intent"], ""), "", "P3",
                        r["incident"], "true"])  # fmt: skip
    (directory / "incidents.json").write_text(json.dumps({"incidents": truth}), encoding="utf-8")


def detect_tracker(
    rows: list[dict[str, Any]], categories: list[str], intents: list[int] | None = None
) -> list[DetectedIncident]:
    """What ``paytriage problems detect`` does with these tickets (no logs); ``intents``: each
    ticket's intent group from a clusterer fitted on past tickets (``--intents``)."""
    tracker = SystemicTracker(grouper=ProblemGrouper())
    for i, (r, cat) in enumerate(zip(rows, categories, strict=True)):
        ticket = Ticket(external_id=r["ticket_id"], source="banking77", created_at=r["created_at"],
                        description=r["text"], channel=Channel.OTHER, requester_id=r["customer"])  # fmt: skip
        feats = features_from_ticket(ticket)
        if intents is not None:
            feats.keys = feats.keys | {f"intent:{intents[i]}"}
        tracker.add(feats, category=cat)
    return [
        DetectedIncident(str(p.problem_id), p.detected_at, tuple(sorted(p.ticket_ids)))
        for p in tracker.systemic()
    ]


def detect_category_volume(rows: list[dict[str, Any]], categories: list[str]) -> list[DetectedIncident]:
    """Peer: the same burst test on the triaged category alone; an alert holds its category's tickets
    from the burst's window until the category cools down."""
    det = KeyBurstDetector()
    alerts: dict[str, list[Any]] = {}
    found: list[DetectedIncident] = []
    for r, cat in zip(rows, categories, strict=True):
        signal = f"category:{cat}"
        bursts = det.observe(r["ticket_id"], r["created_at"], [signal], r["customer"])
        if signal in alerts and (bursts or not det.is_hot(signal)):
            a = alerts.pop(signal)
            found.append(DetectedIncident(id=a[0], detected_at=a[1], ticket_ids=tuple(a[2])))
        for burst in bursts:
            alerts[signal] = [f"{burst.signal}@{burst.detected_at.isoformat()}", burst.detected_at,
                              list(burst.ticket_ids)]  # fmt: skip
        if signal in alerts and r["ticket_id"] not in alerts[signal][2]:
            alerts[signal][2].append(r["ticket_id"])
    found += [DetectedIncident(id=a[0], detected_at=a[1], ticket_ids=tuple(a[2])) for a in alerts.values()]
    return found


def summarise(truth_dir: Path, detected: list[DetectedIncident], seconds: float) -> dict[str, Any]:
    owner = {t: d.id for d in detected for t in d.ticket_ids}
    with (truth_dir / "tickets.csv").open(encoding="utf-8", newline="") as fh:
        ids = [row["ticket_id"] for row in csv.DictReader(fh)]
    preds = {t: TicketPrediction(incident_id=owner.get(t)) for t in ids}
    res = score(truth_dir, preds, detected)
    ttd = res["time_to_detect"] or []
    return {
        "detected": len(detected),
        "precision": None if res["incident_precision"] is None else round(res["incident_precision"], 3),
        "recall": None if res["incident_recall"] is None else round(res["incident_recall"], 3),
        "attribution_accuracy": None
        if res["attribution_accuracy"] is None
        else round(res["attribution_accuracy"], 3),
        "median_tickets_at_detection": statistics.median([r["tickets_seen"] for r in ttd]) if ttd else None,
        "median_minutes_to_detect": statistics.median([r["minutes"] for r in ttd]) if ttd else None,
        "per_incident": [{k: r[k] for k in ("incident_id", "kind", "tickets_seen", "minutes")} for r in ttd],
        "seconds": round(seconds, 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="folder holding BANKING77 train.csv")
    ap.add_argument("--mapping", type=Path, default=HERE / "banking77_to_taxonomy.csv")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--per-day", type=int, default=100, help="background tickets per day")
    ap.add_argument("--incidents", type=int, default=8, help="incidents per run")
    ap.add_argument("--features", default="tfidf", help="intent clusterer features (tfidf, hybrid, ...)")
    args = ap.parse_args(argv)
    if not (args.data / "train.csv").exists():
        print(json.dumps({"skipped": f"{args.data / 'train.csv'} not found"}))
        return 0
    by_intent = load_texts(args.data)
    mapping = load_mapping(args.mapping)
    triager = Triager.from_config()
    runs = []
    for seed in args.seeds:
        rng = np.random.default_rng(seed)
        rows, truth, history = build_stream(
            by_intent, rng, days=args.days, per_day=args.per_day, incidents=args.incidents
        )
        t0 = time.perf_counter()
        clusterer = TextClusterer(features=args.features).fit(history)
        intents = [int(k) for k in clusterer.predict([r["text"] for r in rows])]
        intents_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        categories = [r.category for r in triager.triage_many([r["text"] for r in rows])]
        triage_s = time.perf_counter() - t0
        with tempfile.TemporaryDirectory() as tmp:
            gt = Path(tmp) / "ground_truth"
            write_truth(gt, rows, truth, mapping)
            t0 = time.perf_counter()
            ours = detect_tracker(rows, categories)
            ours_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            with_intents = detect_tracker(rows, categories, intents)
            with_intents_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            peer = detect_category_volume(rows, categories)
            peer_s = time.perf_counter() - t0
            runs.append({
                "seed": seed,
                "tickets": len(rows),
                "incident_tickets": sum(1 for r in rows if r["incident"]),
                "incidents": [
                    {"id": i["id"], "intent": i["kind"], "tickets": len(i["ticket_ids"])} for i in truth
                ],
                "category_accuracy": round(
                    sum(mapping.get(r["intent"]) == c for r, c in zip(rows, categories, strict=True))
                    / len(rows),
                    3,
                ),
                "triage_seconds": round(triage_s, 2),
                "history_texts": len(history),
                "intent_groups": clusterer.n_clusters_,
                "intents_fit_predict_seconds": round(intents_s, 2),
                "paytriage": summarise(gt, ours, ours_s),
                "paytriage_intents": summarise(gt, with_intents, with_intents_s),
                "category_volume_peer": summarise(gt, peer, peer_s),
            })  # fmt: skip
    out: dict[str, Any] = {"data": str(args.data), "days": args.days, "per_day": args.per_day, "runs": runs}
    for name in ("paytriage", "paytriage_intents", "category_volume_peer"):
        rs = [r[name] for r in runs]
        ttd = [x["tickets_seen"] for r in rs for x in r["per_incident"]]
        n_true = sum(len(r["incidents"]) for r in runs)
        out[name] = {
            "detected": sum(r["detected"] for r in rs),
            "true_detections": len(ttd),
            "incidents": n_true,
            "precision_pooled": round(len(ttd) / max(1, sum(r["detected"] for r in rs)), 3),
            "recall_pooled": round(len(ttd) / n_true, 3),
            "median_tickets_at_detection": statistics.median(ttd) if ttd else None,
            "attribution_accuracy_mean": round(
                statistics.mean(r["attribution_accuracy"] or 0 for r in rs), 3
            ),
        }
    print(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
