"""`paytriage demo`: the main job on the embedded default (SQLite + built-in data), then serve the app."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from paytriage.adapters.cli.context import open_database
from paytriage.adapters.cli.output import JsonOption, console, emit
from paytriage.adapters.storage.cases import CaseFilters, CaseRepository
from paytriage.config.settings import get_settings
from paytriage.services.ingest import IngestKind, ingest_file

__all__ = ["demo", "register"]

_EXAMPLES = (
    ("tickets.csv", IngestKind.TICKETS),
    ("transactions.csv", IngestKind.TRANSACTIONS),
    ("logs.jsonl", IngestKind.LOGS),
    ("app.log", IngestKind.LOGS),
    ("releases.csv", IngestKind.RELEASES),
)


def _example_files() -> list[tuple[Path, IngestKind]]:
    base = resources.files("paytriage") / "examples"
    return [(Path(str(base / name)), kind) for name, kind in _EXAMPLES]


def demo(
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Run the job and exit without serving.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Ingest the built-in example set into the default database, summarise the queue, then serve."""
    settings = get_settings()
    db = open_database(settings)
    summary: list[dict[str, Any]] = []
    for path, kind in _example_files():
        report = ingest_file(
            db,
            path,
            kind,
            source="demo",
            frt_target_s=int(settings.first_response_sla_hours * 3600),
            res_target_s=int(settings.resolution_sla_hours * 3600),
        )
        summary.append(
            {
                "step": f"ingest {kind.value}",
                "file": path.name,
                "read": report.read,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
                "masked": sum(report.redactions.values()),
            }
        )
    with db.session() as s:
        repo = CaseRepository(s)
        _, open_cases = repo.search(CaseFilters(open_only=True), limit=1)
        counts = repo.status_counts()
    db.dispose()
    if json_output:
        emit(
            {
                "steps": summary,
                "open_cases": open_cases,
                "cases_by_status": counts,
                "database": settings.resolved_database_url,
            },
            json_output=True,
        )
    else:
        emit(summary, json_output=False, title="paytriage demo")
        console.print(f"open cases: {open_cases}  by status: {counts}", highlight=False)
        console.print(f"database: {settings.resolved_database_url}", highlight=False)
    if not no_serve:
        from paytriage.adapters.cli.serve import serve

        console.print(f"serving on http://{settings.host}:{settings.port}  (Ctrl+C to stop)")
        serve()


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
