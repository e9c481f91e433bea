"""Benchmark problem grouping from 10k to 1M synthetic tickets: time, memory and agreement with truth.

The generator is deliberately simple and lives here so the benchmark does not depend on the
sandbox: a share of tickets belongs to planted problems (a few topic words plus one strong entity
key such as a BIN or plugin version, inside a time window), the rest is background noise with
random words, merchants and countries. Truth is the planted problem (noise tickets are singletons).

    .venv/bin/python bench/grouping.py --sizes 10000,100000,1000000

Prints one JSON document: per size, seconds, tickets/s, peak RSS growth (MiB), problems found, and
pairwise precision/recall/F1 plus ARI against the planted problems.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import sys
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.cluster import pair_confusion_matrix

from paytriage.engines.patterns import ProblemGrouper, TicketFeatures

__all__ = ["generate", "main"]

_SYL = ["ka", "lo", "mi", "ra", "tu", "ne", "so", "vi", "de", "pa", "zu", "be", "gor", "fen", "tal"]
_GENERIC = [
    "payment",
    "failed",
    "declined",
    "card",
    "checkout",
    "customer",
    "order",
    "refund",
    "charge",
    "error",
    "merchant",
    "transaction",
    "again",
    "today",
    "yesterday",
    "tried",
    "store",
    "online",
    "account",
    "money",
    "bank",
    "please",
    "urgent",
    "waiting",
]
_KINDS = ["error", "bin", "plugin", "endpoint"]
_COUNTRIES = [f"c{i}" for i in range(30)]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYL) for _ in range(3))


def generate(
    n: int, *, seed: int = 7, noise: float = 0.3, days: int = 90
) -> tuple[list[TicketFeatures], list[int]]:
    """``n`` tickets and their planted problem (-1 - i for the i-th noise ticket)."""
    rng = random.Random(seed)
    vocab = list({_word(rng) for _ in range(20000)})
    start = datetime(2024, 1, 1, tzinfo=UTC)
    n_problems = max(5, n // 200)
    problems = []
    for p in range(n_problems):
        kind = rng.choice(_KINDS)
        key = f"{kind}:{p}{rng.randrange(10**6):06d}" if kind == "bin" else f"{kind}:k{p}"
        begin = start + timedelta(hours=rng.uniform(0, days * 24 - 48))
        problems.append((rng.sample(vocab, 6), key, begin, rng.uniform(12, 240)))
    tickets: list[TicketFeatures] = []
    truth: list[int] = []
    merchants = [f"m{i}" for i in range(max(50, n // 20))]
    for i in range(n):
        merchant = rng.choice(merchants)
        keys = {f"merchant:{merchant}", f"country:{rng.choice(_COUNTRIES)}"}
        words = rng.sample(_GENERIC, 5) + rng.sample(vocab, 2)
        if rng.random() >= noise:
            p = rng.randrange(n_problems)
            topic, key, begin, hours = problems[p]
            words += rng.sample(topic, 4)
            if rng.random() < 0.85:
                keys.add(key)
            when = begin + timedelta(hours=rng.uniform(0, hours))
            truth.append(p)
        else:
            words += rng.sample(vocab, 3)
            when = start + timedelta(hours=rng.uniform(0, days * 24))
            truth.append(-1 - i)
        rng.shuffle(words)
        tickets.append(
            TicketFeatures(
                ticket_id=str(i),
                text=" ".join(words),
                created_at=when,
                keys=frozenset(keys),
                customer_id=f"u{rng.randrange(n)}",
                merchant_id=merchant,
                transaction_ids=(f"t{i}",),
                amounts_minor={"EUR": rng.randrange(100, 100000)},
            )
        )
    return tickets, truth


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _pairwise(truth: list[int], pred: list[int]) -> dict[str, float]:
    (_tn, fp), (fn, tp) = pair_confusion_matrix(np.asarray(truth), np.asarray(pred)).astype(float)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"pair_precision": round(precision, 4), "pair_recall": round(recall, 4), "pair_f1": round(f1, 4)}


def run(n: int, seed: int) -> dict[str, object]:
    tickets, truth = generate(n, seed=seed)
    gc.collect()
    rss0 = _rss_mib()
    t0 = time.perf_counter()
    grouper = ProblemGrouper().fit(tickets)
    seconds = time.perf_counter() - t0
    pred = [grouper.assignments_[t.ticket_id] for t in tickets]
    out: dict[str, object] = {
        "tickets": n,
        "seconds": round(seconds, 2),
        "tickets_per_second": round(n / seconds),
        "peak_rss_mib": round(_rss_mib(), 1),
        "rss_growth_mib": round(_rss_mib() - rss0, 1),
        "planted_problems": len({t for t in truth if t >= 0}),
        "problems_found": len(grouper.problems_),
        "problems_with_5plus_tickets": sum(1 for p in grouper.problems_.values() if p.size >= 5),
        "ari": round(float(adjusted_rand_score(truth, pred)), 4),
    }
    out.update(_pairwise(truth, pred))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated ticket counts")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    results = []
    for size in args.sizes.split(","):
        results.append(run(int(size), args.seed))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)  # progress while larger sizes run
    json.dump({"benchmark": "problem grouping (in-process)", "results": results}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
