"""Bank-connector and SSO lines: their own random stream, searchable ids, true to the data."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from paytriage.engines.logmining.fields import extract_fields
from paytriage.sandbox import SandboxConfig, generate
from paytriage.sandbox.catalog import PARTNER_BANKS
from paytriage.sandbox.connector_logs import BANK_LOG, ConnectorLogs

CFG = SandboxConfig(seed=11, tickets=120, days=6, incidents="topup_pending,saml_cert_expired,payout_delay")
CHANGED = {f"logs/{BANK_LOG}", "logs/identity.log", "manifest.json"}


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("conn") / "a"
    generate(CFG, out)
    return out


def test_other_files_do_not_depend_on_the_connector_stream(
    sandbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("hour", "topup", "payout", "saml"):
        monkeypatch.setattr(ConnectorLogs, name, lambda *a, **k: None)
    generate(CFG, tmp_path / "b")
    with_lines, without = _digest(sandbox), _digest(tmp_path / "b")
    assert with_lines.keys() == without.keys()
    same = {k for k in with_lines if with_lines[k] == without[k]}
    assert same == with_lines.keys() - CHANGED
    assert (tmp_path / "b" / "logs" / BANK_LOG).read_text() == ""


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_every_pending_bank_transfer_topup_is_awaited_and_warned(sandbox: Path) -> None:
    txs = [json.loads(x) for x in _lines(sandbox / "transactions.jsonl")]
    banked = {b.currency for b in PARTNER_BANKS}  # a currency no partner bank holds has no connector
    pending = {
        t["id"]
        for t in txs
        if t["kind"] == "topup"
        and t["status"] == "pending"
        and t.get("method") == "bank_transfer"
        and t["currency"] in banked
    }
    assert pending
    log = _lines(sandbox / "logs" / BANK_LOG)
    warned = {m.group(1) for x in log if (m := re.search(r"no credit notification transaction_id=(\S+)", x))}
    awaited = {m.group(1) for x in log if (m := re.search(r"awaiting credit transaction_id=(\S+)", x))}
    assert pending == awaited == warned


def test_stalled_bank_feed_is_logged_only_during_the_incident(sandbox: Path) -> None:
    truth = json.loads((sandbox / "ground_truth" / "incidents.json").read_text())["incidents"]
    [inc] = [i for i in truth if i["kind"] == "topup_pending"]
    overdue = [x for x in _lines(sandbox / "logs" / BANK_LOG) if "camt.054 overdue" in x]
    assert overdue
    assert all(inc["start"][:13] <= x[:13] <= inc["end"][:13] for x in overdue)


def test_lines_carry_indexable_ids(sandbox: Path) -> None:
    for line in _lines(sandbox / "logs" / BANK_LOG)[:200]:
        if "transaction_id=" in line:
            assert extract_fields(line).transaction_id, line
    acs = [x for x in _lines(sandbox / "logs" / "identity.log") if "/sso/saml/acs status=401" in x]
    assert acs
    for line in acs:
        f = extract_fields(line)
        assert f.request_id and f.request_id.startswith("req_") and f.merchant_id, line
