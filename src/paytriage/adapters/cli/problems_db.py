"""`paytriage problems list|show` and `problems detect` over the stored queue (no ``--input``).

``detect`` regroups every triaged case (``services.problems.detect_problems``), replays people's
corrections (``apply_feedback``) and, with ``--notify``, announces new and escalating problems.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from paytriage.adapters.cli.context import open_database
from paytriage.adapters.cli.output import EXIT_USAGE, JsonOption, emit, err_console, fail
from paytriage.adapters.cli.problems import problems_app
from paytriage.config.settings import get_settings
from paytriage.domain import PaytriageError, ProblemStatus

__all__ = ["detect_stored", "list_cmd", "show_cmd"]


@problems_app.command("list")
def list_cmd(
    status: Annotated[
        list[str] | None,
        typer.Option("--status", help="candidate, confirmed, mitigated, resolved or rejected; repeatable."),
    ] = None,
    q: Annotated[str | None, typer.Option("--q", help="Words in the title.")] = None,
    min_cases: Annotated[int, typer.Option("--min-cases", min=0, help="Only problems this large.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    json_output: JsonOption = False,
) -> None:
    """Stored problems, most recently active first."""
    from paytriage.services.problem_catalog import list_problems

    known = {s.value for s in ProblemStatus}
    bad = [s for s in status or [] if s not in known]
    if bad:
        fail(f"--status {bad[0]!r}: use one of {', '.join(sorted(known))}", code=EXIT_USAGE)
    statuses = [ProblemStatus(s) for s in status or []] or None
    db = open_database()
    with db.session() as session:
        page = list_problems(session, statuses=statuses, q=q, min_cases=min_cases, limit=limit, offset=offset)
    rows = [asdict(p) for p in page.data]
    if json_output:
        emit({"data": rows, "count": page.count}, json_output=True)
        return
    cols = [
        "id",
        "status",
        "title",
        "cases",
        "affected_customers",
        "affected_merchants",
        "last_seen",
        "defect_id",
    ]
    emit(rows, json_output=False, columns=cols, title=f"{page.count} problems")


@problems_app.command("show")
def show_cmd(
    problem_id: Annotated[int, typer.Argument(help="Problem id (see `problems list`).")],
    json_output: JsonOption = False,
) -> None:
    """One problem: facts, trend, top terms, shared entities, example tickets, root cause, defect."""
    from paytriage.services.problem_catalog import get_problem

    db = open_database()
    try:
        with db.session() as session:
            d = get_problem(session, problem_id)
    except PaytriageError as exc:
        fail(str(exc))
    doc: dict[str, Any] = {**asdict(d.problem), **{k: v for k, v in asdict(d).items() if k != "problem"}}
    doc.pop("extra", None)
    doc["escalation"] = f"/problems/{problem_id}/escalation"
    if json_output:
        emit(doc, json_output=True)
        return
    shown = {
        k: v
        for k, v in doc.items()
        if k not in ("shared_entities", "examples", "daily_cases", "case_ids", "detection")
    }
    shown["top_terms"] = ", ".join(d.top_terms)
    emit(shown, json_output=False, title=f"Problem #{problem_id}")
    if d.shared_entities:
        emit(d.shared_entities, json_output=False, title="Shared entities")
    emit(d.examples, json_output=False, columns=["case_id", "ticket", "created_at", "status", "title"],
         title="Example tickets")  # fmt: skip
    found = d.detection
    if found:
        emit(f"systemic since {found['detected_at']}: {', '.join(found['signals'])} — {found['evidence']}",
             json_output=False)  # fmt: skip
        log = found.get("log")
        if log:
            emit([{"alert": e} for e in log["evidence"]], json_output=False,
                 title=f"Log alerts ({log['service']}, from {log['detected_at']})")  # fmt: skip


def detect_stored(*, notify: bool, json_output: bool, intents: Any = None) -> None:
    """Regroup the stored queue, re-apply people's corrections, optionally notify; ``intents``: a
    fitted text clusterer whose groups become ticket keys."""
    from paytriage.services.defects import check_regressions
    from paytriage.services.log_alert_notices import notify_log_alerts
    from paytriage.services.notifications import load_notifications, notify_problems
    from paytriage.services.problem_feedback import apply_feedback
    from paytriage.services.problems import detect_problems, log_alert_rows

    settings = get_settings()
    try:
        plan = load_notifications(settings.notifications_config) if notify else None
    except PaytriageError as exc:
        fail(str(exc))
    db = open_database(settings)
    columns = (TextColumn("grouping cases"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("", total=None)
        run = detect_problems(
            db,
            on_progress=lambda n: bar.advance(task, n),
            intents=intents,
            min_customers=settings.problem_min_customers,
            alpha=settings.problem_alpha,
        )
    with db.session() as session:
        replay = apply_feedback(session)
        # a ticket that joined a problem whose defect was resolved reopens it (and its cases)
        regressions = check_regressions(session, actor="problems-detect")
    result: dict[str, Any] = {
        "cases": run.cases,
        "problems": run.problems,
        "systemic": [
            {
                "problem_id": d.row_id,
                "title": d.title,
                "detected_at": d.detected_at,
                "tickets": len(d.ticket_ids),
                "log_detected_at": d.log_detected_at,
            }
            for d in run.systemic
        ],
        "log_alerts": log_alert_rows(run),
        "feedback_applied": replay.applied,
        "feedback_unmatched": len(replay.unmatched),
        "regressions": [r.to_dict() for r in regressions],
    }
    if plan is not None:
        with db.session() as session:
            sent = notify_problems(session, plan=plan)
            logs = notify_log_alerts(session, plan=plan, alerts=result["log_alerts"])
        result["notifications"] = {
            "sent": sent.sent + logs.sent,
            "failed": sent.failed + logs.failed,
            "duplicates_skipped": sent.duplicates_skipped + logs.duplicates_skipped,
            "disabled_channels": sent.disabled,
        }
    if json_output:
        emit(result, json_output=True)
        return
    hidden = ("systemic", "notifications", "regressions", "log_alerts")
    shown = {k: v for k, v in result.items() if k not in hidden}
    shown["regressions"] = len(regressions)
    shown["log_alerts"] = len(result["log_alerts"])
    emit(shown, json_output=False)
    emit(result["systemic"], json_output=False, title="Systemic problems")
    if result["log_alerts"]:
        recent = result["log_alerts"][:20]
        emit(recent, json_output=False, title=f"Log alerts (newest {len(recent)}; --json for all)")
    if plan is not None:
        n = result["notifications"]
        emit(f"notifications: {len(n['sent'])} sent, {len(n['failed'])} failed, "
             f"{n['duplicates_skipped']} already sent", json_output=False)  # fmt: skip
        for item in n["failed"]:
            err_console.print(f"[red]{item['error']}[/red]")
        for reason in n["disabled_channels"]:
            err_console.print(f"channel disabled: {reason}")
