"""End-to-end generation of a small sandbox: determinism, formats, ground-truth consistency."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from paytriage.domain.errors import InputError
from paytriage.sandbox import SandboxConfig, generate
from paytriage.sandbox.identifiers import iban_valid, luhn_valid
from paytriage.sandbox.incidents import KINDS, parse_spec

CFG = SandboxConfig(seed=7, tickets=100, days=10)


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sbx") / "a"
    started = time.perf_counter()
    generate(CFG, out)
    assert time.perf_counter() - started < 30  # 100 tickets must be quick (generous for a shared CI box)
    return out


def _jsonl(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _gt(root: Path) -> list[dict[str, str]]:
    with (root / "ground_truth" / "tickets.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_same_seed_is_byte_identical_and_other_seed_differs(sandbox: Path, tmp_path: Path) -> None:
    generate(CFG, tmp_path / "b")
    assert _digest(sandbox) == _digest(tmp_path / "b")
    generate(SandboxConfig(seed=8, tickets=100, days=10), tmp_path / "c")
    other = _digest(tmp_path / "c")
    assert other["tickets.jsonl"] != _digest(sandbox)["tickets.jsonl"]
    assert other["transactions.jsonl"] != _digest(sandbox)["transactions.jsonl"]


def test_expected_files_exist(sandbox: Path) -> None:
    for name in (
        "tickets.jsonl",
        "transactions.jsonl",
        "releases.csv",
        "merchants.csv",
        "surveys.csv",
        "manifest.json",
        "ground_truth/tickets.csv",
        "ground_truth/incidents.json",
    ):
        assert (sandbox / name).is_file(), name
    assert list((sandbox / "logs").glob("*.jsonl")) and list((sandbox / "logs").glob("*.log"))
    assert list((sandbox / "statements").glob("*.sta")) and list((sandbox / "statements").glob("*.xml"))
    manifest = json.loads((sandbox / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["counts"]["tickets"] == 100


def test_tickets_follow_ingest_format(sandbox: Path) -> None:
    tickets = _jsonl(sandbox / "tickets.jsonl")
    assert len(tickets) == 100
    assert len({t["id"] for t in tickets}) == 100
    for t in tickets:
        assert t["id"] and t["created_at"] and str(t["description"]).strip()
        assert t["channel"] in {"email", "web", "chat", "phone", "api", "social", "other"}
        assert isinstance(t["tags"], list)
    created = [str(t["created_at"]) for t in tickets]
    assert created == sorted(created)


def test_ground_truth_consistent(sandbox: Path) -> None:
    gt = _gt(sandbox)
    assert [r["ticket_id"] for r in gt] == [str(t["id"]) for t in _jsonl(sandbox / "tickets.jsonl")]
    incidents = json.loads((sandbox / "ground_truth" / "incidents.json").read_text())["incidents"]
    assert len(incidents) == len(KINDS) >= 9
    by_id = {i["id"]: i for i in incidents}
    for row in gt:
        if row["incident_id"]:
            assert row["ticket_id"] in by_id[row["incident_id"]]["ticket_ids"]
            assert row["escalation_needed"] == "true"
    listed = [t for i in incidents for t in i["ticket_ids"]]
    assert sorted(listed) == sorted(r["ticket_id"] for r in gt if r["incident_id"])
    not_needed = sum(r["escalation_needed"] == "false" for r in gt)
    assert 0.15 <= not_needed / len(gt) <= 0.25
    assert all(r["route"] == "tier1" for r in gt if r["escalation_needed"] == "false")
    tx_ids = {str(t["id"]) for t in _jsonl(sandbox / "transactions.jsonl")}
    for inc in incidents:
        assert set(inc["transaction_ids"]) <= tx_ids
        assert inc["start"] < inc["end"] and inc["root_cause"] and inc["route"]
        assert all(isinstance(v, int) for v in inc["money_minor_by_currency"].values())


def test_incident_tickets_do_not_name_their_incident(sandbox: Path) -> None:
    gt = {r["ticket_id"]: r for r in _gt(sandbox)}
    for t in _jsonl(sandbox / "tickets.jsonl"):
        if gt[str(t["id"])]["incident_id"]:
            text = f"{t['subject']} {t['description']}".lower()
            assert "incident" not in text and "outage" not in text


def test_transactions_amounts_and_jpy_zero_decimal(sandbox: Path) -> None:
    txs = _jsonl(sandbox / "transactions.jsonl")
    kinds = {t["kind"] for t in txs}
    assert {"payment", "refund", "payout", "topup", "binding"} <= kinds
    for t in txs:
        amount = str(t["amount"])
        if t["currency"] in ("JPY", "KRW"):
            assert re.fullmatch(r"-?\d+", amount), t
        else:
            assert re.fullmatch(r"-?\d+\.\d{2}", amount), t
        assert "card_number" not in t
    assert any(t["currency"] == "JPY" for t in txs)
    codes = {t.get("response_code") for t in txs if t["status"] == "declined"}
    assert len(codes) >= 3


def test_pasted_card_numbers_are_luhn_valid(sandbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "big"
    generate(SandboxConfig(seed=3, tickets=600, days=5, incidents="none"), out)
    gt = {r["ticket_id"]: r for r in _gt(out)}
    pasted = [t for t in _jsonl(out / "tickets.jsonl") if gt[str(t["id"])]["pan_pasted"] == "true"]
    assert pasted
    for t in pasted:
        found = re.findall(r"(?<!\d)\d{4}(?: ?\d{4}){2} ?\d{3,4}(?!\d)", str(t["description"]))
        candidates = [m.replace(" ", "") for m in found]
        assert any(len(c) in (15, 16) and luhn_valid(c) for c in candidates), t["description"]


def test_merchant_ibans_valid(sandbox: Path) -> None:
    with (sandbox / "merchants.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    ibans = [r["payout_iban"] for r in rows if r["payout_iban"]]
    assert ibans and all(iban_valid(i) for i in ibans)
    assert {r["tier"] for r in rows} <= {"enterprise", "mid-market", "small"}


def test_logs_parse(sandbox: Path) -> None:
    stamp = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}")
    for path in (sandbox / "logs").glob("*.jsonl"):
        for rec in _jsonl(path):
            assert stamp.match(str(rec["ts"])) and rec["msg"] and rec["service"]
    for path in (sandbox / "logs").glob("*.log"):
        for line in path.read_text(encoding="utf-8").splitlines():
            assert stamp.match(line) or line.startswith(("\tat ", "c.p.", "org.")), (path.name, line)


def test_statements_well_formed(sandbox: Path) -> None:
    for path in (sandbox / "statements").glob("*.xml"):
        root = ET.parse(path).getroot()
        assert root.tag.endswith("Document")
    for path in (sandbox / "statements").glob("*.sta"):
        text = path.read_text(encoding="utf-8")
        assert text.count(":20:") == text.count(":62F:") >= 1
    assert any(":61:" in p.read_text() for p in (sandbox / "statements").glob("*.sta"))


def test_releases_sorted_with_incident_release(sandbox: Path) -> None:
    with (sandbox / "releases.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and [r["released_at"] for r in rows] == sorted(r["released_at"] for r in rows)
    incidents = json.loads((sandbox / "ground_truth" / "incidents.json").read_text())["incidents"]
    releases = {(r["component"], r["version"]) for r in rows}
    for inc in incidents:
        if inc["release"]:
            assert tuple(inc["release"]) in releases


def test_parse_spec() -> None:
    assert parse_spec("none", 30) == {}
    assert parse_spec(None, 60) == {k: 2 for k in KINDS}
    assert parse_spec("issuer_outage=3,acs_timeout", 30) == {"issuer_outage": 3, "acs_timeout": 1}
    with pytest.raises(InputError, match="unknown incident kind"):
        parse_spec("volcano=1", 30)
    with pytest.raises(InputError):
        parse_spec("issuer_outage=x", 30)


def test_bad_config_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="tickets"):
        generate(SandboxConfig(tickets=0), tmp_path)
