"""Idempotent, streaming ingest of tickets, transactions, logs and releases.

Every record is parsed into a domain object, PCI-redacted, and written in batches. Bad records are
reported with their line and field and copied (redacted) to a rejects file next to the input; with
``strict=True`` nothing is stored if any record is bad. Memory is bounded by the batch size.
"""

from __future__ import annotations

import contextlib
import csv
import json
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from paytriage.adapters.connectors.files import (
    FileFormat,
    Record,
    detect_format,
    read_records,
    read_text_log_records,
)
from paytriage.adapters.connectors.log_layouts import LineHeads
from paytriage.adapters.connectors.rows import (
    ColumnMapping,
    is_zendesk_ticket,
    log_from_record,
    log_from_text,
    release_from_row,
    ticket_from_row,
    ticket_from_zendesk,
    transaction_from_row,
)
from paytriage.adapters.storage.batch import (
    BatchCounts,
    write_audit,
    write_logs,
    write_releases,
    write_tickets,
    write_transactions,
)
from paytriage.adapters.storage.database import Database
from paytriage.adapters.storage.mapping import content_hash, log_values
from paytriage.domain import AuditEvent, InputError, LogEvent, Ticket, Transaction, utcnow
from paytriage.engines.investigate.correlation import stored_template_id
from paytriage.engines.logmining import TemplateMiner
from paytriage.engines.logmining.fields import enrich_event
from paytriage.engines.logmining.miner import StateError
from paytriage.engines.redaction import redact

__all__ = ["IngestKind", "IngestReport", "RowProblem", "ingest_file", "load_mapping"]

MAX_REPORTED_ERRORS = 200
#: Keys whose value is a secret whatever it looks like ({"cvc": "123"} has no label in the value itself).
_SENSITIVE_KEY = re.compile(
    r"^(?:cvv2?|cvc2?|csc|cvn|card_?pin|pin|pin_?block|password|passwd|pwd|pass|secret|client_secret|"
    r"api_?key|secret_?key|access_?token|refresh_?token|auth_?token|authorization|track_?[12]?)$",
    re.IGNORECASE,
)


class IngestKind(StrEnum):
    TICKETS = "tickets"
    TRANSACTIONS = "transactions"
    LOGS = "logs"
    RELEASES = "releases"


@dataclass(slots=True)
class RowProblem:
    line: int
    field: str | None
    message: str


@dataclass(slots=True)
class IngestReport:
    kind: IngestKind
    path: str
    strict: bool
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    stored: bool = True
    errors: list[RowProblem] = field(default_factory=list)
    rejects_path: str | None = None
    redactions: dict[str, int] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        if self.rejected == 0:
            return "ok"
        return "rejected_all" if not self.stored else "partial"


def load_mapping(path: Path | None) -> ColumnMapping | None:
    """A YAML file ``columns: {source_name: paytriage_name}``."""
    if path is None:
        return None
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read mapping file {path}: {exc}") from None
    cols = doc.get("columns") if isinstance(doc, dict) else None
    if not isinstance(cols, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in cols.items()
    ):
        raise InputError("mapping file must contain 'columns:' with name: name pairs", field="columns")
    return cols


def _redact_value(value: Any, counts: Counter[str]) -> Any:
    if isinstance(value, str):
        result = redact(value)
        counts.update(result.counts)
        return result.text
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if _SENSITIVE_KEY.search(str(k)) and v not in (None, "", True, False):
                counts[f"field:{str(k).lower()}"] += 1
                out[k] = "[REDACTED]"
            else:
                out[k] = _redact_value(v, counts)
        return out
    if isinstance(value, list):
        return [_redact_value(v, counts) for v in value]
    return value


def _redact_ticket(t: Ticket, counts: Counter[str]) -> None:
    t.subject = _redact_value(t.subject, counts)
    t.description = _redact_value(t.description, counts)
    t.tier1_notes = _redact_value(t.tier1_notes, counts)
    t.requester_id = _redact_value(t.requester_id, counts)
    t.organization = _redact_value(t.organization, counts)
    t.tags = _redact_value(t.tags, counts)
    t.custom_fields = _redact_value(t.custom_fields, counts)
    for c in t.comments:
        c.body = _redact_value(c.body, counts)


def _redact_transaction(t: Transaction, counts: Counter[str]) -> None:
    t.decline_reason = _redact_value(t.decline_reason, counts)
    t.attributes = _redact_value(t.attributes, counts)
    for e in t.events:
        e.detail = _redact_value(e.detail, counts)


def _redact_log(e: LogEvent, counts: Counter[str]) -> None:
    e.message = _redact_value(e.message, counts)
    e.attributes = _redact_value(e.attributes, counts)
    for name in ("transaction_id", "request_id", "merchant_id", "error_code", "service"):
        setattr(e, name, _redact_value(getattr(e, name), counts))


class _Rejects:
    """Writes rejected records (redacted) next to the input, in the input's own family of formats;
    in the temporary directory when the input's folder cannot be written (a read-only mount)."""

    def __init__(self, source: Path, fmt: FileFormat) -> None:
        self.csv = fmt == FileFormat.CSV
        suffix = ".csv" if self.csv else ".jsonl"
        self.path = source.with_name(f"{source.stem}.rejects{suffix}")
        self._fallback = Path(tempfile.gettempdir()) / f"paytriage-{source.stem}.rejects{suffix}"
        self._fh: Any = None
        self._writer: Any = None

    def write(self, line: int, field_name: str | None, message: str, raw: str) -> None:
        if self._fh is None:
            try:
                self._fh = self.path.open("w", encoding="utf-8", newline="")
            except OSError:
                self.path = self._fallback
                self._fh = self.path.open("w", encoding="utf-8", newline="")
            if self.csv:
                self._writer = csv.writer(self._fh)
                self._writer.writerow(["line", "field", "error", "row"])
        safe_raw = redact(raw).text
        if self.csv:
            self._writer.writerow([line, field_name or "", message, safe_raw])
        else:
            self._fh.write(
                json.dumps(
                    {"line": line, "field": field_name, "error": message, "row": safe_raw}, ensure_ascii=False
                )
                + "\n"
            )

    def close(self) -> str | None:
        if self._fh is None:
            if self.path.is_file():  # a previous run's rejects, now all accepted
                with contextlib.suppress(OSError):
                    self.path.unlink()
            return None
        self._fh.close()
        return str(self.path)


def ingest_file(
    db: Database,
    path: Path,
    kind: IngestKind,
    *,
    source: str | None = None,
    mapping: ColumnMapping | None = None,
    strict: bool = False,
    service: str | None = None,
    actor: str = "cli",
    batch_size: int = 1000,
    frt_target_s: int = 4 * 3600,
    res_target_s: int = 72 * 3600,
    on_progress: Callable[[int], None] | None = None,
    templates: Path | None = None,
) -> IngestReport:
    """Ingest one file. Raises :class:`InputError` only when the file as a whole cannot be read.

    Log events get the ids their text names (transaction, request, merchant, customer) in indexed
    columns; with ``templates`` (the template miner's state file, created when missing, saved when
    the ingest is stored) each also gets its template id, so template rates are index-only counts.
    """
    if not path.exists():
        raise InputError(f"file not found: {path}")
    if not path.is_file():
        raise InputError(f"not a regular file: {path}")
    fmt = detect_format(path)
    # a year-less timestamp (syslog) is placed at or before the file's last write
    heads = LineHeads(reference=datetime.fromtimestamp(path.stat().st_mtime, UTC))
    if kind == IngestKind.LOGS and fmt == FileFormat.TEXT:
        records: Iterator[Record] = read_text_log_records(path, heads)
    else:
        if fmt == FileFormat.TEXT:
            raise InputError(f"{path.name}: expected CSV, JSON or JSONL for {kind.value}")
        records = read_records(path, fmt)
    src = source or (
        "zendesk"
        if fmt == FileFormat.ZENDESK
        else path.stem
        if kind == IngestKind.LOGS
        else "csv"
        if fmt == FileFormat.CSV
        else "json"
    )
    report = IngestReport(kind=kind, path=str(path), strict=strict)
    miner: TemplateMiner | None = None
    if kind == IngestKind.LOGS and templates is not None:
        try:
            miner = TemplateMiner.load(templates) if templates.exists() else TemplateMiner()
        except (StateError, OSError) as exc:
            raise InputError(f"template state {templates}: {exc}") from None
    rejects = _Rejects(path, fmt)
    counts: Counter[str] = Counter()
    repeats: Counter[str] = Counter()  # identical log lines so far in this file
    masked_ids: list[str] = []
    batch: list[Any] = []
    total = BatchCounts()

    def parse(rec: Record) -> Any:
        data = rec.data
        assert data is not None
        if kind == IngestKind.TICKETS:
            if is_zendesk_ticket(data):
                obj: Any = ticket_from_zendesk(data, line=rec.line, source=source or "zendesk")
            else:
                obj = ticket_from_row(data, line=rec.line, source=src, mapping=mapping)
            before = sum(counts.values())
            _redact_ticket(obj, counts)
            if sum(counts.values()) > before and len(masked_ids) < 1000:
                masked_ids.append(obj.external_id)
            return obj
        if kind == IngestKind.TRANSACTIONS:
            obj = transaction_from_row(data, line=rec.line, source=src, mapping=mapping)
            _redact_transaction(obj, counts)
            return obj
        if kind == IngestKind.LOGS:
            if "_text" in data:
                obj = log_from_text(data["_text"], line=rec.line, source=src, service=service, heads=heads)
            else:
                obj = log_from_record(data, line=rec.line, source=src, service=service)
            _redact_log(obj, counts)
            # The fingerprint of the line as read, before enrichment: re-ingesting a file stored by an
            # earlier version (without extracted ids or templates) still adds nothing.
            obj.fingerprint = log_values(obj)["fingerprint"]
            # A line repeated verbatim in the same second is another event (a worker logging one error
            # per request), not a re-ingest: the k-th repeat in this file gets its own fingerprint,
            # the same on every read of the file, so the ingest stays idempotent and the rate is kept.
            seen = repeats[obj.fingerprint]
            repeats[obj.fingerprint] += 1
            if seen:
                obj.fingerprint = content_hash({"fingerprint": obj.fingerprint, "repeat": seen})[:40]
            enrich_event(obj, text_line="_text" in data, default_service=service)
            if miner is not None:
                obj.template_id = stored_template_id(miner.add_line(obj.message), obj.http_status)
            return obj
        return release_from_row(data, line=rec.line, mapping=mapping)

    def flush(session: Any) -> None:
        if not batch:
            return
        if kind == IngestKind.TICKETS:
            c = write_tickets(session, batch, frt_target_s=frt_target_s, res_target_s=res_target_s)
        elif kind == IngestKind.TRANSACTIONS:
            c = write_transactions(session, batch)
        elif kind == IngestKind.LOGS:
            c = write_logs(session, batch)
        else:
            c = write_releases(session, batch)
        total.add(c)
        batch.clear()

    def reject(line: int, field_name: str | None, message: str, raw: str) -> None:
        report.rejected += 1
        safe = redact(message).text
        if len(report.errors) < MAX_REPORTED_ERRORS:
            report.errors.append(RowProblem(line=line, field=field_name, message=safe))
        rejects.write(line, field_name, safe, raw)

    session = db.sessions()
    try:
        for rec in records:
            report.read += 1
            if rec.error is not None:
                reject(rec.line, None, rec.error, rec.raw)
            else:
                try:
                    batch.append(parse(rec))
                except InputError as exc:
                    reject(exc.line or rec.line, exc.field, exc.message, rec.raw)
            if len(batch) >= batch_size:
                flush(session)
                if not strict:
                    session.commit()
            if on_progress is not None:
                on_progress(1)
        flush(session)
        if strict and report.rejected:
            session.rollback()
            report.stored = False
        else:
            if counts or report.rejected:
                write_audit(
                    session,
                    AuditEvent(
                        at=utcnow(),
                        actor=actor,
                        action="ingest",
                        object_type=kind.value,
                        object_id=path.name,
                        details={
                            "masked": dict(counts),
                            "masked_record_ids": masked_ids,
                            "rejected": report.rejected,
                            "created": total.created,
                            "updated": total.updated,
                        },
                    ),
                )
            session.commit()
            if miner is not None and templates is not None:
                templates.parent.mkdir(parents=True, exist_ok=True)
                miner.save(templates)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        report.rejects_path = rejects.close()
    if report.stored:
        report.created, report.updated, report.unchanged = total.created, total.updated, total.unchanged
    report.redactions = dict(counts)
    return report
