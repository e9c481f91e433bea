"""`paytriage defects …`: list, show, add, link, resolve, sync from Jira, regressions, customer notices."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.orm import Session

from paytriage.adapters.cli.connectors import ConfigOption, SecretsOption
from paytriage.adapters.cli.context import open_database
from paytriage.adapters.cli.output import JsonOption, emit, fail
from paytriage.adapters.connectors.http import ConnectorError
from paytriage.adapters.connectors.jira import JiraClient, JiraConfig, JiraCredentials
from paytriage.domain import PaytriageError
from paytriage.domain.defect import DefectStatus
from paytriage.services import defect_notices as notices
from paytriage.services import defects as svc

__all__ = ["defects_app", "register"]

defects_app = typer.Typer(
    help="Defects filed with Engineering: links to cases, resolution, regressions, customer notices.",
    no_args_is_help=True,
)
T = TypeVar("T")
_COLUMNS = ["id", "key", "status", "title", "component", "cases", "problems", "draft_notifications"]


class NoticeFilter(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    DISCARDED = "discarded"
    ALL = "all"


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


class Mark(enum.StrEnum):
    SENT = "sent"
    DISCARDED = "discarded"


@contextmanager
def _session() -> Iterator[Session]:
    """A committed session; service errors become one-line messages (exit 1)."""
    db = open_database()
    try:
        with db.session() as s:
            yield s
    except PaytriageError as exc:
        fail(str(exc))
    finally:
        db.dispose()


def _run(fn: Callable[[Session], T]) -> T:
    with _session() as s:
        return fn(s)


@defects_app.command("list")
def list_cmd(
    status: Annotated[DefectStatus | None, typer.Option(help="Only defects in this status.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Defects, newest first, with their cases, problems and draft notices."""
    rows = _run(lambda s: [d.to_dict() for d in svc.list_defects(s, status=status.value if status else None)])
    emit(rows, json_output=json_output, columns=_COLUMNS, title=f"{len(rows)} defects")


@defects_app.command("show")
def show(
    defect_id: Annotated[int, typer.Argument(help="Defect id.")], json_output: JsonOption = False
) -> None:
    """One defect: status, Jira key, linked cases and problems, notices."""

    def load(s: Session) -> dict[str, Any]:
        d = svc.defect_view(s, defect_id).to_dict()
        d["notices"] = [
            {k: n[k] for k in ("id", "status", "requester", "subject")}
            for n in notices.list_notifications(s, defect_id=defect_id, status=None)
        ]
        return d

    emit(_run(load), json_output=json_output, title=f"defect {defect_id}")


@defects_app.command("add")
def add(
    title: Annotated[str, typer.Option(help="What is broken, in Engineering's words.")],
    key: Annotated[str | None, typer.Option(help="Tracker key, e.g. PAY-12.")] = None,
    url: Annotated[str | None, typer.Option(help="Tracker URL.")] = None,
    component: Annotated[str | None, typer.Option(help="Component at fault.")] = None,
    json_output: JsonOption = False,
) -> None:
    """Record a defect by hand (e.g. one Engineering filed already)."""
    new_id = _run(lambda s: svc.create_defect(s, title=title, key=key, url=url, component=component))
    emit({"defect_id": new_id}, json_output=json_output)


@defects_app.command("link")
def link(
    defect_id: Annotated[int, typer.Argument(help="Defect id.")],
    case: Annotated[list[int] | None, typer.Option("--case", help="Case id (repeatable).")] = None,
    problem: Annotated[list[int] | None, typer.Option("--problem", help="Problem id (repeatable).")] = None,
    actor: Annotated[str, typer.Option(help="Who links them.")] = "cli",
    json_output: JsonOption = False,
) -> None:
    """Link cases and/or every case of problems to DEFECT_ID (links outlive problem regrouping)."""
    if not case and not problem:
        fail("give at least one --case or --problem", code=2)

    def do(s: Session) -> list[int]:
        added = svc.link_cases(s, defect_id, case or [], actor=actor)
        for p in problem or []:
            added += svc.link_problem(s, defect_id, p, actor=actor)
        return sorted(set(added))

    emit({"defect_id": defect_id, "linked_cases": _run(do)}, json_output=json_output)


@defects_app.command("resolve")
def resolve(
    defect_id: Annotated[int, typer.Argument(help="Defect id.")],
    resolution: Annotated[str | None, typer.Option(help="How it was fixed (kept in the audit).")] = None,
    actor: Annotated[str, typer.Option(help="Who resolves it.")] = "cli",
    json_output: JsonOption = False,
) -> None:
    """Mark DEFECT_ID resolved and draft one notice per affected customer (nothing is sent)."""
    drafted = _run(lambda s: svc.resolve_defect(s, defect_id, actor=actor, resolution=resolution))
    emit(
        {"defect_id": defect_id, "drafted_notices": len(drafted), "notice_ids": drafted},
        json_output=json_output,
    )


@defects_app.command("sync")
def sync(
    config: ConfigOption = None, secrets_file: SecretsOption = None, json_output: JsonOption = False
) -> None:
    """Read every filed defect's status from Jira (resolutions draft the customer notices), then look
    for regressions. Meant to run on a schedule."""
    try:
        cfg = JiraConfig.load(config)
        client = JiraClient(JiraCredentials.load(secrets_file), config=cfg)
    except PaytriageError as exc:
        fail(str(exc))
    try:
        with client:
            changed = _run(lambda s: svc.sync_jira(s, client))
    except ConnectorError as exc:
        fail(str(exc))
    back = _run(lambda s: [r.to_dict() for r in svc.check_regressions(s, actor="jira-sync")])
    emit({"changed_defects": changed, "regressions": back}, json_output=json_output)


@defects_app.command("regressions")
def regressions(json_output: JsonOption = False) -> None:
    """Resolved defects whose problem came back: flag them and reopen their resolved cases."""
    rows = _run(lambda s: [r.to_dict() for r in svc.check_regressions(s, actor="cli")])
    emit(rows, json_output=json_output, title=f"{len(rows)} regressions")


@defects_app.command("notices")
def notices_cmd(
    defect: Annotated[int | None, typer.Option("--defect", help="Only this defect's notices.")] = None,
    status: Annotated[NoticeFilter, typer.Option(help="Which notices.")] = NoticeFilter.DRAFT,
    export: Annotated[ExportFormat | None, typer.Option(help="Write them as CSV or JSONL.")] = None,
    out: Annotated[Path | None, typer.Option(help="File for --export (default: stdout).")] = None,
    json_output: JsonOption = False,
) -> None:
    """Customer notices drafted after fixes: list them, or export them for sending."""
    want = None if status == NoticeFilter.ALL else status.value
    rows = _run(lambda s: notices.list_notifications(s, defect_id=defect, status=want))
    if export is not None:
        text = notices.export_notifications(rows, export.value)
        if out is None:
            typer.echo(text, nl=False)
            return
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            fail(f"{out}: {exc.strerror}")
        emit({"written": len(rows), "file": str(out)}, json_output=json_output)
        return
    cols = ["id", "defect_id", "status", "requester", "organization", "subject"]
    emit(rows, json_output=json_output, columns=cols, title=f"{len(rows)} notices")


@defects_app.command("mark")
def mark(
    notice_id: Annotated[int, typer.Argument(help="Notice id.")],
    status: Annotated[Mark, typer.Argument(help="sent or discarded.")],
    json_output: JsonOption = False,
) -> None:
    """Record that a person sent (or discarded) a drafted notice."""
    _run(lambda s: notices.mark_notification(s, notice_id, status.value))
    emit({"notice_id": notice_id, "status": status.value}, json_output=json_output)


def register(app: typer.Typer) -> None:
    """Attach ``paytriage defects …`` to the root app."""
    app.add_typer(defects_app, name="defects")
