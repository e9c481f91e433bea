"""``POST /api/triage`` latency under concurrency: the real app, uvicorn, N clients on loopback. Prints JSON.

Starts ``paytriage.adapters.web.app.create_app`` on a temporary SQLite database with uvicorn in a
subprocess on a free loopback port, warms it up, then runs ``--clients`` concurrent httpx clients
(asyncio, one connection each) posting realistic escalation tickets for ``--seconds``. Reports
p50/p95/p99/max latency, requests/s, errors and the load average (the machine may be shared).
Usage: ``python bench/triage_api.py [--clients 20] [--seconds 20] [--workers 1]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from triage import synthetic  # noqa: E402  (bench/ is not a package)

SERVER = textwrap.dedent(
    """
    import sys, uvicorn
    from paytriage.adapters.storage.database import Database
    from paytriage.adapters.web.app import create_app
    app = create_app(database=Database("sqlite:///" + sys.argv[1]))
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def payloads(n: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    subjects = ["Card declined", "Refund missing", "Webhook errors", "Charged twice", "Password", "Payout"]
    return [
        {"id": f"B-{i}", "subject": rng.choice(subjects), "description": t, "requester_id": f"cus_{i % 97}"}
        for i, t in enumerate(synthetic(n, seed))
    ]


async def client(
    http: httpx.AsyncClient, bodies: list[dict[str, object]], stop: float, lat: list[float], errors: list[str]
) -> None:
    i = random.randrange(len(bodies))
    while time.perf_counter() < stop:
        start = time.perf_counter()
        try:
            r = await http.post("/api/triage", json=bodies[i % len(bodies)])
            if r.status_code != 200:
                errors.append(f"HTTP {r.status_code}")
        except httpx.HTTPError as exc:
            errors.append(type(exc).__name__)
        lat.append(time.perf_counter() - start)
        i += 1


async def drive(url: str, clients: int, seconds: float, bodies: list[dict[str, object]]) -> dict[str, object]:
    lat: list[float] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0) as http:
        for b in bodies[:50]:  # warm-up: first request fits the model, then caches fill
            (await http.post("/api/triage", json=b)).raise_for_status()
        start = time.perf_counter()
        stop = start + seconds
        await asyncio.gather(*(client(http, bodies, stop, lat, errors) for _ in range(clients)))
        wall = time.perf_counter() - start
    ms = np.asarray(lat) * 1000
    return {
        "requests": len(lat),
        "errors": len(errors),
        "requests_per_s": round(len(lat) / wall, 1),
        "latency_ms": {
            "p50": round(float(np.percentile(ms, 50)), 2),
            "p95": round(float(np.percentile(ms, 95)), 2),
            "p99": round(float(np.percentile(ms, 99)), 2),
            "max": round(float(ms.max()), 2),
            "mean": round(float(ms.mean()), 2),
        },
    }


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early with code {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("server did not become ready")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--tickets", type=int, default=2000, help="distinct ticket bodies to cycle through")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PAYTRIAGE_ENV": os.environ.get("PAYTRIAGE_ENV", "dev")}
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(Path(tmp) / "bench.db"), str(port)], env=env
        )
        try:
            wait_ready(url, proc)
            before = os.getloadavg()
            result = asyncio.run(drive(url, args.clients, args.seconds, payloads(args.tickets, args.seed)))
            after = os.getloadavg()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    out = {
        "endpoint": "POST /api/triage",
        "clients": args.clients,
        "seconds": args.seconds,
        **result,
        "target_p99_ms": 50,
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in before],
        "load_average_after": [round(x, 2) for x in after],
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
