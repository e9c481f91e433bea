"""`paytriage ingest tickets|transactions|logs|releases FILE`: idempotent, redacted, streaming."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from paytriage.adapters.cli.context import open_database
from paytriage.adapters.cli.output import EXIT_BAD_INPUT, JsonOption, console, emit, err_console, fail
from paytriage.config.settings import get_settings
from paytriage.domain import InputError
from paytriage.services.ingest import IngestKind, IngestReport, ingest_file, load_mapping

__all__ = ["EXIT_PARTIAL", "app", "register"]

EXIT_PARTIAL = 3
app = typer.Typer(
    help="Import tickets, transactions, logs and releases (idempotent; card numbers masked).",
    no_args_is_help=True,
)

FileArg = Annotated[Path, typer.Argument(help="CSV, JSON, JSONL (or Zendesk export / text log) file.")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Store nothing if any row is bad.")]
SourceOpt = Annotated[str | None, typer.Option("--source", help="Source name for idempotency keys.")]
MappingOpt = Annotated[Path | None, typer.Option("--mapping", help="YAML file renaming columns.")]


def run_ingest(
    path: Path,
    kind: IngestKind,
    *,
    strict: bool,
    source: str | None,
    mapping: Path | None,
    json_output: bool,
    service: str | None = None,
    quiet: bool = False,
) -> IngestReport:
    """Run one ingest with a progress bar and print its report; exits non-zero on bad input."""
    settings = get_settings()
    try:
        cols = load_mapping(mapping)
        db = open_database(settings)
        with Progress(
            SpinnerColumn(),
            TextColumn(f"ingest {kind.value}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=json_output or quiet,
        ) as progress:
            task = progress.add_task("rows", total=None)
            report = ingest_file(
                db,
                path,
                kind,
                source=source,
                mapping=cols,
                strict=strict,
                service=service,
                batch_size=settings.ingest_batch_size,
                frt_target_s=int(settings.first_response_sla_hours * 3600),
                res_target_s=int(settings.resolution_sla_hours * 3600),
                on_progress=lambda n: progress.advance(task, n),
                templates=settings.data_dir / "log_templates.json",  # shared with `paytriage investigate`
            )
        db.dispose()
    except InputError as exc:
        fail(str(exc) if path.name in str(exc) else f"{path.name}: {exc}")
    if not quiet:
        _print(report, json_output)
    if report.rejected and not report.stored:
        raise typer.Exit(EXIT_BAD_INPUT)
    if report.rejected:
        raise typer.Exit(EXIT_PARTIAL)
    return report


def _print(report: IngestReport, json_output: bool) -> None:
    if json_output:
        emit(
            {
                **{
                    k: getattr(report, k)
                    for k in (
                        "kind",
                        "path",
                        "strict",
                        "read",
                        "created",
                        "updated",
                        "unchanged",
                        "rejected",
                        "stored",
                        "rejects_path",
                        "redactions",
                        "errors",
                    )
                },
                "outcome": report.outcome,
            },
            json_output=True,
        )
        return
    for e in report.errors[:20]:
        where = f"line {e.line}" + (f", field '{e.field}'" if e.field else "")
        err_console.print(f"[red]rejected[/] {where}: {e.message}", highlight=False)
    if report.rejected > 20:
        err_console.print(f"... and {report.rejected - 20} more rejected rows", highlight=False)
    verdict = (
        "stored nothing (--strict and bad rows)"
        if not report.stored
        else f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}"
    )
    console.print(
        f"{report.kind.value}: read {report.read}, {verdict}, rejected {report.rejected}", highlight=False
    )
    if report.redactions:
        masked = ", ".join(f"{k}: {v}" for k, v in sorted(report.redactions.items()))
        console.print(f"masked before storage: {masked}", highlight=False)
    if report.rejects_path:
        console.print(f"rejected rows written to {report.rejects_path}", highlight=False)


@app.command("tickets")
def tickets(
    path: FileArg,
    strict: StrictOpt = False,
    source: SourceOpt = None,
    mapping: MappingOpt = None,
    json_output: JsonOption = False,
) -> None:
    """Import tickets (CSV, JSON, JSONL or a Zendesk incremental export).

    Exit code 0: all stored; 1: nothing stored (bad file, or --strict with bad rows); 3: some rows rejected.
    """
    run_ingest(
        path, IngestKind.TICKETS, strict=strict, source=source, mapping=mapping, json_output=json_output
    )


@app.command("transactions")
def transactions(
    path: FileArg,
    strict: StrictOpt = False,
    source: SourceOpt = None,
    mapping: MappingOpt = None,
    json_output: JsonOption = False,
) -> None:
    """Import transactions (amounts in minor units or decimal strings, never floats)."""
    run_ingest(
        path, IngestKind.TRANSACTIONS, strict=strict, source=source, mapping=mapping, json_output=json_output
    )


@app.command("logs")
def logs(
    path: FileArg,
    strict: StrictOpt = False,
    source: SourceOpt = None,
    service: Annotated[
        str | None, typer.Option("--service", help="Service name for lines without one.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Import log lines (JSONL, or text lines starting with a timestamp)."""
    run_ingest(
        path,
        IngestKind.LOGS,
        strict=strict,
        source=source,
        mapping=None,
        json_output=json_output,
        service=service,
    )


@app.command("releases")
def releases(
    path: FileArg, strict: StrictOpt = False, mapping: MappingOpt = None, json_output: JsonOption = False
) -> None:
    """Import releases (component, version, released_at, notes)."""
    run_ingest(
        path, IngestKind.RELEASES, strict=strict, source=None, mapping=mapping, json_output=json_output
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="ingest")
