"""`paytriage demo`: generate the payments sandbox, ingest it, run the pipeline, score it, then serve."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from paytriage.adapters.cli.context import open_database
from paytriage.adapters.cli.evaluation import report_dict, run_with_status, summary_rows
from paytriage.adapters.cli.output import JsonOption, console, emit, err_console
from paytriage.adapters.storage.cases import CaseFilters, CaseRepository
from paytriage.config.settings import get_settings
from paytriage.sandbox.generator import SandboxConfig, generate

__all__ = ["demo", "register"]


def _sandbox(directory: Path, cfg: SandboxConfig) -> Path:
    """Generate once per seed and size; a second demo run reuses the files (ingest is idempotent anyway)."""
    manifest = directory / "manifest.json"
    if manifest.exists():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        if data.get("seed") == cfg.seed and data.get("tickets") == cfg.tickets:
            return directory
    with err_console.status(f"generating sandbox ({cfg.tickets} tickets, {cfg.days} days)", spinner="dots"):
        generate(cfg, directory)
    return directory


def demo(
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Run the job and exit without serving.")
    ] = False,
    tickets: Annotated[int, typer.Option(min=10, help="Sandbox size in tickets.")] = 2000,
    days: Annotated[int, typer.Option(min=1, help="Sandbox span in days.")] = 30,
    seed: Annotated[int, typer.Option(help="Sandbox seed.")] = 7,
    json_output: JsonOption = False,
) -> None:
    """Generate the payments sandbox, ingest it into the default database, triage, score, then serve."""
    settings = get_settings()
    directory = _sandbox(
        settings.data_dir / f"sandbox-seed{seed}-{tickets}",
        SandboxConfig(seed=seed, tickets=tickets, days=days),
    )
    db = open_database(settings)
    run = run_with_status(db, directory, settings, label="running the pipeline")
    with db.session() as s:
        repo = CaseRepository(s)
        _, open_cases = repo.search(CaseFilters(open_only=True), limit=1)
        counts = repo.status_counts()
    db.dispose()
    if json_output:
        emit(
            {
                **report_dict(run),
                "sandbox": str(directory),
                "open_cases": open_cases,
                "cases_by_status": counts,
                "database": settings.resolved_database_url,
            },
            json_output=True,
        )
    else:
        emit(
            [
                {
                    "file": Path(r.path).name,
                    "created": r.created,
                    "unchanged": r.unchanged,
                    "rejected": r.rejected,
                    "masked": sum(r.redactions.values()),
                }
                for r in run.ingest
            ],
            json_output=False,
            title="ingest",
        )
        emit(summary_rows(run), json_output=False, title="evaluation against sandbox ground truth")
        console.print(f"open cases: {open_cases}  by status: {counts}", highlight=False)
        console.print(f"seconds: {run.seconds}  database: {settings.resolved_database_url}", highlight=False)
    if not no_serve:
        from paytriage.adapters.cli.serve import serve

        console.print(f"serving on http://{settings.host}:{settings.port}  (Ctrl+C to stop)")
        serve()


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
