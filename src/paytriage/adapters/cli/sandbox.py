"""`paytriage sandbox generate`: write a deterministic simulated payments platform with ground truth."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from paytriage.adapters.cli.output import EXIT_USAGE, JsonOption, emit, err_console, fail
from paytriage.domain.errors import InputError
from paytriage.sandbox import SandboxConfig, generate

__all__ = ["register"]

sandbox_app = typer.Typer(
    help="Simulated payments platform: incidents, Tier-1 escalations, ground truth.", no_args_is_help=True
)


@sandbox_app.command("generate")
def generate_cmd(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the sandbox into.")],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives byte-identical files.")] = 42,
    tickets: Annotated[int, typer.Option(help="Number of escalated tickets.")] = 2000,
    days: Annotated[int, typer.Option(help="Length of the simulated period in days.")] = 30,
    incidents: Annotated[
        str | None,
        typer.Option(
            help="Incident mix: 'all' (default: each kind once per 30 days), 'none', or 'kind=count,...'."
        ),
    ] = None,
    incident_share: Annotated[
        float, typer.Option(help="Share of tickets caused by incidents (0–0.6).")
    ] = 0.2,
    tx_per_ticket: Annotated[float, typer.Option(help="Background transactions per ticket.")] = 8.0,
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty directory.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Generate a sandbox in the ingest formats (tickets, transactions, logs, statements, releases)."""
    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file, not a directory", code=EXIT_USAGE)
    if out.is_dir() and any(out.iterdir()) and not force and not (out / "manifest.json").exists():
        fail(f"--out {out} is not empty and holds no sandbox; pass --force to write into it")
    cfg = SandboxConfig(
        seed=seed,
        tickets=tickets,
        days=days,
        incidents=incidents,
        incident_share=incident_share,
        tx_per_ticket=tx_per_ticket,
    )
    started = time.perf_counter()
    try:
        if json_output:
            manifest = generate(cfg, out)
        else:
            with Progress(
                TextColumn("simulating"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} h"),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            ) as bar:
                task = bar.add_task("sim", total=days * 24)
                manifest = generate(cfg, out, progress=lambda done, _total: bar.update(task, completed=done))
    except InputError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    summary = {
        "out": str(out),
        "seed": seed,
        **manifest["counts"],
        "seconds": round(time.perf_counter() - started, 2),
        "version": manifest["version"],
    }
    emit(summary, json_output=json_output, title="sandbox generated")


def register(app: typer.Typer) -> None:
    """Attach ``paytriage sandbox …`` to the root app."""
    app.add_typer(sandbox_app, name="sandbox")
