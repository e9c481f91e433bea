"""Zendesk import benchmark: rows/s from the loopback contract server, and resumability after a kill.

Runs a fake Zendesk (tests/contract) in this process, then:

1. a clean import of N tickets in a child process (rows/s; requests validated, responses not);
2. a second import killed with SIGKILL once ``--kill-after-pages`` pages are committed, then resumed in a
   new child until the end of the stream;
3. checks the resumed output: every id 1..N exactly once, every line valid JSON.

Requests are validated against Zendesk's OpenAPI document when ``--spec-dir`` holds it; responses are
sampled (``--validate-every``) because validating a 1,000-ticket page costs seconds. Prints JSON.

    .venv/bin/python bench/zendesk_import.py --tickets 100000 --spec-dir ../shared/data/api_specs
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

EMAIL, TOKEN = "agent@example.com", "bench-token"


def _child(url: str, cursor_file: Path, out: Path, per_page: int) -> None:
    from pydantic import SecretStr

    from paytriage.adapters.connectors.zendesk import ZendeskClient, ZendeskCredentials, import_to_jsonl

    with ZendeskClient(ZendeskCredentials(url, EMAIL, SecretStr(TOKEN)), timeout=120) as client:
        import_to_jsonl(client, cursor_file=cursor_file, out=out, per_page=per_page)


def _run_child(url: str, cursor_file: Path, out: Path, per_page: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, __file__, "--child", url, str(cursor_file), str(out), "--per-page", str(per_page)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _committed_pages(cursor_file: Path) -> int:
    try:
        return int(json.loads(cursor_file.read_text(encoding="utf-8")).get("pages", 0))
    except (OSError, ValueError):
        return 0


def _check(out: Path, n: int) -> dict[str, Any]:
    ids: list[int] = []
    bad = 0
    with out.open(encoding="utf-8") as f:
        for line in f:
            try:
                ids.append(int(json.loads(line)["id"]))
            except (ValueError, KeyError):
                bad += 1
    unique = set(ids)
    return {
        "lines": len(ids) + bad,
        "unique_ids": len(unique),
        "missing": len(set(range(1, n + 1)) - unique),
        "doubled": len(ids) - len(unique),
        "bad_lines": bad,
        "ok": bad == 0 and len(ids) == n and unique == set(range(1, n + 1)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--per-page", type=int, default=1000)
    ap.add_argument("--kill-after-pages", type=int, default=40)
    ap.add_argument(
        "--validate-every", type=int, default=10, help="validate every Nth response (requests: all)"
    )
    ap.add_argument("--spec-dir", type=Path, default=None, help="api_specs directory (Zendesk oas.yaml)")
    ap.add_argument("--child", nargs=3, metavar=("URL", "CURSOR", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], Path(args.child[1]), Path(args.child[2]), args.per_page)
        return 0

    if args.spec_dir is not None:
        os.environ["PAYTRIAGE_SHARED_DATA"] = str(args.spec_dir.resolve().parent)
    from tests.contract.fake_zendesk import ZendeskFake
    from tests.contract.server import ContractServer
    from tests.contract.specs import zendesk_openapi

    openapi = zendesk_openapi() if args.spec_dir is not None else None
    fake = ZendeskFake(args.tickets, email=EMAIL, token=TOKEN)
    result: dict[str, Any] = {
        "tickets": args.tickets,
        "per_page": args.per_page,
        "validated_against_openapi": openapi is not None,
    }
    with tempfile.TemporaryDirectory() as tmp, ContractServer(fake, openapi, strip_json=True) as server:
        server.validate_every = max(1, args.validate_every)
        d = Path(tmp)
        # 1. clean run: requests validated, responses not (their validation would dominate the timing)
        server.validate_responses = False
        t0 = time.perf_counter()
        proc = _run_child(server.url, d / "clean.cursor", d / "clean.jsonl", args.per_page)
        _, err = proc.communicate()
        clean_s = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.stderr.write(err.decode(errors="replace"))
            return 1
        result["clean"] = {"seconds": round(clean_s, 2), "rows_per_s": round(args.tickets / clean_s)}
        result["clean"].update(_check(d / "clean.jsonl", args.tickets))
        # 2. killed, then resumed; responses sampled for validation
        server.validate_responses = openapi is not None
        cur, out = d / "resume.cursor", d / "resume.jsonl"
        t0 = time.perf_counter()
        proc = _run_child(server.url, cur, out, args.per_page)
        while proc.poll() is None and _committed_pages(cur) < args.kill_after_pages:
            time.sleep(0.005)
        time.sleep(0.05)  # land the kill somewhere inside the next page
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        committed = json.loads(cur.read_text(encoding="utf-8"))
        size_at_kill = out.stat().st_size
        proc = _run_child(server.url, cur, out, args.per_page)
        _, err = proc.communicate()
        total_s = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.stderr.write(err.decode(errors="replace"))
            return 1
        result["killed_and_resumed"] = {
            "killed_after_committed_pages": committed["pages"],
            "committed_tickets_at_kill": committed["tickets"],
            "uncommitted_bytes_dropped_on_resume": size_at_kill - committed["out_offset"],
            "seconds_total": round(total_s, 2),
        }
        result["killed_and_resumed"].update(_check(out, args.tickets))
        result["requests_validated"] = server.validated
        result["responses_validated"] = server.responses_validated
        result["contract_violations"] = len(server.violations)
        result["violations_sample"] = server.violations[:3]
    print(json.dumps(result, indent=2))
    return 0 if result["clean"]["ok"] and result["killed_and_resumed"]["ok"] and not server.violations else 1


if __name__ == "__main__":
    sys.exit(main())
