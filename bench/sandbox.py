"""Benchmark sandbox generation: tickets/s, log lines/s, CPU seconds and peak RSS, printed as JSON.

python bench/sandbox.py --tickets 100000 --days 120 --out /tmp/sbx-100k
nice -n 10 python bench/sandbox.py --tickets 1000000 --out /tmp/sbx-1m --progress 2000  # ~50M log lines

Log volume follows the transaction count (about 5 lines per transaction, ``--tx-per-ticket`` 8 by
default); ``--days`` mostly stretches the timeline. ``--progress N`` prints a JSON line to stderr every
N simulated hours so a long run can be watched (and extrapolated) while it goes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

from paytriage.sandbox import SandboxConfig, generate


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=None, help="default: 30, or tickets/800 for large runs")
    ap.add_argument("--tx-per-ticket", type=float, default=8.0, help="background transactions per ticket")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--progress", type=int, default=0, metavar="HOURS", help="report every HOURS sim hours")
    args = ap.parse_args(argv)
    days = args.days or max(30, args.tickets // 800)
    started = time.perf_counter()
    cpu0 = _cpu()

    def report(done: int, total: int) -> None:
        if args.progress and (done % args.progress == 0 or done == total):
            line = {
                "hours": done,
                "of": total,
                "wall_s": round(time.perf_counter() - started, 1),
                "cpu_s": round(_cpu() - cpu0, 1),
                "peak_rss_mb": _rss_mb(),
                "load": round(os.getloadavg()[0], 2),
            }
            print(json.dumps(line), file=sys.stderr, flush=True)

    cfg = SandboxConfig(seed=args.seed, tickets=args.tickets, days=days, tx_per_ticket=args.tx_per_ticket)
    manifest = generate(cfg, args.out, progress=report)
    seconds = time.perf_counter() - started
    cpu = _cpu() - cpu0
    counts = manifest["counts"]
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    result = {
        "tickets": counts["tickets"],
        "days": days,
        "transactions": counts["transactions"],
        "log_lines": counts["log_lines"],
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "tickets_per_s": round(counts["tickets"] / seconds, 1),
        "log_lines_per_s": round(counts["log_lines"] / seconds),
        "log_lines_per_cpu_s": round(counts["log_lines"] / cpu),
        "peak_rss_mb": _rss_mb(),
        "output_bytes": size,
        "output_mb": round(size / 2**20, 1),
        "load_avg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
    }
    if not args.keep:
        shutil.rmtree(args.out, ignore_errors=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
