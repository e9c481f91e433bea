"""Benchmark grouping at scale from ticket *text*: 10k, 100k and 1M varied payments tickets.

Unlike ``bench/grouping.py`` (which hands the grouper ready-made keys), every ticket here is
written as a person would write it (subject + body with decline codes, BINs, plugin versions,
endpoints, HTTP statuses, amounts, typos and filler) and goes through ``features_from_ticket``
(the triage entity extractor), then the in-process :class:`ProblemGrouper`, one ticket at a time
in arrival order — the live path. Tickets are generated lazily, so memory is the grouper's.

    nice -n 10 .venv/bin/python bench/grouping_scale.py --sizes 10000,100000,1000000
    .venv/bin/python bench/grouping_scale.py --sizes 20000 --profile 25   # where the time goes

Prints one JSON document: per size, wall and CPU seconds split into feature extraction and
grouping, tickets/s, peak RSS (MiB), problems found and ARI against the planted problems.
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import io
import json
import os
import pstats
import random
import resource
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sklearn.metrics import adjusted_rand_score

from paytriage.domain import Ticket
from paytriage.engines.patterns import ProblemGrouper
from paytriage.engines.patterns.features import features_from_ticket

__all__ = ["generate", "main", "run"]

_PLUGINS = ["WooCommerce", "Magento", "Shopify", "PrestaShop", "BigCommerce", "OpenCart"]
_CODES = ["05", "51", "54", "57", "61", "65", "91", "96", "N7", "R1", "1A"]
_ENDPOINTS = [
    "/v1/payments",
    "/v1/refunds",
    "/v2/checkout/sessions",
    "/v1/payouts",
    "/v1/customers",
    "/v1/tokens",
]
_HTTP = ["500", "502", "503", "504", "429", "422"]
_SYMPTOMS = [
    "payments are being declined",
    "the checkout page just spins",
    "refund has not arrived",
    "customers are charged twice",
    "the webhook never fires",
    "payout is missing from our bank",
    "3DS challenge fails",
    "apple pay button disappeared",
    "settlement report does not match",
    "API returns an error",
    "subscription renewal failed",
    "card saved but cannot be reused",
]
_OPENERS = ["Hi team,", "Hello,", "URGENT:", "Good morning", "hey", "Dear support,", ""]
_FILLER = [
    "we tried again this morning",
    "this is costing us sales",
    "our customers are complaining",
    "nothing changed on our side",
    "please look asap",
    "started after lunch",
    "only some of our shoppers see it",
    "tier 1 already cleared cache and cookies",
    "see screenshot attached",
    "order number in the subject",
]
_SYL = ["ka", "lo", "mi", "ra", "tu", "ne", "so", "vi", "de", "pa", "zu", "be", "gor", "fen", "tal"]


@dataclass(frozen=True, slots=True)
class _Planted:
    symptom: str
    clue: str
    words: tuple[str, ...]
    begin: datetime
    hours: float


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 8 or rng.random() > 0.15:
        return text
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _clue(rng: random.Random, p: int) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return f"decline code {rng.choice(_CODES)} on cards starting {400000 + p * 7 % 599999:06d}"
    if kind == 1:
        return f"since we upgraded {rng.choice(_PLUGINS)} plugin to {1 + p % 9}.{p % 13}.{p % 7}"
    if kind == 2:
        return f"POST {rng.choice(_ENDPOINTS)} returns HTTP {rng.choice(_HTTP)}"
    return f"error code E{1000 + p % 9000} from the gateway"


def generate(n: int, *, seed: int = 7, noise: float = 0.3, days: int = 90) -> Iterator[tuple[Ticket, int]]:
    """``n`` tickets in arrival order with their planted problem (-1 - i for noise), lazily."""
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    vocab = list({"".join(rng.choice(_SYL) for _ in range(3)) for _ in range(20000)})
    n_problems = max(5, n // 200)
    planted = [
        _Planted(
            rng.choice(_SYMPTOMS),
            _clue(rng, p),
            tuple(rng.sample(vocab, 4)),
            start + timedelta(hours=rng.uniform(0, days * 24 - 48)),
            rng.uniform(12, 240),
        )
        for p in range(n_problems)
    ]
    planted.sort(key=lambda x: x.begin)
    begins = [p.begin for p in planted]
    merchants = [f"merchant-{i}" for i in range(max(50, n // 20))]
    step = days * 24 * 3600 / n
    for i in range(n):
        when = start + timedelta(seconds=i * step)
        live = list(_window(planted, begins, when))
        opener, filler = rng.choice(_OPENERS), rng.sample(_FILLER, 2)
        amount = f"{rng.choice(['EUR', 'USD', 'GBP'])} {rng.randrange(5, 5000)}.{rng.randrange(100):02d}"
        if live and rng.random() >= noise:
            p = rng.choice(live)
            pl = planted[p]
            clue = pl.clue if rng.random() < 0.85 else ""
            words = " ".join(rng.sample(pl.words, 3))
            body = f"{opener} {pl.symptom} {clue}. {words} {filler[0]}. amount {amount}"
            subject, truth = f"{pl.symptom} {rng.choice(pl.words)}", p
        else:
            symptom = rng.choice(_SYMPTOMS)
            words = " ".join(rng.sample(vocab, 3))
            body = f"{opener} {symptom} {words}. {filler[0]}, {filler[1]}. amount {amount}"
            subject, truth = symptom, -1 - i
        ticket = Ticket(
            external_id=f"T{i}",
            source="bench",
            created_at=when,
            subject=_typo(rng, subject),
            description=_typo(rng, body),
            requester_id=f"u{rng.randrange(n)}",
            organization=rng.choice(merchants),
        )
        yield ticket, truth


def _window(planted: list[_Planted], begins: list[datetime], when: datetime) -> Iterator[int]:
    """Planted problems live at ``when`` (they last at most 240 h; ``begins`` is sorted)."""
    lo = bisect.bisect_left(begins, when - timedelta(hours=240))
    for i in range(lo, bisect.bisect_right(begins, when)):
        if when <= planted[i].begin + timedelta(hours=planted[i].hours):
            yield i


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run(n: int, seed: int, *, every: int = 100_000) -> dict[str, object]:
    """Group ``n`` generated tickets; time extraction and grouping apart (wall and thread CPU).

    Thread CPU time (``time.thread_time``) is the honest figure on a loaded machine: the grouper
    is single-threaded. ``time.process_time`` is avoided inside the loop, as it costs
    milliseconds per call in a process with many (BLAS) threads. Every ``every`` tickets a
    progress line goes to stderr, so a run cut short still leaves its figures.
    """
    features_from_ticket(Ticket("warm-up", "bench", datetime.now(UTC), "warm up the extractor"))
    grouper = ProblemGrouper()
    truth: list[int] = []
    pred_ids: list[str] = []
    gen_s = feat_s = group_s = 0.0
    feat_cpu = group_cpu = 0.0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for i, (ticket, label) in enumerate(generate(n, seed=seed), start=1):
        t1, c1 = time.perf_counter(), time.thread_time()
        feats = features_from_ticket(ticket)
        t2, c2 = time.perf_counter(), time.thread_time()
        grouper.add(feats)
        t3, c3 = time.perf_counter(), time.thread_time()
        feat_s += t2 - t1
        group_s += t3 - t2
        feat_cpu += c2 - c1
        group_cpu += c3 - c2
        truth.append(label)
        pred_ids.append(feats.ticket_id)
        if i % every == 0 and i < n:
            progress = {"size": n, "done": i, "wall_s": round(time.perf_counter() - wall0, 1),
                        "features_cpu_s": round(feat_cpu, 1), "grouping_cpu_s": round(group_cpu, 1),
                        "rss_mib": round(_rss_mib(), 1), "load": round(os.getloadavg()[0], 2)}  # fmt: skip
            print(json.dumps(progress), file=sys.stderr, flush=True)
    wall = time.perf_counter() - wall0
    gen_s = wall - feat_s - group_s
    pred = [grouper.resolve(grouper.assignments_[t]) for t in pred_ids]
    return {
        "tickets": n,
        "wall_seconds": round(wall, 1),
        "process_cpu_seconds": round(time.process_time() - cpu0, 1),
        "generate_seconds": round(gen_s, 1),
        "features_seconds": round(feat_s, 1),
        "grouping_seconds": round(group_s, 1),
        "features_cpu_seconds": round(feat_cpu, 1),
        "grouping_cpu_seconds": round(group_cpu, 1),
        "tickets_per_cpu_second": round(n / max(feat_cpu + group_cpu, 1e-9)),
        "peak_rss_mib": round(_rss_mib(), 1),
        "problems_found": len(grouper.problems_),
        "problems_with_5plus_tickets": sum(1 for p in grouper.problems_.values() if p.size >= 5),
        "ari": round(float(adjusted_rand_score(truth, pred)), 4),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated ticket counts")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile the run; print top N")
    args = ap.parse_args(argv)
    results = []
    for size in args.sizes.split(","):
        if args.profile:
            prof = cProfile.Profile()
            results.append(prof.runcall(run, int(size), args.seed))
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(args.profile)
            print(buf.getvalue(), file=sys.stderr)
        else:
            results.append(run(int(size), args.seed))
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)  # progress while larger sizes run
    json.dump(
        {"benchmark": "grouping from ticket text (in-process)", "results": results}, sys.stdout, indent=2
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
