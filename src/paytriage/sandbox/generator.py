"""Drive the simulation hour by hour and stream every output file to disk.

Memory is bounded by one simulated hour of logs and transactions plus the tickets still "in flight"
(problem happened, customer has not written yet), never by the total size of the run.
"""

from __future__ import annotations

import csv
import heapq
import json
import math
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from paytriage.domain.errors import InputError
from paytriage.sandbox.cases import Case, background_case, incident_case, not_needed_case
from paytriage.sandbox.connector_logs import ConnectorLogs
from paytriage.sandbox.incidents import Incident, parse_spec, release_component, schedule
from paytriage.sandbox.logs import LogSink, compact_json, iso
from paytriage.sandbox.noise import hourly_noise
from paytriage.sandbox.releases import plan_releases
from paytriage.sandbox.statements import StatementWriter
from paytriage.sandbox.tickets import GT_COLUMNS, SURVEY_COLUMNS, TicketWriter
from paytriage.sandbox.traffic import Traffic
from paytriage.sandbox.world import build_world

__all__ = ["SANDBOX_VERSION", "SandboxConfig", "generate"]

SANDBOX_VERSION = "2026-11-23"


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """Everything that determines a sandbox; the same config always gives byte-identical files."""

    seed: int = 42
    tickets: int = 2000
    days: int = 30
    start: datetime = field(default_factory=lambda: datetime(2026, 1, 5, tzinfo=UTC))
    incidents: str | None = None
    incident_share: float = 0.2
    tx_per_ticket: float = 8.0

    def validate(self) -> None:
        if self.tickets < 1:
            raise InputError("--tickets must be at least 1", field="tickets")
        if self.days < 1:
            raise InputError("--days must be at least 1", field="days")
        if not 0.0 <= self.incident_share <= 0.6:
            raise InputError("incident share must be between 0 and 0.6", field="incident_share")
        if self.tx_per_ticket < 0:
            raise InputError("transactions per ticket must not be negative", field="tx_per_ticket")


def _diurnal(hours: int, start: datetime) -> np.ndarray:
    idx = np.arange(hours)
    hod = (idx + start.hour) % 24
    dow = ((idx + start.hour) // 24 + start.weekday()) % 7
    w = 0.25 + np.exp(-(((hod - 14.0) / 5.0) ** 2))
    w = w * np.where(dow >= 5, 0.7, 1.0)
    return np.asarray(w / w.sum(), dtype=float)


def generate(
    cfg: SandboxConfig, out: Path, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Write a sandbox into ``out`` and return its manifest."""
    cfg.validate()
    counts = parse_spec(cfg.incidents, cfg.days)
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("logs", "statements", "ground_truth"):
        (out / sub).mkdir(exist_ok=True)
    seed = cfg.seed
    rng = random.Random(f"{seed}:plan")
    npr = np.random.default_rng(seed)
    world = build_world(random.Random(f"{seed}:world"), cfg.tickets)
    hours = cfg.days * 24
    t_start = cfg.start.timestamp()
    t_end = t_start + hours * 3600.0

    n_not_needed = round(cfg.tickets * rng.uniform(0.17, 0.23))
    inc_budget = round(cfg.tickets * cfg.incident_share) if counts else 0
    incidents = schedule(counts, random.Random(f"{seed}:incidents"), world, t_start, hours, inc_budget)
    room = cfg.tickets - n_not_needed
    total_inc = sum(i.n_tickets for i in incidents)
    if total_inc > room:
        for inc in incidents:
            inc.n_tickets = inc.n_tickets * room // total_inc
        total_inc = sum(i.n_tickets for i in incidents)
    n_background = cfg.tickets - n_not_needed - total_inc

    weights = _diurnal(hours, cfg.start)
    bg_per_hour = npr.multinomial(n_background, weights)
    nn_per_hour = npr.multinomial(n_not_needed, weights)
    tx_per_hour = npr.poisson(cfg.tickets * cfg.tx_per_ticket * weights)
    inc_hours: dict[str, np.ndarray] = {}
    for inc in incidents:
        span = max(1, math.ceil((inc.end - inc.start) / 3600.0))
        decay = np.exp(-np.arange(span) / max(1.0, span / 2.5))  # most reports early, a tail later
        inc_hours[inc.id] = npr.multinomial(inc.n_tickets, decay / decay.sum())

    releases = plan_releases(random.Random(f"{seed}:releases"), incidents, t_start, t_end)
    sink = LogSink(out / "logs")
    statements = StatementWriter(out / "statements", random.Random(f"{seed}:banks"))
    connector = ConnectorLogs(random.Random(f"{seed}:connector"), sink)
    for inc in incidents:
        if inc.kind.name == "topup_pending":
            connector.stall(inc.segment["partner_bank"], inc.start, inc.end)
    traffic = Traffic(
        random.Random(f"{seed}:traffic"),
        sink,
        out / "transactions.jsonl",
        incidents,
        statements,
        t_end,
        connector=connector,
    )
    writer = TicketWriter(random.Random(f"{seed}:text"))
    case_rng = random.Random(f"{seed}:cases")
    tick_rng = random.Random(f"{seed}:ticks")
    pending: list[tuple[float, int, Case]] = []
    seq = 0
    n_written = 0
    by_id = {i.id: i for i in incidents}

    with (
        (out / "tickets.jsonl").open("w", encoding="utf-8", newline="\n") as tf,
        (out / "ground_truth" / "tickets.csv").open("w", encoding="utf-8", newline="") as gf,
        (out / "surveys.csv").open("w", encoding="utf-8", newline="") as sf,
    ):
        gt = csv.DictWriter(gf, fieldnames=GT_COLUMNS, lineterminator="\n")
        gt.writeheader()
        sv = csv.DictWriter(sf, fieldnames=SURVEY_COLUMNS, lineterminator="\n")
        sv.writeheader()

        def release_tickets(until: float) -> None:
            nonlocal n_written
            while pending and pending[0][0] < until:
                created, _, case = heapq.heappop(pending)
                n_written += 1
                tid = f"T-{n_written:07d}"
                ticket, row = writer.render(case, tid, created)
                tf.write(compact_json(ticket) + "\n")
                gt.writerow(row)
                survey = writer.survey(case, tid, created)
                if survey:
                    sv.writerow(survey)
                if case.incident is not None:
                    case.incident.ticket_ids.append(tid)

        day = cfg.start.date()
        for h in range(hours):
            t0 = t_start + h * 3600.0
            cur_day = (cfg.start + timedelta(hours=h)).date()
            if cur_day != day:
                statements.close_day(day)
                day = cur_day
            traffic.set_time(t0)
            if (cfg.start.hour + h) % 24 == 5:
                for m in world.merchants:
                    if traffic.rng.random() < {"enterprise": 0.9, "mid-market": 0.4, "small": 0.12}[m.tier]:
                        traffic.payout(t0 + traffic.rng.uniform(0, 1800), m, size=m.volume / 5)
            hourly_noise(traffic, world, t0, int(tx_per_hour[h]))
            connector.hour(t0)
            new: list[tuple[float, Case]] = []
            for _ in range(int(bg_per_hour[h])):
                t = t0 + case_rng.uniform(0, 3600)
                new.append((t + _delay(tick_rng, 10800, 1.0), background_case(case_rng, traffic, world, t)))
            for _ in range(int(nn_per_hour[h])):
                t = t0 + case_rng.uniform(0, 3600)
                new.append((t + _delay(tick_rng, 3600, 1.0), not_needed_case(case_rng, traffic, world, t)))
            for inc_id, per in inc_hours.items():
                inc = by_id[inc_id]
                first_hour = int((inc.start - t_start) // 3600)
                k = h - first_hour
                if 0 <= k < len(per):
                    lo = max(t0, float(inc.start))
                    hi = min(t0 + 3600.0, float(inc.end))
                    for _ in range(int(per[k])):
                        t = case_rng.uniform(lo, max(lo, hi - 1))
                        new.append(
                            (t + _delay(tick_rng, 1500, 0.8), incident_case(case_rng, traffic, world, t, inc))
                        )
            for created, case in new:
                seq += 1
                heapq.heappush(pending, (created, seq, case))
            release_tickets(t0 + 3600.0)
            sink.flush(until=t0 + 3600.0)
            traffic.flush()
            if progress is not None:
                progress(h + 1, hours)
        release_tickets(math.inf)
        statements.close_day(day)
    sink.close()
    traffic.close()
    statements.close()
    _write_releases(out / "releases.csv", releases)
    world.write_merchants(out / "merchants.csv")
    _write_incidents(out / "ground_truth" / "incidents.json", incidents)
    manifest = {
        "generator": "paytriage.sandbox",
        "version": SANDBOX_VERSION,
        "seed": seed,
        "config": {**asdict(cfg), "start": cfg.start.isoformat()},
        "counts": {
            "tickets": n_written,
            "not_needed": n_not_needed,
            "incident_tickets": total_inc,
            "transactions": traffic.count,
            "log_lines": sink.lines,
            "incidents": len(incidents),
            "merchants": len(world.merchants),
            "customers": len(world.customers),
            "releases": len(releases),
            "statement_entries": statements.entries,
            "tickets_with_pan": writer.pan_pasted,
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _delay(rng: random.Random, median_s: float, sigma: float) -> float:
    return min(3 * 86400.0, rng.lognormvariate(math.log(median_s), sigma))


def _write_releases(path: Path, releases: list[tuple[float, str, str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(("component", "version", "released_at", "notes"))
        for t, comp, version, notes in sorted(releases):
            w.writerow((comp, version, iso(t), notes))


def _write_incidents(path: Path, incidents: list[Incident]) -> None:
    doc = []
    for inc in incidents:
        comp = release_component(inc.kind.name)
        doc.append(
            {
                "id": inc.id,
                "kind": inc.kind.name,
                "start": iso(inc.start),
                "end": iso(inc.end),
                "affected_segment": inc.segment,
                "root_cause": inc.root_cause,
                "component": inc.segment.get("integration") if comp == "sdk" else inc.kind.component,
                "category": inc.kind.category,
                "route": inc.kind.route,
                "priority": inc.kind.priority,
                "release": list(inc.release) if inc.release else None,
                "ticket_ids": inc.ticket_ids,
                "merchants": sorted(inc.merchants),
                "transaction_ids": inc.transactions,
                "money_minor_by_currency": dict(sorted(inc.money.items())),
            }
        )
    with path.open("w", encoding="utf-8") as fh:  # streamed: at 1M tickets the document is tens of MB
        json.dump({"version": SANDBOX_VERSION, "incidents": doc}, fh, indent=1, ensure_ascii=False)
        fh.write("\n")
