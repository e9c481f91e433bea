"""Investigation quality and latency on a generated sandbox; prints JSON.

Quality: ingest the sandbox (or reuse ``--db``), assign log templates, triage nothing (investigation
needs only tickets, transactions, logs and releases), investigate every case as of its newest ticket
and score against ``ground_truth``:

* incident tickets: the top hypothesis is systemic and its kind matches the incident (``MATCH``);
* non-incident tickets: no systemic cause (the top hypothesis is not systemic).

Latency (``--latency-events N``): add N synthetic log events (copies of the sandbox's own lines,
spread over the same days with fresh ids, inserted with executemany), then time investigations.

    python bench/investigate.py --sandbox /tmp/sb_inv [--db sqlite:////tmp/x.db] [--limit 500]
    python bench/investigate.py --sandbox /tmp/sb_inv --db sqlite:////tmp/big.db --latency-events 10000000
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import CaseTicketRow, LogEventRow, TicketRow
from paytriage.engines.investigate.hypotheses import HypothesisKind
from paytriage.engines.investigate.investigator import Investigator
from paytriage.services.evaluation import ingest_sandbox
from paytriage.services.investigation import assign_log_templates, investigate_case, load_miner

#: Incident kind (sandbox catalogue) → the hypothesis kind that names its root cause.
MATCH: dict[str, HypothesisKind] = {
    "issuer_outage": HypothesisKind.DECLINE_SPIKE,
    "acs_timeout": HypothesisKind.AUTHENTICATION_SPIKE,
    "webhook_signature": HypothesisKind.WEBHOOK_FAILURES,
    "payout_delay": HypothesisKind.PAYOUT_DELAY,
    "jpy_refund_minor_units": HypothesisKind.AMOUNT_ANOMALY,
    "saml_cert_expired": HypothesisKind.AUTH_ERRORS,
    "api_rate_limit": HypothesisKind.RATE_LIMITING,
    "duplicate_charge_retry": HypothesisKind.DUPLICATE_SUBMISSION,
    "kyc_upload_filetype": HypothesisKind.UPLOAD_FAILURES,
    "topup_pending": HypothesisKind.PENDING_SPIKE,
}


def _truth(sandbox: Path) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    with (sandbox / "ground_truth" / "tickets.csv").open(encoding="utf-8") as fh:
        tickets = {r["ticket_id"]: r["incident_id"] for r in csv.DictReader(fh)}
    doc = json.loads((sandbox / "ground_truth" / "incidents.json").read_text(encoding="utf-8"))
    return tickets, {i["id"]: i for i in doc["incidents"]}


def quality(
    db: Database, sandbox: Path, investigator: Investigator, limit: int | None, seed: int
) -> dict[str, Any]:
    truth, incidents = _truth(sandbox)
    with db.session() as s:
        pairs = s.execute(
            select(CaseTicketRow.case_id, TicketRow.external_id)
            .join(TicketRow, TicketRow.id == CaseTicketRow.ticket_id)
            .order_by(CaseTicketRow.case_id, TicketRow.created_at)
        ).all()
    first: dict[int, str] = {}
    for case_id, ext in pairs:
        first.setdefault(case_id, ext)
    cases = sorted(first.items())
    if limit and limit < len(cases):
        cases = sorted(random.Random(seed).sample(cases, limit))
    per_kind: dict[str, Counter[str]] = {}
    confusions: Counter[str] = Counter()
    non_ok = non_n = inc_ok = inc_n = comp_ok = 0
    times: list[float] = []
    false_systemic: Counter[str] = Counter()
    for case_id, ext in cases:
        with db.session() as s:
            inv = investigate_case(s, case_id, investigator=investigator)
        times.append(inv.elapsed_ms)
        top = inv.systemic_cause
        inc_id = truth.get(ext, "")
        if inc_id:
            inc = incidents[inc_id]
            want = MATCH[inc["kind"]]
            ok = top is not None and top.kind is want
            inc_n += 1
            inc_ok += ok
            comp_ok += bool(ok and top is not None and top.component == inc["component"])
            c = per_kind.setdefault(inc["kind"], Counter())
            c["n"] += 1
            c["ok"] += ok
            if not ok:
                confusions[f"{inc['kind']} -> {top.kind.value if top else 'none'}"] += 1
        else:
            non_n += 1
            non_ok += top is None
            if top is not None:
                false_systemic[top.kind.value] += 1
    return {
        "cases": len(cases),
        "incident_tickets": inc_n,
        "incident_top_hypothesis_right": round(inc_ok / inc_n, 4) if inc_n else None,
        "incident_component_also_right": round(comp_ok / inc_n, 4) if inc_n else None,
        "non_incident_tickets": non_n,
        "non_incident_left_without_systemic_cause": round(non_ok / non_n, 4) if non_n else None,
        "per_incident_kind": {k: round(c["ok"] / c["n"], 3) for k, c in sorted(per_kind.items())},
        "top_confusions": dict(confusions.most_common(10)),
        "false_systemic_kinds": dict(false_systemic.most_common()),
        "latency_ms_p50": round(statistics.median(times), 1) if times else None,
        "latency_ms_p99": round(sorted(times)[int(0.99 * (len(times) - 1))], 1) if times else None,
    }


def add_synthetic_logs(db: Database, n: int, seed: int, batch: int = 50_000) -> float:
    """Copies of stored log rows with fresh ids and fingerprints, jittered within the same days."""
    rng = random.Random(seed)
    t0 = time.perf_counter()
    with db.session() as s:
        proto = [dict(r._mapping) for r in s.execute(select(LogEventRow.__table__)).all()]
    if not proto:
        raise SystemExit("no log events to copy; ingest a sandbox first")
    table = LogEventRow.__table__
    done = 0
    with db.engine.begin() as conn:
        while done < n:
            rows = []
            for k in range(min(batch, n - done)):
                p = proto[rng.randrange(len(proto))]
                r = dict(p)
                del r["id"]
                i = done + k
                r["fingerprint"] = f"syn{seed}-{i:012d}"
                r["timestamp"] = p["timestamp"] + timedelta(seconds=rng.uniform(-43200, 43200))
                if r["transaction_id"]:
                    r["transaction_id"] = f"syn_{i:012d}"
                if r["request_id"]:
                    r["request_id"] = f"synreq_{i:012d}"
                rows.append(r)
            conn.execute(insert(table), rows)
            done += len(rows)
            print(f"  inserted {done:,}", file=sys.stderr)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sandbox", type=Path, required=True)
    ap.add_argument(
        "--db", help="database URL; ingested when it holds no tickets (default: temporary SQLite)"
    )
    ap.add_argument("--limit", type=int, help="investigate a random sample of this many cases")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--latency-events", type=int, default=0, help="grow log_events to this many rows first")
    ap.add_argument("--latency-cases", type=int, default=200)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-inv-")
    url = args.db or f"sqlite:///{tmp}/bench.db"
    db = Database(url)
    db.ensure_schema()
    out: dict[str, Any] = {"database": db.engine.dialect.name}
    with db.session() as s:
        have = s.scalar(select(func.count()).select_from(TicketRow)) or 0
    if not have:
        t0 = time.perf_counter()
        ingest_sandbox(db, args.sandbox)
        out["ingest_s"] = round(time.perf_counter() - t0, 1)
    state = (
        Path(url.replace("sqlite:///", "") + ".templates.json")
        if url.startswith("sqlite")
        else Path(tmp) / "t.json"
    )
    t0 = time.perf_counter()
    out["templates_assigned"] = assign_log_templates(db, state_path=state)
    out["assign_s"] = round(time.perf_counter() - t0, 1)
    with db.session() as s:
        n_logs = s.scalar(select(func.count()).select_from(LogEventRow)) or 0
    if args.latency_events > n_logs:
        out["synthetic_insert_s"] = round(add_synthetic_logs(db, args.latency_events - n_logs, args.seed), 1)
        with db.session() as s:
            n_logs = s.scalar(select(func.count()).select_from(LogEventRow)) or 0
    out["log_events"] = n_logs
    investigator = Investigator(miner=load_miner(state))
    limit = args.latency_cases if args.latency_events else args.limit
    out["quality"] = quality(db, args.sandbox, investigator, limit, args.seed)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
