"""Ingest throughput and peak memory: rows/s and peak RSS for N tickets on SQLite and PostgreSQL.

    python bench/ingest.py --rows 100000 --rows 1000000 [--postgres]

Generates a CSV of realistic tickets (some with card numbers to mask), ingests it into a fresh
database in a child process per run (so peak RSS is that run's own), and prints JSON lines.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PHRASES = [
    "my card ending {l4} was declined at checkout with code 05, please help",
    "payment of {amt} EUR stuck pending since yesterday, order {oid}",
    "I was charged twice for order {oid}, card 4111 1111 1111 1111",
    "refund for {oid} not received after 10 days",
    "webhooks failing with signature mismatch since the update",
]


def make_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "created_at", "subject", "description", "requester_email", "tags", "merchant_id"])
        for i in range(rows):
            desc = PHRASES[i % len(PHRASES)].format(
                l4=f"{i % 10000:04d}", amt=f"{i % 500}.{i % 100:02d}", oid=f"ord_{i:08d}"
            )
            day = 1 + (i % 28)
            w.writerow(
                [
                    f"B{i}",
                    f"2026-10-{day:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
                    f"ticket {i}",
                    desc,
                    f"user{i % 50000}@example.org",
                    "bench;ingest",
                    f"mer_{i % 300}",
                ]
            )


def child(url: str, path: str) -> None:
    from paytriage.adapters.storage.database import Database
    from paytriage.services.ingest import IngestKind, ingest_file

    db = Database(url)
    db.migrate()
    t0 = time.perf_counter()
    report = ingest_file(db, Path(path), IngestKind.TICKETS)
    elapsed = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "created": report.created,
                "seconds": round(elapsed, 2),
                "rows_per_s": round(report.created / elapsed),
                "peak_rss_mb": round(rss_mb, 1),
                "masked": report.redactions,
            }
        )
    )


def run(backend: str, url: str, csv_path: Path, rows: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", url, str(csv_path)], capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {"backend": backend, "rows": rows, **result}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, action="append")
    ap.add_argument("--postgres", action="store_true", help="also run on a throwaway PostgreSQL server")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    server = None
    pg_url = None
    if args.postgres:
        from tests.pg_server import PostgresServer

        server = PostgresServer()
        pg_url = server.start()
    try:
        for rows in args.rows or [100_000]:
            with tempfile.TemporaryDirectory() as tmp:
                csv_path = Path(tmp) / "tickets.csv"
                make_csv(csv_path, rows)
                print(
                    json.dumps(
                        {
                            **run("sqlite", f"sqlite:///{tmp}/bench.db", csv_path, rows),
                            "machine": platform.machine(),
                            "python": platform.python_version(),
                        }
                    ),
                    flush=True,
                )
                if pg_url:
                    from sqlalchemy import create_engine, text

                    name = f"bench_{rows}"
                    eng = create_engine(pg_url, isolation_level="AUTOCOMMIT")
                    with eng.connect() as c:
                        c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
                        c.execute(text(f"CREATE DATABASE {name}"))
                    eng.dispose()
                    print(
                        json.dumps(run("postgresql", pg_url.rsplit("/", 1)[0] + f"/{name}", csv_path, rows)),
                        flush=True,
                    )
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
