"""Ingest on SQLite and PostgreSQL: idempotency, bad rows, rejects file, strict mode, PCI masking."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.conftest import SHARED_DATA

from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.orm import AuditRow, CaseRow, LogEventRow, TicketRow, TransactionRow
from paytriage.services.ingest import IngestKind, ingest_file

# Luhn-valid test PANs (network test numbers) pasted in various shapes.
PANS = ["4111111111111111", "5555 5555 5555 4444", "3782-822463-10005", "6011000990139424"]
HEADER = ["id", "created_at", "subject", "description", "requester_email", "tags", "merchant_id"]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def thousand_rows(bad_lines: set[int]) -> list[list[str]]:
    rows = []
    for i in range(1000):
        line = i + 2  # header is line 1
        pan = PANS[i % len(PANS)]
        desc = f"My card {pan} was declined at checkout, order {i}. cvv: 123"
        created = "2026-11-02T09:00:00Z"
        if line in bad_lines:
            created = "not-a-date" if line % 2 else ""
        rows.append(
            [f"T{i}", created, f"declined {i}", desc, f"user{i}@example.org", "declined;card", "mer_1"]
        )
    return rows


def count(db: Database, model: type) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_thousand_rows_three_bad(db: Database, tmp_path: Path) -> None:
    bad = {17, 500, 1001}
    path = write_csv(tmp_path / "tickets.csv", thousand_rows(bad))
    report = ingest_file(db, path, IngestKind.TICKETS)
    assert report.read == 1000
    assert report.created == 997
    assert report.rejected == 3
    assert sorted(e.line for e in report.errors) == sorted(bad)
    assert all(e.field == "created_at" for e in report.errors)
    assert report.outcome == "partial"
    assert count(db, TicketRow) == 997
    assert count(db, CaseRow) == 997
    rejects = Path(report.rejects_path or "")
    assert rejects.exists()
    with rejects.open(encoding="utf-8") as fh:
        rejected = list(csv.DictReader(fh))
    assert [int(r["line"]) for r in rejected] == sorted(bad)
    assert not any(
        p.replace(" ", "").replace("-", "") in r["row"].replace(" ", "").replace("-", "")
        for r in rejected
        for p in PANS
    )

    again = ingest_file(db, path, IngestKind.TICKETS)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 997)
    assert count(db, TicketRow) == 997
    assert count(db, CaseRow) == 997


def test_no_full_card_number_in_sqlite_file(sqlite_db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "tickets.csv", thousand_rows(set()))
    ingest_file(sqlite_db, path, IngestKind.TICKETS)
    sqlite_db.dispose()
    db_file = Path(str(sqlite_db.url.database))
    blob = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
    for pan in PANS:
        assert pan.encode() not in blob
        assert pan.replace(" ", "").replace("-", "").encode() not in blob
    assert b"411111******1111" in blob
    with sqlite_db.session() as s:
        audit = s.scalars(select(AuditRow).where(AuditRow.action == "ingest")).one()
    assert audit.details["masked"]["card_number"] == 1000
    assert "4111111111111111" not in json.dumps(audit.details)


def test_changed_row_updates(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [["A1", "2026-11-02T09:00:00Z", "s", "first text", "", "", ""]])
    assert ingest_file(db, path, IngestKind.TICKETS).created == 1
    write_csv(path, [["A1", "2026-11-02T09:00:00Z", "s", "second text", "", "", ""]])
    report = ingest_file(db, path, IngestKind.TICKETS)
    assert (report.created, report.updated) == (0, 1)
    with db.session() as s:
        assert s.scalars(select(TicketRow.description)).one() == "second text"
    assert count(db, CaseRow) == 1


def test_strict_stores_nothing(db: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "tickets.csv", thousand_rows({40}))
    report = ingest_file(db, path, IngestKind.TICKETS, strict=True, batch_size=100)
    assert not report.stored and report.rejected == 1 and report.outcome == "rejected_all"
    assert count(db, TicketRow) == 0
    assert count(db, CaseRow) == 0


def test_transactions_and_logs_idempotent(db: Database, tmp_path: Path) -> None:
    txns = tmp_path / "txns.jsonl"
    txns.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {
                    "id": "ch_1",
                    "created_at": "2026-11-02T09:00:00Z",
                    "kind": "payment",
                    "amount": "12.50",
                    "currency": "EUR",
                    "status": "declined",
                    "response_code": "05",
                    "card_bin": "411111",
                    "card_last4": "1111",
                    "events": [{"at": "2026-11-02T09:00:01Z", "status": "declined", "code": "05"}],
                },
                {
                    "id": "re_1",
                    "created_at": "2026-11-02T10:00:00Z",
                    "kind": "refund",
                    "amount_minor": 5000,
                    "currency": "JPY",
                    "status": "succeeded",
                    "parent_id": "ch_9",
                },
                {
                    "id": "bad",
                    "created_at": "2026-11-02T10:00:00Z",
                    "kind": "payment",
                    "amount": 12.5,
                    "currency": "JPY",
                    "status": "succeeded",
                },
                {
                    "id": "bad2",
                    "created_at": "2026-11-02T10:00:00Z",
                    "kind": "payment",
                    "amount": "1",
                    "currency": "EUR",
                    "status": "succeeded",
                    "card_bin": "4111111111111111",
                },
            ]
        )
        + "\n"
    )
    r1 = ingest_file(db, txns, IngestKind.TRANSACTIONS)
    assert (r1.created, r1.rejected) == (2, 2)
    assert {(e.line, e.field) for e in r1.errors} == {(3, "amount"), (4, "card_bin")}
    assert ingest_file(db, txns, IngestKind.TRANSACTIONS).created == 0
    with db.session() as s:
        amounts = dict(s.execute(select(TransactionRow.external_id, TransactionRow.amount_minor)).all())
    assert amounts == {"ch_1": 1250, "re_1": 5000}

    log = tmp_path / "app.log"
    log.write_text(
        "2026-11-02T09:00:00.100Z ERROR [gateway] card 4111111111111111 declined code=05\n"
        "2026-11-02 09:00:01,200 WARN retrying request\n"
        "Traceback (most recent call last):\n  File x.py, line 3\n"
        "garbage line without timestamp is a continuation\n"
    )
    r = ingest_file(db, log, IngestKind.LOGS)
    assert (r.created, r.rejected) == (2, 0)
    assert ingest_file(db, log, IngestKind.LOGS).created == 0
    assert count(db, LogEventRow) == 2
    with db.session() as s:
        msgs = s.scalars(select(LogEventRow.message).order_by(LogEventRow.timestamp)).all()
    assert "4111111111111111" not in msgs[0] and "411111******1111" in msgs[0]
    assert "Traceback" in msgs[1]


def test_zendesk_export(db: Database, tmp_path: Path) -> None:
    export = {
        "tickets": [
            {
                "url": "https://acme.zendesk.com/api/v2/tickets/35436.json",
                "id": 35436,
                "via": {"channel": "web"},
                "created_at": "2026-11-01T22:55:29Z",
                "updated_at": "2026-11-02T10:00:00Z",
                "subject": "Help, my card",
                "raw_subject": "Help, my card",
                "description": "Card 5555555555554444 declined",
                "status": "open",
                "priority": "high",
                "requester_id": 20978392,
                "organization_id": 509974,
                "tags": ["enterprise"],
                "custom_fields": [{"id": 27642, "value": "745"}, {"id": 27648, "value": None}],
            }
        ],
        "end_time": 1383685952,
        "next_page": None,
        "count": 1,
        "end_of_stream": True,
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    report = ingest_file(db, path, IngestKind.TICKETS)
    assert report.created == 1
    with db.session() as s:
        t = s.scalars(select(TicketRow)).one()
    assert (t.source, t.external_id, t.channel, t.requester_id) == ("zendesk", "35436", "web", "20978392")
    assert t.custom_fields == {"zendesk_field_27642": "745"}
    assert "555555******4444" in t.description


@pytest.mark.parametrize("content", ["", "id,created_at\n", "\x00\x01\x02garbage", '{"tickets": [1, 2]}'])
def test_bad_files_never_traceback(sqlite_db: Database, tmp_path: Path, content: str) -> None:
    from paytriage.domain import InputError

    path = tmp_path / ("f.json" if content.startswith("{") else "f.csv")
    path.write_text(content)
    try:
        report = ingest_file(sqlite_db, path, IngestKind.TICKETS)
    except InputError as exc:
        assert str(exc)
    else:
        assert report.created == 0


def test_secret_valued_keys_are_removed(sqlite_db: Database, tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        json.dumps(
            {
                "id": "S1",
                "created_at": "2026-11-02T09:00:00Z",
                "description": "pasted config",
                "cvc": "737",
                "api_key": "abc123",
                "idempotency_key": True,
                "payload": {"card": {"number": "4242424242424242", "cvc": 123}},
            }
        )
        + "\n"
    )
    report = ingest_file(sqlite_db, path, IngestKind.TICKETS)
    assert report.created == 1
    with sqlite_db.session() as s:
        fields = s.scalars(select(TicketRow.custom_fields)).one()
    assert fields["cvc"] == "[REDACTED]" and fields["api_key"] == "[REDACTED]"
    assert fields["idempotency_key"] is True
    assert fields["payload"]["card"] == {"number": "424242******4242", "cvc": "[REDACTED]"}


def test_server_logs_in_their_own_layouts_keep_every_line(db: Database, tmp_path: Path) -> None:
    """An Apache error log opens with "[" (read as a log, not as JSON); a worker's error repeated in
    one second is several events, all kept, and a second ingest of the file adds nothing."""
    log = tmp_path / "error_log"
    repeated = "[Wed Feb 11 09:15:02 2026] [error] mod_pay child workerEnv in error state 6\n"
    log.write_text(
        "[Wed Feb 11 09:15:01 2026] [notice] workerEnv.init() ok /etc/httpd/workers.properties\n"
        + repeated * 3
        + "    continuation of the third error\n"
        + "[Wed Feb 11 09:15:03 2026] [error] [client 198.51.100.4] card 4111111111111111 rejected\n"
    )
    r = ingest_file(db, log, IngestKind.LOGS)
    assert (r.read, r.created, r.rejected) == (5, 5, 0)
    assert ingest_file(db, log, IngestKind.LOGS).created == 0
    with db.session() as s:
        rows = s.execute(select(LogEventRow.timestamp, LogEventRow.level, LogEventRow.message)).all()
    assert sum(1 for r in rows if r.message.startswith("mod_pay child")) == 3
    assert sum(1 for r in rows if "continuation of the third" in r.message) == 1
    assert sorted(str(r.level) for r in rows) == ["error"] * 4 + ["info"]  # [notice] is info
    assert all("4111111111111111" not in r.message for r in rows)

    syslog = tmp_path / "auth.log"
    syslog.write_text(
        "Feb 11 09:15:02 edge-7 sshd[24200]: Invalid user webmaster from 203.0.113.7\n"
        "Feb 11 09:15:04 edge-7 sshd[24202]: Failed password for invalid user webmaster\n"
    )
    assert ingest_file(db, syslog, IngestKind.LOGS).created == 2
    with db.session() as s:
        services = set(s.scalars(select(LogEventRow.service).where(LogEventRow.source == "auth")).all())
    assert services == {"sshd"}


LOGHUB = SHARED_DATA / "loghub_2k"


@pytest.mark.skipif(not LOGHUB.is_dir(), reason="shared loghub_2k data absent")
@pytest.mark.parametrize(
    "system", ["Apache", "HDFS", "Hadoop", "HealthApp", "OpenSSH", "OpenStack", "Spark", "Zookeeper"]
)
def test_real_server_logs_are_read_line_by_line(sqlite_db: Database, tmp_path: Path, system: str) -> None:
    """Loghub's 2k samples (eight systems, eight layouts): every line is one event with a time, none is
    rejected, and the times run forward as the files do."""
    source = LOGHUB / system / f"{system}_2k.log"
    if not source.exists():
        pytest.skip(f"{source} absent")
    log = tmp_path / source.name  # rejects would be written next to the input: never into ../shared
    log.write_bytes(source.read_bytes())
    lines = sum(1 for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip())
    r = ingest_file(sqlite_db, log, IngestKind.LOGS)
    assert (r.read, r.rejected) == (lines, 0)
    assert r.created == lines
    with sqlite_db.session() as s:
        times = s.scalars(select(LogEventRow.timestamp).order_by(LogEventRow.id)).all()
    forward = sum(1 for a, b in itertools.pairwise(times) if b >= a)
    assert forward >= 0.95 * (len(times) - 1)


def test_rejects_go_to_the_temp_folder_when_the_inputs_folder_cannot_take_them(
    sqlite_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log on a read-only mount: the good lines are stored and the rejects still land somewhere."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    (tmp_path / "in").mkdir()
    log = tmp_path / "in" / "gw.log"
    log.write_text("no timestamp on this first line\n2026-01-01T00:00:00Z ERROR [gateway] upstream reset\n")
    (tmp_path / "in" / "gw.rejects.jsonl").mkdir()  # stands in for a folder that cannot be written
    report = ingest_file(sqlite_db, log, IngestKind.LOGS)
    assert (report.created, report.rejected) == (1, 1)
    assert report.rejects_path == str(tmp_path / "tmp" / "paytriage-gw.rejects.jsonl")
    [row] = [json.loads(x) for x in Path(report.rejects_path).read_text().splitlines()]
    assert (row["line"], row["field"]) == (1, "timestamp")
