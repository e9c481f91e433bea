"""Turn one input record (a dict) into a domain object, or raise :class:`RowError` naming the field.

Pure functions: no database, no redaction (the ingest service redacts before anything is stored).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from paytriage.adapters.connectors.log_layouts import LineHeads
from paytriage.domain import (
    Channel,
    Comment,
    LogEvent,
    LogLevel,
    Money,
    Release,
    RowError,
    StatusEvent,
    Ticket,
    Transaction,
    TransactionKind,
    TransactionStatus,
)
from paytriage.domain.errors import InputError

__all__ = [
    "ColumnMapping",
    "is_zendesk_ticket",
    "log_from_record",
    "log_from_text",
    "parse_timestamp",
    "release_from_row",
    "ticket_from_row",
    "ticket_from_zendesk",
    "transaction_from_row",
]

ColumnMapping = Mapping[str, str]

_TICKET_FIELDS = {
    "id",
    "created_at",
    "subject",
    "description",
    "body",
    "requester_id",
    "requester_email",
    "organization",
    "channel",
    "status",
    "priority",
    "tags",
    "tier1_agent",
    "tier1_notes",
    "comments",
    "updated_at",
    "source",
}
_TXN_FIELDS = {
    "id",
    "created_at",
    "kind",
    "amount",
    "amount_minor",
    "currency",
    "status",
    "merchant_id",
    "customer_id",
    "processor",
    "card_bin",
    "card_last4",
    "response_code",
    "decline_reason",
    "parent_id",
    "country",
    "events",
}
_LOG_ALIASES = {
    "ts": "timestamp",
    "time": "timestamp",
    "@timestamp": "timestamp",
    "msg": "message",
    "status": "http_status",
    "status_code": "http_status",
    "severity": "level",
    "lvl": "level",
    "txn_id": "transaction_id",
    "req_id": "request_id",
    "component": "service",
}
_LOG_FIELDS = {
    "timestamp",
    "message",
    "service",
    "level",
    "transaction_id",
    "request_id",
    "merchant_id",
    "http_status",
    "error_code",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def _rename(row: Mapping[str, Any], mapping: ColumnMapping | None) -> dict[str, Any]:
    if not mapping:
        return {str(k).strip(): v for k, v in row.items()}
    return {mapping.get(str(k).strip(), str(k).strip()): v for k, v in row.items()}


def parse_timestamp(value: Any, *, field: str, line: int | None = None) -> datetime:
    """ISO 8601 (``Z`` or offset; naive means UTC), ``YYYY-MM-DD HH:MM:SS,mmm`` or epoch seconds/ms."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            raise RowError(f"epoch timestamp out of range: {value}", line=line, field=field) from None
    s = _text(value)
    if s is None:
        raise RowError("is required", line=line, field=field)
    if s.isascii() and s.isdigit():
        return parse_timestamp(int(s), field=field, line=line)
    candidate = s.replace(",", ".", 1) if re.match(r".*\d{2}:\d{2}:\d{2},\d", s) else s
    try:
        dt = datetime.fromisoformat(candidate) if candidate.isascii() else None
        if dt is None:
            raise ValueError(candidate)
    except ValueError:
        raise RowError(f"not a timestamp: {s[:40]!r} (use ISO 8601)", line=line, field=field) from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _required(row: Mapping[str, Any], field: str, line: int) -> str:
    v = _text(row.get(field))
    if v is None:
        raise RowError("is required", line=line, field=field)
    return v


def _tags(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(t).strip() for t in value if str(t).strip()]
    return [t.strip() for t in re.split(r"[;|]", str(value)) if t.strip()]


def _comments(value: Any, line: int) -> list[Comment]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise RowError("must be a JSON list of comments", line=line, field="comments") from None
    if not isinstance(value, list):
        raise RowError("must be a list", line=line, field="comments")
    out = []
    for i, c in enumerate(value):
        if not isinstance(c, dict):
            raise RowError(f"comment {i + 1} must be an object", line=line, field="comments")
        out.append(
            Comment(
                author=str(c.get("author") or c.get("author_id") or "unknown"),
                body=str(c.get("body") or ""),
                created_at=parse_timestamp(c.get("created_at"), field=f"comments[{i}].created_at", line=line),
                public=bool(c.get("public", True)),
            )
        )
    return out


def ticket_from_row(
    raw: Mapping[str, Any], *, line: int, source: str, mapping: ColumnMapping | None = None
) -> Ticket:
    """A generic CSV/JSON ticket row."""
    row = _rename(raw, mapping)
    if "description" not in row and "body" in row:
        row["description"] = row.pop("body")
    external_id = _required(row, "id", line)
    created_at = parse_timestamp(row.get("created_at"), field="created_at", line=line)
    description = _required(row, "description", line)
    updated = row.get("updated_at")
    return Ticket(
        external_id=external_id,
        source=_text(row.get("source")) or source,
        created_at=created_at,
        updated_at=parse_timestamp(updated, field="updated_at", line=line) if _text(updated) else None,
        description=description,
        subject=_text(row.get("subject")) or "",
        channel=Channel.parse(_text(row.get("channel"))),
        status=_text(row.get("status")) or "open",
        priority=_text(row.get("priority")),
        requester_id=_text(row.get("requester_id")),
        requester_email=_text(row.get("requester_email")),
        organization=_text(row.get("organization")),
        tags=_tags(row.get("tags")),
        tier1_agent=_text(row.get("tier1_agent")),
        tier1_notes=_text(row.get("tier1_notes")),
        comments=_comments(row.get("comments"), line),
        custom_fields={k: v for k, v in row.items() if k not in _TICKET_FIELDS and v not in (None, "")},
    )


def is_zendesk_ticket(row: Mapping[str, Any]) -> bool:
    """Zendesk's ticket objects carry ``via`` and ``raw_subject`` or an ``url`` into /api/v2/tickets."""
    return "via" in row and ("raw_subject" in row or "/api/v2/tickets/" in str(row.get("url", "")))


def ticket_from_zendesk(row: Mapping[str, Any], *, line: int, source: str = "zendesk") -> Ticket:
    """A ticket object as Zendesk's incremental export returns it."""
    if row.get("id") is None:
        raise RowError("is required", line=line, field="id")
    via = row.get("via") or {}
    custom = {
        f"zendesk_field_{f.get('id')}": f.get("value")
        for f in row.get("custom_fields") or []
        if isinstance(f, dict) and f.get("value") not in (None, "")
    }
    for key in (
        "type",
        "group_id",
        "assignee_id",
        "brand_id",
        "external_id",
        "problem_id",
        "satisfaction_rating",
    ):
        if row.get(key) not in (None, "", {}):
            custom[key] = row[key]
    description = _text(row.get("description"))
    if description is None:
        raise RowError("is required", line=line, field="description")
    return Ticket(
        external_id=str(row["id"]),
        source=source,
        created_at=parse_timestamp(row.get("created_at"), field="created_at", line=line),
        updated_at=parse_timestamp(row["updated_at"], field="updated_at", line=line)
        if row.get("updated_at")
        else None,
        description=description,
        subject=_text(row.get("subject") or row.get("raw_subject")) or "",
        channel=Channel.parse(via.get("channel") if isinstance(via, dict) else None),
        status=_text(row.get("status")) or "open",
        priority=_text(row.get("priority")),
        requester_id=_text(row.get("requester_id")),
        organization=_text(row.get("organization_id")),
        tags=_tags(row.get("tags")),
        custom_fields=custom,
        comments=_comments(row.get("comments"), line),
    )


def transaction_from_row(
    raw: Mapping[str, Any], *, line: int, source: str, mapping: ColumnMapping | None = None
) -> Transaction:
    row = _rename(raw, mapping)
    external_id = _required(row, "id", line)
    created_at = parse_timestamp(row.get("created_at"), field="created_at", line=line)
    kind_s = _required(row, "kind", line).lower()
    try:
        kind = TransactionKind(kind_s)
    except ValueError:
        raise RowError(
            f"unknown kind {kind_s!r}; one of {', '.join(k.value for k in TransactionKind)}",
            line=line,
            field="kind",
        ) from None
    status_s = _required(row, "status", line).lower()
    try:
        status = TransactionStatus(status_s)
    except ValueError:
        raise RowError(f"unknown status {status_s!r}", line=line, field="status") from None
    currency = _required(row, "currency", line)
    try:
        if _text(row.get("amount_minor")) is not None:
            minor = str(row["amount_minor"]).strip()
            if not re.fullmatch(r"-?\d+", minor):
                raise RowError("must be an integer number of minor units", line=line, field="amount_minor")
            amount = Money(int(minor), currency)
        else:
            amount = Money.from_decimal(_required(row, "amount", line), currency)
    except RowError:
        raise
    except InputError as exc:
        raise RowError(exc.message, line=line, field=exc.field) from None
    events = []
    raw_events = row.get("events")
    if isinstance(raw_events, str) and raw_events.strip():
        try:
            raw_events = json.loads(raw_events)
        except json.JSONDecodeError:
            raise RowError("must be a JSON list", line=line, field="events") from None
    for i, e in enumerate(raw_events or []):
        if not isinstance(e, dict):
            raise RowError(f"event {i + 1} must be an object", line=line, field="events")
        try:
            ev_status = TransactionStatus(str(e.get("status", "")).lower())
        except ValueError:
            raise RowError(f"event {i + 1} has unknown status", line=line, field="events") from None
        events.append(
            StatusEvent(
                at=parse_timestamp(e.get("at"), field=f"events[{i}].at", line=line),
                status=ev_status,
                code=_text(e.get("code")),
                detail=_text(e.get("detail")),
            )
        )
    card_bin = _text(row.get("card_bin"))
    last4 = _text(row.get("card_last4"))
    if card_bin is not None and not re.fullmatch(r"\d{6,8}", card_bin):
        raise RowError("must be the first 6-8 digits of the card only", line=line, field="card_bin")
    if last4 is not None and not re.fullmatch(r"\d{4}", last4):
        raise RowError("must be exactly the last 4 digits", line=line, field="card_last4")
    country = _text(row.get("country"))
    if country is not None and not re.fullmatch(r"[A-Za-z]{2}", country):
        raise RowError("must be an ISO 3166 alpha-2 code", line=line, field="country")
    return Transaction(
        external_id=external_id,
        source=source,
        kind=kind,
        amount=amount,
        status=status,
        created_at=created_at,
        merchant_id=_text(row.get("merchant_id")),
        customer_id=_text(row.get("customer_id")),
        processor=_text(row.get("processor")),
        card_bin=card_bin,
        card_last4=last4,
        response_code=_text(row.get("response_code")),
        decline_reason=_text(row.get("decline_reason")),
        parent_id=_text(row.get("parent_id")),
        country=country.upper() if country else None,
        events=events,
        attributes={k: v for k, v in row.items() if k not in _TXN_FIELDS and v not in (None, "")},
    )


def log_from_record(
    raw: Mapping[str, Any], *, line: int, source: str, service: str | None = None
) -> LogEvent:
    """A JSON log object, with common alias keys."""
    row = {_LOG_ALIASES.get(str(k), str(k)): v for k, v in raw.items()}
    ts = parse_timestamp(row.get("timestamp"), field="timestamp", line=line)
    message = row.get("message")
    if message is None:
        message = _synthesize_message(row)
    if message is None:
        raise RowError(
            "is required (or method/endpoint/status fields to describe the event)", line=line, field="message"
        )
    http = row.get("http_status")
    http_status: int | None = None
    if http not in (None, ""):
        try:
            http_status = int(str(http))
        except ValueError:
            raise RowError("must be an integer HTTP status", line=line, field="http_status") from None
    return LogEvent(
        timestamp=ts,
        message=message if isinstance(message, str) else json.dumps(message, ensure_ascii=False),
        source=source,
        service=_text(row.get("service")) or service,
        level=LogLevel.parse(_text(row.get("level"))),
        transaction_id=_text(row.get("transaction_id")),
        request_id=_text(row.get("request_id")),
        merchant_id=_text(row.get("merchant_id")),
        http_status=http_status,
        error_code=_text(row.get("error_code")),
        attributes={k: v for k, v in row.items() if k not in _LOG_FIELDS},
    )


_MESSAGE_ALIASES = ("log", "event", "error", "err", "description", "text")
_REQUEST_PARTS = (
    ("method", "http_method", "verb"),
    ("endpoint", "path", "url", "uri", "route"),
    ("http_status",),
    ("error_code", "code", "reason"),
)


def _synthesize_message(row: Mapping[str, Any]) -> str | None:
    """Structured request logs (API gateways, load balancers) often carry no message: describe the request."""
    for key in _MESSAGE_ALIASES:
        if isinstance(row.get(key), str) and row[key].strip():
            return str(row[key])
    parts = []
    for aliases in _REQUEST_PARTS:
        value = next((row[a] for a in aliases if row.get(a) not in (None, "")), None)
        if value is not None:
            parts.append(str(value))
    return " ".join(parts) if len(parts) >= 2 else None


def log_from_text(
    text: str, *, line: int, source: str, service: str | None = None, heads: LineHeads | None = None
) -> LogEvent:
    """A plain-text log line that starts with a timestamp in one of the layouts of
    :mod:`.log_layouts` (``heads``: the file's reader, which knows its layout and last write)."""
    head = (heads or LineHeads()).parse(text)
    if head is None:
        raise RowError(
            "does not start with a timestamp in a known layout (ISO 8601, syslog, Apache, common log, "
            "Hadoop, klog, logcat, epoch; see docs/formats.md)",
            line=line,
            field="timestamp",
        )
    return LogEvent(
        timestamp=head.timestamp,
        message=head.message,
        source=source,
        service=head.service or service,
        level=LogLevel.parse(head.level),
        http_status=head.http_status,
    )


def release_from_row(raw: Mapping[str, Any], *, line: int, mapping: ColumnMapping | None = None) -> Release:
    row = _rename(raw, mapping)
    return Release(
        component=_required(row, "component", line),
        version=_required(row, "version", line),
        released_at=parse_timestamp(row.get("released_at"), field="released_at", line=line),
        notes=_text(row.get("notes")) or "",
    )
