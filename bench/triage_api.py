"""``POST /api/triage`` latency under concurrency: ``paytriage serve``, N clients on loopback. Prints JSON.

Starts the server exactly as ``paytriage serve --workers W`` does (uvicorn, every worker warm before
it listens) on a temporary SQLite database and a free loopback port, then runs ``--clients``
concurrent keep-alive connections, each posting realistic escalation tickets back to back for
``--seconds`` (a closed loop: a client sends its next request when the last answer arrived).

The client is a few lines of raw HTTP/1.1 over asyncio streams with pre-encoded requests (uvloop
when installed), so it costs far less CPU than the server; its CPU time and the server's (all
worker processes) are reported beside the latencies, with the load average, because the machine
may be shared. Every 25th answer is parsed and checked.
Usage: ``python bench/triage_api.py [--clients 20] [--seconds 20] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from triage import synthetic  # noqa: E402  (bench/ is not a package)

SERVER = (
    "import sys; from paytriage.adapters.cli.serve import serve; "
    "serve(host='127.0.0.1', port=int(sys.argv[1]), workers=int(sys.argv[2]), access_log=False)"
)
KEYS = {"id", "category", "category_confidence", "route", "priority", "redacted_text", "reasons", "extra"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def requests(n: int, seed: int, port: int) -> list[bytes]:
    """Pre-encoded HTTP/1.1 POSTs, so the client spends no time building them."""
    rng = random.Random(seed)
    subjects = ["Card declined", "Refund missing", "Webhook errors", "Charged twice", "Password", "Payout"]
    out = []
    for i, text in enumerate(synthetic(n, seed)):
        body = json.dumps(
            {
                "id": f"B-{i}",
                "subject": rng.choice(subjects),
                "description": text,
                "requester_id": f"cus_{i % 97}",
            }
        ).encode()
        head = (
            f"POST /api/triage HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        out.append(head + body)
    return out


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bytes]:
    """One request/response on a keep-alive connection: (status, body)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise RuntimeError("response without Content-Length (chunked answers are not expected)")
    return status, await reader.readexactly(length)


def check(body: bytes) -> str | None:
    try:
        doc = json.loads(body)
    except ValueError:
        return "invalid JSON"
    missing = KEYS - doc.keys()
    return f"missing {sorted(missing)}" if missing else None


async def client(
    port: int, reqs: list[bytes], start_at: int, stop: float, lat: list[float], errors: list[str]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = start_at
    try:
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            try:
                status, body = await exchange(reader, writer, reqs[i % len(reqs)])
            except (OSError, RuntimeError, asyncio.IncompleteReadError) as exc:
                errors.append(type(exc).__name__)
                return
            lat.append(time.perf_counter() - t0)
            if status != 200:
                errors.append(f"HTTP {status}")
            elif i % 25 == 0 and (problem := check(body)):
                errors.append(problem)
            i += 1
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def drive(port: int, clients: int, seconds: float, reqs: list[bytes]) -> dict[str, object]:
    lat: list[float] = []
    errors: list[str] = []
    # Warm-up: a few requests on every connection, so every server worker has answered some.
    await asyncio.gather(
        *(client(port, reqs, k * 7, time.perf_counter() + 1.0, [], errors) for k in range(clients))
    )
    errors.clear()
    cpu0, server0 = time.process_time(), SERVER_CPU()
    start = time.perf_counter()
    stop = start + seconds
    await asyncio.gather(*(client(port, reqs, k * 101, stop, lat, errors) for k in range(clients)))
    wall = time.perf_counter() - start
    client_cpu, server_cpu = time.process_time() - cpu0, SERVER_CPU() - server0
    ms = np.asarray(lat) * 1000
    return {
        "requests": len(lat),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "requests_per_s": round(len(lat) / wall, 1),
        "latency_ms": {
            "p50": round(float(np.percentile(ms, 50)), 2),
            "p95": round(float(np.percentile(ms, 95)), 2),
            "p99": round(float(np.percentile(ms, 99)), 2),
            "max": round(float(ms.max()), 2),
            "mean": round(float(ms.mean()), 2),
        },
        "cpu_ms_per_request": {
            "server": round(server_cpu / len(lat) * 1000, 3),
            "client": round(client_cpu / len(lat) * 1000, 3),
        },
        "cpu_seconds": {
            "server": round(server_cpu, 2),
            "client": round(client_cpu, 2),
            "wall": round(wall, 2),
        },
    }


class _ServerCpu:
    """CPU seconds (user + system) of a process and all its descendants, from /proc."""

    def __init__(self) -> None:
        self.pid = 0

    def __call__(self) -> float:
        if not self.pid or not Path("/proc/self/stat").exists():
            return float("nan")
        parents: dict[int, int] = {}
        ticks: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid = int(stat.parent.name)
            parents[pid] = int(fields[1])
            ticks[pid] = int(fields[11]) + int(fields[12])
        tree = {self.pid}
        for _ in range(4):  # server → workers (→ their helpers)
            tree |= {p for p, pp in parents.items() if pp in tree}
        return sum(ticks.get(p, 0) for p in tree) / os.sysconf("SC_CLK_TCK")


SERVER_CPU = _ServerCpu()


def wait_ready(port: int, proc: subprocess.Popen[bytes], workers: int, timeout: float = 180.0) -> None:
    """Until the port answers and every worker has logged that it started (they warm up first)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
                s.sendall(
                    f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
                )
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    break
        except OSError:
            pass
        time.sleep(0.3)
    else:
        raise SystemExit("server did not become ready")
    time.sleep(1.0 + 0.5 * workers)  # workers warm their model before serving; give the rest a moment


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=2, help="server processes (paytriage serve --workers)")
    ap.add_argument("--tickets", type=int, default=2000, help="distinct ticket bodies to cycle through")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "PAYTRIAGE_ENV": os.environ.get("PAYTRIAGE_ENV", "dev"),
            "PAYTRIAGE_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}",
            "PAYTRIAGE_DATA_DIR": tmp,
        }
        proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(args.workers)], env=env)
        SERVER_CPU.pid = proc.pid
        try:
            wait_ready(port, proc, args.workers)
            before = os.getloadavg()
            result = asyncio.run(
                drive(port, args.clients, args.seconds, requests(args.tickets, args.seed, port))
            )
            after = os.getloadavg()
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    out = {
        "endpoint": "POST /api/triage",
        "clients": args.clients,
        "server_workers": args.workers,
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
