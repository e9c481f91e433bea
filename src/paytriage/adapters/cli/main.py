"""The root ``paytriage`` command: init, ingest, cases, triage, serve, demo and the engines' commands."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from paytriage import __version__
from paytriage.adapters.cli import (
    cases,
    connectors,
    defects,
    demo,
    escalate,
    evaluation,
    ingest,
    investigate,
    logs,
    model,
    problems,
    sandbox,
    serve,
    triage,
)
from paytriage.adapters.cli.context import open_database
from paytriage.adapters.cli.output import EXIT_USAGE, JsonOption, emit, fail
from paytriage.config.settings import get_settings

__all__ = ["app"]

app = typer.Typer(
    name="paytriage",
    help="Tier-2 payments support: triage, investigate, recognise patterns, escalate.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"paytriage {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """paytriage: the Tier-2 payments support team's copilot. Database: PAYTRIAGE_DATABASE_URL or the
    default SQLite file in the user data directory."""
    try:
        get_settings()
    except ValidationError as exc:
        # a bad PAYTRIAGE_* variable is named in one line, not shown as a traceback
        first = exc.errors()[0]
        name = "PAYTRIAGE_" + "_".join(str(p) for p in first["loc"]).upper()
        fail(f"{name}: {first['msg']} (got {first.get('input')!r})", code=EXIT_USAGE)


@app.command("init")
def init(json_output: JsonOption = False) -> None:
    """Create or upgrade the database schema."""
    settings = get_settings()
    db = open_database(settings)
    db.dispose()
    emit(
        {"database": db.url.render_as_string(hide_password=True), "schema": "up to date"},
        json_output=json_output,
    )


for module in (
    ingest,
    cases,
    triage,
    investigate,
    sandbox,
    evaluation,
    logs,
    problems,
    model,
    connectors,
    escalate,
    defects,
    serve,
    demo,
):
    module.register(app)
