"""`paytriage cases list|show|update`: the Tier-2 queue from the terminal."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from paytriage.adapters.cli.context import open_database
from paytriage.adapters.cli.output import JsonOption, emit, fail
from paytriage.adapters.storage.cases import CaseFilters, CaseRepository
from paytriage.domain import Case, CaseStatus, InvalidTransitionError, NotFoundError, utcnow

__all__ = ["app", "case_summary", "register"]

app = typer.Typer(help="List, show and update Tier-2 cases.", no_args_is_help=True)


def case_summary(case: Case) -> dict[str, Any]:
    now = utcnow()
    res = case.resolution_sla
    return {
        "id": case.id,
        "priority": case.priority.value if case.priority else None,
        "status": case.status.value,
        "category": case.category,
        "route": case.route.value if case.route else None,
        "assignee": case.assignee,
        "title": case.title[:80],
        "created_at": case.created_at.isoformat(timespec="minutes"),
        "sla_remaining_h": round(res.remaining(now).total_seconds() / 3600, 1),
        "sla_breached": res.breached(now),
        "tickets": len(case.ticket_ids),
    }


@app.command("list")
def list_cases(
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Filter by status (repeatable).")
    ] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only cases not resolved or closed.")] = False,
    priority: Annotated[str | None, typer.Option(help="P1..P4")] = None,
    category: Annotated[str | None, typer.Option()] = None,
    route: Annotated[str | None, typer.Option()] = None,
    assignee: Annotated[str | None, typer.Option()] = None,
    query: Annotated[str | None, typer.Option("--query", "-q", help="Text in title or tickets.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    json_output: JsonOption = False,
) -> None:
    """The queue, most urgent first."""
    if status:
        bad = [s for s in status if s not in {c.value for c in CaseStatus}]
        if bad:
            fail(f"unknown status {bad[0]!r}; one of {', '.join(c.value for c in CaseStatus)}")
    db = open_database()
    with db.session() as s:
        cases, total = CaseRepository(s).search(
            CaseFilters(
                status=status,
                open_only=open_only,
                priority=priority,
                category=category,
                route=route,
                assignee=assignee,
                query=query,
            ),
            limit=limit,
            offset=offset,
        )
    rows = [case_summary(c) for c in cases]
    if json_output:
        emit({"count": total, "data": rows}, json_output=True)
    else:
        emit(rows, json_output=False, title=f"Cases {offset + 1}-{offset + len(rows)} of {total}")


@app.command("show")
def show(case_id: Annotated[int, typer.Argument(help="Case id.")], json_output: JsonOption = False) -> None:
    """One case with its tickets, triage and history."""
    db = open_database()
    try:
        with db.session() as s:
            repo = CaseRepository(s)
            case = repo.get(case_id)
            tickets = repo.tickets(case)
            triage = repo.triage_of(case_id)
    except NotFoundError as exc:
        fail(str(exc))
    data = {
        **case_summary(case),
        "triage": triage,
        "tickets": [
            {
                "id": t.id,
                "external_id": t.external_id,
                "source": t.source,
                "subject": t.subject,
                "description": t.description,
                "requester": t.requester_email or t.requester_id,
                "comments": [{"author": c.author, "public": c.public, "body": c.body} for c in t.comments],
            }
            for t in tickets
        ],
        "history": [
            {"at": h.at.isoformat(), "from": h.old.value, "to": h.new.value, "by": h.actor}
            for h in case.history
        ],
    }
    emit(data, json_output=json_output, title=f"Case {case_id}")


@app.command("update")
def update(
    case_id: Annotated[int, typer.Argument()],
    status: Annotated[str | None, typer.Option(help="New status.")] = None,
    assignee: Annotated[str | None, typer.Option(help="New assignee.")] = None,
    category: Annotated[str | None, typer.Option(help="Set the category (a person's label).")] = None,
    actor: Annotated[str, typer.Option(help="Who makes the change (audit).")] = "cli",
    json_output: JsonOption = False,
) -> None:
    """Change status, assignee and/or category (workflow rules apply; a category set here is a label)."""
    if category is not None:
        from paytriage.engines.triage.config import DEFAULT_CONFIG_DIR, load_taxonomy

        names = load_taxonomy(DEFAULT_CONFIG_DIR / "taxonomy.yaml").names()
        if category not in names:
            fail(f"unknown category {category!r}; one of {', '.join(names)}")
    try:
        new_status = CaseStatus(status) if status else None
    except ValueError:
        fail(f"unknown status {status!r}; one of {', '.join(c.value for c in CaseStatus)}")
    db = open_database()
    try:
        with db.session() as s:
            case = CaseRepository(s).update(
                case_id, actor=actor, status=new_status, assignee=assignee, category=category
            )
    except (NotFoundError, InvalidTransitionError) as exc:
        fail(str(exc))
    emit(case_summary(case), json_output=json_output)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="cases")
