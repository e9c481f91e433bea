"""Zero-config triage: BANKING77-proxy accuracy/macro-F1/calibration and batch throughput. Prints JSON.

BANKING77 (real online-banking queries) is used only to *measure*: its 77 intents are mapped to our
categories by ``bench/banking77_to_taxonomy.csv``; nothing from it is used for training.
Usage: ``python bench/triage.py --banking77 /work/shared/data/banking77/train.csv [--n 20000] [--workers 2]
[--e2e 100000]``. Throughput is reported for one process (wall and CPU time), for a pool of ``--workers``
processes, and with ``--e2e N`` end to end: ``paytriage triage FILE --json --workers W`` on a JSONL file
of N tickets, timed from process start (model fit and pool start included) to the last line written.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.sparse import hstack
from sklearn.metrics import accuracy_score, f1_score

from paytriage.engines.triage import Triager, ZeroConfigClassifier
from paytriage.engines.triage.classifier import _decision, _lower, _softmax, normalize_for_model
from paytriage.engines.triage.workers import CHUNK

HERE = Path(__file__).resolve().parent
# Escalation-style tickets for throughput: realistic length, ids, amounts, codes, a pasted card now and then.
TEMPLATES = [
    "Hi, my card payment of €{a},{c} at {m} on 2026-11-{d:02d} was declined with code 05 do not honor. "
    "I have enough money. Card 4111 1111 1111 1111. Please help, this is the third time!",
    "Customer reports refund for order ORD-{o} (EUR {a}.{c}) not received after 14 days. Tier 1 checked the "
    "dashboard: refund re_{o}abc shows succeeded on 2026-11-{d:02d}.",
    "Our webhooks are failing: POST /v1/webhooks returns HTTP 502 since 14:{d:02d} UTC. "
    "WooCommerce plugin 8.2.1. merchant id M{o}. All payments stuck in pending, we lose sales every minute.",
    "I was charged twice for the same purchase at {m}, ${a}.{c} each, transaction ch_{o}XyZabc. "
    "I want my money back or I will open a chargeback with my bank.",
    "How do I reset my password? The reset e-mail never arrives.",
    "Payout for 2026-11-{d:02d} missing, expected GBP {a},{c}0.00, bank returned it with AC04. "
    "IBAN GB82 WEST 1234 5698 7654 32.",
]
MERCHANTS = ["Tesco", "Amazon", "Uber", "a petrol station", "the hotel", "Zalando"]


def synthetic(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [
        rng.choice(TEMPLATES).format(
            a=rng.randint(1, 999),
            c=rng.randint(10, 99),
            d=rng.randint(1, 28),
            o=rng.randint(100000, 999999),
            m=rng.choice(MERCHANTS),
        )
        for _ in range(n)
    ]


def ece(conf: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(total)


def banking77(path: Path, mapping: Path, triager: Triager) -> dict[str, object]:
    intent_to_cat = {r["intent"]: r["category"] for r in csv.DictReader(mapping.open(encoding="utf-8"))}
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    texts = [r["text"] for r in rows]
    truth = np.array([intent_to_cat[r["category"]] for r in rows])
    clf = triager.classifier
    assert isinstance(clf, ZeroConfigClassifier)
    proba = clf.predict_proba(texts)
    # The same model through scikit-learn's own (slow) transform: the fast path must not change a thing.
    lowered = [_lower(t) for t in texts]
    docs = [normalize_for_model(t) for t in texts]
    x = hstack([clf.word_.transform(docs), clf.char_.transform(docs)]).tocsr()
    z = _decision(clf.model_, x) + clf.keyword_weight * clf._keyword_hits(lowered, len(clf.classes_))[0]
    reference = _softmax(z / clf.temperature_)
    order = np.argsort(-proba, axis=1)
    pred = clf.classes_[order[:, 0]]
    top2 = (clf.classes_[order[:, 1]] == truth) | (pred == truth)
    present = sorted(set(truth))
    per = f1_score(truth, pred, labels=present, average=None)
    return {
        "n": len(rows),
        "categories_present": len(present),
        "accuracy": round(accuracy_score(truth, pred), 4),
        "accuracy_sklearn_transform": round(accuracy_score(truth, clf.classes_[reference.argmax(axis=1)]), 4),
        "max_abs_proba_diff_vs_sklearn_transform": float(np.abs(proba - reference).max()),
        "macro_f1_present_categories": round(float(np.mean(per)), 4),
        "macro_f1_all_predicted_labels": round(f1_score(truth, pred, average="macro"), 4),
        "top2_accuracy": round(float(top2.mean()), 4),
        "ece_10_bins": round(ece(proba.max(axis=1), pred == truth), 4),
        "mean_confidence": round(float(proba.max(axis=1).mean()), 4),
        "f1_by_category": {c: round(float(f), 3) for c, f in zip(present, per, strict=True)},
        "most_common_confusions": [
            f"{t} -> {p}: {k}"
            for (t, p), k in Counter((t, p) for t, p in zip(truth, pred, strict=True) if t != p).most_common(
                8
            )
        ],
    }


def end_to_end(n: int, workers: int, seed: int) -> dict[str, object]:
    """``paytriage triage FILE --json`` as a user runs it, output to /dev/null; wall and CPU of all of it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tickets.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for i, text in enumerate(synthetic(n, seed)):
                row = {"id": f"E-{i}", "created_at": "2026-11-05T10:00:00Z", "description": text}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        cli = "from paytriage.adapters.cli.main import app; app()"
        cmd = [sys.executable, "-c", cli, "triage", str(path), "--json", "--workers", str(workers)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": "1"})
        secs = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "workers": workers,
        "tickets": n,
        "seconds": round(secs, 2),
        "tickets_per_s": round(n / secs),
        "cpu_seconds_all_processes": round(cpu, 2),
        "tickets_per_cpu_s": round(n / cpu),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--banking77", type=Path, help="path to BANKING77 train.csv (skipped when absent)")
    ap.add_argument("--mapping", type=Path, default=HERE / "banking77_to_taxonomy.csv")
    ap.add_argument("--n", type=int, default=20000, help="synthetic tickets for the throughput run")
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--workers", type=int, default=2, help="also measure a pool of N processes (1: skip)")
    ap.add_argument("--e2e", type=int, default=0, help="also run the CLI end to end on N tickets (0: skip)")
    args = ap.parse_args()
    start = time.perf_counter()
    triager = Triager.from_config()
    load_s = time.perf_counter() - start
    out: dict[str, object] = {
        "model_version": triager.model_version,
        "ruleset_version": triager.ruleset_version,
        "load_seconds": round(load_s, 2),
    }
    tickets = synthetic(args.n, args.seed)
    triager.triage_many(tickets[:50])  # warm-up
    out["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    start, cpu = time.perf_counter(), time.process_time()
    routes: Counter[str] = Counter()
    for i in range(0, len(tickets), args.batch):
        for r in triager.triage_many(tickets[i : i + args.batch]):
            routes[r.route.value] += 1
    secs, cpu_secs = time.perf_counter() - start, time.process_time() - cpu
    # Wall-clock rate depends on what else runs on the box; the CPU-time rate is one dedicated core.
    out["throughput"] = {
        "tickets": len(tickets),
        "seconds": round(secs, 2),
        "tickets_per_s": round(len(tickets) / secs),
        "tickets_per_cpu_s": round(len(tickets) / cpu_secs),
        "batch": args.batch,
        "mean_chars": round(sum(map(len, tickets)) / len(tickets)),
        "routes": dict(routes),
    }
    if args.workers > 1:
        start = time.perf_counter()
        triager.triage_many(tickets[: 2 * CHUNK], workers=args.workers)  # start the pool: one chunk each
        spawn_s = time.perf_counter() - start
        method = triager._pool(args.workers).method
        start = time.perf_counter()
        pooled = triager.triage_many(tickets, workers=args.workers)
        secs = time.perf_counter() - start
        triager.close()
        single = triager.triage_many(tickets[:2000])
        out["throughput_workers"] = {
            "workers": args.workers,
            "tickets": len(tickets),
            "seconds": round(secs, 2),
            "tickets_per_s": round(len(tickets) / secs),
            "pool_start_seconds_incl_first_2_chunks": round(spawn_s, 2),
            "start_method": method,
            "same_as_single_process": [r.to_dict() for r in pooled[:2000]] == [r.to_dict() for r in single],
        }
    if args.e2e:
        out["end_to_end_cli"] = [end_to_end(args.e2e, w, args.seed) for w in sorted({1, args.workers})]
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if args.banking77 and args.banking77.exists():
        rows = [r["text"] for r in csv.DictReader(args.banking77.open(encoding="utf-8"))]
        start = time.perf_counter()
        for i in range(0, len(rows), args.batch):
            triager.triage_many(rows[i : i + args.batch])
        out["banking77_full_triage_tickets_per_s"] = round(len(rows) / (time.perf_counter() - start))
        out["banking77_proxy"] = banking77(args.banking77, args.mapping, triager)
    else:
        out["banking77_proxy"] = "skipped: pass --banking77 PATH/train.csv"
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
