"""Investigation quality and latency on a generated sandbox; prints JSON.

Quality: ingest the sandbox (or reuse ``--db``), assign log templates, triage nothing (investigation
needs only tickets, transactions, logs and releases), investigate every case as of its newest ticket
and score against ``ground_truth``:

* incident tickets: the top hypothesis is systemic and its kind matches the incident (``MATCH``);
* non-incident tickets: no systemic cause (the top hypothesis is not systemic).

Latency (``--latency-events N``): add N synthetic log events (copies of the sandbox's own lines,
jittered within ±12 h, fresh ids; loaded with INSERT … SELECT in SQLite, secondary indexes rebuilt
after), then time investigations of random cases and of one case repeated.

    python bench/investigate.py --sandbox /tmp/sb_inv [--db sqlite:////tmp/x.db] [--limit 500]
    python bench/investigate.py --sandbox /tmp/sb_inv --db sqlite:////tmp/big.db --latency-events 10000000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

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


def add_synthetic_logs(db: Database, target: int) -> float:
    """Grow ``log_events`` to ``target`` rows with jittered copies of the stored ones (SQLite, pure SQL).

    Copy ``k`` of row ``id`` moves by a pseudo-random offset within ±12 h, keeps its message and
    template id, and gets its own fingerprint, transaction id and request id (so indexed lookups stay
    selective). Secondary indexes are dropped during the load and rebuilt after (same definitions).
    """
    if db.engine.dialect.name != "sqlite":
        raise SystemExit("--latency-events loads synthetic rows into SQLite only")
    t0 = time.perf_counter()
    table = LogEventRow.__table__
    with db.engine.begin() as conn:
        have = conn.execute(select(func.count()).select_from(table)).scalar_one()
        base = conn.execute(select(func.max(table.c.id))).scalar_one()
        indexes = list(table.indexes)
        for idx in indexes:
            idx.drop(conn)
        copy = 0
        while have < target:
            copy += 1
            room = target - have
            conn.exec_driver_sql(
                "INSERT INTO log_events (fingerprint, source, timestamp, service, level, message, "
                "transaction_id, request_id, merchant_id, customer_id, http_status, error_code, template_id, "
                "attributes) "
                "SELECT 'syn' || ? || '-' || id, source, "
                "strftime('%Y-%m-%d %H:%M:%f', timestamp, ((id * 7919 + ? * 104729) % 86400 - 43200) "
                "|| ' seconds') || '000', service, level, message, "
                "CASE WHEN transaction_id IS NULL THEN NULL ELSE transaction_id || '~' || ? END, "
                "CASE WHEN request_id IS NULL THEN NULL ELSE request_id || '~' || ? END, "
                "merchant_id, customer_id, http_status, error_code, template_id, attributes "
                "FROM log_events WHERE id <= ? ORDER BY id LIMIT ?",
                (copy, copy, copy, copy, base, room),
            )
            have = conn.execute(select(func.count()).select_from(table)).scalar_one()
            print(f"  {have:,} rows", file=sys.stderr)
        for idx in indexes:
            idx.create(conn)
        conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - t0


def latency(db: Database, investigator: Investigator, n_cases: int, repeat: int, seed: int) -> dict[str, Any]:
    """Each of ``n_cases`` random cases once (after one warm-up), and one incident case ``repeat`` times."""
    with db.session() as s:
        ids = sorted(s.scalars(select(CaseTicketRow.case_id).distinct()))
    sample = random.Random(seed).sample(ids, min(n_cases, len(ids)))
    with db.session() as s:
        investigate_case(s, sample[0], investigator=investigator)

    cpu: list[float] = []

    def timed(case_id: int) -> float:
        t, c = time.perf_counter(), time.process_time()
        with db.session() as s:
            investigate_case(s, case_id, investigator=investigator)
        cpu.append((time.process_time() - c) * 1000)  # this process only: SQLite runs in it
        return (time.perf_counter() - t) * 1000

    per_case = sorted(timed(c) for c in sample)
    per_case_cpu = sorted(cpu)
    one = sorted(timed(sample[0]) for _ in range(repeat))

    def pct(xs: list[float], q: float) -> float:
        return round(xs[min(len(xs) - 1, int(q * len(xs)))], 1)

    return {
        "cases": len(per_case),
        "per_case_ms_p50": pct(per_case, 0.5),
        "per_case_ms_p95": pct(per_case, 0.95),
        "per_case_ms_p99": pct(per_case, 0.99),
        "per_case_ms_max": round(per_case[-1], 1),
        "per_case_cpu_ms_p50": pct(per_case_cpu, 0.5),
        "per_case_cpu_ms_p95": pct(per_case_cpu, 0.95),
        "per_case_cpu_ms_p99": pct(per_case_cpu, 0.99),
        "one_case_id": sample[0],
        "one_case_repeat": repeat,
        "one_case_ms_p50": pct(one, 0.5),
        "one_case_ms_p99": pct(one, 0.99),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
    }


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
    ap.add_argument("--repeat", type=int, default=50, help="repeats of one case in the latency run")
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
        out["synthetic_load_s"] = round(add_synthetic_logs(db, args.latency_events), 1)
        with db.session() as s:
            n_logs = s.scalar(select(func.count()).select_from(LogEventRow)) or 0
    out["log_events"] = n_logs
    investigator = Investigator(miner=load_miner(state))
    if args.latency_events:
        out["latency"] = latency(db, investigator, args.latency_cases, args.repeat, args.seed)
    else:
        out["quality"] = quality(db, args.sandbox, investigator, args.limit, args.seed)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
