"""`paytriage eval sandbox DIR`: ingest a sandbox into a fresh database, run the pipeline, score it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from paytriage.adapters.cli.output import EXIT_USAGE, JsonOption, console, emit, err_console, fail
from paytriage.adapters.cli.problems import IntentsOption, load_intents
from paytriage.adapters.storage.database import Database
from paytriage.config.settings import Settings, get_settings
from paytriage.domain import InputError
from paytriage.services.evaluation import PipelineRun, run_pipeline
from paytriage.services.triage import build_triager

__all__ = ["app", "register", "report_dict", "run_with_status", "summary_rows"]

app = typer.Typer(help="Evaluate the pipeline end to end against ground truth.", no_args_is_help=True)

HEADLINE = (
    "category_accuracy",
    "category_macro_f1",
    "route_accuracy",
    "priority_exact",
    "priority_within_one",
    "escalation_needed_precision",
    "escalation_needed_recall",
    "not_needed_precision",
    "not_needed_recall",
    "incident_precision",
    "incident_recall",
    "incidents",
    "incidents_called",
    "incidents_called_right",
    "attribution_accuracy",
)


def run_with_status(
    db: Database, directory: Path, settings: Settings, *, label: str, intents: Any = None
) -> PipelineRun:
    """The whole pipeline on a sandbox with a spinner naming each step; SLA targets from settings."""
    with err_console.status(label, spinner="dots") as status:
        return run_pipeline(
            db,
            directory,
            triager=build_triager(settings.triage_config_dir, settings.model_dir),
            on_step=lambda s: status.update(s),
            frt_target_s=int(settings.first_response_sla_hours * 3600),
            res_target_s=int(settings.resolution_sla_hours * 3600),
            intents=intents,
            min_customers=settings.problem_min_customers,
            alpha=settings.problem_alpha,
        )


def summary_rows(run: PipelineRun) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in HEADLINE:
        v = run.metrics.get(name)
        shown = "not built yet" if v is None else str(v) if isinstance(v, int) else f"{v:.3f}"
        rows.append({"metric": name, "value": shown})
    return rows


def report_dict(run: PipelineRun) -> dict[str, Any]:
    return {
        "metrics": run.metrics,
        "seconds": run.seconds,
        "ingest": [
            {
                "file": Path(r.path).name,
                "kind": r.kind.value,
                "created": r.created,
                "updated": r.updated,
                "unchanged": r.unchanged,
                "rejected": r.rejected,
                "masked": r.redactions,
            }
            for r in run.ingest
        ],
        "triage": None
        if run.triage is None
        else {
            "triaged": run.triage.triaged,
            "duplicates_linked": run.triage.duplicates_linked,
            "by_route": run.triage.by_route,
            "by_priority": run.triage.by_priority,
        },
    }


@app.command("sandbox")
def sandbox(
    directory: Annotated[Path, typer.Argument(help="A directory written by 'paytriage sandbox generate'.")],
    database_url: Annotated[
        str | None, typer.Option(help="Database to use (default: a fresh temporary SQLite).")
    ] = None,
    intents: IntentsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Ingest a sandbox into a fresh database, run the whole pipeline, and score it against ground truth."""
    settings = get_settings()
    clusterer = None
    if intents is not None:
        if not intents.exists():
            fail(f"--intents {intents}: no such file or folder", code=EXIT_USAGE)
        clusterer = load_intents(intents)
    with tempfile.TemporaryDirectory(prefix="paytriage-eval-") as tmp:
        db = Database(database_url or f"sqlite:///{tmp}/eval.db")
        db.migrate()
        try:
            run = run_with_status(db, directory, settings, label="evaluating", intents=clusterer)
        except InputError as exc:
            fail(str(exc))
        finally:
            db.dispose()
    if json_output:
        emit(report_dict(run), json_output=True)
    else:
        emit(summary_rows(run), json_output=False, title=f"sandbox evaluation: {directory}")
        console.print(f"seconds: {run.seconds}", highlight=False)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="eval")
