"""Benchmark grouping at scale from ticket *text*: 10k, 100k and 1M varied payments tickets.

Unlike ``bench/grouping.py`` (which hands the grouper ready-made keys), every ticket here is
written as a person would write it (subject + body with decline codes, BINs, plugin versions,
endpoints, HTTP statuses, amounts, typos and filler).

Two paths. Without ``--input`` each generated ticket goes through ``features_from_ticket`` (the
triage entity extractor, in this process), then the in-process :class:`ProblemGrouper`, one
ticket at a time in arrival order — the live path. With ``--input`` the grouping *job* runs over
a JSONL file written once by ``--write`` (tickets plus the entities triage stored with each, as
the cases table holds them): forked workers parse lines and build features from the stored
entities while this process groups. ``--write`` runs the triage extractor per phrase the text was
built from (each recurring phrase once; a ticket with a typo is extracted whole), which is
what makes a million-ticket input cheap to write once.

    nice -n 10 .venv/bin/python bench/grouping_scale.py --sizes 10000,100000
    nice -n 10 .venv/bin/python bench/grouping_scale.py --write /tmp/g1m.jsonl --sizes 1000000
    nice -n 10 .venv/bin/python bench/grouping_scale.py --input /tmp/g1m.jsonl --limit 100000
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
from typing import Any

from sklearn.metrics import adjusted_rand_score, homogeneity_completeness_v_measure

from paytriage.domain import Ticket
from paytriage.engines.patterns import ProblemGrouper
from paytriage.engines.patterns.features import (
    TicketFeatures,
    default_workers,
    features_from_ticket,
    map_features,
)

__all__ = ["generate", "main", "run", "run_job", "write_input"]

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
    ends = [p.begin + timedelta(hours=p.hours) for p in planted]
    merchants = [f"merchant-{i}" for i in range(max(50, n // 20))]
    step = days * 24 * 3600 / n
    for i in range(n):
        when = start + timedelta(seconds=i * step)
        live = _window(begins, ends, when)
        opener, filler = rng.choice(_OPENERS), rng.sample(_FILLER, 2)
        amount = f"{rng.choice(['EUR', 'USD', 'GBP'])} {rng.randrange(5, 5000)}.{rng.randrange(100):02d}"
        if live and rng.random() >= noise:
            p = rng.choice(live)
            pl = planted[p]
            clue = pl.clue if rng.random() < 0.85 else ""
            words = " ".join(rng.sample(pl.words, 3))
            body = f"{opener} {pl.symptom} {clue}. {words} {filler[0]}. amount {amount}"
            subject, truth = f"{pl.symptom} {rng.choice(pl.words)}", p
            parts = [opener, pl.symptom, clue, filler[0], f"amount {amount}"]
        else:
            symptom = rng.choice(_SYMPTOMS)
            words = " ".join(rng.sample(vocab, 3))
            body = f"{opener} {symptom} {words}. {filler[0]}, {filler[1]}. amount {amount}"
            subject, truth = symptom, -1 - i
            parts = [opener, symptom, filler[0], filler[1], f"amount {amount}"]
        typo_subject, typo_body = _typo(rng, subject), _typo(rng, body)
        ticket = Ticket(
            external_id=f"T{i}",
            source="bench",
            created_at=when,
            subject=typo_subject,
            description=typo_body,
            requester_id=f"u{rng.randrange(n)}",
            organization=rng.choice(merchants),
            # what the text was built from, so --write can extract per phrase (see _stored_line)
            custom_fields={"parts": parts, "typo": typo_subject != subject or typo_body != body},
        )
        yield ticket, truth


def _window(begins: list[datetime], ends: list[datetime], when: datetime) -> list[int]:
    """Planted problems live at ``when`` (they last at most 240 h; ``begins`` is sorted)."""
    lo = bisect.bisect_left(begins, when - timedelta(hours=240))
    return [i for i in range(lo, bisect.bisect_right(begins, when)) if when <= ends[i]]


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
        **_purity(truth, pred),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _stored_line(item: tuple[Ticket, int]) -> str:
    """One input line: the ticket and the entities triage stores with its case (worker side)."""
    from paytriage.engines.triage.entities import EntityExtractor
    from paytriage.engines.triage.result import _plain

    ticket, truth = item
    extractor = _EXTRACTOR.get("x")
    if extractor is None:
        extractor = _EXTRACTOR["x"] = EntityExtractor()
    if ticket.custom_fields.get("typo"):
        found = extractor.extract(ticket.text)
    else:  # same phrases recur across tickets: extract each once (the syllable words hold none)
        found = [e for part in ticket.custom_fields["parts"] for e in _phrase_entities(extractor, part)]
    ents = [{"kind": e.kind.value, "text": e.text, "value": _plain(e.value)} for e in found]
    return json.dumps(
        {
            "id": ticket.external_id,
            "created_at": ticket.created_at.isoformat(),
            "subject": ticket.subject,
            "description": ticket.description,
            "requester_id": ticket.requester_id,
            "organization": ticket.organization,
            "truth": truth,
            "triage": {"entities": ents},
        }
    )


_EXTRACTOR: dict[str, Any] = {}
_PHRASES: dict[str, list[Any]] = {}


def _phrase_entities(extractor: Any, phrase: str) -> list[Any]:
    if phrase.startswith("amount "):
        return list(extractor.extract(phrase))
    if phrase not in _PHRASES:
        _PHRASES[phrase] = list(extractor.extract(phrase))
    return _PHRASES[phrase]


def write_input(path: str, n: int, seed: int, workers: int) -> dict[str, object]:
    """Write ``n`` generated tickets with triage's stored entities, extracting in ``workers``."""
    t0 = time.perf_counter()
    lines = map_features(_stored_line, generate(n, seed=seed), workers=workers, chunk_size=2000)  # type: ignore[arg-type]
    with open(path, "w", encoding="utf-8") as fh:
        for i, line in enumerate(lines, start=1):
            fh.write(f"{line}\n")
            if i % 100_000 == 0:
                print(
                    json.dumps({"written": i, "wall_s": round(time.perf_counter() - t0, 1)}), file=sys.stderr
                )
    return {"written": n, "path": path, "wall_seconds": round(time.perf_counter() - t0, 1)}


def _features_from_line(line: str) -> TicketFeatures:
    """Worker side of the job: a stored case line to features, reusing triage's entities."""
    row = json.loads(line)
    ticket = Ticket(
        external_id=row["id"],
        source="bench",
        created_at=datetime.fromisoformat(row["created_at"]),
        subject=row["subject"],
        description=row["description"],
        requester_id=row["requester_id"],
        organization=row["organization"],
    )
    feats = features_from_ticket(ticket, entities=row["triage"]["entities"], count_terms=True)
    feats.amounts_minor = {"truth": int(row["truth"])}  # carried through for scoring only
    return feats


def _cpu_all() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _purity(truth: list[int], pred: list[int]) -> dict[str, float]:
    """Homogeneity (a found problem holds one planted problem) and completeness (a planted problem
    lands in one found problem): ARI alone does not say whether quality goes by merging or splitting."""
    h, c, _v = homogeneity_completeness_v_measure(truth, pred)
    return {"homogeneity": round(float(h), 4), "completeness": round(float(c), 4)}


def run_job(path: str, limit: int, workers: int, *, every: int = 100_000) -> dict[str, object]:
    """The grouping job over a stored input: features in ``workers`` forks, grouping here."""
    grouper = ProblemGrouper()
    truth: list[int] = []
    ids: list[str] = []
    wall0, cpu0, group_cpu = time.perf_counter(), _cpu_all(), 0.0
    with open(path, encoding="utf-8") as fh:
        lines = (line for i, line in enumerate(fh) if not limit or i < limit)
        for i, feats in enumerate(map_features(_features_from_line, lines, workers=workers), start=1):
            truth.append(feats.amounts_minor["truth"])
            feats.amounts_minor = {}
            c1 = time.thread_time()
            grouper.add(feats)
            group_cpu += time.thread_time() - c1
            ids.append(feats.ticket_id)
            if i % every == 0:
                progress = {"done": i, "wall_s": round(time.perf_counter() - wall0, 1),
                            "grouping_cpu_s": round(group_cpu, 1), "rss_mib": round(_rss_mib(), 1),
                            "load": round(os.getloadavg()[0], 2)}  # fmt: skip
                print(json.dumps(progress), file=sys.stderr, flush=True)
    wall = time.perf_counter() - wall0
    cpu = _cpu_all() - cpu0
    pred = [grouper.resolve(grouper.assignments_[t]) for t in ids]
    n = len(ids)
    return {
        "tickets": n,
        "path": "job over stored triage entities",
        "workers": workers,
        "wall_seconds": round(wall, 1),
        "tickets_per_wall_second": round(n / wall),
        "cpu_seconds_all_processes": round(cpu, 1),
        "grouping_cpu_seconds": round(group_cpu, 1),
        "tickets_per_cpu_second": round(n / max(cpu, 1e-9)),
        "peak_rss_mib": round(_rss_mib(), 1),
        "peak_rss_worker_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0, 1),
        "problems_found": len(grouper.problems_),
        "problems_with_5plus_tickets": sum(1 for p in grouper.problems_.values() if p.size >= 5),
        "ari": round(float(adjusted_rand_score(truth, pred)), 4),
        **_purity(truth, pred),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated ticket counts")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile the run; print top N")
    ap.add_argument("--write", metavar="FILE", help="write --sizes tickets with stored entities, then stop")
    ap.add_argument("--input", metavar="FILE", help="run the grouping job over a file from --write")
    ap.add_argument("--limit", default="0", help="with --input: comma-separated first-N prefixes (0 = all)")
    ap.add_argument("--workers", type=int, default=default_workers(), help="feature worker processes")
    args = ap.parse_args(argv)
    results = []
    if args.write:
        json.dump(write_input(args.write, int(args.sizes), args.seed, args.workers), sys.stdout)
        sys.stdout.write("\n")
        return 0
    if args.input:
        for limit in args.limit.split(","):
            results.append(run_job(args.input, int(limit), args.workers))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
        json.dump({"benchmark": "grouping job (stored entities)", "results": results}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
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
