"""`paytriage logs` commands: mine log templates from a file (Loghub-style CSV out); re-index stored logs."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from paytriage.adapters.cli.context import open_database
from paytriage.adapters.cli.output import EXIT_USAGE, JsonOption, emit, err_console, fail
from paytriage.config.settings import get_settings
from paytriage.engines.logmining import LogFormat, LogFormatError, MaskingError, TemplateMiner
from paytriage.engines.logmining.fields import RULES_VERSION
from paytriage.engines.logmining.miner import StateError

__all__ = ["register", "reindex", "templates"]

logs_app = typer.Typer(help="Log analysis: template mining, re-indexing stored logs.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Attach ``paytriage logs …`` to the root app."""
    app.add_typer(logs_app, name="logs")


@logs_app.command("templates")
def templates(
    input_path: Annotated[
        Path, typer.Option("--input", "-i", help="Log file to mine (UTF-8 text, one event a line).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV to write: LineId, EventId, EventTemplate.")],
    log_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="Line layout in logparser notation, e.g. '<Date> <Time> <Level> <Component>: <Content>'. "
            "Without it the whole line is the message; a line that does not fit it is mined whole.",
        ),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            "-s",
            help="Miner state JSON: loaded when it exists, saved after the run (ids stay stable).",
        ),
    ] = None,
    masking: Annotated[
        Path | None,
        typer.Option("--masking", help="Masking rules YAML (default: the packaged config/log_masking.yaml)."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Turn each line of INPUT into a template (variables as <*>) and write one CSV row per line."""
    fmt: LogFormat | None = None
    if log_format:
        try:
            fmt = LogFormat.compile(log_format)
        except LogFormatError as exc:
            fail(str(exc), code=EXIT_USAGE)
    if not input_path.is_file():
        fail(f"--input {input_path}: no such file")
    try:
        if state is not None and state.exists():
            miner = TemplateMiner.load(state)
        else:
            miner = TemplateMiner(masking=masking)
    except (StateError, MaskingError, OSError) as exc:
        fail(str(exc))

    ids: list[int] = []
    unfit: list[int] = []
    size = input_path.stat().st_size
    with Progress(
        TextColumn("mining templates"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=size < 5_000_000,
    ) as progress:
        task = progress.add_task("mine", total=size)
        with input_path.open(encoding="utf-8", errors="replace", newline="") as fh:
            for n, line in enumerate(fh, 1):
                progress.advance(task, len(line))
                text = line.rstrip("\r\n")
                if fmt is not None:
                    content = fmt.content(text)
                    if content is None:
                        unfit.append(n)
                        content = text
                    text = content
                ids.append(miner.add_line(text))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["LineId", "EventId", "EventTemplate"])
            for n, tid in enumerate(ids, 1):
                tpl = miner.resolve(tid)
                writer.writerow([n, f"E{tpl.id}", tpl.text])
        if state is not None:
            miner.save(state)
    except OSError as exc:
        fail(f"cannot write output: {exc}")
    live = sorted(miner.templates(), key=lambda t: -t.size)
    summary = {
        "lines": len(ids),
        "templates": len({miner.resolve(t).id for t in set(ids)}),
        "templates_in_state": len(live),
        "lines_not_matching_format": len(unfit),
        "first_lines_not_matching_format": unfit[:10],
        "out": str(out),
        "state": None if state is None else str(state),
        "masking_version": miner.masker_.version,
        "top_templates": [
            {"EventId": f"E{t.id}", "count": t.size, "EventTemplate": t.text} for t in live[:10]
        ],
    }
    if json_output:
        emit(summary, json_output=True)
        return
    note = (
        f", {len(unfit)} lines did not fit --format and were mined whole (first: {unfit[:5]})"
        if unfit
        else ""
    )
    err_console.print(f"{len(ids)} lines → {summary['templates']} templates, written to {out}{note}")
    emit(
        summary["top_templates"],
        json_output=False,
        columns=["EventId", "count", "EventTemplate"],
        title="Most frequent templates",
    )


@logs_app.command("reindex")
def reindex(
    templates_state: Annotated[
        Path | None,
        typer.Option(
            "--templates", help="Template miner state (default: log_templates.json in the data dir)."
        ),
    ] = None,
    no_templates: Annotated[
        bool, typer.Option("--no-templates", help="Only fill id columns; leave template ids alone.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Bring stored log events up to date: ids named in their text into the indexed id columns
    (transaction, request, merchant, customer), and template ids for rows without one. Only empty
    columns are filled; safe to re-run."""
    from paytriage.services.log_index import reindex_logs  # the database stack only when needed

    state = None if no_templates else (templates_state or get_settings().data_dir / "log_templates.json")
    db = open_database()
    try:
        with Progress(
            TextColumn("re-indexing logs"),
            BarColumn(),
            console=err_console,
            transient=True,
            disable=json_output,
        ) as progress:
            task = progress.add_task("rows", total=None)
            report = reindex_logs(db, templates=state, on_progress=lambda n: progress.advance(task, n))
    except (StateError, OSError) as exc:
        fail(str(exc))
    finally:
        db.dispose()
    summary = {
        "scanned": report.scanned,
        "ids_filled": report.ids_filled,
        "levels_fixed": report.levels_fixed,
        "templates_assigned": report.templates_assigned,
        "templates_state": None if state is None else str(state),
        "rules_version": RULES_VERSION,
    }
    emit(summary, json_output=json_output, title="Log re-index")
