"""`paytriage investigate CASE_ID`: the evidence, ranked root-cause hypotheses and a timeline of one case."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from paytriage.adapters.cli.context import open_database
from paytriage.adapters.cli.output import JsonOption, console, emit, fail
from paytriage.config.settings import get_settings
from paytriage.domain import InputError, NotFoundError, ensure_utc
from paytriage.engines.investigate.investigator import Investigation, Investigator
from paytriage.engines.logmining.miner import StateError
from paytriage.services.investigation import assign_log_templates, investigate_case, load_miner

__all__ = ["default_templates_path", "investigate", "register"]


def default_templates_path() -> Path:
    """Where the log-template miner state lives, next to the default database."""
    return get_settings().data_dir / "log_templates.json"


def investigate(
    case_id: Annotated[int, typer.Argument(help="Case id.")],
    as_of: Annotated[
        str | None, typer.Option(help="Investigate as of this ISO time (default: the newest ticket's).")
    ] = None,
    index_logs: Annotated[
        bool, typer.Option("--index-logs", help="First give stored log events their template ids.")
    ] = False,
    templates: Annotated[
        Path | None, typer.Option(help="Template miner state (default: log_templates.json in the data dir).")
    ] = None,
    replay_base_url: Annotated[
        str | None,
        typer.Option(
            envvar="PAYTRIAGE_REPLAY_BASE_URL",
            help="Replay the case's API request against this sandbox base URL and diff the answer.",
        ),
    ] = None,
    replay_auth: Annotated[
        str | None,
        typer.Option(
            envvar="PAYTRIAGE_REPLAY_AUTH",
            help="Authorization header for the sandbox (the pasted credential is never sent).",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Investigate a case: its transactions, logs and templates, ranked root-cause hypotheses with
    evidence and scope, and one timeline."""
    when = None
    if as_of:
        try:
            when = ensure_utc(datetime.fromisoformat(as_of.replace("Z", "+00:00")))
        except ValueError:
            fail(f"--as-of: not an ISO date-time: {as_of!r}")
    state = templates or default_templates_path()
    db = open_database()
    try:
        if index_logs:
            with Progress(console=console, transient=True, disable=json_output) as bar:
                task = bar.add_task("indexing log templates", total=None)
                assign_log_templates(db, state_path=state, on_progress=lambda n: bar.advance(task, n))
        investigator = Investigator(miner=load_miner(state))
        with db.session() as s:
            inv = investigate_case(
                s,
                case_id,
                investigator=investigator,
                as_of=when,
                replay_base_url=replay_base_url,
                replay_auth=replay_auth,
            )
    except (NotFoundError, InputError, StateError) as exc:
        fail(str(exc))
    finally:
        db.dispose()
    if json_output:
        emit(inv.to_dict(), json_output=True)
    else:
        _print(inv)


def _print(inv: Investigation) -> None:
    d = inv.to_dict()
    console.print(
        f"[bold]Case {d['case_id']}[/bold] focus {d['focus'][:19]} · as of {d['as_of'][:19]} · "
        f"{len(d['transactions'])} transactions · {d['log_events']} log events · {d['elapsed_ms']} ms"
    )
    verdict = d["systemic_cause"] or "no systemic cause: the case stands on its own"
    console.print(f"[bold]Verdict:[/bold] {escape(verdict)}")
    for k, h in enumerate(d["hypotheses"][:5], start=1):
        scope = h["scope"]
        money = ", ".join(f"{c} {v}" for c, v in scope["money_minor_by_currency"].items())
        console.print(
            f"\n[bold]{k}. {escape(h['title'])}[/bold]  "
            f"({h['kind']}, {'systemic' if h['systemic'] else 'individual'}, "
            f"confidence {h['confidence']:.2f}" + (f", → {h['route']}" if h["route"] else "") + ")"
        )
        console.print(f"   {escape(h['summary'])}")
        if scope["transactions"] or scope["merchants"] or scope["customers"]:
            console.print(
                f"   scope: {scope['customers']} customers, {scope['merchants']} merchants, "
                f"{scope['transactions']} transactions" + (f", {money} (minor units)" if money else "")
            )
        for e in h["evidence"][:6]:
            console.print(f"   · {escape('[' + e['kind'] + ']')} {escape(e['text'])}")
    if d["templates"]:
        table = Table(title="Log templates around the case")
        for col in ("now", "baseline", "ratio", "service", "template"):
            table.add_column(col)
        for r in d["templates"]:
            table.add_row(
                str(r["current"]),
                str(r["baseline"]),
                str(r["ratio"]),
                r["service"] or "",
                escape(r["template"][:90]),
            )
        console.print(table)
    timeline = Table(title="Timeline")
    for col in ("at", "kind", "what"):
        timeline.add_column(col)
    for e in d["timeline"][-40:]:
        timeline.add_row(e["at"][:19], e["kind"], escape(e["text"][:120]))
    console.print(timeline)
    if d["replay"]:
        _print_replay(d["replay"])
    for note in d["notes"]:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")


def _print_replay(r: dict[str, Any]) -> None:
    req = r["request"]
    console.print(
        f"\n[bold]Replay[/bold] {escape(req['method'] + ' ' + r['url'])} "
        f"→ {escape(str(r['status'] or r['error']))}"
    )
    if r["reproduced"]:
        console.print("   the sandbox answers as the ticket says production did")
    for d in r["diff"]:
        console.print(escape(f"   {d['path']}: expected {d['expected']!r}, sandbox {d['actual']!r}"))


def register(app: typer.Typer) -> None:
    app.command("investigate")(investigate)
