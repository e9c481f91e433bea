"""`paytriage triage FILE | --all`: triage a file of tickets without a database, or the stored cases.

Prints one JSON object per ticket (JSON lines) with ``--json``, a table otherwise. Bad rows stop
the run with one line naming the row; nothing unredacted is ever printed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from itertools import chain, islice
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from paytriage.adapters.cli.output import EXIT_USAGE, JsonOption, emit, err_console, fail
from paytriage.adapters.connectors.files import read_records
from paytriage.adapters.connectors.rows import ticket_from_row
from paytriage.domain.errors import InputError, PaytriageError
from paytriage.domain.ticket import Ticket
from paytriage.engines.triage.result import TriageResult
from paytriage.engines.triage.workers import CHUNK

__all__ = ["read_tickets", "register", "render_json_line", "render_row"]

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
#: A file shorter than this is triaged in this process (starting workers would not pay off).
_POOL_FROM = 4 * CHUNK


def render_json_line(result: TriageResult, *, full: bool = False) -> str:
    """One output line (runs in the worker processes, so the parent only writes)."""
    d = result.to_dict()
    out = d if full else {k: d[k] for k in _OUTPUT_FIELDS}
    try:
        return orjson.dumps(out, option=orjson.OPT_APPEND_NEWLINE).decode()
    except TypeError:  # what orjson cannot encode (e.g. integers beyond 64 bits) the standard library can
        return json.dumps(out, ensure_ascii=False) + "\n"


def render_row(result: TriageResult, *, full: bool = False) -> dict[str, Any]:
    """One row of the table shown without ``--json``."""
    return {
        "id": result.id,
        "category": result.category,
        "confidence": f"{result.category_confidence:.2f}",
        "route": result.route.value,
        "priority": result.priority.value,
        "needs_info": "yes" if result.needs_info else "",
    }


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any], str]]:
    """``(line, record, now)`` from CSV, JSONL or JSON (the ingest readers); unreadable lines raise."""
    now = datetime.now(UTC).isoformat()
    for rec in read_records(path):
        if rec.error is not None or rec.data is None:
            raise InputError(rec.error or "unreadable record", line=rec.line)
        yield rec.line, rec.data, now


def ticket_of(item: tuple[int, dict[str, Any], str]) -> Ticket:
    """One record as a ticket (runs in the worker processes); ``created_at`` may be absent (now)."""
    line, data, now = item
    row = data if data.get("created_at") else {**data, "created_at": now}
    return ticket_from_row(row, line=line, source="file")


def read_tickets(path: Path) -> Iterator[Ticket]:
    """Tickets from CSV, JSONL or JSON; ``created_at`` may be absent (now)."""
    return map(ticket_of, read_rows(path))


def triage_command(
    file: Annotated[
        Path | None,
        typer.Argument(help="CSV, JSONL or JSON file of tickets (fields as in docs/formats.md)."),
    ] = None,
    all_cases: Annotated[
        bool, typer.Option("--all", help="Triage the stored cases that have no triage yet.")
    ] = False,
    retriage: Annotated[
        bool, typer.Option("--retriage", help="With --all: triage every stored case again.")
    ] = False,
    json_output: JsonOption = False,
    config_dir: Annotated[
        Path | None,
        typer.Option(
            "--config-dir", help="Directory with taxonomy.yaml, routing.yaml, priority.yaml and knowledge/."
        ),
    ] = None,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model", help="A model directory from 'paytriage model train' (default: zero-config)."
        ),
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Include signals, priority factors and versions.")
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes for FILE (default: one per CPU; small files run in one).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Triage tickets from FILE without a database, or the stored cases with --all."""
    from paytriage.adapters.cli.serve import default_workers
    from paytriage.config.settings import get_settings
    from paytriage.services.triage import build_triager

    if all_cases == (file is not None):
        fail("give either FILE or --all", code=EXIT_USAGE)
    settings = get_settings()
    try:
        triager = build_triager(config_dir or settings.triage_config_dir, model or settings.model_dir)
    except PaytriageError as exc:
        fail(str(exc))
    if file is None:
        _triage_stored(triager, retriage=retriage, json_output=json_output)
        return

    render = partial(render_json_line if json_output else render_row, full=full)
    rows: list[dict[str, Any]] = []
    try:
        rows_in = read_rows(file)
        head = list(islice(rows_in, _POOL_FROM))
        use = (workers or default_workers()) if len(head) == _POOL_FROM else 1
        stream = triager.triage_stream(chain(head, rows_in), workers=use, render=render, convert=ticket_of)
        for out in stream:
            if json_output:
                sys.stdout.write(out)
            else:
                rows.append(out)
    except PaytriageError as exc:
        fail(f"{file}: {exc}")
    finally:
        triager.close()
    if not json_output:
        emit(rows, json_output=False, title=f"triage of {file.name}")


def _triage_stored(triager: Any, *, retriage: bool, json_output: bool) -> None:
    from paytriage.adapters.cli.context import open_database
    from paytriage.services.triage import triage_cases

    db = open_database()
    with Progress(
        SpinnerColumn(),
        TextColumn("triage"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=json_output,
    ) as progress:
        task = progress.add_task("cases", total=None)
        report = triage_cases(db, triager, retriage=retriage, on_progress=lambda n: progress.advance(task, n))
    db.dispose()
    emit(report, json_output=json_output, title="triage of stored cases")


def register(app: typer.Typer) -> None:
    """Attach ``paytriage triage FILE``."""
    app.command("triage")(triage_command)
