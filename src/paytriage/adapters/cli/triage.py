"""`paytriage triage FILE`: triage a CSV/JSONL/JSON file of tickets without a database.

Prints one JSON object per ticket (JSON lines) with ``--json``, a table otherwise. Bad rows stop
the run with one line naming the row; nothing unredacted is ever printed.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from paytriage.adapters.cli.output import JsonOption, emit, fail
from paytriage.domain.clock import ensure_utc
from paytriage.domain.errors import InputError, PaytriageError
from paytriage.domain.ticket import Channel, Ticket

__all__ = ["read_tickets", "register"]

_KNOWN = {
    "id",
    "created_at",
    "description",
    "body",
    "subject",
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
}
_OUTPUT_FIELDS = (
    "id",
    "category",
    "category_confidence",
    "route",
    "priority",
    "needs_info",
    "questions",
    "entities",
    "redacted_text",
    "reasons",
)
_BATCH = 512


def _ticket(row: dict[str, Any], line: int) -> Ticket:
    if not isinstance(row, dict):
        raise InputError("expected an object with ticket fields", line=line)
    tid = row.get("id")
    if tid is None or str(tid).strip() == "":
        raise InputError("missing required field", line=line, field="id")
    text = row.get("description", row.get("body"))
    if text is None:
        raise InputError("missing required field (or its alias 'body')", line=line, field="description")
    if not isinstance(text, str):
        raise InputError("must be text", line=line, field="description")
    created = datetime.now(UTC)
    if row.get("created_at"):
        try:
            created = ensure_utc(datetime.fromisoformat(str(row["created_at"]).replace("Z", "+00:00")))
        except ValueError:
            raise InputError(
                f"not an ISO 8601 timestamp: {str(row['created_at'])[:40]!r}", line=line, field="created_at"
            ) from None
    tags = row.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(";") if t.strip()]
    return Ticket(
        external_id=str(tid),
        source="file",
        created_at=created,
        description=text,
        subject=str(row.get("subject") or ""),
        channel=Channel.parse(row.get("channel")),
        requester_id=str(row["requester_id"]) if row.get("requester_id") else None,
        requester_email=str(row["requester_email"]) if row.get("requester_email") else None,
        organization=str(row["organization"]) if row.get("organization") else None,
        tags=[str(t) for t in tags],
        tier1_notes=str(row["tier1_notes"]) if row.get("tier1_notes") else None,
        custom_fields={k: v for k, v in row.items() if k not in _KNOWN and v not in (None, "")},
    )


def read_tickets(path: Path) -> Iterator[Ticket]:
    """Tickets from CSV (header row), JSONL or JSON (a list or ``{"tickets": [...]}``); bad rows named."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    suffix = path.suffix.lower()
    stripped = text.lstrip()
    if suffix == ".csv" or (
        suffix not in {".json", ".jsonl", ".ndjson"} and not stripped.startswith(("{", "["))
    ):
        reader = csv.DictReader(text.splitlines(keepends=True))
        if not reader.fieldnames:
            return
        for row in reader:
            line = reader.line_num
            if None in row:
                raise InputError("more values than header columns", line=line)
            yield _ticket(dict(row), line)
        return
    if stripped.startswith("[") or (suffix == ".json" and stripped.startswith("{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", line=exc.lineno) from None
        items = data.get("tickets") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise InputError('expected a list of tickets or {"tickets": [...]}')
        for i, item in enumerate(items, start=1):
            yield _ticket(item, i)
        return
    for n, line_text in enumerate(text.splitlines(), start=1):
        if not line_text.strip():
            continue
        try:
            obj = json.loads(line_text)
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON: {exc.msg}", line=n) from None
        yield _ticket(obj, n)


def triage_command(
    file: Annotated[
        Path, typer.Argument(help="CSV, JSONL or JSON file of tickets (fields as in docs/formats.md).")
    ],
    json_output: JsonOption = False,
    config_dir: Annotated[
        Path | None,
        typer.Option(
            "--config-dir", help="Directory with taxonomy.yaml, routing.yaml, priority.yaml and knowledge/."
        ),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Include signals, priority factors and versions.")
    ] = False,
) -> None:
    """Triage tickets from FILE without a database: category, route, priority, needs-info and reasons."""
    from paytriage.engines.triage import Triager

    try:
        triager = Triager.from_config(config_dir)
        batch: list[Ticket] = []
        rows: list[dict[str, Any]] = []

        def flush() -> None:
            for result in triager.triage_many(batch):
                d = result.to_dict()
                out = d if full else {k: d[k] for k in _OUTPUT_FIELDS}
                if json_output:
                    sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
                else:
                    rows.append(
                        {
                            "id": d["id"],
                            "category": d["category"],
                            "confidence": f"{d['category_confidence']:.2f}",
                            "route": d["route"],
                            "priority": d["priority"],
                            "needs_info": "yes" if d["needs_info"] else "",
                        }
                    )
            batch.clear()

        for ticket in read_tickets(file):
            batch.append(ticket)
            if len(batch) >= _BATCH:
                flush()
        flush()
    except PaytriageError as exc:
        fail(f"{file}: {exc}")
    if not json_output:
        emit(rows, json_output=False, title=f"triage of {file.name}")


def register(app: typer.Typer) -> None:
    """Attach ``paytriage triage FILE``."""
    app.command("triage")(triage_command)
