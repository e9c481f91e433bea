"""Problems over the stored queue: a burst sharing an unusual key is systemic; everyday questions are not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import CaseRow, ProblemRow
from paytriage.engines.patterns.log_signals import LogSignalDetector
from paytriage.engines.triage.triager import Triager
from paytriage.services import defects
from paytriage.services.ingest import IngestKind, ingest_file
from paytriage.services.problem_catalog import get_problem, list_log_alerts
from paytriage.services.problems import bank_aliases, detect_problems, log_alert_rows, log_incidents
from paytriage.services.triage import triage_cases


def _burst_queue(db: Database, tmp_path: Path) -> None:
    """Five declines from one BIN with code 91 within minutes, after two days of everyday questions."""
    txns, tickets = [], []
    for i in range(5):
        txns.append(
            {
                "id": f"pay_{i}",
                "created_at": f"2026-11-02T14:0{i}:00Z",
                "kind": "payment",
                "amount": "20.00",
                "currency": "EUR",
                "status": "declined",
                "response_code": "91",
                "card_bin": "453912",
                "card_last4": f"{i:04d}",
                "processor": "acq-eu",
            }
        )
        tickets.append(
            {
                "id": f"T{i}",
                "created_at": f"2026-11-02T14:{10 + i}:00Z",
                "requester_id": f"cus_{i}",
                "transaction_id": f"pay_{i}",
                "description": f"my card keeps getting declined at checkout, payment pay_{i}, please help",
            }
        )
    # two days of everyday questions first: without history there is no baseline to burst above
    everyday = [
        "how do I change my email address",
        "where can I download my invoice",
        "can I add a second user to my account",
        "my card was declined once at a shop, is my account ok",
    ]
    for h in range(48):
        tickets.append(
            {
                "id": f"H{h}",
                "created_at": f"{'2026-10-31' if h < 24 else '2026-11-01'}T{h % 24:02d}:30:00Z",
                "requester_id": f"cus_h{h}",
                "description": everyday[h % len(everyday)],
            }
        )
    for i, q in enumerate(
        [
            "how do I change my email address",
            "where can I download my invoice",
            "can I add a second user to my account",
        ]
    ):
        tickets.append(
            {
                "id": f"Q{i}",
                "created_at": f"2026-11-0{3 + i}T09:00:00Z",
                "requester_id": f"cus_q{i}",
                "description": q,
            }
        )
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(t) for t in txns) + "\n")
    (tmp_path / "k.jsonl").write_text("\n".join(json.dumps(t) for t in tickets) + "\n")
    ingest_file(db, tmp_path / "t.jsonl", IngestKind.TRANSACTIONS)
    ingest_file(db, tmp_path / "k.jsonl", IngestKind.TICKETS)
    triage_cases(db, Triager.from_config(), as_of_arrival=True)


def test_issuer_burst_is_systemic_and_questions_are_not(db: Database, tmp_path: Path) -> None:
    _burst_queue(db, tmp_path)
    run = detect_problems(db)
    assert run.cases == 8 + 48
    assert len(run.systemic) == 1
    found = run.systemic[0]
    # the acquirer the declines went through is named as one, not as a bank
    assert "processor:acq-eu" in found.signals
    assert not any("bank:" in s for s in found.signals)
    assert set(found.ticket_ids) >= {"T0", "T1", "T2"}
    assert not {"Q0", "Q1", "Q2"} & set(found.ticket_ids)
    assert not any(t.startswith("H") for t in found.ticket_ids)
    assert found.detected_at.isoformat() <= "2026-11-02T14:14:00+00:00"
    with db.session() as s:
        problem = s.scalars(select(ProblemRow).where(ProblemRow.status == "confirmed")).one()
        members = s.scalars(select(CaseRow.id).where(CaseRow.problem_id == problem.id)).all()
    assert len(members) == len(found.case_ids) >= 3
    assert problem.affected_customers >= 3
    again = detect_problems(db)
    assert len(again.systemic) == 1


def test_the_evidence_a_burst_needs_is_a_setting(db: Database, tmp_path: Path) -> None:
    """Five customers in minutes: systemic at the default bar (3 customers, p ≤ 1e-6), not when a team
    asks for six customers or for a level the burst cannot reach."""
    _burst_queue(db, tmp_path)
    assert len(detect_problems(db).systemic) == 1
    assert detect_problems(db, min_customers=6).systemic == []
    assert detect_problems(db, alpha=1e-40).systemic == []


def test_a_problem_linked_to_a_defect_survives_regrouping_and_a_late_ticket_regresses_it(
    db: Database, tmp_path: Path
) -> None:
    _burst_queue(db, tmp_path)
    run = detect_problems(db)
    first = run.systemic[0]
    assert first.row_id is not None
    with db.session() as s:
        did = defects.create_defect(s, title="BIN 453912 declines with 91")
        defects.link_problem(s, did, first.row_id)
        defects.resolve_defect(s, did, now=datetime(2026, 11, 2, 18, tzinfo=UTC))
    # the next morning the same issuer declines again for a sixth customer
    (tmp_path / "late_t.jsonl").write_text(
        json.dumps(
            {"id": "pay_9", "created_at": "2026-11-03T08:00:00Z", "kind": "payment", "amount": "20.00",
             "currency": "EUR", "status": "declined", "response_code": "91", "card_bin": "453912",
             "card_last4": "0009", "processor": "acq-eu"}
        ) + "\n"
    )  # fmt: skip
    (tmp_path / "late_k.jsonl").write_text(
        json.dumps(
            {"id": "T9", "created_at": "2026-11-03T08:05:00Z", "requester_id": "cus_9",
             "transaction_id": "pay_9",
             "description": "my card keeps getting declined at checkout, payment pay_9, please help"}
        ) + "\n"
    )  # fmt: skip
    ingest_file(db, tmp_path / "late_t.jsonl", IngestKind.TRANSACTIONS)
    ingest_file(db, tmp_path / "late_k.jsonl", IngestKind.TICKETS)
    triage_cases(db, Triager.from_config(), as_of_arrival=True)

    detect_problems(db)
    with db.session() as s:
        row = s.get(ProblemRow, first.row_id)
        assert row is not None and row.defect_id == did  # same row, still linked
        members = set(s.scalars(select(CaseRow.id).where(CaseRow.problem_id == row.id)))
        assert set(first.case_ids) <= members
        assert s.scalars(select(ProblemRow).where(ProblemRow.defect_id == did)).all() == [row]
        found = defects.check_regressions(s)
    assert [r.defect_id for r in found] == [did]
    new_cases = found[0].to_dict()["new_cases"]
    assert new_cases and set(new_cases).isdisjoint(first.case_ids)


def test_bank_aliases_learn_the_bic_a_connector_logs_for_a_bank(db: Database, tmp_path: Path) -> None:
    banks = {"Hanse Handelsbank": "HANSDEFFXXX", "Banca Adriatica": "ADRIITMMXXX"}
    txns, lines = [], []
    for i in range(12):
        for j, (name, bic) in enumerate(banks.items()):
            tid = f"po_{j}{i:04d}"
            txns.append(
                {
                    "id": tid,
                    "created_at": f"2026-11-02T10:{i:02d}:0{j}Z",
                    "kind": "payout",
                    "amount": "10.00",
                    "currency": "EUR",
                    "status": "succeeded",
                    "merchant_id": f"m_{j}",
                    "partner_bank": name,
                }
            )
            msg = f"pain.002 accepted transaction_id={tid} bank={bic} status=ACCP ccy=EUR"
            lines.append(f'2026-11-02T10:{i:02d}:3{j}Z level=info service=bank-connector msg="{msg}"')
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(t) for t in txns) + "\n")
    (tmp_path / "bank.log").write_text("\n".join(lines) + "\n")
    ingest_file(db, tmp_path / "t.jsonl", IngestKind.TRANSACTIONS)
    ingest_file(db, tmp_path / "bank.log", IngestKind.LOGS)
    with db.session() as session:
        aliases = bank_aliases(session)
    assert aliases.expand(["hanse handelsbank"]) == {"hansdeffxxx"}
    assert aliases.expand(["adriitmmxxx"]) == {"banca adriatica"}
    assert aliases.expand(["eur", "accp"]) == set()


def test_log_incidents_read_info_lines_that_carry_amounts(db: Database, tmp_path: Path) -> None:
    lines = []
    for i in range(50):  # two days of JPY refunds at ordinary amounts, then a hundred times too small
        at = datetime(2026, 11, 2, tzinfo=UTC) + timedelta(hours=i)
        yen = 1500 + 113 * (i % 30) if i < 44 else 15 + i % 7
        msg = f"Refund re_{i:06d}x created amount={yen} currency=JPY"
        lines.append(f'{at:%Y-%m-%dT%H:%M:%SZ} level=info service=refund-service msg="{msg}"')
        lines.append(f'{at:%Y-%m-%dT%H:%M:%SZ} level=info service=refund-service msg="health ok"')
    (tmp_path / "refunds.log").write_text("\n".join(lines) + "\n")
    ingest_file(db, tmp_path / "refunds.log", IngestKind.LOGS)
    with db.session() as session:
        [inc] = log_incidents(session, LogSignalDetector())
        assert LogSignalDetector(values=False).detect([]) == []
        assert log_incidents(session, LogSignalDetector(values=False)) == []
    assert inc.signals[0].startswith("log:refund-service:value:amount:JPY:")
    assert {"re_000045x", "re_000049x"} <= inc.ids


def test_a_problem_stores_how_it_was_detected_and_the_log_alert_that_explains_it(
    db: Database, tmp_path: Path
) -> None:
    _burst_queue(db, tmp_path)
    lines = [  # two days of ordinary gateway warnings, then issuer errors naming the declined payments
        {"ts": f"{'2026-10-31' if h < 24 else '2026-11-01'}T{h % 24:02d}:15:00Z", "level": "warn",
         "service": "api-gateway", "msg": f"GET /v1/customers/{h} 404", "http_status": 404}
        for h in range(48)
    ] + [
        {"ts": f"2026-11-02T14:0{k // 2}:{30 * (k % 2):02d}Z", "level": "error", "service": "api-gateway",
         "msg": f"POST /v1/payments 502 issuer rc=91 bin=453912 txn=pay_{k % 5}", "http_status": 502}
        for k in range(12)
    ]  # fmt: skip
    (tmp_path / "gateway.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    ingest_file(db, tmp_path / "gateway.jsonl", IngestKind.LOGS)
    run = detect_problems(db)
    [found] = run.systemic
    assert found.log_detected_at is not None and found.log_detected_at < found.detected_at
    with db.session() as s:
        problem = s.scalars(select(ProblemRow).where(ProblemRow.status == "confirmed")).one()
        candidates = s.scalars(select(ProblemRow).where(ProblemRow.status == "candidate")).all()
        detail = get_problem(s, problem.id)
    record = problem.detection
    assert record["detected_at"] == found.detected_at.isoformat() and record["signals"] == found.signals
    assert record["log"]["service"] == "api-gateway"
    assert record["log"]["detected_at"] == found.log_detected_at.isoformat()
    assert any("lines in" in e and "p=" in e for e in record["log"]["evidence"])
    assert all(c.detection == {} for c in candidates)
    assert detail.detection == record
    rows = log_alert_rows(run)
    assert [r["problem_id"] for r in rows if r["problem_id"] is not None] == [problem.id]
    assert all(r["service"] and r["first_alert"] for r in rows)
    with db.session() as s:  # stored for the pages and the API, replaced by the next run
        stored = list_log_alerts(s)
        assert stored.count == len(rows)
        assert [a.problem_id for a in stored.data] == [r["problem_id"] for r in rows]
        assert list_log_alerts(s, unexplained=True).count == len(rows) - 1
    detect_problems(db)
    with db.session() as s:
        assert list_log_alerts(s).count == len(rows)


def test_an_approval_code_is_not_an_error_key(db: Database, tmp_path: Path) -> None:
    """Every approved payment carries ISO 8583 ``00``: as an ``error:`` key it tied a rate-limit
    incident and a duplicate-charge incident that began minutes apart into one problem (sandbox
    seed 97). A decline code stays a key."""
    from paytriage.services.problems import _transaction_keys

    txns = [
        {"id": "pay_ok", "created_at": "2026-11-02T14:00:00Z", "kind": "payment", "amount": "20.00",
         "currency": "EUR", "status": "captured", "response_code": "00", "processor": "acq-eu"},
        {"id": "pay_no", "created_at": "2026-11-02T14:01:00Z", "kind": "payment", "amount": "20.00",
         "currency": "EUR", "status": "declined", "response_code": "91", "processor": "acq-eu"},
    ]  # fmt: skip
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(t) for t in txns) + "\n")
    ingest_file(db, tmp_path / "t.jsonl", IngestKind.TRANSACTIONS)
    with db.session() as s:
        keys = _transaction_keys(s, ["pay_ok", "pay_no"])
    assert "error" not in keys["pay_ok"] and keys["pay_ok"]["processor"] == "acq-eu"
    assert keys["pay_no"]["error"] == "91"
