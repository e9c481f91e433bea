"""Log ingest fills id columns and template ids; re-ingest adds nothing; ``reindex_logs`` catches up
rows stored without them (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select, update

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import LogEventRow
from paytriage.engines.logmining import TemplateMiner
from paytriage.services.ingest import IngestKind, ingest_file
from paytriage.services.log_index import reindex_logs

TEXT = """\
2026-11-23T10:00:00.100Z WARN [payments-core] auth declined txn=pay_0000aa11bb22 merchant=m_0000cc33 rc=91
2026-11-23T10:00:01.200Z WARN [payments-core] auth declined txn=pay_0000dd44ee55 merchant=m_0000ff66 rc=91
2026-11-23 10:00:02.123 [http-nio-8080-exec-7] ERROR c.p.gateway.Client - timeout for pay_0000dd44ee55
2026-11-23T10:00:03Z level=warn service=payouts msg="no settlement payout_id=po_0000123abc bank=X"
2026-11-23 10:00:04.000  WARN [kyc-upload-1] c.p.kyc.Upload - rejected account=cus_004242 mime=a/b
"""


def _rows(db: Database) -> list[LogEventRow]:
    with db.session() as s:
        return list(s.scalars(select(LogEventRow).order_by(LogEventRow.timestamp)))


def test_text_logs_get_ids_levels_services_and_templates(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text(TEXT, encoding="utf-8")
    state = tmp_path / "templates.json"
    report = ingest_file(db, path, IngestKind.LOGS, templates=state)
    assert report.created == 5
    rows = _rows(db)
    assert [r.transaction_id for r in rows] == [
        "pay_0000aa11bb22",
        "pay_0000dd44ee55",
        "pay_0000dd44ee55",
        "po_0000123abc",
        None,
    ]
    assert [r.merchant_id for r in rows][:2] == ["m_0000cc33", "m_0000ff66"]
    assert rows[4].customer_id == "cus_004242"
    assert (rows[2].service, rows[2].level) == ("c.p.gateway.Client", "error")
    assert (rows[3].service, rows[3].level) == ("payouts", "warning")
    assert rows[0].template_id is not None and rows[0].template_id == rows[1].template_id
    assert state.exists() and TemplateMiner.load(state).templates()
    again = ingest_file(db, path, IngestKind.LOGS, templates=state)
    assert (again.created, again.unchanged) == (0, 5)


def test_json_logs_keep_their_fields_and_gain_text_ids(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "gw.jsonl"
    lines = [
        {
            "ts": "2026-11-23T10:00:00Z",
            "msg": "POST /v1/refunds 500 for re_0000abcd1234",
            "request_id": "req_1a2b3c4d",
        },
        {"ts": "2026-11-23T10:00:01Z", "msg": "txn=pay_0000zzzz9999", "transaction_id": "pay_0000kept0001"},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    ingest_file(db, path, IngestKind.LOGS)
    rows = _rows(db)
    assert (rows[0].transaction_id, rows[0].request_id) == ("re_0000abcd1234", "req_1a2b3c4d")
    assert rows[1].transaction_id == "pay_0000kept0001"
    assert all(r.template_id is None for r in rows)  # no miner state given


def test_reindex_fills_rows_stored_without_ids(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text(TEXT, encoding="utf-8")
    ingest_file(db, path, IngestKind.LOGS)
    with db.session() as s:  # as an older version stored them
        s.execute(update(LogEventRow).values(transaction_id=None, merchant_id=None, customer_id=None))
        s.commit()
    report = reindex_logs(db, templates=tmp_path / "t.json", batch_size=2)
    assert report.scanned == 5
    assert report.ids_filled == 7  # 4 transactions, 2 merchants, 1 customer
    assert report.templates_assigned == 5
    rows = _rows(db)
    assert rows[0].transaction_id == "pay_0000aa11bb22" and rows[4].customer_id == "cus_004242"
    assert reindex_logs(db, templates=tmp_path / "t.json").ids_filled == 0  # nothing left to fill
