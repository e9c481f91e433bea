"""Benchmark sandbox generation: tickets/s, log lines/s and peak RSS, printed as JSON.

python bench/sandbox.py --tickets 100000 --days 120 --out /tmp/sbx-100k
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import time
from pathlib import Path

from paytriage.sandbox import SandboxConfig, generate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=None, help="default: 30, or tickets/800 for large runs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args(argv)
    days = args.days or max(30, args.tickets // 800)
    started = time.perf_counter()
    manifest = generate(SandboxConfig(seed=args.seed, tickets=args.tickets, days=days), args.out)
    seconds = time.perf_counter() - started
    counts = manifest["counts"]
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    result = {
        "tickets": counts["tickets"],
        "days": days,
        "transactions": counts["transactions"],
        "log_lines": counts["log_lines"],
        "seconds": round(seconds, 2),
        "tickets_per_s": round(counts["tickets"] / seconds, 1),
        "log_lines_per_s": round(counts["log_lines"] / seconds),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "output_mb": round(size / 2**20, 1),
        "python": sys.version.split()[0],
    }
    if not args.keep:
        shutil.rmtree(args.out, ignore_errors=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
