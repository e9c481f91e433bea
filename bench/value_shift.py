"""Order-of-magnitude amount shifts in logs: paytriage's streaming detector against ruptures (PELT).

    .venv/bin/python bench/value_shift.py /tmp/g/sb7 /tmp/g/sb11 ...   # sandbox directories

Each sandbox's log files are ingested into a temporary SQLite database, the lines that carry an
amount are read back in time order and split into streams (service, line template, amount field,
currency), exactly as ``ValueShiftDetector`` keys them. Two detectors then run online, line by
line:

* **paytriage**: ``ValueShiftDetector`` with its defaults.
* **ruptures**: at each line whose amount is at least one decade from its stream's median so far
  (the same gate paytriage uses), PELT (``model="l2"`` on log10 amounts, ``min_size=5``, penalty
  ``F · ln(n) · σ²``, F = ``--pen-factor`` (default 3), σ from the window's MAD) over the stream's
  last 200 amounts; an alert when
  the last change point leaves at least 5 amounts after it whose median is a decade or more from
  the median before it, then the stream is quiet for 24 h.

An alert counts as *during an incident* when it falls between one hour before a ground-truth
incident's start and its end (any incident: a payout delay also moves payout amounts). Printed as
JSON: alerts in and out of incidents, how many minutes after each JPY-refund incident began its
refund stream first alerted, and detection CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np
import ruptures as rpt
from sqlalchemy import or_, select

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import LogEventRow
from paytriage.domain.clock import ensure_utc
from paytriage.engines.patterns.log_signals import log_template, novelty_key, service_name
from paytriage.engines.patterns.value_shift import ValueShiftDetector, amount_readings
from paytriage.services.ingest import IngestKind, ingest_file

__all__ = ["main"]

Line = tuple[datetime, str, str, dict[str, Any] | None]  # time, service, message, attributes


def _lines(sandbox: Path, workdir: Path) -> list[Line]:
    db = Database(f"sqlite:///{workdir / (sandbox.name + '.db')}")
    db.migrate()
    for path in sorted((sandbox / "logs").iterdir()):
        ingest_file(db, path, IngestKind.LOGS)
    with db.session() as s:
        rows = s.execute(
            select(LogEventRow.timestamp, LogEventRow.service, LogEventRow.source, LogEventRow.message,
                   LogEventRow.attributes)
            .where(or_(LogEventRow.message.like("%amount%"),
                       LogEventRow.attributes["amount"].as_string().is_not(None)))
            .order_by(LogEventRow.timestamp, LogEventRow.id)
        ).all()  # fmt: skip
    db.dispose()
    return [(ensure_utc(r[0]), service_name(r[1] or r[2]), r[3], r[4] if isinstance(r[4], dict) else None)
            for r in rows]  # fmt: skip


def _ours(lines: Sequence[Line]) -> list[tuple[datetime, str]]:
    det = ValueShiftDetector()
    out = []
    for n, (when, svc, msg, attrs) in enumerate(lines):
        out += [(b.detected_at, b.signal) for b in det.observe(str(n), when, svc, msg, attrs)[1]]
    return out


def _ruptures(
    lines: Sequence[Line], pen_factor: float = 3.0, window: int = 200, min_size: int = 5
) -> list[tuple[datetime, str]]:
    streams: dict[str, list[float]] = defaultdict(list)
    quiet: dict[str, datetime] = {}
    out = []
    for when, svc, msg, attrs in lines:
        template = novelty_key(log_template(msg))
        for r in amount_readings(msg, attrs):
            key = f"log:{svc}:value:{r.key}:{r.currency or '-'}:{template}"
            values = streams[key]
            values.append(math.log10(r.value))
            if len(values) < 20 + min_size or abs(values[-1] - median(values[:-1])) < 1.0:
                continue
            if key in quiet and when < quiet[key]:
                continue
            x = np.asarray(values[-window:])
            mad = float(np.median(np.abs(x - np.median(x)))) * 1.4826 or 0.1
            breaks = (
                rpt.Pelt(model="l2", min_size=min_size, jump=1)
                .fit(x)
                .predict(pen=pen_factor * math.log(len(x)) * mad**2)
            )
            cut = breaks[-2] if len(breaks) > 1 else None  # the last element is len(x)
            if cut is None or len(x) - cut < min_size:
                continue
            if abs(float(np.median(x[cut:])) - float(np.median(x[:cut]))) >= 1.0:
                out.append((when, key))
                quiet[key] = when + timedelta(hours=24)
    return out


def _score(alerts: list[tuple[datetime, str]], incidents: list[dict[str, Any]]) -> dict[str, Any]:
    def span(i: dict[str, Any]) -> tuple[datetime, datetime]:
        start = datetime.fromisoformat(i["start"].replace("Z", "+00:00"))
        return start, datetime.fromisoformat(i["end"].replace("Z", "+00:00"))

    inside = sum(
        1 for t, _ in alerts if any(s - timedelta(hours=1) <= t <= e for s, e in map(span, incidents))
    )
    jpy = {}
    for inc in incidents:
        if inc["kind"] != "jpy_refund_minor_units":
            continue
        s, e = span(inc)
        hits = [
            t for t, sig in alerts if ":JPY:" in sig and "efund" in sig and s - timedelta(hours=1) <= t <= e
        ]
        jpy[inc["id"]] = round((min(hits) - s).total_seconds() / 60, 1) if hits else None
    return {"alerts": len(alerts), "during_incidents": inside, "outside_incidents": len(alerts) - inside,
            "jpy_refund_minutes_after_start": jpy}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "sandboxes", nargs="+", type=Path, help="directories from `paytriage sandbox generate`"
    )
    parser.add_argument("--pen-factor", type=float, default=3.0, help="PELT penalty = factor · ln(n) · σ²")
    args = parser.parse_args(argv)
    out: dict[str, Any] = {"sandboxes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for sb in args.sandboxes:
            incidents = json.loads((sb / "ground_truth" / "incidents.json").read_text())["incidents"]
            lines = _lines(sb, Path(tmp))
            row: dict[str, Any] = {"amount_lines": len(lines)}
            runs = (("paytriage", _ours), ("ruptures_pelt", lambda x: _ruptures(x, args.pen_factor)))
            for name, run in runs:
                t = time.process_time()
                alerts = run(lines)
                row[name] = _score(alerts, incidents) | {"cpu_s": round(time.process_time() - t, 2)}
            out["sandboxes"][sb.name] = row
            print(json.dumps({sb.name: row}), file=sys.stderr, flush=True)
    for name in ("paytriage", "ruptures_pelt"):
        rows = [r[name] for r in out["sandboxes"].values()]
        delays = [d for r in rows for d in r["jpy_refund_minutes_after_start"].values()]
        out[name] = {
            "alerts": sum(r["alerts"] for r in rows),
            "outside_incidents": sum(r["outside_incidents"] for r in rows),
            "jpy_incidents_found": sum(d is not None for d in delays),
            "jpy_incidents": len(delays),
            "jpy_median_minutes": median(found) if (found := [d for d in delays if d is not None]) else None,
            "cpu_s": round(sum(r["cpu_s"] for r in rows), 2),
        }  # fmt: skip
    out["ruptures_pelt"]["pen_factor"] = args.pen_factor
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
